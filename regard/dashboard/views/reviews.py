"""Reviewers' pages: the queue of held matches, a case (probe and candidates side by side), confirm or reject."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated, Any, Literal
from urllib.parse import quote

from fastapi import APIRouter, Form, Request, Response
from fastapi.responses import RedirectResponse

from regard.context import normalise_actor
from regard.dashboard.pages import Failure, render
from regard.dashboard.visitors import PREFIX, Visiting, Visitor
from regard.errors import PermissionDeniedError, RegardError
from regard.governance.review import ReviewAction, ReviewCase

router = APIRouter()


@dataclass(frozen=True)
class Queued:
    """A pending case in the queue; ``case`` is None when the visitor may not open it (they ran the search)."""

    id: str
    case: ReviewCase | None
    refusal: str = ""


@dataclass(frozen=True)
class Candidate:
    """A candidate as the case page shows it: the numbers, the face, who acted and what is still needed."""

    entry: dict[str, Any]  # subject, display_name, face_id, similarity, score, status
    thumbnail: bytes | None
    actions: list[ReviewAction]
    confirmed_by: list[str]
    still_needed: int
    acted: bool  # this visitor has acted on it: a second confirmation must come from someone else


@router.get("/reviews")
def queue(request: Request, visitor: Visiting) -> Response:
    rows = []
    for case_id in visitor.regard.pending_reviews(visitor.ctx):
        try:
            rows.append(Queued(case_id, visitor.regard.review_case(case_id, visitor.ctx)))
        except PermissionDeniedError as exc:
            rows.append(Queued(case_id, None, str(exc)))
    return render(request, "reviews.html", visitor, queue=rows)


def _candidates(case: ReviewCase, visitor: Visitor) -> list[Candidate]:
    me = normalise_actor(visitor.ctx.actor)
    out = []
    for entry in case.candidates:
        actions = [a for a in case.actions if a.subject == entry["subject"]]
        confirmed_by = sorted({normalise_actor(a.reviewer) for a in actions if a.action == "confirm"})
        thumbnail = visitor.regard.review_image(case.id, visitor.ctx, entry["subject"])
        out.append(
            Candidate(
                entry=entry,
                thumbnail=thumbnail,
                actions=actions,
                confirmed_by=confirmed_by,
                still_needed=max(0, case.reviewers_required - len(confirmed_by)) if entry["status"] == "pending" else 0,
                acted=any(normalise_actor(a.reviewer) == me for a in actions),
            )
        )
    return out


def _case_page(request: Request, visitor: Visitor, case_id: str, failure: Failure | None = None) -> Response:
    case = visitor.regard.review_case(case_id, visitor.ctx)
    status = failure.status if failure else 200
    return render(
        request, "review_case.html", visitor, status, case=case, candidates=_candidates(case, visitor), failure=failure
    )


@router.get("/reviews/{case_id}")
def case(request: Request, visitor: Visiting, case_id: str) -> Response:
    return _case_page(request, visitor, case_id)


@router.post("/reviews/{case_id}/candidates/{subject:path}")
def act(
    request: Request,
    visitor: Visiting,
    case_id: str,
    subject: str,
    action: Annotated[Literal["confirm", "reject"], Form()],
    justification: Annotated[str, Form(max_length=4000)] = "",
) -> Response:
    """One reviewer's confirm or reject, with their justification; the service counts people, not clicks."""
    try:
        visitor.regard.review_candidate(case_id, subject, action, justification, visitor.ctx)
    except RegardError as exc:
        return _case_page(request, visitor, case_id, Failure.of(exc))
    return RedirectResponse(f"{PREFIX}/reviews/{quote(case_id, safe='')}", 303)
