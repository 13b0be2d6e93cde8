"""What governance costs: policy decision plus ledger write, against a governed 1:N search at 100k templates.

A collection gets 100,000 synthetic templates (50,000 subjects); the probe is a
real photo (scikit-image's astronaut), so the search runs the whole pipeline:
decode, detect, embed, search, plus governance.  Governance is timed on its
own with the same state: ``check`` (role, purpose, policy, approvals, daily
volume) and ``guard.record`` (one hash-chained ledger entry, committed, with the
daily search volume counted again inside its transaction).
Target: at most 5% of the search.
"""

from __future__ import annotations

import io
import tempfile
import time
import uuid
from pathlib import Path

import numpy as np
from _common import CACHE, write_result
from PIL import Image
from sqlalchemy import insert

from regard import CallContext, Regard
from regard.governance.roles import Operation
from regard.store.tables import FaceRow, SubjectRow

BENCH_POLICY = "version: bench-2\nscale_limits:\n  - id: SCALE-BENCH\n    max_searches_per_day: 100000000\n"


def fill(svc: Regard, collection: str, count: int, ctx: CallContext) -> None:
    ref = svc._parts.store.collection(ctx.tenant, collection)
    rng = np.random.default_rng(0)
    vectors = rng.standard_normal((count, 128), dtype=np.float32)
    vectors /= np.linalg.norm(vectors, axis=1, keepdims=True)
    with svc._parts.store.engine.begin() as conn:
        conn.execute(
            insert(SubjectRow),
            [
                {"id": i + 1, "collection_id": ref.id, "external_id": f"s{i}", "display_name": f"s{i}"}
                for i in range(count // 2)
            ],
        )
        conn.execute(
            insert(FaceRow),
            [
                {
                    "face_id": uuid.uuid4().hex,
                    "collection_id": ref.id,
                    "subject_id": i // 2 + 1,
                    "model_id": "sface",
                    "embedding": vectors[i].tobytes(),
                    "x1": 0.0,
                    "y1": 0.0,
                    "x2": 1.0,
                    "y2": 1.0,
                    "confidence": 1.0,
                    "quality": {},
                    "image_sha256": "0" * 64,
                }
                for i in range(count)
            ],
        )
    svc._parts.indexes.forget(ref.id)


def p50(samples: list[float]) -> float:
    return round(float(np.percentile(np.asarray(samples) * 1000, 50)), 3)


def main() -> None:
    from skimage import data

    buffer = io.BytesIO()
    Image.fromarray(data.astronaut()).save(buffer, format="JPEG", quality=90)
    probe = buffer.getvalue()
    with tempfile.TemporaryDirectory() as tmp, Regard(data_dir=Path(tmp), model_cache_dir=CACHE / "models") as svc:
        ctx = CallContext.local(purpose="library")
        svc.declare_purpose(
            "library",
            ctx,
            category="photo-organisation",
            legal_basis="legitimate-interests",
            data_subjects="synthetic",
            retention_days=30,
            max_collection_subjects=1_000_000,
            consequential=False,
        )
        # A daily search limit it never reaches: its count inside the ledger transaction is part of the cost.
        svc.apply_policy(BENCH_POLICY, ctx)
        svc.create_collection("big", ctx)
        fill(svc, "big", 100_000, ctx)
        for _ in range(3):
            svc.search("big", probe, ctx)
        ref = svc._parts.store.collection("default", "big")
        search, decide, record = [], [], []
        for _ in range(100):
            t0 = time.perf_counter()
            svc.search("big", probe, ctx)
            search.append(time.perf_counter() - t0)
        for _ in range(300):
            t0 = time.perf_counter()
            decision = svc._parts.guard.check(ctx, Operation.SEARCH, ref)
            t1 = time.perf_counter()
            svc._parts.guard.record(
                ctx,
                "search",
                decision,
                collection="big",
                inputs=["0" * 64],
                model="sface",
                threshold=0.42,
                result={"probe_faces": 1, "candidates": []},
            )
            t2 = time.perf_counter()
            decide.append(t1 - t0)
            record.append(t2 - t1)
        verify_start = time.perf_counter()
        verified = svc.verify_ledger(ctx)
        verify_s = time.perf_counter() - verify_start
    governance = [d + r for d, r in zip(decide, record, strict=True)]
    result = {
        "templates": 100_000,
        "search_p50_ms": p50(search),
        "policy_decision_p50_ms": p50(decide),
        "ledger_write_p50_ms": p50(record),
        "governance_p50_ms": p50(governance),
        "overhead_share": round(p50(governance) / p50(search), 4),
        "ledger_entries_verified": verified.entries,
        "ledger_verify_s": round(verify_s, 3),
    }
    print(result)
    write_result("governance_overhead", result)


if __name__ == "__main__":
    main()
