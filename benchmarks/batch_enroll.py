"""Bulk enrollment images/s: Ray Data (actor pool) against plain worker processes, same images, same run.

CelebA in the wild (../shared/data/celeba_wild): the first ``--identities``
people, 10 photos each, enrolled through ``regard batch enroll``'s job
(governed ``enroll`` per image) into a fresh SQLite store, ``--workers``
workers of one onnxruntime thread each.  Runs alternate between the engines
(``--rounds`` each).  Two figures: end to end (engine and worker start-up
included) and after start-up (from the first outcome to the last).
"""

from __future__ import annotations

import argparse
import shutil
import tempfile
from pathlib import Path

import numpy as np
from _common import CACHE, SHARED_DATA, require, write_result

from regard import CallContext, Regard
from regard.batch.jobs import JobOptions, enroll_job


def run_once(tree: Path, engine: str, workers: int) -> dict[str, float]:
    data_dir = Path(tempfile.mkdtemp(prefix="batchbench"))
    ctx = CallContext.local(purpose="bench")
    try:
        with Regard(data_dir=data_dir, model_cache_dir=CACHE / "models") as svc:
            svc.declare_purpose(
                "bench",
                ctx,
                category="photo-organisation",
                legal_basis="legitimate-interests",
                data_subjects="benchmark",
                retention_days=1,
                max_collection_subjects=100_000,
                consequential=False,
            )
            svc.create_collection("bench", ctx)
            report = enroll_job(svc, "bench", tree, ctx, JobOptions(engine, workers=workers, batch_size=8))  # type: ignore[arg-type]
        after = (report.processed - 8) / max(report.seconds - report.startup_s, 1e-9)  # less the first batch
        row = {
            "images": report.processed,
            "enrolled": report.done,
            "seconds": round(report.seconds, 2),
            "startup_s": round(report.startup_s, 2),
            "images_per_s": round(report.images_per_s, 2),
            "after_startup_images_per_s": round(after, 2),
        }
        print(engine, row, flush=True)
        return row
    finally:
        shutil.rmtree(data_dir, ignore_errors=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--identities", type=int, default=30)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--rounds", type=int, default=2)
    args = parser.parse_args()
    source = require(SHARED_DATA / "celeba_wild" / "images")
    tree = Path(tempfile.mkdtemp(prefix="batchtree"))
    for folder in sorted(p for p in source.iterdir() if p.is_dir())[: args.identities]:
        (tree / folder.name).symlink_to(folder)
    runs: dict[str, list[dict[str, float]]] = {"processes": [], "ray": []}
    for _ in range(args.rounds):
        for engine in ("processes", "ray"):
            runs[engine].append(run_once(tree, engine, args.workers))
    summary = {
        engine: {
            key: {
                "median": float(np.median([r[key] for r in rows])),
                "min": min(r[key] for r in rows),
                "max": max(r[key] for r in rows),
            }
            for key in ("images_per_s", "after_startup_images_per_s", "startup_s")
        }
        for engine, rows in runs.items()
    }
    print(summary)
    write_result(
        "batch_enroll", {"workers": args.workers, "identities": args.identities, "runs": runs, "summary": summary}
    )


if __name__ == "__main__":
    main()
