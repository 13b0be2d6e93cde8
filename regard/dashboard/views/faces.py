"""Operators' biometric pages: enroll a subject from several images, search a collection with a photo, and see
what the reviewers released of a held search."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, File, Form, Request, Response, UploadFile

from regard.api.problems import ApiProblem
from regard.api.uploads import read_images, read_upload
from regard.dashboard.pages import Failure, render
from regard.dashboard.pictures import enrollment_pictures, picture, search_marks, skipped_faces
from regard.dashboard.visitors import Visiting, Visitor
from regard.errors import InvalidInputError, RegardError

router = APIRouter()

Purpose = Annotated[str, Form(max_length=128)]


def _form_page(
    request: Request, visitor: Visitor, template: str, name: str, status: int = 200, **extra: object
) -> Response:
    """The enroll or search page of a collection, its form offering the purposes declared."""
    collection = visitor.regard.describe_collection(name, visitor.ctx)
    purposes = visitor.regard.list_purposes(visitor.ctx)
    values: dict[str, object] = {"form": {}, "failure": None, **extra}
    return render(request, template, visitor, status, collection=collection, purposes=purposes, **values)


def _chosen(uploads: list[UploadFile]) -> list[UploadFile]:
    # A file input left empty still sends one part, without a name.
    chosen = [u for u in uploads if u.filename]
    if not chosen:
        raise InvalidInputError("choose at least one image")
    return chosen


@router.get("/collections/{name}/enroll")
def enroll_form(request: Request, visitor: Visiting, name: str) -> Response:
    return _form_page(request, visitor, "enroll.html", name)


@router.post("/collections/{name}/enroll")
def enroll(
    request: Request,
    visitor: Visiting,
    name: str,
    subject: Annotated[str, Form(max_length=256)],
    purpose: Purpose,
    images: Annotated[list[UploadFile], File()],
    display_name: Annotated[str, Form(max_length=256)] = "",
    max_faces_per_image: Annotated[int, Form(ge=1, le=100)] = 1,
) -> Response:
    """Enroll the images' faces; the page shows what was enrolled, what was skipped and why, and images without
    a face, each image with its faces boxed."""
    settings = visitor.regard.settings
    form = {"subject": subject, "display_name": display_name, "purpose": purpose, "max_faces": max_faces_per_image}
    try:
        data = read_images(_chosen(images), settings.max_image_bytes, settings.max_images_per_request)
        result = visitor.regard.enroll(
            name,
            subject.strip(),
            data,
            visitor.context(purpose),
            display_name=display_name.strip() or None,
            max_faces_per_image=max_faces_per_image,
        )
    except (RegardError, ApiProblem) as exc:
        failure = Failure.of(exc)
        return _form_page(request, visitor, "enroll.html", name, failure.status, form=form, failure=failure)
    pictures = enrollment_pictures(data, result, settings)
    skipped = skipped_faces(result)
    return _form_page(
        request, visitor, "enroll.html", name, form=form, result=result, pictures=pictures, skipped=skipped
    )


@router.get("/collections/{name}/search")
def search_form(request: Request, visitor: Visiting, name: str) -> Response:
    return _form_page(request, visitor, "search.html", name)


@router.post("/collections/{name}/search")
def search(
    request: Request,
    visitor: Visiting,
    name: str,
    purpose: Purpose,
    image: Annotated[UploadFile, File()],
    case_reference: Annotated[str, Form(max_length=256)] = "",
    top_k: Annotated[int, Form(ge=1, le=100)] = 5,
    all_faces: Annotated[bool, Form()] = False,
) -> Response:
    """Search with the photo's largest face (or every face): the page draws the faces on the photo and lists,
    per face, the subjects at or above the threshold, or says plainly that nobody matched."""
    settings = visitor.regard.settings
    form = {"purpose": purpose, "case_reference": case_reference, "top_k": top_k, "all_faces": all_faces}
    try:
        data = read_upload(_chosen([image])[0], settings.max_image_bytes)
        ctx = visitor.context(purpose, case_reference.strip())
        result = visitor.regard.search(name, data, ctx, top_k=top_k, all_faces=all_faces)
    except (RegardError, ApiProblem) as exc:
        failure = Failure.of(exc)
        return _form_page(request, visitor, "search.html", name, failure.status, form=form, failure=failure)
    drawn = picture(data, settings, image.filename or "the photo", search_marks(result))
    return _form_page(request, visitor, "search.html", name, form=form, result=result, drawn=drawn)


@router.get("/results/{case_id}")
def released(request: Request, visitor: Visiting, case_id: str) -> Response:
    """A held search as its requester sees it: the matches the reviewers confirmed, nothing else."""
    case = visitor.regard.review_result(case_id, visitor.ctx)
    return render(request, "released.html", visitor, case=case)
