"""Batch enrollment on Ray and on worker processes: governed, reported, and resumable after a kill."""

from __future__ import annotations

import contextlib
import os
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import psutil
import pytest
from conftest import encode

from regard import CallContext, Regard
from regard.batch.jobs import JobOptions, enroll_job
from regard.batch.manifest import read_items

CTX = CallContext.local(purpose="club")


def _declare_club(svc: Regard) -> None:
    svc.declare_purpose(
        "club",
        CTX,
        category="access-control",
        legal_basis="consent",
        data_subjects="members who signed up",
        retention_days=30,
        max_collection_subjects=1000,
        consequential=False,
    )


def _faces(astronaut: np.ndarray, n: int) -> list[bytes]:
    """Distinct photos of one face: shifted crops, so every file has its own sha256."""
    return [encode(np.ascontiguousarray(astronaut[3 * i :, 2 * i :])) for i in range(n)]


@pytest.fixture
def club(tmp_path: Path, model_cache: Path):  # type: ignore[no-untyped-def]
    with Regard(data_dir=tmp_path / "data", model_cache_dir=model_cache, onnx_threads=1) as svc:
        _declare_club(svc)
        svc.create_collection("members", CTX)
        yield svc


def test_manifests(tmp_path: Path) -> None:
    (tmp_path / "a.jpg").write_bytes(b"x")
    (tmp_path / "m.csv").write_text("subject,path\nann,a.jpg\nbob,/abs/b.jpg\n")
    (tmp_path / "m.jsonl").write_text(
        '{"subject": "ann", "path": "a.jpg"}\n\n{"subject": "bob", "path": "/abs/b.jpg"}\n'
    )
    for name in ("m.csv", "m.jsonl"):
        items = read_items(tmp_path / name)
        assert [(i.subject, i.path) for i in items] == [("ann", str(tmp_path / "a.jpg")), ("bob", "/abs/b.jpg")]
        assert len({i.item_id for i in items}) == 2
    assert read_items(tmp_path / "m.csv")[0].item_id == read_items(tmp_path / "m.jsonl")[0].item_id


@pytest.mark.parametrize("engine", ["processes", "ray"])
def test_batch_enrollment_is_governed_and_reports_skips(
    club: Regard, tmp_path: Path, astronaut: np.ndarray, cat: np.ndarray, engine: str
) -> None:
    photos = tmp_path / "photos"
    faces = _faces(astronaut, 4)
    for subject, data in [("s0", faces[0]), ("s1", faces[1]), ("s2", faces[2]), ("kitty", encode(cat))]:
        (photos / subject).mkdir(parents=True)
        (photos / subject / "1.jpg").write_bytes(data)
    (photos / "s0" / "broken.jpg").write_bytes(faces[0][:2000])
    (photos / "s1" / "2.jpg").write_bytes(faces[3])  # two workers enroll the new subject s1 at once
    for subject in ("s0", "s1", "kitty"):  # s2 never consented
        club.record_consent(subject, ["club"], "signed form", CTX)
    report = enroll_job(club, "members", photos, CTX, JobOptions(engine, workers=2, batch_size=1))  # type: ignore[arg-type]
    assert (report.total, report.done, report.faces, report.processed) == (6, 3, 3, 6)
    assert report.failed == []
    why = {Path(path).parent.name + "/" + Path(path).name: reason for path, reason in report.skipped}
    assert why.keys() == {"s0/broken.jpg", "s2/1.jpg", "kitty/1.jpg"}
    assert why["s0/broken.jpg"].startswith("invalid image")
    assert why["s2/1.jpg"].startswith("denied by GOV-CONSENT-REQUIRED")
    assert why["kitty/1.jpg"] == "no face found"
    assert sorted(s.external_id for s in club.list_subjects("members", CTX).items) == ["s0", "s1"]
    # Every worker call went through the service: enrollments and the denial are in one verified chain.
    entries = [e.fields for e in club.ledger_entries(CTX) if e.fields["operation"] == "enroll"]
    assert sum(e["decision"] == "allow" for e in entries) == 4  # s0, s1 twice, kitty (no face: indexed 0)
    assert any(e["decision"] == "deny" and e["rule_id"] == "GOV-CONSENT-REQUIRED" for e in entries)
    assert club.verify_ledger(CTX).ok
    again = enroll_job(club, "members", photos, CTX, JobOptions(engine, workers=2))  # type: ignore[arg-type]
    assert again.processed == 0 and again.already_done == 6  # finished jobs are not redone


