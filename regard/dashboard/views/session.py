"""Logging in with a personal API key, logging out, and the home page that says who you are here."""

from __future__ import annotations

import hmac
import math
import secrets
from typing import Annotated

from fastapi import APIRouter, Form, Request, Response
from fastapi.responses import RedirectResponse

from regard.api.auth import Service, rate_limit
from regard.api.ratelimit import RateLimiter
from regard.dashboard.pages import Failure, render
from regard.dashboard.throttle import LoginThrottle, client_of
from regard.dashboard.visitors import (
    COOKIE,
    LOGIN_COOKIE,
    NOTICES,
    ORIGIN,
    PREFIX,
    Visiting,
    safe_next,
    session_store,
    set_cookie,
)
from regard.errors import AuthenticationError

router = APIRouter()

LOGIN_PATH = f"{PREFIX}/login"


def _login_form(request: Request, next_page: str, notice: str = "", failure: Failure | None = None) -> Response:
    token = secrets.token_urlsafe(32)
    status = failure.status if failure else 200
    response = render(
        request, "login.html", None, status, next_page=safe_next(next_page), token=token, notice=notice, failure=failure
    )
    set_cookie(response, request, LOGIN_COOKIE, token, LOGIN_PATH, 3600)
    return response


def _throttled(request: Request, next_page: str, wait_s: float) -> Response:
    minutes = math.ceil(wait_s / 60)
    wait = f"{math.ceil(wait_s)} seconds" if wait_s < 60 else f"{minutes} minute{'s' if minutes != 1 else ''}"
    message = f"Too many failed logins from your address. Wait {wait}, then try again."
    response = _login_form(request, next_page, failure=Failure(429, "login_throttled", message))
    response.headers["Retry-After"] = RateLimiter.retry_after(wait_s)
    return response


@router.get("/login")
def login_form(request: Request, next: str = "", notice: str = "") -> Response:
    return _login_form(request, next, NOTICES.get(notice, ""))


@router.post("/login")
def login(
    request: Request,
    regard: Service,
    api_key: Annotated[str, Form(max_length=512)],
    login_token: Annotated[str, Form(max_length=64)] = "",
    next: Annotated[str, Form(max_length=2048)] = "",
) -> Response:
    """Open a session for a valid key; the login form's own token (a double-submitted cookie) stops another site
    from logging a visitor into someone else's session.  An address with too many failed logins is refused (429)
    before its key is checked, so a right guess looks no different from a wrong one."""
    throttle: LoginThrottle = request.app.state.dashboard_logins
    client = client_of(request)
    wait_s = throttle.wait_s(client)
    if wait_s > 0:
        return _throttled(request, next, wait_s)
    expected = request.cookies.get(LOGIN_COOKIE, "")
    if not expected or not hmac.compare_digest(login_token.encode(), expected.encode()):
        stale = Failure(400, "csrf_refused", "The login form was out of date. Please enter your key again.")
        return _login_form(request, next, failure=stale)
    key = api_key.strip()
    try:
        ctx = regard.authenticate(key, origin=ORIGIN, remote=True)
    except AuthenticationError as exc:
        throttle.failed(client)
        return _login_form(request, next, failure=Failure.of(exc))
    rate_limit(request, ctx)  # logging in is a use of the key, like a page or an API call
    store = session_store(request)
    store.sweep()
    secret, _ = store.open(key)
    response = RedirectResponse(safe_next(next), 303)
    settings = regard.settings
    set_cookie(response, request, COOKIE, secret, PREFIX, int(settings.dashboard_session_h * 3600))
    response.delete_cookie(LOGIN_COOKIE, path=LOGIN_PATH)
    return response


@router.post("/logout")
def logout(request: Request, visitor: Visiting) -> Response:
    session_store(request).close(request.cookies.get(COOKIE, ""))
    response = RedirectResponse(f"{LOGIN_PATH}?notice=out", 303)
    response.delete_cookie(COOKIE, path=PREFIX)
    return response


@router.get("/")
def home(request: Request, visitor: Visiting) -> Response:
    return render(request, "home.html", visitor)
