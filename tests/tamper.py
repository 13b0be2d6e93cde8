"""What an insider can do to the ledger with the database in hand (and, for some attacks, the signing key).

``record_searches`` fills a ledger; each other function plays one attack on
the SQLite file directly, as someone who bypasses Regard would; the ledger
tests then ask whether verification sees it.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path

from regard import Regard
from regard.governance.ledger import GENESIS, LedgerFields, chain_hash
from regard.governance.signing import CheckpointSigner


def record_searches(svc: Regard, count: int, tenant: str = "acme") -> None:
    """``count`` allowed searches in ``tenant``'s ledger, each with its own result."""
    for i in range(count):
        fields = LedgerFields(
            actor="alice",
            purpose="audit-test",
            operation="search",
            decision="allow",
            rule_id="DEFAULT-ALLOW",
            policy_version="builtin-1",
            collection="c",
            input_sha256=[f"{i:064x}"],
            result={"n": i},
        )
        svc._parts.governance.record(tenant, fields)


def sql(db: Path, statement: str, *args: object) -> None:
    with sqlite3.connect(db) as conn:
        conn.execute(statement, args)


def rehash_from(db: Path, tenant: str, seq: int, edit: Callable[[str], str] = lambda body: body) -> None:
    """Edit entry ``seq``'s body and recompute every hash from there on: a chain that verifies on its own."""
    with sqlite3.connect(db) as conn:
        rows = conn.execute(
            "select seq, at, body from ledger_entries where tenant = ? and seq >= ? order by seq", (tenant, seq)
        ).fetchall()
        before = conn.execute(
            "select entry_hash from ledger_entries where tenant = ? and seq = ?", (tenant, seq - 1)
        ).fetchone()
        prev = before[0] if before else GENESIS
        for number, at, body in rows:
            body = edit(body) if number == seq else body
            entry_hash = chain_hash(prev, tenant, number, at, body)
            conn.execute(
                "update ledger_entries set body = ?, prev_hash = ?, entry_hash = ? where tenant = ? and seq = ?",
                (body, prev, entry_hash, tenant, number),
            )
            prev = entry_hash


def append_forged(db: Path, tenant: str, body: str, age: timedelta = timedelta(hours=1)) -> int:
    """Append an entry that links correctly to the last one, dated ``age`` ago; returns its sequence number."""
    with sqlite3.connect(db) as conn:
        seq, prev = conn.execute(
            "select seq, entry_hash from ledger_entries where tenant = ? order by seq desc limit 1", (tenant,)
        ).fetchone()
        at = (datetime.now(UTC) - age).isoformat(timespec="microseconds")
        conn.execute(
            "insert into ledger_entries (tenant, seq, at, body, prev_hash, entry_hash) values (?, ?, ?, ?, ?, ?)",
            (tenant, seq + 1, at, body, prev, chain_hash(prev, tenant, seq + 1, at, body)),
        )
    return int(seq) + 1


def truncate(db: Path, tenant: str, keep: int) -> None:
    """Keep entries 1..keep and delete the checkpoints that signed anything after them."""
    sql(db, "delete from ledger_entries where tenant = ? and seq > ?", tenant, keep)
    sql(db, "delete from ledger_checkpoints where tenant = ? and seq > ?", tenant, keep)


def resign(db: Path, tenant: str, signer: CheckpointSigner) -> None:
    """Replace every checkpoint of ``tenant`` by one signed with ``signer`` over the chain as it now is."""
    with sqlite3.connect(db) as conn:
        seqs = [r[0] for r in conn.execute("select seq from ledger_checkpoints where tenant = ?", (tenant,))]
        conn.execute("delete from ledger_checkpoints where tenant = ?", (tenant,))
        for seq in seqs:
            row = conn.execute(
                "select entry_hash from ledger_entries where tenant = ? and seq = ?", (tenant, seq)
            ).fetchone()
            if row is None:
                continue
            cp = signer.sign(tenant, seq, row[0])
            conn.execute(
                "insert into ledger_checkpoints (tenant, seq, entry_hash, at, key_id, signature) "
                "values (?, ?, ?, ?, ?, ?)",
                (tenant, seq, cp.entry_hash, cp.at, cp.key_id, cp.signature),
            )


def flip_decision(body: str) -> str:
    """An allowed call rewritten as refused."""
    return body.replace('"decision":"allow"', '"decision":"deny"')
