"""One error shape for the whole API: RFC 9457 problem+json, mapped once from Regard's exception tree.

Every problem carries the core's stable error ``code``; policy denials add the
``rule_id`` and ``policy_version`` they cite.  The HTTP status of each error
class is in ``HTTP_STATUS`` (the CLI's exit codes are in ``regard/cli/errors.py``).
"""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from pydantic import BaseModel, ConfigDict, Field
from starlette.exceptions import HTTPException as StarletteHTTPException

from regard import errors

PROBLEM_MEDIA_TYPE = "application/problem+json"

# Most specific first: the first class the error is an instance of gives its status.
HTTP_STATUS: tuple[tuple[type[errors.RegardError], int], ...] = (
    (errors.ImageTooLargeError, 413),
    (errors.InvalidImageError, 422),
    (errors.InvalidInputError, 422),
    (errors.NoFaceError, 422),
    (errors.NotFoundError, 404),
    (errors.AlreadyExistsError, 409),
    (errors.ConflictError, 409),
    (errors.ModelMismatchError, 409),
    (errors.ModelUnavailableError, 503),
    (errors.StoreError, 503),
    (errors.AuthenticationError, 401),
    (errors.PermissionDeniedError, 403),
    (errors.PolicyDeniedError, 403),
    (errors.RegardError, 400),
)

TITLES = {
    400: "Bad request",
    401: "Unauthenticated",
    403: "Forbidden",
    404: "Not found",
    405: "Method not allowed",
    406: "Not acceptable",
    409: "Conflict",
    413: "Content too large",
    415: "Unsupported media type",
    422: "Unprocessable content",
    429: "Too many requests",
    500: "Internal server error",
    503: "Service unavailable",
}


def http_status(error: errors.RegardError) -> int:
    return next(status for kind, status in HTTP_STATUS if isinstance(error, kind))


class Problem(BaseModel):
    """RFC 9457 problem details, with Regard's stable error code."""

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "type": "urn:regard:problem:policy_denied",
                    "title": "Forbidden",
                    "status": 403,
                    "detail": "purpose 'door' allows at most 500 subjects per collection",
                    "instance": "/v1/collections/staff/subjects/bob/faces",
                    "code": "policy_denied",
                    "rule_id": "GOV-SCALE-LIMIT",
                    "policy_version": "2026-01",
                }
            ]
        }
    )

    type: str = Field(description="URI naming the problem type: urn:regard:problem:<code>.")
    title: str = Field(description="Short summary of the problem type.")
    status: int = Field(description="The HTTP status code.")
    detail: str = Field(description="What went wrong with this request, for people.")
    instance: str = Field(description="The request path this problem occurred on.")
    code: str = Field(description="Regard's stable error code (regard.errors), for programs.")
    rule_id: str | None = Field(None, description="For policy denials: the rule that denied the call.")
    policy_version: str | None = Field(None, description="For policy denials: the policy version in force.")
    errors: list[dict[str, Any]] | None = Field(None, description="For invalid requests: each invalid field.")


class ApiProblem(Exception):
    """A problem the API itself raises (limits, rate limits, content negotiation), not the service."""

    def __init__(self, status: int, code: str, detail: str, headers: dict[str, str] | None = None) -> None:
        super().__init__(detail)
        self.status, self.code, self.detail, self.headers = status, code, detail, headers or {}


def problem_response(
    request: Request, status: int, code: str, detail: str, headers: dict[str, str] | None = None, **extra: Any
) -> JSONResponse:
    body = Problem(
        type=f"urn:regard:problem:{code}",
        title=TITLES.get(status, "Error"),
        status=status,
        detail=detail,
        instance=request.url.path,
        code=code,
        **extra,
    )
    return JSONResponse(
        body.model_dump(exclude_none=True), status_code=status, headers=headers, media_type=PROBLEM_MEDIA_TYPE
    )


def _regard_error(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, errors.RegardError)
    status = http_status(exc)
    headers = {"WWW-Authenticate": "Bearer"} if status == 401 else None
    extra: dict[str, Any] = {}
    if isinstance(exc, errors.PolicyDeniedError):
        extra = {"rule_id": exc.rule_id, "policy_version": exc.policy_version or None}
        metrics = getattr(request.app.state, "metrics", None)
        if metrics is not None:
            metrics.decision("deny", exc.rule_id)
    detail = exc.reason if isinstance(exc, errors.PolicyDeniedError) else str(exc)
    return problem_response(request, status, exc.code, detail, headers, **extra)


def _api_problem(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, ApiProblem)
    return problem_response(request, exc.status, exc.code, exc.detail, exc.headers)


def _validation(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, RequestValidationError)
    fields = [
        {"loc": [str(part) for part in e.get("loc", ())], "msg": str(e.get("msg", "")), "type": str(e.get("type", ""))}
        for e in exc.errors()
    ]
    detail = "; ".join(f"{'.'.join(f['loc'])}: {f['msg']}" for f in fields) or "invalid request"
    return problem_response(request, 422, errors.InvalidInputError.code, detail, errors=fields)


def _http(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, StarletteHTTPException)
    code = {404: "not_found", 405: "method_not_allowed", 401: "unauthenticated"}.get(exc.status_code, "http_error")
    return problem_response(request, exc.status_code, code, str(exc.detail), dict(exc.headers or {}) or None)


def _unexpected(request: Request, exc: Exception) -> JSONResponse:
    # A bug: the same shape, no internals (the traceback goes to the server's log).
    return problem_response(request, 500, "internal_error", "the server failed to answer; the error is in its log")


def install(app: FastAPI) -> None:
    """Route every error through problem+json."""
    app.add_exception_handler(Exception, _unexpected)
    app.add_exception_handler(errors.RegardError, _regard_error)
    app.add_exception_handler(ApiProblem, _api_problem)
    app.add_exception_handler(RequestValidationError, _validation)
    app.add_exception_handler(StarletteHTTPException, _http)


def error_responses(*statuses: int) -> dict[int | str, dict[str, Any]]:
    """OpenAPI entries for these statuses, each a problem+json document."""
    return {
        status: {
            "description": TITLES.get(status, "Error"),
            "content": {PROBLEM_MEDIA_TYPE: {"schema": {"$ref": "#/components/schemas/Problem"}}},
        }
        for status in statuses
    }
