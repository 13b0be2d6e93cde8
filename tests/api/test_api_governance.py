"""Governance over HTTP: review by two reviewers' keys, consent and erasure, the ledger, the report, policy,
and the case reference an investigative search needs."""

from __future__ import annotations

import json
from pathlib import Path

from conftest import watchlist_purpose_args
from harness import Api, api, is_problem, mirrored, photo

VIP = {
    "name": "vip",
    "category": "access-control",
    "legal_basis": "contract",
    "data_subjects": "club members",
    "retention_days": 90,
    "max_collection_subjects": 100,
    "consequential": True,
}
LEADS = {"name": "leads", **watchlist_purpose_args()}


def test_two_reviewers_release_a_held_match(api: Api, photo: bytes, mirrored: bytes) -> None:
    assert api.call("POST", "/v1/purposes", key="admin", json=VIP).status_code == 201
    api.call("POST", "/v1/collections", key="admin", purpose="vip", json={"name": "members"})
    api.enroll("members", "eileen", photo, purpose="vip")
    held = api.search("members", mirrored, purpose="vip").json()
    assert held["review_case"] and held["matched"] is False and held["results"][0]["matches"] == []
    case_id = held["review_case"]
    pending = api.call("GET", "/v1/reviews", key="rev1").json()
    assert [c["case"] for c in pending["items"]] == [case_id]
    case = api.call("GET", f"/v1/reviews/{case_id}", key="rev1").json()
    assert case["status"] == "pending" and case["reviewers_required"] == 2
    assert case["candidates"][0]["subject"] == "eileen" and "fmr_at_threshold" in case["model_error_rates"]
    for url in (case["probe_thumbnail"], case["candidates"][0]["thumbnail"]):
        image = api.client.get(url, headers={"Authorization": f"Bearer {api.keys['rev1']}"}, params={"purpose": "vip"})
        assert image.headers["content-type"] == "image/jpeg" and image.content[:2] == b"\xff\xd8"
    act = f"/v1/reviews/{case_id}/candidates/eileen"
    confirm = {"action": "confirm", "justification": "same scar"}
    is_problem(api.call("POST", act, key="operator", purpose="vip", json=confirm), 403, "forbidden")
    assert api.call("POST", act, key="rev1", purpose="vip", json=confirm).json()["status"] == "pending"
    is_problem(api.call("POST", act, key="rev1", purpose="vip", json=confirm), 409, "conflict")
    result = api.call("GET", f"/v1/reviews/{case_id}/result", purpose="vip").json()
    assert result["released"] == [] and result["matched"] is False
    assert api.call("POST", act, key="rev2", purpose="vip", json=confirm).json()["status"] == "released"
    result = api.call("GET", f"/v1/reviews/{case_id}/result", purpose="vip").json()
    assert result["matched"] is True and [c["subject"] for c in result["released"]] == ["eileen"]
    is_problem(api.call("GET", "/v1/reviews/nope", key="rev1"), 404, "not_found")


def test_consent_erasure_and_purge(api: Api, photo: bytes) -> None:
    consent = {"subject": "eileen", "purposes": ["door"], "evidence_ref": "form 117"}
    assert api.call("POST", "/v1/consents", json=consent).status_code == 201
    assert api.call("GET", "/v1/consents", key="admin").json()["items"][0]["subject"] == "eileen"
    api.call("POST", "/v1/collections", key="admin", json={"name": "staff"})
    api.enroll("staff", "eileen", photo)
    receipt = api.call("POST", "/v1/consents/eileen/withdrawal").json()
    assert receipt["consents_ended"] == 1 and receipt["verified_absent"] and len(receipt["removed"]["staff"]) == 1
    assert receipt["remaining"] == {} and receipt["storage_scrubbed"]
    assert receipt["thumbnails"] == 1 and receipt["ledger_seq"] > 0
    api.enroll("staff", "bob", photo)
    erased = api.call("POST", "/v1/erasures", json={"subject": "bob", "reason": "request"})
    assert erased.status_code == 201 and list(erased.json()["removed"]) == ["staff"]
    receipts = api.call("GET", "/v1/erasures", key="admin").json()
    assert [r["subject"] for r in receipts["items"]] == ["eileen", "bob"]
    purged = api.call("POST", "/v1/purge", key="admin").json()
    assert purged["templates"] == 0
    is_problem(api.call("POST", "/v1/purge", key="admin", params={"all_tenants": True}), 403, "forbidden")
    assert api.call("POST", "/v1/purge", key="system", params={"all_tenants": True}).status_code == 200


