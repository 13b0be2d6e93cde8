"""``regard audit``: demographic error rates per group, stored and signed reports, a gate, and outside auditors."""

from __future__ import annotations

from enum import StrEnum
from pathlib import Path
from typing import Any

import typer

from regard.cli.errors import GATE_FAILED_EXIT, handles_errors
from regard.cli.output import emit_json, read_input, table, write_output
from regard.cli.state import state
from regard.errors import InvalidInputError
from regard.fairness.labels import LabelSource


class Engine(StrEnum):
    PROCESSES = "processes"
    RAY = "ray"


app = typer.Typer(
    help="Fairness audit: error rates per demographic group (labels supplied by you), reports, a gate.",
    no_args_is_help=True,
)
auditor_app = typer.Typer(help="Outside auditors whose signed reports this tenant trusts.", no_args_is_help=True)
app.add_typer(auditor_app, name="auditor")

SOURCES = ", ".join(s.value for s in LabelSource)
LABEL_SOURCE_HELP = f"How the group labels were assigned: {SOURCES}."
LABELLED_BY_HELP = "Who assigned the group labels (people, an organisation, a classifier's name)."


def _labels(source: str, labelled_by: str, notes: str) -> Any:
    from regard.fairness.labels import LabelProvenance

    return LabelProvenance(source=source, assigned_by=labelled_by, notes=notes)


def _config(max_impostors: int, bootstrap: int, seed: int, fsn_clusters: int = 0, fsn_seeds: int = 5) -> Any:
    from regard.fairness import AuditConfig, PairConfig

    return AuditConfig(
        pairs=PairConfig(max_within_impostors=max_impostors),
        bootstrap_replicates=bootstrap,
        seed=seed,
        fsn_clusters=fsn_clusters,
        fsn_seeds=fsn_seeds,
    )


def _check_fmr(fmr: float | None) -> None:
    if fmr is not None and not 0 < fmr < 1:
        raise InvalidInputError(f"--fmr must be between 0 and 1, got {fmr}")


def _publish(stored: Any, out: Path | None) -> None:
    """Print the rates and the provenance; write report.json (as stored: signed when signed), .md and .html."""
    from regard.fairness.markdown import fmt_ci, fmt_rate

    report = stored.report
    rows = []
    for s in report.groups:
        name = s.group + (" *" if s.flagged else "")
        rows.append([name, s.identities, fmt_rate(s.fmr), fmt_ci(s.fmr_ci), fmt_rate(s.fnmr), fmt_ci(s.fnmr_ci)])
    title = f"{report.system} at threshold {report.threshold:.4f} (* too few samples)"
    table(title, ["group", "identities", "FMR", "FMR 95% CI", "FNMR", "FNMR 95% CI"], rows)
    d = report.differentials_adequate
    if d.fmr_max_min is not None:
        typer.echo(f"FMR max/min {d.fmr_max_min:.2f}, FNMR max/min {d.fnmr_max_min:.2f}, GARBE {d.garbe:.3f}")
    if report.mitigation is not None:
        typer.echo(f"mitigation: {report.mitigation.verdict}")
    typer.echo(f"report {stored.id}: {stored.verification.status} ({stored.verification.reason})")
    if out is not None:
        out.mkdir(parents=True, exist_ok=True)
        write_output(out / "report.json", stored.document.encode())
        write_output(out / "report.md", report.to_markdown().encode())
        write_output(out / "report.html", report.to_html().encode())
        typer.echo(f"wrote {out / 'report.json'}, {out / 'report.md'}, {out / 'report.html'}")


def _progress() -> Any:
    """A rich progress bar for the embedding, and the callback that moves it."""
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn

    bar = Progress(TextColumn("embedding"), BarColumn(), MofNCompleteColumn(), TimeRemainingColumn(), transient=True)
    task = bar.add_task("embedding", total=None)

    def advance(done: int, total: int) -> None:
        bar.update(task, completed=done, total=total)

    return bar, advance


