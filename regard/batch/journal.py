"""The job journal: every item's state in a small SQLite file, so a killed job resumes without redoing work.

An item is ``pending``, then ``running`` while a window of items is out with
the workers, then ``done`` or ``skipped`` (with the reason) once its outcome
is back, or ``failed`` when something other than the image went wrong (it is
sent out again by the next run).  After a crash only ``running`` items are uncertain; the job
reconciles them with the store before sending them out again.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from regard.batch.manifest import BatchItem

_SCHEMA = """
CREATE TABLE IF NOT EXISTS items (
    item_id TEXT PRIMARY KEY,
    position INTEGER NOT NULL,
    subject TEXT NOT NULL,
    path TEXT NOT NULL,
    status TEXT NOT NULL DEFAULT 'pending',
    reason TEXT NOT NULL DEFAULT '',
    faces INTEGER NOT NULL DEFAULT 0,
    vector BLOB
)
"""


@dataclass(frozen=True)
class ItemOutcome:
    item_id: str
    status: str  # done | skipped | failed
    reason: str = ""
    faces: int = 0
    vector: bytes | None = None  # embedding jobs: the template, float32 little-endian


class Journal:
    def __init__(self, path: Path) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        self.path = path
        self._conn = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
        self._conn.execute("PRAGMA journal_mode=WAL")
        self._conn.execute("PRAGMA synchronous=NORMAL")
        self._conn.execute(_SCHEMA)

    def close(self) -> None:
        self._conn.close()

    def plan(self, items: Sequence[BatchItem]) -> None:
        """Add items not seen before (a resumed job keeps the states it had)."""
        with self._conn:
            self._conn.executemany(
                "INSERT OR IGNORE INTO items (item_id, position, subject, path) VALUES (?, ?, ?, ?)",
                [(i.item_id, n, i.subject, i.path) for n, i in enumerate(items)],
            )

    def _items(self, where: str) -> list[BatchItem]:
        rows = self._conn.execute(f"SELECT item_id, subject, path FROM items WHERE {where} ORDER BY position")
        return [BatchItem(*row) for row in rows]

    def pending(self) -> list[BatchItem]:
        return self._items("status IN ('pending', 'failed')")

    def running(self) -> list[BatchItem]:
        return self._items("status = 'running'")

    def mark(self, item_ids: Sequence[str], status: str) -> None:
        with self._conn:
            self._conn.executemany("UPDATE items SET status = ? WHERE item_id = ?", [(status, i) for i in item_ids])

    def record(self, outcomes: Sequence[ItemOutcome]) -> None:
        with self._conn:
            self._conn.executemany(
                "UPDATE items SET status = ?, reason = ?, faces = ?, vector = ? WHERE item_id = ?",
                [(o.status, o.reason, o.faces, o.vector, o.item_id) for o in outcomes],
            )

    def counts(self) -> dict[str, int]:
        return dict(self._conn.execute("SELECT status, count(*) FROM items GROUP BY status").fetchall())

    def skipped(self, status: str = "skipped") -> list[tuple[str, str]]:
        """(image, why) of the items with ``status`` (skipped, or failed)."""
        rows = self._conn.execute("SELECT path, reason FROM items WHERE status = ? ORDER BY position", (status,))
        return [(str(p), str(r)) for p, r in rows]

    def faces(self) -> int:
        return int(self._conn.execute("SELECT coalesce(sum(faces), 0) FROM items").fetchone()[0])

    def vectors(self) -> dict[str, bytes]:
        rows = self._conn.execute("SELECT item_id, vector FROM items WHERE status = 'done' AND vector IS NOT NULL")
        return {str(i): bytes(v) for i, v in rows}
