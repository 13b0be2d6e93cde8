"""Faces, matches and decisions: the shapes of detect, compare, enroll and search."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, Field

from regard.api.schemas.base import Timestamp, example
from regard.domain import (
    ComparePair,
    Comparison,
    Decision,
    DetectedFace,
    Detection,
    EnrollResult,
    FaceRecord,
    SearchResult,
    SubjectMatch,
)

BOX = [120.5, 80.0, 210.25, 195.0]
LANDMARKS = [[150.1, 120.3], [185.7, 121.0], [168.2, 142.9], [152.4, 165.8], [183.0, 166.2]]
QUALITY = {
    "sharpness": 41.2,
    "brightness": 55.0,
    "pose": {"yaw": -4.1, "pitch": 6.3, "roll": 1.2},
    "face_px": 115.0,
    "level": "high",
    "reasons": [],
}
FACE = {"box": BOX, "landmarks": LANDMARKS, "confidence": 0.93, "quality": QUALITY, "width": 89.75, "height": 115.0}
DECISION = {"similarity": 0.6123, "score": 91.4, "threshold": 0.4244, "fmr": 0.0001, "matched": True}
FACE_ID = "3f1c2b9a8e7d4c6b5a4f3e2d1c0b9a87"


class PoseOut(BaseModel):
    model_config = example(yaw=-4.1, pitch=6.3, roll=1.2)
    yaw: float = Field(description="Degrees, rough (about ±10-15°).")
    pitch: float
    roll: float


class QualityOut(BaseModel):
    model_config = example(**QUALITY)
    sharpness: float = Field(description="0-100.")
    brightness: float = Field(description="0-100.")
    pose: PoseOut
    face_px: float = Field(description="Face size: the box's longer side, pixels.")
    level: str = Field(description="high, medium or low.")
    reasons: list[str] = Field(description="Why the face is not usable for enrollment (empty when it is).")


class FaceOut(BaseModel):
    """A detected face in the image's pixel coordinates."""

    model_config = example(**FACE)
    box: list[float] = Field(min_length=4, max_length=4, description="(x1, y1, x2, y2), pixels.")
    landmarks: list[list[float]] = Field(description="Eyes (image-left first), nose, mouth corners: (x, y).")
    confidence: float = Field(description="Detector score, 0-1.")
    quality: QualityOut | None
    width: float
    height: float

    @classmethod
    def of(cls, face: DetectedFace) -> FaceOut:
        q = face.quality
        quality = (
            QualityOut(
                sharpness=q.sharpness,
                brightness=q.brightness,
                pose=PoseOut(yaw=q.pose.yaw, pitch=q.pose.pitch, roll=q.pose.roll),
                face_px=q.face_px,
                level=q.level.value,
                reasons=[r.value for r in q.reasons],
            )
            if q
            else None
        )
        return cls(
            box=list(face.box),
            landmarks=[list(p) for p in face.landmarks],
            confidence=face.confidence,
            quality=quality,
            width=face.width,
            height=face.height,
        )


class ImageOut(BaseModel):
    model_config = example(width=640, height=480, format="JPEG", sha256="9f86d08..." + "0" * 53)
    width: int
    height: int
    format: str
    sha256: str = Field(description="sha256 of the uploaded bytes (what the ledger records).")


class DetectResponse(BaseModel):
    model_config = example(
        image={"width": 640, "height": 480, "format": "JPEG", "sha256": "0" * 64}, detector="yunet", faces=[FACE]
    )
    image: ImageOut
    detector: str
    faces: list[FaceOut] = Field(description="Largest first.")

    @classmethod
    def of(cls, d: Detection) -> DetectResponse:
        i = d.image
        image = ImageOut(width=i.width, height=i.height, format=i.format, sha256=i.sha256)
        return cls(image=image, detector=d.detector, faces=[FaceOut.of(f) for f in d.faces])


