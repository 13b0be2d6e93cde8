"""Synthetic labelled embeddings with a built-in demographic differential, for tests, benchmarks and demos.

Each group has a mean direction; an identity's centre leans towards it by ``similarity`` (so two people of that
group have an expected cosine of about ``similarity``), and each image is its identity's centre plus noise.  A
group with a higher ``similarity`` has higher impostor scores, hence a higher FMR at a shared threshold: the
pattern NIST FRVT Part 3 reports for real systems.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True)
class SyntheticSet:
    vectors: np.ndarray  # n x dim, unit rows, float32
    identities: list[str]
    groups: list[str]


def synthetic_set(
    identities_per_group: Mapping[str, int],
    similarity: Mapping[str, float],
    images_per_identity: tuple[int, int] = (1, 6),
    dim: int = 128,
    noise: float = 0.8,
    seed: int = 0,
) -> SyntheticSet:
    """Identities per group, each with a uniform ``[low, high]`` number of images; deterministic for ``seed``."""
    rng = np.random.default_rng(seed)
    vectors, identities, groups = [], [], []
    for name, count in identities_per_group.items():
        mean = _unit(rng.standard_normal(dim))
        s = similarity[name]
        centres = np.sqrt(s) * mean + np.sqrt(1 - s) * _unit(rng.standard_normal((count, dim)))
        sizes = rng.integers(images_per_identity[0], images_per_identity[1] + 1, count)
        for k in range(count):
            shots = centres[k] + noise * rng.standard_normal((int(sizes[k]), dim)) / np.sqrt(dim)
            vectors.append(_unit(shots))
            identities += [f"{name}-{k:05d}"] * int(sizes[k])
            groups += [name] * int(sizes[k])
    return SyntheticSet(np.concatenate(vectors).astype(np.float32), identities, groups)


def _unit(x: np.ndarray) -> np.ndarray:
    out: np.ndarray = x / np.linalg.norm(x, axis=-1, keepdims=True)
    return out
