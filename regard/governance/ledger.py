"""The audit ledger: append-only, hash-chained per tenant, with Ed25519-signed checkpoints.

Each entry stores its fields as canonical JSON and
``entry_hash = sha256(prev_hash || body)``, so changing, deleting, inserting
or reordering any entry breaks the chain.  Deleting the *last* entries leaves
a valid shorter chain; signed checkpoints (key kept outside the database,
checkpoints also appended to a witness file outside it) make that visible.
"""

from __future__ import annotations

import hashlib
import json
import os
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from sqlalchemy import Connection, bindparam, insert, select
from sqlalchemy.orm import Session

from regard.store.governance_tables import LedgerCheckpointRow, LedgerEntryRow
from regard.store.locks import serialise

GENESIS = "0" * 64


def canonical(value: Any) -> str:
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False, default=str)


def chain_hash(prev_hash: str, tenant: str, seq: int, at: str, body: str) -> str:
    return hashlib.sha256(f"{prev_hash}\n{tenant}\n{seq}\n{at}\n{body}".encode()).hexdigest()


@dataclass(frozen=True)
class LedgerFields:
    """What one call leaves in the ledger.  The input is recorded by its hash, never its pixels."""

    actor: str
    purpose: str
    operation: str
    decision: str  # allow | deny | review
    rule_id: str
    policy_version: str
    collection: str | None = None
    input_sha256: list[str] = field(default_factory=list)
    model_id: str | None = None
    model_version: str | None = None
    threshold: float | None = None
    result: dict[str, Any] = field(default_factory=dict)
    review: dict[str, Any] | None = None


@dataclass(frozen=True)
class LedgerEntry:
    tenant: str
    seq: int
    at: str
    fields: dict[str, Any]
    prev_hash: str
    entry_hash: str

    def as_json(self) -> dict[str, Any]:
        return {
            "tenant": self.tenant,
            "seq": self.seq,
            "at": self.at,
            **self.fields,
            "prev_hash": self.prev_hash,
            "entry_hash": self.entry_hash,
        }


# Built once: this runs on every call, and building SQLAlchemy expressions costs more than running them.
_LAST_ENTRY = (
    select(LedgerEntryRow.seq, LedgerEntryRow.entry_hash)
    .where(LedgerEntryRow.tenant == bindparam("tenant"))
    .order_by(LedgerEntryRow.seq.desc())
    .limit(1)
)
_INSERT_ENTRY = insert(LedgerEntryRow)


def append(
    session: Session | Connection, tenant: str, fields: LedgerFields, now: datetime | None = None
) -> LedgerEntry:
    """Add an entry at the end of the tenant's chain, inside the caller's transaction.

    Concurrent writers of one tenant queue on a lock held to the end of the
    transaction, so each reads the tail the one before it committed.
    """
    serialise(session, f"ledger:{tenant}")
    last = session.execute(_LAST_ENTRY, {"tenant": tenant}).first()
    seq, prev = (last[0] + 1, last[1]) if last else (1, GENESIS)
    at = (now or datetime.now(UTC)).astimezone(UTC).isoformat(timespec="microseconds")
    body = canonical(fields.__dict__)
    entry_hash = chain_hash(prev, tenant, seq, at, body)
    # The (tenant, seq) unique constraint turns a concurrent fork of the chain into an error.
    row = {"tenant": tenant, "seq": seq, "at": at, "body": body, "prev_hash": prev, "entry_hash": entry_hash}
    session.execute(_INSERT_ENTRY, row)
    return LedgerEntry(tenant, seq, at, json.loads(body), prev, entry_hash)


def entries(session: Session, tenant: str, after_seq: int = 0, limit: int | None = None) -> Iterator[LedgerEntry]:
    query = (
        select(LedgerEntryRow)
        .where(LedgerEntryRow.tenant == tenant, LedgerEntryRow.seq > after_seq)
        .order_by(LedgerEntryRow.seq)
    )
    if limit is not None:
        query = query.limit(limit)
    for row in session.scalars(query):
        yield LedgerEntry(row.tenant, row.seq, row.at, json.loads(row.body), row.prev_hash, row.entry_hash)


