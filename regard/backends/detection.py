"""What every detector shares: scaling the image for the network, NMS, and packing faces."""

from __future__ import annotations

import numpy as np

from regard.domain import DetectedFace


def letterbox(image: np.ndarray, max_px: int, multiple: int = 32, bgr: bool = False) -> tuple[np.ndarray, float]:
    """Scale ``image`` so its longest side is at most ``max_px`` and pad to a multiple.

    Returns the padded HxWxC float32 image (channels reversed when ``bgr``) and
    the factor from network to image pixels.
    """
    import cv2

    height, width = image.shape[:2]
    factor = min(1.0, max_px / max(height, width))
    if factor < 1.0:
        new_w, new_h = max(1, round(width * factor)), max(1, round(height * factor))
        # Halve with a Gaussian pyramid first: same anti-aliasing as INTER_AREA alone, a third of the time.
        while image.shape[1] >= 2 * new_w and image.shape[0] >= 2 * new_h:
            image = cv2.pyrDown(image)
        image = cv2.resize(image, (new_w, new_h), interpolation=cv2.INTER_AREA)
    else:
        new_h, new_w = height, width
    pad_h = -(-new_h // multiple) * multiple
    pad_w = -(-new_w // multiple) * multiple
    padded = np.zeros((pad_h, pad_w, image.shape[2]), dtype=np.float32)
    # Reverse channels on the small image: a reversed view of a large one makes OpenCV copy it.
    padded[:new_h, :new_w] = image[:, :, ::-1] if bgr else image
    return padded, 1.0 / factor


def nms(boxes: np.ndarray, scores: np.ndarray, iou_threshold: float = 0.3) -> np.ndarray:
    """Indices kept by greedy non-maximum suppression, best score first."""
    order = np.argsort(-scores)
    areas = np.maximum(boxes[:, 2] - boxes[:, 0], 0) * np.maximum(boxes[:, 3] - boxes[:, 1], 0)
    keep: list[int] = []
    while order.size:
        best = int(order[0])
        keep.append(best)
        rest = order[1:]
        xx1 = np.maximum(boxes[best, 0], boxes[rest, 0])
        yy1 = np.maximum(boxes[best, 1], boxes[rest, 1])
        xx2 = np.minimum(boxes[best, 2], boxes[rest, 2])
        yy2 = np.minimum(boxes[best, 3], boxes[rest, 3])
        inter = np.maximum(xx2 - xx1, 0) * np.maximum(yy2 - yy1, 0)
        iou = inter / np.maximum(areas[best] + areas[rest] - inter, 1e-9)
        order = rest[iou < iou_threshold]
    return np.asarray(keep, dtype=np.int64)


def pack_faces(
    boxes: np.ndarray, scores: np.ndarray, landmarks: np.ndarray, factor: float, shape: tuple[int, ...]
) -> list[DetectedFace]:
    """NMS, scale network coordinates back to the image, clip boxes, build DetectedFace objects."""
    if boxes.shape[0] == 0:
        return []
    keep = nms(boxes, scores)
    height, width = shape[:2]
    faces = []
    for i in keep:
        x1, y1, x2, y2 = (boxes[i] * factor).tolist()
        box = (max(0.0, x1), max(0.0, y1), min(float(width), x2), min(float(height), y2))
        points = (landmarks[i].reshape(5, 2) * factor).tolist()
        faces.append(
            DetectedFace(box=box, landmarks=tuple((p[0], p[1]) for p in points), confidence=float(scores[i]))  # type: ignore[arg-type]
        )
    return faces
