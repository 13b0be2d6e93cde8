"""Drawing detections onto a copy of the image, for people checking what the detector saw."""

from __future__ import annotations

import io
from collections.abc import Sequence

import numpy as np

from regard.domain import DetectedFace
from regard.errors import InvalidInputError

_LEVEL_COLOURS = {"high": (0, 200, 0), "medium": (255, 190, 0), "low": (230, 30, 30)}
FORMATS = {".png": "PNG", ".jpg": "JPEG", ".jpeg": "JPEG", ".webp": "WEBP"}


def format_for(suffix: str) -> str:
    """The image format for a file extension, or a clear error naming the ones we write."""
    try:
        return FORMATS[suffix.lower()]
    except KeyError:
        raise InvalidInputError(
            f"cannot write '{suffix or '(no extension)'}' images; use {', '.join(FORMATS)}"
        ) from None


def annotate_faces(image: np.ndarray, faces: Sequence[DetectedFace], image_format: str = "PNG") -> bytes:
    """``image`` with each face's box (coloured by quality), landmarks and rank, encoded as ``image_format``."""
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
    buffer = io.BytesIO()
    Image.fromarray(canvas).save(buffer, format=image_format)
    return buffer.getvalue()
