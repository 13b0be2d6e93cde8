"""``regard index check``: does each collection's vector index hold exactly its stored templates?"""

from __future__ import annotations

import typer

from regard.cli.errors import INDEX_DRIFT_EXIT, handles_errors
from regard.cli.output import emit_json, table
from regard.cli.state import state

app = typer.Typer(help="Check vector indexes against the store and repair them.", no_args_is_help=True)


@app.command("check")
@handles_errors
def check(
    ctx: typer.Context,
    collection: str | None = typer.Argument(None, help="Collection name (default: every collection of the tenant)."),
    repair: bool = typer.Option(False, "--repair", help="Rebuild an index that disagrees with the store."),
    json_out: bool = typer.Option(False, "--json", help="Print JSON."),
) -> None:
    """Compare counts and ids of index and store; exit 16 when they disagree and were not repaired."""
    current = state(ctx)
    service, context = current.service(), current.context()
    names = [collection] if collection else [c.name for c in service.list_collections(context, 0, 1000).items]
    results = [service.check_index(name, context, repair=repair) for name in names]
    if json_out:
        emit_json([{**r.__dict__, "ok": r.ok} for r in results])
    else:
        rows = [
            [r.collection, r.backend, r.store_count, r.index_count, len(r.missing), len(r.extra), r.ok, r.repaired]
            for r in results
        ]
        table(
            "index check", ["collection", "backend", "templates", "entries", "missing", "extra", "ok", "repaired"], rows
        )
    if not all(r.ok for r in results):
        raise typer.Exit(INDEX_DRIFT_EXIT)