def test_ledger_routes(api: Api) -> None:
    api.call("POST", "/v1/collections", key="admin", json={"name": "staff"})
    verified = api.call("GET", "/v1/ledger/verify", key="auditor").json()
    assert verified["ok"] and verified["entries"] >= 2 and verified["problems"] == []
    exported = api.call("GET", "/v1/ledger/export", key="auditor")
    assert exported.headers["content-type"].startswith("application/jsonl")
    lines = [json.loads(line) for line in exported.text.splitlines()]
    assert [e["seq"] for e in lines] == list(range(1, verified["entries"] + 1))
    assert lines[-1]["operation"] == "create-collection"
    is_problem(api.call("GET", "/v1/ledger/export", key="operator"), 403, "forbidden")
    key = api.call("GET", "/v1/ledger/public-key", key="auditor").json()
    assert key["algorithm"] == "Ed25519" and len(key["public_key"]) == 64
    signed = api.call("POST", "/v1/ledger/checkpoints", key="auditor").json()["checkpoint"]
    assert signed["public_key"] == key["public_key"] and signed["seq"] == lines[-1]["seq"]
    empty = api.call("POST", "/v1/ledger/checkpoints", key="globex").json()
    assert empty["checkpoint"] is None or empty["checkpoint"]["tenant"] == "globex"


def test_the_report_in_three_formats(api: Api) -> None:
    api.call("POST", "/v1/collections", key="admin", json={"name": "staff"})
    as_json = api.call("GET", "/v1/report", key="auditor")
    assert as_json.headers["content-type"] == "application/json" and as_json.json()["tenant"] == "acme"
    markdown = api.call("GET", "/v1/report", key="auditor", headers={"Accept": "text/markdown"})
    assert markdown.headers["content-type"].startswith("text/markdown") and markdown.text.startswith("# ")
    html = api.call("GET", "/v1/report", key="auditor", params={"format": "html"})
    assert html.headers["content-type"].startswith("text/html") and "<html" in html.text.lower()
    purpose = api.call("GET", "/v1/report", key="auditor", params={"for_purpose": "door"}).json()
    assert purpose["purpose_filter"] == "door"


def test_purposes_policy_and_applications(api: Api) -> None:
    refused = {**VIP, "name": "watch", "category": "mass-surveillance"}
    is_problem(api.call("POST", "/v1/purposes", key="admin", json=refused), 403, "policy_denied")
    assert "version" in api.call("GET", "/v1/policy", key="admin").json()["document"]
    applied = api.call("PUT", "/v1/policy", key="admin", json={"document": "version: v2\n"})
    assert applied.status_code == 200 and applied.json()["version"] == "v2"
    is_problem(api.call("PUT", "/v1/policy", key="admin", json={"document": "version: v2\n"}), 409, "already_exists")
    is_problem(api.call("PUT", "/v1/policy", key="admin", json={"document": "- not: a policy"}), 422, "invalid_input")
    history = api.call("GET", "/v1/policy/history", key="auditor").json()
    assert [v["version"] for v in history["items"]] == ["v2"]
    explained = api.call("POST", "/v1/policy/explain", key="admin", json={"operation": "search"}).json()
    assert explained["effect"] == "allow" and explained["trace"]
    denied = api.call("POST", "/v1/policy/explain", key="admin", purpose="nope", json={"operation": "search"}).json()
    assert denied["effect"] == "deny"
    submitted = api.call(
        "POST",
        "/v1/applications",
        json={"kind": "scale", "purpose": "door", "requested": {"max_subjects": 20000}, "justification": "growth"},
    ).json()
    assert submitted["status"] == "pending"
    decide = f"/v1/applications/{submitted['id']}/decision"
    body = {"approve": True, "reason": "fine"}
    is_problem(api.call("POST", decide, key="operator", json=body), 403, "forbidden")
    assert api.call("POST", decide, key="rev1", json=body).json()["status"] == "approved"
    is_problem(api.call("POST", decide, key="rev2", json=body), 409, "conflict")
    assert api.call("GET", "/v1/applications", key="auditor").json()["total"] == 1