class DecisionOut(BaseModel):
    """1:1 decision at the operating point."""

    model_config = example(**DECISION)
    similarity: float = Field(description="Cosine similarity, -1..1 (0-1 for faces).")
    score: float = Field(description="Calibrated score, 0-100.")
    threshold: float = Field(description="Cosine threshold at the operating point.")
    fmr: float = Field(description="The operating point: false match rate the threshold was set for.")
    matched: bool = Field(description="similarity >= threshold.")

    @classmethod
    def of(cls, d: Decision) -> DecisionOut:
        return cls(similarity=d.similarity, score=d.score, threshold=d.threshold, fmr=d.fmr, matched=d.match)


class ComparePairOut(DecisionOut):
    model_config = example(index_a=0, index_b=0, **DECISION)
    index_a: int = Field(description="Index of the face in faces_a.")
    index_b: int = Field(description="Index of the face in faces_b.")

    @classmethod
    def of_pair(cls, p: ComparePair) -> ComparePairOut:
        return cls(index_a=p.index_a, index_b=p.index_b, **DecisionOut.of(p.decision).model_dump())


class CompareResponse(BaseModel):
    model_config = example(
        model="sface",
        faces_a=[FACE],
        faces_b=[FACE],
        pairs=[{"index_a": 0, "index_b": 0, **DECISION}],
        best={"index_a": 0, "index_b": 0, **DECISION},
        matched=True,
    )
    model: str
    faces_a: list[FaceOut]
    faces_b: list[FaceOut]
    pairs: list[ComparePairOut]
    best: ComparePairOut = Field(description="The most similar pair.")
    matched: bool = Field(description="Whether the best pair matches at the operating point.")

    @classmethod
    def of(cls, c: Comparison) -> CompareResponse:
        best = ComparePairOut.of_pair(c.best)
        return cls(
            model=c.model_id,
            faces_a=[FaceOut.of(f) for f in c.faces_a],
            faces_b=[FaceOut.of(f) for f in c.faces_b],
            pairs=[ComparePairOut.of_pair(p) for p in c.pairs],
            best=best,
            matched=best.matched,
        )


class CompareFacesRequest(BaseModel):
    model_config = example(face_id_a=FACE_ID, face_id_b="0a1b2c3d4e5f60718293a4b5c6d7e8f9", fmr=0.0001)
    face_id_a: str = Field(max_length=64)
    face_id_b: str = Field(max_length=64)
    fmr: float | None = Field(None, description="Operating point: 1e-3, 1e-4 or 1e-5 (default: the server's).")


class StoredFaceOut(BaseModel):
    """A stored template's record (never the template itself)."""

    model_config = example(
        face_id=FACE_ID,
        collection="staff",
        subject="eileen",
        model="sface",
        box=BOX,
        confidence=0.93,
        quality_level="high",
        image_sha256="0" * 64,
        created_at="2026-11-29T10:00:00Z",
        has_thumbnail=True,
    )
    face_id: str
    collection: str
    subject: str
    model: str
    box: list[float]
    confidence: float
    quality_level: str
    image_sha256: str
    created_at: Timestamp
    has_thumbnail: bool = Field(description="A thumbnail is kept: GET .../faces/{face_id}/thumbnail.")

    @classmethod
    def of(cls, r: FaceRecord) -> StoredFaceOut:
        return cls(
            face_id=r.face_id,
            collection=r.collection,
            subject=r.subject,
            model=r.model_id,
            box=list(r.box),
            confidence=r.confidence,
            quality_level=r.quality_level,
            image_sha256=r.image_sha256,
            created_at=r.created_at,
            has_thumbnail=r.thumbnail_jpeg is not None,
        )


class UnindexedFaceOut(BaseModel):
    """A face that was found and not enrolled, with why (as Rekognition's UnindexedFaces)."""

    model_config = example(face=FACE, reasons=["SMALL_BOUNDING_BOX"], source="image #2")
    face: FaceOut
    reasons: list[str] = Field(description="EXCEEDS_MAX_FACES, LOW_CONFIDENCE, SMALL_BOUNDING_BOX, ...")
    source: str = Field(description="Which uploaded image: 'image #N' in upload order.")


