"""The dashboard's pages without a browser: CSRF on every state-changing route, errors as readable pages, sessions
that a revoked key ends, safe redirects, security headers, the vendored htmx, and the API left as it was."""

from __future__ import annotations

import base64
import hashlib
import re
from importlib import resources
from pathlib import Path

import numpy as np
from conftest import encode
from fastapi.routing import APIRoute
from fastapi.testclient import TestClient
from visiting import TENANT, Dashboard, dashboard, make_dashboard_service

from regard import CallContext
from regard.api.app import create_app
from regard.dashboard import HTMX_INTEGRITY, HTMX_SHA256, HTMX_VERSION
from regard.dashboard.views import ROUTERS
from regard.dashboard.visitors import safe_next


def _state_changing_routes() -> list[tuple[str, str]]:
    routes = [route for router in ROUTERS for route in router.routes if isinstance(route, APIRoute)]
    return [
        (method, "/dashboard" + re.sub(r"\{[^}]+\}", "1", route.path))
        for route in routes
        for method in sorted(route.methods - {"GET", "HEAD"})
        if route.path != "/login"
    ]


def test_every_state_changing_route_refuses_a_request_without_the_csrf_token(dashboard: Dashboard) -> None:
    token = dashboard.log_in("ada")
    changing = _state_changing_routes()
    assert {path for _, path in changing} >= {
        "/dashboard/logout",
        "/dashboard/collections",
        "/dashboard/collections/1/enroll",
        "/dashboard/collections/1/search",
        "/dashboard/reviews/1/candidates/1",
        "/dashboard/applications/1/decision",
    }
    before = dashboard.service.ledger_length(CallContext.local(TENANT))
    form = {"name": "sneaky", "purpose": "photos", "action": "confirm", "justification": "j", "reason": "r"}
    for method, path in changing:
        for sent in ({}, {"csrf_token": "forged"}, {"csrf_token": token[:-1]}):
            answer = dashboard.client.request(method, path, data={**form, **sent}, follow_redirects=False)
            assert answer.status_code == 403 and "csrf_refused" in answer.text, (method, path, answer.text[:300])
            assert "text/html" in answer.headers["content-type"]
    assert dashboard.service.ledger_length(CallContext.local(TENANT)) == before  # nothing was done, or recorded
    assert dashboard.client.get("/dashboard/").status_code == 200  # and the session still stands

    # The token in the form field, or in the header htmx sends, is what lets a change through.
    assert dashboard.post("/dashboard/collections", {**form, "csrf_token": token}).status_code == 303
    headers = {"X-CSRF-Token": token}
    assert dashboard.post("/dashboard/collections", {**form, "name": "by-htmx"}, headers=headers).status_code == 303


def test_logging_in_needs_the_forms_own_token_and_a_valid_key(dashboard: Dashboard) -> None:
    # Another site cannot post its own key into a visitor's browser (login CSRF): the login form's token is a
    # cookie it cannot read or set.
    forged = dashboard.post("/dashboard/login", {"api_key": dashboard.keys["olga"], "login_token": "guess"})
    assert forged.status_code == 400 and "regard_session" not in forged.headers.get("set-cookie", "")
    assert dashboard.client.get("/dashboard/", follow_redirects=False).status_code == 303
    dashboard.client.get("/dashboard/login")
    token = dashboard.client.cookies["regard_login"]
    wrong = dashboard.post("/dashboard/login", {"api_key": "rgk_000000000000_nope", "login_token": token})
    assert wrong.status_code == 401 and "unknown API key" in wrong.text and "unauthenticated" in wrong.text


def test_over_https_the_session_cookie_is_secure(dashboard: Dashboard) -> None:
    https = TestClient(dashboard.client.app, base_url="https://testserver")
    https.get("/dashboard/login")
    answer = https.post(
        "/dashboard/login",
        data={"api_key": dashboard.keys["olga"], "login_token": https.cookies["regard_login"]},
        follow_redirects=False,
    )
    cookie = answer.headers["set-cookie"].lower()
    assert answer.status_code == 303 and cookie.startswith("regard_session=")
    assert all(flag in cookie for flag in ("httponly", "samesite=strict", "secure", "path=/dashboard"))
    plain = dashboard.client.get("/dashboard/login").headers["set-cookie"].lower()  # the login form's own cookie
    assert "httponly" in plain and "secure" not in plain


def test_after_login_only_dashboard_pages_are_destinations() -> None:
    assert safe_next("/dashboard/reviews/abc") == "/dashboard/reviews/abc"
    for hostile in ("https://evil.example/", "//evil.example/dashboard/", "/v1/collections", "/dashboard\\@evil", ""):
        assert safe_next(hostile) == "/dashboard/"


