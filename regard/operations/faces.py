"""Biometric operations: detect, compare, enroll and search, each decided by policy and recorded."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import asdict, replace
from datetime import timedelta
from pathlib import Path
from typing import Any

import numpy as np
from sqlalchemy.exc import IntegrityError

from regard.backends.calibration import fmr_at, score_to_similarity, similarity_to_score, threshold_for
from regard.backends.specs import ModelSpec
from regard.context import CallContext
from regard.domain import (
    AlignedFace,
    ComparePair,
    Comparison,
    Decision,
    Detection,
    EmbeddedFace,
    EnrollResult,
    FaceRecord,
    FaceSearchResult,
    SearchResult,
    SubjectMatch,
    UnindexedFace,
    UnindexedReason,
    enroll_result_from_json,
    to_jsonable,
)
from regard.errors import InvalidImageError, InvalidInputError, ModelMismatchError, NoFaceError
from regard.governance import review
from regard.governance.policy import SUBJECTS, PolicyDecision
from regard.governance.repository import utcnow
from regard.governance.roles import Operation
from regard.guard import admission
from regard.operations import idempotency
from regard.operations.parts import Parts
from regard.store.repository import CollectionRef, NewFace
from regard.vision.decode import DecodedImage, ImageSource


def _label(source: ImageSource, position: int) -> str:
    return str(source) if isinstance(source, str | Path) else f"image #{position + 1}"


def effective_fmr(threshold: float, spec: ModelSpec, requested: float) -> float:
    """The calibrated false match rate at ``threshold`` (a score-based bar), never looser than ``requested``."""
    measured = fmr_at(threshold, spec.thresholds)
    return min(requested, float(f"{measured:.2g}")) if measured is not None else requested


def raised_to_score(spec: ModelSpec, threshold: float, fmr: float, min_score: float | None) -> tuple[float, float]:
    """A policy's minimum score can only raise the bar; the result states the FMR it then stands at."""
    if min_score is None:
        return threshold, fmr
    bar = score_to_similarity(min_score, spec.thresholds)
    return (bar, effective_fmr(bar, spec, fmr)) if bar > threshold else (threshold, fmr)


def check_top_k(top_k: int) -> None:
    if isinstance(top_k, bool) or not isinstance(top_k, int) or not 1 <= top_k <= 1000:
        raise InvalidInputError(f"top_k must be an integer within 1..1000, got {top_k!r}")


