"""YuNet (libfacedetection, MIT) run with onnxruntime; anchor-free, strides 8/16/32."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from regard.backends.detection import letterbox, pack_faces
from regard.backends.runtime import RuntimeOptions, make_session
from regard.domain import DetectedFace

_STRIDES = (8, 16, 32)


class YuNetDetector:
    """Detector over a prepared YuNet graph with free spatial dims."""

    def __init__(self, model_path: Path, model_id: str, runtime: RuntimeOptions) -> None:
        self.model_id = model_id
        self._session: Any = make_session(model_path, runtime)
        self._output_names = [f"{kind}_{s}" for s in _STRIDES for kind in ("cls", "obj", "bbox", "kps")]

    def detect(self, image: np.ndarray, min_confidence: float, max_px: int) -> list[DetectedFace]:
        padded, factor = letterbox(image, max_px, bgr=True)  # the network wants BGR
        blob = padded.transpose(2, 0, 1)[None]
        outputs = self._session.run(self._output_names, {"input": np.ascontiguousarray(blob)})
        boxes, scores, points = decode_yunet(outputs, padded.shape[0], padded.shape[1], min_confidence)
        return pack_faces(boxes, scores, points, factor, image.shape)

    def detect_batch(
        self, images: Sequence[np.ndarray], min_confidence: float, max_px: int
    ) -> list[list[DetectedFace]]:
        """Several images in one run (what keeps a GPU busy): each is zero-padded to the batch's largest size.

        The graph flattens its outputs across the batch (1 x N*cells x k): image i's cells are the i-th slice.
        """
        if not images:
            return []
        boxed = [letterbox(image, max_px, bgr=True) for image in images]
        height = max(p.shape[0] for p, _ in boxed)
        width = max(p.shape[1] for p, _ in boxed)
        blob = np.zeros((len(images), 3, height, width), dtype=np.float32)
        for i, (padded, _) in enumerate(boxed):
            blob[i, :, : padded.shape[0], : padded.shape[1]] = padded.transpose(2, 0, 1)
        outputs = self._session.run(self._output_names, {"input": blob})
        per_image = [o.reshape(len(images), -1, o.shape[-1]) for o in outputs]
        found = []
        for i, (image, (_, factor)) in enumerate(zip(images, boxed, strict=True)):
            boxes, scores, points = decode_yunet([o[i : i + 1] for o in per_image], height, width, min_confidence)
            found.append(pack_faces(boxes, scores, points, factor, image.shape))
        return found


def decode_yunet(
    outputs: list[np.ndarray], height: int, width: int, min_confidence: float
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Boxes (x1, y1, x2, y2), scores and 10 landmark coordinates from YuNet's per-stride outputs."""
    all_boxes, all_scores, all_points = [], [], []
    for level, stride in enumerate(_STRIDES):
        cls, obj, bbox, kps = (o[0] for o in outputs[level * 4 : level * 4 + 4])
        scores = np.sqrt(np.clip(cls[:, 0], 0, 1) * np.clip(obj[:, 0], 0, 1))
        idx = np.flatnonzero(scores >= min_confidence)
        if idx.size == 0:
            continue
        cols = width // stride
        col = (idx % cols).astype(np.float32)
        row = (idx // cols).astype(np.float32)
        cx = (col + bbox[idx, 0]) * stride
        cy = (row + bbox[idx, 1]) * stride
        w = np.exp(bbox[idx, 2]) * stride
        h = np.exp(bbox[idx, 3]) * stride
        all_boxes.append(np.stack([cx - w / 2, cy - h / 2, cx + w / 2, cy + h / 2], axis=1))
        pts = kps[idx].reshape(-1, 5, 2).copy()
        pts[:, :, 0] = (pts[:, :, 0] + col[:, None]) * stride
        pts[:, :, 1] = (pts[:, :, 1] + row[:, None]) * stride
        all_points.append(pts.reshape(-1, 10))
        all_scores.append(scores[idx])
    if not all_boxes:
        return np.zeros((0, 4), np.float32), np.zeros(0, np.float32), np.zeros((0, 10), np.float32)
    return np.concatenate(all_boxes), np.concatenate(all_scores), np.concatenate(all_points)
