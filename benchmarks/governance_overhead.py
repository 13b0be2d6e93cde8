"""What governance costs: policy decision plus ledger write, against a governed 1:N search at 100k templates.

A collection gets 100,000 synthetic templates (50,000 subjects); the probe is a
real photo (scikit-image's astronaut), so the search runs the whole pipeline:
decode, detect, embed, search, plus governance.  Governance is timed on its
own with the same state: ``check`` (role, purpose, policy, approvals, daily
volume) and ``guard.record`` (one hash-chained ledger entry, committed, with the
daily search volume counted again inside its transaction, then its line written
to the witness file).  Target: at most 5% of the search.

The witness's own cost is measured against peers in the same run, interleaved:
the same ledger write with no witness, with a witness file, and with a file
plus a syslog witness over UDP to a local socket; and the cost of signing one
checkpoint (what a held search, a review action or an erasure adds).
"""

from __future__ import annotations

import io
import socket
import tempfile
import time
import uuid
from pathlib import Path
from typing import Any

import numpy as np
from _common import CACHE, result_name, write_result
from PIL import Image
from sqlalchemy import insert

from regard import CallContext, Regard
from regard.governance.roles import Operation
from regard.store.tables import FaceRow, SubjectRow

BENCH_POLICY = "version: bench-2\nscale_limits:\n  - id: SCALE-BENCH\n    max_searches_per_day: 100000000\n"


def fill(svc: Regard, collection: str, count: int, ctx: CallContext) -> None:
    ref = svc._parts.store.collection(ctx.tenant, collection)
    rng = np.random.default_rng(0)
    vectors = rng.standard_normal((count, ref.dimension), dtype=np.float32)
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
                    "model_id": ref.model_id,
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


def record_once(svc: Regard, ctx: CallContext, decision: Any) -> float:
    t0 = time.perf_counter()
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
    return time.perf_counter() - t0


def witness_costs(folder: Path, ctx: CallContext, decision: Any) -> dict[str, float]:
    """Ledger write p50 per witness configuration, peers interleaved in rounds over one database."""
    sink = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    sink.bind(("127.0.0.1", 0))
    syslog = f"syslog://127.0.0.1:{sink.getsockname()[1]}"
    files = str(folder / "witness-peer.jsonl")
    common = {"data_dir": folder / "data", "ledger_key_file": folder / "key.pem"}
    peers = {
        "none": Regard(**common, ledger_witness=[]),
        "file": Regard(**common, ledger_witness=[files]),
        "file+syslog": Regard(**common, ledger_witness=[files, syslog]),
    }
    samples: dict[str, list[float]] = {name: [] for name in peers}
    for _ in range(8):
        for name, peer in peers.items():
            own = ctx.with_tenant(f"peer-{name.replace('+', '-')}")  # one chain per peer: each witnessed its own way
            samples[name] += [record_once(peer, own, decision) for _ in range(50)]
            sink.setblocking(False)
            while True:  # keep the socket's buffer from filling
                try:
                    sink.recv(65535)
                except BlockingIOError:
                    break
    for peer in peers.values():
        peer.close()
    sink.close()
    return {name: p50(values) for name, values in samples.items()}


def main() -> None:
    from skimage import data

    buffer = io.BytesIO()
    Image.fromarray(data.astronaut()).save(buffer, format="JPEG", quality=90)
    probe = buffer.getvalue()
    with (
        tempfile.TemporaryDirectory() as tmp,
        Regard(
            data_dir=Path(tmp) / "data",
            model_cache_dir=CACHE / "models",
            ledger_key_file=Path(tmp) / "key.pem",
            ledger_witness=[str(Path(tmp) / "witness.jsonl")],
        ) as svc,
    ):
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
            decide.append(time.perf_counter() - t0)
            record.append(record_once(svc, ctx, decision))
        by_witness = witness_costs(Path(tmp), ctx, decision)
        signing = []
        for _ in range(50):
            t0 = time.perf_counter()
            svc.checkpoint_ledger(ctx)
            signing.append(time.perf_counter() - t0)
        verify_start = time.perf_counter()
        verified = svc.verify_ledger(ctx)
        verify_s = time.perf_counter() - verify_start
    governance = [d + r for d, r in zip(decide, record, strict=True)]
    embedder = svc.settings.embedder
    result = {
        "embedder": embedder,
        "templates": 100_000,
        "search_p50_ms": p50(search),
        "policy_decision_p50_ms": p50(decide),
        "ledger_write_p50_ms": p50(record),
        "governance_p50_ms": p50(governance),
        "overhead_share": round(p50(governance) / p50(search), 4),
        "ledger_write_p50_ms_by_witness": by_witness,
        "checkpoint_sign_p50_ms": p50(signing),
        "ledger_entries_verified": verified.entries,
        "ledger_witnessed_verified": verified.witnessed,
        "ledger_verify_ok": verified.ok,
        "ledger_verify_s": round(verify_s, 3),
    }
    print(result)
    write_result(result_name("governance_overhead", embedder), result)


if __name__ == "__main__":
    main()
