"""Scale limits against concurrent writers: separate processes racing past a limit at the same moment.

Every worker reads the state before any of them writes (they start together, and each loads its models
between the policy check and the write), as six operators' clients would on a busy day.
"""

from __future__ import annotations

import json
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
from conftest import LOCAL, encode, shared_purpose_args

from regard import CallContext, Regard

WORKERS = 6

WORKER = r"""
import json, sys, time
from pathlib import Path
from regard import CallContext, Regard
from regard.errors import PolicyDeniedError

data_dir, cache, folder, index = sys.argv[1], sys.argv[2], Path(sys.argv[3]), sys.argv[4]
image = (folder / "probe.jpg").read_bytes()
outcomes = {}
with Regard(data_dir=data_dir, model_cache_dir=cache, onnx_threads=1) as svc:
    for phase, purpose in (("enroll-purpose", "few"), ("enroll-policy", "many"), ("search", "many")):
        ctx = CallContext.local("default", purpose)
        (folder / f"ready-{phase}-{index}").touch()
        while not (folder / f"go-{phase}").exists():
            time.sleep(0.002)
        try:
            if phase == "search":
                svc.search_by_face("many", (folder / "face-id").read_text(), ctx)
            else:
                svc.enroll(purpose, f"person-{index}", [image], ctx)
            outcomes[phase] = "ok"
        except PolicyDeniedError as exc:
            outcomes[phase] = exc.rule_id
print(json.dumps(outcomes))
"""


def _release(folder: Path, phase: str, timeout_s: float = 120) -> None:
    deadline = time.monotonic() + timeout_s
    while len(list(folder.glob(f"ready-{phase}-*"))) < WORKERS:
        assert time.monotonic() < deadline, f"workers did not reach {phase}"
        time.sleep(0.01)
    (folder / f"go-{phase}").touch()


def test_scale_limits_hold_under_parallel_writers(tmp_path: Path, model_cache: Path, astronaut: np.ndarray) -> None:
    data_dir, folder = tmp_path / "data", tmp_path / "race"
    folder.mkdir()
    (folder / "probe.jpg").write_bytes(encode(astronaut))
    with Regard(data_dir=data_dir, model_cache_dir=model_cache) as svc:
        args = shared_purpose_args()
        svc.declare_purpose("few", CallContext.local(purpose="few"), **{**args, "max_collection_subjects": 3})  # type: ignore[arg-type]
        svc.declare_purpose("many", CallContext.local(purpose="many"), **args)  # type: ignore[arg-type]
        svc.create_collection("few", CallContext.local(purpose="few"))
        svc.create_collection("many", CallContext.local(purpose="many"))
        seed = svc.enroll("many", "seed", [astronaut], CallContext.local(purpose="many")).indexed[0].face_id
        (folder / "face-id").write_text(seed)
    workers = [
        subprocess.Popen(
            [sys.executable, "-c", WORKER, str(data_dir), str(model_cache), str(folder), str(i)],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for i in range(WORKERS)
    ]
    try:
        _release(folder, "enroll-purpose")
        # The collection "many" holds one subject; the policy lets it grow to three, and allows three searches.
        _release_after_policy(folder, data_dir, model_cache)
        _release(folder, "search")
        outputs = [w.communicate(timeout=300) for w in workers]
    finally:
        for w in workers:
            w.kill()
    assert all(w.returncode == 0 for w in workers), [err[-2000:] for _, err in outputs]
    outcomes = [json.loads(out) for out, _ in outputs]
    by_phase = {phase: sorted(o[phase] for o in outcomes) for phase in outcomes[0]}
    assert by_phase["enroll-purpose"] == ["GOV-PURPOSE-MAX-SUBJECTS"] * 3 + ["ok"] * 3
    assert by_phase["enroll-policy"] == ["SCALE-RACE"] * 4 + ["ok"] * 2
    assert by_phase["search"] == ["SCALE-RACE"] * 3 + ["ok"] * 3
    with Regard(data_dir=data_dir, model_cache_dir=model_cache) as svc:
        assert svc.describe_collection("few", CallContext.local(purpose="few")).subject_count == 3
        assert svc.describe_collection("many", CallContext.local(purpose="many")).subject_count == 3
        entries = svc.ledger_entries(LOCAL)
        assert sum(e.fields["operation"] == "enroll" and e.fields["decision"] == "deny" for e in entries) == 7
        assert svc.verify_ledger(LOCAL).ok


def _release_after_policy(folder: Path, data_dir: Path, model_cache: Path) -> None:
    deadline = time.monotonic() + 120
    while len(list(folder.glob("ready-enroll-policy-*"))) < WORKERS:
        assert time.monotonic() < deadline, "workers did not finish the first phase"
        time.sleep(0.01)
    with Regard(data_dir=data_dir, model_cache_dir=model_cache) as svc:
        policy = (
            "version: race-1\nscale_limits:\n  - id: SCALE-RACE\n    max_subjects: 3\n    max_searches_per_day: 3\n"
        )
        svc.apply_policy(policy, LOCAL)
    (folder / "go-enroll-policy").touch()


def test_the_limit_counts_subjects_not_templates(tmp_path: Path, model_cache: Path, astronaut: np.ndarray) -> None:
    """Adding faces to an enrolled subject never counts against the subject limit, inside the lock or out."""
    subjects = 3
    with Regard(data_dir=tmp_path / "data", model_cache_dir=model_cache, onnx_threads=1) as svc:
        ctx = CallContext.local(purpose="few")
        svc.declare_purpose("few", ctx, **{**shared_purpose_args(), "max_collection_subjects": subjects})  # type: ignore[arg-type]
        svc.create_collection("few", ctx)
        for i in range(subjects):
            svc.enroll("few", f"p{i}", [astronaut], ctx)
        assert svc.enroll("few", "p0", [np.ascontiguousarray(astronaut[:, ::-1])], ctx).indexed
        assert svc.describe_collection("few", ctx).face_count == subjects + 1
