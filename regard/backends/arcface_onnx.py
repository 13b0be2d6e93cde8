"""Embedders with ArcFace-style input: a 112x112 aligned crop, NCHW float (SFace and user models)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from regard.backends.base import ImagePixels, flip_average, l2_normalise
from regard.backends.runtime import RuntimeOptions, make_session
from regard.domain import AlignedFace
from regard.vision.align import resize_crop


@dataclass(frozen=True)
class CropFormat:
    """How the network wants its crop: channel order and ``(pixel - mean) / std``."""

    size: int = 112
    bgr: bool = False
    mean: float = 0.0
    std: float = 1.0


class ArcFaceOnnxEmbedder:
    """Aligns each face to the ArcFace template and runs the network in batches."""

    def __init__(
        self, model_path: Path, model_id: str, embedding_size: int, crop: CropFormat, runtime: RuntimeOptions
    ) -> None:
        self.model_id = model_id
        self.embedding_size = embedding_size
        self._crop = crop
        self._session: Any = make_session(model_path, runtime)
        self._input = self._session.get_inputs()[0].name
        self._batch = runtime.effective_batch_size(self._session.get_providers())

    def crops(self, faces: Sequence[AlignedFace]) -> np.ndarray:
        """The faces' shared aligned crops as an N x 3 x S x S float32 batch, normalised for the network."""
        batch = np.empty((len(faces), 3, self._crop.size, self._crop.size), dtype=np.float32)
        for i, face in enumerate(faces):
            crop = resize_crop(face.crop, self._crop.size)
            batch[i] = (crop[:, :, ::-1] if self._crop.bgr else crop).transpose(2, 0, 1)
        if self._crop.mean or self._crop.std != 1.0:
            batch = (batch - self._crop.mean) / self._crop.std
        return batch

    def embed_crops(self, batch: np.ndarray) -> np.ndarray:
        """Templates for already-aligned crops (N x 3 x S x S)."""
        out = np.empty((batch.shape[0], self.embedding_size), dtype=np.float32)
        for start in range(0, batch.shape[0], self._batch):
            chunk = batch[start : start + self._batch]
            out[start : start + chunk.shape[0]] = self._session.run(None, {self._input: chunk})[0].reshape(
                chunk.shape[0], -1
            )
        return l2_normalise(out)

    def embed(self, image: ImagePixels, faces: Sequence[AlignedFace], flip: bool = False) -> np.ndarray:
        """Templates from the faces' shared crops; the image itself is not read."""
        if not faces:
            return np.zeros((0, self.embedding_size), dtype=np.float32)
        batch = self.crops(faces)
        if not flip:
            return self.embed_crops(batch)
        # Plain and mirrored crops in one run: the mirror is the last axis reversed.
        both = self.embed_crops(np.concatenate([batch, batch[:, :, :, ::-1]]))
        return flip_average(both[: len(faces)], both[len(faces) :])
