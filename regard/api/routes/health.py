"""``/healthz``, ``/readyz`` and ``/metrics``: open to probes and scrapers, no key needed.

``/metrics`` needs no key: Prometheus scrapers rarely carry one, and what it
shows is counts and timings by route template, status and policy rule, with no
tenant, collection, subject or key in any label.  Keep it off the public
network (bind the server to an internal address or filter ``/metrics`` at the
proxy) if even call volumes are confidential.
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request, Response
from fastapi.responses import JSONResponse

from regard.api.auth import Service
from regard.api.metrics import CONTENT_TYPE
from regard.api.responses import content
from regard.api.schemas.health import HealthOut, ReadyOut

router = APIRouter(tags=["health"])

_NOT_READY: dict[int | str, dict[str, Any]] = {
    503: {
        "description": "Not ready",
        "content": {"application/json": {"schema": {"$ref": "#/components/schemas/ReadyOut"}}},
    }
}


@router.get("/healthz", response_model=HealthOut, summary="The process is up")
def healthz() -> HealthOut:
    return HealthOut(status="ok")


@router.get("/readyz", response_model=ReadyOut, responses=_NOT_READY, summary="Ready to serve calls")
def readyz(regard: Service) -> JSONResponse:
    """200 when the database answers and the configured models are installed, else 503 with what is wrong."""
    state = regard.readiness()
    body = ReadyOut(ready=state.ready, database=state.database, models=state.models, problems=state.problems)
    return JSONResponse(body.model_dump(), status_code=200 if state.ready else 503)


@router.get(
    "/metrics",
    response_class=Response,
    responses=content("Prometheus text exposition format.", "text/plain"),
    summary="Prometheus metrics",
)
def metrics(request: Request) -> Response:
    return Response(request.app.state.metrics.exposition(), media_type=CONTENT_TYPE)
