"""``regard models list|register|activate|deployments``."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import typer

from regard.backends.calibration import fmr_key
from regard.backends.specs import ModelSpec
from regard.cli.errors import handles_errors
from regard.cli.output import emit_json, read_input, table
from regard.cli.state import state
from regard.errors import InvalidInputError

app = typer.Typer(help="Show the model registry; register your own ONNX embedder.", no_args_is_help=True)


@app.command("list")
@handles_errors
def list_models(ctx: typer.Context, json_out: bool = typer.Option(False, "--json", help="Print JSON.")) -> None:
    """Models with licence, source, checksum, size, thresholds and whether they are installed."""
    infos = state(ctx).service().models()
    if json_out:
        emit_json([{**_public(m.spec), "installed": m.installed} for m in infos])
        return
    rows = [
        [
            m.spec.id,
            _kind(m.spec),
            m.spec.version,
            m.spec.licence,
            m.spec.source_package or "(user file)",
            m.spec.embedding_size or "",
            ", ".join(f"{k}: {v:.3f}" for k, v in m.spec.thresholds.items() if k in ("1e-03", "1e-04", "1e-05")),
            "yes" if m.installed else "no",
        ]
        for m in infos
    ]
    table("models", ["id", "kind", "version", "licence", "from", "dim", "cosine thresholds by FMR", "installed"], rows)


def _kind(spec: ModelSpec) -> str:
    if not spec.is_profile:
        return spec.kind
    members = " + ".join(f"{m.weight:g} {m.model_id}" for m in spec.members)
    return f"profile: {members}{', flip' if spec.flip else ''}"


def _public(spec: ModelSpec) -> dict[str, Any]:
    from regard.models_io import spec_to_dict

    return spec_to_dict(spec)


@app.command("register")
@handles_errors
def register(
    ctx: typer.Context,
    model_id: str = typer.Argument(..., help="Id for the new model."),
    path: Path = typer.Argument(..., help="ONNX file: 112x112 RGB aligned crop in, one embedding out."),
    fmr_1e3: float | None = typer.Option(None, "--threshold-fmr-1e-3", help="Cosine threshold measured at FMR 1e-3."),
    fmr_1e4: float | None = typer.Option(None, "--threshold-fmr-1e-4", help="Cosine threshold measured at FMR 1e-4."),
    fmr_1e5: float | None = typer.Option(None, "--threshold-fmr-1e-5", help="Cosine threshold measured at FMR 1e-5."),
    licence: str = typer.Option("user-supplied", help="Licence of the weights."),
) -> None:
    """Register an ArcFace-style ONNX embedder with your own calibrated thresholds."""
    thresholds = {k: v for k, v in (("1e-03", fmr_1e3), ("1e-04", fmr_1e4), ("1e-05", fmr_1e5)) if v is not None}
    current = state(ctx)
    spec = current.service().register_model(model_id, read_input(path), thresholds, current.context(), licence)
    typer.echo(f"registered '{spec.id}' ({spec.embedding_size}-d, sha256 {spec.sha256[:12]}...)")


@app.command("activate")
@handles_errors
def activate(
    ctx: typer.Context,
    model_id: str = typer.Argument(..., help="Embedder model id."),
    report_id: str | None = typer.Option(None, "--report-id", help="A stored report's id (regard audit list)."),
    report: Path | None = typer.Option(None, help="A signed report.json (this instance's, or a registered auditor's)."),
    fmr: float | None = typer.Option(None, help="Operating point the model will run at (default from settings)."),
) -> None:
    """Activate a model at its operating threshold if a trusted fairness audit passes the tenant's gate (exit 14 if
    not)."""
    if (report_id is None) == (report is None):
        raise InvalidInputError("give --report-id or --report")
    current = state(ctx)
    signed = read_input(report) if report is not None else None
    summary = current.service().activate_model(
        model_id, current.context(), report_id=report_id, signed_report=signed, fmr=fmr
    )
    passed = [
        f"{g['rule']} {g['measured']:.3g} <= {g['limit']:g}" for g in summary["gate"] if g["measured"] is not None
    ]
    off = [f"{name} switched off" for name in summary["switched_off"]]
    typer.echo(f"activated {model_id} on report {summary['report_id']}: " + ", ".join(passed + off or ["no limit"]))


@app.command("deployments")
@handles_errors
def deployments(ctx: typer.Context, json_out: bool = typer.Option(False, "--json", help="Print JSON.")) -> None:
    """Activations of the tenant, with the fairness report each rests on."""
    current = state(ctx)
    items = current.service().deployments(current.context())
    if json_out:
        emit_json(items)
        return
    rows = [
        [
            d["model"],
            fmr_key(d["fmr"]),
            f"{d['threshold']:.4f}",
            d["activated_at"],
            d["activated_by"],
            "yes" if d["active"] else "no",
            d.get("report_id") or d["report_sha256"][:12],
        ]
        for d in items
    ]
    table("deployments", ["model", "fmr", "threshold", "activated", "by", "active", "report"], rows)
