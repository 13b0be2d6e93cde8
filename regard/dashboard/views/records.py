"""Auditors' pages: the ledger and its verification, the accountability report, fairness cards and deployments."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated, Literal

from fastapi import APIRouter, Query, Request, Response
from markupsafe import Markup

from regard.dashboard.pages import render
from regard.dashboard.visitors import Visiting
from regard.fairness.markdown import differential_rows
from regard.fairness.report import AuditReport
from regard.fairness.svg import RatePoint, det_chart, rate_chart
from regard.governance.report import render_html, render_json, render_markdown

router = APIRouter()

LEDGER_PAGE = 50
FORMATS = {
    "markdown": (render_markdown, "text/markdown; charset=utf-8", "md"),
    "html": (render_html, "text/html; charset=utf-8", "html"),
    "json": (render_json, "application/json", "json"),
}


@router.get("/ledger")
def ledger(request: Request, visitor: Visiting, after_seq: Annotated[int | None, Query(ge=0)] = None) -> Response:
    """The verification (chain, signed checkpoints, witnesses) and one page of entries, newest first."""
    regard, ctx = visitor.regard, visitor.ctx
    verification = regard.verify_ledger(ctx)
    total = regard.ledger_length(ctx)
    start = min(after_seq, total) if after_seq is not None else max(0, total - LEDGER_PAGE)
    entries = regard.ledger_entries(ctx, start, LEDGER_PAGE)
    pages = {
        "earlier": max(0, start - LEDGER_PAGE) if start > 0 else None,
        "later": start + len(entries) if start + len(entries) < total else None,
    }
    return render(
        request,
        "ledger.html",
        visitor,
        verification=verification,
        total=total,
        entries=list(reversed(entries)),
        pages=pages,
    )


@router.get("/report")
def report(request: Request, visitor: Visiting, purpose: Annotated[str, Query(max_length=128)] = "") -> Response:
    """The accountability report, optionally for one purpose, with its downloads (Markdown, HTML, JSON)."""
    built = visitor.regard.accountability_report(visitor.ctx, purpose or None)
    purposes = visitor.regard.list_purposes(visitor.ctx)
    operations = sorted({op for counts in built.calls_by_operation.values() for op in counts})
    return render(
        request, "report.html", visitor, report=built, purposes=purposes, purpose=purpose, operations=operations
    )


@router.get("/report/download")
def download_report(
    visitor: Visiting,
    format: Literal["markdown", "html", "json"] = "markdown",
    purpose: Annotated[str, Query(max_length=128)] = "",
) -> Response:
    built = visitor.regard.accountability_report(visitor.ctx, purpose or None)
    renderer, media_type, extension = FORMATS[format]
    name = f"accountability-{built.tenant}{'-' + purpose if purpose else ''}.{extension}"
    disposition = {"Content-Disposition": f'attachment; filename="{name}"'}
    return Response(renderer(built), media_type=media_type, headers=disposition)


@dataclass(frozen=True)
class Card:
    """A fairness audit as the page shows it: its report, the rates per group and the DET curves as inline SVG."""

    report: AuditReport
    fmr_chart: Markup
    fnmr_chart: Markup
    det_chart: Markup
    differentials: list[tuple[str, str, str]]


def _card(report: AuditReport) -> Card:
    fmr = [RatePoint(g.group, g.fmr, g.fmr_ci, g.flagged) for g in report.groups]
    fnmr = [RatePoint(g.group, g.fnmr, g.fnmr_ci, g.flagged) for g in report.groups]
    pairs = zip(differential_rows(report.differentials), differential_rows(report.differentials_adequate), strict=True)
    title = f"{report.system} on {report.dataset.name}"
    return Card(
        report,
        # The charts escape every text they draw (regard.fairness.svg).
        Markup(rate_chart(fmr, f"FMR per group, {title} (log scale)", log=True, reference=report.target_fmr)),
        Markup(rate_chart(fnmr, f"FNMR per group, {title}", log=False)),
        Markup(det_chart(report.det, report.target_fmr, f"DET curves per group, {title}")),
        [(a[0], a[1], b[1]) for a, b in pairs],
    )


@router.get("/fairness")
def fairness(request: Request, visitor: Visiting) -> Response:
    """The deployment state (models activated through the fairness gate), the tenant's stored audit reports with
    whether each verifies (auditors), and the fairness cards with their plots."""
    regard = visitor.regard
    deployments = list(reversed(regard.deployments(visitor.ctx)))
    audits = list(reversed(regard.audit_reports(visitor.ctx))) if visitor.can("audit") else None
    cards = [_card(report) for report in regard.fairness_cards(visitor.ctx)]
    models = [m for m in regard.models() if m.spec.kind == "embedder"]
    return render(request, "fairness.html", visitor, deployments=deployments, audits=audits, cards=cards, models=models)