class FaceOperations:
    def __init__(self, parts: Parts) -> None:
        self._p = parts
        self._guard = parts.guard
        self._engine = parts.engine

    def _decision(self, spec: ModelSpec, similarity: float, fmr: float | None, min_score: float | None) -> Decision:
        fmr = fmr or self._p.settings.default_fmr
        threshold, fmr = raised_to_score(spec, threshold_for(spec.thresholds, fmr, spec.id), fmr, min_score)
        score = float(similarity_to_score(similarity, spec.thresholds))
        return Decision(similarity, round(score, 2), threshold, fmr, similarity >= threshold)

    def _decode(self, ctx: CallContext, source: ImageSource) -> DecodedImage:
        return self._engine.decode(self._guard.image(ctx, source))

    # -- detect and compare ----------------------------------------------------------------
    def detect(self, image: ImageSource, ctx: CallContext, detector: str | None = None) -> Detection:
        decision = self._guard.check(ctx, Operation.DETECT)
        result = self._engine.detect_decoded(self._decode(ctx, image), detector)
        self._guard.record(
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
        ctx: CallContext,
        *,
        all_faces: bool = False,
        fmr: float | None = None,
        model: str | None = None,
    ) -> Comparison:
        spec = self._p.registry.spec(model or self._p.settings.embedder)
        decision = self._guard.check(ctx, Operation.COMPARE, model_id=spec.id)
        decoded = [self._decode(ctx, image_a), self._decode(ctx, image_b)]
        hashes = [d.info.sha256 for d in decoded]
        scored = self._engine.compare(decoded[0], decoded[1], spec.id, all_faces)
        sims = scored.similarities
        pairs = [
            ComparePair(i, j, self._decision(spec, float(sims[i, j]), fmr, decision.min_score))
            for i in range(sims.shape[0])
            for j in range(sims.shape[1])
        ]
        result = Comparison(faces_a=scored.faces_a, faces_b=scored.faces_b, pairs=pairs, model_id=spec.id)
        best = result.best.decision
        self._guard.record(
            ctx,
            "compare",
            decision,
            inputs=hashes,
            model=spec.id,
            threshold=best.threshold,
            result={"pairs": len(pairs), "best_similarity": round(best.similarity, 4), "match": best.match},
        )
        return result

    def compare_faces(self, face_id_a: str, face_id_b: str, ctx: CallContext, fmr: float | None = None) -> Decision:
        decision = self._guard.check(ctx, Operation.COMPARE)
        store = self._p.store
        rec_a, emb_a, _ = store.face(ctx.tenant, face_id_a)
        rec_b, emb_b, _ = store.face(ctx.tenant, face_id_b)
        if rec_a.model_id != rec_b.model_id:
            raise ModelMismatchError(
                f"face {face_id_a} is a {rec_a.model_id} template, {face_id_b} a {rec_b.model_id} one"
            )
        result = self._decision(self._p.registry.spec(rec_a.model_id), float(emb_a @ emb_b), fmr, decision.min_score)
        self._guard.record(
            ctx,
            "compare",
            decision,
            model=rec_a.model_id,
            threshold=result.threshold,
            result={"faces": [face_id_a, face_id_b], "match": result.match},
        )
        return result

    # -- enrollment ------------------------------------------------------------------------
    def enroll(
        self,
        collection: str,
        subject: str,
        images: ImageSource | Sequence[ImageSource],
        ctx: CallContext,
        *,
        display_name: str | None = None,
        max_faces_per_image: int = 1,
        provenance: str = "upload",
        idempotency_key: str | None = None,
    ) -> EnrollResult:
        if idempotency_key is None:
            return self._enroll(collection, subject, images, ctx, display_name, max_faces_per_image, provenance, None)
        self._guard.require(ctx, Operation.ENROLL)
        claim = idempotency.Claim.of(
            ctx, idempotency_key, collection, subject, images, display_name, max_faces_per_image, provenance
        )
        replay = claim.replay(self._p.store.idempotency)
        if replay is not None:
            return replay
        try:
            result = self._enroll(
                collection, subject, images, ctx, display_name, max_faces_per_image, provenance, claim
            )
        except IntegrityError:  # a concurrent twin with the same key committed first; ours rolled back whole
            replay = claim.replay(self._p.store.idempotency)
            if replay is None:
                raise
            return replay
        return enroll_result_from_json(to_jsonable(result))

    def _enroll(
        self,
        collection: str,
        subject: str,
        images: ImageSource | Sequence[ImageSource],
        ctx: CallContext,
        display_name: str | None,
        max_faces_per_image: int,
        provenance: str,
        claim: idempotency.Claim | None,
    ) -> EnrollResult:
        if not isinstance(subject, str) or not subject.strip() or len(subject) > 256:
            raise InvalidInputError("subject id must be a string of 1-256 characters")
        if isinstance(max_faces_per_image, bool) or not isinstance(max_faces_per_image, int) or max_faces_per_image < 1:
            raise InvalidInputError("max_faces_per_image must be an integer of at least 1")
        ref = self._p.store.collection(ctx.tenant, collection)
        is_new = not self._p.store.has_subject(ref, subject)
        subjects_after = self._p.store.subject_count(ref) + int(is_new)
        decision = self._guard.check(ctx, Operation.ENROLL, ref, subjects_after=subjects_after, provenance=provenance)
        self._guard.require_consent(ctx, subject, collection)
        sources: list[ImageSource] = list(images) if isinstance(images, list | tuple) else [images]  # type: ignore[list-item]
        if not sources:
            raise InvalidInputError("enroll needs at least one image")
        decoded = []
        for position, source in enumerate(sources):
            try:
                decoded.append((_label(source, position), self._decode(ctx, source)))
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
        fields = self._guard.fields(
            ctx,
            "enroll",
            decision,
            collection=collection,
            inputs=[image.info.sha256 for _, image in decoded],
            model=ref.model_id,
            result={"subject": subject, "indexed": len(new_faces), "unindexed": len(unindexed)},
        )
        outcome = EnrollResult(ref.name, subject, [], unindexed, empty)

        def in_transaction(session: Any, indexed: list[FaceRecord]) -> None:
            # The key first: its insert opens the write transaction before the ledger reads its last entry.
            if claim is not None:
                claim.remember(session, replace(outcome, indexed=indexed))
            self._p.governance.record(ctx.tenant, fields, session)

        if new_faces:
            details = {"collection": collection, "inputs": fields.input_sha256, "model": ref.model_id}
            with self._guard.limits(ctx, "enroll", **details):
                admit = admission(decision, SUBJECTS)
                indexed = self._store_faces(ref, subject, display_name, new_faces, ctx, in_transaction, admit)
            return replace(outcome, indexed=indexed)
        if claim is None:
            self._p.governance.record(ctx.tenant, fields)  # nothing stored: the ledger entry alone, with retries
        else:
            self._p.governance.in_transaction(lambda session: in_transaction(session, []))
        return outcome

    def _enrollable(
        self, image: DecodedImage, max_faces: int, label: str
    ) -> tuple[list[AlignedFace], list[UnindexedFace]]:
        usable, rejected = [], []
        for rank, aligned in enumerate(self._engine.analyse(image)):
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
        for embedded in self._engine.embed(image, faces, model_id):
            face = embedded.face
            assert face.quality is not None
            quality = asdict(face.quality)
            quality["level"] = face.quality.level.value
            quality["reasons"] = [r.value for r in face.quality.reasons]
            thumb = self._engine.thumbnail(embedded) if self._p.settings.store_thumbnails else None
            out.append(
                NewFace(embedded.embedding, model_id, face.box, face.confidence, quality, image.info.sha256, thumb)
            )
        return out

    def _store_faces(
        self,
        ref: CollectionRef,
        subject: str,
        display_name: str | None,
        faces: list[NewFace],
        ctx: CallContext,
        in_transaction: Callable[[Any, list[FaceRecord]], None],
        admit: Callable[[int], None] | None,
    ) -> list[FaceRecord]:
        purpose = self._p.governance.purpose(ctx.tenant, ref.purpose or ctx.purpose)
        delete_by = utcnow() + timedelta(days=purpose.retention_days) if purpose else None
        with self._p.write_lock:
            records, row_ids, subject_row = self._p.store.add_faces(
                ref, subject, display_name, faces, delete_by, in_transaction=in_transaction, admit=admit
            )
            vectors = np.stack([f.embedding for f in faces])
            self._p.indexes.apply(ref, lambda index: index.add(row_ids, [subject_row] * len(row_ids), vectors))
        return records

    # -- search ----------------------------------------------------------------------------
    def _search_threshold(
        self, spec: ModelSpec, fmr: float | None, min_score: float | None, policy: PolicyDecision
    ) -> tuple[float, float]:
        fmr = fmr or self._p.settings.default_fmr
        threshold = (
            score_to_similarity(min_score, spec.thresholds)
            if min_score is not None
            else threshold_for(spec.thresholds, fmr, spec.id)
        )
        if min_score is not None:
            fmr = effective_fmr(threshold, spec, fmr)
        return raised_to_score(spec, threshold, fmr, policy.min_score)

    def _matches(
        self,
        ref: CollectionRef,
        spec: ModelSpec,
        queries: np.ndarray,
        top_k: int,
        threshold: float,
        exclude: Sequence[int] = (),
    ) -> list[list[SubjectMatch]]:
        hits = self._p.indexes.get(ref).search(queries, top_k, threshold, exclude)
        subjects = self._p.store.subjects_by_row([h.label for row in hits for h in row])
        face_ids = self._p.store.face_ids_by_row([h.entry_id for row in hits for h in row])
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
        ctx: CallContext,
        *,
        top_k: int = 5,
        fmr: float | None = None,
        min_score: float | None = None,
        all_faces: bool = False,
        source: str = "upload",
    ) -> SearchResult:
        check_top_k(top_k)
        ref = self._p.store.collection(ctx.tenant, collection)
        # Decide before touching the pixels; a search of several faces at once is decided again on their count.
        decision = self._guard.check(ctx, Operation.SEARCH, ref, source=source)
        decoded = self._decode(ctx, image)
        faces = self._engine.find_faces(decoded)
        probes = faces if all_faces else faces[:1]
        if len(probes) > 1:
            decision = self._guard.check(
                ctx, Operation.SEARCH, ref, probe_faces=len(probes), source=source, inputs=[decoded.info.sha256]
            )
        if not faces:
            raise NoFaceError("no face found in the probe image")
        spec = self._p.registry.spec(ref.model_id)
        threshold, fmr = self._search_threshold(spec, fmr, min_score, decision)
        embedded = self._engine.embed(decoded, self._engine.align(decoded, probes), spec.id)
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
        summary: dict[str, Any] = {"probe_faces": len(result.results)}
        if ctx.case_reference is not None:
            summary["case_reference"] = ctx.case_reference
        inputs = [probe.info.sha256] if probe else []
        details: dict[str, Any] = {
            "collection": ref.name,
            "inputs": inputs,
            "model": result.model_id,
            "threshold": result.threshold,
        }
        if decision.effect != "review":
            summary["candidates"] = [{"subject": c["subject"], "score": c["score"]} for c in candidates[:10]]
            with self._guard.limits(ctx, "search", **details):
                self._guard.record(ctx, "search", decision, result=summary, **details)
            return result
        thumbnail = self._engine.thumbnail(embedded[0]) if embedded else None

        def hold(session: Any) -> str:
            held = review.create(
                session,
                review.NewCase(
                    ctx.tenant,
                    ref.name,
                    ctx.purpose,
                    ctx.actor,
                    inputs[0] if inputs else "",
                    thumbnail,
                    result.model_id,
                    result.threshold,
                    decision.reviewers,
                ),
                candidates,
            )
            # The ledger proves later what was held without naming anyone before release (review.seal).
            sealed = {"held_for_review": held.id, **held.commitment}
            self._guard.record(ctx, "search", decision, session, result={**summary, **sealed}, **details)
            return held.id

        with self._guard.limits(ctx, "search", **details):
            case_id: str = self._p.governance.in_transaction(hold)
        return replace(result, results=[replace(r, matches=[]) for r in result.results], review_case=case_id)

    def search_by_face(
        self,
        collection: str,
        face_id: str,
        ctx: CallContext,
        *,
        top_k: int = 5,
        fmr: float | None = None,
        min_score: float | None = None,
    ) -> SearchResult:
        check_top_k(top_k)
        ref = self._p.store.collection(ctx.tenant, collection)
        decision = self._guard.check(ctx, Operation.SEARCH, ref, source="stored-face")
        record, embedding, row_id = self._p.store.face(ctx.tenant, face_id)
        if record.model_id != ref.model_id:
            raise ModelMismatchError(
                f"face {face_id} is a {record.model_id} template;"
                f" collection '{collection}' holds {ref.model_id} templates"
            )
        spec = self._p.registry.spec(ref.model_id)
        threshold, fmr = self._search_threshold(spec, fmr, min_score, decision)
        matches = self._matches(ref, spec, embedding[None, :], top_k, threshold, exclude=[row_id])
        result = SearchResult(ref.name, spec.id, threshold, fmr, [FaceSearchResult(None, matches[0])])
        return self._release_or_hold(ctx, ref, decision, result, None)
