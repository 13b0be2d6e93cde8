"""``regard collection create|list|describe|delete``."""

from __future__ import annotations

import typer

from regard.cli.errors import handles_errors
from regard.cli.output import emit_json, table
from regard.cli.state import state

app = typer.Typer(help="Create, list, describe and delete collections.", no_args_is_help=True)


@app.command("create")
@handles_errors
def create(
    ctx: typer.Context,
    name: str = typer.Argument(..., help="Collection name: letters, digits, '-', '_', '.'."),
    model: str | None = typer.Option(None, help="Embedder model id (fixed for the collection's life)."),
    description: str = typer.Option("", help="Free text."),
    json_out: bool = typer.Option(False, "--json", help="Print JSON."),
) -> None:
    """Create an empty collection bound to one embedding model."""
    current = state(ctx)
    info = current.service().create_collection(name, current.context(), model=model, description=description)
    emit_json(info) if json_out else typer.echo(f"created collection '{info.name}' ({info.model_id})")


@app.command("list")
@handles_errors
def list_(
    ctx: typer.Context,
    offset: int = typer.Option(0, min=0, help="Skip this many."),
    limit: int = typer.Option(100, min=1, max=1000, help="Page size."),
    json_out: bool = typer.Option(False, "--json", help="Print JSON."),
) -> None:
    """List collections with their model and sizes."""
    current = state(ctx)
    page = current.service().list_collections(current.context(), offset, limit)
    if json_out:
        emit_json(page)
        return
    rows = [
        [c.name, c.model_id, c.subject_count, c.face_count, c.created_at.isoformat(timespec="seconds")]
        for c in page.items
    ]
    table(f"{page.total} collection(s)", ["name", "model", "subjects", "faces", "created"], rows)


@app.command("describe")
@handles_errors
def describe(
    ctx: typer.Context,
    name: str = typer.Argument(..., help="Collection name."),
    json_out: bool = typer.Option(False, "--json", help="Print JSON."),
) -> None:
    """Show one collection."""
    current = state(ctx)
    info = current.service().describe_collection(name, current.context())
    if json_out:
        emit_json(info)
    else:
        table(
            info.name,
            ["model", "subjects", "faces", "description"],
            [[info.model_id, info.subject_count, info.face_count, info.description]],
        )


@app.command("delete")
@handles_errors
def delete(
    ctx: typer.Context,
    name: str = typer.Argument(..., help="Collection name."),
    yes: bool = typer.Option(False, "--yes", "-y", help="Do not ask for confirmation."),
) -> None:
    """Delete a collection with all its subjects and templates."""
    current = state(ctx)
    if not yes:
        typer.confirm(f"Delete collection '{name}' and every template in it?", abort=True)
    removed = current.service().delete_collection(name, current.context())
    typer.echo(f"deleted collection '{name}' ({removed} template(s))")
