"""The OpenAPI document is the contract: complete, with examples, documented in docs/api.md, and fuzzed."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

from harness import Api, api

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
