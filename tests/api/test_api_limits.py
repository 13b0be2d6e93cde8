"""Upload limits before decoding, and per-key rate limits."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from harness import Api, api, is_problem, issue_keys, make_service, photo

from regard.api.app import create_app
from regard.api.ratelimit import RateLimiter


@pytest.fixture
def small(tmp_path: Path, model_cache: Path, photo: bytes) -> Iterator[Api]:
    """Limits just around one photo: images up to its size, bodies up to about two photos, two images a call."""
    svc = make_service(
        tmp_path,
        model_cache,
        max_image_bytes=len(photo) + 10,
        max_request_bytes=2 * len(photo) + 4000,
        max_images_per_request=2,
        rate_limit_per_s=0,
    )
    with svc, TestClient(create_app(service=svc)) as client:
        harness = Api(client, svc, issue_keys(svc))
        harness.call("POST", "/v1/collections", key="admin", json={"name": "staff"})
        yield harness


def test_oversized_bodies_are_refused_before_decoding(small: Api, photo: bytes) -> None:
    body = is_problem(small.enroll("staff", "eileen", photo, photo, photo), 413, "request_too_large")
    assert "exceeds the limit" in body["detail"]
    # Without a Content-Length (a chunked upload), the body is counted while it streams and cut at the limit.
    chunks = iter([photo, photo, photo])
    streamed = small.call(
        "POST",
        "/v1/collections/staff/search",
        content=chunks,
        headers={"Content-Type": "multipart/form-data; boundary=x"},
    )
    is_problem(streamed, 413, "request_too_large")
    is_problem(small.search("staff", photo + b"\0" * 64), 413, "image_too_large")
    assert small.enroll("staff", "eileen", photo, photo).status_code == 201
    assert small.call("GET", "/v1/collections/staff").json()["face_count"] == 2


def test_too_many_images_in_one_call(small: Api, photo: bytes) -> None:
    tiny = photo[:10]
    assert (
        "at most 2" in is_problem(small.enroll("staff", "eileen", tiny, tiny, tiny), 413, "request_too_large")["detail"]
    )


def test_rate_limits_per_key_with_retry_after(tmp_path: Path, model_cache: Path) -> None:
    svc = make_service(tmp_path, model_cache, rate_limit_per_s=0.2, rate_limit_burst=3)
    with svc, TestClient(create_app(service=svc)) as client:
        harness = Api(client, svc, issue_keys(svc))
        statuses = [harness.call("GET", "/v1/collections").status_code for _ in range(4)]
        assert statuses == [200, 200, 200, 429]
        limited = harness.call("GET", "/v1/collections")
        body = is_problem(limited, 429, "rate_limited")
        assert 1 <= int(limited.headers["retry-after"]) <= 5, body  # a token every 5 s
        # Another key has its own bucket; health checks are never limited.
        assert harness.call("GET", "/v1/collections", key="admin").status_code == 200
        assert all(client.get("/healthz").status_code == 200 for _ in range(10))


def test_token_bucket_refills_and_splits_over_workers() -> None:
    now = [0.0]
    limiter = RateLimiter(rate_per_s=4, burst=8, workers=2, clock=lambda: now[0])
    assert limiter.rate == 2 and limiter.burst == 4
    assert [limiter.allow("k") for _ in range(4)] == [0, 0, 0, 0]
    assert limiter.allow("k") == pytest.approx(0.5)
    now[0] += 0.5
    assert limiter.allow("k") == 0
    assert limiter.allow("other") == 0
    assert RateLimiter.retry_after(0.2) == "1" and RateLimiter.retry_after(2.1) == "3"
    assert RateLimiter(0, 1).allow("k") == 0


def test_asking_the_wait_takes_no_token_and_refilled_buckets_are_forgotten() -> None:
    now = [0.0]
    limiter = RateLimiter(rate_per_s=1, burst=2, clock=lambda: now[0])
    assert limiter.wait_s("k") == 0  # a key never seen waits for nothing, and gets no bucket
    assert [limiter.allow("k"), limiter.allow("k")] == [0, 0]
    assert limiter.wait_s("k") == pytest.approx(1) and limiter.wait_s("k") == pytest.approx(1)
    assert limiter.allow("k") == pytest.approx(1)
    # Keys a client makes up (addresses) cannot grow the table for ever: refilled buckets are forgotten.
    for i in range(RateLimiter.SWEEP_AT - 1):
        limiter.allow(f"address-{i}")
    now[0] += 2  # every bucket is full again ...
    assert [limiter.allow("k"), limiter.allow("k")] == [0, 0]  # ... but this one, emptied again
    limiter.allow("a new key")  # the table is at SWEEP_AT: it is swept before the new bucket goes in
    assert sorted(limiter._buckets) == ["a new key", "k"]  # (the table itself: nothing else tells)
    assert limiter.wait_s("k") == pytest.approx(1)
