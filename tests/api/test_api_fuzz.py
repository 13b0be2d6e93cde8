"""schemathesis over the whole OpenAPI document: no 5xx, and every response matches its documented schema.

The server is real (models, SQLite); the caller's key holds every role, the
system role included, so generated calls reach past the role checks.  Each
operation gets a bounded number of generated cases, so the whole run takes a
few minutes.
"""

from __future__ import annotations

import atexit
import shutil
import tempfile
from pathlib import Path

import schemathesis
from fastapi import FastAPI
from harness import make_service
from hypothesis import HealthCheck, settings
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from regard import CallContext
from regard.api.app import create_app

CHECKS = [not_a_server_error, response_schema_conformance, content_type_conformance, status_code_conformance]


def _fuzzed_app() -> tuple[FastAPI, str]:
    """Built at import: schemathesis reads the document when the tests are collected."""
    folder = Path(tempfile.mkdtemp(prefix="regard-fuzz-"))
    atexit.register(shutil.rmtree, folder, True)
    svc = make_service(folder / "data", folder / "models", rate_limit_per_s=0)
    atexit.register(svc.close)
    everything = ["admin", "operator", "reviewer", "auditor", "system"]
    token = svc.create_api_key(everything, CallContext.local("acme"), owner="fuzzer").token
    return create_app(service=svc), token


APP, TOKEN = _fuzzed_app()
schema = schemathesis.openapi.from_asgi("/openapi.json", APP)


@schema.parametrize()
@settings(max_examples=12, deadline=None, suppress_health_check=list(HealthCheck), derandomize=True)
def test_the_api_keeps_its_contract(case: schemathesis.Case) -> None:
    case.call_and_validate(headers={"Authorization": f"Bearer {TOKEN}"}, checks=CHECKS)
