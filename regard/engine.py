"""The pixel pipeline: decode, detect, assess, align and embed.  No storage, no policy."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace

import numpy as np

from regard.backends.registry import ModelRegistry
from regard.domain import DetectedFace, Detection, EmbeddedFace
from regard.settings import Settings
from regard.vision.decode import DecodedImage, ImageLimits, ImageSource, decode_image
from regard.vision.quality import QualityThresholds, assess


def quality_thresholds(settings: Settings) -> QualityThresholds:
    return QualityThresholds(
        min_confidence=settings.enroll_min_confidence,
        min_face_px=settings.enroll_min_face_px,
        min_sharpness=settings.enroll_min_sharpness,
        min_brightness=settings.enroll_min_brightness,
        max_yaw_deg=settings.enroll_max_yaw_deg,
        max_pitch_deg=settings.enroll_max_pitch_deg,
    )


class FaceEngine:
    """Runs the models over images; the service adds storage, search and the call context."""

    def __init__(self, settings: Settings, registry: ModelRegistry) -> None:
        self.settings = settings
        self.registry = registry
        self.limits = ImageLimits(settings.max_image_bytes, settings.max_image_pixels)
        self.quality = quality_thresholds(settings)

    def decode(self, source: ImageSource) -> DecodedImage:
        return decode_image(source, self.limits)

    def detect_decoded(self, image: DecodedImage, detector_id: str | None = None) -> Detection:
        """Faces at least ``min_face_px`` wide, largest first, at most ``max_faces``, with quality."""
        settings = self.settings
        detector = self.registry.detector(detector_id or settings.detector)
        found = detector.detect(image.pixels, settings.detect_min_confidence, settings.detect_max_px)
        found = [f for f in found if f.size >= settings.min_face_px]
        found.sort(key=lambda f: f.area, reverse=True)
        faces = [replace(f, quality=assess(image.pixels, f, self.quality)) for f in found[: settings.max_faces]]
        return Detection(image=image.info, faces=faces, detector=detector.model_id)

    def detect_batch(self, images: Sequence[DecodedImage], detector_id: str | None = None) -> list[Detection]:
        """``detect_decoded`` for several images, in one network run when the detector can batch (YuNet)."""
        settings = self.settings
        detector = self.registry.detector(detector_id or settings.detector)
        batched = getattr(detector, "detect_batch", None)
        if batched is None:
            return [self.detect_decoded(image, detector_id) for image in images]
        out = []
        for image, found in zip(
            images,
            batched([i.pixels for i in images], settings.detect_min_confidence, settings.detect_max_px),
            strict=True,
        ):
            found = sorted((f for f in found if f.size >= settings.min_face_px), key=lambda f: f.area, reverse=True)
            faces = [replace(f, quality=assess(image.pixels, f, self.quality)) for f in found[: settings.max_faces]]
            out.append(Detection(image=image.info, faces=faces, detector=detector.model_id))
        return out

    def detect(self, source: ImageSource, detector_id: str | None = None) -> Detection:
        return self.detect_decoded(self.decode(source), detector_id)

    def embed(self, image: DecodedImage, faces: Sequence[DetectedFace], model_id: str) -> list[EmbeddedFace]:
        """Templates for ``faces`` of ``image`` with embedder ``model_id``."""
        embedder = self.registry.embedder(model_id)
        vectors = embedder.embed(image.pixels, faces) if faces else np.zeros((0, embedder.embedding_size), np.float32)
        return [EmbeddedFace(face=f, embedding=v, model_id=model_id) for f, v in zip(faces, vectors, strict=True)]

    def thumbnail(self, image: DecodedImage, face: DetectedFace) -> bytes:
        """A small JPEG of the aligned face, for reviewers; kept only when settings allow."""
        import io

        from PIL import Image

        from regard.vision.align import align_face

        crop = align_face(image.pixels, face.landmarks, self.settings.thumbnail_px)
        buffer = io.BytesIO()
        Image.fromarray(crop).save(buffer, format="JPEG", quality=85)
        return buffer.getvalue()
