"""``regard demo``: enroll a set of people into the embedded store and search for them."""

from __future__ import annotations

import contextlib
import io
import time
from dataclasses import replace
from pathlib import Path

import numpy as np
import typer

from regard.cli.errors import handles_errors
from regard.cli.output import table
from regard.cli.state import state
from regard.errors import InvalidImageError, NoFaceError, NotFoundError
from regard.vision.decode import ImageSource

DEMO_PURPOSE = "demo"
SHARED_CELEBA = Path(__file__).resolve().parents[2].parent / "shared" / "data" / "celeba_wild" / "images"


def _sample_images() -> dict[str, list[ImageSource]]:
    """Two people from scikit-image's bundled public images, each in several variants."""
    from PIL import Image
    from skimage import data

    def jpeg(array: np.ndarray) -> bytes:
        buffer = io.BytesIO()
        Image.fromarray(array).save(buffer, format="JPEG", quality=90)
        return buffer.getvalue()

    astronaut = np.asarray(data.astronaut())  # type: ignore[no-untyped-call]
    camera = np.repeat(np.asarray(data.camera())[:, :, None], 3, axis=2)  # type: ignore[no-untyped-call]
    return {
        "astronaut": [jpeg(astronaut), jpeg(np.ascontiguousarray(astronaut[:, ::-1]))],
        "cameraman": [jpeg(camera)],
    }


@handles_errors
def demo(
    ctx: typer.Context,
    folder: Path | None = typer.Argument(
        None, help="Folder tree <person>/<image>; default: ../shared CelebA or built-in samples."
    ),
    per_person: int = typer.Option(8, min=1, help="Images enrolled per person; the rest are searched."),
    collection: str = typer.Option("demo", help="Collection to (re)create."),
) -> None:
    """Create a collection, enroll people, search with held-out images, report rank-1 hits and timing.

    Runs under its own declared purpose, "demo" (photo organisation, 7-day retention), so every call
    goes through the policy engine and into the ledger like any other.
    """
    current = state(ctx)
    service = current.service()
    context = replace(current.context(), purpose=DEMO_PURPOSE)
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
    source = folder or (SHARED_CELEBA if SHARED_CELEBA.is_dir() else None)
    enroll_sets: dict[str, list[ImageSource]]
    probes: list[tuple[str, ImageSource]]
    if source is not None:
        people = {d.name: sorted(p for p in d.iterdir() if p.is_file()) for d in sorted(source.iterdir()) if d.is_dir()}
        enroll_sets = {k: list(v[:per_person]) for k, v in people.items()}
        probes = [(k, p) for k, v in people.items() for p in v[per_person:]]
        typer.echo(f"demo on {source}: {len(people)} people")
    else:
        samples = _sample_images()
        enroll_sets = {"astronaut": samples["astronaut"][:1], "cameraman": samples["cameraman"]}
        probes = [("astronaut", samples["astronaut"][1])]
        typer.echo("demo on scikit-image's sample photos (pass a folder <person>/<image> to use your own)")
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
