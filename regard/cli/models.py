"""``regard models list|register``."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import typer

from regard.backends.specs import ModelSpec
from regard.cli.errors import handles_errors
from regard.cli.output import emit_json, table
from regard.cli.state import state

app = typer.Typer(help="Show the model registry; register your own ONNX embedder.", no_args_is_help=True)


@app.command("list")
@handles_errors
def list_models(ctx: typer.Context, json_out: bool = typer.Option(False, "--json", help="Print JSON.")) -> None:
    """Models with licence, source, checksum, size, thresholds and whether they are installed."""
    service = state(ctx).service()
    specs = service.models()
    if json_out:
        emit_json([{**_public(s), "installed": service.registry.available(s.id)} for s in specs])
        return
    rows = [
        [
            s.id,
            _kind(s),
            s.version,
            s.licence,
            s.source_package or "(user file)",
            s.embedding_size or "",
            ", ".join(f"{k}: {v:.3f}" for k, v in s.thresholds.items() if k in ("1e-03", "1e-04", "1e-05")),
            "yes" if service.registry.available(s.id) else "no",
        ]
        for s in specs
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
    spec = current.service().register_model(model_id, path, thresholds, licence, current.context())
    typer.echo(f"registered '{spec.id}' ({spec.embedding_size}-d, sha256 {spec.sha256[:12]}...)")


@app.command("activate")
@handles_errors
def activate(
    ctx: typer.Context,
    model_id: str = typer.Argument(..., help="Embedder model id."),
    report: Path = typer.Option(..., help="Fairness audit report (report.json from `regard audit run`)."),
    fmr: float | None = typer.Option(None, help="Operating point the model will run at (default from settings)."),
) -> None:
    """Activate a model at its operating threshold if its fairness audit passes the tenant's gate (exit 14 if not)."""
    current = state(ctx)
    summary = current.service().activate_model(model_id, report, current.context(), fmr=fmr)
    typer.echo(
        f"activated {model_id}: "
        + ", ".join(
            f"{g['rule']} {g['measured']:.3g} <= {g['limit']:g}" for g in summary["gate"] if g["measured"] is not None
        )
    )


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
            d["fmr"],
            d["threshold"],
            d["activated_at"],
            d["activated_by"],
            "yes" if d["active"] else "no",
            d["report_sha256"][:12],
        ]
        for d in items
    ]
    table("deployments", ["model", "fmr", "threshold", "activated", "by", "active", "report"], rows)
