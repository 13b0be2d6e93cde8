"""Who is calling: the API key in ``Authorization: Bearer``, the purpose and case reference they declare.

``Caller`` is the dependency every route but the health checks takes; the
dashboard's routes can take it too (or build the context from a session).
"""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Query, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from regard.api.problems import ApiProblem
from regard.api.ratelimit import RateLimiter
from regard.context import CallContext
from regard.errors import AuthenticationError
from regard.service import Regard

bearer = HTTPBearer(auto_error=False, description="An API key: `Authorization: Bearer rgk_<id>_<secret>`.")


async def service(request: Request) -> Regard:
    regard: Regard = request.app.state.regard
    return regard


Service = Annotated[Regard, Depends(service)]


async def caller(
    request: Request,
    regard: Service,
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(bearer)],
    purpose: Annotated[
        str,
        Query(max_length=128, description="The declared purpose of the call (the tenant must have declared it)."),
    ] = "unspecified",
    case_reference: Annotated[
        str | None,
        Query(max_length=256, description="The documented individual target of an investigative search."),
    ] = None,
) -> CallContext:
    """The call context of the request's API key; 401 without one, 429 past the key's rate limit.

    It runs on the event loop, not in a worker thread: looking a key up is one
    indexed read (SQLite in WAL mode never makes a reader wait), cheaper than
    the hop to a thread and back that a plain function dependency costs.
    """
    if credentials is None:
        raise AuthenticationError("send an API key: 'Authorization: Bearer <key>'")
    ctx = regard.authenticate(credentials.credentials, purpose, case_reference, origin="api", remote=True)
    rate_limit(request, ctx)
    return ctx


def rate_limit(request: Request, ctx: CallContext) -> None:
    """Take a token from the bucket of ``ctx``'s key, or raise 429 ``rate_limited`` with ``Retry-After``.

    One limiter per app: the API's calls and the dashboard's pages made with the same key draw on one bucket.
    """
    limiter: RateLimiter = request.app.state.limiter
    wait_s = limiter.allow(ctx.key_id or ctx.actor)
    if wait_s > 0:
        raise ApiProblem(
            429,
            "rate_limited",
            f"this key's rate limit is reached; retry in {wait_s:.2f} s",
            {"Retry-After": RateLimiter.retry_after(wait_s)},
        )


Caller = Annotated[CallContext, Depends(caller)]
