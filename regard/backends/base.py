"""The two roles a model plays: finding faces and turning a face into a template."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Protocol

import numpy as np

from regard.domain import AlignedFace, DetectedFace


class Detector(Protocol):
    model_id: str

    def detect(self, image: np.ndarray, min_confidence: float, max_px: int) -> list[DetectedFace]:
        """Faces in an RGB uint8 image, in its pixel coordinates, any order.

        ``max_px`` is the longest side the image may be scaled to for the network.
        """
        ...


class ImagePixels(Protocol):
    """A decoded image; reading ``pixels`` may decode a large JPEG in full (vision.decode.DecodedImage)."""

    @property
    def pixels(self) -> np.ndarray: ...


class Embedder(Protocol):
    model_id: str
    embedding_size: int

    def embed(self, image: ImagePixels, faces: Sequence[AlignedFace], flip: bool = False) -> np.ndarray:
        """L2-normalised float32 templates, one row per face, for faces of an RGB uint8 image.

        ``faces`` carry the shared aligned crop; an embedder with its own
        alignment (dlib) reads the image's pixels and the faces' boxes instead.
        With ``flip`` each template is the normalised sum of the face's and its
        mirror image's (flip averaging).
        """
        ...


def flip_average(plain: np.ndarray, mirrored: np.ndarray) -> np.ndarray:
    """Flip averaging: the normalised sum of each face's template and its mirror image's."""
    return l2_normalise(np.asarray(plain, dtype=np.float32) + np.asarray(mirrored, dtype=np.float32))


def l2_normalise(vectors: np.ndarray) -> np.ndarray:
    """Rows scaled to unit length (zero rows stay zero)."""
    vectors = np.asarray(vectors, dtype=np.float32)
    norms = np.linalg.norm(vectors, axis=1, keepdims=True)
    return np.asarray(vectors / np.maximum(norms, 1e-12), dtype=np.float32)
