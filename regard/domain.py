"""Plain data that crosses boundaries: faces, matches, records.  No behaviour beyond views."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from datetime import datetime
from enum import Enum, StrEnum
from typing import Any

import numpy as np

Box = tuple[float, float, float, float]  # (x1, y1, x2, y2) in pixels
Point = tuple[float, float]


class QualityLevel(StrEnum):
    HIGH = "high"
    MEDIUM = "medium"
    LOW = "low"


class UnindexedReason(StrEnum):
    """Why a detected face was not enrolled (the reasons Rekognition reports)."""

    EXCEEDS_MAX_FACES = "EXCEEDS_MAX_FACES"
    LOW_CONFIDENCE = "LOW_CONFIDENCE"
    SMALL_BOUNDING_BOX = "SMALL_BOUNDING_BOX"
    LOW_SHARPNESS = "LOW_SHARPNESS"
    LOW_BRIGHTNESS = "LOW_BRIGHTNESS"
    EXTREME_POSE = "EXTREME_POSE"


@dataclass(frozen=True)
class Pose:
    """Head pose estimated from the 5 landmarks, degrees (rough: about ±10-15°)."""

    yaw: float
    pitch: float
    roll: float


@dataclass(frozen=True)
class Quality:
    """Per-face quality; ``sharpness`` and ``brightness`` on a 0-100 scale."""

    sharpness: float
    brightness: float
    pose: Pose
    face_px: float
    level: QualityLevel
    reasons: tuple[UnindexedReason, ...] = ()


@dataclass(frozen=True)
class DetectedFace:
    """One face found by a detector, in the original image's pixel coordinates."""

    box: Box
    landmarks: tuple[Point, Point, Point, Point, Point]  # eyes (image-left first), nose, mouth corners
    confidence: float
    quality: Quality | None = None

    @property
    def width(self) -> float:
        return self.box[2] - self.box[0]

    @property
    def height(self) -> float:
        return self.box[3] - self.box[1]

    @property
    def size(self) -> float:
        """Face size in pixels: the box's longer side (detectors' boxes are taller than wide)."""
        return max(self.width, self.height)

    @property
    def area(self) -> float:
        return max(self.width, 0.0) * max(self.height, 0.0)


@dataclass(frozen=True)
class ImageInfo:
    width: int
    height: int
    format: str
    sha256: str


@dataclass(frozen=True)
class Detection:
    """Result of ``detect``: the image and its faces, largest first."""

    image: ImageInfo
    faces: list[DetectedFace]
    detector: str


@dataclass(frozen=True)
class AlignedFace:
    """A detected face and its aligned crop, made once: quality, the embedder and the thumbnail all read this crop."""

    face: DetectedFace
    crop: np.ndarray = field(repr=False)  # 112 x 112 x 3, uint8, RGB, warped to the ArcFace template


@dataclass(frozen=True)
class EmbeddedFace:
    """A detected face with its template, and the aligned crop it was made from."""

    face: DetectedFace
    embedding: np.ndarray = field(repr=False)
    model_id: str = ""
    crop: np.ndarray | None = field(default=None, repr=False)


@dataclass(frozen=True)
class Decision:
    similarity: float  # cosine, -1..1
    score: float  # 0..100, calibrated per model
    threshold: float  # cosine threshold at the operating point
    fmr: float  # operating point
    match: bool


@dataclass(frozen=True)
class ComparePair:
    index_a: int
    index_b: int
    decision: Decision


@dataclass(frozen=True)
class Comparison:
    """Result of ``compare``: faces of both images and the decision per compared pair."""

    faces_a: list[DetectedFace]
    faces_b: list[DetectedFace]
    pairs: list[ComparePair]
    model_id: str

    @property
    def best(self) -> ComparePair:
        return max(self.pairs, key=lambda p: p.decision.similarity)


@dataclass(frozen=True)
class CollectionInfo:
    name: str
    model_id: str
    description: str
    created_at: datetime
    subject_count: int = 0
    face_count: int = 0
    purpose: str = ""  # the declared purpose it serves; "" for collections made before purposes existed


