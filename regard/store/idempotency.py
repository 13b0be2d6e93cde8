"""Idempotency keys: a request retried with the same key gets the first result, and its effect happens once.

The key is written in the same transaction as the effect it guards, so a
crash can never leave an effect without its key (a retry would repeat it) or
a key without its effect.  Two concurrent requests with one key race on the
primary key: the loser's transaction, effect included, rolls back.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Engine, delete
from sqlalchemy.orm import Session, sessionmaker

from regard.store.tables import IdempotencyRow

MAX_KEY_CHARS = 256


@dataclass(frozen=True)
class Remembered:
    operation: str
    fingerprint: str
    result: dict[str, Any]
    created_at: datetime


class IdempotencyRecords:
    def __init__(self, engine: Engine) -> None:
        self._sessions = sessionmaker(engine, expire_on_commit=False)

    def recall(self, tenant: str, key: str) -> Remembered | None:
        """The first result stored under ``key`` in the tenant, if any."""
        with self._sessions.begin() as s:
            row = s.get(IdempotencyRow, (tenant, key))
            if row is None:
                return None
            return Remembered(row.operation, row.fingerprint, dict(row.result), row.created_at)

    @staticmethod
    def remember(
        session: Session,
        tenant: str,
        key: str,
        operation: str,
        fingerprint: str,
        result: dict[str, Any],
        subject: str | None = None,
    ) -> None:
        """Store the result inside the caller's transaction; a concurrent twin makes the flush fail."""
        row = IdempotencyRow(
            tenant=tenant, key=key, operation=operation, fingerprint=fingerprint, result=result, subject=subject
        )
        session.add(row)
        session.flush()

    @staticmethod
    def forget_subject(session: Session, tenant: str, subject: str) -> int:
        """Drop the stored results that name an erased subject, inside the erasure's transaction.

        Whatever the erasure's scope: a stored answer holds the subject's face records (thumbnails included).
        """
        query = delete(IdempotencyRow).where(IdempotencyRow.tenant == tenant, IdempotencyRow.subject == subject)
        return int(session.execute(query).rowcount)  # type: ignore[attr-defined]

    def forget_before(self, when: datetime) -> int:
        """Drop keys older than ``when`` (retries come within minutes; the records need not live forever)."""
        with self._sessions.begin() as s:
            return int(s.execute(delete(IdempotencyRow).where(IdempotencyRow.created_at < when)).rowcount)  # type: ignore[attr-defined]