@app.command("run")
@handles_errors
def run(
    ctx: typer.Context,
    manifest: Path = typer.Argument(..., help="CSV with columns path,identity and one or more group columns."),
    images_root: Path = typer.Option(..., "--images-root", help="Folder the manifest's paths are relative to."),
    group_column: str = typer.Option(..., "--group-column", help="Manifest column that defines the groups."),
    label_source: LabelSource = typer.Option(..., "--label-source", help=LABEL_SOURCE_HELP),
    labelled_by: str = typer.Option(..., "--labelled-by", help=LABELLED_BY_HELP),
    label_notes: str = typer.Option("", "--label-notes", help="Anything else a reader should know about them."),
    face: str = typer.Option("center", help="Face of an image with several: center (nearest the centre), largest."),
    model: str | None = typer.Option(None, help="Embedder model id (default: the settings' embedder)."),
    fmr: float | None = typer.Option(None, help="Target false match rate (default: the settings' operating point)."),
    threshold: float | None = typer.Option(None, help="Operating threshold (default: the model's at --fmr)."),
    out: Path = typer.Option(Path("audit"), help="Folder for report.json, report.md and report.html."),
    fsn_clusters: int = typer.Option(0, min=0, help="Also measure fair score normalisation with K clusters."),
    fsn_seeds: int = typer.Option(5, min=1, help="Seeds fair score normalisation is fitted with."),
    processes: int = typer.Option(0, min=0, help="Worker processes for embedding (0: one per core)."),
    engine: Engine = typer.Option("processes", help="Embedding on 'processes' or on 'ray' (resumable batch job)."),
    max_impostors: int = typer.Option(200_000, min=1, help="Impostor pairs sampled per group at most."),
    bootstrap: int = typer.Option(1000, min=10, help="Bootstrap replicates for the intervals."),
    seed: int = typer.Option(0, help="Seed for pair sampling and the bootstrap."),
) -> None:
    """Embed the manifest's images with MODEL, audit them; the report is signed and recorded."""
    from regard.operations.audits import ImageAudit

    _check_fmr(fmr)
    current = state(ctx)
    request = ImageAudit(
        manifest=manifest,
        images_root=images_root,
        group_column=group_column,
        labels=_labels(label_source.value, labelled_by, label_notes),
        model=model,
        fmr=fmr,
        threshold=threshold,
        face=face,  # type: ignore[arg-type]  # checked by the service
        config=_config(max_impostors, bootstrap, seed, fsn_clusters, fsn_seeds),
        processes=processes,
        engine=engine.value,
    )
    service, context = current.service(), current.context()
    bar, advance = _progress()
    with bar:
        stored = service.audit_images(request, context, advance)
    _publish(stored, out)


@app.command("scores")
@handles_errors
def scores(
    ctx: typer.Context,
    score_file: Path = typer.Argument(..., help="CSV: score,genuine,group_a,group_b[,identity_a,identity_b]."),
    label_source: LabelSource = typer.Option(..., "--label-source", help=LABEL_SOURCE_HELP),
    labelled_by: str = typer.Option(..., "--labelled-by", help=LABELLED_BY_HELP),
    label_notes: str = typer.Option("", "--label-notes", help="Anything else a reader should know about them."),
    out: Path = typer.Option(Path("audit"), help="Folder for report.json, report.md and report.html."),
    fmr: float = typer.Option(1e-4, help="Target false match rate."),
    threshold: float | None = typer.Option(None, help="Operating threshold (default: picked at --fmr)."),
    system: str = typer.Option("third-party system", help="Name of the audited system, for the report."),
    bootstrap: int = typer.Option(1000, min=10, help="Bootstrap replicates for the intervals."),
    seed: int = typer.Option(0, help="Seed for the bootstrap."),
) -> None:
    """Audit any system from a score file (only scores and labels: no image leaves the auditor); unverified."""
    _check_fmr(fmr)
    current = state(ctx)
    stored = current.service().audit_scores(
        read_input(score_file),
        current.context(),
        labels=_labels(label_source.value, labelled_by, label_notes),
        system=system,
        name=score_file.name,
        fmr=fmr,
        threshold=threshold,
        config=_config(200_000, bootstrap, seed),
    )
    _publish(stored, out)


LIST_COLUMNS = ["id", "created", "system", "threshold", "route", "labels", "dataset", "verification"]


@app.command("list")
@handles_errors
def list_reports(ctx: typer.Context, json_out: bool = typer.Option(False, "--json", help="Print JSON.")) -> None:
    """The tenant's stored reports, with whether each verifies."""
    current = state(ctx)
    items = current.service().audit_reports(current.context())
    rows = [
        [
            s.id,
            s.record.created_at.isoformat(timespec="seconds"),
            s.record.system,
            f"{s.record.threshold:.4f}",
            s.record.route,
            s.report.dataset.labels.source,
            s.record.dataset,
            s.verification.status,
        ]
        for s in items
    ]
    if json_out:
        emit_json(
            [
                {**dict(zip(LIST_COLUMNS, row, strict=True)), "reason": s.verification.reason}
                for row, s in zip(rows, items, strict=True)
            ]
        )
        return
    table("audit reports", LIST_COLUMNS, rows)


@app.command("show")
@handles_errors
def show(
    ctx: typer.Context,
    report_id: str = typer.Argument(..., help="A stored report's id (regard audit list)."),
    out: Path | None = typer.Option(None, help="Also write report.json (as signed), report.md and report.html here."),
) -> None:
    """One stored report: its rates, provenance and whether it verifies."""
    current = state(ctx)
    stored = current.service().audit_report(report_id, current.context())
    from regard.fairness.markdown import provenance_lines

    for line in provenance_lines(stored.report):
        typer.echo(line)
    _publish(stored, out)


