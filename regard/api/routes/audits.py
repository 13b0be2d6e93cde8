"""``/v1/audits``, ``/v1/auditors`` and ``/v1/fairness/cards``: fairness audits from score files, stored reports, the
gate, outside auditors, and the audits Regard ships for its built-in models.

An independent tester submits a score file (scores and group labels only: no image leaves them); the report is
stored, recorded in the ledger and stays unverified, since nothing proves the scores.  Reports that can activate a
model are those this instance produced from images (`regard audit run`) or that a registered auditor signed.
"""

from __future__ import annotations

from typing import Annotated, Literal

from fastapi import APIRouter, File, Form, Path, Query, Request, Response, UploadFile

from regard.api.auth import Caller, Service
from regard.api.paging import Paging
from regard.api.responses import content
from regard.api.routes.report import MEDIA, negotiate
from regard.api.schemas.audits import AuditorIn, AuditorOut, AuditOut, CheckedReportOut, GateOut, VerificationOut
from regard.api.schemas.base import Paged
from regard.api.schemas.cards import FairnessCardOut
from regard.api.uploads import read_upload
from regard.fairness.labels import LabelProvenance

router = APIRouter(tags=["fairness audits"])

ReportId = Annotated[str, Path(max_length=64, description="A stored report's id.")]
Format = Literal["json", "markdown", "html"]

_DOCUMENT = content("The report: its JSON exactly as stored and signed, or a rendering.", "text/markdown", "text/html")
_DOCUMENT[200]["content"]["application/json"] = {"schema": {"type": "object"}}


@router.post("/audits/scores", response_model=AuditOut, status_code=201, summary="Audit a score file")
def audit_scores(
    regard: Service,
    ctx: Caller,
    scores: Annotated[UploadFile, File(description="CSV: score,genuine,group_a,group_b[,identity_a,identity_b].")],
    label_source: Annotated[
        str,
        Form(
            description="How the group labels were assigned: self-reported, administrative-records, "
            "assigned-by-people, machine-proxy or unknown."
        ),
    ],
    labelled_by: Annotated[str, Form(max_length=256, description="Who assigned the group labels.")],
    label_notes: Annotated[str, Form(max_length=2000)] = "",
    system: Annotated[str, Form(max_length=128, description="The audited system.")] = "third-party system",
    system_version: Annotated[str, Form(max_length=128)] = "",
    name: Annotated[str, Form(max_length=256, description="The evaluation set's name, for the report.")] = "score file",
    fmr: Annotated[float, Form(gt=0, lt=1, description="Target false match rate.")] = 1e-4,
    threshold: Annotated[float | None, Form(description="Operating threshold (default: picked at fmr).")] = None,
) -> AuditOut:
    """Per-group FMR and FNMR with intervals, differentials and the report, stored and recorded; unverified."""
    data = read_upload(scores, regard.settings.max_model_bytes, "score file")
    labels = LabelProvenance(label_source, labelled_by, label_notes)
    stored = regard.audit_scores(
        data,
        ctx,
        labels=labels,
        system=system,
        system_version=system_version,
        name=name,
        fmr=fmr,
        threshold=threshold,
    )
    return AuditOut.of(stored)


@router.get("/audits", response_model=Paged[AuditOut], summary="Stored audit reports")
def list_audits(regard: Service, ctx: Caller, paging: Paging) -> Paged[AuditOut]:
    """Each with whether its signature holds for a key this tenant trusts and matches its ledger entry."""
    return paging.cut(regard.audit_reports(ctx), AuditOut.of)


@router.get("/audits/{report_id}", response_model=AuditOut, summary="One stored audit report's facts")
def show_audit(regard: Service, ctx: Caller, report_id: ReportId) -> AuditOut:
    return AuditOut.of(regard.audit_report(report_id, ctx))


@router.get("/audits/{report_id}/document", response_class=Response, responses=_DOCUMENT, summary="The report")
def audit_document(
    request: Request,
    regard: Service,
    ctx: Caller,
    report_id: ReportId,
    format: Annotated[Format | None, Query(description="json, markdown or html (default: by Accept).")] = None,
) -> Response:
    """JSON is the document exactly as stored and signed (hand it to whoever will verify it); HTML is
    self-contained (inline SVG plots, no scripts)."""
    stored = regard.audit_report(report_id, ctx)
    chosen = format or negotiate(request.headers.get("accept", ""))
    if chosen == "markdown":
        return Response(stored.report.to_markdown(), media_type=MEDIA["markdown"])
    if chosen == "html":
        return Response(stored.report.to_html(), media_type=MEDIA["html"])
    return Response(stored.document, media_type=MEDIA["json"])


@router.get("/audits/{report_id}/gate", response_model=GateOut, summary="The tenant's gate on a report")
def audit_gate(regard: Service, ctx: Caller, report_id: ReportId) -> GateOut:
    """A dry run: each rule's measured value and limit under the tenant's policy; nothing is activated."""
    return GateOut.of(regard.fairness_gate(report_id, ctx))


@router.post("/audits/verification", response_model=CheckedReportOut, summary="Check a report's signature")
def verify_report(
    regard: Service,
    ctx: Caller,
    report: Annotated[UploadFile, File(description="A report.json.")],
) -> CheckedReportOut:
    """Whether the report carries a valid signature by this instance or an auditor the tenant registered."""
    data = read_upload(report, regard.settings.max_model_bytes, "report")
    parsed, verification = regard.verify_audit_report(data, ctx)
    return CheckedReportOut(
        system=parsed.system,
        threshold=parsed.threshold,
        verification=VerificationOut.of(verification),
        signature_key_id=parsed.signature.key_id if parsed.signature else None,
    )


@router.get("/auditors", response_model=Paged[AuditorOut], summary="Registered outside auditors")
def list_auditors(regard: Service, ctx: Caller, paging: Paging) -> Paged[AuditorOut]:
    return paging.cut(regard.auditors(ctx), AuditorOut.of)


@router.post("/auditors", response_model=AuditorOut, status_code=201, summary="Register an outside auditor")
def register_auditor(regard: Service, ctx: Caller, body: AuditorIn) -> AuditorOut:
    """Reports signed with this key are trusted in the tenant (to activate a model) until it is revoked."""
    return AuditorOut.of(regard.register_auditor(body.name, body.public_key, ctx, body.description))


@router.delete("/auditors/{name}", response_model=AuditorOut, summary="Revoke an outside auditor")
def revoke_auditor(
    regard: Service, ctx: Caller, name: Annotated[str, Path(max_length=128, description="The auditor's name.")]
) -> AuditorOut:
    """Their reports no longer activate anything; activations made on them stay recorded."""
    return AuditorOut.of(regard.revoke_auditor(name, ctx))


@router.get("/fairness/cards", response_model=Paged[FairnessCardOut], summary="The shipped fairness cards")
def fairness_cards(regard: Service, ctx: Caller, paging: Paging) -> Paged[FairnessCardOut]:
    """The audits Regard ships for its built-in models (published, the same in every tenant): error rates per
    group at the operating threshold with their intervals, differentials, DET curves and caveats."""
    return paging.cut(regard.fairness_cards(ctx), FairnessCardOut.of)
