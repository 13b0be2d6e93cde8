"""An insider against the ledger: each attack of the threat model (docs/governance.md), seen or stated unseen.

Every case that the threat model states undetectable is played twice: under
its stated conditions it goes unseen, and with the stated mitigation in place
(a witness out of reach, a pinned public key, a published report) it is caught.
"""

from __future__ import annotations

import socket
import threading
import warnings
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from conftest import trusted
from tamper import append_forged, flip_decision, record_searches, rehash_from, resign, sql, truncate
from witnesses import SyslogListener

from regard import Regard
from regard.errors import InvalidInputError
from regard.governance import witness
from regard.governance.ledger import LedgerFields
from regard.governance.report import render_json, render_markdown
from regard.governance.signing import CheckpointSigner, LedgerKeyWarning
from regard.governance.verification import Verification

CTX = trusted(actor="alice", tenant="acme", purpose="audit-test")
Make = Callable[..., tuple[Regard, Path]]


@pytest.fixture
def make(tmp_path: Path, model_cache: Path) -> Iterator[Make]:
    """``make(**settings)``: a fresh installation with 12 entries for 'acme', a checkpoint signed at entry 10."""
    opened: list[Regard] = []

    def build(**settings: Any) -> tuple[Regard, Path]:
        data = tmp_path / f"data{len(opened)}"
        svc = Regard(data_dir=data, model_cache_dir=model_cache, ledger_checkpoint_every=10, **settings)
        opened.append(svc)
        record_searches(svc, 12)
        return svc, data / "regard.db"

    yield build
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", LedgerKeyWarning)  # some tests take the key away on purpose
        for svc in opened:
            svc.close()


def check(svc: Regard, **kwargs: Any) -> Verification:
    return svc.verify_ledger(CTX, **kwargs)


def unseen(svc: Regard) -> bool:
    """The attack goes unseen with the database alone, and with the public key pinned too."""
    return check(svc).ok and check(svc, public_key=svc.ledger_public_key(CTX)).ok


def found(result: Verification, *words: str) -> bool:
    return any(all(w in p for w in words) for p in result.problems)


# -- the tail after the last checkpoint -----------------------------------------------------------
def test_truncated_tail_after_the_last_checkpoint(make: Make) -> None:
    bare, db = make(ledger_witness=[])
    truncate(db, "acme", 10)
    assert unseen(bare)  # stated: with the database (and a pinned key), a tail no checkpoint signed can vanish
    witnessed, db = make()
    truncate(db, "acme", 10)
    assert found(check(witnessed), "witness holds entries 11-12", "ledger ends at 10")


def test_appended_forged_entry(make: Make) -> None:
    body = '{"operation":"review","decision":"allow"}'
    bare, db = make(ledger_witness=[])
    append_forged(db, "acme", body)
    assert unseen(bare)  # stated
    assert "entries 11-13 come after the last signed checkpoint" in check(bare).notes
    witnessed, db = make()
    append_forged(db, "acme", body)
    assert found(check(witnessed), "entries 13", "in no witness")


def test_edited_and_rehashed_tail(make: Make) -> None:
    bare, db = make(ledger_witness=[])
    rehash_from(db, "acme", 11, flip_decision)
    assert unseen(bare)  # stated: entries after the last checkpoint can be rewritten unseen without a witness
    witnessed, db = make()
    rehash_from(db, "acme", 11, flip_decision)
    assert found(check(witnessed), "entries 11-12", "witnessed hash", "rewritten")


def test_rehashed_history_under_a_checkpoint_is_caught_by_its_signature(make: Make) -> None:
    svc, db = make(ledger_witness=[])
    rehash_from(db, "acme", 3, flip_decision)
    assert found(check(svc), "checkpoint(s) at entry 10", "no longer has the signed hash")


# -- re-signed checkpoints -------------------------------------------------------------------------
def test_resigned_with_a_key_of_ones_own(make: Make, tmp_path: Path) -> None:
    svc, db = make(ledger_witness=[])
    rehash_from(db, "acme", 3, flip_decision)
    resign(db, "acme", CheckpointSigner(tmp_path / "mallory.pem"))
    assert found(check(svc), "checkpoint(s) at entry 10", "not the trusted key")


