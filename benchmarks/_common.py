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


def result_name(name: str, embedder: str) -> str:
    """The default profile's results keep the plain name; another profile's carry its id (``name_fast``)."""
    from regard.settings import Settings

    return name if embedder == Settings.model_fields["embedder"].default else f"{name}_{embedder}"


def profile_members(model_id: str) -> tuple[list[tuple[str, float]], bool] | None:
    """A built-in profile's (member, weight) pairs and flip, or None for a plain model."""
    from regard.backends.specs import BUILTIN_MODELS

    spec = next((s for s in BUILTIN_MODELS if s.id == model_id), None)
    if spec is None or not spec.is_profile:
        return None
    return [(m.model_id, m.weight) for m in spec.members], spec.flip


def cached_embeddings(
    tag: str, paths: list[Path], model_id: str, pick: str = "center", flip: bool = False, **settings: Any
) -> tuple[np.ndarray, np.ndarray]:
    """Embed ``paths`` once per (tag, model, flip) and keep the result under benchmarks/.cache.

    A profile's templates are fused from its members' cached templates with
    ``regard.backends.fusion.fuse``, the function its embedder runs
    (tests/test_profiles.py checks they agree), so each member is embedded
    once for every profile and weighting that uses it.
    """
    from regard.backends.fusion import fuse
    from regard.evaluation.imagesets import embed_paths

    composition = profile_members(model_id)
    if composition is not None:
        members, profile_flip = composition
        parts = [cached_embeddings(tag, paths, m, pick, profile_flip or flip, **settings) for m, _ in members]
        found = np.logical_and.reduce([f for _, f in parts])
        return fuse([v for v, _ in parts], [w for _, w in members]), found
    CACHE.mkdir(parents=True, exist_ok=True)
    target = CACHE / f"{tag}_{model_id}{'_flip' if flip else ''}.npz"
    if target.exists():
        data = np.load(target)
        if data["vectors"].shape[0] == len(paths):
            return data["vectors"], data["found"]
    settings.setdefault("model_cache_dir", str(CACHE / "models"))
    start = time.time()
    result = embed_paths(paths, model_id, settings, pick=pick, flip=flip)  # type: ignore[arg-type]
    missing = int((~result.found).sum())
    print(f"embedded {len(paths)} images with {model_id} in {time.time() - start:.0f} s; no face in {missing}")
    np.savez(target, vectors=result.vectors, found=result.found)
    return result.vectors, result.found


def every_face(paths: list[str], model_id: str, flip: bool = False, tag: str = "celeba") -> list[np.ndarray]:
    """Per photo, the templates of all its faces (largest first; 0 rows when none), cached under .cache.

    A profile's are fused from its members' (as in ``cached_embeddings``).
    """
    from regard.backends.fusion import fuse
    from regard.evaluation.imagesets import embed_every_face

    composition = profile_members(model_id)
    if composition is not None:
        members, profile_flip = composition
        parts = [every_face(paths, m, profile_flip or flip, tag) for m, _ in members]
        weights = [w for _, w in members]
        return [fuse([p[i] for p in parts], weights) if parts[0][i].size else parts[0][i] for i in range(len(paths))]
    CACHE.mkdir(parents=True, exist_ok=True)
    target = CACHE / f"{tag}_every_face_{model_id}{'_flip' if flip else ''}.npz"
    if target.exists():
        data = np.load(target)
        return [data[f"i{i}"] for i in range(len(paths))]
    start = time.time()
    faces = embed_every_face([Path(p) for p in paths], model_id, {"model_cache_dir": str(CACHE / "models")}, flip=flip)
    print(f"embedded every face of {len(paths)} photos with {model_id} in {time.time() - start:.0f} s", flush=True)
    np.savez(target, **{f"i{i}": f for i, f in enumerate(faces)})
    return faces
