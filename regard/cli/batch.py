"""``regard batch enroll``: bulk enrollment of a folder tree or a manifest on Ray or worker processes."""

from __future__ import annotations

from pathlib import Path

import typer
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TimeRemainingColumn

from regard.cli.errors import exit_code, handles_errors
from regard.cli.output import console, emit_json, table
from regard.cli.state import state
from regard.errors import NoFaceError

app = typer.Typer(help="Batch jobs: bulk enrollment, resumable after a crash.", no_args_is_help=True)


@app.command("enroll")
@handles_errors
def enroll(
    ctx: typer.Context,
    collection: str = typer.Argument(..., help="Collection name."),
    source: Path = typer.Argument(..., help="A tree <subject>/<image>, or a manifest (.csv or .jsonl: subject,path)."),
    engine: str = typer.Option("ray", help="ray (Ray Data, actor pool) or processes (plain worker processes)."),
    workers: int = typer.Option(2, min=1, help="Actors or processes, one CPU each."),
    batch_size: int = typer.Option(8, min=1, help="Images per worker call."),
    window: int = typer.Option(2048, min=1, help="Images out with the workers at once."),
    job: str | None = typer.Option(None, help="Journal name (default: derived from collection and source)."),
    max_faces: int = typer.Option(1, min=1, help="Faces taken per image, largest first."),
    json_out: bool = typer.Option(False, "--json", help="Print JSON."),
) -> None:
    """Enroll every image through the governed service; run the same command again to resume after a crash."""
    from regard.batch.jobs import JobOptions, enroll_job

    if engine not in ("ray", "processes"):
        raise typer.BadParameter("engine is ray or processes")
    current = state(ctx)
    options = JobOptions(engine, workers, batch_size, window, job)  # type: ignore[arg-type]
    columns = (*Progress.get_default_columns()[:1], BarColumn(), MofNCompleteColumn(), TimeRemainingColumn())
    with Progress(*columns, console=console, transient=True, disable=json_out) as progress:
        task = progress.add_task(f"enrolling ({engine})", total=None)
        report = enroll_job(
            current.service(),
            collection,
            source,
            current.context(),
            options,
            max_faces_per_image=max_faces,
            progress=lambda done, total: progress.update(task, completed=done, total=total),
        )
    if json_out:
        emit_json({**report.__dict__, "images_per_s": round(report.images_per_s, 2)})
    else:
        typer.echo(
            f"job {report.job}: {report.done} of {report.total} image(s) enrolled ({report.faces} face(s)),"
            f" {len(report.skipped)} skipped; {report.processed} processed now at {report.images_per_s:.1f} images/s"
            f" ({report.already_done} done before, {report.reconciled} reconciled after an interruption)"
        )
        if report.skipped:
            table("images skipped", ["image", "why"], report.skipped)
        if report.failed:
            table("images that failed (run the command again to retry them)", ["image", "why"], report.failed)
    if report.done == 0:
        raise typer.Exit(exit_code(NoFaceError()))
