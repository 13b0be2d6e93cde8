"""Health, readiness and the Prometheus metrics."""

from __future__ import annotations

import re

from harness import Api, api, photo
from prometheus_client.parser import text_string_to_metric_families


def _samples(api: Api) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    response = api.client.get("/metrics")
    assert response.status_code == 200 and response.headers["content-type"].startswith("text/plain")
    return {
        (s.name, tuple(sorted(s.labels.items()))): s.value
        for family in text_string_to_metric_families(response.text)
        for s in family.samples
    }


def test_health_and_readiness(api: Api) -> None:
    assert api.client.get("/healthz").json() == {"status": "ok"}
    ready = api.client.get("/readyz").json()
    assert ready["ready"] and ready["database"] and ready["models"] == {"yunet": True, "fast": True}


def test_metrics_count_calls_decisions_and_latency(api: Api, photo: bytes) -> None:
    api.call("POST", "/v1/collections", key="admin", json={"name": "staff"})
    api.enroll("staff", "eileen", photo)
    api.search("staff", photo)
    api.search("staff", photo, purpose="undeclared")
    api.call("GET", "/v1/collections/nope")
    samples = _samples(api)

    def value(name: str, **labels: str) -> float:
        return samples.get((name, tuple(sorted(labels.items()))), 0.0)

    route = "/v1/collections/{name}/search"
    assert value("regard_http_requests_total", method="POST", route=route, status="200") == 1
    assert value("regard_http_requests_total", method="POST", route=route, status="403") == 1
    assert value("regard_http_requests_total", method="GET", route="/v1/collections/{name}", status="404") == 1
    assert value("regard_http_request_duration_seconds_count", method="POST", route=route) == 2
    denials = [k for k in samples if k[0] == "regard_policy_decisions_total" and ("decision", "deny") in k[1]]
    assert len(denials) == 1 and samples[denials[0]] == 1
    assert value("regard_policy_decisions_total", decision="allow", rule="allowed") == 1
    # Labels carry route templates, never a collection, subject or key.
    assert not re.search(r"staff|eileen|rgk_", api.client.get("/metrics").text)
