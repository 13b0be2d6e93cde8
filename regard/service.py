"""Regard: the one object every biometric operation goes through.

Each method takes a ``CallContext`` (actor, tenant, declared purpose, roles).
Before a call the service checks the caller's role and asks the policy engine;
after it, it writes the audit ledger.  The CLI, the API and library users all
come through here, so none of them can skip a rule.
"""

from __future__ import annotations

import threading
from collections.abc import Sequence
from dataclasses import asdict, replace
from datetime import timedelta
from pathlib import Path
from typing import Any

import numpy as np

from regard.backends.calibration import score_to_similarity, similarity_to_score, threshold_for
from regard.backends.registry import ModelRegistry, user_embedder_spec
from regard.backends.runtime import RuntimeOptions
from regard.backends.specs import ModelSpec
from regard.context import LOCAL, CallContext
from regard.domain import (
    AlignedFace,
    CollectionInfo,
    ComparePair,
    Comparison,
    Decision,
    Detection,
    EmbeddedFace,
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
from regard.governance import review
from regard.governance.guard import Governance, utcnow
from regard.governance.ledger import LedgerFields
from regard.governance.policy import PolicyDecision
from regard.governance.roles import Operation
from regard.index.catalog import IndexCatalog
from regard.models_io import spec_from_dict, spec_to_dict
from regard.oversight import OversightOperations
from regard.settings import Settings
from regard.store.database import open_engine
from regard.store.repository import CollectionRef, NewFace, Store
from regard.vision.decode import DecodedImage, ImageSource

_NAME_CHARS = set("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_.")


def check_name(kind: str, name: str) -> None:
    if not name or len(name) > 128 or not set(name) <= _NAME_CHARS:
        raise InvalidInputError(f"{kind} name must be 1-128 characters of letters, digits, '-', '_' or '.': {name!r}")


def _label(source: ImageSource, position: int) -> str:
    return str(source) if isinstance(source, str | Path) else f"image #{position + 1}"


class Regard(OversightOperations):
    """Face detection, comparison, enrollment and search, governed, over an embedded store."""

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
        self.governance = Governance(self.store.engine, self.settings)
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
        self.require(ctx, Operation.DECLARE)
        check_name("model", model_id)
        spec = user_embedder_spec(model_id, Path(path), thresholds, licence)
        self.registry.add(spec)
        self.store.save_user_model(model_id, spec_to_dict(spec))
        self.log(ctx, "register-model", self.admin_decision(), result={"model": model_id, "sha256": spec.sha256})
        return spec

    def _decision(self, spec: ModelSpec, similarity: float, fmr: float | None, min_score: float | None) -> Decision:
        fmr = fmr or self.settings.default_fmr
        threshold = threshold_for(spec.thresholds, fmr, spec.id)
        if min_score is not None:  # a policy's minimum score can only raise the bar
            threshold = max(threshold, score_to_similarity(min_score, spec.thresholds))
        score = float(similarity_to_score(similarity, spec.thresholds))
        return Decision(similarity, round(score, 2), threshold, fmr, similarity >= threshold)

    # -- detect and compare ----------------------------------------------------------------
    def detect(self, image: ImageSource, ctx: CallContext = LOCAL, detector: str | None = None) -> Detection:
        """Faces in an image, largest first, with landmarks and quality."""
        decision = self.check(ctx, Operation.DETECT)
        result = self.engine.detect(image, detector)
        self.log(
            ctx,
            "detect",
            decision,
            inputs=[result.image.sha256],
            model=result.detector,
            result={"faces": len(result.faces)},
        )
        return result

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
        """1:1 verification: the first image's largest face (every face with ``all_faces``) against every face of
        the second; ``best`` is the decision."""
        spec = self.registry.spec(model or self.settings.embedder)
        decision = self.check(ctx, Operation.COMPARE, model_id=spec.id)
        decoded = [self.engine.decode(image_a), self.engine.decode(image_b)]
        hashes = [d.info.sha256 for d in decoded]
        scored = self.engine.compare(decoded[0], decoded[1], spec.id, all_faces)
        sims = scored.similarities
        pairs = [
            ComparePair(i, j, self._decision(spec, float(sims[i, j]), fmr, decision.min_score))
            for i in range(sims.shape[0])
            for j in range(sims.shape[1])
        ]
        result = Comparison(faces_a=scored.faces_a, faces_b=scored.faces_b, pairs=pairs, model_id=spec.id)
        best = result.best.decision
        self.log(
            ctx,
            "compare",
            decision,
            inputs=hashes,
            model=spec.id,
            threshold=best.threshold,
            result={"pairs": len(pairs), "best_similarity": round(best.similarity, 4), "match": best.match},
        )
        return result

    def compare_faces(
        self, face_id_a: str, face_id_b: str, ctx: CallContext = LOCAL, fmr: float | None = None
    ) -> Decision:
        """1:1 between two stored faces; refused when their models differ."""
        decision = self.check(ctx, Operation.COMPARE)
        rec_a, emb_a, _ = self.store.face(ctx.tenant, face_id_a)
        rec_b, emb_b, _ = self.store.face(ctx.tenant, face_id_b)
        if rec_a.model_id != rec_b.model_id:
            raise ModelMismatchError(
                f"face {face_id_a} is a {rec_a.model_id} template, {face_id_b} a {rec_b.model_id} one"
            )
        result = self._decision(self.registry.spec(rec_a.model_id), float(emb_a @ emb_b), fmr, decision.min_score)
        self.log(
            ctx,
            "compare",
            decision,
            model=rec_a.model_id,
            threshold=result.threshold,
            result={"faces": [face_id_a, face_id_b], "match": result.match},
        )
        return result

    # -- collections -----------------------------------------------------------------------
    def create_collection(
        self, name: str, ctx: CallContext = LOCAL, *, model: str | None = None, description: str = ""
    ) -> CollectionInfo:
        """A collection serves the caller's declared purpose and one embedding model, for life."""
        check_name("collection", name)
        decision = self.check(ctx, Operation.MANAGE)
        spec = self.registry.spec(model or self.settings.embedder)
        if spec.kind != "embedder":
            raise InvalidInputError(f"model '{spec.id}' is a {spec.kind}; collections need an embedder")
        info = self.store.create_collection(ctx.tenant, name, spec.id, spec.embedding_size, description, ctx.purpose)
        self.log(ctx, "create-collection", decision, collection=name, model=spec.id)
        return info

    def list_collections(self, ctx: CallContext = LOCAL, offset: int = 0, limit: int = 100) -> Page:
        self.require(ctx, Operation.READ)
        return self.store.list_collections(ctx.tenant, offset, limit)

    def describe_collection(self, name: str, ctx: CallContext = LOCAL) -> CollectionInfo:
        self.require(ctx, Operation.READ)
        return self.store.describe_collection(ctx.tenant, name)

    def delete_collection(self, name: str, ctx: CallContext = LOCAL) -> int:
        """Delete a collection, its subjects, templates and index; returns templates removed."""
        ref = self.store.collection(ctx.tenant, name)
        decision = self.check(ctx, Operation.MANAGE, ref)
        with self._write_lock:
            removed = self.store.delete_collection(ctx.tenant, name)
            self.indexes.forget(ref.id)
        self.log(ctx, "delete-collection", decision, collection=name, result={"templates_removed": removed})
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
        provenance: str = "upload",
    ) -> EnrollResult:
        """Add the faces of ``images`` to ``subject`` (created on first use), all or nothing.

        Per image, the largest ``max_faces_per_image`` faces are candidates; the
        rest are reported unindexed with EXCEEDS_MAX_FACES, and candidates of
        low quality with their reasons.  Every image is decoded before anything
        is written, so a bad file stores nothing.  ``provenance`` says where the
        images come from; scraped images are refused.
        """
        if not subject or len(subject) > 256:
            raise InvalidInputError("subject id must be 1-256 characters")
        if max_faces_per_image < 1:
            raise InvalidInputError("max_faces_per_image must be at least 1")
        ref = self.store.collection(ctx.tenant, collection)
        is_new = not self.store.has_subject(ref, subject)
        subjects_after = self.store.subject_count(ref) + int(is_new)
        decision = self.check(ctx, Operation.ENROLL, ref, subjects_after=subjects_after, provenance=provenance)
        self.require_consent(ctx, subject, collection)
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
        fields = self.ledger_fields(
            ctx,
            "enroll",
            decision,
            collection=collection,
            inputs=[image.info.sha256 for _, image in decoded],
            model=ref.model_id,
            result={"subject": subject, "indexed": len(new_faces), "unindexed": len(unindexed)},
        )
        indexed: list[FaceRecord] = []
        if new_faces:
            indexed = self._store_faces(ctx, ref, subject, display_name, new_faces, fields)
        else:
            self.governance.record(ctx.tenant, fields)
        return EnrollResult(ref.name, subject, indexed, unindexed, empty)

    def _enrollable(
        self, image: DecodedImage, max_faces: int, label: str
    ) -> tuple[list[AlignedFace], list[UnindexedFace]]:
        usable, rejected = [], []
        for rank, aligned in enumerate(self.engine.analyse(image)):
            face = aligned.face
            assert face.quality is not None
            reasons = face.quality.reasons
            if rank >= max_faces:
                reasons = (UnindexedReason.EXCEEDS_MAX_FACES, *reasons)
            if reasons:
                rejected.append(UnindexedFace(face, reasons, label))
            else:
                usable.append(aligned)
        return usable, rejected

    def _new_faces(self, image: DecodedImage, faces: list[AlignedFace], model_id: str) -> list[NewFace]:
        out = []
        for embedded in self.engine.embed(image, faces, model_id):
            face = embedded.face
            assert face.quality is not None
            quality = asdict(face.quality)
            quality["level"] = face.quality.level.value
            quality["reasons"] = [r.value for r in face.quality.reasons]
            thumb = self.engine.thumbnail(embedded) if self.settings.store_thumbnails else None
            out.append(
                NewFace(embedded.embedding, model_id, face.box, face.confidence, quality, image.info.sha256, thumb)
            )
        return out

    def _store_faces(
        self,
        ctx: CallContext,
        ref: CollectionRef,
        subject: str,
        display_name: str | None,
        faces: list[NewFace],
        fields: LedgerFields,
    ) -> list[FaceRecord]:
        purpose = self.governance.purpose(ctx.tenant, ref.purpose or ctx.purpose)
        delete_by = utcnow() + timedelta(days=purpose.retention_days) if purpose else None
        with self._write_lock:
            records, row_ids, subject_row = self.store.add_faces(
                ref,
                subject,
                display_name,
                faces,
                delete_by,
                in_transaction=lambda session: self.governance.record(ctx.tenant, fields, session),
            )
            vectors = np.stack([f.embedding for f in faces])
            self.indexes.apply(ref, lambda index: index.add(row_ids, [subject_row] * len(row_ids), vectors))
        return records

    # -- search ----------------------------------------------------------------------------
    def _search_threshold(
        self, spec: ModelSpec, fmr: float | None, min_score: float | None, policy: PolicyDecision
    ) -> tuple[float, float]:
        fmr = fmr or self.settings.default_fmr
        threshold = (
            score_to_similarity(min_score, spec.thresholds)
            if min_score is not None
            else threshold_for(spec.thresholds, fmr, spec.id)
        )
        if policy.min_score is not None:  # a policy's minimum score can only raise the bar
            threshold = max(threshold, score_to_similarity(policy.min_score, spec.thresholds))
        return threshold, fmr

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
        source: str = "upload",
    ) -> SearchResult:
        """1:N: subjects whose best face matches the probe's largest face (or each face) above the threshold.

        For consequential purposes the matches are held for human review: the
        result then carries ``review_case`` and no matches until two reviewers
        confirm them (``review_result``).
        """
        ref = self.store.collection(ctx.tenant, collection)
        # Decide before touching the pixels; a search of several faces at once is decided again on their count.
        decision = self.check(ctx, Operation.SEARCH, ref, source=source)
        decoded = self.engine.decode(image)
        faces = self.engine.find_faces(decoded)
        probes = faces if all_faces else faces[:1]
        if len(probes) > 1:
            decision = self.check(
                ctx, Operation.SEARCH, ref, probe_faces=len(probes), source=source, inputs=[decoded.info.sha256]
            )
        if not faces:
            raise NoFaceError("no face found in the probe image")
        spec = self.registry.spec(ref.model_id)
        threshold, fmr = self._search_threshold(spec, fmr, min_score, decision)
        embedded = self.engine.embed(decoded, self.engine.align(decoded, probes), spec.id)
        matches = self._matches(ref, spec, np.stack([p.embedding for p in embedded]), top_k, threshold)
        results = [FaceSearchResult(p.face, m) for p, m in zip(embedded, matches, strict=True)]
        result = SearchResult(ref.name, spec.id, threshold, fmr, results)
        return self._release_or_hold(ctx, ref, decision, result, decoded, embedded)

    def _release_or_hold(
        self,
        ctx: CallContext,
        ref: CollectionRef,
        decision: PolicyDecision,
        result: SearchResult,
        probe: DecodedImage | None,
        embedded: Sequence[EmbeddedFace] = (),
    ) -> SearchResult:
        candidates = [asdict(m) for r in result.results for m in r.matches]
        summary = {
            "probe_faces": len(result.results),
            "candidates": [{"subject": c["subject"], "score": c["score"]} for c in candidates[:10]],
        }
        inputs = [probe.info.sha256] if probe else []
        if decision.effect != "review":
            self.log(
                ctx,
                "search",
                decision,
                collection=ref.name,
                inputs=inputs,
                model=result.model_id,
                threshold=result.threshold,
                result=summary,
            )
            return result
        thumbnail = self.engine.thumbnail(embedded[0]) if embedded else None

        def hold(session: Any) -> str:
            case_id = review.create(
                session,
                ctx.tenant,
                ref.name,
                ctx.purpose,
                ctx.actor,
                inputs[0] if inputs else "",
                thumbnail,
                result.model_id,
                result.threshold,
                candidates,
            )
            fields = self.ledger_fields(
                ctx,
                "search",
                decision,
                collection=ref.name,
                inputs=inputs,
                model=result.model_id,
                threshold=result.threshold,
                result={**summary, "held_for_review": case_id},
            )
            self.governance.record(ctx.tenant, fields, session)
            return case_id

        case_id: str = self.governance.in_transaction(hold)
        held = [replace(r, matches=[]) for r in result.results]
        return replace(result, results=held, review_case=case_id)

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
        decision = self.check(ctx, Operation.SEARCH, ref, source="stored-face")
        record, embedding, row_id = self.store.face(ctx.tenant, face_id)
        if record.model_id != ref.model_id:
            raise ModelMismatchError(
                f"face {face_id} is a {record.model_id} template;"
                f" collection '{collection}' holds {ref.model_id} templates"
            )
        spec = self.registry.spec(ref.model_id)
        threshold, fmr = self._search_threshold(spec, fmr, min_score, decision)
        matches = self._matches(ref, spec, embedding[None, :], top_k, threshold, exclude=[row_id])
        result = SearchResult(ref.name, spec.id, threshold, fmr, [FaceSearchResult(None, matches[0])])
        return self._release_or_hold(ctx, ref, decision, result, None)

    # -- listing and deletion --------------------------------------------------------------
    def list_subjects(self, collection: str, ctx: CallContext = LOCAL, offset: int = 0, limit: int = 100) -> Page:
        self.require(ctx, Operation.READ)
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
        self.require(ctx, Operation.READ)
        return self.store.list_faces(self.store.collection(ctx.tenant, collection), subject, offset, limit)

    def delete_faces(self, collection: str, face_ids: Sequence[str], ctx: CallContext = LOCAL) -> int:
        """Delete templates and their index entries; returns how many were removed."""
        ref = self.store.collection(ctx.tenant, collection)
        decision = self.check(ctx, Operation.MANAGE, ref)
        fields = self.ledger_fields(
            ctx, "delete-faces", decision, collection=collection, result={"faces": list(face_ids)}
        )
        with self._write_lock:
            rows = self.store.delete_faces(
                ref, list(face_ids), lambda session: self.governance.record(ctx.tenant, fields, session)
            )
            self.indexes.apply(ref, lambda index: index.remove(rows))
        return len(rows)

    def delete_subject(self, collection: str, subject: str, ctx: CallContext = LOCAL) -> int:
        """Delete a subject, its templates and index entries; returns templates removed."""
        ref = self.store.collection(ctx.tenant, collection)
        decision = self.check(ctx, Operation.MANAGE, ref)
        fields = self.ledger_fields(ctx, "delete-subject", decision, collection=collection, result={"subject": subject})
        with self._write_lock:
            rows = self.store.delete_subject(
                ref, subject, lambda session: self.governance.record(ctx.tenant, fields, session)
            )
            self.indexes.apply(ref, lambda index: index.remove(rows))
        return len(rows)
