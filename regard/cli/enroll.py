"""``regard enroll`` (a file or a folder tree) and ``regard search``."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import typer
from rich.progress import Progress

from regard.cli.errors import NO_MATCH_EXIT, exit_code, handles_errors
from regard.cli.output import console, emit_json, table
from regard.cli.state import CliState, state
from regard.errors import InvalidImageError, InvalidInputError, NoFaceError
from regard.evaluation.imagesets import IMAGE_SUFFIXES


@dataclass
class EnrollTally:
    indexed: int = 0
    unindexed: list[tuple[str, str]] = field(default_factory=list)
    skipped: list[tuple[str, str]] = field(default_factory=list)
    subjects: set[str] = field(default_factory=set)


def _jobs(path: Path, subject: str | None) -> list[tuple[str, Path]]:
    """(subject, image) pairs: a file, a folder of images for one subject, or a tree ``name/*.jpg``."""
    if path.is_file():
        if not subject:
            raise InvalidInputError("enrolling one file needs --subject")
        return [(subject, path)]
    if not path.is_dir():
        raise InvalidInputError(f"{path}: no such file or folder")
    if subject:
        return [(subject, p) for p in sorted(path.iterdir()) if p.is_file() and p.suffix.lower() in IMAGE_SUFFIXES]
    return [
        (folder.name, p)
        for folder in sorted(d for d in path.iterdir() if d.is_dir())
        for p in sorted(folder.iterdir())
        if p.is_file() and p.suffix.lower() in IMAGE_SUFFIXES
    ]


def _enroll_all(
    current: CliState, collection: str, jobs: list[tuple[str, Path]], max_faces: int, single: bool
) -> EnrollTally:
    service, context, tally = current.service(), current.context(), EnrollTally()
    with Progress(console=console, transient=True) as progress:
        task = progress.add_task("enrolling", total=len(jobs))
        for subject, image in jobs:
            try:
                result = service.enroll(collection, subject, [image], context, max_faces_per_image=max_faces)
            except InvalidImageError as exc:
                if single:  # the one file asked for is bad: that is the error, not "no face"
                    raise
                tally.skipped.append((str(image), str(exc)))  # one bad file must not stop a folder
            else:
                tally.indexed += len(result.indexed)
                tally.subjects.update([subject] if result.indexed else [])
                tally.unindexed += [(str(image), ",".join(r.value for r in u.reasons)) for u in result.unindexed]
                tally.skipped += [(str(image), "no face found") for _ in result.images_without_faces]
            progress.advance(task)
    return tally


@handles_errors
def enroll(
    ctx: typer.Context,
    collection: str = typer.Argument(..., help="Collection name."),
    path: Path = typer.Argument(..., help="An image, a folder of one subject's images, or a tree <subject>/<image>."),
    subject: str | None = typer.Option(
        None, help="Subject id (required for one file; a folder then holds one subject)."
    ),
    max_faces: int = typer.Option(1, min=1, help="Faces taken per image, largest first."),
    json_out: bool = typer.Option(False, "--json", help="Print JSON."),
) -> None:
    """Enroll faces into subjects.  Bad files are skipped and reported; exit 4 when nothing was enrolled."""
    current = state(ctx)
    jobs = _jobs(path, subject)
    if not jobs:
        raise InvalidInputError(f"{path}: no images found")
    tally = _enroll_all(current, collection, jobs, max_faces, single=path.is_file())
    if json_out:
        emit_json(
            {
                "indexed": tally.indexed,
                "subjects": sorted(tally.subjects),
                "unindexed": [{"image": i, "reasons": r} for i, r in tally.unindexed],
                "skipped": [{"image": i, "reason": r} for i, r in tally.skipped],
            }
        )
    else:
        typer.echo(f"enrolled {tally.indexed} face(s) of {len(tally.subjects)} subject(s) from {len(jobs)} image(s)")
        if tally.unindexed:
            table("faces not enrolled", ["image", "reasons"], tally.unindexed)
        if tally.skipped:
            table("images skipped", ["image", "why"], tally.skipped)
    if tally.indexed == 0:
        raise typer.Exit(exit_code(NoFaceError()))


@handles_errors
def search(
    ctx: typer.Context,
    collection: str = typer.Argument(..., help="Collection name."),
    image: Path | None = typer.Argument(None, help="Probe image (or use --face-id)."),
    face_id: str | None = typer.Option(None, help="Search with a stored face instead of an image."),
    top_k: int = typer.Option(5, min=1, max=1000, help="Most subjects returned per probe face."),
    fmr: float | None = typer.Option(None, help="Operating point: 1e-3, 1e-4 or 1e-5 (default from settings)."),
    min_score: float | None = typer.Option(None, min=0, max=100, help="Minimum 0-100 score instead of --fmr."),
    all_faces: bool = typer.Option(False, "--all-faces", help="Search with every face of the probe image."),
    source: str = typer.Option(
        "upload", help="Where the probe comes from: upload, camera, stream or bulk (a closed set)."
    ),
    json_out: bool = typer.Option(False, "--json", help="Print JSON."),
) -> None:
    """1:N search.  Exit 0 when a subject matched, 10 when none did."""
    current = state(ctx)
    service, context = current.service(), current.context()
    if (image is None) == (face_id is None):
        raise InvalidInputError("give either a probe image or --face-id")
    if face_id is not None:
        result = service.search_by_face(collection, face_id, context, top_k=top_k, fmr=fmr, min_score=min_score)
    else:
        assert image is not None
        result = service.search(
            collection, image, context, top_k=top_k, fmr=fmr, min_score=min_score, all_faces=all_faces, source=source
        )
    if json_out:
        emit_json(result)
    else:
        rows = [
            [i, m.subject, m.display_name, m.similarity, m.score, m.face_id]
            for i, r in enumerate(result.results)
            for m in r.matches
        ]
        title = f"'{result.collection}' ({result.model_id}), cosine >= {result.threshold:.3f} (FMR {result.fmr:g})"
        table(title, ["probe", "subject", "name", "cosine", "score", "best face"], rows)
    if not any(r.matches for r in result.results):
        raise typer.Exit(NO_MATCH_EXIT)
