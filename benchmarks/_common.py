"""Shared by the benchmark scripts: where data and results live, and cached embeddings."""

from __future__ import annotations

import json
import os
import platform
import sys
import time
from pathlib import Path
from typing import Any

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
SHARED_DATA = Path(os.environ.get("REGARD_SHARED_DATA", ROOT.parent / "shared" / "data"))
RESULTS = ROOT / "benchmarks" / "results"
CACHE = ROOT / "benchmarks" / ".cache"

sys.path.insert(0, str(ROOT))


def require(path: Path) -> Path:
    if not path.exists():
        sys.exit(f"skipped: {path} is absent (see ../shared/data/README.md)")
    return path


def machine() -> dict[str, Any]:
    import onnxruntime

    return {
        "cpu_count": os.cpu_count(),
        "processor": platform.processor() or platform.machine(),
        "python": platform.python_version(),
        "numpy": np.__version__,
        "onnxruntime": onnxruntime.__version__,
        "date": time.strftime("%Y-%m-%d"),
    }


def write_result(name: str, payload: dict[str, Any]) -> Path:
    RESULTS.mkdir(parents=True, exist_ok=True)
    path = RESULTS / f"{name}.json"
    path.write_text(json.dumps({"machine": machine(), **payload}, indent=2) + "\n")
    print(f"wrote {path.relative_to(ROOT)}")
    return path


def cached_embeddings(
    tag: str, paths: list[Path], model_id: str, pick: str = "center", **settings: Any
) -> tuple[np.ndarray, np.ndarray]:
    """Embed ``paths`` once per (tag, model) and keep the result under benchmarks/.cache."""
    from regard.evaluation.imagesets import embed_paths

    CACHE.mkdir(parents=True, exist_ok=True)
    target = CACHE / f"{tag}_{model_id}.npz"
    if target.exists():
        data = np.load(target)
        if data["vectors"].shape[0] == len(paths):
            return data["vectors"], data["found"]
    settings.setdefault("model_cache_dir", str(CACHE / "models"))
    start = time.time()
    result = embed_paths(paths, model_id, settings, pick=pick)  # type: ignore[arg-type]
    missing = int((~result.found).sum())
    print(f"embedded {len(paths)} images with {model_id} in {time.time() - start:.0f} s; no face in {missing}")
    np.savez(target, vectors=result.vectors, found=result.found)
    return result.vectors, result.found
