"""Printing results: JSON for machines, rich tables for people."""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any

from rich.console import Console
from rich.table import Table

from regard.domain import to_jsonable
from regard.errors import InvalidInputError

console = Console()


def emit_json(value: Any) -> None:
    print(json.dumps(to_jsonable(value), indent=2))


def table(title: str, columns: Sequence[str], rows: Sequence[Sequence[Any]]) -> None:
    grid = Table(title=title, title_justify="left")
    for column in columns:
        grid.add_column(column)
    for row in rows:
        grid.add_row(*(_cell(v) for v in row))
    console.print(grid)


def _cell(value: Any) -> str:
    if isinstance(value, float):
        return f"{value:.3f}"
    if isinstance(value, tuple) and all(isinstance(v, float) for v in value):
        return "(" + ", ".join(f"{v:.0f}" for v in value) + ")"
    return str(value)


def write_output(path: Path, chunks: Iterable[str] | bytes) -> int:
    """Write text chunks (or bytes) to ``path``; a folder that is missing or unwritable is a one-line error.

    Returns how many chunks were written.  The file appears whole or not at all.
    """
    if path.is_dir():
        raise InvalidInputError(f"{path} is a folder; give a file name")
    if not path.parent.is_dir():
        raise InvalidInputError(f"{path.parent}: no such folder")
    partial = path.with_name(path.name + ".partial")
    count = 0
    try:
        with partial.open("wb") as handle:
            if isinstance(chunks, bytes):
                handle.write(chunks)
                count = 1
            else:
                for chunk in chunks:
                    handle.write(chunk.encode())
                    count += 1
        partial.replace(path)
    except OSError as exc:
        partial.unlink(missing_ok=True)
        raise InvalidInputError(f"cannot write {path}: {exc.strerror}") from None
    return count


def read_input(path: Path) -> bytes:
    """A file's bytes; a missing or unreadable file is a one-line error."""
    try:
        return path.read_bytes()
    except OSError as exc:
        raise InvalidInputError(f"cannot read {path}: {exc.strerror}") from None
