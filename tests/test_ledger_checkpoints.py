"""When the ledger is signed (consequential decisions, erasure, purge, policy, shutdown), and reports that prove it."""

from __future__ import annotations

import sqlite3
from dataclasses import replace
from datetime import timedelta
from pathlib import Path

import numpy as np
import pytest
from conftest import person, trusted
from tamper import flip_decision, record_searches, rehash_from, resign, truncate
from typer.testing import CliRunner

from regard import Regard
from regard.cli.app import app
from regard.errors import InvalidInputError
from regard.governance.report import embedded_checkpoint, render_html, render_json, render_markdown
from regard.governance.repository import utcnow
from regard.governance.signing import CheckpointSigner
from regard.settings import Settings

ADMIN = trusted(actor="alice", tenant="acme", purpose="vip")


def signed(db: Path, tenant: str = "acme") -> set[int]:
    with sqlite3.connect(db) as conn:
        return {r[0] for r in conn.execute("select seq from ledger_checkpoints where tenant = ?", (tenant,))}


def last_seq(svc: Regard) -> int:
    return svc.ledger_entries(ADMIN)[-1].seq


def test_consequential_decisions_are_signed_at_once(tmp_path: Path, model_cache: Path, astronaut: np.ndarray) -> None:
    db = tmp_path / "data" / "regard.db"
    with Regard(data_dir=tmp_path / "data", model_cache_dir=model_cache, onnx_threads=1) as svc:
        svc.create_tenant("acme", ADMIN)
        svc.declare_purpose(
            "vip",
            ADMIN,
            category="access-control",
            legal_basis="contract",
            data_subjects="club members",
            retention_days=30,
            max_collection_subjects=100,
            consequential=True,
        )
        assert signed(db) == set()  # declarations and the like wait for the interval (or shutdown)
        svc.apply_policy("version: p-2\n", ADMIN)
        assert last_seq(svc) in signed(db)
        op = trusted(actor="op", tenant="acme", purpose="vip", roles=frozenset({"operator"}))
        svc.create_collection("members", op)
        svc.enroll("members", "eileen", [astronaut], op)
        assert last_seq(svc) not in signed(db)
        held = svc.search("members", np.ascontiguousarray(astronaut[:, ::-1]), op)
        assert held.review_case and last_seq(svc) in signed(db)
        for reviewer in ("rev1", "rev2"):  # the second confirmation releases the match
            ctx = person(svc, reviewer, ["reviewer"], tenant="acme", purpose="vip")
            svc.review_candidate(held.review_case, "eileen", "confirm", "same person", ctx)
            assert last_seq(svc) in signed(db)
        svc.erase_subject("nobody", ADMIN)
        assert last_seq(svc) in signed(db)
        svc.purge(ADMIN, now=utcnow() + timedelta(days=31))
        assert svc.ledger_entries(ADMIN)[-1].fields["operation"] == "purge" and last_seq(svc) in signed(db)
        svc.detect(astronaut, op)
        tail = last_seq(svc)
        assert tail not in signed(db)
    assert tail in signed(db)  # closing the service signed the tail


def test_every_report_embeds_a_checkpoint_that_proves_the_history(tmp_path: Path, model_cache: Path) -> None:
    with Regard(data_dir=tmp_path / "data", model_cache_dir=model_cache, ledger_witness=[]) as svc:
        record_searches(svc, 12)
        report = svc.accountability_report(ADMIN)
        cp = report.checkpoint
        assert cp is not None and cp.seq == 12 and cp.public_key == svc.ledger_public_key(ADMIN)
        assert cp.signed_by(cp.public_key) and 12 in signed(tmp_path / "data" / "regard.db")
        renderings = [render_markdown(report), render_html(report), render_json(report)]
        for text in renderings:
            assert embedded_checkpoint(text) == cp
            assert svc.verify_ledger(ADMIN, against=text).ok
        assert cp.public_key in renderings[0] and cp.signature in renderings[1]
        record_searches(svc, 3)  # what happens after the report does not disturb its proof
        result = svc.verify_ledger(ADMIN, against=renderings[0])
        assert result.ok and result.against_seq == 12
        assert svc.accountability_report(ADMIN).checkpoint.seq == 15  # type: ignore[union-attr]


