"""An API over a real service: SQLite in a temporary folder, real models, two tenants, a key per role.

Imported by the API tests (``from harness import api``); fixtures defined
here are registered in each module that imports them.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import numpy as np
import pytest
from conftest import encode, shared_purpose_args
from fastapi.testclient import TestClient

from regard import CallContext, Regard
from regard.api.app import create_app

SYSTEM = CallContext.local()
ROLES = {
    "admin": ["admin"],
    "operator": ["operator"],
    "auditor": ["auditor"],
    "rev1": ["reviewer"],
    "rev2": ["reviewer"],
}


@dataclass
class Api:
    """A test client with one key per role in tenant ``acme`` (and an operator key in ``globex``)."""

    client: TestClient
    service: Regard
    keys: dict[str, str] = field(default_factory=dict)

    def call(
        self, method: str, path: str, key: str | None = "operator", purpose: str = "door", **kw: Any
    ) -> httpx.Response:
        headers = dict(kw.pop("headers", {}))
        if key is not None:
            headers["Authorization"] = f"Bearer {self.keys.get(key, key)}"
        params = {"purpose": purpose, **kw.pop("params", {})}
        return self.client.request(method, path, headers=headers, params=params, **kw)

    def enroll(self, collection: str, subject: str, *images: bytes, key: str = "operator", **kw: Any) -> httpx.Response:
        files = [("images", (f"{i}.jpg", image, "image/jpeg")) for i, image in enumerate(images)]
        return self.call("POST", f"/v1/collections/{collection}/subjects/{subject}/faces", key, files=files, **kw)

    def search(self, collection: str, image: bytes, key: str = "operator", **kw: Any) -> httpx.Response:
        return self.call("POST", f"/v1/collections/{collection}/search", key, files={"image": ("p.jpg", image)}, **kw)


def make_service(data_dir: Path, model_cache: Path, **settings: Any) -> Regard:
    svc = Regard(data_dir=data_dir, model_cache_dir=model_cache, onnx_threads=1, store_thumbnails=True, **settings)
    for tenant in ("acme", "globex"):
        if tenant not in svc.list_tenants(SYSTEM):
            svc.create_tenant(tenant, SYSTEM)
            svc.declare_purpose("door", CallContext.local(tenant, "door"), **shared_purpose_args())  # type: ignore[arg-type]
    return svc


def issue_keys(svc: Regard) -> dict[str, str]:
    acme = CallContext.local("acme")
    keys = {name: svc.create_api_key(roles, acme, owner=name).token for name, roles in ROLES.items()}
    keys["globex"] = svc.create_api_key(["operator", "admin"], CallContext.local("globex"), owner="gina").token
    keys["system"] = svc.create_api_key(["system", "admin"], acme, owner="sysop").token
    return keys


@pytest.fixture
def api(tmp_path: Path, model_cache: Path) -> Iterator[Api]:
    svc = make_service(tmp_path / "data", model_cache, rate_limit_per_s=0)
    with svc, TestClient(create_app(service=svc)) as client:
        yield Api(client, svc, issue_keys(svc))


@pytest.fixture(scope="session")
def photo(astronaut: np.ndarray) -> bytes:
    return encode(astronaut)


@pytest.fixture(scope="session")
def mirrored(astronaut: np.ndarray) -> bytes:
    return encode(np.ascontiguousarray(astronaut[:, ::-1]))


def is_problem(response: httpx.Response, status: int, code: str) -> dict[str, Any]:
    """The response is an RFC 9457 problem with this status and Regard error code."""
    assert response.status_code == status, response.text
    assert response.headers["content-type"] == "application/problem+json"
    body: dict[str, Any] = response.json()
    assert body["status"] == status and body["code"] == code, body
    assert body["type"] == f"urn:regard:problem:{code}" and body["title"] and body["detail"]
    assert body["instance"] == response.request.url.path
    return body