@app.command("verify")
@handles_errors
def verify(
    ctx: typer.Context,
    report_file: Path = typer.Argument(..., help="A report.json."),
) -> None:
    """Whether a report file is signed by this instance or a registered auditor (exit 14 when not)."""
    from regard.cli.errors import POLICY_DENIED_EXIT

    current = state(ctx)
    report, verification = current.service().verify_audit_report(read_input(report_file), current.context())
    typer.echo(f"{verification.status}: {verification.reason} ({report.system} at {report.threshold:.4f})")
    if not verification.verified:
        raise typer.Exit(POLICY_DENIED_EXIT)


@app.command("sign")
@handles_errors
def sign(
    report_file: Path = typer.Argument(..., help="The report.json to sign."),
    key: Path = typer.Option(..., help="Your Ed25519 private key (PEM; openssl genpkey -algorithm ed25519)."),
    out: Path = typer.Option(..., help="Where to write the signed report."),
    signed_by: str = typer.Option(..., "--signed-by", help="Who signs (your name or organisation)."),
) -> None:
    """For outside auditors: sign a report with your own key; tenants that registered it will trust it."""
    from regard.fairness.report import parse_report
    from regard.fairness.signing import KeySigner, sign_report

    signer = KeySigner.from_pem(key)
    signed = sign_report(parse_report(read_input(report_file)), signer, signed_by)
    write_output(out, signed.to_json().encode())
    typer.echo(f"signed with key {signer.key_id}; public key {signer.public_key_hex}")


@app.command("public-key")
@handles_errors
def public_key(ctx: typer.Context) -> None:
    """This instance's report-signing public key (the ledger's), for tenants elsewhere that register you."""
    current = state(ctx)
    typer.echo(current.service().ledger_public_key(current.context()))


@app.command("gate")
@handles_errors
def gate(
    report_file: Path = typer.Argument(..., help="report.json written by `regard audit run` or `scores`."),
    policy: Path | None = typer.Option(None, help="Policy file (.toml or .json); default: the built-in policy."),
    json_out: bool = typer.Option(False, "--json", help="Print JSON."),
) -> None:
    """Check a report's numbers against a fairness policy; exit code 11 when any rule fails (no activation)."""
    from regard.fairness import DEFAULT_POLICY, FairnessPolicy, evaluate_gate, load_report

    result = evaluate_gate(load_report(report_file), FairnessPolicy.load(policy) if policy else DEFAULT_POLICY)
    if json_out:
        emit_json(result)
    else:
        rows = []
        for r in result.rules:
            measured = "—" if r.measured is None else f"{r.measured:.4g}"
            rows.append([r.id, r.description, measured, "pass" if r.passed else "FAIL", r.note])
        table("fairness gate", ["rule", "limit", "measured", "result", "note"], rows)
        if result.switched_off:
            typer.echo("switched off by the policy: " + ", ".join(result.switched_off))
        if result.excluded_groups:
            typer.echo("left out (too few samples): " + ", ".join(result.excluded_groups))
        typer.echo("PASSED" if result.passed else "FAILED")
    if not result.passed:
        raise typer.Exit(GATE_FAILED_EXIT)


@auditor_app.command("add")
@handles_errors
def auditor_add(
    ctx: typer.Context,
    name: str = typer.Argument(..., help="A name for the auditor (letters, digits, '-', '_', '.')."),
    key: str = typer.Argument(..., help="Their Ed25519 public key, 64 hex digits (`regard audit public-key`)."),
    description: str = typer.Option("", help="Who they are, how the key was obtained."),
) -> None:
    """Trust reports this auditor signs (admin); recorded in the ledger."""
    current = state(ctx)
    auditor = current.service().register_auditor(name, key, current.context(), description)
    typer.echo(f"registered auditor '{auditor.name}' (key {auditor.key_id})")


@auditor_app.command("list")
@handles_errors
def auditor_list(ctx: typer.Context, json_out: bool = typer.Option(False, "--json", help="Print JSON.")) -> None:
    """Registered auditors, revoked ones included."""
    current = state(ctx)
    items = current.service().auditors(current.context())
    if json_out:
        emit_json(items)
        return
    rows = [
        [a.name, a.key_id, a.added_by, a.added_at.isoformat(timespec="seconds"), "yes" if a.active else "revoked"]
        for a in items
    ]
    table("auditors", ["name", "key", "added by", "added", "active"], rows)


@auditor_app.command("revoke")
@handles_errors
def auditor_revoke(ctx: typer.Context, name: str = typer.Argument(..., help="The auditor's name.")) -> None:
    """Stop trusting an auditor's key (admin); its reports become unverified."""
    current = state(ctx)
    current.service().revoke_auditor(name, current.context())
    typer.echo(f"revoked auditor '{name}'")
