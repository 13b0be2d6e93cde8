"""schemathesis over the whole OpenAPI document: no 5xx, and every response matches its documented schema.

The server is real (models, SQLite); the caller's key holds every role, the
system role included, so generated calls reach past the role checks.  Each
operation gets a bounded number of generated cases, so the whole run takes
well under a minute.

Invented values alone never get past the first check that looks at data: an
undeclared purpose is a policy denial, random bytes are not an image, a random
collection name or face id is a 404.  So the tenant holds a declared purpose,
collections with enrolled faces and a held review case, and half of the cases
schemathesis makes up (its fuzzing phase) are aimed at them (``aimed``): the
declared purpose, existing names and ids, and a real photo in place of each
image.  The other half, and the cases of its examples and coverage phases, stay
as generated.
"""

from __future__ import annotations

import atexit
import shutil
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import schemathesis
from conftest import consequential_purpose_args, encode
from fastapi import FastAPI
from harness import make_service
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from regard import CallContext, Regard
from regard.api.app import create_app

CHECKS = [not_a_server_error, response_schema_conformance, content_type_conformance, status_code_conformance]
PURPOSE = "door"  # declared in every tenant by the harness
SUBJECT = "astronaut"  # not "eileen": the schema's examples name her, and an example erasure would take her faces


@dataclass(frozen=True)
class Existing:
    """What the fuzzed tenant holds: names and ids generated calls are pointed at."""

    face_id: str  # in collection "staff"
    scratch_face_id: str  # in collection "scratch", for the route that deletes a face
    case_id: str  # a review case held under the consequential purpose "vip", with SUBJECT its candidate
    photo: bytes

    def path_parameters(self, method: str, path: str) -> dict[str, str]:
        """Existing values for the path's parameters.  A route that deletes gets a thing of its own, so that
        it succeeds once without taking what the other routes are aimed at."""
        if method == "DELETE":
            return {
                "/v1/collections/{name}": {"name": "doomed"},
                "/v1/collections/{name}/subjects/{subject}": {"name": "scratch", "subject": "leaving"},
                "/v1/collections/{name}/faces/{face_id}": {"name": "scratch", "face_id": self.scratch_face_id},
            }.get(path, {})
        return {"name": "staff", "face_id": self.face_id, "case_id": self.case_id, "model_id": "sface"} | (
            {"subject": SUBJECT} if path.startswith("/v1/reviews/") else {}
        )

    def body(self, body: Any) -> Any:
        """A real photo for each image, an existing face for each face id; other fields as generated."""
        if not isinstance(body, dict):
            return body
        real = {"image": self.photo, "image_a": self.photo, "image_b": self.photo, "images": [self.photo]}
        real |= {"face_id": self.face_id, "face_id_a": self.face_id, "face_id_b": self.face_id}
        return {field: real.get(field, value) for field, value in body.items()}


def _populate(svc: Regard) -> Existing:
    from skimage import data

    photo = encode(data.astronaut())
    door = CallContext.local("acme", PURPOSE)
    for name in ("staff", "scratch", "doomed"):
        svc.create_collection(name, door)
    face_id = svc.enroll("staff", SUBJECT, [photo], door).indexed[0].face_id
    scratch_face_id = svc.enroll("scratch", "staying", [photo], door).indexed[0].face_id
    svc.enroll("scratch", "leaving", [photo], door)
    # The case is held from whoever searched (the local operator), not from the fuzzer's key.
    vip = CallContext.local("acme", "vip")
    svc.declare_purpose("vip", vip, **consequential_purpose_args())  # type: ignore[arg-type]
    svc.create_collection("members", vip)
    svc.enroll("members", SUBJECT, [photo], vip)
    case_id = svc.search("members", photo, vip).review_case
    assert case_id is not None
    return Existing(face_id, scratch_face_id, case_id, photo)


def _fuzzed_app() -> tuple[FastAPI, str, Existing]:
    """Built at import: schemathesis reads the document when the tests are collected."""
    folder = Path(tempfile.mkdtemp(prefix="regard-fuzz-"))
    atexit.register(shutil.rmtree, folder, True)
    # The fast embedder by name: the session fixture that makes it the tests' default has not run at import.
    svc = make_service(folder / "data", folder / "models", rate_limit_per_s=0, embedder="fast")
    atexit.register(svc.close)
    existing = _populate(svc)
    everything = ["admin", "operator", "reviewer", "auditor", "system"]
    token = svc.create_api_key(everything, CallContext.local("acme"), owner="fuzzer").token
    return create_app(service=svc), token, existing


APP, TOKEN, EXISTING = _fuzzed_app()
schema = schemathesis.openapi.from_asgi("/openapi.json", APP)


def aimed(case: schemathesis.Case) -> schemathesis.Case:
    """The case pointed at what exists: the declared purpose, existing path values, real photos and face ids."""
    if case.operation.get_parameter("purpose", "query") is not None:
        case.query = {**case.query, "purpose": PURPOSE}
    case.path_parameters = {
        name: EXISTING.path_parameters(case.method.upper(), case.path).get(name, value)
        for name, value in case.path_parameters.items()
    }
    case.body = EXISTING.body(case.body)
    return case


def half_aimed(_context: Any, case: schemathesis.Case) -> st.SearchStrategy[schemathesis.Case]:
    # A hypothesis draw rather than a coin toss in the test, so a failing case shrinks and replays.
    return st.booleans().map(lambda aim: aimed(case) if aim else case)


@schema.hooks.apply(half_aimed, name="flatmap_case")
@schema.parametrize()
@settings(max_examples=12, deadline=None, suppress_health_check=list(HealthCheck), derandomize=True)
def test_the_api_keeps_its_contract(case: schemathesis.Case) -> None:
    case.call_and_validate(headers={"Authorization": f"Bearer {TOKEN}"}, checks=CHECKS)


AIMED = {
    ("POST", "/v1/detect", "multipart/form-data"): ({}, {"image": b"not an image"}, 200),
    ("POST", "/v1/compare", "multipart/form-data"): ({}, {"image_a": b"?", "image_b": b"?"}, 200),
    ("POST", "/v1/collections/{name}/subjects/{subject}/faces", "multipart/form-data"): (
        {"name": "nope", "subject": "newcomer"},
        {"images": [b"?"]},
        201,
    ),
    ("POST", "/v1/collections/{name}/search", "multipart/form-data"): ({"name": "nope"}, {"image": b"?"}, 200),
    ("POST", "/v1/collections/{name}/search/face", "application/json"): ({"name": "nope"}, {"face_id": "nope"}, 200),
    ("POST", "/v1/compare/faces", "application/json"): ({}, {"face_id_a": "a", "face_id_b": "b"}, 200),
    ("GET", "/v1/collections/{name}/faces/{face_id}/thumbnail", None): ({"name": "a", "face_id": "b"}, None, 200),
    ("GET", "/v1/reviews/{case_id}/candidates/{subject}/thumbnail", None): (
        {"case_id": "a", "subject": "b"},
        None,
        200,
    ),
}


def test_aimed_cases_reach_the_success_paths() -> None:
    """Checked on its own, so that a renamed fixture cannot quietly send the fuzzer back to the 404s."""
    headers = {"Authorization": f"Bearer {TOKEN}"}
    for (method, path, media_type), (parameters, body, status) in AIMED.items():
        payload = {"body": body, "media_type": media_type} if body is not None else {}
        case = schema[path][method].Case(path_parameters=parameters, query={"purpose": "undeclared"}, **payload)
        response = aimed(case).call(headers=headers)
        assert response.status_code == status, (method, path, response.text)
