"""Upload limits, enforced before anything is decoded.

``BodyLimit`` refuses a request whose Content-Length is over the limit and
stops reading one whose body grows past it (chunked uploads have no length),
so an oversized request costs at most the limit in memory and disk.  ``read_image``
then checks each file against ``max_image_bytes`` before reading it.
"""

from __future__ import annotations

import json
from collections.abc import Callable

from fastapi import UploadFile
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from regard.api.problems import PROBLEM_MEDIA_TYPE, TITLES, ApiProblem
from regard.errors import ImageTooLargeError

TOO_LARGE = "request_too_large"


class _Overflow(Exception):
    pass


class BodyLimit:
    """ASGI middleware: a cap on the request body (``limit_for(path)`` bytes)."""

    def __init__(self, app: ASGIApp, limit_for: Callable[[str], int]) -> None:
        self.app = app
        self.limit_for = limit_for

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        limit = self.limit_for(scope["path"])
        declared = dict(scope["headers"]).get(b"content-length")
        if declared is not None and declared.isdigit() and int(declared) > limit:
            await _refuse(scope, send, f"the request body of {int(declared)} bytes exceeds the limit of {limit} bytes")
            return
        seen = 0
        overflowed = False
        answered = False

        async def capped_receive() -> Message:
            nonlocal seen, overflowed
            message = await receive()
            if message["type"] == "http.request":
                seen += len(message.get("body", b""))
                if seen > limit:
                    overflowed = True
                    raise _Overflow
            return message

        async def replacing_send(message: Message) -> None:
            # The framework may turn the overflow into an error of its own: answer 413 instead, once.
            nonlocal answered
            if not overflowed:
                await send(message)
            elif not answered:
                answered = True
                await _refuse(scope, send, f"the request body exceeds the limit of {limit} bytes")

        try:
            await self.app(scope, capped_receive, replacing_send)
        except _Overflow:
            if not answered:
                await _refuse(scope, send, f"the request body exceeds the limit of {limit} bytes")


async def _refuse(scope: Scope, send: Send, detail: str) -> None:
    body = {
        "type": f"urn:regard:problem:{TOO_LARGE}",
        "title": TITLES[413],
        "status": 413,
        "detail": detail,
        "instance": scope["path"],
        "code": TOO_LARGE,
    }
    payload = json.dumps(body).encode()
    headers = [(b"content-type", PROBLEM_MEDIA_TYPE.encode()), (b"content-length", str(len(payload)).encode())]
    await send({"type": "http.response.start", "status": 413, "headers": [*headers, (b"connection", b"close")]})
    await send({"type": "http.response.body", "body": payload})


def read_upload(upload: UploadFile, max_bytes: int, what: str = "image") -> bytes:
    """A file part's bytes, refused with 413 past ``max_bytes`` (checked before it is read whole)."""
    size = upload.size
    if size is None or size <= max_bytes:
        data = upload.file.read(max_bytes + 1)
        if len(data) <= max_bytes:
            return data
    detail = f"{what} '{upload.filename}' exceeds the limit of {max_bytes} bytes"
    raise ImageTooLargeError(detail) if what == "image" else ApiProblem(413, TOO_LARGE, detail)


def read_images(uploads: list[UploadFile], max_bytes: int, max_count: int) -> list[bytes]:
    if len(uploads) > max_count:
        raise ApiProblem(413, TOO_LARGE, f"{len(uploads)} images in one request; at most {max_count} are accepted")
    return [read_upload(u, max_bytes) for u in uploads]
