"""The audit ledger: append-only, hash-chained per tenant, with Ed25519-signed checkpoints.

Each entry stores its fields as canonical JSON and
``entry_hash = sha256(prev_hash || body)``, so changing, deleting, inserting
or reordering any entry breaks the chain.  Rewriting the chain from some entry
on, truncating it or appending to it leaves a valid chain: signed checkpoints
(``signing.py``, key outside the data directory), witnesses out of the
database owner's reach (``witness.py``) and checkpoints embedded in published
reports make that visible (``verification.py``; what each protects against is
in docs/governance.md).
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Connection, bindparam, func, insert, select
from sqlalchemy.orm import Session

from regard.governance.signing import SignedCheckpoint, canonical
from regard.store.governance_tables import LedgerCheckpointRow, LedgerEntryRow
from regard.store.locking import serialise

GENESIS = "0" * 64

# Operations after which the chain is signed at once, whatever the interval: consequential decisions
# (review actions; held searches are decided "review"), what removes data, and changes of the rules.
CHECKPOINTED_OPERATIONS = frozenset(
    {
        "review",
        "release",
        "erase",
        "purge",
        "delete-subject",
        "delete-faces",
        "delete-collection",
        "apply-policy",
        "activate-model",
        "decide-application",
        "create-key",
        "revoke-key",
    }
)


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
    key_id: str | None = None  # the API key that authenticated the actor; None for the local operator
    origin: str = ""  # where the call came from (cli:<os user>, api, library); informative only


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


def checkpoint_due(seq: int, fields: LedgerFields, every: int) -> bool:
    """Whether the entry just appended is signed at once: every ``every`` entries, and after consequential ones."""
    return seq % every == 0 or fields.decision == "review" or fields.operation in CHECKPOINTED_OPERATIONS


def length(session: Session, tenant: str) -> int:
    """How many entries the tenant's chain holds."""
    return int(session.scalar(select(func.count()).where(LedgerEntryRow.tenant == tenant)) or 0)


def last_entry(session: Session | Connection, tenant: str) -> tuple[int, str] | None:
    """``(seq, entry_hash)`` of the tenant's last entry."""
    row = session.execute(_LAST_ENTRY, {"tenant": tenant}).first()
    return (row[0], row[1]) if row else None


def store_checkpoint(session: Session | Connection, cp: SignedCheckpoint) -> None:
    row = {
        "tenant": cp.tenant,
        "seq": cp.seq,
        "entry_hash": cp.entry_hash,
        "at": cp.at,
        "key_id": cp.key_id,
        "signature": cp.signature,
    }
    session.execute(insert(LedgerCheckpointRow), row)


def latest_checkpoint_seq(session: Session | Connection, tenant: str) -> int:
    """The highest entry a stored checkpoint signs; 0 when none does."""
    query = select(LedgerCheckpointRow.seq).where(LedgerCheckpointRow.tenant == tenant)
    return int(session.scalar(query.order_by(LedgerCheckpointRow.seq.desc()).limit(1)) or 0)


def checkpoint_row(session: Session | Connection, tenant: str, seq: int) -> Any:
    """The latest stored checkpoint of entry ``seq``, or None."""
    query = select(LedgerCheckpointRow.__table__).where(
        LedgerCheckpointRow.tenant == tenant, LedgerCheckpointRow.seq == seq
    )
    return session.execute(query.order_by(LedgerCheckpointRow.id.desc()).limit(1)).first()


def stored_checkpoints(session: Session, tenant: str) -> list[LedgerCheckpointRow]:
    query = select(LedgerCheckpointRow).where(LedgerCheckpointRow.tenant == tenant)
    return list(session.scalars(query.order_by(LedgerCheckpointRow.id)))


def other_keys(session: Session, key_id: str) -> list[str]:
    """Key ids other than ``key_id`` that signed stored checkpoints."""
    query = select(LedgerCheckpointRow.key_id).where(LedgerCheckpointRow.key_id != key_id).distinct()
    return list(session.scalars(query))