def test_resigned_after_replacing_the_key_file(make: Make) -> None:
    svc, db = make(ledger_witness=[])
    key_file = svc.settings.resolved_ledger_key_file()
    pinned = svc.ledger_public_key(CTX)
    key_file.unlink()
    rehash_from(db, "acme", 3, flip_decision)
    resign(db, "acme", CheckpointSigner(key_file))  # the attacker's key, where the real one was
    assert check(svc).ok  # stated: with nothing pinned, a verifier trusts whatever key file it finds
    assert found(check(svc, public_key=pinned), "not the trusted key")
    with Regard(data_dir=db.parent, ledger_public_key=pinned, ledger_witness=[]) as auditor:
        assert found(auditor.verify_ledger(CTX), "not the trusted key")


def test_rewritten_and_resigned_with_the_real_key(make: Make, tmp_path: Path) -> None:
    """Whoever holds the key and the database can rewrite and re-sign: only copies out of their reach show it."""
    key_file = tmp_path / "data0" / "keys" / "ledger-ed25519.pem"  # beside the database, as the old default was
    with pytest.warns(LedgerKeyWarning, match="beside the database"):
        svc, db = make(ledger_key_file=key_file, ledger_witness=[str(tmp_path / "witness-elsewhere.jsonl")])
    published = render_markdown(svc.accountability_report(CTX))
    pinned = svc.ledger_public_key(CTX)
    rehash_from(db, "acme", 3, flip_decision)
    resign(db, "acme", CheckpointSigner(key_file))
    with Regard(data_dir=db.parent, ledger_key_file=key_file, ledger_witness=[]) as bare:
        assert bare.verify_ledger(CTX, public_key=pinned).ok  # stated: the database and the key suffice to rewrite
        assert found(bare.verify_ledger(CTX, against=published), "no longer has the hash the report published")
    assert found(check(svc), "entries 3-12", "rewritten")  # a witness out of reach kept the hashes


# -- witnesses and checkpoints deleted, the whole ledger deleted --------------------------------------
def test_witness_file_deleted_with_the_checkpoints(make: Make, tmp_path: Path) -> None:
    listener = SyslogListener()
    try:
        local = tmp_path / "witness-in-reach.jsonl"
        svc, db = make(ledger_witness=[str(local), listener.url])
        truncate(db, "acme", 5)
        local.unlink()
        assert check(svc).ok  # stated: a witness the attacker can delete witnesses nothing
        result = check(svc, witness_copies={"log server": listener.text()})
        assert found(result, "witness holds entries 6-12", "ledger ends at 5")
        assert found(result, "checkpoint(s) at entry 10", "in a witness but missing from the database")
    finally:
        listener.close()


def test_whole_ledger_deleted(make: Make) -> None:
    bare, db = make(ledger_witness=[])
    published = render_json(bare.accountability_report(CTX))
    sql(db, "delete from ledger_entries")
    sql(db, "delete from ledger_checkpoints")
    assert unseen(bare) and check(bare).entries == 0  # stated: the database cannot miss what it does not show
    assert found(check(bare, against=published), "signs entry 12", "ledger now ends at 0")
    witnessed, db = make()
    sql(db, "delete from ledger_entries")
    sql(db, "delete from ledger_checkpoints")
    assert found(check(witnessed), "witness holds entries 1-12", "ledger ends at 0")


# -- the signing key ---------------------------------------------------------------------------------
def test_verify_never_creates_a_key(make: Make) -> None:
    svc, db = make(ledger_witness=[])
    pinned = svc.ledger_public_key(CTX)
    key_file = svc.settings.resolved_ledger_key_file()
    key_file.unlink()
    with Regard(data_dir=db.parent, ledger_witness=[]) as later:
        result = later.verify_ledger(CTX)
        assert not key_file.exists()
        assert found(result, "no trusted public key", "cannot be checked")
        assert later.verify_ledger(CTX, public_key=pinned).ok
    with Regard(data_dir=db.parent, ledger_witness=[], ledger_public_key=pinned) as pinned_svc:
        assert pinned_svc.verify_ledger(CTX).ok
    assert not key_file.exists()


def test_a_lost_key_replaced_by_the_service_is_flagged(make: Make) -> None:
    svc, db = make(ledger_witness=[])
    pinned = svc.ledger_public_key(CTX)
    svc.settings.resolved_ledger_key_file().unlink()
    with Regard(data_dir=db.parent, ledger_witness=[], ledger_checkpoint_every=10) as later:
        with pytest.warns(LedgerKeyWarning, match="was missing"):
            record_searches(later, 8)  # entry 20 is signed with a new key
        assert found(later.verify_ledger(CTX, public_key=pinned), "checkpoint(s) at entry 20", "not the trusted key")
        assert found(later.verify_ledger(CTX), "checkpoint(s) at entry 10", "not the trusted key")


