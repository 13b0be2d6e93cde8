"""OpenAPI entries for responses that are not JSON models: images, streams, documents."""

from __future__ import annotations

from typing import Any

from fastapi import Response
from pydantic import BaseModel


def content(
    description: str, *media_types: str, schema: dict[str, Any] | None = None
) -> dict[int | str, dict[str, Any]]:
    """A 200 response documented with these media types (a string body unless ``schema`` says otherwise)."""
    body = schema or {"type": "string"}
    return {200: {"description": description, "content": {m: {"schema": body} for m in media_types}}}


JPEG = content("A JPEG image.", "image/jpeg", schema={"type": "string", "format": "binary"})


def send(model: BaseModel, status_code: int = 200) -> Response:
    """A response model as JSON, answered as is.

    For the biometric routes (the hot paths): FastAPI would validate a returned
    model once more in a second worker-thread hop, about 0.7 ms of CPU per call
    (benchmarks/api_overhead.py).  The model was validated when it was built.
    """
    return Response(model.model_dump_json(), status_code=status_code, media_type="application/json")
