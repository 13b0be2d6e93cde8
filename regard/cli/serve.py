"""``regard serve`` — the REST API."""

from __future__ import annotations

import os

import typer

from regard.cli.errors import handles_errors
from regard.cli.state import state


@handles_errors
def serve(
    ctx: typer.Context,
    host: str | None = typer.Option(None, help="Address to listen on (default REGARD_SERVE_HOST, 127.0.0.1)."),
    port: int | None = typer.Option(None, min=1, max=65535, help="Port (default REGARD_SERVE_PORT, 8000)."),
    workers: int | None = typer.Option(None, min=1, max=64, help="Worker processes (default REGARD_SERVE_WORKERS, 1)."),
) -> None:
    """Serve the REST API (docs at /docs) and the web dashboard (/dashboard) on the data directory's database."""
    current = state(ctx)
    if current.data_dir is not None:  # workers read their settings from the environment
        os.environ["REGARD_DATA_DIR"] = str(current.data_dir)
    from regard.api.server import run

    run(host, port, workers)
