"""The OpenAPI document: FastAPI's, with the problem schema, the error responses and an example on every model.

It is the contract the tests fuzz (schemathesis), so every response a route
can give is declared here.
"""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI
from fastapi.openapi.utils import get_openapi

from regard.api.problems import Problem

# Request-body fields FastAPI builds from Form and File parameters: examples for their generated schemas.
_FORM_EXAMPLES: dict[str, Any] = {
    "model_id": "my-arcface",
    "thresholds": '{"1e-03": 0.36, "1e-04": 0.42, "1e-05": 0.49}',
    "licence": "user-supplied",
    "display_name": "Eileen Collins",
    "max_faces_per_image": 1,
    "detector": "yunet",
    "model": "sface",
    "fmr": 0.0001,
    "top_k": 5,
    "min_score": 80.0,
    "all_faces": False,
}


def _example_of(name: str, prop: dict[str, Any]) -> Any:
    if name in _FORM_EXAMPLES and prop.get("format") != "binary":
        return _FORM_EXAMPLES[name]
    if prop.get("type") == "array":
        return [_example_of(name, prop.get("items", {}))]
    if prop.get("format") == "binary" or prop.get("contentMediaType"):
        return "(the file's bytes)"
    return prop.get("default", "")


def _add_missing_examples(schemas: dict[str, Any]) -> None:
    """Generated schemas (form bodies, enums) get examples from their fields' declared examples and defaults."""
    for name, schema in schemas.items():
        if "examples" in schema:
            continue
        if "enum" in schema:
            schema["examples"] = schema["enum"][:1]
        elif name.startswith("Body_"):
            props = schema.get("properties", {})
            schema["examples"] = [{k: _example_of(k, v) for k, v in props.items()}]


def build(app: FastAPI) -> dict[str, Any]:
    if app.openapi_schema:
        return app.openapi_schema
    document = get_openapi(
        title=app.title,
        version=app.version,
        description=app.description,
        routes=app.routes,
        tags=app.openapi_tags,
    )
    schemas = document.setdefault("components", {}).setdefault("schemas", {})
    schemas["Problem"] = Problem.model_json_schema(ref_template="#/components/schemas/{model}")
    _add_missing_examples(schemas)
    app.openapi_schema = document
    return document