def test_models_registry_and_gate(api: Api) -> None:
    models = api.call("GET", "/v1/models").json()
    sface = next(m for m in models["items"] if m["id"] == "sface")
    assert sface["installed"] and sface["thresholds"]["1e-04"] > 0
    assert api.call("GET", "/v1/models/sface").json() == sface
    is_problem(api.call("GET", "/v1/models/nope"), 404, "not_found")
    # Activation through the gate: tests/api/test_api_audits.py.


def test_registering_a_model_by_upload(api: Api) -> None:
    spec = api.service.model("sface").spec
    weights = api.service._parts.registry.weight_path(spec).read_bytes()  # the test borrows SFace's file
    data = {"model_id": "mine", "thresholds": json.dumps(dict(spec.thresholds))}
    made = api.call("POST", "/v1/models", key="admin", data=data, files={"model": ("m.onnx", weights)})
    assert made.status_code == 201 and made.json()["id"] == "mine" and not made.json()["builtin"]
    assert api.call("POST", "/v1/collections", key="admin", json={"name": "c", "model": "mine"}).status_code == 201
    bad = {"model_id": "other", "thresholds": "not json"}
    is_problem(
        api.call("POST", "/v1/models", key="admin", data=bad, files={"model": ("m.onnx", b"x")}), 422, "invalid_input"
    )


def _watchlist(api: Api, photo: bytes) -> None:
    """An investigative watchlist: its restricted category approved by a reviewer, one person enrolled."""
    assert api.call("POST", "/v1/purposes", key="admin", purpose="leads", json=LEADS).status_code == 201
    application = {"kind": "category", "purpose": "leads", "requested": {}, "justification": "detective unit"}
    submitted = api.call("POST", "/v1/applications", key="admin", json=application).json()
    approve = {"approve": True, "reason": "case process reviewed"}
    decided = api.call("POST", f"/v1/applications/{submitted['id']}/decision", key="rev1", json=approve)
    assert decided.json()["status"] == "approved", decided.text
    created = api.call("POST", "/v1/collections", key="admin", purpose="leads", json={"name": "persons"})
    assert created.status_code == 201, created.text
    assert api.enroll("persons", "p1", photo, purpose="leads").status_code == 201


def test_an_investigative_search_needs_a_documented_case_reference(api: Api, photo: bytes) -> None:
    _watchlist(api, photo)
    for reference in (None, "", "   ", "n/a", "TBD", "unknown", "0000"):
        params = {} if reference is None else {"case_reference": reference}
        refused = api.search("persons", photo, purpose="leads", params=params)
        body = is_problem(refused, 403, "policy_denied")
        assert body["rule_id"] == "PROHIBIT-UNTARGETED-SURVEILLANCE" and "documented" in body["detail"], reference
    entries = api.call("GET", "/v1/ledger/entries", key="auditor", params={"limit": 1000}).json()["items"]
    assert entries[-1]["fields"]["operation"] == "search" and entries[-1]["fields"]["result"]["denied"]


def test_a_documented_case_reference_is_recorded_with_the_search(api: Api, photo: bytes) -> None:
    _watchlist(api, photo)
    found = api.search("persons", photo, purpose="leads", params={"case_reference": " 2026-CR-0042 "})
    assert found.status_code == 200 and found.json()["review_case"], found.text  # consequential: held for review
    entries = api.call("GET", "/v1/ledger/entries", key="auditor", params={"limit": 1000}).json()["items"]
    search = entries[-1]["fields"]
    assert search["operation"] == "search" and search["purpose"] == "leads" and search["actor"] == "operator"
    assert search["result"]["case_reference"] == "2026-CR-0042"
