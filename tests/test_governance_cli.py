"""Governance through the command line: keys, purposes, policy explain, review, ledger verify, report."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import numpy as np
import pytest
from conftest import encode
from typer.testing import CliRunner

from regard.cli.app import app


@pytest.fixture
def run(tmp_path: Path, model_cache: Path, monkeypatch: pytest.MonkeyPatch):  # type: ignore[no-untyped-def]
    monkeypatch.setenv("REGARD_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.setenv("REGARD_MODEL_CACHE_DIR", str(model_cache))
    monkeypatch.setenv("COLUMNS", "250")
    runner = CliRunner()

    def invoke(*args: str, key: str | None = None):  # type: ignore[no-untyped-def]
        prefix = ["--api-key", key] if key else []
        return runner.invoke(app, [*prefix, *args], catch_exceptions=False)

    return invoke


def test_governed_flow(run, tmp_path: Path, astronaut: np.ndarray) -> None:  # type: ignore[no-untyped-def]
    photo = tmp_path / "eileen.jpg"
    photo.write_bytes(encode(astronaut))
    assert run("tenant", "create", "acme").exit_code == 0
    admin = run("--tenant", "acme", "key", "create", "--role", "admin", "--role", "operator").stdout.strip()
    reviewer_a = run("--tenant", "acme", "key", "create", "--role", "reviewer").stdout.strip()
    reviewer_b = run("--tenant", "acme", "key", "create", "--role", "reviewer").stdout.strip()
    auditor = run("--tenant", "acme", "key", "create", "--role", "auditor").stdout.strip()
    assert admin.startswith("rgk_")
    refused = run(
        "purpose",
        "declare",
        "mood",
        "--category",
        "emotion-recognition",
        "--legal-basis",
        "consent",
        "--data-subjects",
        "shoppers",
        "--retention-days",
        "1",
        "--max-subjects",
        "5",
        key=admin,
    )
    assert refused.exit_code == 14 and "PROHIBIT-EMOTION-RECOGNITION" in refused.stderr
    declared = run(
        "purpose",
        "declare",
        "gate",
        "--category",
        "access-control",
        "--legal-basis",
        "consent",
        "--data-subjects",
        "staff who opted in",
        "--retention-days",
        "30",
        "--max-subjects",
        "50",
        "--consequential",
        key=admin,
    )
    assert declared.exit_code == 0, declared.output
    explain = run("--purpose", "gate", "policy", "explain", "search", key=admin)
    assert explain.exit_code == 0 and "review" in explain.stdout
    assert run("--purpose", "gate", "collection", "create", "staff", key=admin).exit_code == 0
    denied = run("--purpose", "gate", "enroll", "staff", str(photo), "--subject", "eileen", key=admin)
    assert denied.exit_code == 14 and "GOV-CONSENT-REQUIRED" in denied.stderr
    assert (
        run(
            "--purpose", "gate", "consent", "record", "eileen", "--purpose", "gate", "--evidence", "form-1", key=admin
        ).exit_code
        == 0
    )
    assert run("--purpose", "gate", "enroll", "staff", str(photo), "--subject", "eileen", key=admin).exit_code == 0
    held = run("--purpose", "gate", "search", "staff", str(photo), "--json", key=admin)
    assert held.exit_code == 10  # no released match yet
    case = run("review", "list", key=reviewer_a).stdout.strip()
    assert "fmr_at_threshold" in run("review", "show", case, key=reviewer_a).stdout
    assert run("review", "confirm", case, "eileen", "--justification", "same", key=reviewer_a).exit_code == 0
    assert "released" in run("review", "confirm", case, "eileen", "--justification", "agree", key=reviewer_b).stdout
    assert "eileen" in run("--purpose", "gate", "review", "result", case, key=admin).stdout
    assert run("detect", str(photo), key=auditor).exit_code == 13
    assert run("detect", str(photo), key="rgk_nope_nope").exit_code == 12
    receipt = run("--purpose", "gate", "consent", "withdraw", "eileen", key=admin)
    assert receipt.exit_code == 0 and "nothing of the subject remains" in receipt.stdout
    report = tmp_path / "report.html"
    assert run("report", "--out", str(report), key=auditor).exit_code == 0
    assert "Accountability report" in report.read_text()
    assert run("ledger", "verify", key=auditor).exit_code == 0
    with sqlite3.connect(tmp_path / "data" / "regard.db") as conn:
        conn.execute("update ledger_entries set body = replace(body, 'eileen', 'mallory') where tenant = 'acme'")
    broken = run("ledger", "verify", key=auditor)
    assert broken.exit_code == 15 and "modified" in broken.stdout
    export = tmp_path / "ledger.jsonl"
    assert run("ledger", "export", str(export), key=auditor).exit_code == 0 and export.read_text().count("\n") > 10


def test_purge_command(run) -> None:  # type: ignore[no-untyped-def]
    result = run("purge", "--all-tenants")
    assert result.exit_code == 0 and "purged 0" in result.stdout
