"""OpenAPI entries for responses that are not JSON models: images, streams, documents."""

from __future__ import annotations

from typing import Any


def content(
    description: str, *media_types: str, schema: dict[str, Any] | None = None
) -> dict[int | str, dict[str, Any]]:
    """A 200 response documented with these media types (a string body unless ``schema`` says otherwise)."""
    body = schema or {"type": "string"}
    return {200: {"description": description, "content": {m: {"schema": body} for m in media_types}}}


JPEG = content("A JPEG image.", "image/jpeg", schema={"type": "string", "format": "binary"})