def test_a_revoked_key_ends_its_sessions(dashboard: Dashboard) -> None:
    dashboard.log_in("olga")
    key_id = dashboard.keys["olga"].split("_")[1]
    dashboard.service.revoke_api_key(key_id, CallContext.local(TENANT))
    page = dashboard.client.get("/dashboard/collections")
    assert page.url.path == "/dashboard/login" and "no longer opens a session: it was revoked" in page.text
    assert "anything" not in dashboard.client.get("/dashboard/login?notice=Send+your+key+to+anything").text
    assert list((dashboard.service.settings.data_dir / "dashboard-sessions").glob("*.json")) == []


def test_errors_are_readable_pages_with_the_rule_that_denied(dashboard: Dashboard, astronaut: np.ndarray) -> None:
    token = dashboard.log_in("olga")
    dashboard.service.create_collection("staff", CallContext.local(TENANT, "photos"))
    files = {"image": ("probe.jpg", encode(astronaut), "image/jpeg")}
    denied = dashboard.client.post(
        "/dashboard/collections/staff/search", data={"purpose": "secret-list", "csrf_token": token}, files=files
    )
    assert denied.status_code == 403
    assert re.search(r"Policy rule</dt><dd><code>GOV-PURPOSE-UNDECLARED</code>", denied.text)
    assert re.search(r"Policy version</dt><dd><code>builtin-1</code>", denied.text)
    assert "policy_denied" in denied.text and "Traceback" not in denied.text
    missing = dashboard.client.get("/dashboard/collections/nope")
    assert missing.status_code == 404 and "not_found" in missing.text and "collection &#39;nope&#39;" in missing.text
    forbidden = dashboard.client.get("/dashboard/ledger")
    assert forbidden.status_code == 403 and "forbidden" in forbidden.text and "<nav" in forbidden.text
    invalid = dashboard.client.get("/dashboard/collections?offset=-1")
    assert invalid.status_code == 422 and "invalid_input" in invalid.text
    # The API beside it answers problem+json as before.
    api = dashboard.client.get("/v1/collections/nope", headers={"Authorization": f"Bearer {dashboard.keys['olga']}"})
    assert api.status_code == 404 and api.headers["content-type"] == "application/problem+json"


def test_an_htmx_request_gets_the_error_page_in_place_of_the_main_content(dashboard: Dashboard) -> None:
    token = dashboard.log_in("olga")
    answer = dashboard.client.get("/dashboard/ledger", headers={"HX-Request": "true", "X-CSRF-Token": token})
    assert answer.status_code == 403 and answer.headers["HX-Retarget"] == "#main"
    dashboard.client.cookies.clear()
    expired = dashboard.client.get("/dashboard/collections", headers={"HX-Request": "true"}, follow_redirects=False)
    assert expired.headers["HX-Redirect"].startswith("/dashboard/login?next=%2Fdashboard%2Fcollections")


def test_pages_carry_a_strict_content_security_policy_and_are_not_cached(dashboard: Dashboard) -> None:
    dashboard.log_in("olga")
    page = dashboard.client.get("/dashboard/collections")
    assert "script-src 'self'" in page.headers["content-security-policy"]
    assert "frame-ancestors 'none'" in page.headers["content-security-policy"]
    assert page.headers["cache-control"] == "no-store" and page.headers["x-frame-options"] == "DENY"
    assert "content-security-policy" not in dashboard.client.get("/healthz").headers


def test_htmx_is_vendored_pinned_and_loaded_with_its_integrity(dashboard: Dashboard) -> None:
    data = resources.files("regard.dashboard").joinpath(f"static/htmx-{HTMX_VERSION}.min.js").read_bytes()
    assert hashlib.sha256(data).hexdigest() == HTMX_SHA256
    digest = base64.b64encode(hashlib.sha384(data).digest()).decode()
    assert f"sha384-{digest}" == HTMX_INTEGRITY
    assert f'version:"{HTMX_VERSION}"' in data.decode()
    served = dashboard.client.get(f"/dashboard/static/htmx-{HTMX_VERSION}.min.js")
    assert served.status_code == 200 and served.content == data
    login = dashboard.client.get("/dashboard/login")
    assert f'integrity="{HTMX_INTEGRITY}"' in login.text and "cdn" not in login.text.lower()


def test_the_dashboard_can_be_turned_off(tmp_path: Path, model_cache: Path) -> None:
    svc, _ = make_dashboard_service(tmp_path / "data", model_cache, dashboard=False)
    with svc, TestClient(create_app(service=svc)) as client:
        off = client.get("/dashboard/")
        assert off.status_code == 404 and off.headers["content-type"] == "application/problem+json"
        assert "/dashboard/login" not in client.get("/openapi.json").text


def test_dashboard_pages_are_counted_by_route_template(dashboard: Dashboard) -> None:
    dashboard.log_in("olga")
    dashboard.service.create_collection("staff", CallContext.local(TENANT, "photos"))
    dashboard.client.get("/dashboard/collections/staff")
    metrics = dashboard.client.get("/metrics").text
    assert 'route="/dashboard/collections/{name}"' in metrics and "staff" not in metrics
