"""Drawing detections onto a copy of the image, for people checking what the detector saw."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import numpy as np

from regard.domain import DetectedFace

_LEVEL_COLOURS = {"high": (0, 200, 0), "medium": (255, 190, 0), "low": (230, 30, 30)}


def annotate_faces(image: np.ndarray, faces: Sequence[DetectedFace], target: Path) -> Path:
    """Write ``image`` with each face's box (coloured by quality), landmarks and rank to ``target``."""
    import cv2
    from PIL import Image

    canvas = np.ascontiguousarray(image.copy())
    thickness = max(1, round(max(canvas.shape[:2]) / 500))
    for rank, face in enumerate(faces):
        colour = _LEVEL_COLOURS.get(face.quality.level.value if face.quality else "medium", (255, 190, 0))
        x1, y1, x2, y2 = (round(v) for v in face.box)
        cv2.rectangle(canvas, (x1, y1), (x2, y2), colour, thickness)
        for x, y in face.landmarks:
            cv2.circle(canvas, (round(x), round(y)), thickness + 1, (0, 160, 255), -1)
        cv2.putText(
            canvas, str(rank), (x1, max(0, y1 - 4)), cv2.FONT_HERSHEY_SIMPLEX, 0.4 * thickness, colour, thickness
        )
    Image.fromarray(canvas).save(target)
    return target
