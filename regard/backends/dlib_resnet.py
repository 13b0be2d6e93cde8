"""dlib's ResNet embedder (public domain weights in ``face-recognition-models``), for face_recognition users."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from regard.backends.base import ImagePixels, flip_average, l2_normalise
from regard.domain import AlignedFace
from regard.errors import ModelUnavailableError


class DlibResNetEmbedder:
    """dlib's own 5-point alignment to a 150x150 chip, then its 128-d ResNet."""

    embedding_size = 128

    def __init__(self, model_path: Path, predictor_path: Path, model_id: str) -> None:
        try:
            import dlib
        except ImportError as exc:
            raise ModelUnavailableError(
                "the dlib embedder needs dlib: pip install dlib-bin face-recognition-models"
            ) from exc
        self.model_id = model_id
        self._dlib: Any = dlib
        self._net = dlib.face_recognition_model_v1(str(model_path))
        self._predictor = dlib.shape_predictor(str(predictor_path))

    def chips(self, image: np.ndarray, faces: Sequence[AlignedFace]) -> list[np.ndarray]:
        """dlib's 150 px chips: its 5-point predictor inside each detector box, then its own alignment."""
        dlib = self._dlib
        chips = []
        for aligned in faces:
            x1, y1, x2, y2 = (round(v) for v in aligned.face.box)
            shape = self._predictor(image, dlib.rectangle(x1, y1, x2, y2))
            # The same chip compute_face_descriptor(image, shape) cuts (150 px, padding 0.25).
            chips.append(dlib.get_face_chip(image, shape, 150, 0.25))
        return chips

    def embed(self, image: ImagePixels, faces: Sequence[AlignedFace], flip: bool = False) -> np.ndarray:
        if not faces:
            return np.zeros((0, self.embedding_size), dtype=np.float32)
        chips = self.chips(np.ascontiguousarray(image.pixels), faces)
        if flip:
            chips += [np.ascontiguousarray(chip[:, ::-1]) for chip in chips]
        descriptors = self._net.compute_face_descriptor(chips)
        vectors = l2_normalise(np.asarray([np.asarray(d) for d in descriptors], dtype=np.float32))
        return flip_average(vectors[: len(faces)], vectors[len(faces) :]) if flip else vectors
