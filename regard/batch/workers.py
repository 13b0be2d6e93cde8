"""What one worker (a Ray actor or a process) does with a list of items; it holds the models for its life."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
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
        # The worker reads the file and hands the service bytes, as a remote caller would: the service need not
        # trust a path, whoever the caller is.
        try:
            data = Path(item.path).read_bytes()
        except OSError as exc:
            return ItemOutcome(item.item_id, "skipped", f"cannot read: {exc.strerror or exc}")
        try:
            result = self._service.enroll(
                self._collection, item.subject, [data], self._ctx, max_faces_per_image=self._max_faces
            )
        except InvalidImageError as exc:
            return ItemOutcome(item.item_id, "skipped", f"invalid image: {exc}")
        except PolicyDeniedError as exc:  # consent missing, scale limit reached...: recorded in the ledger too
            return ItemOutcome(item.item_id, "skipped", f"denied by {exc.rule_id}: {exc.reason}")
        except RegardError as exc:
            return ItemOutcome(item.item_id, "skipped", f"{exc.code}: {exc}")
        except Exception as exc:  # not the image's fault (database gone...): reported, and retried on the next run
            return ItemOutcome(item.item_id, "failed", f"{type(exc).__name__}: {exc}")
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

    def __init__(
        self,
        settings: dict[str, Any],
        model_id: str,
        pick: str = "largest",
        user_models: list[dict[str, Any]] | None = None,
    ) -> None:
        from regard.backends.registry import ModelRegistry
        from regard.backends.runtime import RuntimeOptions
        from regard.engine import FaceEngine
        from regard.models_io import spec_from_dict
        from regard.settings import Settings

        resolved = Settings(**{"onnx_threads": 1, **settings})
        runtime = RuntimeOptions(threads=resolved.onnx_threads, providers=tuple(resolved.onnx_providers))
        specs = [spec_from_dict(d) for d in user_models or []]  # models registered in a store the worker cannot see
        registry = ModelRegistry(resolved.resolved_model_cache_dir(), runtime, lambda: specs)
        self._engine = FaceEngine(resolved, registry)
        self._model_id = model_id
        self._pick = pick

    def run(self, items: Sequence[BatchItem]) -> list[ItemOutcome]:
        """Decode each image, detect them in one run, embed the picked faces in one run (batches on a GPU)."""
        from regard.evaluation.imagesets import pick_face

        outcomes: dict[str, ItemOutcome] = {}
        decoded = []
        for item in items:
            try:
                decoded.append((item, self._engine.decode(item.path)))
            except RegardError as exc:
                outcomes[item.item_id] = ItemOutcome(item.item_id, "skipped", f"{exc.code}: {exc}")
        found = self._engine.find_faces_batch([image for _, image in decoded])
        picked = []
        for (item, image), faces in zip(decoded, found, strict=True):
            if not faces:
                outcomes[item.item_id] = ItemOutcome(item.item_id, "skipped", "no face found")
            else:
                face = pick_face(faces, (image.info.height, image.info.width), self._pick)  # type: ignore[arg-type]
                picked.append((item, self._engine.align(image, [face])[0]))
        embedder: Any = self._engine.registry.embedder(self._model_id)
        if picked and hasattr(embedder, "embed_crops"):  # every face's crop in one run: batches on a GPU
            vectors = embedder.embed_crops(embedder.crops([aligned for _, aligned in picked]))
        else:
            vectors = [embedder.embed(None, [aligned])[0] for _, aligned in picked]
        for (item, _), vector in zip(picked, vectors, strict=True):
            data = np.asarray(vector, dtype="<f4").tobytes()
            outcomes[item.item_id] = ItemOutcome(item.item_id, "done", faces=1, vector=data)
        return [outcomes[item.item_id] for item in items]

    def close(self) -> None:
        """Nothing to release: sessions go with the process."""


def make_worker(kind: str, kwargs: dict[str, Any]) -> EnrollWorker | EmbedWorker:
    return EnrollWorker(**kwargs) if kind == "enroll" else EmbedWorker(**kwargs)
