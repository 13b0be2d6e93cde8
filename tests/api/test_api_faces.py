"""Detect, compare, enroll and search over HTTP: the shapes cloud face API users expect."""

from __future__ import annotations

import numpy as np
from conftest import encode
from harness import Api, api, is_problem, mirrored, photo


def test_detect_and_compare(api: Api, photo: bytes, mirrored: bytes, cameraman: np.ndarray) -> None:
    detected = api.call("POST", "/v1/detect", files={"image": ("a.jpg", photo)}).json()
    assert detected["detector"] == "yunet" and len(detected["faces"]) == 1
    face = detected["faces"][0]
    assert len(face["box"]) == 4 and len(face["landmarks"]) == 5 and face["quality"]["level"] in ("high", "medium")
    same = api.call("POST", "/v1/compare", files={"image_a": ("a.jpg", photo), "image_b": ("b.jpg", mirrored)}).json()
    assert same["matched"] is True and same["best"]["matched"] is True
    assert 0 < same["best"]["similarity"] <= 1 and 0 <= same["best"]["score"] <= 100
    assert same["best"]["fmr"] == 1e-3 and same["best"]["threshold"] > 0  # the default operating point
    other = encode(cameraman)
    files = {"image_a": ("a.jpg", photo), "image_b": ("c.jpg", other)}
    differ = api.call("POST", "/v1/compare", files=files, data={"fmr": "0.001"}).json()
    assert differ["matched"] is False and differ["best"]["fmr"] == 1e-3
    assert differ["best"]["similarity"] < differ["best"]["threshold"]


def test_enroll_reports_unindexed_faces_with_reasons(api: Api, grid4: np.ndarray, photo: bytes) -> None:
    api.call("POST", "/v1/collections", key="admin", json={"name": "staff"})
    enrolled = api.enroll("staff", "eileen", encode(grid4), photo, data={"display_name": "Eileen Collins"})
    assert enrolled.status_code == 201
    body = enrolled.json()
    assert len(body["indexed_faces"]) == 2 and body["images_without_faces"] == []
    reasons = [u["reasons"] for u in body["unindexed_faces"]]
    assert reasons and all("EXCEEDS_MAX_FACES" in r for r in reasons)
    assert {u["source"] for u in body["unindexed_faces"]} == {"image #1"}
    stored = body["indexed_faces"][0]
    assert stored["has_thumbnail"] and stored["subject"] == "eileen" and stored["model"] == "fast"
    one = api.call("GET", f"/v1/collections/staff/faces/{stored['face_id']}").json()
    assert one == stored
    thumb = api.call("GET", f"/v1/collections/staff/faces/{stored['face_id']}/thumbnail")
    assert thumb.headers["content-type"] == "image/jpeg" and thumb.content[:2] == b"\xff\xd8"
    subjects = api.call("GET", "/v1/collections/staff/subjects").json()["items"]
    assert subjects[0]["display_name"] == "Eileen Collins" and subjects[0]["face_count"] == 2


def test_search_says_no_match_clearly(api: Api, photo: bytes, mirrored: bytes, cameraman: np.ndarray) -> None:
    api.call("POST", "/v1/collections", key="admin", json={"name": "staff"})
    face_id = api.enroll("staff", "eileen", photo).json()["indexed_faces"][0]["face_id"]
    found = api.search("staff", mirrored).json()
    assert found["matched"] is True and found["review_case"] is None
    match = found["results"][0]["matches"][0]
    assert match["subject"] == "eileen" and match["face_id"] == face_id and 0 < match["similarity"] <= 1
    assert found["threshold"] > 0 and found["fmr"] == 1e-3
    nobody = api.search("staff", encode(cameraman)).json()
    assert nobody["matched"] is False and nobody["results"][0]["matched"] is False
    assert nobody["results"][0]["matches"] == []  # never the nearest subject below the threshold
    strict = api.search("staff", mirrored, data={"min_score": "100"}).json()
    assert strict["matched"] is False
    by_face = api.call("POST", "/v1/collections/staff/search/face", json={"face_id": face_id}).json()
    assert by_face["matched"] is False and by_face["results"][0]["probe"] is None  # itself is not returned
    second = api.enroll("staff", "eileen2", mirrored).json()["indexed_faces"][0]["face_id"]
    decision = api.call("POST", "/v1/compare/faces", json={"face_id_a": face_id, "face_id_b": second}).json()
    assert decision["matched"] is True
    by_face = api.call("POST", "/v1/collections/staff/search/face", json={"face_id": face_id}).json()
    assert [m["subject"] for m in by_face["results"][0]["matches"]] == ["eileen2"]


def test_deleting_faces_subjects_and_collections(api: Api, photo: bytes, mirrored: bytes) -> None:
    api.call("POST", "/v1/collections", key="admin", json={"name": "staff"})
    ids = [f["face_id"] for f in api.enroll("staff", "eileen", photo, mirrored).json()["indexed_faces"]]
    assert api.call("DELETE", f"/v1/collections/staff/faces/{ids[0]}").json() == {"templates_removed": 1}
    is_problem(api.call("GET", f"/v1/collections/staff/faces/{ids[0]}"), 404, "not_found")
    assert api.call("DELETE", "/v1/collections/staff/subjects/eileen").json() == {"templates_removed": 1}
    assert api.search("staff", photo).json()["matched"] is False
    assert api.call("DELETE", "/v1/collections/staff", key="admin").json() == {"templates_removed": 0}
    is_problem(api.call("GET", "/v1/collections/staff"), 404, "not_found")
