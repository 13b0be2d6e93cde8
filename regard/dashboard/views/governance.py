"""What the tenant declared: purposes, the policy and its history, consents, and applications (reviewers decide)."""

from __future__ import annotations

from typing import Annotated, Literal

from fastapi import APIRouter, Form, Request, Response
from fastapi.responses import RedirectResponse

from regard.dashboard.pages import Failure, render
from regard.dashboard.visitors import PREFIX, Visiting, Visitor
from regard.errors import RegardError

router = APIRouter()


@router.get("/purposes")
def purposes(request: Request, visitor: Visiting) -> Response:
    return render(request, "purposes.html", visitor, purposes=visitor.regard.list_purposes(visitor.ctx))


@router.get("/policy")
def policy(request: Request, visitor: Visiting) -> Response:
    text = visitor.regard.policy_text(visitor.ctx)
    history = list(reversed(visitor.regard.policy_history(visitor.ctx)))
    return render(request, "policy.html", visitor, text=text, history=history)


@router.get("/consents")
def consents(request: Request, visitor: Visiting) -> Response:
    return render(request, "consents.html", visitor, consents=visitor.regard.list_consents(visitor.ctx))


def _applications_page(request: Request, visitor: Visitor, failure: Failure | None = None) -> Response:
    applications = sorted(visitor.regard.list_applications(visitor.ctx), key=lambda a: (a.status != "pending", -a.id))
    status = failure.status if failure else 200
    return render(request, "applications.html", visitor, status, applications=applications, failure=failure)


@router.get("/applications")
def applications(request: Request, visitor: Visiting) -> Response:
    return _applications_page(request, visitor)


@router.post("/applications/{application_id}/decision")
def decide(
    request: Request,
    visitor: Visiting,
    application_id: int,
    decision: Annotated[Literal["approve", "reject"], Form()],
    reason: Annotated[str, Form(max_length=4000)],
    valid_days: Annotated[int, Form(ge=1, le=3650)] = 365,
) -> Response:
    """A reviewer approves or rejects (never their own application: the service refuses it)."""
    try:
        visitor.regard.decide_application(application_id, decision == "approve", reason, visitor.ctx, valid_days)
    except RegardError as exc:
        return _applications_page(request, visitor, Failure.of(exc))
    return RedirectResponse(f"{PREFIX}/applications", 303)
