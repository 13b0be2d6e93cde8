"""The audit ledger detects any modified, deleted, inserted, reordered or truncated entry."""

from __future__ import annotations

import json
import threading
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import text

from regard import CallContext, Regard
from regard.governance import ledger
from regard.governance.ledger import LedgerFields

CTX = CallContext(actor="alice", tenant="acme", purpose="audit-test")


def _fields(i: int, actor: str = "alice") -> LedgerFields:
    return LedgerFields(
        actor=actor,
        purpose="audit-test",
        operation="search",
        decision="allow",
        rule_id="DEFAULT-ALLOW",
        policy_version="builtin-1",
        collection="c",
        input_sha256=[f"{i:064x}"],
        result={"n": i},
    )


@pytest.fixture
def filled(tmp_path: Path, model_cache: Path, database_url: str):  # type: ignore[no-untyped-def]
    """A ledger of 12 entries with a signed checkpoint at entry 10, on SQLite and on PostgreSQL."""
    svc = Regard(
        data_dir=tmp_path / "data", database_url=database_url, model_cache_dir=model_cache, ledger_checkpoint_every=10
    )
    for i in range(12):
        svc.governance.record("acme", _fields(i))
    yield svc, svc
    svc.close()


def problems(svc: Regard) -> list[str]:
    return svc.verify_ledger(CTX).problems


def sql(svc: Regard, statement: str, **params: Any) -> None:
    """Tamper with the database directly, as someone with access to it could."""
    with svc.store.engine.begin() as conn:
        conn.execute(text(statement), params)


def scalar_row(svc: Regard, statement: str, **params: Any) -> Any:
    with svc.store.engine.connect() as conn:
        return conn.execute(text(statement), params).first()


def test_intact_ledger_verifies(filled) -> None:  # type: ignore[no-untyped-def]
    svc, _ = filled
    result = svc.verify_ledger(CTX)
    assert result.ok and result.entries == 12 and result.checkpoints >= 1


def test_modified_entry(filled) -> None:  # type: ignore[no-untyped-def]
    svc, db = filled
    sql(
        db,
        "update ledger_entries set body = replace(body, :a, :b) where seq = 4 and tenant = 'acme'",
        a='"n":3',
        b='"n":4',
    )
    assert any("entry 4" in p and "modified" in p for p in problems(svc))


def test_modified_entry_with_rehash_breaks_the_next_link(filled) -> None:  # type: ignore[no-untyped-def]
    svc, db = filled
    row = scalar_row(db, "select prev_hash, at, body from ledger_entries where seq = 5")
    body = row[2].replace('"decision":"allow"', '"decision":"deny"')
    forged = ledger.chain_hash(row[0], "acme", 5, row[1], body)
    sql(db, "update ledger_entries set body = :b, entry_hash = :h where seq = 5", b=body, h=forged)
    assert any("entry 6" in p and "link" in p for p in problems(svc))


def test_deleted_entry(filled) -> None:  # type: ignore[no-untyped-def]
    svc, db = filled
    sql(db, "delete from ledger_entries where seq = 3")
    found = problems(svc)
    assert any("entry 4" in p and "sequence" in p for p in found)


def test_inserted_entry(filled) -> None:  # type: ignore[no-untyped-def]
    svc, db = filled
    for seq in range(12, 6, -1):  # make room at 7, keeping the unique (tenant, seq)
        sql(db, "update ledger_entries set seq = :new where seq = :old and tenant = 'acme'", new=seq + 1, old=seq)
    prev = scalar_row(db, "select entry_hash from ledger_entries where seq = 6")[0]
    body = json.dumps({"operation": "search", "decision": "allow"})
    at = "2026-11-27T00:00:00.000000+00:00"
    sql(
        db,
        "insert into ledger_entries (tenant, seq, at, body, prev_hash, entry_hash)"
        " values ('acme', 7, :at, :body, :prev, :hash)",
        at=at,
        body=body,
        prev=prev,
        hash=ledger.chain_hash(prev, "acme", 7, at, body),
    )
    found = problems(svc)
    assert any("entry 8" in p and "link" in p for p in found)


def test_reordered_entries(filled) -> None:  # type: ignore[no-untyped-def]
    svc, db = filled
    sql(db, "update ledger_entries set seq = -1 where seq = 2")
    sql(db, "update ledger_entries set seq = 2 where seq = 3")
    sql(db, "update ledger_entries set seq = 3 where seq = -1")
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
    sql(db, "update ledger_checkpoints set signature = :s", s="00" * 64)
    assert any("bad signature" in p for p in problems(svc))


def test_checkpoint_and_export(filled, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    svc, _ = filled
    record = svc.checkpoint_ledger(CTX)
    assert record is not None and record["seq"] == 12
    assert ledger.verify_signature(
        svc.ledger_public_key(),
        ledger.checkpoint_message("acme", 12, record["entry_hash"], record["at"]),
        record["signature"],
    )
    target = tmp_path / "ledger.jsonl"
    assert svc.export_ledger(target, CTX) == 12
    lines = [json.loads(line) for line in target.read_text().splitlines()]
    assert [entry["seq"] for entry in lines] == list(range(1, 13))
    assert lines[1]["prev_hash"] == lines[0]["entry_hash"]


def test_key_file_is_private_and_outside_the_database(filled, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    svc, _ = filled
    key_file = svc.settings.resolved_ledger_key_file()
    assert key_file.exists() and key_file.stat().st_mode & 0o077 == 0
    pem = key_file.read_text()
    with svc.store.engine.connect() as conn:
        for table in ("ledger_entries", "ledger_checkpoints"):
            rows = conn.execute(text(f"select * from {table}")).all()
            assert not any("PRIVATE KEY" in str(value) or pem in str(value) for row in rows for value in row)


def test_tenants_have_separate_chains(filled) -> None:  # type: ignore[no-untyped-def]
    svc, _ = filled
    other = LedgerFields(
        actor="bob", purpose="p", operation="detect", decision="allow", rule_id="R", policy_version="v"
    )
    entry = svc.governance.record("globex", other)
    assert entry.seq == 1 and entry.prev_hash == ledger.GENESIS
    assert svc.verify_ledger(CallContext(tenant="globex")).ok and svc.verify_ledger(CTX).ok


def test_concurrent_writers_keep_one_chain(filled) -> None:  # type: ignore[no-untyped-def]
    """8 threads append inside their own transactions at once: no fork, no lost entry, the chain verifies."""
    svc, _ = filled
    errors: list[BaseException] = []

    def write(worker: int) -> None:
        try:
            for i in range(15):
                svc.governance.in_transaction(
                    lambda session, i=i: svc.governance.record("acme", _fields(i, f"w{worker}"), session)
                )
        except BaseException as exc:  # surfaced below
            errors.append(exc)

    threads = [threading.Thread(target=write, args=(w,)) for w in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    result = svc.verify_ledger(CTX)
    assert result.ok, result.problems
    assert result.entries == 12 + 8 * 15
