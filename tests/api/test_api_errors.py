"""One error shape: every error class of the core becomes problem+json with its status and code."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from conftest import encode
from fastapi import FastAPI
from fastapi.testclient import TestClient
from harness import Api, api, is_problem, make_service, photo

from regard import errors
from regard.api.app import create_app
from regard.api.problems import HTTP_STATUS, http_status

SAMPLES: list[errors.RegardError] = [
    errors.ImageTooLargeError("too big"),
    errors.InvalidImageError("not an image"),
    errors.InvalidInputError("bad argument"),
    errors.NoFaceError("no face"),
    errors.NotFoundError("nothing"),
    errors.AlreadyExistsError("taken"),
    errors.ConflictError("decided already"),
    errors.ModelMismatchError("sface vs dlib"),
    errors.ModelUnavailableError("not installed"),
    errors.StoreError("newer schema"),
    errors.AuthenticationError("unknown key"),
    errors.PermissionDeniedError("needs admin"),
    errors.PolicyDeniedError("moratorium", "MORATORIUM-1", "2026-03"),
    errors.RegardError("other"),
]


def test_every_error_class_has_a_status() -> None:
    classes = {type(e) for e in SAMPLES}
    assert classes == {kind for kind, _ in HTTP_STATUS}
    assert {type(e).__name__: http_status(e) for e in SAMPLES} == {
        "ImageTooLargeError": 413,
        "InvalidImageError": 422,
        "InvalidInputError": 422,
        "NoFaceError": 422,
        "NotFoundError": 404,
        "AlreadyExistsError": 409,
        "ConflictError": 409,
        "ModelMismatchError": 409,
        "ModelUnavailableError": 503,
        "StoreError": 503,
        "AuthenticationError": 401,
        "PermissionDeniedError": 403,
        "PolicyDeniedError": 403,
        "RegardError": 400,
    }


@pytest.mark.parametrize("error", SAMPLES, ids=lambda e: type(e).__name__)
def test_each_error_class_is_a_problem(error: errors.RegardError, tmp_path: Path, model_cache: Path) -> None:
    def raising(app: FastAPI) -> None:
        @app.get("/raise")
        def _raise() -> None:
            raise error

    with make_service(tmp_path, model_cache) as svc, TestClient(create_app(service=svc, extensions=[raising])) as c:
        body = is_problem(c.get("/raise"), http_status(error), error.code)
    if isinstance(error, errors.PolicyDeniedError):
        assert body["rule_id"] == "MORATORIUM-1" and body["policy_version"] == "2026-03"
        assert body["detail"] == "moratorium"
    else:
        assert "rule_id" not in body


def test_real_errors_through_real_routes(api: Api, photo: bytes, cat: np.ndarray) -> None:
    is_problem(api.call("GET", "/v1/collections/nope"), 404, "not_found")
    assert api.call("POST", "/v1/collections", key="admin", json={"name": "staff"}).status_code == 201
    is_problem(api.call("POST", "/v1/collections", key="admin", json={"name": "staff"}), 409, "already_exists")
    is_problem(api.call("POST", "/v1/collections", key="admin", json={"name": "no spaces"}), 422, "invalid_input")
    is_problem(api.enroll("staff", "eileen", b"not an image at all"), 422, "invalid_image")
    is_problem(api.enroll("staff", "eileen", photo[:2000]), 422, "invalid_image")
    is_problem(api.search("staff", encode(cat)), 422, "no_face")
    invalid = is_problem(api.call("POST", "/v1/compare/faces", json={"face_id_a": 1}), 422, "invalid_input")
    assert invalid["errors"] and "face_id_b" in invalid["detail"]
    is_problem(api.call("GET", "/v1/collections", params={"limit": 0}), 422, "invalid_input")
    is_problem(api.call("GET", "/v1/no-such-route"), 404, "not_found")
    is_problem(api.call("PATCH", "/v1/collections"), 405, "method_not_allowed")
    is_problem(api.call("GET", "/v1/report", key="auditor", headers={"Accept": "image/png"}), 406, "not_acceptable")


def test_a_bug_is_a_problem_too(tmp_path: Path, model_cache: Path) -> None:
    def raising(app: FastAPI) -> None:
        @app.get("/bug")
        def _bug() -> None:
            raise ZeroDivisionError("internal detail")

    with (
        make_service(tmp_path, model_cache) as svc,
        TestClient(create_app(service=svc, extensions=[raising]), raise_server_exceptions=False) as client,
    ):
        body = is_problem(client.get("/bug"), 500, "internal_error")
    assert "internal detail" not in body["detail"]
