"""What a batch job works through: (subject, image) items from a folder tree, a CSV or a JSON Lines manifest."""

from __future__ import annotations

import csv
import hashlib
import json
from dataclasses import dataclass
from pathlib import Path

from regard.errors import InvalidInputError
from regard.evaluation.imagesets import IMAGE_SUFFIXES


@dataclass(frozen=True)
class BatchItem:
    item_id: str  # stable across runs: the journal's key
    subject: str
    path: str


def _item(subject: str, path: Path) -> BatchItem:
    key = hashlib.sha256(f"{subject}\n{path}".encode()).hexdigest()[:24]
    return BatchItem(key, subject, str(path))


def read_items(source: Path) -> list[BatchItem]:
    """A tree ``<subject>/<image>``, or a manifest: ``.csv`` (columns subject,path) or ``.jsonl``.

    Relative paths in a manifest are relative to the manifest's folder.
    """
    if source.is_dir():
        return [
            _item(folder.name, path)
            for folder in sorted(d for d in source.iterdir() if d.is_dir())
            for path in sorted(folder.rglob("*"))
            if path.is_file() and path.suffix.lower() in IMAGE_SUFFIXES
        ]
    if not source.is_file():
        raise InvalidInputError(f"{source}: no such folder or manifest")
    if source.suffix.lower() == ".csv":
        with source.open(newline="") as handle:
            rows = list(csv.DictReader(handle))
    elif source.suffix.lower() in (".jsonl", ".ndjson"):
        rows = [json.loads(line) for line in source.read_text().splitlines() if line.strip()]
    else:
        raise InvalidInputError(f"{source}: a manifest is .csv or .jsonl")
    items = []
    for number, row in enumerate(rows, start=1):
        if not row.get("subject") or not row.get("path"):
            raise InvalidInputError(f"{source}: row {number} needs 'subject' and 'path'")
        path = Path(row["path"])
        items.append(_item(str(row["subject"]), path if path.is_absolute() else source.parent / path))
    return items