def _journal_done(journal_dir: Path) -> int:
    journals = list(journal_dir.glob("*.journal"))
    if not journals:
        return 0
    try:
        with sqlite3.connect(journals[0], timeout=1) as conn:
            return int(conn.execute("select count(*) from items where status = 'done'").fetchone()[0])
    except sqlite3.Error:
        return 0


def test_job_killed_midway_resumes_with_no_image_twice_and_none_lost(
    club: Regard, tmp_path: Path, astronaut: np.ndarray, model_cache: Path
) -> None:
    photos, count = tmp_path / "photos", 10
    for i, data in enumerate(_faces(astronaut, count)):
        (photos / f"m{i}").mkdir(parents=True)
        (photos / f"m{i}" / "1.jpg").write_bytes(data)
        club.record_consent(f"m{i}", ["club"], "signed form", CTX)
    data_dir = tmp_path / "data"
    env = {**os.environ, "REGARD_MODEL_CACHE_DIR": str(model_cache), "REGARD_ONNX_THREADS": "1"}
    command = [sys.executable, "-c", "from regard.cli.app import run; run()", "--data-dir", str(data_dir)]
    command += ["--purpose", "club", "batch", "enroll", "members", str(photos), "--engine", "ray"]
    command += ["--batch-size", "1", "--window", "4", "--workers", "2"]
    # Its own session: the kill takes the driver and the local Ray processes it started together.
    with subprocess.Popen(
        command, env=env, start_new_session=True, stdout=subprocess.PIPE, stderr=subprocess.STDOUT
    ) as job:
        deadline = time.monotonic() + 240
        while _journal_done(data_dir / "jobs") < 3 and job.poll() is None and time.monotonic() < deadline:
            time.sleep(0.2)
        assert job.poll() is None, job.stdout.read().decode() if job.stdout else ""
        # Ray's workers run in process groups of their own: take every descendant of the job down with it.
        family = psutil.Process(job.pid).children(recursive=True)
        os.killpg(job.pid, signal.SIGKILL)
        for child in family:
            with contextlib.suppress(psutil.NoSuchProcess):
                child.kill()
        job.wait(timeout=60)
    killed_at = _journal_done(data_dir / "jobs")
    assert 3 <= killed_at < count
    report = enroll_job(club, "members", photos, CTX, JobOptions("ray", workers=2, batch_size=1))
    assert report.done == count and report.skipped == []
    assert report.already_done + report.reconciled + report.processed == count
    assert report.processed <= count - killed_at
    faces = club.list_faces("members", CTX, limit=1000).items
    by_image = {}
    for face in faces:
        by_image[face.image_sha256] = by_image.get(face.image_sha256, 0) + 1
    assert len(by_image) == count and set(by_image.values()) == {1}  # none lost, none enrolled twice


def test_audit_embedding_stage_on_ray_matches_worker_processes(
    tmp_path: Path, model_cache: Path, astronaut: np.ndarray, cat: np.ndarray
) -> None:
    from regard.batch.jobs import embed_job
    from regard.evaluation.imagesets import embed_paths

    paths = []
    for i, data in enumerate([*_faces(astronaut, 3), encode(cat), b"not an image"]):
        paths.append(tmp_path / f"{i}.jpg")
        paths[-1].write_bytes(data)
    settings = {"data_dir": str(tmp_path / "data"), "model_cache_dir": str(model_cache)}
    on_ray = embed_job(paths, "sface", settings, JobOptions("ray", workers=2, batch_size=3))
    reference = embed_paths(paths, "sface", {"model_cache_dir": str(model_cache)}, processes=1)
    assert on_ray.found.tolist() == reference.found.tolist() == [True, True, True, False, False]
    assert np.allclose(on_ray.vectors, reference.vectors, atol=1e-3)
