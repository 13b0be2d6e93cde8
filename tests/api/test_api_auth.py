"""Authentication, roles and tenant isolation over HTTP."""

from __future__ import annotations

import re

from harness import Api, api, is_problem, photo

OPEN = {"/healthz", "/readyz", "/metrics"}


def test_no_route_works_without_a_key(api: Api) -> None:
    paths = api.client.app.openapi()["paths"]  # type: ignore[attr-defined]
    checked = 0
    for template, operations in paths.items():
        path = re.sub(r"\{[^}]+\}", "x", template)
        for method in operations:
            response = api.call(method.upper(), path, key=None)
            if template in OPEN:
                assert response.status_code in (200, 503), template
                continue
            body = is_problem(response, 401, "unauthenticated")
            assert response.headers["www-authenticate"] == "Bearer", body
            checked += 1
    assert checked >= 45
    for public in ("/openapi.json", "/docs", "/redoc"):
        assert api.client.get(public).status_code == 200


def test_bad_keys_are_refused(api: Api) -> None:
    is_problem(api.call("GET", "/v1/collections", key="garbage"), 401, "unauthenticated")
    is_problem(api.call("GET", "/v1/collections", key="rgk_0123456789ab_forged"), 401, "unauthenticated")
    assert api.call("DELETE", f"/v1/keys/{_key_id(api.keys['auditor'])}", key="admin").status_code == 204
    assert (
        "revoked" in is_problem(api.call("GET", "/v1/ledger/verify", key="auditor"), 401, "unauthenticated")["detail"]
    )
    basic = api.client.get("/v1/collections", headers={"Authorization": "Basic dXNlcjpwYXNz"})
    is_problem(basic, 401, "unauthenticated")


def _key_id(token: str) -> str:
    return token.split("_")[1]


def test_roles_decide_what_a_key_may_do(api: Api, photo: bytes) -> None:
    assert api.call("POST", "/v1/collections", key="admin", json={"name": "staff"}).status_code == 201
    is_problem(api.enroll("staff", "eileen", photo, key="auditor"), 403, "forbidden")
    is_problem(api.call("GET", "/v1/ledger/entries", key="operator"), 403, "forbidden")
    is_problem(api.call("PUT", "/v1/policy", key="operator", json={"document": "version: x\n"}), 403, "forbidden")
    is_problem(api.call("GET", "/v1/tenants", key="admin"), 403, "forbidden")
    is_problem(api.call("POST", "/v1/tenants", key="admin", json={"tenant": "evil"}), 403, "forbidden")
    assert api.call("POST", "/v1/tenants", key="system", json={"tenant": "initech"}).status_code == 201
    tenants = api.call("GET", "/v1/tenants", key="system").json()
    assert [t["tenant"] for t in tenants["items"]] == ["acme", "globex", "initech"]
    # A tenant admin makes keys for its own tenant only, and cannot grant the system role.
    is_problem(
        api.call("POST", "/v1/keys", key="admin", json={"roles": ["admin"], "tenant": "globex"}), 403, "forbidden"
    )
    is_problem(api.call("POST", "/v1/keys", key="admin", json={"roles": ["system"]}), 403, "forbidden")
    made = api.call("POST", "/v1/keys", key="admin", json={"roles": ["operator"], "owner": "olga"})
    assert made.status_code == 201 and made.json()["token"].startswith("rgk_")
    listed = api.call("GET", "/v1/keys", key="admin").json()
    assert "olga" in [k["owner"] for k in listed["items"]] and all("token" not in k for k in listed["items"])


def test_tenants_never_see_each_other(api: Api, photo: bytes) -> None:
    assert api.call("POST", "/v1/collections", key="admin", json={"name": "staff"}).status_code == 201
    face_id = api.enroll("staff", "eileen", photo).json()["indexed_faces"][0]["face_id"]
    # globex's operator and admin: the same names are simply not there for them.
    assert api.call("GET", "/v1/collections", key="globex").json()["total"] == 0
    is_problem(api.call("GET", "/v1/collections/staff", key="globex"), 404, "not_found")
    is_problem(api.search("staff", photo, key="globex"), 404, "not_found")
    is_problem(api.call("GET", f"/v1/collections/staff/faces/{face_id}/thumbnail", key="globex"), 404, "not_found")
    body = {"face_id_a": face_id, "face_id_b": face_id}
    is_problem(api.call("POST", "/v1/compare/faces", key="globex", json=body), 404, "not_found")
    is_problem(api.call("DELETE", "/v1/collections/staff", key="globex"), 404, "not_found")
    # globex makes its own 'staff': separate, and acme's is untouched.
    assert api.call("POST", "/v1/collections", key="globex", json={"name": "staff"}).status_code == 201
    assert api.call("GET", "/v1/collections/staff", key="globex").json()["face_count"] == 0
    assert api.call("GET", "/v1/collections/staff", key="admin").json()["face_count"] == 1


def test_the_purpose_is_a_request_field(api: Api, photo: bytes) -> None:
    api.call("POST", "/v1/collections", key="admin", json={"name": "staff"})
    denied = api.enroll("staff", "eileen", photo, purpose="undeclared")
    body = is_problem(denied, 403, "policy_denied")
    assert body["rule_id"] and body["policy_version"]
    entries = api.call("GET", "/v1/ledger/entries", key="auditor", params={"limit": 1000}).json()["items"]
    last = entries[-1]["fields"]
    assert last["decision"] == "deny" and last["purpose"] == "undeclared" and last["origin"] == "api"
    assert last["actor"] == "operator" and last["key_id"] == _key_id(api.keys["operator"])
