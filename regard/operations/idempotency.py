"""A request made with an idempotency key: its fingerprint, and the first result a retry gets back."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from regard.context import CallContext
from regard.domain import EnrollResult, enroll_result_from_json, to_jsonable
from regard.errors import ConflictError, InvalidInputError
from regard.store.idempotency import MAX_KEY_CHARS, IdempotencyRecords
from regard.vision.decode import ImageSource


def _digest(source: ImageSource) -> str:
    if isinstance(source, bytes | bytearray | memoryview):
        return hashlib.sha256(bytes(source)).hexdigest()
    if isinstance(source, np.ndarray):
        return hashlib.sha256(repr(source.shape).encode() + np.ascontiguousarray(source).tobytes()).hexdigest()
    # A file is known by its name: the service reads no file before the guard has let the caller name files.
    return hashlib.sha256(str(source).encode()).hexdigest()


@dataclass(frozen=True)
class Claim:
    """An enrollment under an idempotency key: who, which key, and the fingerprint of what was asked."""

    tenant: str
    key: str
    fingerprint: str
    subject: str

    @classmethod
    def of(
        cls,
        ctx: CallContext,
        key: str,
        collection: str,
        subject: str,
        images: ImageSource | Sequence[ImageSource],
        display_name: str | None,
        max_faces_per_image: int,
        provenance: str,
    ) -> Claim:
        if not isinstance(key, str) or not key.strip() or len(key) > MAX_KEY_CHARS:
            raise InvalidInputError(f"an idempotency key is 1-{MAX_KEY_CHARS} characters")
        sources: list[ImageSource] = list(images) if isinstance(images, list | tuple) else [images]  # type: ignore[list-item]
        arguments = {
            "operation": "enroll",
            "collection": collection,
            "subject": subject,
            "display_name": display_name,
            "max_faces_per_image": max_faces_per_image,
            "provenance": provenance,
            "purpose": ctx.purpose,
            "images": [_digest(s) for s in sources],
        }
        fingerprint = hashlib.sha256(json.dumps(arguments, sort_keys=True, default=str).encode()).hexdigest()
        return cls(ctx.tenant, key, fingerprint, str(subject))

    def replay(self, records: IdempotencyRecords) -> EnrollResult | None:
        """The first result under this key; a different request under the same key is a conflict."""
        remembered = records.recall(self.tenant, self.key)
        if remembered is None:
            return None
        if remembered.operation != "enroll" or remembered.fingerprint != self.fingerprint:
            raise ConflictError(
                f"idempotency key '{self.key}' was first used for a different request; use a new key for a new request"
            )
        return enroll_result_from_json(remembered.result)

    def remember(self, session: Any, result: EnrollResult) -> None:
        IdempotencyRecords.remember(
            session, self.tenant, self.key, "enroll", self.fingerprint, to_jsonable(result), self.subject
        )
