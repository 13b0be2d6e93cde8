"""Regard: the one object every biometric operation goes through.

Each method takes a ``CallContext`` (actor, tenant, declared purpose).  The
core scopes data by tenant; governance (policy, consent, ledger) wraps these
methods in one place so the CLI, the API and library users cannot bypass it.
"""

from __future__ import annotations

import threading
from collections.abc import Sequence
from dataclasses import asdict
from pathlib import Path
from typing import Any

import numpy as np

from regard.backends.calibration import score_to_similarity, similarity_to_score, threshold_for
from regard.backends.registry import ModelRegistry, user_embedder_spec
from regard.backends.runtime import RuntimeOptions
from regard.backends.specs import ModelSpec
from regard.context import LOCAL, CallContext
from regard.domain import (
    CollectionInfo,
    ComparePair,
    Comparison,
    Decision,
    DetectedFace,
    Detection,
    EnrollResult,
    FaceRecord,
    FaceSearchResult,
    Page,
    SearchResult,
    SubjectMatch,
    UnindexedFace,
    UnindexedReason,
)
from regard.engine import FaceEngine
from regard.errors import InvalidImageError, InvalidInputError, ModelMismatchError, NoFaceError
from regard.index.catalog import IndexCatalog
from regard.models_io import spec_from_dict, spec_to_dict
from regard.settings import Settings
from regard.store.database import open_engine
from regard.store.repository import CollectionRef, NewFace, Store
from regard.vision.decode import DecodedImage, ImageSource

_NAME_CHARS = set("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_.")


def _check_name(kind: str, name: str) -> None:
    if not name or len(name) > 128 or not set(name) <= _NAME_CHARS:
        raise InvalidInputError(f"{kind} name must be 1-128 characters of letters, digits, '-', '_' or '.': {name!r}")


def _label(source: ImageSource, position: int) -> str:
    return str(source) if isinstance(source, str | Path) else f"image #{position + 1}"


