"""Batched SFace embedding on a GPU with onnxruntime-gpu: faces per second.

Runs unchanged without a GPU (it then measures the CPU provider and says so).
On the device machine:  pip install onnxruntime-gpu  then  python benchmarks/gpu.py
Target: 5,000 faces/s on one H100.  Also times batched detection (YuNet, images
per run) against one image per run, and the fairness audit's pair scoring
(10 million pairs) on the GPU against numpy.
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

import numpy as np
from _common import write_result

from regard.backends.registry import ModelRegistry
from regard.backends.runtime import RuntimeOptions, available_providers


def crops(count: int) -> np.ndarray:
    """Real aligned crops (scikit-image's astronaut, jittered) as an N x 3 x 112 x 112 batch."""
    from skimage import data

    from regard.engine import FaceEngine
    from regard.settings import Settings

    settings = Settings(model_cache_dir=Path(__file__).parent / ".cache" / "models")
    registry = ModelRegistry(settings.resolved_model_cache_dir(), RuntimeOptions(providers=("CPUExecutionProvider",)))
    engine = FaceEngine(settings, registry)
    image = engine.decode(data.astronaut())
    face = engine.align(image, engine.find_faces(image)[:1])
    embedder = registry.embedder("sface")
    base = embedder.crops(face)  # type: ignore[attr-defined]
    rng = np.random.default_rng(0)
    return np.clip(base + rng.normal(0, 4, (count, *base.shape[1:])).astype(np.float32), 0, 255)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--faces", type=int, default=8192)
    parser.add_argument("--batches", default="64,256,1024")
    args = parser.parse_args()
    providers = available_providers()
    on_gpu = providers[0] != "CPUExecutionProvider"
    batch = crops(args.faces if on_gpu else 256)
    rows = []
    for size in (int(b) for b in args.batches.split(",")):
        cache = Path(__file__).parent / ".cache" / "models"
        registry = ModelRegistry(cache, RuntimeOptions(providers=tuple(providers), batch_size=size))
        embedder = registry.embedder("sface")
        embedder.embed_crops(batch[:size])  # type: ignore[attr-defined]  # warm-up, kernel selection
        start = time.perf_counter()
        out = embedder.embed_crops(batch)  # type: ignore[attr-defined]
        seconds = time.perf_counter() - start
        assert np.allclose(np.linalg.norm(out, axis=1), 1, atol=1e-4)
        rows.append(
            {
                "batch_size": size,
                "faces": len(batch),
                "seconds": round(seconds, 3),
                "faces_per_s": round(len(batch) / seconds, 1),
            }
        )
        print(rows[-1])
    write_result(
        "gpu" if on_gpu else "gpu_cpu_fallback",
        {
            "providers": providers,
            "on_gpu": on_gpu,
            "results": rows,
            "detection": detection(providers, on_gpu),
            "audit_scoring": audit_scoring(on_gpu),
        },
    )


def detection(providers: list[str], on_gpu: bool) -> list[dict[str, float]]:
    """Images/s of YuNet at 640 px: one image per run, then batches of 8 and 32 (``FaceEngine.find_faces_batch``)."""
    from skimage import data

    from regard.engine import FaceEngine
    from regard.settings import Settings

    settings = Settings(model_cache_dir=Path(__file__).parent / ".cache" / "models")
    engine = FaceEngine(
        settings, ModelRegistry(settings.resolved_model_cache_dir(), RuntimeOptions(providers=tuple(providers)))
    )
    photo = np.ascontiguousarray(np.tile(data.astronaut(), (2, 3, 1)))  # 1024 x 1536, a camera-sized photo
    images = [engine.decode(photo) for _ in range(256 if on_gpu else 32)]
    engine.find_faces_batch(images[:8])  # warm-up
    out = []
    for size in (1, 8, 32):
        start = time.perf_counter()
        for offset in range(0, len(images), size):
            chunk = images[offset : offset + size]
            found = engine.find_faces_batch(chunk) if size > 1 else [engine.find_faces(chunk[0])]
            assert all(found)
        seconds = time.perf_counter() - start
        out.append({"batch_size": size, "images": len(images), "images_per_s": round(len(images) / seconds, 1)})
        print(out[-1])
    return out


def audit_scoring(on_gpu: bool) -> dict[str, float]:
    """Seconds to score 10 million pairs of 128-d templates: numpy, and the GPU path when there is a GPU."""
    from regard.fairness.scores import score_pairs

    rng = np.random.default_rng(0)
    vectors = rng.standard_normal((20_000, 128)).astype(np.float32)
    a, b = rng.integers(0, 20_000, 10_000_000), rng.integers(0, 20_000, 10_000_000)
    out = {}
    for device in ("cpu", "gpu") if on_gpu else ("cpu",):
        score_pairs(vectors, a[:1000], b[:1000], device=device)
        start = time.perf_counter()
        score_pairs(vectors, a, b, device=device)
        out[f"{device}_10m_pairs_s"] = round(time.perf_counter() - start, 3)
    print(out)
    return out


if __name__ == "__main__":
    main()
