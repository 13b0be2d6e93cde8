"""The score-file format, so that anyone can audit any face recognition system with Regard.

A CSV file (UTF-8, comma-separated, one header row) with one comparison per row::

    score,genuine,group_a,group_b,identity_a,identity_b
    0.71,1,female,female,p0001,p0001
    0.12,0,female,female,p0001,p0002
    0.08,0,female,male,p0001,p0107

- ``score``: the system's similarity (higher means more alike); any scale, one scale for the whole file.
- ``genuine``: ``1``/``true``/``yes`` when both images show the same person, ``0``/``false``/``no`` otherwise.
- ``group_a``, ``group_b``: the group label of each side's person, assigned by people (never inferred from the
  images).  A genuine pair has one group.  A row with an empty label is left out and counted.
- ``identity_a``, ``identity_b`` (optional, both or neither): pseudonymous person ids.  With them the confidence
  intervals resample people; without them they resample pairs and come out too narrow.

Only scores and labels travel: the auditor's images never leave their machine.
"""

from __future__ import annotations

import csv
import io
import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from regard.errors import InvalidInputError
from regard.fairness.evaluate import ScoredPairs
from regard.fairness.pairs import encode

REQUIRED = ("score", "genuine", "group_a", "group_b")
IDENTITY = ("identity_a", "identity_b")
TRUE = {"1", "true", "yes", "y", "t"}
FALSE = {"0", "false", "no", "n", "f"}


@dataclass(frozen=True)
class ScoreFile:
    scored: ScoredPairs
    identity_names: tuple[str, ...] | None
    excluded_unlabelled: int  # rows with an empty group label


def read_score_file(path: Path) -> ScoreFile:
    """Parse and check a score file; raises :class:`InvalidInputError` naming the first bad line."""
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise InvalidInputError(f"{path}: {exc.strerror}") from None
    return parse_score_file(data, str(path))


def parse_score_file(data: bytes, name: str = "score file") -> ScoreFile:
    """Parse and check a score file's bytes; errors name ``name`` and the first bad line."""
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise InvalidInputError(f"{name}: not UTF-8 text") from None
    return _parse(csv.reader(io.StringIO(text, newline="")), name)


def _parse(rows: Iterable[list[str]], name: str) -> ScoreFile:
    iterator = iter(rows)
    header = [h.strip().lower() for h in next(iterator, [])]
    missing = [c for c in REQUIRED if c not in header]
    if missing:
        raise InvalidInputError(f"{name}: missing column(s) {', '.join(missing)} (need {','.join(REQUIRED)})")
    with_ids = all(c in header for c in IDENTITY)
    if not with_ids and any(c in header for c in IDENTITY):
        raise InvalidInputError(f"{name}: give both identity_a and identity_b, or neither")
    col = {c: header.index(c) for c in REQUIRED + (IDENTITY if with_ids else ())}
    scores: list[float] = []
    genuine: list[bool] = []
    groups: list[str] = []
    ids: list[str] = []
    excluded = 0
    for line, row in enumerate(iterator, start=2):
        if not row or all(not c.strip() for c in row):
            continue
        try:
            fields = {c: row[i].strip() for c, i in col.items()}
        except IndexError:
            raise InvalidInputError(f"{name}:{line}: expected {len(header)} columns, got {len(row)}") from None
        if not fields["group_a"] or not fields["group_b"]:
            excluded += 1
            continue
        same = _genuine(fields["genuine"], name, line)
        if same and fields["group_a"] != fields["group_b"]:
            raise InvalidInputError(f"{name}:{line}: a genuine pair has two group labels")
        if with_ids and same != (fields["identity_a"] == fields["identity_b"]):
            raise InvalidInputError(f"{name}:{line}: genuine must be 1 exactly when identity_a equals identity_b")
        scores.append(_score(fields["score"], name, line))
        genuine.append(same)
        groups += [fields["group_a"], fields["group_b"]]
        if with_ids:
            ids += [fields["identity_a"], fields["identity_b"]]
    if not scores:
        raise InvalidInputError(f"{name}: no labelled rows")
    group_codes, group_names = encode(groups)
    id_codes, id_names = encode(ids) if with_ids else (None, None)
    scored = ScoredPairs(
        scores=np.asarray(scores, dtype=np.float64),
        genuine=np.asarray(genuine, dtype=bool),
        group_a=group_codes[0::2],
        group_b=group_codes[1::2],
        group_names=group_names,
        identity_a=id_codes[0::2] if id_codes is not None else None,
        identity_b=id_codes[1::2] if id_codes is not None else None,
    )
    return ScoreFile(scored, id_names, excluded)


def _genuine(value: str, name: str, line: int) -> bool:
    lowered = value.lower()
    if lowered in TRUE:
        return True
    if lowered in FALSE:
        return False
    raise InvalidInputError(f"{name}:{line}: genuine must be 1 or 0 (or true/false), got {value!r}")


def _score(value: str, name: str, line: int) -> float:
    try:
        score = float(value)
    except ValueError:
        raise InvalidInputError(f"{name}:{line}: score {value!r} is not a number") from None
    if not math.isfinite(score):
        raise InvalidInputError(f"{name}:{line}: score {value!r} is not finite")
    return score


def write_score_file(path: Path, scored: ScoredPairs, identity_names: Sequence[str] | None = None) -> None:
    """Write ``scored`` in the score-file format (identities when ``scored`` has them and names are given)."""
    with_ids = scored.identity_a is not None and scored.identity_b is not None and identity_names is not None
    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(REQUIRED + (IDENTITY if with_ids else ()))
        names = scored.group_names
        for i in range(scored.scores.size):
            row = [
                repr(float(scored.scores[i])),
                int(bool(scored.genuine[i])),
                names[scored.group_a[i]],
                names[scored.group_b[i]],
            ]
            if with_ids and identity_names is not None:
                assert scored.identity_a is not None and scored.identity_b is not None
                row += [identity_names[scored.identity_a[i]], identity_names[scored.identity_b[i]]]
            writer.writerow(row)
