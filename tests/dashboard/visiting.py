"""The dashboard without a browser: the app over a real service (SQLite in a temporary folder, real models),
driven by Starlette's test client, for what a browser test would check slowly or not at all.

Imported by the dashboard's page tests (``from visiting import dashboard``); fixtures defined here are registered
in each module that imports them.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest
from conftest import shared_purpose_args
from fastapi.testclient import TestClient

from regard import CallContext, Regard
from regard.api.app import create_app

TENANT = "acme"
PEOPLE = {"ada": ["admin"], "olga": ["operator"], "rita": ["reviewer"]}


@dataclass
class Dashboard:
    client: TestClient
    service: Regard
    keys: dict[str, str]

    def log_in(self, person: str) -> str:
        """Log ``person`` in; returns the session's CSRF token."""
        form = self.client.get("/dashboard/login")
        token = re.search(r'name="login_token" value="([^"]+)"', form.text)
        assert token is not None
        answer = self.client.post(
            "/dashboard/login", data={"api_key": self.keys[person], "login_token": token[1]}, follow_redirects=False
        )
        assert answer.status_code == 303, answer.text
        return self.csrf_token()

    def csrf_token(self) -> str:
        page = self.client.get("/dashboard/")
        found = re.search(r'name="csrf_token" value="([^"]+)"', page.text)
        assert found is not None, page.text
        return found[1]

    def post(self, path: str, data: dict[str, Any], **kw: Any) -> httpx.Response:
        return self.client.post(path, data=data, follow_redirects=False, **kw)


def make_dashboard_service(data_dir: Path, model_cache: Path, **settings: Any) -> tuple[Regard, dict[str, str]]:
    """The service with tenant ``acme``, purpose ``photos`` and a key per person; rate limits off unless asked."""
    settings = {"rate_limit_per_s": 0, **settings}
    svc = Regard(data_dir=data_dir, model_cache_dir=model_cache, onnx_threads=1, store_thumbnails=True, **settings)
    svc.create_tenant(TENANT, CallContext.local())
    svc.declare_purpose("photos", CallContext.local(TENANT, "photos"), **shared_purpose_args())  # type: ignore[arg-type]
    admin = CallContext.local(TENANT)
    keys = {name: svc.create_api_key(roles, admin, owner=name).token for name, roles in PEOPLE.items()}
    return svc, keys


@pytest.fixture
def dashboard(tmp_path: Path, model_cache: Path) -> Iterator[Dashboard]:
    svc, keys = make_dashboard_service(tmp_path / "data", model_cache)
    with svc, TestClient(create_app(service=svc)) as client:
        yield Dashboard(client, svc, keys)