class Regard:
    """Face detection, comparison, enrollment and search over an embedded store."""

    def __init__(self, settings: Settings | None = None, **overrides: Any) -> None:
        self.settings = settings or Settings(**overrides)
        self.store = Store(open_engine(self.settings.resolved_database_url()))
        runtime = RuntimeOptions(
            threads=self.settings.onnx_threads,
            providers=tuple(self.settings.onnx_providers),
            batch_size=self.settings.embed_batch_size,
        )
        user_specs = [spec_from_dict(d) for d in self.store.user_model_specs()]
        self.registry = ModelRegistry(self.settings.resolved_model_cache_dir(), runtime, user_specs)
        self.engine = FaceEngine(self.settings, self.registry)
        self.indexes = IndexCatalog(self.store)
        self._write_lock = threading.Lock()

    def close(self) -> None:
        self.store.engine.dispose()

    def __enter__(self) -> Regard:
        return self

    def __exit__(self, *_: object) -> None:
        self.close()

    # -- models ----------------------------------------------------------------------------
    def models(self) -> list[ModelSpec]:
        return self.registry.specs()

    def register_model(
        self,
        model_id: str,
        path: str | Path,
        thresholds: dict[str, float],
        licence: str = "user-supplied",
        ctx: CallContext = LOCAL,
    ) -> ModelSpec:
        """Register a user's ArcFace-style ONNX embedder (112x112 RGB input) with its calibrated thresholds."""
        _check_name("model", model_id)
        spec = user_embedder_spec(model_id, Path(path), thresholds, licence)
        self.registry.add(spec)
        self.store.save_user_model(model_id, spec_to_dict(spec))
        return spec

    def _decide(self, spec: ModelSpec, similarity: float, fmr: float | None) -> Decision:
        fmr = fmr or self.settings.default_fmr
        threshold = threshold_for(spec.thresholds, fmr, spec.id)
        score = float(similarity_to_score(similarity, spec.thresholds))
        return Decision(
            similarity=similarity, score=round(score, 2), threshold=threshold, fmr=fmr, match=similarity >= threshold
        )

    # -- detect and compare ----------------------------------------------------------------
    def detect(self, image: ImageSource, ctx: CallContext = LOCAL, detector: str | None = None) -> Detection:
        """Faces in an image, largest first, with landmarks and quality."""
        return self.engine.detect(image, detector)

    def compare(
        self,
        image_a: ImageSource,
        image_b: ImageSource,
        ctx: CallContext = LOCAL,
        *,
        all_faces: bool = False,
        fmr: float | None = None,
        model: str | None = None,
    ) -> Comparison:
        """1:1 verification: the largest faces of both images, or every pair when ``all_faces``."""
        spec = self.registry.spec(model or self.settings.embedder)
        sides = []
        for label, source in (("first", image_a), ("second", image_b)):
            decoded = self.engine.decode(source)
            faces = self.engine.detect_decoded(decoded).faces
            if not faces:
                raise NoFaceError(f"no face found in the {label} image")
            chosen = faces if all_faces else faces[:1]
            sides.append((faces, self.engine.embed(decoded, chosen, spec.id)))
        (faces_a, emb_a), (faces_b, emb_b) = sides
        sims = np.stack([e.embedding for e in emb_a]) @ np.stack([e.embedding for e in emb_b]).T
        pairs = [
            ComparePair(i, j, self._decide(spec, float(sims[i, j]), fmr))
            for i in range(sims.shape[0])
            for j in range(sims.shape[1])
        ]
        return Comparison(faces_a=faces_a, faces_b=faces_b, pairs=pairs, model_id=spec.id)

    def compare_faces(
        self, face_id_a: str, face_id_b: str, ctx: CallContext = LOCAL, fmr: float | None = None
    ) -> Decision:
        """1:1 between two stored faces; refused when their models differ."""
        rec_a, emb_a, _ = self.store.face(ctx.tenant, face_id_a)
        rec_b, emb_b, _ = self.store.face(ctx.tenant, face_id_b)
        if rec_a.model_id != rec_b.model_id:
            raise ModelMismatchError(
                f"face {face_id_a} is a {rec_a.model_id} template, {face_id_b} a {rec_b.model_id} one"
            )
        return self._decide(self.registry.spec(rec_a.model_id), float(emb_a @ emb_b), fmr)

    # -- collections -----------------------------------------------------------------------
    def create_collection(
        self, name: str, ctx: CallContext = LOCAL, *, model: str | None = None, description: str = ""
    ) -> CollectionInfo:
        _check_name("collection", name)
        spec = self.registry.spec(model or self.settings.embedder)
        if spec.kind != "embedder":
            raise InvalidInputError(f"model '{spec.id}' is a {spec.kind}; collections need an embedder")
        return self.store.create_collection(ctx.tenant, name, spec.id, spec.embedding_size, description)

    def list_collections(self, ctx: CallContext = LOCAL, offset: int = 0, limit: int = 100) -> Page:
        return self.store.list_collections(ctx.tenant, offset, limit)

    def describe_collection(self, name: str, ctx: CallContext = LOCAL) -> CollectionInfo:
        return self.store.describe_collection(ctx.tenant, name)

    def delete_collection(self, name: str, ctx: CallContext = LOCAL) -> int:
        """Delete a collection, its subjects, templates and index; returns templates removed."""
        ref = self.store.collection(ctx.tenant, name)
        with self._write_lock:
            removed = self.store.delete_collection(ctx.tenant, name)
            self.indexes.forget(ref.id)
        return removed

    # -- enrollment ------------------------------------------------------------------------
    def enroll(
        self,
        collection: str,
        subject: str,
        images: ImageSource | Sequence[ImageSource],
        ctx: CallContext = LOCAL,
        *,
        display_name: str | None = None,
        max_faces_per_image: int = 1,
    ) -> EnrollResult:
        """Add the faces of ``images`` to ``subject`` (created on first use), all or nothing.

        Per image, the largest ``max_faces_per_image`` faces are candidates;
        the rest are reported unindexed with EXCEEDS_MAX_FACES, and candidates
        of low quality with their reasons.  Every image is decoded before
        anything is written, so a bad file stores nothing.
        """
        if not subject or len(subject) > 256:
            raise InvalidInputError("subject id must be 1-256 characters")
        if max_faces_per_image < 1:
            raise InvalidInputError("max_faces_per_image must be at least 1")
        ref = self.store.collection(ctx.tenant, collection)
        sources: list[ImageSource] = list(images) if isinstance(images, list | tuple) else [images]  # type: ignore[list-item]
        if not sources:
            raise InvalidInputError("enroll needs at least one image")
        decoded = []
        for position, source in enumerate(sources):
            try:
                decoded.append((_label(source, position), self.engine.decode(source)))
            except InvalidImageError as exc:
                raise type(exc)(f"{_label(source, position)}: {exc}") from exc
        new_faces: list[NewFace] = []
        unindexed: list[UnindexedFace] = []
        empty: list[str] = []
        for label, image in decoded:
            faces, rejected = self._enrollable(image, max_faces_per_image, label)
            unindexed += rejected
            if not faces and not rejected:
                empty.append(label)
            new_faces += self._new_faces(image, faces, ref.model_id)
        indexed: list[FaceRecord] = []
        if new_faces:
            indexed = self._store_faces(ref, subject, display_name, new_faces)
        return EnrollResult(ref.name, subject, indexed, unindexed, empty)

    def _enrollable(
        self, image: DecodedImage, max_faces: int, label: str
    ) -> tuple[list[DetectedFace], list[UnindexedFace]]:
        faces = self.engine.detect_decoded(image).faces
        usable, rejected = [], []
        for rank, face in enumerate(faces):
            assert face.quality is not None
            reasons = face.quality.reasons
            if rank >= max_faces:
                reasons = (UnindexedReason.EXCEEDS_MAX_FACES, *reasons)
            if reasons:
                rejected.append(UnindexedFace(face, reasons, label))
            else:
                usable.append(face)
        return usable, rejected

    def _new_faces(self, image: DecodedImage, faces: list[DetectedFace], model_id: str) -> list[NewFace]:
        out = []
        for embedded in self.engine.embed(image, faces, model_id):
            face = embedded.face
            assert face.quality is not None
            quality = asdict(face.quality)
            quality["level"] = face.quality.level.value
            quality["reasons"] = [r.value for r in face.quality.reasons]
            thumb = self.engine.thumbnail(image, face) if self.settings.store_thumbnails else None
            out.append(
                NewFace(embedded.embedding, model_id, face.box, face.confidence, quality, image.info.sha256, thumb)
            )
        return out

    def _store_faces(
        self, ref: CollectionRef, subject: str, display_name: str | None, faces: list[NewFace]
    ) -> list[FaceRecord]:
        with self._write_lock:
            records, row_ids, subject_row = self.store.add_faces(ref, subject, display_name, faces)
            vectors = np.stack([f.embedding for f in faces])
            self.indexes.apply(ref, lambda index: index.add(row_ids, [subject_row] * len(row_ids), vectors))
        return records

    # -- search ----------------------------------------------------------------------------
    def _search_threshold(self, spec: ModelSpec, fmr: float | None, min_score: float | None) -> tuple[float, float]:
        fmr = fmr or self.settings.default_fmr
        if min_score is not None:
            return score_to_similarity(min_score, spec.thresholds), fmr
        return threshold_for(spec.thresholds, fmr, spec.id), fmr

    def _matches(
        self,
        ref: CollectionRef,
        spec: ModelSpec,
        queries: np.ndarray,
        top_k: int,
        threshold: float,
        exclude: Sequence[int] = (),
    ) -> list[list[SubjectMatch]]:
        if top_k < 1 or top_k > 1000:
            raise InvalidInputError("top_k must be within 1..1000")
        hits = self.indexes.get(ref).search(queries, top_k, threshold, exclude)
        subjects = self.store.subjects_by_row([h.label for row in hits for h in row])
        face_ids = self.store.face_ids_by_row([h.entry_id for row in hits for h in row])
        return [
            [
                SubjectMatch(
                    subject=subjects[h.label][0],
                    display_name=subjects[h.label][1],
                    face_id=face_ids[h.entry_id],
                    similarity=round(h.similarity, 6),
                    score=round(float(similarity_to_score(h.similarity, spec.thresholds)), 2),
                )
                for h in row
                if h.label in subjects and h.entry_id in face_ids
            ]
            for row in hits
        ]

    def search(
        self,
        collection: str,
        image: ImageSource,
        ctx: CallContext = LOCAL,
        *,
        top_k: int = 5,
        fmr: float | None = None,
        min_score: float | None = None,
        all_faces: bool = False,
    ) -> SearchResult:
        """1:N: subjects whose best face matches the probe's largest face (or each face) above the threshold."""
        ref = self.store.collection(ctx.tenant, collection)
        spec = self.registry.spec(ref.model_id)
        threshold, fmr = self._search_threshold(spec, fmr, min_score)
        decoded = self.engine.decode(image)
        faces = self.engine.detect_decoded(decoded).faces
        if not faces:
            raise NoFaceError("no face found in the probe image")
        probes = self.engine.embed(decoded, faces if all_faces else faces[:1], spec.id)
        matches = self._matches(ref, spec, np.stack([p.embedding for p in probes]), top_k, threshold)
        results = [FaceSearchResult(p.face, m) for p, m in zip(probes, matches, strict=True)]
        return SearchResult(ref.name, spec.id, threshold, fmr, results)

    def search_by_face(
        self,
        collection: str,
        face_id: str,
        ctx: CallContext = LOCAL,
        *,
        top_k: int = 5,
        fmr: float | None = None,
        min_score: float | None = None,
    ) -> SearchResult:
        """1:N with a stored face as the probe; the probe face itself is not returned."""
        ref = self.store.collection(ctx.tenant, collection)
        record, embedding, row_id = self.store.face(ctx.tenant, face_id)
        if record.model_id != ref.model_id:
            raise ModelMismatchError(
                f"face {face_id} is a {record.model_id} template;"
                f" collection '{collection}' holds {ref.model_id} templates"
            )
        spec = self.registry.spec(ref.model_id)
        threshold, fmr = self._search_threshold(spec, fmr, min_score)
        matches = self._matches(ref, spec, embedding[None, :], top_k, threshold, exclude=[row_id])
        return SearchResult(ref.name, spec.id, threshold, fmr, [FaceSearchResult(None, matches[0])])

    # -- listing and deletion --------------------------------------------------------------
    def list_subjects(self, collection: str, ctx: CallContext = LOCAL, offset: int = 0, limit: int = 100) -> Page:
        return self.store.list_subjects(self.store.collection(ctx.tenant, collection), offset, limit)

    def list_faces(
        self,
        collection: str,
        ctx: CallContext = LOCAL,
        *,
        subject: str | None = None,
        offset: int = 0,
        limit: int = 100,
    ) -> Page:
        return self.store.list_faces(self.store.collection(ctx.tenant, collection), subject, offset, limit)

    def delete_faces(self, collection: str, face_ids: Sequence[str], ctx: CallContext = LOCAL) -> int:
        """Delete templates and their index entries; returns how many were removed."""
        ref = self.store.collection(ctx.tenant, collection)
        with self._write_lock:
            rows = self.store.delete_faces(ref, list(face_ids))
            self.indexes.apply(ref, lambda index: index.remove(rows))
        return len(rows)

    def delete_subject(self, collection: str, subject: str, ctx: CallContext = LOCAL) -> int:
        """Delete a subject, its templates and index entries; returns templates removed."""
        ref = self.store.collection(ctx.tenant, collection)
        with self._write_lock:
            rows = self.store.delete_subject(ref, subject)
            self.indexes.apply(ref, lambda index: index.remove(rows))
        return len(rows)
