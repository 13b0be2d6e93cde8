"""``regard audit``: a synthetic score file through `scores` and `gate`; a tiny manifest through `run`; the
attack of issue 14 and an outside auditor's signed report through `models activate`."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
import typer
from conftest import encode
from typer.testing import CliRunner

from regard.cli.app import app


@pytest.fixture
def cli(tmp_path: Path, model_cache: Path, monkeypatch: pytest.MonkeyPatch):  # type: ignore[no-untyped-def]
    monkeypatch.setenv("REGARD_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.setenv("REGARD_MODEL_CACHE_DIR", str(model_cache))
    monkeypatch.setenv("REGARD_ONNX_THREADS", "1")
    monkeypatch.setenv("REGARD_EMBEDDER", "sface")  # the published cards' model and operating point
    monkeypatch.setenv("REGARD_DEFAULT_FMR", "1e-4")
    monkeypatch.setenv("COLUMNS", "250")
    runner = CliRunner()

    def run(*args: str) -> typer.testing.Result:  # type: ignore[name-defined]
        return runner.invoke(app, list(args), catch_exceptions=False)

    return run


@pytest.fixture
def score_file(tmp_path: Path) -> Path:
    # Two groups of 60 people with 3 images each: all genuine pairs, all within-group impostor pairs.
    # Group "q" has impostor scores 0.1 higher than "p": at one threshold its FMR is clearly higher.
    rng = np.random.default_rng(0)
    lines = ["score,genuine,group_a,group_b,identity_a,identity_b"]
    for group, shift in (("p", 0.0), ("q", 0.1)):
        images = [(f"{group}{i}", k) for i in range(60) for k in range(3)]
        for x in range(len(images)):
            for y in range(x + 1, len(images)):
                same = images[x][0] == images[y][0]
                score = rng.normal(0.7, 0.08) if same else rng.normal(0.1 + shift, 0.1)
                lines.append(f"{score:.5f},{int(same)},{group},{group},{images[x][0]},{images[y][0]}")
    path = tmp_path / "scores.csv"
    path.write_text("\n".join(lines) + "\n")
    return path


LABELS = ("--label-source", "assigned-by-people", "--labelled-by", "the test's generator")


def test_audit_scores_then_gate(cli, score_file: Path, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    out = tmp_path / "report"
    args = ["audit", "scores", str(score_file), "--out", str(out), "--fmr", "1e-3", "--bootstrap", "100"]
    missing = cli(*args)
    assert missing.exit_code == 2 and "--label-source" in missing.output  # where the labels came from is required
    result = cli(*args, *LABELS)
    assert result.exit_code == 0, result.output
    assert "unverified" in result.stdout
    assert {p.name for p in out.iterdir()} == {"report.json", "report.md", "report.html"}
    report = json.loads((out / "report.json").read_text())
    assert [g["group"] for g in report["groups"]] == ["p", "q"]
    assert report["groups"][1]["fmr"] > report["groups"][0]["fmr"]
    assert "FMR max/min" in result.stdout

    failed = cli("audit", "gate", str(out / "report.json"))
    assert failed.exit_code == 11 and "FAIL" in failed.stdout and "fmr_ratio" in failed.stdout

    policy = tmp_path / "policy.toml"
    policy.write_text("max_fmr_ratio = 1000.0\nmax_fnmr_ratio = 1000.0\nmax_group_fmr = 0.5\n")
    passed = cli("audit", "gate", str(out / "report.json"), "--policy", str(policy), "--json")
    assert passed.exit_code == 0, passed.output
    assert json.loads(passed.stdout)["passed"] is True


def test_audit_errors_exit_with_the_error_code(cli, tmp_path: Path, score_file: Path) -> None:  # type: ignore[no-untyped-def]
    missing = cli("audit", "gate", str(tmp_path / "nope.json"))
    assert missing.exit_code == 2 and "error (invalid_input)" in missing.stderr
    bad = tmp_path / "bad.csv"
    bad.write_text("score,genuine\n0.1,1\n")
    assert cli("audit", "scores", str(bad), "--out", str(tmp_path / "o"), *LABELS).exit_code == 2
    out = tmp_path / "r"
    assert cli("audit", "scores", str(score_file), "--out", str(out), "--bootstrap", "20", *LABELS).exit_code == 0
    policy = tmp_path / "p.toml"
    policy.write_text("max_fmr_ratioo = 2\n")
    wrong = cli("audit", "gate", str(out / "report.json"), "--policy", str(policy))
    assert wrong.exit_code == 2 and "unknown setting" in wrong.stderr


def test_audit_run_on_a_small_manifest(cli, tmp_path: Path, astronaut: np.ndarray, cat: np.ndarray) -> None:  # type: ignore[no-untyped-def]
    images = tmp_path / "images"
    images.mkdir()
    (images / "e1.jpg").write_bytes(encode(astronaut))
    (images / "e2.png").write_bytes(encode(np.ascontiguousarray(astronaut[:, ::-1]), "PNG"))
    (images / "e3.jpg").write_bytes(encode(astronaut[20:480, 30:470]))
    (images / "cat.jpg").write_bytes(encode(cat))
    manifest = tmp_path / "manifest.csv"
    manifest.write_text(
        "path,identity,grp\ne1.jpg,eileen,a\ne2.png,eileen,a\ne3.jpg,eileen2,a\ncat.jpg,kitty,b\nmissing.jpg,ghost,\n"
    )
    out = tmp_path / "report"
    args = ["--images-root", str(images), "--group-column", "grp", "--out", str(out), "--processes", "1", *LABELS]
    result = cli("audit", "run", str(manifest), *args, "--bootstrap", "20")
    assert result.exit_code == 0, result.output
    report = json.loads((out / "report.json").read_text())
    assert report["system"] == "sface" and report["threshold"] > 0 and report["signature"]["algorithm"] == "ed25519"
    assert (
        report["provenance"]["face_choice"] == "center"
        and report["dataset"]["labels"]["source"] == "assigned-by-people"
    )
    assert cli("audit", "verify", str(out / "report.json")).exit_code == 0
    listing = json.loads(cli("audit", "list", "--json").stdout)
    assert [r["verification"] for r in listing] == ["verified"] and listing[0]["route"] == "images"
    shown = cli("audit", "show", listing[0]["id"])
    assert shown.exit_code == 0 and "the face nearest the image centre" in shown.stdout
    assert report["dataset"]["excluded_unlabelled"] == 1 and report["dataset"]["images_without_face"] == 1
    group_a = report["groups"][0]
    assert group_a["genuine_pairs"] == 1 and group_a["impostor_pairs"] == 2 and group_a["false_non_matches"] == 0
    assert group_a["flagged"] and report["groups"][1]["flagged"]
    assert sorted(p.name for p in images.iterdir()) == ["cat.jpg", "e1.jpg", "e2.png", "e3.jpg"]  # nothing added
    escape = tmp_path / "escape.csv"
    escape.write_text("path,identity,grp\n../manifest.csv,x,a\n")
    assert cli("audit", "run", str(escape), *args).exit_code == 2
    largest = cli("audit", "run", str(manifest), *args, "--bootstrap", "20", "--face", "largest")
    assert (
        largest.exit_code == 0
        and json.loads((out / "report.json").read_text())["provenance"]["face_choice"] == "largest"
    )
    assert cli("audit", "run", str(manifest), *args, "--face", "smallest").exit_code == 2


def fabricated_score_file(path: Path) -> Path:
    """Hand-made scores that pass the strict default gate: perfect separation, every adequacy rule met."""
    rng = np.random.default_rng(1)
    lines = ["score,genuine,group_a,group_b,identity_a,identity_b"]
    for group in ("female", "male"):
        people = [f"{group}{i}" for i in range(50)]
        lines += [f"0.8,1,{group},{group},{p},{p}" for p in people for _ in range(3)]
        pairs = rng.integers(0, 50, (31_000, 2))
        pairs = pairs[pairs[:, 0] != pairs[:, 1]]
        lines += [f"0.05,0,{group},{group},{people[x]},{people[y]}" for x, y in pairs]
    path.write_text("\n".join(lines) + "\n")
    return path


def test_a_hand_made_score_file_does_not_activate_sface(cli, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    scores = fabricated_score_file(tmp_path / "made-up.csv")
    out = tmp_path / "audit"
    made = cli("audit", "scores", str(scores), "--system", "sface", "--threshold", "0.4244", "--out", str(out), *LABELS)
    assert made.exit_code == 0, made.output
    assert cli("audit", "gate", str(out / "report.json")).exit_code == 0  # its numbers pass the strict gate...
    refused = cli("models", "activate", "sface", "--report", str(out / "report.json"))
    assert refused.exit_code == 14 and "unverified" in refused.stderr  # ...but it proves nothing
    report_id = json.loads(cli("audit", "list", "--json").stdout)[0]["id"]
    assert cli("models", "activate", "sface", "--report-id", report_id).exit_code == 14
    assert cli("audit", "verify", str(out / "report.json")).exit_code == 14
    assert "[]" in cli("models", "deployments", "--json").stdout


def test_an_outside_auditors_signed_report(cli, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

    key = tmp_path / "auditor.pem"
    key.write_bytes(
        Ed25519PrivateKey.generate().private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
        )
    )
    out = tmp_path / "audit"
    scores = fabricated_score_file(tmp_path / "theirs.csv")
    assert (
        cli(
            "audit", "scores", str(scores), "--system", "sface", "--threshold", "0.4244", "--out", str(out), *LABELS
        ).exit_code
        == 0
    )
    signed = tmp_path / "signed.json"
    result = cli(
        "audit",
        "sign",
        str(out / "report.json"),
        "--key",
        str(key),
        "--out",
        str(signed),
        "--signed-by",
        "Independent Audits Ltd",
    )
    assert result.exit_code == 0, result.output
    public_key = result.stdout.split("public key ")[1].split()[0]
    assert cli("models", "activate", "sface", "--report", str(signed)).exit_code == 14
    added = cli("audit", "auditor", "add", "independent", public_key, "--description", "met in person")
    assert added.exit_code == 0, added.output
    assert "independent" in cli("audit", "auditor", "list").stdout
    activated = cli("models", "activate", "sface", "--report", str(signed))
    assert activated.exit_code == 0, activated.output
    deployments = cli("models", "deployments")
    assert "1e-04" in deployments.stdout and "0.4244" in deployments.stdout and "0.000 " not in deployments.stdout
    assert cli("audit", "auditor", "revoke", "independent").exit_code == 0
    assert cli("models", "activate", "sface", "--report", str(signed)).exit_code == 14
    assert len(cli("audit", "public-key").stdout.strip()) == 64
