"""``regard audit run|scores|gate``: demographic error rates per group, a report, and a deployment gate."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import typer

from regard.cli.errors import handles_errors
from regard.cli.output import emit_json, table
from regard.cli.state import state
from regard.errors import InvalidInputError

GATE_FAILED_EXIT = 11  # the report breaks the fairness policy (like a failed test)

app = typer.Typer(
    help="Fairness audit: error rates per demographic group (labels supplied by you), reports, a gate.",
    no_args_is_help=True,
)


def _config(fmr: float, max_impostors: int, bootstrap: int, seed: int, fsn_clusters: int = 0) -> Any:
    from regard.fairness import AuditConfig, PairConfig

    if not 0 < fmr < 1:
        raise InvalidInputError(f"--fmr must be between 0 and 1, got {fmr}")
    return AuditConfig(
        target_fmr=fmr,
        pairs=PairConfig(max_within_impostors=max_impostors),
        bootstrap_replicates=bootstrap,
        seed=seed,
        fsn_clusters=fsn_clusters,
    )


def _publish(report: Any, out: Path) -> None:
    from regard.fairness.markdown import fmt_ci, fmt_rate

    written = report.write(out)
    rows = []
    for s in report.groups:
        name = s.group + (" *" if s.flagged else "")
        rows.append([name, s.identities, fmt_rate(s.fmr), fmt_ci(s.fmr_ci), fmt_rate(s.fnmr), fmt_ci(s.fnmr_ci)])
    title = f"{report.system} at threshold {report.threshold:.4f} (* too few samples)"
    table(title, ["group", "identities", "FMR", "FMR 95% CI", "FNMR", "FNMR 95% CI"], rows)
    d = report.differentials_adequate
    if d.fmr_max_min is not None:
        typer.echo(f"FMR max/min {d.fmr_max_min:.2f}, FNMR max/min {d.fnmr_max_min:.2f}, GARBE {d.garbe:.3f}")
    typer.echo("wrote " + ", ".join(str(p) for p in written))


@app.command("run")
@handles_errors
def run(
    ctx: typer.Context,
    manifest: Path = typer.Argument(..., help="CSV with columns path,identity and one or more group columns."),
    images_root: Path = typer.Option(..., "--images-root", help="Folder the manifest's paths are relative to."),
    group_column: str = typer.Option(..., "--group-column", help="Manifest column that defines the groups."),
    model: str = typer.Option("sface", help="Embedder model id."),
    fmr: float = typer.Option(1e-4, help="Target false match rate (picks the model's registry threshold)."),
    threshold: float | None = typer.Option(None, help="Operating threshold (default: the model's at --fmr)."),
    out: Path = typer.Option(Path("audit"), help="Folder for report.json, report.md and report.html."),
    fsn_clusters: int = typer.Option(0, min=0, help="Also measure fair score normalisation with K clusters."),
    processes: int = typer.Option(0, min=0, help="Worker processes for embedding (0: one per core)."),
    engine: str = typer.Option("processes", help="Embedding on 'processes' or on 'ray' (resumable batch job)."),
    max_impostors: int = typer.Option(200_000, min=1, help="Impostor pairs sampled per group at most."),
    bootstrap: int = typer.Option(1000, min=10, help="Bootstrap replicates for the intervals."),
    seed: int = typer.Option(0, help="Seed for pair sampling and the bootstrap."),
) -> None:
    """Embed the manifest's images with MODEL and audit them; the images are read, never kept."""
    from regard.fairness import audit_manifest

    current = state(ctx)
    settings = {"data_dir": current.data_dir} if current.data_dir else {}
    report = audit_manifest(
        manifest,
        images_root,
        group_column,
        model_id=model,
        threshold=threshold,
        config=_config(fmr, max_impostors, bootstrap, seed, fsn_clusters),
        settings=settings,
        processes=processes,
        engine=engine,
    )
    _publish(report, out)


@app.command("scores")
@handles_errors
def scores(
    score_file: Path = typer.Argument(..., help="CSV: score,genuine,group_a,group_b[,identity_a,identity_b]."),
    out: Path = typer.Option(Path("audit"), help="Folder for report.json, report.md and report.html."),
    fmr: float = typer.Option(1e-4, help="Target false match rate."),
    threshold: float | None = typer.Option(None, help="Operating threshold (default: picked at --fmr)."),
    system: str = typer.Option("third-party system", help="Name of the audited system, for the report."),
    bootstrap: int = typer.Option(1000, min=10, help="Bootstrap replicates for the intervals."),
    seed: int = typer.Option(0, help="Seed for the bootstrap."),
) -> None:
    """Audit any system from a score file (only scores and labels: no image leaves the auditor)."""
    from regard.fairness import audit_score_file

    report = audit_score_file(
        score_file, threshold=threshold, system=system, config=_config(fmr, 200_000, bootstrap, seed)
    )
    _publish(report, out)


@app.command("gate")
@handles_errors
def gate(
    report_file: Path = typer.Argument(..., help="report.json written by `regard audit run` or `scores`."),
    policy: Path | None = typer.Option(None, help="Policy file (.toml or .json); default: the built-in policy."),
    json_out: bool = typer.Option(False, "--json", help="Print JSON."),
) -> None:
    """Check a report against a fairness policy; exit code 11 when any rule fails."""
    from regard.fairness import FairnessPolicy, evaluate_gate, load_report

    result = evaluate_gate(load_report(report_file), FairnessPolicy.load(policy) if policy else FairnessPolicy())
    if json_out:
        emit_json(result)
    else:
        rows = []
        for r in result.rules:
            measured = "—" if r.measured is None else f"{r.measured:.4g}"
            rows.append([r.id, r.description, measured, "pass" if r.passed else "FAIL", r.note])
        table("fairness gate", ["rule", "limit", "measured", "result", "note"], rows)
        if result.excluded_groups:
            typer.echo("left out (too few samples): " + ", ".join(result.excluded_groups))
        typer.echo("PASSED" if result.passed else "FAILED")
    if not result.passed:
        raise typer.Exit(GATE_FAILED_EXIT)
