"""Prometheus metrics: calls by route and status, latency by route, policy decisions by rule.

Routes are labelled by their template (``/v1/collections/{name}``), never by
the names in a request, so the metrics say nothing about whose data was used.
With several workers, ``regard serve`` points ``PROMETHEUS_MULTIPROC_DIR`` at
a fresh folder before they start; each worker writes its samples there and
``/metrics`` adds them up, whichever worker answers.
"""

from __future__ import annotations

import os
import re
import time
from collections.abc import Callable, Iterable

from prometheus_client import CollectorRegistry, Counter, Histogram, generate_latest
from prometheus_client import multiprocess as prometheus_multiprocess
from starlette.routing import compile_path
from starlette.types import ASGIApp, Message, Receive, Scope, Send

CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8"
_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0)


class Metrics:
    """The API's metrics in their own registry (one per app: tests build many apps in one process)."""

    def __init__(self) -> None:
        self.registry = CollectorRegistry(auto_describe=True)
        self.calls = Counter(
            "regard_http_requests",
            "HTTP requests by route and status.",
            ["method", "route", "status"],
            registry=self.registry,
        )
        self.latency = Histogram(
            "regard_http_request_duration_seconds",
            "Time to answer, by route.",
            ["method", "route"],
            buckets=_BUCKETS,
            registry=self.registry,
        )
        self.decisions = Counter(
            "regard_policy_decisions",
            "Policy decisions seen in responses: deny by the rule cited, review (held), allow.",
            ["decision", "rule"],
            registry=self.registry,
        )

    def decision(self, effect: str, rule: str) -> None:
        self.decisions.labels(effect, rule).inc()

    def exposition(self) -> bytes:
        folder = os.environ.get("PROMETHEUS_MULTIPROC_DIR")
        if folder:
            merged = CollectorRegistry()
            prometheus_multiprocess.MultiProcessCollector(merged, path=folder)  # type: ignore[no-untyped-call]
            return generate_latest(merged)
        return generate_latest(self.registry)


class RouteTemplates:
    """The template a request path matches (``/v1/collections/{name}``), from the app's OpenAPI paths."""

    def __init__(self, paths: Callable[[], Iterable[str]]) -> None:
        self._paths = paths
        self._compiled: list[tuple[re.Pattern[str], str]] | None = None

    def __call__(self, path: str) -> str:
        if self._compiled is None:
            self._compiled = [(compile_path(template)[0], template) for template in self._paths()]
        return next((template for regex, template in self._compiled if regex.match(path)), "(unmatched)")


class MetricsMiddleware:
    """ASGI middleware timing every HTTP request and counting it by route template and status."""

    def __init__(self, app: ASGIApp, metrics: Metrics, templates: Callable[[str], str]) -> None:
        self.app = app
        self.metrics = metrics
        self.templates = templates

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        status = 500

        async def recording_send(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = int(message["status"])
            await send(message)

        try:
            await self.app(scope, receive, recording_send)
        finally:
            template = self.templates(scope["path"])
            method = scope.get("method", "")
            self.metrics.calls.labels(method, template, str(status)).inc()
            self.metrics.latency.labels(method, template).observe(time.perf_counter() - started)
