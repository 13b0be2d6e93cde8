"""Signed checkpoints of the ledger: the Ed25519 key that signs them, and the public key a verifier trusts.

A checkpoint signs ``(tenant, seq, entry_hash, at)`` of one entry: whoever
holds the public key can later prove that the chain up to that entry still
has that hash.  The private key lives in a file outside the data directory;
a verifier never creates one and never takes the key from the database.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import warnings
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from regard.errors import InvalidInputError, StoreError

_HEX64 = re.compile(r"^[0-9a-f]{64}$")
_HEX128 = re.compile(r"^[0-9a-f]{128}$")


class LedgerKeyWarning(UserWarning):
    """The signing key is where it protects less than it should (beside the data), or was just replaced."""


def canonical(value: Any) -> str:
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False, default=str)


def checkpoint_message(tenant: str, seq: int, entry_hash: str, at: str) -> bytes:
    return canonical({"tenant": tenant, "seq": seq, "entry_hash": entry_hash, "at": at}).encode()


def key_id_of(public_key_hex: str) -> str:
    return hashlib.sha256(bytes.fromhex(public_key_hex)).hexdigest()[:16]


def verify_signature(public_key_hex: str, message: bytes, signature_hex: str) -> bool:
    from cryptography.exceptions import InvalidSignature
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

    try:
        Ed25519PublicKey.from_public_bytes(bytes.fromhex(public_key_hex)).verify(bytes.fromhex(signature_hex), message)
    except (InvalidSignature, ValueError):
        return False
    return True


@dataclass(frozen=True)
class SignedCheckpoint:
    """One signed checkpoint, as stored, witnessed and embedded in accountability reports."""

    tenant: str
    seq: int
    entry_hash: str
    at: str
    key_id: str
    public_key: str  # hex, 32 bytes
    signature: str  # hex, 64 bytes

    def message(self) -> bytes:
        return checkpoint_message(self.tenant, self.seq, self.entry_hash, self.at)

    def signed_by(self, public_key_hex: str) -> bool:
        """True when ``public_key_hex`` made this signature."""
        return verify_signature(public_key_hex, self.message(), self.signature)

    def as_json(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_json(cls, value: Any) -> SignedCheckpoint:
        """A checkpoint from its JSON form; ``ValueError`` when a field is missing or malformed."""
        if not isinstance(value, dict):
            raise ValueError("a checkpoint is a JSON object")
        try:
            cp = cls(**{name: value[name] for name in cls.__dataclass_fields__})
        except KeyError as exc:
            raise ValueError(f"checkpoint without '{exc.args[0]}'") from None
        texts = (cp.tenant, cp.entry_hash, cp.at, cp.key_id, cp.public_key, cp.signature)
        if not all(isinstance(v, str) for v in texts) or not isinstance(cp.seq, int) or isinstance(cp.seq, bool):
            raise ValueError("checkpoint fields of the wrong type")
        if not (_HEX64.match(cp.entry_hash) and _HEX64.match(cp.public_key) and _HEX128.match(cp.signature)):
            raise ValueError("checkpoint hashes, key or signature are not hex of the right length")
        return cp


class CheckpointSigner:
    """The Ed25519 private key in ``key_file``, created (0600, folder 0700) when absent."""

    def __init__(self, key_file: Path) -> None:
        from cryptography.hazmat.primitives import serialization
        from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

        self.key_file = key_file
        self.created = not key_file.exists()
        try:
            if self.created:
                key = Ed25519PrivateKey.generate()
                _write_private(key_file, key)
            else:
                loaded = serialization.load_pem_private_key(key_file.read_bytes(), password=None)
                if not isinstance(loaded, Ed25519PrivateKey):
                    raise ValueError("not an Ed25519 private key")
                key = loaded
        except (OSError, ValueError) as exc:
            raise StoreError(f"ledger signing key {key_file}: {getattr(exc, 'strerror', None) or exc}") from None
        self._key = key
        raw = key.public_key().public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
        self.public_key_hex = raw.hex()
        self.key_id = key_id_of(self.public_key_hex)

    def sign(self, tenant: str, seq: int, entry_hash: str) -> SignedCheckpoint:
        """Sign entry ``seq`` of ``tenant`` now."""
        at = datetime.now(UTC).isoformat(timespec="microseconds")
        signature = self.sign_message(checkpoint_message(tenant, seq, entry_hash, at))
        return SignedCheckpoint(tenant, seq, entry_hash, at, self.key_id, self.public_key_hex, signature)

    def sign_message(self, message: bytes) -> str:
        """The instance's hex Ed25519 signature of ``message`` (checkpoints, and the audit reports it produces)."""
        return str(self._key.sign(message).hex())


def _write_private(key_file: Path, key: Any) -> None:
    from cryptography.hazmat.primitives import serialization

    key_file.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    pem = key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())
    fd = os.open(key_file, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "wb") as handle:
        handle.write(pem)


def warn_beside_data(key_file: Path) -> None:
    """Loudly warn that the signing key sits where a copy of the data carries it along."""
    warnings.warn(
        LedgerKeyWarning(
            f"the ledger signing key {key_file} is inside the data directory, beside the database it protects: "
            "whoever has a copy of that folder can re-sign a rewritten ledger. Move the key elsewhere "
            "(the default is ~/.config/regard/; better, a folder the database's owner cannot read) and set "
            "ledger_key_file (REGARD_LEDGER_KEY_FILE)"
        ),
        stacklevel=4,
    )


# -- the key a verifier trusts --------------------------------------------------------------------
@dataclass(frozen=True)
class TrustedKey:
    """The public key verification checks signatures against, and where it came from."""

    public_key: str  # hex
    source: str
    pinned: bool = True  # False: read from the signing key file, so a replaced key would be trusted too

    @property
    def key_id(self) -> str:
        return key_id_of(self.public_key)


def parse_public_key(value: str, *, files: bool = True) -> str:
    """A pinned public key: 64 hex characters, or (with ``files``) a file holding them or a PEM public key."""
    text = value.strip().lower() if isinstance(value, str) else ""
    if _HEX64.match(text):
        return text
    if not files:
        raise InvalidInputError("a public key is 64 hex characters")
    path = Path(value).expanduser()
    try:
        content = path.read_text().strip()
    except (OSError, UnicodeDecodeError):
        raise InvalidInputError(f"public key '{value}' is neither 64 hex characters nor a readable file") from None
    if _HEX64.match(content.lower()):
        return content.lower()
    if "PUBLIC KEY" in content:
        return _pem_public_hex(content.encode(), value)
    raise InvalidInputError(f"{path} holds neither 64 hex characters nor a PEM public key")


def _pem_public_hex(pem: bytes, name: str) -> str:
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

    try:
        key = serialization.load_pem_public_key(pem)
    except ValueError:
        raise InvalidInputError(f"{name}: not a PEM public key") from None
    if not isinstance(key, Ed25519PublicKey):
        raise InvalidInputError(f"{name}: not an Ed25519 public key")
    return key.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw).hex()


def public_key_of(key_file: Path) -> str | None:
    """The public half of the private key in ``key_file``; None when there is none.  Never creates a key."""
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

    try:
        key = serialization.load_pem_private_key(key_file.read_bytes(), password=None)
    except (OSError, ValueError):
        return None
    if not isinstance(key, Ed25519PrivateKey):
        return None
    return key.public_key().public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw).hex()
