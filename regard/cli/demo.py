"""``regard demo``: the accountable flow on built-in photos, or enrollment and search over a photo folder."""

from __future__ import annotations

import contextlib
import time
from pathlib import Path

import typer

from regard.cli.errors import handles_errors
from regard.cli.output import table
from regard.cli.state import state
from regard.context import CallContext
from regard.errors import InvalidImageError, InvalidInputError, NoFaceError, NotFoundError
from regard.vision.decode import ImageSource

DEMO_PURPOSE = "demo"
SHARED_CELEBA = Path(__file__).resolve().parents[2].parent / "shared" / "data" / "celeba_wild" / "images"


@handles_errors
def demo(
    ctx: typer.Context,
    folder: Path | None = typer.Argument(
        None, help="Folder tree <person>/<image>: enroll and search it instead of the accountable walk-through."
    ),
    celeba: bool = typer.Option(False, "--celeba", help="Use ../shared/data/celeba_wild as the folder."),
    per_person: int = typer.Option(8, min=1, help="Folder mode: images enrolled per person; the rest are searched."),
    collection: str = typer.Option("demo", help="Folder mode: collection to (re)create."),
) -> None:
    """Walk through the accountable flow, narrated; or, with a folder, report rank-1 hits and timings.

    Without a folder: a purpose, consent, enrollment, a search, a prohibited purpose refused, a consequential
    search released by two reviewers, an erasure with its receipt, the ledger verified and the fairness gate,
    in tenant "demo", on scikit-image's sample photo.  Runs as the local operator; can be run again.
    """
    current = state(ctx)
    if current.api_key is not None:
        raise InvalidInputError("the demo runs as the local operator; leave out --api-key / REGARD_API_KEY")
    if celeba and not SHARED_CELEBA.is_dir():
        raise InvalidInputError(f"{SHARED_CELEBA}: no such folder (the evaluation data is not here)")
    source = SHARED_CELEBA if celeba else folder
    if source is None:
        from regard.cli import walkthrough

        walkthrough.run(current.service())
        return
    if not source.is_dir():
        raise InvalidInputError(f"{source}: no such folder")
    _photo_set(current.service(), CallContext.local(current.tenant, DEMO_PURPOSE, origin="demo"), source, per_person,
               collection)  # fmt: skip


def _photo_set(service, context: CallContext, source: Path, per_person: int, collection: str) -> None:  # type: ignore[no-untyped-def]
    """Enroll each person's first images, search with the rest, print rank-1 hits and timings."""
    if all(p.name != DEMO_PURPOSE for p in service.list_purposes(context)):
        service.declare_purpose(
            DEMO_PURPOSE,
            context,
            category="photo-organisation",
            legal_basis="legitimate-interests",
            data_subjects="people in the demo photo set",
            retention_days=7,
            max_collection_subjects=1000,
            consequential=False,
            description="regard demo: enroll a photo set and search it",
        )
    people = {d.name: sorted(p for p in d.iterdir() if p.is_file()) for d in sorted(source.iterdir()) if d.is_dir()}
    enroll_sets: dict[str, list[ImageSource]] = {k: list(v[:per_person]) for k, v in people.items()}
    probes: list[tuple[str, ImageSource]] = [(k, p) for k, v in people.items() for p in v[per_person:]]
    typer.echo(f"demo on {source}: {len(people)} people")
    with contextlib.suppress(NotFoundError):
        service.delete_collection(collection, context)
    service.create_collection(collection, context, description="created by regard demo")
    start = time.perf_counter()
    enrolled = 0
    for person, images in enroll_sets.items():
        for image in images:
            with contextlib.suppress(InvalidImageError):  # a bad file in a folder is skipped, like `enroll`
                enrolled += len(service.enroll(collection, person, [image], context).indexed)
    enroll_s = time.perf_counter() - start
    hits = misses = no_face = 0
    start = time.perf_counter()
    for person, image in probes:
        try:
            result = service.search(collection, image, context, top_k=1)
        except (NoFaceError, InvalidImageError):
            no_face += 1
            continue
        top = result.results[0].matches[0].subject if result.results and result.results[0].matches else None
        hits += top == person
        misses += top != person
    search_s = time.perf_counter() - start
    info = service.describe_collection(collection, context)
    table(
        f"collection '{collection}' in {service.settings.resolved_database_url()}",
        ["subjects", "faces enrolled", "enroll s", "probes", "rank-1 hits", "wrong or no match", "no face", "ms/probe"],
        [
            [
                info.subject_count,
                enrolled,
                round(enroll_s, 1),
                len(probes),
                hits,
                misses,
                no_face,
                round(1000 * search_s / max(len(probes), 1), 1),
            ]
        ],
    )
