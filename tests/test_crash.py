"""A process killed in the middle of enrolling leaves a consistent store and index."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
from conftest import LOCAL
from sqlalchemy import text

from regard import Regard
from regard.store.database import open_engine

WRITER = """
import sys, numpy as np
from skimage import data
from regard import CallContext, Regard
svc = Regard(data_dir=sys.argv[1], model_cache_dir=sys.argv[2], database_url=sys.argv[4], onnx_threads=1)
ctx = CallContext.local()
try:
    svc.declare_purpose("unspecified", ctx, category="photo-organisation", legal_basis="legitimate-interests",
                        data_subjects="test", retention_days=30, max_collection_subjects=100000, consequential=False)
    svc.create_collection("crash", ctx)
except Exception:
    pass
astro = data.astronaut()
images = [astro, np.ascontiguousarray(astro[:, ::-1]), np.ascontiguousarray(astro[8:, 8:])]
round_ = sys.argv[3]
if len(sys.argv) > 5:  # die inside the third enrollment's transaction, rows flushed, not committed
    import os, signal
    from sqlalchemy import event
    from sqlalchemy.orm import Session
    from regard.store.tables import FaceRow
    seen = []
    def die(session, _ctx):
        if any(isinstance(o, FaceRow) for o in session.new):
            seen.append(1)
            if len(seen) == 3:
                os.kill(os.getpid(), signal.SIGKILL)
    event.listen(Session, "after_flush", die)
for i in range(10_000):
    svc.enroll("crash", f"r{round_}-s{i}", images, ctx)
    print(i, flush=True)
"""


def _kill_mid_enrollment(
    data_dir: Path, model_cache: Path, url: str, round_: int, after_commits: int, delay_s: float, in_flush: bool = False
) -> None:
    extra = ["flush"] if in_flush else []
    with subprocess.Popen(
        [sys.executable, "-c", WRITER, str(data_dir), str(model_cache), str(round_), url, *extra],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    ) as proc:
        assert proc.stdout is not None and proc.stderr is not None
        for _ in range(after_commits):
            line = proc.stdout.readline()
            assert line, proc.stderr.read()
        if in_flush:
            assert proc.wait(timeout=60) == -signal.SIGKILL
            return
        time.sleep(delay_s)  # land somewhere inside the next enrollment
        os.kill(proc.pid, signal.SIGKILL)
        proc.wait(timeout=30)


def test_killed_writer_leaves_no_orphans(
    tmp_path: Path, model_cache: Path, astronaut: np.ndarray, database_url: str
) -> None:
    data_dir = tmp_path / "data"
    for round_, delay in enumerate((0.0, 0.05, 0.12, 0.2)):
        _kill_mid_enrollment(data_dir, model_cache, database_url, round_, after_commits=2, delay_s=delay)
    # Killed with the third enrollment's rows written (to the WAL, or sent to the server) but not committed.
    _kill_mid_enrollment(data_dir, model_cache, database_url, 9, after_commits=2, delay_s=0, in_flush=True)
    engine = open_engine(database_url)
    with engine.connect() as conn:
        if engine.dialect.name == "sqlite":
            assert conn.scalar(text("pragma integrity_check")) == "ok"
            assert conn.execute(text("pragma foreign_key_check")).all() == []
        orphans = conn.scalar(
            text("select count(*) from faces f left join subjects s on s.id = f.subject_id where s.id is null")
        )
        assert orphans == 0
        per_subject = conn.execute(
            text(
                "select s.external_id, count(f.id) from subjects s left join faces f on f.subject_id = s.id"
                " group by s.id, s.external_id"
            )
        ).all()
        revision = conn.scalar(text("select revision from collections where name = 'crash'"))
    engine.dispose()
    # Each enrollment is 3 images in one transaction: all of it or none of it.
    assert per_subject and all(n == 3 for _, n in per_subject)
    assert revision == len(per_subject)
    with Regard(data_dir=data_dir, model_cache_dir=model_cache, database_url=database_url) as svc:
        info = svc.describe_collection("crash", LOCAL)
        assert info.face_count == 3 * len(per_subject)
        ref = svc._parts.store.collection("default", "crash")
        assert len(svc._parts.indexes.get(ref)) == info.face_count
        assert len(svc.search("crash", astronaut, LOCAL, top_k=1000).results[0].matches) == len(per_subject)
