"""Idempotency keys on enrollment: a retry returns the first response and stores nothing twice."""

from __future__ import annotations

import threading
from pathlib import Path

from fastapi.testclient import TestClient
from harness import Api, api, is_problem, make_service, mirrored, photo

from regard.api.app import create_app


def _enroll_ops(api: Api) -> list[dict[str, object]]:
    entries = api.call("GET", "/v1/ledger/entries", key="auditor", params={"limit": 1000}).json()["items"]
    return [e["fields"] for e in entries if e["fields"]["operation"] == "enroll"]


def test_a_retry_returns_the_first_response(api: Api, photo: bytes, mirrored: bytes) -> None:
    api.call("POST", "/v1/collections", key="admin", json={"name": "staff"})
    key = {"Idempotency-Key": "enroll-eileen-1"}
    first = api.enroll("staff", "eileen", photo, mirrored, headers=key)
    again = api.enroll("staff", "eileen", photo, mirrored, headers=key)
    assert first.status_code == again.status_code == 201
    assert first.json() == again.json() and len(first.json()["indexed_faces"]) == 2
    assert api.call("GET", "/v1/collections/staff").json()["face_count"] == 2
    assert len(_enroll_ops(api)) == 1
    # The same key for another request is a conflict; without a key every call enrolls.
    other = api.enroll("staff", "eileen", mirrored, photo, headers=key)
    assert "different request" in is_problem(other, 409, "conflict")["detail"]
    assert api.enroll("staff", "eileen", photo).status_code == 201
    assert api.call("GET", "/v1/collections/staff").json()["face_count"] == 3


def test_concurrent_retries_store_once(api: Api, photo: bytes) -> None:
    api.call("POST", "/v1/collections", key="admin", json={"name": "staff"})
    answers: list[dict[str, object]] = []

    def send() -> None:
        response = api.enroll("staff", "eileen", photo, headers={"Idempotency-Key": "race"})
        assert response.status_code == 201, response.text
        answers.append(response.json())

    threads = [threading.Thread(target=send) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(answers) == 4 and all(a == answers[0] for a in answers)
    assert api.call("GET", "/v1/collections/staff").json()["face_count"] == 1
    assert len(_enroll_ops(api)) == 1


def test_keys_hold_across_worker_processes(tmp_path: Path, model_cache: Path, photo: bytes) -> None:
    """Two services on one database stand for two workers: the key is in the database, not in a worker."""
    first = make_service(tmp_path / "data", model_cache, rate_limit_per_s=0)
    second = make_service(tmp_path / "data", model_cache, rate_limit_per_s=0)
    with first, second, TestClient(create_app(service=first)) as a, TestClient(create_app(service=second)) as b:
        from harness import issue_keys

        keys = issue_keys(first)
        one, two = Api(a, first, keys), Api(b, second, keys)
        one.call("POST", "/v1/collections", key="admin", json={"name": "staff"})
        headers = {"Idempotency-Key": "k-42"}
        assert (
            one.enroll("staff", "eileen", photo, headers=headers).json()
            == two.enroll("staff", "eileen", photo, headers=headers).json()
        )
        assert two.call("GET", "/v1/collections/staff").json()["face_count"] == 1


def test_erasure_forgets_the_stored_answer(api: Api, photo: bytes) -> None:
    api.call("POST", "/v1/collections", key="admin", json={"name": "staff"})
    headers = {"Idempotency-Key": "k-erase"}
    assert api.enroll("staff", "eileen", photo, headers=headers).status_code == 201
    assert api.call("POST", "/v1/erasures", json={"subject": "eileen"}).status_code == 201
    # The answer naming the erased subject is gone: the key now enrolls afresh.
    assert api.enroll("staff", "eileen", photo, headers=headers).status_code == 201
    assert api.call("GET", "/v1/collections/staff").json()["face_count"] == 1