def test_key_beside_the_data_warns(tmp_path: Path, model_cache: Path) -> None:
    legacy = tmp_path / "data" / "keys" / "ledger-ed25519.pem"
    CheckpointSigner(legacy)  # an installation from before the key moved out of the data directory
    with Regard(data_dir=tmp_path / "data", model_cache_dir=model_cache) as svc:
        assert svc.settings.resolved_ledger_key_file() == legacy  # its old checkpoints still verify
        record_searches(svc, 1)
        with pytest.warns(LedgerKeyWarning, match="beside the database it protects"):
            svc.checkpoint_ledger(CTX)
        result = svc.verify_ledger(CTX)
        assert result.ok and any("signing key lives in the data directory" in n for n in result.notes)


# -- the witness itself ------------------------------------------------------------------------------
def test_a_malformed_witness_line_is_a_finding(make: Make) -> None:
    svc, _ = make()
    witness_file = Path(svc.settings.resolved_ledger_witness()[0])
    lines = len(witness_file.read_text().splitlines())
    with witness_file.open("a") as handle:
        handle.write('not json\n{"kind":"entry","tenant":"acme","seq":"x","entry_hash":"y"}\n')
    result = check(svc)
    assert found(result, f"line {lines + 1} is malformed") and found(result, f"line {lines + 2} is malformed")


def test_an_entry_rolled_back_never_reaches_the_witness(make: Make) -> None:
    svc, _ = make()
    governance = svc._parts.governance
    fields = LedgerFields(actor="a", purpose="p", operation="erase", decision="allow", rule_id="R", policy_version="v")

    def fails(session: Any) -> None:
        governance.record("acme", fields, session)
        raise RuntimeError("the change this entry records failed")

    with pytest.raises(RuntimeError):
        governance.in_transaction(fails)
    witness_file = Path(svc.settings.resolved_ledger_witness()[0])
    assert '"seq":13' not in witness_file.read_text()
    record_searches(svc, 1)  # entry 13 again, with other content
    assert check(svc).ok and '"seq":13' in witness_file.read_text()


def test_close_signs_the_tail(make: Make) -> None:
    svc, db = make()
    assert check(svc).notes[-1] == "entries 11-12 come after the last signed checkpoint"
    svc.close()
    witness_file = Path(svc.settings.resolved_ledger_witness()[0])
    assert '"kind":"checkpoint"' in witness_file.read_text().splitlines()[-1]
    with Regard(data_dir=db.parent) as again:
        result = again.verify_ledger(CTX)
        assert result.ok and not any("after the last signed checkpoint" in n for n in result.notes)


def test_witness_targets_and_lines(tmp_path: Path) -> None:
    for wrong in ("ftp://host/x", "syslog://", "syslog://host?facility=nowhere"):
        with pytest.raises(InvalidInputError):
            witness.Witness([wrong])
    assert witness.parse_line('<14>regard-ledger: {"kind":"entry","seq":1}\x00') == {"kind": "entry", "seq": 1}
    assert witness.parse_line('Nov 27 10:00:00 host regard-ledger: {"seq":2}') == {"seq": 2}
    assert witness.parse_line("   ") is None
    for bad in ("garbage", "host other-program: {}", '{"seq":1} trailing', "[1]"):
        with pytest.raises(ValueError):
            witness.parse_line(bad)


def test_a_syslog_witness_over_tcp(make: Make) -> None:
    server = socket.create_server(("127.0.0.1", 0))
    received: list[bytes] = []

    def serve() -> None:
        connection, _ = server.accept()
        with connection:
            while chunk := connection.recv(65535):
                received.append(chunk)

    thread = threading.Thread(target=serve)
    thread.start()
    try:
        svc, _ = make(ledger_witness=[f"syslog+tcp://127.0.0.1:{server.getsockname()[1]}"])
        svc.close()  # closes the connection once the tail is signed
        thread.join(timeout=10)
    finally:
        server.close()
    copy = b"".join(received).decode().replace("\x00", "\n")
    assert copy.count("regard-ledger: ") == 12 + 2  # every entry, the checkpoint at 10, the shutdown one at 12
    assert svc.verify_ledger(CTX, witness_copies={"tcp log": copy}).witnessed == 12
