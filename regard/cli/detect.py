"""``regard detect`` and ``regard compare``."""

from __future__ import annotations

from pathlib import Path

import typer

from regard.cli.errors import NO_MATCH_EXIT, handles_errors
from regard.cli.output import emit_json, table, write_output
from regard.cli.state import state


@handles_errors
def detect(
    ctx: typer.Context,
    image: Path = typer.Argument(..., help="Image file (JPEG, PNG, WebP, BMP, TIFF)."),
    json_out: bool = typer.Option(False, "--json", help="Print JSON."),
    annotate: Path | None = typer.Option(None, help="Write a copy of the image with boxes and landmarks here."),
    detector: str | None = typer.Option(None, help="Detector model id (default from settings)."),
) -> None:
    """Find faces with landmarks and quality, largest first."""
    from regard.vision.draw import annotate_faces, format_for

    current = state(ctx)
    image_format = format_for(annotate.suffix) if annotate is not None else ""  # refuse before the work
    result = current.service().detect(image, current.context(), detector=detector)
    if annotate is not None:
        from regard.vision.decode import ImageLimits, decode_image

        # The service has decoded and accepted this image already; decode it again only to draw on it.
        pixels = decode_image(image, ImageLimits(max_bytes=2**40, max_pixels=2**40)).pixels
        write_output(annotate, annotate_faces(pixels, result.faces, image_format))
    if json_out:
        emit_json(result)
        return
    rows = []
    for i, face in enumerate(result.faces):
        q = face.quality
        assert q is not None
        pose = f"{q.pose.yaw:+.0f}/{q.pose.pitch:+.0f}/{q.pose.roll:+.0f}"
        rows.append(
            [
                i,
                face.box,
                face.confidence,
                q.level.value,
                q.sharpness,
                q.brightness,
                pose,
                ",".join(r.value for r in q.reasons),
            ]
        )
    table(
        f"{image}: {len(result.faces)} face(s), {result.image.width}x{result.image.height}, {result.detector}",
        ["#", "box (x1,y1,x2,y2)", "conf", "quality", "sharp", "bright", "yaw/pitch/roll", "not usable because"],
        rows,
    )


@handles_errors
def compare(
    ctx: typer.Context,
    image_a: Path = typer.Argument(..., help="First image."),
    image_b: Path = typer.Argument(..., help="Second image."),
    all_faces: bool = typer.Option(False, "--all-faces", help="Compare every face pair, not only the largest faces."),
    fmr: float | None = typer.Option(None, help="Operating point: 1e-3, 1e-4 or 1e-5 (default from settings)."),
    model: str | None = typer.Option(None, help="Embedder model id."),
    json_out: bool = typer.Option(False, "--json", help="Print JSON."),
) -> None:
    """1:1 verification.  Exit 0 on a match, 10 when no pair matches."""
    current = state(ctx)
    result = current.service().compare(image_a, image_b, current.context(), all_faces=all_faces, fmr=fmr, model=model)
    if json_out:
        emit_json(result)
    else:
        rows = [
            [p.index_a, p.index_b, p.decision.similarity, p.decision.score, "yes" if p.decision.match else "no"]
            for p in result.pairs
        ]
        d = result.best.decision
        table(
            f"{result.model_id}, threshold {d.threshold:.3f} at FMR {d.fmr:g}",
            ["face A", "face B", "cosine", "score", "match"],
            rows,
        )
    if not any(p.decision.match for p in result.pairs):
        raise typer.Exit(NO_MATCH_EXIT)
