"""What one worker (a Ray actor or a process) does with a list of items; it holds the models for its life."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from regard.batch.journal import ItemOutcome
from regard.batch.manifest import BatchItem
from regard.context import CallContext
from regard.errors import InvalidImageError, PolicyDeniedError, RegardError


class EnrollWorker:
    """Enrolls each item through ``Regard.enroll``: the same checks, consent, limits and ledger as any call."""

    def __init__(self, settings: dict[str, Any], collection: str, ctx: CallContext, max_faces: int = 1) -> None:
        from regard.service import Regard

        self._service = Regard(**{"onnx_threads": 1, **settings})
        self._collection = collection
        self._ctx = ctx
        self._max_faces = max_faces

    def run(self, items: Sequence[BatchItem]) -> list[ItemOutcome]:
        return [self._one(item) for item in items]

    def _one(self, item: BatchItem) -> ItemOutcome:
        try:
            result = self._service.enroll(
                self._collection, item.subject, [item.path], self._ctx, max_faces_per_image=self._max_faces
            )
        except InvalidImageError as exc:
            return ItemOutcome(item.item_id, "skipped", f"invalid image: {exc}")
        except PolicyDeniedError as exc:  # consent missing, scale limit reached...: recorded in the ledger too
            return ItemOutcome(item.item_id, "skipped", f"denied by {exc.rule_id}: {exc.reason}")
        except RegardError as exc:
            return ItemOutcome(item.item_id, "skipped", f"{exc.code}: {exc}")
        if result.indexed:
            return ItemOutcome(item.item_id, "done", faces=len(result.indexed))
        if result.unindexed:
            reasons = sorted({r.value for u in result.unindexed for r in u.reasons})
            return ItemOutcome(item.item_id, "skipped", "face not usable: " + ",".join(reasons))
        return ItemOutcome(item.item_id, "skipped", "no face found")

    def close(self) -> None:
        self._service.close()


class EmbedWorker:
    """One template per image (the largest face, or the one nearest the centre): the audit's embedding stage."""

    def __init__(self, settings: dict[str, Any], model_id: str, pick: str = "largest") -> None:
        from regard.backends.registry import ModelRegistry
        from regard.backends.runtime import RuntimeOptions
        from regard.engine import FaceEngine
        from regard.settings import Settings

        resolved = Settings(**{"onnx_threads": 1, **settings})
        runtime = RuntimeOptions(threads=resolved.onnx_threads, providers=tuple(resolved.onnx_providers))
        self._engine = FaceEngine(resolved, ModelRegistry(resolved.resolved_model_cache_dir(), runtime))
        self._model_id = model_id
        self._pick = pick

    def run(self, items: Sequence[BatchItem]) -> list[ItemOutcome]:
        from regard.evaluation.imagesets import pick_face

        out = []
        for item in items:
            try:
                image = self._engine.decode(item.path)
                faces = self._engine.detect_decoded(image).faces
            except RegardError as exc:
                out.append(ItemOutcome(item.item_id, "skipped", f"{exc.code}: {exc}"))
                continue
            if not faces:
                out.append(ItemOutcome(item.item_id, "skipped", "no face found"))
                continue
            face = pick_face(faces, image.pixels.shape, self._pick)  # type: ignore[arg-type]
            vector = np.asarray(self._engine.embed(image, [face], self._model_id)[0].embedding, dtype="<f4")
            out.append(ItemOutcome(item.item_id, "done", faces=1, vector=vector.tobytes()))
        return out

    def close(self) -> None:
        """Nothing to release: sessions go with the process."""


def make_worker(kind: str, kwargs: dict[str, Any]) -> EnrollWorker | EmbedWorker:
    return EnrollWorker(**kwargs) if kind == "enroll" else EmbedWorker(**kwargs)
