"""Rendering: the Jinja2 templates, what every page is given (the visitor, their navigation), and errors as pages.

Errors are shown as readable pages or messages beside the form that caused them, never tracebacks: the core's
stable error code and message, and for a policy denial the rule and policy version it cites.
"""

from __future__ import annotations

import base64
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import jinja2
from fastapi import Request, Response
from fastapi.templating import Jinja2Templates

from regard import errors
from regard.api.problems import TITLES, ApiProblem, http_status
from regard.dashboard import HTMX_FILE, HTMX_INTEGRITY
from regard.dashboard.visitors import CSRF_FIELD, CSRF_HEADER, PREFIX, Visitor


@dataclass(frozen=True)
class Link:
    label: str
    path: str
    operations: tuple[str, ...]  # shown to visitors whose roles allow any of these


@dataclass(frozen=True)
class Section:
    title: str
    links: tuple[Link, ...]


NAVIGATION = (
    Section("Operate", (Link("Collections", "/collections", ("read",)),)),
    Section(
        "Review",
        (
            Link("Review queue", "/reviews", ("review",)),
            Link("Applications", "/applications", ("read", "decide")),
        ),
    ),
    Section(
        "Audit",
        (
            Link("Ledger", "/ledger", ("audit",)),
            Link("Accountability report", "/report", ("audit",)),
            Link("Fairness", "/fairness", ("read",)),
            Link("Purposes", "/purposes", ("read",)),
            Link("Policy", "/policy", ("read",)),
            Link("Consents", "/consents", ("read",)),
        ),
    ),
)


# Why a face was not enrolled, in words (the codes are the service's; see regard.domain.UnindexedReason).
REASONS = {
    "EXCEEDS_MAX_FACES": "the image has more faces than you asked to enroll; the largest were kept",
    "LOW_CONFIDENCE": "the detector is not confident this is a face",
    "SMALL_BOUNDING_BOX": "the face is too small for a reliable template",
    "LOW_SHARPNESS": "the face is blurred",
    "LOW_BRIGHTNESS": "the face is too dark",
    "EXTREME_POSE": "the face is turned too far from the camera",
}

# The model's measured error rates a reviewer sees (keys of ModelSpec.measured, and the FMR at the case's threshold).
MEASURES = {
    "fmr_at_threshold": "False match rate at this threshold (share of different people who would match)",
    "lfw_accuracy": "Verification accuracy on LFW (posed news photos)",
    "lfw_tar_at_fmr_1e-3": "Share of true pairs recognised on LFW at a false match rate of 1e-3",
    "lfw_eer": "Equal error rate on LFW",
    "celeba_wild_eer": "Equal error rate on uncropped CelebA photos (harder, closer to real use)",
}


@dataclass(frozen=True)
class Failure:
    """An error as a page shows it."""

    status: int
    code: str
    message: str
    rule_id: str | None = None
    policy_version: str | None = None

    @property
    def title(self) -> str:
        return TITLES.get(self.status, "Error")

    @classmethod
    def of(cls, exc: Exception) -> Failure:
        if isinstance(exc, errors.PolicyDeniedError):
            return cls(403, exc.code, exc.reason, exc.rule_id, exc.policy_version or None)
        if isinstance(exc, errors.RegardError):
            return cls(http_status(exc), exc.code, str(exc))
        if isinstance(exc, ApiProblem):
            return cls(exc.status, exc.code, exc.detail)
        return cls(500, "internal_error", "The server failed to answer; the error is in its log.")


def _data_uri(data: bytes | None, media_type: str = "image/jpeg") -> str:
    return f"data:{media_type};base64,{base64.b64encode(data).decode()}" if data else ""


def _when(value: datetime | float | str | None) -> str:
    """A time as people read it, in UTC, to the minute."""
    if value is None or value == "":
        return "—"
    if isinstance(value, int | float):
        value = datetime.fromtimestamp(value, UTC)
    elif isinstance(value, str):
        value = datetime.fromisoformat(value)
    return value.strftime("%Y-%m-%d %H:%M UTC")


def _rate(value: float | None) -> str:
    """An error rate: 1.2e-04 below 1%, else a percentage."""
    if value is None:
        return "—"
    return f"{value:.1e}" if value < 0.01 else f"{value:.2%}"


def _number(value: float | int | None) -> str:
    """A measured number to three significant digits (counts as they are)."""
    if value is None:
        return "—"
    return str(value) if isinstance(value, int) else f"{value:.3g}"


def _environment() -> jinja2.Environment:
    env = jinja2.Environment(
        loader=jinja2.PackageLoader("regard.dashboard", "templates"),
        autoescape=True,
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.filters.update(data_uri=_data_uri, when=_when, rate=_rate, number=_number)
    env.globals.update(
        base=PREFIX,
        reasons=REASONS,
        measures=MEASURES,
        csrf_field=CSRF_FIELD,
        csrf_header=CSRF_HEADER,
        htmx_file=HTMX_FILE,
        htmx_integrity=HTMX_INTEGRITY,
    )
    return env


TEMPLATES = Jinja2Templates(env=_environment())


def navigation(visitor: Visitor | None) -> list[Section]:
    """The sections and links the visitor's roles open (the service still decides each call)."""
    if visitor is None:
        return []
    shown = [Section(s.title, tuple(link for link in s.links if visitor.can(*link.operations))) for s in NAVIGATION]
    return [s for s in shown if s.links]


def render(request: Request, template: str, visitor: Visitor | None, status: int = 200, **context: Any) -> Response:
    """A page: ``template`` with the visitor, their navigation and the current path (for ``aria-current``)."""
    values = {"visitor": visitor, "nav": navigation(visitor), "path": request.url.path, **context}
    return TEMPLATES.TemplateResponse(request, template, values, status_code=status)


def failure_page(request: Request, failure: Failure) -> Response:
    """The error as a page; to htmx, which asked for a fragment of another page, it says to show this page's
    main content instead."""
    visitor: Visitor | None = getattr(request.state, "visitor", None)
    response = render(request, "error.html", visitor, failure.status, failure=failure)
    if request.headers.get("HX-Request"):
        response.headers.update({"HX-Retarget": "#main", "HX-Reselect": "#main", "HX-Reswap": "outerHTML"})
    return response
