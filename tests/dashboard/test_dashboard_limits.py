"""The dashboard's limits: pages draw on their key's API rate limit, and failed logins are throttled per address."""

from __future__ import annotations

import re
from pathlib import Path

import httpx
import pytest
from fastapi import Request
from fastapi.testclient import TestClient
from visiting import Dashboard, make_dashboard_service

from regard.api.app import create_app
from regard.dashboard.throttle import LoginThrottle, client_of


def _api(client: TestClient, key: str) -> httpx.Response:
    return client.get("/v1/collections", params={"purpose": "photos"}, headers={"Authorization": f"Bearer {key}"})


def _try_login(client: TestClient, key: str) -> httpx.Response:
    client.get("/dashboard/login")
    form = {"api_key": key, "login_token": client.cookies["regard_login"]}
    return client.post("/dashboard/login", data=form, follow_redirects=False)


def _is_refusal_page(answer: httpx.Response, code: str, longest_wait_s: int) -> str:
    """The 429 is a readable page with its reason in an alert, and says when to come back."""
    assert answer.status_code == 429, answer.text[:300]
    assert "text/html" in answer.headers["content-type"]
    assert 1 <= int(answer.headers["retry-after"]) <= longest_wait_s
    alert = re.search(r'<div class="failure" role="alert">(.*?)</div>', answer.text, re.S)
    assert alert is not None and code in alert[1], answer.text
    return alert[1]


def test_dashboard_pages_draw_on_their_keys_api_rate_limit(tmp_path: Path, model_cache: Path) -> None:
    # A token every 100 s: none comes back while the test runs.
    svc, keys = make_dashboard_service(tmp_path / "data", model_cache, rate_limit_per_s=0.01, rate_limit_burst=4)
    with svc, TestClient(create_app(service=svc)) as client:
        dashboard = Dashboard(client, svc, keys)
        dashboard.log_in("olga")  # the login and the start page: two of the key's four tokens
        assert client.get("/dashboard/collections").status_code == 200
        assert _api(client, keys["olga"]).status_code == 200  # the API's calls and the pages share one bucket

        limited = client.get("/dashboard/collections")
        assert "this key&#39;s rate limit is reached" in _is_refusal_page(limited, "rate_limited", 100)
        assert 'aria-label="Main"' in limited.text  # still the visitor's page, with their navigation
        assert _api(client, keys["olga"]).status_code == 429
        htmx = client.get("/dashboard/collections", headers={"HX-Request": "true"})
        assert htmx.status_code == 429 and htmx.headers["hx-retarget"] == "#main" and "retry-after" in htmx.headers
        # Another key has its own bucket.
        assert _api(client, keys["ada"]).status_code == 200


def test_a_session_does_not_outlive_its_keys_rate_limit_by_logging_in_again(tmp_path: Path, model_cache: Path) -> None:
    svc, keys = make_dashboard_service(tmp_path / "data", model_cache, rate_limit_per_s=0.01, rate_limit_burst=2)
    with svc, TestClient(create_app(service=svc)) as client:
        assert _try_login(client, keys["olga"]).status_code == 303
        assert client.get("/dashboard/").status_code == 200
        again = _try_login(client, keys["olga"])
        _is_refusal_page(again, "rate_limited", 100)
        assert "regard_session" not in again.headers.get("set-cookie", "")


def test_failed_logins_are_throttled_per_client_address(tmp_path: Path, model_cache: Path) -> None:
    # Three failures a minute: a token every 20 s, none back while the test runs.
    svc, keys = make_dashboard_service(
        tmp_path / "data", model_cache, dashboard_login_failures=3, dashboard_login_window_min=1
    )
    with svc, TestClient(create_app(service=svc)) as guesser:
        app = guesser.app
        assert _try_login(guesser, "rgk_000000000000_guess-1").status_code == 401
        # A successful login in between costs nothing (an office behind one address logs in freely) ...
        assert _try_login(guesser, keys["olga"]).status_code == 303
        for guess in ("rgk_000000000000_guess-2", "rgk_000000000000_guess-3"):
            assert _try_login(guesser, guess).status_code == 401
        # ... but after three failures even the right key is refused unseen: a right guess looks like a wrong one.
        throttled = _try_login(guesser, keys["ada"])
        message = _is_refusal_page(throttled, "login_throttled", 20)
        assert "Too many failed logins from your address. Wait 20 seconds, then try again." in message
        assert "regard_session" not in throttled.headers.get("set-cookie", "")
        assert 'id="api_key"' in throttled.text  # the form stays, to try again later

        # Another address is not held back by this one's failures.
        elsewhere = TestClient(app, client=("198.51.100.7", 40000))
        assert _try_login(elsewhere, keys["ada"]).status_code == 303


def test_the_login_throttle_refills_over_its_window_and_can_be_off() -> None:
    now = [0.0]
    throttle = LoginThrottle(failures=4, window_s=60, workers=2, clock=lambda: now[0])  # 2 per worker, 1 per 30 s
    assert throttle.wait_s("203.0.113.1") == 0
    throttle.failed("203.0.113.1")
    throttle.failed("203.0.113.1")
    assert throttle.wait_s("203.0.113.1") == pytest.approx(30)
    assert throttle.wait_s("203.0.113.1") == pytest.approx(30)  # asking takes nothing
    assert throttle.wait_s("203.0.113.2") == 0
    now[0] += 30
    assert throttle.wait_s("203.0.113.1") == 0
    off = LoginThrottle(failures=0, window_s=60)
    for _ in range(100):
        off.failed("203.0.113.1")
    assert off.wait_s("203.0.113.1") == 0


@pytest.mark.parametrize(
    ("host", "counted_as"),
    [
        ("203.0.113.9", "203.0.113.9"),
        ("2001:db8:1:2:aaaa::1", "2001:db8:1:2::/64"),  # one host's /64: a new address per guess gains nothing
        ("2001:db8:1:2:ffff::9", "2001:db8:1:2::/64"),
        ("::ffff:203.0.113.9", "203.0.113.9"),  # IPv4 on a dual-stack socket
        ("testclient", "testclient"),
        ("", "unknown"),
    ],
)
def test_logins_are_counted_per_address_and_per_ipv6_network(host: str, counted_as: str) -> None:
    request = Request({"type": "http", "client": (host, 1234) if host else None})
    assert client_of(request) == counted_as
