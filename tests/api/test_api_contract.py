"""The OpenAPI document is the contract: complete, with examples, documented in docs/api.md, and fuzzed."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import httpx
import schemathesis
from harness import Api, api, mirrored, photo

DOCS = Path(__file__).resolve().parents[2] / "docs" / "api.md"


def _document(api: Api) -> dict[str, Any]:
    document: dict[str, Any] = api.client.get("/openapi.json").json()
    return document


def test_every_route_is_documented(api: Api) -> None:
    routes = {
        f"{method.upper()} {path}" for path, operations in _document(api)["paths"].items() for method in operations
    }
    documented = set(re.findall(r"^\| `((?:GET|POST|PUT|DELETE|PATCH) /[^`]*)` \|", DOCS.read_text(), re.M))
    assert routes - documented == set(), "routes missing from docs/api.md"
    assert documented - routes == set(), "docs/api.md names routes that do not exist"


def test_every_model_has_an_example(api: Api) -> None:
    schemas = _document(api)["components"]["schemas"]
    missing = [name for name, schema in schemas.items() if not schema.get("examples")]
    assert missing == []


def test_every_operation_documents_its_errors_as_problems(api: Api) -> None:
    for path, operations in _document(api)["paths"].items():
        if not path.startswith("/v1/"):
            continue
        for method, operation in operations.items():
            for status in ("401", "403", "404", "413", "422", "429"):
                media = operation["responses"][status]["content"]
                assert list(media) == ["application/problem+json"], (method, path, status)
            assert operation.get("security") == [{"HTTPBearer": []}], (method, path)
            names = {p["name"] for p in operation.get("parameters", [])}
            assert {"purpose", "case_reference"} <= names, (method, path)


def test_successful_answers_of_the_main_operations_match_their_schemas(api: Api, photo: bytes, mirrored: bytes) -> None:
    """The fuzzer mostly meets errors; these are the answers people build on, each checked against the document."""
    document = schemathesis.openapi.from_dict(_document(api))
    assert api.call("POST", "/v1/collections", key="admin", json={"name": "staff"}).status_code == 201
    enrolled = api.enroll("staff", "eileen", photo, data={"display_name": "Eileen Collins"})
    face_id = enrolled.json()["indexed_faces"][0]["face_id"]
    answers: list[tuple[str, str, int, httpx.Response]] = [
        ("POST", "/v1/collections/{name}/subjects/{subject}/faces", 201, enrolled),
        ("POST", "/v1/detect", 200, api.call("POST", "/v1/detect", files={"image": ("a.jpg", photo)})),
        ("POST", "/v1/collections/{name}/search", 200, api.search("staff", mirrored)),
        (
            "POST",
            "/v1/collections/{name}/search/face",
            200,
            api.call("POST", "/v1/collections/staff/search/face", json={"face_id": face_id}),
        ),
        (
            "POST",
            "/v1/compare",
            200,
            api.call("POST", "/v1/compare", files={"image_a": ("a.jpg", photo), "image_b": ("b.jpg", mirrored)}),
        ),
    ]
    for method, path, status, response in answers:
        assert response.status_code == status, (path, response.text)
        document[path][method].validate_response(response)  # raises, naming each mismatch
    assert answers[2][3].json()["matched"] is True  # a match, not an empty list that fits any schema
