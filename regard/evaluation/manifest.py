"""Labelled image manifests for audits, and the digest that names exactly what an audit measured.

A manifest is a CSV file with a header ``path,identity,<group columns...>``; paths are relative to an images
folder and must stay inside it.  The evaluation-set digest covers the manifest's bytes and, for each row the
audit used (in manifest order), its path, identity, group label and the sha256 of the image's bytes: anyone
holding the same files can recompute it, and any changed image, label or row changes it.
"""

from __future__ import annotations

import csv
import hashlib
import io
import json
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from regard.errors import InvalidInputError

DIGEST_VERSION = "regard.evaluation-set/1"


@dataclass(frozen=True)
class Manifest:
    """The manifest's rows: absolute paths (inside the images root), the paths as written, identities, labels."""

    paths: list[Path]
    written: list[str]
    identities: list[str]
    groups: list[str]  # '' where the row has no label
    sha256: str  # of the manifest file's bytes

    def labelled(self) -> list[int]:
        """Indices of the rows with a group label (the others are not even read)."""
        return [i for i, group in enumerate(self.groups) if group]


def read_manifest(manifest_csv: Path, images_root: Path, group_column: str) -> Manifest:
    """Rows ``path,identity,<group columns...>``; paths are relative to ``images_root`` and must stay inside it."""
    try:
        data = manifest_csv.read_bytes()
    except OSError as exc:
        raise InvalidInputError(f"{manifest_csv}: {exc.strerror}") from None
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise InvalidInputError(f"{manifest_csv}: not UTF-8 text") from None
    reader = csv.DictReader(io.StringIO(text, newline=""))
    columns = reader.fieldnames or []
    for needed in ("path", "identity", group_column):
        if needed not in columns:
            raise InvalidInputError(f"{manifest_csv}: no column {needed!r} (columns: {', '.join(columns)})")
    rows = list(reader)
    root = images_root.resolve()
    paths = []
    for line, row in enumerate(rows, start=2):
        path = (root / (row["path"] or "")).resolve()
        if not path.is_relative_to(root) or not row["identity"]:
            raise InvalidInputError(f"{manifest_csv}:{line}: needs an identity and a path inside {images_root}")
        paths.append(path)
    return Manifest(
        paths=paths,
        written=[r["path"] for r in rows],
        identities=[r["identity"] for r in rows],
        groups=[(r[group_column] or "").strip() for r in rows],
        sha256=hashlib.sha256(data).hexdigest(),
    )


def evaluation_set_digest(manifest: Manifest, rows: Sequence[int], image_sha256: Sequence[str]) -> str:
    """sha256 over the manifest's digest and, per used row, ``[path, identity, label, image sha256]`` as a JSON line."""
    if len(rows) != len(image_sha256):
        raise InvalidInputError(f"{len(rows)} rows, {len(image_sha256)} image digests")
    h = hashlib.sha256(f"{DIGEST_VERSION}\n{manifest.sha256}\n".encode())
    for i, digest in zip(rows, image_sha256, strict=True):
        fields = [manifest.written[i], manifest.identities[i], manifest.groups[i], digest or "unreadable"]
        h.update((json.dumps(fields, ensure_ascii=False) + "\n").encode())
    return h.hexdigest()
