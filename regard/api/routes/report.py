"""``/v1/report``: the accountability report as Markdown, HTML or JSON (``format`` or ``Accept``)."""

from __future__ import annotations

from typing import Annotated, Literal

from fastapi import APIRouter, Query, Request, Response

from regard.api.auth import Caller, Service
from regard.api.problems import ApiProblem
from regard.api.responses import content
from regard.api.schemas.records import ReportOut

router = APIRouter(tags=["report"])

MEDIA = {"json": "application/json", "markdown": "text/markdown; charset=utf-8", "html": "text/html; charset=utf-8"}
Format = Literal["json", "markdown", "html"]

_DOCUMENTED = content("The report.", "text/markdown", "text/html")
_DOCUMENTED[200]["content"]["application/json"] = {"schema": {"$ref": "#/components/schemas/ReportOut"}}


def negotiate(accept: str) -> Format:
    """The format an ``Accept`` header asks for, JSON when it names none of ours."""
    wanted = [part.split(";")[0].strip().lower() for part in accept.split(",") if part.strip()]
    for media in wanted:
        if media == "text/markdown":
            return "markdown"
        if media == "text/html":
            return "html"
        if media in ("application/json", "application/*", "*/*", "text/*"):
            return "json" if media != "text/*" else "markdown"
    if wanted:
        raise ApiProblem(406, "not_acceptable", "the report is offered as application/json, text/markdown or text/html")
    return "json"


@router.get("/report", response_class=Response, responses=_DOCUMENTED, summary="The accountability report")
def accountability_report(
    request: Request,
    regard: Service,
    ctx: Caller,
    format: Annotated[Format | None, Query(description="json, markdown or html (default: by Accept).")] = None,
    for_purpose: Annotated[str | None, Query(max_length=128, description="Only this purpose.")] = None,
) -> Response:
    """What the tenant declared, did, was refused and reviewed, the models in use and the ledger's state."""
    from regard.governance.report import render_html, render_markdown

    chosen = format or negotiate(request.headers.get("accept", ""))
    report = regard.accountability_report(ctx, for_purpose)
    if chosen == "markdown":
        return Response(render_markdown(report), media_type=MEDIA["markdown"])
    if chosen == "html":
        return Response(render_html(report), media_type=MEDIA["html"])
    return Response(ReportOut.of(report).model_dump_json(), media_type=MEDIA["json"])