@dataclass(frozen=True)
class SubjectInfo:
    collection: str
    external_id: str
    display_name: str
    created_at: datetime
    face_count: int = 0


@dataclass(frozen=True)
class FaceRecord:
    face_id: str
    collection: str
    subject: str
    model_id: str
    box: Box
    confidence: float
    quality_level: str
    image_sha256: str
    created_at: datetime
    thumbnail_jpeg: bytes | None = field(default=None, repr=False)


@dataclass(frozen=True)
class UnindexedFace:
    face: DetectedFace
    reasons: tuple[UnindexedReason, ...]
    source: str = ""


@dataclass(frozen=True)
class EnrollResult:
    collection: str
    subject: str
    indexed: list[FaceRecord]
    unindexed: list[UnindexedFace]
    images_without_faces: list[str] = field(default_factory=list)


@dataclass(frozen=True)
class SubjectMatch:
    subject: str
    display_name: str
    face_id: str  # the subject's best-matching face
    similarity: float
    score: float


@dataclass(frozen=True)
class FaceSearchResult:
    """Matches for one probe face, best first."""

    probe: DetectedFace | None
    matches: list[SubjectMatch]


@dataclass(frozen=True)
class SearchResult:
    collection: str
    model_id: str
    threshold: float
    fmr: float
    results: list[FaceSearchResult]
    review_case: str | None = None  # set when matches are held for human review


@dataclass(frozen=True)
class Page:
    """One page of a listing; ``next_offset`` is ``None`` on the last page."""

    items: list[Any]
    total: int
    offset: int
    limit: int

    @property
    def next_offset(self) -> int | None:
        nxt = self.offset + len(self.items)
        return nxt if nxt < self.total else None


def to_jsonable(value: Any) -> Any:
    """Dataclasses, enums, arrays and datetimes to JSON-ready values (for the edges)."""
    if hasattr(value, "__dataclass_fields__"):
        out = {k: to_jsonable(v) for k, v in asdict(value).items() if not isinstance(v, bytes)}
        for name in ("width", "height") if isinstance(value, DetectedFace) else ():
            out[name] = getattr(value, name)
        return out
    if isinstance(value, Enum):
        return value.value
    if isinstance(value, dict):
        return {str(k): to_jsonable(v) for k, v in value.items() if not isinstance(v, bytes)}
    if isinstance(value, list | tuple):
        return [to_jsonable(v) for v in value]
    if isinstance(value, np.ndarray):
        return value.tolist()
    if isinstance(value, np.floating | np.integer):
        return value.item()
    if isinstance(value, datetime):
        return value.isoformat()
    if isinstance(value, float):
        return round(value, 6)
    return value


def _face_from_json(d: dict[str, Any]) -> DetectedFace:
    q = d.get("quality")
    quality = (
        Quality(
            q["sharpness"],
            q["brightness"],
            Pose(**q["pose"]),
            q["face_px"],
            QualityLevel(q["level"]),
            tuple(UnindexedReason(r) for r in q["reasons"]),
        )
        if q
        else None
    )
    box = tuple(d["box"])
    landmarks = tuple(tuple(p) for p in d["landmarks"])
    return DetectedFace(box, landmarks, d["confidence"], quality)  # type: ignore[arg-type]


def enroll_result_from_json(d: dict[str, Any]) -> EnrollResult:
    """The inverse of ``to_jsonable`` for an enrollment (its result is kept to answer a retried request)."""
    indexed = [
        FaceRecord(**{**r, "box": tuple(r["box"]), "created_at": datetime.fromisoformat(r["created_at"])})
        for r in d["indexed"]
    ]
    unindexed = [
        UnindexedFace(_face_from_json(u["face"]), tuple(UnindexedReason(r) for r in u["reasons"]), u["source"])
        for u in d["unindexed"]
    ]
    return EnrollResult(d["collection"], d["subject"], indexed, unindexed, list(d["images_without_faces"]))
