"""The hash chain: any modified, deleted, inserted or reordered entry; checkpoints, export, separate chains;
concurrent writers.  On SQLite and on PostgreSQL.

The insider's attacks on the tail, the checkpoints, the key and the witnesses are in test_ledger_tamper.py.
"""

from __future__ import annotations

import json
import threading
from pathlib import Path
from typing import Any

import pytest
from conftest import LOCAL, trusted
from sqlalchemy import text
from tamper import record_searches

from regard import Regard
from regard.governance import ledger, signing
from regard.governance.ledger import LedgerFields

CTX = trusted(actor="alice", tenant="acme", purpose="audit-test")


@pytest.fixture
def filled(tmp_path: Path, model_cache: Path, database_url: str):  # type: ignore[no-untyped-def]
    """A ledger of 12 entries with a signed checkpoint at entry 10, on SQLite and on PostgreSQL."""
    svc = Regard(
        data_dir=tmp_path / "data", database_url=database_url, model_cache_dir=model_cache, ledger_checkpoint_every=10
    )
    record_searches(svc, 12)
    yield svc
    svc.close()


def problems(svc: Regard) -> list[str]:
    return svc.verify_ledger(CTX).problems


def sql(svc: Regard, statement: str, **params: Any) -> None:
    """Tamper with the database directly, as someone with access to it could."""
    with svc._parts.store.engine.begin() as conn:
        conn.execute(text(statement), params)


def row(svc: Regard, statement: str, **params: Any) -> Any:
    with svc._parts.store.engine.connect() as conn:
        return conn.execute(text(statement), params).first()


def test_intact_ledger_verifies(filled: Regard) -> None:
    result = filled.verify_ledger(CTX)
    assert result.ok and result.entries == 12 and result.checkpoints >= 1


def test_modified_entry(filled: Regard) -> None:
    statement = "update ledger_entries set body = replace(body, :a, :b) where seq = 4 and tenant = 'acme'"
    sql(filled, statement, a='"n":3', b='"n":4')
    assert any("entry 4" in p and "modified" in p for p in problems(filled))


def test_modified_entry_with_rehash_breaks_the_next_link(filled: Regard) -> None:
    prev, at, body = row(filled, "select prev_hash, at, body from ledger_entries where seq = 5")
    body = body.replace('"decision":"allow"', '"decision":"deny"')
    forged = ledger.chain_hash(prev, "acme", 5, at, body)
    sql(filled, "update ledger_entries set body = :b, entry_hash = :h where seq = 5", b=body, h=forged)
    assert any("entry 6" in p and "link" in p for p in problems(filled))


def test_deleted_entry(filled: Regard) -> None:
    sql(filled, "delete from ledger_entries where seq = 3")
    assert any("entry 4" in p and "sequence" in p for p in problems(filled))


def test_inserted_entry(filled: Regard) -> None:
    for seq in range(12, 6, -1):  # make room at 7, keeping the unique (tenant, seq)
        sql(filled, "update ledger_entries set seq = :new where seq = :old and tenant = 'acme'", new=seq + 1, old=seq)
    prev = row(filled, "select entry_hash from ledger_entries where seq = 6")[0]
    body = json.dumps({"operation": "search", "decision": "allow"})
    at = "2026-11-27T00:00:00.000000+00:00"
    sql(
        filled,
        "insert into ledger_entries (tenant, seq, at, body, prev_hash, entry_hash)"
        " values ('acme', 7, :at, :body, :prev, :hash)",
        at=at,
        body=body,
        prev=prev,
        hash=ledger.chain_hash(prev, "acme", 7, at, body),
    )
    assert any("entry 8" in p and "link" in p for p in problems(filled))


def test_reordered_entries(filled: Regard) -> None:
    sql(filled, "update ledger_entries set seq = -1 where seq = 2")
    sql(filled, "update ledger_entries set seq = 2 where seq = 3")
    sql(filled, "update ledger_entries set seq = 3 where seq = -1")
    assert len(problems(filled)) >= 2


def test_truncated_tail_is_caught_by_the_checkpoint(filled: Regard) -> None:
    sql(filled, "delete from ledger_entries where seq >= 9")
    assert any("truncated" in p for p in problems(filled))


def test_hiding_the_truncation_needs_the_witness_file_too(filled: Regard) -> None:
    sql(filled, "delete from ledger_entries where seq >= 9")
    sql(filled, "delete from ledger_checkpoints")
    found = problems(filled)
    assert any("witness" in p for p in found) and any("truncated" in p for p in found)


def test_forged_checkpoint_signature(filled: Regard) -> None:
    sql(filled, "update ledger_checkpoints set signature = :s", s="00" * 64)
    assert any("bad signature" in p for p in problems(filled))


def test_checkpoint_and_export(filled: Regard) -> None:
    record = filled.checkpoint_ledger(CTX)
    assert record is not None and record.seq == 12 and record.public_key == filled.ledger_public_key(LOCAL)
    assert signing.verify_signature(
        filled.ledger_public_key(LOCAL),
        signing.checkpoint_message("acme", 12, record.entry_hash, record.at),
        record.signature,
    )
    lines = [json.loads(line) for line in filled.export_ledger(CTX)]
    assert [entry["seq"] for entry in lines] == list(range(1, 13))
    assert lines[1]["prev_hash"] == lines[0]["entry_hash"]


def test_key_file_is_private_and_outside_the_data_directory(filled: Regard, tmp_path: Path) -> None:
    key_file = filled._parts.settings.resolved_ledger_key_file()
    assert key_file.exists() and key_file.stat().st_mode & 0o077 == 0
    assert key_file.parent.stat().st_mode & 0o077 == 0
    assert not key_file.resolve().is_relative_to((tmp_path / "data").resolve())
    database = tmp_path / "data" / "regard.db"
    if database.exists():  # SQLite: the key is not in the database file
        assert b"PRIVATE KEY" not in database.read_bytes()


def test_tenants_have_separate_chains(filled: Regard) -> None:
    other = LedgerFields(
        actor="bob", purpose="p", operation="detect", decision="allow", rule_id="R", policy_version="v"
    )
    entry = filled._parts.governance.record("globex", other)
    assert entry.seq == 1 and entry.prev_hash == ledger.GENESIS
    assert filled.verify_ledger(trusted(tenant="globex")).ok and filled.verify_ledger(CTX).ok


def test_concurrent_writers_keep_one_chain(filled: Regard) -> None:
    """8 threads append inside their own transactions at once: no fork, no lost entry, the chain verifies."""
    governance = filled._parts.governance
    errors: list[BaseException] = []

    def fields(i: int, worker: int) -> LedgerFields:
        return LedgerFields(
            actor=f"w{worker}", purpose="audit-test", operation="search", decision="allow", rule_id="R",
            policy_version="v", result={"n": i},
        )  # fmt: skip

    def write(worker: int) -> None:
        try:
            for i in range(15):
                governance.in_transaction(lambda s, i=i: governance.record("acme", fields(i, worker), s))
        except BaseException as exc:  # surfaced below
            errors.append(exc)

    threads = [threading.Thread(target=write, args=(w,)) for w in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    result = filled.verify_ledger(CTX)
    assert result.ok, result.problems
    assert result.entries == 12 + 8 * 15
