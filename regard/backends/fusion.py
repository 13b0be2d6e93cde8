"""Profiles that combine embedders: one template, the weighted concatenation of the members' templates.

With unit member templates ``v_i`` and weights ``w_i`` summing to 1, the
template ``[sqrt(w_1) v_1, sqrt(w_2) v_2, ...]`` has unit length and the cosine
of two such templates is ``sum_i w_i cos_i``: score-level fusion, served by
one vector and the existing exact index.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from regard.backends.base import Embedder, ImagePixels
from regard.domain import AlignedFace
from regard.errors import InvalidInputError


def fuse(parts: Sequence[np.ndarray], weights: Sequence[float]) -> np.ndarray:
    """Concatenate unit-row member templates (N x d_i each), row i scaled by the square root of its weight."""
    if len(parts) != len(weights) or not parts:
        raise InvalidInputError("fusion needs one weight per member")
    if abs(sum(weights) - 1.0) > 1e-6 or min(weights) <= 0:
        raise InvalidInputError(f"fusion weights must be positive and sum to 1, got {list(weights)}")
    scaled = [np.asarray(p, dtype=np.float32) * np.float32(np.sqrt(w)) for p, w in zip(parts, weights, strict=True)]
    return np.concatenate(scaled, axis=1)


def impostor_weights(impostor_std: Sequence[float]) -> list[float]:
    """Weights that sum the members' cosines each divided by its impostor standard deviation.

    Standardising each cosine by its impostor mean and std and adding them is,
    up to a constant, this weighted sum; the constant moves every threshold
    alike, so the calibrated thresholds absorb it.
    """
    inverse = [1.0 / s for s in impostor_std]
    return [v / sum(inverse) for v in inverse]


class FusionEmbedder:
    """An embedder made of member embedders; ``flip`` averages each member over the face and its mirror."""

    def __init__(self, model_id: str, members: Sequence[tuple[Embedder, float]], flip: bool) -> None:
        self.model_id = model_id
        self._members = list(members)
        self._weights = [w for _, w in members]
        self._flip = flip
        fuse([np.zeros((0, e.embedding_size), np.float32) for e, _ in members], self._weights)  # validates weights
        self.embedding_size = sum(e.embedding_size for e, _ in members)

    def embed(self, image: ImagePixels, faces: Sequence[AlignedFace], flip: bool = False) -> np.ndarray:
        if not faces:
            return np.zeros((0, self.embedding_size), dtype=np.float32)
        # The profile's own flip setting is part of its identity; a caller's request adds nothing to it.
        parts = [embedder.embed(image, faces, flip=self._flip or flip) for embedder, _ in self._members]
        return fuse(parts, self._weights)
