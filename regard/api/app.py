"""The app factory: ``create_app()`` builds the API over one ``Regard`` service.

The web dashboard (``regard.dashboard``) is installed when ``settings.dashboard`` is on.
Extending it further: pass ``extensions``, functions that receive the
app after the API's routers are in place, and add HTML routes
(``app.include_router``) and static files (``app.mount("/static", ...)``).
They share the service (``regard.api.auth.Service``), authentication
(``regard.api.auth.Caller``), the problem+json errors, the body limit and the
metrics (routes left out of the OpenAPI document are labelled by the templates
listed in ``app.state.page_templates``).  ``uvicorn --factory regard.api.app:create_app`` runs it with settings
from the environment; ``regard serve`` does that with several workers.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable, Sequence
from contextlib import asynccontextmanager

from fastapi import FastAPI

from regard import __version__
from regard.api import openapi, problems
from regard.api.metrics import Metrics, MetricsMiddleware, RouteTemplates
from regard.api.ratelimit import RateLimiter
from regard.api.retention import RetentionJob
from regard.api.routes import (
    applications,
    audits,
    collections,
    consents,
    enrollment,
    erasures,
    faces,
    health,
    ledger,
    models,
    policies,
    purposes,
    report,
    reviews,
    search,
    tenants,
)
from regard.api.uploads import BodyLimit
from regard.service import Regard
from regard.settings import Settings, load_settings

API_PREFIX = "/v1"
ROUTERS = (
    faces.router,
    collections.router,
    enrollment.router,
    search.router,
    purposes.router,
    policies.router,
    applications.router,
    consents.router,
    erasures.router,
    reviews.router,
    ledger.router,
    report.router,
    models.router,
    audits.router,
    tenants.router,
)
ERRORS = (400, 401, 403, 404, 409, 413, 422, 429, 503)
UPLOAD_PATHS = ("/v1/models", "/v1/audits")  # model and fairness-report uploads may be larger than images

DESCRIPTION = """Self-hosted face recognition, accountable by construction.

Every call but the health checks needs an API key (`Authorization: Bearer <key>`) and names its declared
`purpose` (query parameter).  Errors are RFC 9457 problem+json documents with Regard's stable `code`.
See docs/api.md for authentication, errors, pagination, limits, idempotency, rate limits and metrics."""


def create_app(
    settings: Settings | None = None,
    *,
    service: Regard | None = None,
    retention: bool | None = None,
    extensions: Sequence[Callable[[FastAPI], None]] = (),
) -> FastAPI:
    """The API over ``service`` (default: a new ``Regard`` from ``settings``, closed with the app).

    ``retention`` runs the purge job (default: when ``purge_interval_h`` > 0 and the app owns its service).
    """
    settings = settings or (service.settings if service is not None else load_settings())
    owned = service is None
    regard = service if service is not None else Regard(settings)
    run_retention = retention if retention is not None else owned and settings.purge_interval_h > 0

    @asynccontextmanager
    async def lifespan(_: FastAPI) -> AsyncIterator[None]:
        app.openapi()  # built once here, not on the first request
        job = None
        if run_retention:
            job = RetentionJob(regard, settings.purge_interval_h * 3600, settings.data_dir / "retention.lock")
            job.start()
        app.state.retention = job
        try:
            yield
        finally:
            if job is not None:
                job.stop()
            if owned:
                regard.close()

    app = FastAPI(title="Regard", version=__version__, description=DESCRIPTION, lifespan=lifespan)
    app.state.regard = regard
    app.state.metrics = Metrics()
    app.state.limiter = RateLimiter(settings.rate_limit_per_s, settings.rate_limit_burst, settings.serve_workers)
    app.state.page_templates = []  # routes outside the OpenAPI document (the dashboard's pages), for the metrics
    problems.install(app)
    for router in ROUTERS:
        app.include_router(router, prefix=API_PREFIX, responses=problems.error_responses(*ERRORS))
    app.include_router(health.router)
    if settings.dashboard:
        from regard.dashboard import install as dashboard

        dashboard(app)
    for extend in extensions:
        extend(app)

    def body_limit(path: str) -> int:
        return settings.max_model_bytes if path.startswith(UPLOAD_PATHS) else settings.max_request_bytes

    app.add_middleware(BodyLimit, limit_for=body_limit)
    templates = RouteTemplates(lambda: [*app.openapi()["paths"].keys(), *app.state.page_templates])
    app.add_middleware(MetricsMiddleware, metrics=app.state.metrics, templates=templates)
    app.openapi = lambda: openapi.build(app)  # type: ignore[method-assign]
    return app
