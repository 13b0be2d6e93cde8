"""Putting the dashboard into the API's app: routes, static files, the session store, error pages, headers."""

from __future__ import annotations

import inspect
from collections.abc import Awaitable, Callable
from typing import Any

from fastapi import FastAPI, Request, Response
from fastapi.exceptions import RequestValidationError
from fastapi.responses import RedirectResponse
from fastapi.routing import APIRoute
from fastapi.staticfiles import StaticFiles
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from regard.api.problems import ApiProblem
from regard.dashboard.pages import Failure, failure_page
from regard.dashboard.sessions import SessionStore
from regard.dashboard.throttle import LoginThrottle
from regard.dashboard.views import ROUTERS
from regard.dashboard.visitors import PREFIX, CsrfRefused, LoginRequired
from regard.errors import InvalidInputError, RegardError
from regard.service import Regard

Handler = Callable[[Request, Exception], Response | Awaitable[Response]]

# Pages load only this server's own script, styles and images (thumbnails arrive inline as data: URIs).
CSP = (
    "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; "
    "form-action 'self'; frame-ancestors 'none'; base-uri 'none'"
)
HEADERS = (
    (b"content-security-policy", CSP.encode()),
    (b"x-content-type-options", b"nosniff"),
    (b"x-frame-options", b"DENY"),
    (b"referrer-policy", b"no-referrer"),
)


def mount(app: FastAPI) -> None:
    regard: Regard = app.state.regard
    settings = regard.settings
    app.state.dashboard_sessions = SessionStore(
        settings.data_dir / "dashboard-sessions", settings.dashboard_idle_min * 60, settings.dashboard_session_h * 3600
    )
    app.state.dashboard_logins = LoginThrottle.from_settings(settings)
    app.mount(f"{PREFIX}/static", StaticFiles(packages=[("regard.dashboard", "static")]), name="dashboard-static")
    for router in ROUTERS:
        app.include_router(router, prefix=PREFIX, include_in_schema=False)
    app.state.page_templates += page_templates()
    app.add_api_route("/", lambda: RedirectResponse(f"{PREFIX}/", 303), include_in_schema=False)
    app.add_exception_handler(LoginRequired, _to_login)
    app.add_exception_handler(CsrfRefused, _csrf_refused)
    for kind in (RegardError, ApiProblem, RequestValidationError, StarletteHTTPException, Exception):
        app.add_exception_handler(kind, _pages_here(app.exception_handlers.get(kind), _failure_of))
    app.add_middleware(DashboardHeaders)


def page_templates() -> list[str]:
    """The dashboard's route templates (``/dashboard/collections/{name}``): metrics are labelled by them."""
    return [PREFIX + route.path for router in ROUTERS for route in router.routes if isinstance(route, APIRoute)]


def _on_dashboard(request: Request) -> bool:
    return request.url.path == PREFIX or request.url.path.startswith(PREFIX + "/")


def _pages_here(api: Handler | None, page: Callable[[Request, Exception], Response]) -> Handler:
    """An error handler that answers a page on dashboard paths and leaves the API's problem+json elsewhere."""

    async def handle(request: Request, exc: Exception) -> Response:
        if _on_dashboard(request) or api is None:
            return page(request, exc)
        answer = api(request, exc)
        return await answer if inspect.isawaitable(answer) else answer

    return handle


def _failure_of(request: Request, exc: Exception) -> Response:
    if isinstance(exc, RequestValidationError):
        detail = "; ".join(f"{'.'.join(str(p) for p in e.get('loc', ())[1:])}: {e.get('msg')}" for e in exc.errors())
        return failure_page(request, Failure(422, InvalidInputError.code, detail or "invalid request"))
    if isinstance(exc, StarletteHTTPException):
        code = {404: "not_found", 405: "method_not_allowed"}.get(exc.status_code, "http_error")
        message = "There is no such page." if exc.status_code == 404 else str(exc.detail)
        return failure_page(request, Failure(exc.status_code, code, message))
    response = failure_page(request, Failure.of(exc))
    if isinstance(exc, ApiProblem):
        response.headers.update(exc.headers)  # a rate limit's Retry-After
    return response


def _to_login(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, LoginRequired)
    from urllib.parse import urlencode

    wanted = request.url.path if request.method == "GET" else f"{PREFIX}/"
    query = {"next": wanted, **({"notice": exc.notice} if exc.notice else {})}
    target = f"{PREFIX}/login?{urlencode(query)}"
    if request.headers.get("HX-Request"):
        return Response(status_code=200, headers={"HX-Redirect": target})  # htmx follows it with a full page load
    return RedirectResponse(target, 303)


def _csrf_refused(request: Request, exc: Exception) -> Response:
    message = "This form's security token is missing or out of date, so nothing was done. Reload the page and retry."
    return failure_page(request, Failure(403, "csrf_refused", message))


class DashboardHeaders:
    """ASGI middleware: a strict Content-Security-Policy and friends on dashboard pages, which are never cached."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        path = scope.get("path", "") if scope["type"] == "http" else ""
        if not (path == PREFIX or path.startswith(PREFIX + "/")):
            await self.app(scope, receive, send)
            return
        static = path.startswith(f"{PREFIX}/static/")

        async def with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers: list[Any] = list(message.get("headers", []))
                present = {name.lower() for name, _ in headers}
                headers += [(k, v) for k, v in HEADERS if k not in present]
                if not static and b"cache-control" not in present:
                    headers.append((b"cache-control", b"no-store"))
                message = {**message, "headers": headers}
            await send(message)

        await self.app(scope, receive, with_headers)
