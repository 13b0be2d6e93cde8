"""Signed audit reports: who vouches for a report, checked by key, never by what the report says of itself.

A signed report is the report's JSON with a ``signature`` member.  The signature is Ed25519 over the bytes
``regard.fairness.audit.signature/1\\n`` followed by the canonical JSON (keys sorted, no spaces, UTF-8) of the
report without its ``signature`` member.  So re-indenting the file keeps it valid, and changing any number,
label, caveat or provenance field breaks it.  The prefix keeps a report signature from ever being mistaken for
a ledger checkpoint signature made with the same key.

Trust comes from the verifier's list of keys: this Regard instance's own key (the ledger's signer) and the
public keys of outside auditors an admin registered.  A report signed with any other key, or not signed, is
*unverified*; one whose signature does not match its content is *invalid*.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Literal, Protocol

from regard.errors import InvalidInputError
from regard.fairness.report import AuditReport, ReportSignature

DOMAIN = b"regard.fairness.audit.signature/1\n"
ALGORITHM = "ed25519"


class Signer(Protocol):
    """An Ed25519 private key: the ledger's ``CheckpointSigner`` or an auditor's :class:`KeySigner`."""

    public_key_hex: str
    key_id: str

    def sign_message(self, message: bytes) -> str:
        """The hex Ed25519 signature of ``message``."""
        ...


def key_id(public_key_hex: str) -> str:
    """The short id of a public key: the first 16 hex digits of the sha256 of its raw bytes (as the ledger's)."""
    return hashlib.sha256(bytes.fromhex(public_key_hex)).hexdigest()[:16]


def canonical(value: Any) -> bytes:
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False, allow_nan=False).encode()


def signing_message(document: Mapping[str, Any]) -> bytes:
    """What is signed: the domain prefix and the canonical JSON of the document without ``signature``."""
    return DOMAIN + canonical({k: v for k, v in document.items() if k != "signature"})


def sign_report(report: AuditReport, signer: Signer, signed_by: str) -> AuditReport:
    """A copy of ``report`` carrying ``signer``'s signature over everything else in it."""
    unsigned = replace(report, signature=None)
    message = signing_message(json.loads(unsigned.to_json()))
    signature = ReportSignature(
        algorithm=ALGORITHM,
        key_id=signer.key_id,
        public_key=signer.public_key_hex,
        value=signer.sign_message(message),
        signed_by=signed_by,
        signed_at=datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
    )
    return replace(unsigned, signature=signature)


Status = Literal["verified", "unverified", "invalid"]


@dataclass(frozen=True)
class ReportVerification:
    """Whether a report's signature holds and whose it is.  ``signer`` names the trusted key that signed it."""

    status: Status
    reason: str
    signer: str | None = None
    key_id: str | None = None

    @property
    def verified(self) -> bool:
        return self.status == "verified"


def verify_report(data: bytes, trusted: Mapping[str, str]) -> tuple[AuditReport, ReportVerification]:
    """Parse a report's bytes and check its signature against ``trusted`` (public key hex -> signer name)."""
    report = AuditReport.from_json(_text(data))
    document = json.loads(_text(data))
    sig = document.get("signature")
    if not isinstance(sig, dict):
        return report, ReportVerification("unverified", "the report is not signed")
    public_key, value = str(sig.get("public_key", "")), str(sig.get("value", ""))
    if sig.get("algorithm") != ALGORITHM or not _valid(public_key, signing_message(document), value):
        return report, ReportVerification("invalid", "the signature does not match the report: it was altered")
    kid = key_id(public_key)
    signer = trusted.get(public_key)
    if signer is None:
        return report, ReportVerification(
            "unverified",
            f"signed with key {kid}, which is neither this instance's nor a registered auditor's",
            None,
            kid,
        )
    return report, ReportVerification("verified", f"signed by {signer}", signer, kid)


def _text(data: bytes) -> str:
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        raise InvalidInputError("a report is UTF-8 JSON") from None


def _valid(public_key_hex: str, message: bytes, signature_hex: str) -> bool:
    from regard.governance.signing import verify_signature  # one Ed25519 check for checkpoints and reports

    return verify_signature(public_key_hex, message, signature_hex)


def check_public_key(public_key_hex: str) -> str:
    """A raw Ed25519 public key in hex (64 digits), lower-cased; InvalidInputError otherwise."""
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

    text = public_key_hex.strip().lower()
    try:
        Ed25519PublicKey.from_public_bytes(bytes.fromhex(text))
    except ValueError:
        raise InvalidInputError("a public key is 64 hex digits (a raw Ed25519 public key)") from None
    return text


class KeySigner:
    """An outside auditor's Ed25519 private key: from a PEM file (``openssl genpkey -algorithm ed25519``), or new."""

    def __init__(self, key: Any) -> None:
        from cryptography.hazmat.primitives import serialization

        self._key = key
        raw = key.public_key().public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
        self.public_key_hex = raw.hex()
        self.key_id = key_id(self.public_key_hex)

    @classmethod
    def generate(cls) -> KeySigner:
        """A new key, held in memory only (a test, a demo, or before writing it out)."""
        from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

        return cls(Ed25519PrivateKey.generate())

    @classmethod
    def from_pem(cls, path: Path) -> KeySigner:
        from cryptography.hazmat.primitives import serialization
        from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

        try:
            key = serialization.load_pem_private_key(path.read_bytes(), password=None)
        except OSError as exc:
            raise InvalidInputError(f"{path}: {exc.strerror}") from None
        except (ValueError, TypeError) as exc:
            raise InvalidInputError(f"{path}: not an unencrypted PEM private key ({exc})") from None
        if not isinstance(key, Ed25519PrivateKey):
            raise InvalidInputError(f"{path}: not an Ed25519 key")
        return cls(key)

    def sign_message(self, message: bytes) -> str:
        return str(self._key.sign(message).hex())
