"""Who is using the dashboard: their session cookie, the key it unseals, the call context of each page, and CSRF.

``Visitor`` is the dependency of every page but the login form.  It authenticates the session's API key again on
each request (``Regard.authenticate(..., remote=True)``), so the roles a page sees are the key's roles now, and a
revoked key ends the session; each request also draws on the key's rate limit, the API's own bucket.  On a
request that changes something (any method but GET and HEAD) it also checks the session's CSRF token, sent in the
``X-CSRF-Token`` header (htmx) or the ``csrf_token`` form field.
"""

from __future__ import annotations

import hmac
from dataclasses import dataclass, field
from typing import Annotated

from fastapi import Depends, Request, Response

from regard.api.auth import Service, rate_limit
from regard.context import CallContext
from regard.dashboard.sessions import SessionStore
from regard.errors import AuthenticationError
from regard.governance.roles import PERMISSIONS, Operation
from regard.service import Regard

PREFIX = "/dashboard"
COOKIE = "regard_session"
LOGIN_COOKIE = "regard_login"  # the login form's own CSRF token (double submit), before any session exists
ORIGIN = "dashboard"  # what the ledger records as where the call came from
CSRF_HEADER = "X-CSRF-Token"
CSRF_FIELD = "csrf_token"
SAFE_METHODS = frozenset({"GET", "HEAD"})


# Why the login form is shown, by code: a link cannot make the login page say anything else.
NOTICES = {
    "ended": "Your session has ended; log in again.",
    "key": "Your key no longer opens a session: it was revoked or has expired.",
    "out": "You are logged out.",
}


class LoginRequired(Exception):
    """No live session: the visitor is sent to the login form (with a ``notice`` code saying why, if there is one)."""

    def __init__(self, notice: str = "") -> None:
        super().__init__(NOTICES.get(notice, ""))
        self.notice = notice


class CsrfRefused(Exception):
    """A state-changing request without its session's CSRF token: refused before anything is done."""


@dataclass(frozen=True)
class Visitor:
    """A logged-in person: their call context (purpose ``unspecified``) and a way to declare another purpose."""

    regard: Regard
    ctx: CallContext
    csrf_token: str
    expires_at: float
    api_key: str = field(repr=False)

    def can(self, *operations: str) -> bool:
        """Whether the visitor's roles allow any of ``operations`` (to show only the pages and forms they may use;
        the service decides every call all the same)."""
        return any(PERMISSIONS[Operation(op)] & self.ctx.roles for op in operations)

    def context(self, purpose: str | None = None, case_reference: str | None = None) -> CallContext:
        """The call context of a call made for ``purpose`` (and a documented target, for investigative searches)."""
        return self.regard.authenticate(
            self.api_key, purpose or "unspecified", case_reference or None, origin=ORIGIN, remote=True
        )


def session_store(request: Request) -> SessionStore:
    store: SessionStore = request.app.state.dashboard_sessions
    return store


async def visitor(request: Request, regard: Service) -> Visitor:
    """The logged-in visitor, or ``LoginRequired``; on a state-changing request, only with the CSRF token."""
    secret = request.cookies.get(COOKIE, "")
    store = session_store(request)
    opened = store.load(secret) if secret else None
    if opened is None:
        raise LoginRequired("ended" if secret else "")
    try:
        ctx = regard.authenticate(opened.api_key, origin=ORIGIN, remote=True)
    except AuthenticationError:
        store.close(secret)
        raise LoginRequired("key") from None
    found = Visitor(regard, ctx, opened.session.csrf_token, opened.session.expires_at, opened.api_key)
    request.state.visitor = found  # error pages show the visitor's navigation too
    # The key's own rate limit, the API's bucket: a session is no way around it (a 429 page with Retry-After).
    rate_limit(request, ctx)
    if request.method not in SAFE_METHODS:
        await check_csrf(request, opened.session.csrf_token)
    return found


async def check_csrf(request: Request, expected: str) -> None:
    sent = request.headers.get(CSRF_HEADER)
    if sent is None and request.headers.get("content-type", "").startswith(
        ("application/x-www-form-urlencoded", "multipart/form-data")
    ):
        value = (await request.form()).get(CSRF_FIELD)
        sent = value if isinstance(value, str) else None
    if not sent or not hmac.compare_digest(sent.encode(), expected.encode()):
        raise CsrfRefused


def set_cookie(response: Response, request: Request, name: str, value: str, path: str, max_age: int) -> None:
    """HttpOnly (no script reads it), SameSite=Strict (no other site's page sends it), Secure over HTTPS."""
    response.set_cookie(
        name,
        value,
        max_age=max_age,
        path=path,
        httponly=True,
        samesite="strict",
        secure=request.url.scheme == "https",
    )


def safe_next(target: str) -> str:
    """Where to go after logging in: a dashboard page only, never another site (``//evil`` or ``https://...``)."""
    ok = target.startswith(PREFIX + "/") and not target.startswith("//") and "\\" not in target
    return target if ok else PREFIX + "/"


Visiting = Annotated[Visitor, Depends(visitor)]
