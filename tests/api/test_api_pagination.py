"""Every list is paged: offset/limit with total and a next link; the ledger by cursor."""

from __future__ import annotations

from typing import Any

from harness import Api, api, photo


def _walk(api: Api, path: str, key: str, limit: int) -> tuple[list[Any], int]:
    page = api.call("GET", path, key=key, params={"limit": limit}).json()
    items, pages = list(page["items"]), 1
    while page["next"]:
        assert page["total"] > page["offset"] + len(page["items"]) - 1
        page = api.client.get(page["next"], headers={"Authorization": f"Bearer {api.keys[key]}"}).json()
        items += page["items"]
        pages += 1
    return items, pages


def test_lists_page_with_total_and_next(api: Api, photo: bytes) -> None:
    for name in ("a", "b", "c", "d", "e"):
        assert api.call("POST", "/v1/collections", key="admin", json={"name": name}).status_code == 201
    items, pages = _walk(api, "/v1/collections", "admin", 2)
    assert [c["name"] for c in items] == ["a", "b", "c", "d", "e"] and pages == 3
    first = api.call("GET", "/v1/collections", key="admin", params={"limit": 2}).json()
    assert first["total"] == 5 and "offset=2" in first["next"] and "purpose=door" in first["next"]
    last = api.call("GET", "/v1/collections", key="admin", params={"offset": 4, "limit": 2}).json()
    assert last["next"] is None and len(last["items"]) == 1
    beyond = api.call("GET", "/v1/collections", key="admin", params={"offset": 50}).json()
    assert beyond["items"] == [] and beyond["total"] == 5 and beyond["next"] is None
    for subject in ("s1", "s2", "s3"):
        api.enroll("a", subject, photo)
    subjects, _ = _walk(api, "/v1/collections/a/subjects", "operator", 2)
    assert [s["subject"] for s in subjects] == ["s1", "s2", "s3"]
    faces, _ = _walk(api, "/v1/collections/a/faces", "operator", 1)
    assert len(faces) == 3
    purposes, _ = _walk(api, "/v1/purposes", "admin", 1)
    assert [p["name"] for p in purposes] == ["door"]


def test_the_ledger_pages_by_cursor(api: Api) -> None:
    for name in ("a", "b", "c"):
        api.call("POST", "/v1/collections", key="admin", json={"name": name})
    total = api.call("GET", "/v1/ledger/verify", key="auditor").json()["entries"]
    seqs: list[int] = []
    page = api.call("GET", "/v1/ledger/entries", key="auditor", params={"limit": 2}).json()
    while True:
        assert page["total"] == total
        seqs += [e["seq"] for e in page["items"]]
        if page["next_after_seq"] is None:
            assert page["next"] is None
            break
        page = api.client.get(page["next"], headers={"Authorization": f"Bearer {api.keys['auditor']}"}).json()
    assert seqs == list(range(1, total + 1))
