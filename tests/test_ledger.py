"""The hash chain: any modified, deleted, inserted or reordered entry; checkpoints, export, separate chains.

The insider's attacks on the tail, the checkpoints, the key and the witnesses are in test_ledger_tamper.py.
"""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path

import pytest
from conftest import LOCAL, trusted
from tamper import record_searches

from regard import Regard
from regard.governance import ledger, signing
from regard.governance.ledger import LedgerFields

CTX = trusted(actor="alice", tenant="acme", purpose="audit-test")


@pytest.fixture
def filled(tmp_path: Path, model_cache: Path):  # type: ignore[no-untyped-def]
    """A ledger of 12 entries with a signed checkpoint at entry 10."""
    svc = Regard(data_dir=tmp_path / "data", model_cache_dir=model_cache, ledger_checkpoint_every=10)
    record_searches(svc, 12)
    yield svc, tmp_path / "data" / "regard.db"
    svc.close()


def problems(svc: Regard) -> list[str]:
    return svc.verify_ledger(CTX).problems


def sql(db: Path, statement: str, *args: object) -> None:
    with sqlite3.connect(db) as conn:
        conn.execute(statement, args)


def test_intact_ledger_verifies(filled) -> None:  # type: ignore[no-untyped-def]
    svc, _ = filled
    result = svc.verify_ledger(CTX)
    assert result.ok and result.entries == 12 and result.checkpoints >= 1


def test_modified_entry(filled) -> None:  # type: ignore[no-untyped-def]
    svc, db = filled
    sql(db, "update ledger_entries set body = replace(body, '\"n\":3', '\"n\":4') where seq = 4 and tenant = 'acme'")
    assert any("entry 4" in p and "modified" in p for p in problems(svc))


def test_modified_entry_with_rehash_breaks_the_next_link(filled) -> None:  # type: ignore[no-untyped-def]
    svc, db = filled
    with sqlite3.connect(db) as conn:
        row = conn.execute("select prev_hash, at, body from ledger_entries where seq = 5").fetchone()
        body = row[2].replace('"decision":"allow"', '"decision":"deny"')
        forged = ledger.chain_hash(row[0], "acme", 5, row[1], body)
        conn.execute("update ledger_entries set body = ?, entry_hash = ? where seq = 5", (body, forged))
    assert any("entry 6" in p and "link" in p for p in problems(svc))


def test_deleted_entry(filled) -> None:  # type: ignore[no-untyped-def]
    svc, db = filled
    sql(db, "delete from ledger_entries where seq = 3")
    found = problems(svc)
    assert any("entry 4" in p and "sequence" in p for p in found)


def test_inserted_entry(filled) -> None:  # type: ignore[no-untyped-def]
    svc, db = filled
    with sqlite3.connect(db) as conn:
        for seq in range(12, 6, -1):  # make room at 7, keeping the unique (tenant, seq)
            conn.execute("update ledger_entries set seq = ? where seq = ? and tenant = 'acme'", (seq + 1, seq))
        prev = conn.execute("select entry_hash from ledger_entries where seq = 6").fetchone()[0]
        body = json.dumps({"operation": "search", "decision": "allow"})
        at = "2026-11-27T00:00:00.000000+00:00"
        conn.execute(
            "insert into ledger_entries (tenant, seq, at, body, prev_hash, entry_hash) values (?,?,?,?,?,?)",
            ("acme", 7, at, body, prev, ledger.chain_hash(prev, "acme", 7, at, body)),
        )
    found = problems(svc)
    assert any("entry 8" in p and "link" in p for p in found)


def test_reordered_entries(filled) -> None:  # type: ignore[no-untyped-def]
    svc, db = filled
    with sqlite3.connect(db) as conn:
        conn.execute("update ledger_entries set seq = -1 where seq = 2")
        conn.execute("update ledger_entries set seq = 2 where seq = 3")
        conn.execute("update ledger_entries set seq = 3 where seq = -1")
    assert len(problems(svc)) >= 2


def test_truncated_tail_is_caught_by_the_checkpoint(filled) -> None:  # type: ignore[no-untyped-def]
    svc, db = filled
    sql(db, "delete from ledger_entries where seq >= 9")
    assert any("truncated" in p for p in problems(svc))


def test_hiding_the_truncation_needs_the_witness_file_too(filled) -> None:  # type: ignore[no-untyped-def]
    svc, db = filled
    sql(db, "delete from ledger_entries where seq >= 9")
    sql(db, "delete from ledger_checkpoints")
    found = problems(svc)
    assert any("witness" in p for p in found) and any("truncated" in p for p in found)


def test_forged_checkpoint_signature(filled) -> None:  # type: ignore[no-untyped-def]
    svc, db = filled
    sql(db, "update ledger_checkpoints set signature = ? ", "00" * 64)
    assert any("bad signature" in p for p in problems(svc))


def test_checkpoint_and_export(filled, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    svc, _ = filled
    record = svc.checkpoint_ledger(CTX)
    assert record is not None and record.seq == 12 and record.public_key == svc.ledger_public_key(LOCAL)
    assert signing.verify_signature(
        svc.ledger_public_key(LOCAL),
        signing.checkpoint_message("acme", 12, record.entry_hash, record.at),
        record.signature,
    )
    lines = [json.loads(line) for line in svc.export_ledger(CTX)]
    assert [entry["seq"] for entry in lines] == list(range(1, 13))
    assert lines[1]["prev_hash"] == lines[0]["entry_hash"]


def test_key_file_is_private_and_outside_the_data_directory(filled, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    svc, db = filled
    key_file = svc._parts.settings.resolved_ledger_key_file()
    assert key_file.exists() and key_file.stat().st_mode & 0o077 == 0
    assert key_file.parent.stat().st_mode & 0o077 == 0
    assert not key_file.resolve().is_relative_to((tmp_path / "data").resolve())
    assert b"PRIVATE KEY" not in db.read_bytes()


def test_tenants_have_separate_chains(filled) -> None:  # type: ignore[no-untyped-def]
    svc, _ = filled
    other = LedgerFields(
        actor="bob", purpose="p", operation="detect", decision="allow", rule_id="R", policy_version="v"
    )
    entry = svc._parts.governance.record("globex", other)
    assert entry.seq == 1 and entry.prev_hash == ledger.GENESIS
    assert svc.verify_ledger(trusted(tenant="globex")).ok and svc.verify_ledger(CTX).ok