def test_a_report_catches_a_rewrite_even_with_the_key(tmp_path: Path, model_cache: Path) -> None:
    key_file = tmp_path / "stolen.pem"
    db = tmp_path / "data" / "regard.db"
    with Regard(
        data_dir=tmp_path / "data", model_cache_dir=model_cache, ledger_witness=[], ledger_key_file=key_file
    ) as svc:
        record_searches(svc, 12)
        published = render_html(svc.accountability_report(ADMIN))
        rehash_from(db, "acme", 4, flip_decision)
        resign(db, "acme", CheckpointSigner(key_file))
        assert svc.verify_ledger(ADMIN).ok  # the key and the database are enough to fool the ledger alone
        rewritten = svc.verify_ledger(ADMIN, against=published)
        assert any("rewritten since" in p for p in rewritten.problems)
        truncate(db, "acme", 8)
        assert any("truncated or deleted since" in p for p in svc.verify_ledger(ADMIN, against=published).problems)
        signature = embedded_checkpoint(published).signature
        forged = published.replace(signature, "0" * 128)
        assert any("report was altered" in p for p in svc.verify_ledger(ADMIN, against=forged).problems)
        other = svc.verify_ledger(trusted(tenant="globex"), against=published)
        assert any("is of tenant 'acme'" in p for p in other.problems)
        with pytest.raises(InvalidInputError, match="no readable signed checkpoint"):
            svc.verify_ledger(ADMIN, against="# Accountability report\n")


def test_remote_verifiers_send_keys_and_witnesses_not_file_names(tmp_path: Path, model_cache: Path) -> None:
    with Regard(data_dir=tmp_path / "data", model_cache_dir=model_cache) as svc:
        record_searches(svc, 2)
        key = svc.ledger_public_key(ADMIN)
        (tmp_path / "key.hex").write_text(key)
        remote = replace(ADMIN, remote=True)
        assert svc.verify_ledger(remote, public_key=key).ok
        with pytest.raises(InvalidInputError, match="64 hex characters"):
            svc.verify_ledger(remote, public_key=str(tmp_path / "key.hex"))
        assert svc.verify_ledger(ADMIN, public_key=str(tmp_path / "key.hex")).ok
        with pytest.raises(InvalidInputError, match="texts by name"):
            svc.verify_ledger(remote, witness_copies=["a line"])  # type: ignore[arg-type]


@pytest.fixture
def run(tmp_path: Path, model_cache: Path, monkeypatch: pytest.MonkeyPatch):  # type: ignore[no-untyped-def]
    monkeypatch.setenv("REGARD_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.setenv("REGARD_MODEL_CACHE_DIR", str(model_cache))
    runner = CliRunner()

    def invoke(*args: str):  # type: ignore[no-untyped-def]
        return runner.invoke(app, list(args), catch_exceptions=False)

    return invoke


def test_ledger_commands(run, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    assert run("policy", "apply", str(_policy(tmp_path))).exit_code == 0
    public = tmp_path / "public.hex"
    key = run("ledger", "public-key", "--out", str(public)).stdout.strip()
    assert public.read_text().strip() == key and len(key) == 64
    report = tmp_path / "report.json"
    made = run("report", "--out", str(report))
    assert made.exit_code == 0 and "ledger signed at entry 1" in made.stdout
    assert run("ledger", "verify", "--against", str(report)).exit_code == 0
    settings = Settings(data_dir=tmp_path / "data")
    key_file = settings.resolved_ledger_key_file()
    key_file.rename(tmp_path / "kept-away.pem")
    missing = run("ledger", "verify")
    assert missing.exit_code == 15 and "no trusted public key" in missing.stdout and not key_file.exists()
    assert run("ledger", "verify", "--public-key", str(public)).exit_code == 0
    assert run("ledger", "verify", "--against", str(report)).exit_code == 0  # the report's key stands in
    assert not key_file.exists()
    witness = Path(settings.resolved_ledger_witness()[0])
    with witness.open("a") as handle:
        handle.write("{truncated\n")
    broken = run("ledger", "verify", "--public-key", key)
    assert broken.exit_code == 15 and "line 3 is malformed" in broken.stdout and "Traceback" not in broken.output
    assert len([line for line in broken.stdout.splitlines() if "malformed" in line]) == 1
    with sqlite3.connect(tmp_path / "data" / "regard.db") as conn:
        conn.execute("delete from ledger_entries")
    assert run("ledger", "verify", "--against", str(report), "--witness", str(witness)).exit_code == 15
    (tmp_path / "plain.md").write_text("# a report without a checkpoint\n")
    assert run("ledger", "verify", "--against", str(tmp_path / "plain.md")).exit_code == 2


def _policy(tmp_path: Path) -> Path:
    path = tmp_path / "policy.yaml"
    path.write_text("version: cli-1\n")
    return path
