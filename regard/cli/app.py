"""The Typer application: global options and the command tree."""

from __future__ import annotations

from pathlib import Path

import typer

from regard.cli import benchmark, collections, demo, detect, enroll, faces, models
from regard.cli.state import state

app = typer.Typer(
    name="regard",
    help="Self-hosted face recognition, accountable by construction.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
)


@app.callback()
def main(
    ctx: typer.Context,
    data_dir: Path | None = typer.Option(
        None, envvar="REGARD_DATA_DIR", help="Data directory (database, model cache)."
    ),
    tenant: str = typer.Option("default", envvar="REGARD_TENANT", help="Tenant whose collections are used."),
    purpose: str = typer.Option(
        "unspecified", envvar="REGARD_PURPOSE", help="Declared purpose recorded with each call."
    ),
) -> None:
    """Global options; every command runs through the same service as the library."""
    current = state(ctx)
    current.data_dir, current.tenant, current.purpose = data_dir, tenant, purpose


app.command("detect")(detect.detect)
app.command("compare")(detect.compare)
app.command("enroll")(enroll.enroll)
app.command("search")(enroll.search)
app.command("demo")(demo.demo)
app.add_typer(collections.app, name="collection")
app.add_typer(faces.faces_app, name="faces")
app.add_typer(faces.subjects_app, name="subjects")
app.add_typer(models.app, name="models")
app.add_typer(benchmark.app, name="benchmark")


def run() -> None:
    app()
