"""``regard faces list|delete`` and ``regard subjects list|delete``."""

from __future__ import annotations

import typer

from regard.cli.errors import handles_errors
from regard.cli.output import emit_json, table
from regard.cli.state import state

faces_app = typer.Typer(help="List and delete stored faces (templates).", no_args_is_help=True)
subjects_app = typer.Typer(help="List and delete subjects (people) of a collection.", no_args_is_help=True)


@faces_app.command("list")
@handles_errors
def list_faces(
    ctx: typer.Context,
    collection: str = typer.Argument(..., help="Collection name."),
    subject: str | None = typer.Option(None, help="Only this subject's faces."),
    offset: int = typer.Option(0, min=0, help="Skip this many."),
    limit: int = typer.Option(100, min=1, max=1000, help="Page size."),
    json_out: bool = typer.Option(False, "--json", help="Print JSON."),
) -> None:
    """List faces, oldest first."""
    current = state(ctx)
    page = current.service().list_faces(collection, current.context(), subject=subject, offset=offset, limit=limit)
    if json_out:
        emit_json(page)
        return
    rows = [[f.face_id, f.subject, f.model_id, f.quality_level, f.box] for f in page.items]
    table(f"{page.total} face(s) in '{collection}'", ["face id", "subject", "model", "quality", "box"], rows)


@faces_app.command("delete")
@handles_errors
def delete_faces(
    ctx: typer.Context,
    collection: str = typer.Argument(..., help="Collection name."),
    face_ids: list[str] = typer.Argument(..., help="One or more face ids."),
) -> None:
    """Delete faces: their templates and index entries."""
    current = state(ctx)
    removed = current.service().delete_faces(collection, face_ids, current.context())
    typer.echo(f"deleted {removed} face(s)")


@subjects_app.command("list")
@handles_errors
def list_subjects(
    ctx: typer.Context,
    collection: str = typer.Argument(..., help="Collection name."),
    offset: int = typer.Option(0, min=0, help="Skip this many."),
    limit: int = typer.Option(100, min=1, max=1000, help="Page size."),
    json_out: bool = typer.Option(False, "--json", help="Print JSON."),
) -> None:
    """List subjects with their face counts."""
    current = state(ctx)
    page = current.service().list_subjects(collection, current.context(), offset, limit)
    if json_out:
        emit_json(page)
        return
    rows = [[s.external_id, s.display_name, s.face_count] for s in page.items]
    table(f"{page.total} subject(s) in '{collection}'", ["subject", "name", "faces"], rows)


@subjects_app.command("delete")
@handles_errors
def delete_subject(
    ctx: typer.Context,
    collection: str = typer.Argument(..., help="Collection name."),
    subject: str = typer.Argument(..., help="Subject id."),
) -> None:
    """Delete a subject and all of its faces."""
    current = state(ctx)
    removed = current.service().delete_subject(collection, subject, current.context())
    typer.echo(f"deleted subject '{subject}' ({removed} face(s))")
