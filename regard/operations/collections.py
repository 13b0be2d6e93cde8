"""Collections, subjects and faces: creating, listing and deleting them."""

from __future__ import annotations

from collections.abc import Sequence

from regard.context import CallContext
from regard.domain import CollectionInfo, FaceRecord, Page
from regard.errors import InvalidInputError
from regard.governance.roles import Operation
from regard.index.base import IndexCheck
from regard.operations.parts import Parts
from regard.store.repository import CollectionRef

_NAME_CHARS = set("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_.")


def check_name(kind: str, name: str) -> None:
    if not isinstance(name, str) or not name or len(name) > 128 or not set(name) <= _NAME_CHARS:
        raise InvalidInputError(f"{kind} name must be 1-128 characters of letters, digits, '-', '_' or '.': {name!r}")


class CollectionOperations:
    def __init__(self, parts: Parts) -> None:
        self._p = parts
        self._guard = parts.guard

    def create_collection(
        self, name: str, ctx: CallContext, *, model: str | None = None, description: str = ""
    ) -> CollectionInfo:
        check_name("collection", name)
        decision = self._guard.check(ctx, Operation.MANAGE)
        spec = self._p.registry.spec(model or self._p.settings.embedder)
        if spec.kind != "embedder":
            raise InvalidInputError(f"model '{spec.id}' is a {spec.kind}; collections need an embedder")
        info = self._p.store.create_collection(ctx.tenant, name, spec.id, spec.embedding_size, description, ctx.purpose)
        self._guard.record(ctx, "create-collection", decision, collection=name, model=spec.id)
        return info

    def list_collections(self, ctx: CallContext, offset: int = 0, limit: int = 100) -> Page:
        self._guard.require(ctx, Operation.READ)
        return self._p.store.list_collections(ctx.tenant, offset, limit)

    def describe_collection(self, name: str, ctx: CallContext) -> CollectionInfo:
        self._guard.require(ctx, Operation.READ)
        return self._p.store.describe_collection(ctx.tenant, name)

    def delete_collection(self, name: str, ctx: CallContext) -> int:
        ref = self._managed(name, ctx)
        decision = self._guard.check(ctx, Operation.MANAGE, ref)
        with self._p.write_lock:
            removed = self._p.store.delete_collection(ctx.tenant, name)
            self._p.indexes.forget(ref.id)
        self._p.store.scrub()
        self._guard.record(ctx, "delete-collection", decision, collection=name, result={"templates_removed": removed})
        return removed

    def list_subjects(self, collection: str, ctx: CallContext, offset: int = 0, limit: int = 100) -> Page:
        self._guard.require(ctx, Operation.READ)
        return self._p.store.list_subjects(self._p.store.collection(ctx.tenant, collection), offset, limit)

    def list_faces(
        self, collection: str, ctx: CallContext, *, subject: str | None = None, offset: int = 0, limit: int = 100
    ) -> Page:
        self._guard.require(ctx, Operation.READ)
        return self._p.store.list_faces(self._p.store.collection(ctx.tenant, collection), subject, offset, limit)

    def face(self, face_id: str, ctx: CallContext) -> FaceRecord:
        self._guard.require(ctx, Operation.READ)
        return self._p.store.face(ctx.tenant, face_id)[0]

    def delete_faces(self, collection: str, face_ids: Sequence[str], ctx: CallContext) -> int:
        ref = self._managed(collection, ctx)
        decision = self._guard.check(ctx, Operation.MANAGE, ref)
        fields = self._guard.fields(
            ctx, "delete-faces", decision, collection=collection, result={"faces": list(face_ids)}
        )
        with self._p.write_lock:
            rows = self._p.store.delete_faces(
                ref, list(face_ids), lambda session: self._p.governance.record(ctx.tenant, fields, session)
            )
            self._p.indexes.apply(ref, lambda index: index.remove(rows))
        self._p.store.scrub()
        return len(rows)

    def delete_subject(self, collection: str, subject: str, ctx: CallContext) -> int:
        ref = self._managed(collection, ctx)
        decision = self._guard.check(ctx, Operation.MANAGE, ref)
        fields = self._guard.fields(ctx, "delete-subject", decision, collection=collection, result={"subject": subject})
        with self._p.write_lock:
            rows = self._p.store.delete_subject(
                ref, subject, lambda session: self._p.governance.record(ctx.tenant, fields, session)
            )
            self._p.indexes.apply(ref, lambda index: index.remove(rows))
        self._p.store.scrub()
        return len(rows)

    def check_index(self, collection: str, ctx: CallContext, *, repair: bool = False) -> IndexCheck:
        """The index is derived data: checked against the store (counts and ids), rebuilt from it on ``repair``."""
        self._guard.require(ctx, Operation.MANAGE if repair else Operation.READ)
        ref = self._p.store.collection(ctx.tenant, collection)
        decision = self._guard.allow(ctx, Operation.MANAGE) if repair else None
        with self._p.write_lock:
            result = self._p.indexes.check(ref, repair)
        if decision is not None and result.repaired:
            result_fields = {"backend": result.backend, "templates": result.store_count, "entries": result.index_count}
            self._guard.record(ctx, "index-repair", decision, collection=collection, result=result_fields)
        return result

    def _managed(self, collection: str, ctx: CallContext) -> CollectionRef:
        # Role first, so a caller without it learns nothing about which collections exist.
        self._guard.require(ctx, Operation.MANAGE)
        return self._p.store.collection(ctx.tenant, collection)
