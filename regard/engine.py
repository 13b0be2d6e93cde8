"""The pixel pipeline: decode, detect, align, assess and embed.  No storage, no policy.

Each face is aligned once: the crop travels with it (``AlignedFace``) to the
quality measures, the embedder and the thumbnail.  Faces are aligned and
assessed only when they are used (all of them for ``detect`` and ``enroll``,
the compared or searched ones otherwise).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace

import numpy as np

from regard.backends.registry import ModelRegistry
from regard.domain import AlignedFace, DetectedFace, Detection, EmbeddedFace
from regard.errors import NoFaceError
from regard.settings import Settings
from regard.vision.align import align_faces, resize_crop
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


def scaled_face(face: DetectedFace, factor: float) -> DetectedFace:
    """A face found on a preview, in the full image's pixel coordinates."""
    x1, y1, x2, y2 = face.box
    points = tuple((x * factor, y * factor) for x, y in face.landmarks)
    return replace(face, box=(x1 * factor, y1 * factor, x2 * factor, y2 * factor), landmarks=points)  # type: ignore[arg-type]


@dataclass(frozen=True)
class FaceScores:
    """Faces of two images and the cosine of each compared pair: rows are faces of the first image, largest first."""

    faces_a: list[DetectedFace]
    faces_b: list[DetectedFace]
    similarities: np.ndarray  # compared faces of A x compared faces of B (prefixes of faces_a, faces_b)


class FaceEngine:
    """Runs the models over images; the service adds storage, search and the call context."""

    def __init__(self, settings: Settings, registry: ModelRegistry) -> None:
        self.settings = settings
        self.registry = registry
        self.limits = ImageLimits(settings.max_image_bytes, settings.max_image_pixels)
        self.quality = quality_thresholds(settings)

    def decode(self, source: ImageSource) -> DecodedImage:
        """Decoded pixels; a large JPEG first at the smallest DCT scale that keeps ``detect_max_px``."""
        return decode_image(source, self.limits, preview_px=self.settings.detect_max_px)

    def find_faces(self, image: DecodedImage, detector_id: str | None = None) -> list[DetectedFace]:
        """Faces at least ``min_face_px`` wide, largest first, at most ``max_faces``; not yet aligned or assessed."""
        settings = self.settings
        detector = self.registry.detector(detector_id or settings.detector)
        pixels, factor = image.for_detection()
        return self._kept(detector.detect(pixels, settings.detect_min_confidence, settings.detect_max_px), factor)

    def find_faces_batch(
        self, images: Sequence[DecodedImage], detector_id: str | None = None
    ) -> list[list[DetectedFace]]:
        """``find_faces`` for several images, in one network run when the detector can batch (YuNet on a GPU)."""
        settings = self.settings
        detector = self.registry.detector(detector_id or settings.detector)
        batched = getattr(detector, "detect_batch", None)
        if batched is None:
            return [self.find_faces(image, detector_id) for image in images]
        views = [image.for_detection() for image in images]
        found = batched([pixels for pixels, _ in views], settings.detect_min_confidence, settings.detect_max_px)
        return [self._kept(faces, factor) for faces, (_, factor) in zip(found, views, strict=True)]

    def _kept(self, found: Sequence[DetectedFace], factor: float) -> list[DetectedFace]:
        """Found faces in the full image's pixels, the large enough ones, largest first, at most ``max_faces``."""
        faces = [scaled_face(f, factor) for f in found] if factor != 1.0 else list(found)
        faces = [f for f in faces if f.size >= self.settings.min_face_px]
        faces.sort(key=lambda f: f.area, reverse=True)
        return faces[: self.settings.max_faces]

    def align(self, image: DecodedImage, faces: Sequence[DetectedFace]) -> list[AlignedFace]:
        """Each face aligned once, with its quality measured on that same crop."""
        return [
            replace(aligned, face=replace(aligned.face, quality=assess(aligned, self.quality)))
            for aligned in align_faces(image, faces)
        ]

    def analyse(self, image: DecodedImage, detector_id: str | None = None) -> list[AlignedFace]:
        """Every face of the image, aligned and assessed (``detect`` and ``enroll`` report them all)."""
        return self.align(image, self.find_faces(image, detector_id))

    def detect_decoded(self, image: DecodedImage, detector_id: str | None = None) -> Detection:
        """Faces at least ``min_face_px`` wide, largest first, at most ``max_faces``, with quality."""
        faces = [a.face for a in self.analyse(image, detector_id)]
        return Detection(image=image.info, faces=faces, detector=detector_id or self.settings.detector)

    def detect(self, source: ImageSource, detector_id: str | None = None) -> Detection:
        return self.detect_decoded(self.decode(source), detector_id)

    def embed(
        self, image: DecodedImage, faces: Sequence[AlignedFace], model_id: str, flip: bool = False
    ) -> list[EmbeddedFace]:
        """Templates for ``faces`` of ``image`` with embedder (or profile) ``model_id``, flip-averaged if ``flip``."""
        embedder = self.registry.embedder(model_id)
        if not faces:
            return []
        vectors = embedder.embed(image, faces, flip=flip)
        return [
            EmbeddedFace(face=f.face, embedding=v, model_id=model_id, crop=f.crop)
            for f, v in zip(faces, vectors, strict=True)
        ]

    def compare(self, image_a: DecodedImage, image_b: DecodedImage, model_id: str, all_faces: bool) -> FaceScores:
        """Cosines between the first image's largest face and every face of the second (CompareFaces' choice).

        With ``all_faces``, every face of the first image too.  A face of the
        second image that is not its largest still counts: the person may stand
        beside someone else.  Faces not compared are neither aligned nor assessed
        (no quality).  Raises ``NoFaceError`` naming the image without a face.
        """
        sides = []
        for label, image in (("first", image_a), ("second", image_b)):
            faces = self.find_faces(image)
            if not faces:
                raise NoFaceError(f"no face found in the {label} image")
            sides.append(faces)
        faces_a, faces_b = sides
        used_a = self.embed(image_a, self.align(image_a, faces_a if all_faces else faces_a[:1]), model_id)
        used_b = self.embed(image_b, self.align(image_b, faces_b), model_id)
        sims = np.stack([e.embedding for e in used_a]) @ np.stack([e.embedding for e in used_b]).T
        assessed_a = [e.face for e in used_a] + faces_a[len(used_a) :]
        return FaceScores(assessed_a, [e.face for e in used_b], sims)

    def thumbnail(self, face: EmbeddedFace | AlignedFace) -> bytes:
        """A small JPEG of the aligned face (the crop it was embedded from), for reviewers."""
        import io

        from PIL import Image

        if face.crop is None:
            raise ValueError("this face carries no aligned crop")
        buffer = io.BytesIO()
        Image.fromarray(resize_crop(face.crop, self.settings.thumbnail_px)).save(buffer, format="JPEG", quality=85)
        return buffer.getvalue()