class EnrollResponse(BaseModel):
    model_config = example(
        collection="staff",
        subject="eileen",
        indexed_faces=[StoredFaceOut.model_config["json_schema_extra"]["examples"][0]],  # type: ignore[index]
        unindexed_faces=[{"face": FACE, "reasons": ["EXCEEDS_MAX_FACES"], "source": "image #1"}],
        images_without_faces=[],
    )
    collection: str
    subject: str
    indexed_faces: list[StoredFaceOut]
    unindexed_faces: list[UnindexedFaceOut]
    images_without_faces: list[str]

    @classmethod
    def of(cls, r: EnrollResult) -> EnrollResponse:
        return cls(
            collection=r.collection,
            subject=r.subject,
            indexed_faces=[StoredFaceOut.of(f) for f in r.indexed],
            unindexed_faces=[
                UnindexedFaceOut(face=FaceOut.of(u.face), reasons=[x.value for x in u.reasons], source=u.source)
                for u in r.unindexed
            ],
            images_without_faces=list(r.images_without_faces),
        )


MATCH: dict[str, Any] = {
    "subject": "eileen",
    "display_name": "Eileen Collins",
    "face_id": FACE_ID,
    "similarity": 0.6123,
    "score": 91.4,
}


class SubjectMatchOut(BaseModel):
    model_config = example(**MATCH)
    subject: str
    display_name: str
    face_id: str = Field(description="The subject's best-matching face.")
    similarity: float = Field(description="Cosine similarity, 0-1.")
    score: float = Field(description="Calibrated score, 0-100.")

    @classmethod
    def of(cls, m: SubjectMatch) -> SubjectMatchOut:
        return cls(
            subject=m.subject, display_name=m.display_name, face_id=m.face_id, similarity=m.similarity, score=m.score
        )


class ProbeResultOut(BaseModel):
    """Matches for one probe face: an empty list and matched=false when nobody reaches the threshold."""

    model_config = example(probe=FACE, matched=True, matches=[MATCH])
    probe: FaceOut | None = Field(description="The probe face; null when the probe was a stored face.")
    matched: bool
    matches: list[SubjectMatchOut] = Field(description="Best first; only subjects at or above the threshold.")


class SearchResponse(BaseModel):
    model_config = example(
        collection="staff",
        model="sface",
        threshold=0.4244,
        fmr=0.0001,
        matched=True,
        review_case=None,
        results=[{"probe": FACE, "matched": True, "matches": [MATCH]}],
    )
    collection: str
    model: str
    threshold: float = Field(description="Cosine threshold the matches reached.")
    fmr: float = Field(description="Operating point of the threshold.")
    matched: bool = Field(description="Any probe face has a match (false while held for review).")
    review_case: str | None = Field(description="Set when the matches are held for two-person review.")
    results: list[ProbeResultOut]

    @classmethod
    def of(cls, r: SearchResult) -> SearchResponse:
        results = [
            ProbeResultOut(
                probe=FaceOut.of(x.probe) if x.probe else None,
                matched=bool(x.matches),
                matches=[SubjectMatchOut.of(m) for m in x.matches],
            )
            for x in r.results
        ]
        return cls(
            collection=r.collection,
            model=r.model_id,
            threshold=r.threshold,
            fmr=r.fmr,
            matched=any(x.matched for x in results),
            review_case=r.review_case,
            results=results,
        )


class SearchByFaceRequest(BaseModel):
    model_config = example(face_id=FACE_ID, top_k=5, fmr=0.0001)
    face_id: str = Field(max_length=64, description="A stored face of the tenant, used as the probe.")
    top_k: int = Field(5, ge=1, le=1000)
    fmr: float | None = Field(None, description="Operating point (default: the server's).")
    min_score: float | None = Field(None, ge=0, le=100, description="A stricter bar, on the 0-100 scale.")
