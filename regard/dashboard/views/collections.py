"""Operators' pages: collections, their subjects, a subject's faces (with thumbnails when kept)."""

from __future__ import annotations

from typing import Annotated
from urllib.parse import quote

from fastapi import APIRouter, Form, Query, Request, Response
from fastapi.responses import RedirectResponse

from regard.dashboard.pages import Failure, render
from regard.dashboard.visitors import PREFIX, Visiting, Visitor
from regard.errors import RegardError

router = APIRouter()

PAGE = 50
Offset = Annotated[int, Query(ge=0)]


def _create_form(visitor: Visitor) -> dict[str, object]:
    """What the create form offers: the purposes declared and the embedders installed here."""
    if not visitor.can("manage"):
        return {"purposes": [], "embedders": []}
    purposes = visitor.regard.list_purposes(visitor.ctx)
    embedders = [m.spec for m in visitor.regard.models() if m.spec.kind == "embedder" and m.installed]
    return {"purposes": purposes, "embedders": embedders}


def _collections_page(request: Request, visitor: Visitor, offset: int, status: int = 200, **extra: object) -> Response:
    page = visitor.regard.list_collections(visitor.ctx, offset, PAGE)
    return render(request, "collections.html", visitor, status, page=page, **_create_form(visitor), **extra)


@router.get("/collections")
def collections(request: Request, visitor: Visiting, offset: Offset = 0) -> Response:
    return _collections_page(request, visitor, offset)


@router.post("/collections")
def create_collection(
    request: Request,
    visitor: Visiting,
    name: Annotated[str, Form(max_length=128)],
    purpose: Annotated[str, Form(max_length=128)],
    model: Annotated[str, Form(max_length=128)] = "",
    description: Annotated[str, Form(max_length=4000)] = "",
) -> Response:
    """A new collection, bound for life to the purpose chosen and to one embedder."""
    try:
        visitor.regard.create_collection(
            name.strip(), visitor.context(purpose), model=model or None, description=description.strip()
        )
    except RegardError as exc:
        failure = Failure.of(exc)
        form = {"name": name, "purpose": purpose, "model": model, "description": description}
        return _collections_page(request, visitor, 0, failure.status, failure=failure, form=form)
    return RedirectResponse(f"{PREFIX}/collections/{quote(name.strip(), safe='')}", 303)


@router.get("/collections/{name}")
def collection(request: Request, visitor: Visiting, name: str, offset: Offset = 0) -> Response:
    info = visitor.regard.describe_collection(name, visitor.ctx)
    subjects = visitor.regard.list_subjects(name, visitor.ctx, offset, PAGE)
    return render(request, "collection.html", visitor, collection=info, page=subjects)


@router.get("/collections/{name}/subjects/{subject:path}")
def subject(request: Request, visitor: Visiting, name: str, subject: str, offset: Offset = 0) -> Response:
    info = visitor.regard.describe_collection(name, visitor.ctx)
    faces = visitor.regard.list_faces(name, visitor.ctx, subject=subject, offset=offset, limit=PAGE)
    return render(request, "subject.html", visitor, collection=info, subject=subject, page=faces)