# -- signing -------------------------------------------------------------------------------------
class CheckpointSigner:
    """An Ed25519 key in a file outside the database (created 0600 on first use)."""

    def __init__(self, key_file: Path) -> None:
        from cryptography.hazmat.primitives import serialization
        from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

        if key_file.exists():
            key = serialization.load_pem_private_key(key_file.read_bytes(), password=None)
            assert isinstance(key, Ed25519PrivateKey)
        else:
            key_file.parent.mkdir(parents=True, exist_ok=True)
            key = Ed25519PrivateKey.generate()
            pem = key.private_bytes(
                serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
            )
            fd = os.open(key_file, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
            with os.fdopen(fd, "wb") as handle:
                handle.write(pem)
        self._key = key
        raw = key.public_key().public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
        self.public_key_hex = raw.hex()
        self.key_id = hashlib.sha256(raw).hexdigest()[:16]

    def sign(self, message: bytes) -> str:
        return self._key.sign(message).hex()


def checkpoint_message(tenant: str, seq: int, entry_hash: str, at: str) -> bytes:
    return canonical({"tenant": tenant, "seq": seq, "entry_hash": entry_hash, "at": at}).encode()


def verify_signature(public_key_hex: str, message: bytes, signature_hex: str) -> bool:
    from cryptography.exceptions import InvalidSignature
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

    try:
        Ed25519PublicKey.from_public_bytes(bytes.fromhex(public_key_hex)).verify(bytes.fromhex(signature_hex), message)
    except (InvalidSignature, ValueError):
        return False
    return True


def checkpoint(
    session: Session | Connection, tenant: str, signer: CheckpointSigner, witness: Path | None
) -> dict[str, Any] | None:
    """Sign the tenant's last entry; store it and append it to the witness file."""
    last = session.execute(
        select(LedgerEntryRow.seq, LedgerEntryRow.entry_hash)
        .where(LedgerEntryRow.tenant == tenant)
        .order_by(LedgerEntryRow.seq.desc())
        .limit(1)
    ).first()
    if last is None:
        return None
    at = datetime.now(UTC).isoformat(timespec="microseconds")
    signature = signer.sign(checkpoint_message(tenant, last[0], last[1], at))
    session.execute(
        insert(LedgerCheckpointRow).values(
            tenant=tenant, seq=last[0], entry_hash=last[1], at=at, key_id=signer.key_id, signature=signature
        )
    )
    record = {
        "tenant": tenant,
        "seq": last[0],
        "entry_hash": last[1],
        "at": at,
        "key_id": signer.key_id,
        "public_key": signer.public_key_hex,
        "signature": signature,
    }
    if witness is not None:
        witness.parent.mkdir(parents=True, exist_ok=True)
        with witness.open("a") as handle:
            handle.write(canonical(record) + "\n")
    return record


# -- verification --------------------------------------------------------------------------------
@dataclass
class Verification:
    tenant: str
    entries: int = 0
    checkpoints: int = 0
    problems: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.problems


def verify(session: Session, tenant: str, public_key_hex: str, witness: Path | None = None) -> Verification:
    """Recompute the chain and check every checkpoint, from the database and the witness file."""
    result = Verification(tenant)
    prev, expected_seq = GENESIS, 1
    hashes: dict[int, str] = {}
    for row in session.scalars(
        select(LedgerEntryRow).where(LedgerEntryRow.tenant == tenant).order_by(LedgerEntryRow.seq)
    ):
        result.entries += 1
        if row.seq != expected_seq:
            result.problems.append(
                f"entry {row.seq}: expected sequence number {expected_seq} (entries deleted or inserted)"
            )
        if row.prev_hash != prev:
            result.problems.append(
                f"entry {row.seq}: does not link to the entry before it (deleted, inserted or reordered)"
            )
        if chain_hash(row.prev_hash, row.tenant, row.seq, row.at, row.body) != row.entry_hash:
            result.problems.append(f"entry {row.seq}: content does not match its hash (modified)")
        hashes[row.seq] = row.entry_hash
        prev, expected_seq = row.entry_hash, row.seq + 1
    last_seq = expected_seq - 1
    stored = [
        {"tenant": r.tenant, "seq": r.seq, "entry_hash": r.entry_hash, "at": r.at, "signature": r.signature}
        for r in session.scalars(select(LedgerCheckpointRow).where(LedgerCheckpointRow.tenant == tenant))
    ]
    witnessed = _witnessed(witness, tenant)
    known = {c["signature"] for c in stored}
    for cp in witnessed:
        if cp["signature"] not in known:
            result.problems.append(
                f"checkpoint at entry {cp['seq']} is in the witness file but missing from the database"
            )
    for cp in stored + [c for c in witnessed if c["signature"] not in known]:
        result.checkpoints += 1
        message = checkpoint_message(tenant, cp["seq"], cp["entry_hash"], cp["at"])
        if not verify_signature(public_key_hex, message, cp["signature"]):
            result.problems.append(f"checkpoint at entry {cp['seq']}: bad signature")
        elif cp["seq"] > last_seq:
            result.problems.append(
                f"checkpoint signed entry {cp['seq']} but the ledger ends at {last_seq} (tail truncated)"
            )
        elif hashes.get(cp["seq"]) != cp["entry_hash"]:
            result.problems.append(f"checkpoint at entry {cp['seq']}: the entry no longer has the signed hash")
    return result


def _witnessed(witness: Path | None, tenant: str) -> list[dict[str, Any]]:
    if witness is None or not witness.exists():
        return []
    out = []
    for line in witness.read_text().splitlines():
        if line.strip():
            record = json.loads(line)
            if record.get("tenant") == tenant:
                out.append(record)
    return out
