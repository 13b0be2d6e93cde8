"""Batched detection and embedding (the GPU path) give what one image at a time gives, on the CPU provider."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from regard.backends.registry import ModelRegistry
from regard.backends.runtime import RuntimeOptions, available_providers
from regard.engine import FaceEngine
from regard.settings import Settings


def test_batched_detection_matches_single_images(
    model_cache: Path, astronaut: np.ndarray, grid4: np.ndarray, cat: np.ndarray
) -> None:
    settings = Settings(model_cache_dir=model_cache, onnx_threads=1)
    engine = FaceEngine(settings, ModelRegistry(model_cache, RuntimeOptions(threads=1)))
    images = [engine.decode(x) for x in (astronaut, grid4, cat, np.ascontiguousarray(astronaut[:300, :450]))]
    batched = engine.find_faces_batch(images)
    for image, together in zip(images, batched, strict=True):
        alone = engine.find_faces(image)
        assert len(together) == len(alone)
        for a, b in zip(alone, together, strict=True):
            assert np.allclose(a.box, b.box, atol=0.5) and a.confidence == pytest.approx(b.confidence, abs=1e-3)
    assert [len(faces) for faces in batched[:3]] == [1, 4, 0]
    # Embedding several faces in one run equals one at a time.
    aligned = engine.align(images[1], batched[1])
    registry = ModelRegistry(model_cache, RuntimeOptions(threads=1, batch_size=8))
    together = registry.embedder("sface").embed(images[1], aligned)
    alone = np.stack([engine.embed(images[1], [a], "sface")[0].embedding for a in aligned])
    assert np.allclose(together, alone, atol=1e-4)


def test_provider_choice_falls_back_to_cpu() -> None:
    """CUDA is taken when onnxruntime-gpu sees a GPU; here (no GPU) the CPU provider, with batches of 1."""
    providers = available_providers()
    assert providers[-1] == "CPUExecutionProvider"
    assert RuntimeOptions().effective_batch_size(providers) == (64 if providers[0] == "CUDAExecutionProvider" else 1)
