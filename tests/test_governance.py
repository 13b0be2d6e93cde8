"""Governance enforced inside the service: roles, keys, tenants, consent, retention, review, applications."""

from __future__ import annotations

import hashlib
from datetime import timedelta
from pathlib import Path

import numpy as np
import pytest
from conftest import LOCAL, consequential_purpose_args, encode, person, trusted, watchlist_purpose_args
from sqlalchemy import text

from regard import CallContext, Regard
from regard.errors import (
    AuthenticationError,
    ConflictError,
    NotFoundError,
    PermissionDeniedError,
    PolicyDeniedError,
)
from regard.governance.repository import utcnow
from regard.governance.roles import Operation

ADMIN = trusted(actor="alice", tenant="acme", purpose="door")


@pytest.fixture
def gov(tmp_path: Path, model_cache: Path, database_url: str):  # type: ignore[no-untyped-def]
    """A governed service with two tenants, on SQLite and on PostgreSQL."""
    with Regard(
        data_dir=tmp_path / "data",
        database_url=database_url,
        model_cache_dir=model_cache,
        onnx_threads=1,
        store_thumbnails=True,
    ) as svc:
        svc.create_tenant("acme", ADMIN)
        svc.create_tenant("globex", ADMIN)
        svc.declare_purpose(
            "door",
            ADMIN,
            category="access-control",
            legal_basis="consent",
            data_subjects="employees who opted in",
            retention_days=30,
            max_collection_subjects=100,
            consequential=False,
        )
        yield svc


def key_ctx(svc: Regard, roles: list[str], purpose: str = "door", tenant: str = "acme") -> CallContext:
    token = svc.create_api_key(roles, trusted(tenant=tenant), label="test").token
    return svc.authenticate(token, purpose)


def ledger_ops(svc: Regard, tenant: str = "acme") -> list[tuple[str, str, str]]:
    entries = svc.ledger_entries(trusted(tenant=tenant))
    return [(e.fields["operation"], e.fields["decision"], e.fields["rule_id"]) for e in entries]


def test_keys_authenticate_and_scope_roles(gov: Regard, astronaut: np.ndarray) -> None:
    operator = key_ctx(gov, ["operator"])
    auditor = key_ctx(gov, ["auditor"])
    assert operator.tenant == "acme" and operator.roles == frozenset({"operator"})
    gov.create_collection("staff", operator)
    assert gov.detect(astronaut, operator).faces
    with pytest.raises(PermissionDeniedError, match="operator"):
        gov.detect(astronaut, auditor)
    with pytest.raises(PermissionDeniedError):
        gov.apply_policy("version: x", operator)
    with pytest.raises(PermissionDeniedError):
        gov.verify_ledger(operator)
    assert gov.verify_ledger(auditor).ok
    with pytest.raises(AuthenticationError, match="malformed"):
        gov.authenticate("not-a-key")
    token = gov.create_api_key(["operator"], trusted(tenant="acme")).token
    forged = token[:-4] + ("AAAA" if not token.endswith("AAAA") else "BBBB")
    with pytest.raises(AuthenticationError, match="unknown"):
        gov.authenticate(forged)
    key_id = token.split("_")[1]
    gov.revoke_api_key(key_id, trusted(tenant="acme"))
    with pytest.raises(AuthenticationError, match="revoked"):
        gov.authenticate(token)
    assert all(k.key_id != token for k in gov.list_api_keys(trusted(tenant="acme")))


def test_expired_key(gov: Regard) -> None:
    from regard.store.governance_tables import ApiKeyRow

    token = gov.create_api_key(["operator"], trusted(tenant="acme"), expires_in_days=1).token
    with gov._parts.governance.tx() as s:
        s.get_one(ApiKeyRow, token.split("_")[1]).expires_at = utcnow() - timedelta(seconds=1)
    with pytest.raises(AuthenticationError, match="expired"):
        gov.authenticate(token)


def test_secrets_are_not_stored(gov: Regard, tmp_path: Path) -> None:
    token = gov.create_api_key(["admin"], trusted(tenant="acme")).token
    secret = token.split("_", 2)[2]
    if gov._parts.store.engine.dialect.name == "sqlite":
        assert secret.encode() not in (tmp_path / "data" / "regard.db").read_bytes()
    with gov._parts.store.engine.connect() as conn:
        rows = conn.execute(text("select * from api_keys")).all()
    assert rows and not any(secret in str(value) for row in rows for value in row)


def test_tenant_boundaries(gov: Regard, astronaut: np.ndarray) -> None:
    gov.declare_purpose(
        "door",
        trusted(tenant="globex"),
        category="access-control",
        legal_basis="legitimate-interests",
        data_subjects="staff",
        retention_days=30,
        max_collection_subjects=100,
        consequential=True,
    )
    acme_op, globex_op = key_ctx(gov, ["operator"]), key_ctx(gov, ["operator", "reviewer"], tenant="globex")
    gov.create_collection("staff", acme_op)
    with pytest.raises(NotFoundError):
        gov.describe_collection("staff", key_ctx(gov, ["auditor"], tenant="globex"))
    gov.create_collection("staff", globex_op)
    gov.enroll("staff", "eve", [astronaut], globex_op)
    case = gov.search("staff", astronaut, globex_op).review_case
    assert case is not None
    with pytest.raises(NotFoundError):
        gov.review_case(case, key_ctx(gov, ["reviewer"]))
    assert all(e.tenant == "acme" for e in gov.ledger_entries(trusted(tenant="acme")))
    assert not any(
        e.fields["collection"] == "staff" and e.fields["operation"] == "enroll"
        for e in gov.ledger_entries(trusted(tenant="acme"))
    )
    with pytest.raises(PermissionDeniedError):
        gov.create_api_key(["admin"], acme_op, tenant="globex")


def test_undeclared_purpose_is_denied_and_recorded(gov: Regard, astronaut: np.ndarray) -> None:
    with pytest.raises(PolicyDeniedError) as info:
        gov.detect(astronaut, trusted(tenant="acme", purpose="marketing"))
    assert info.value.rule_id == "GOV-PURPOSE-UNDECLARED"
    assert ledger_ops(gov)[-1] == ("detect", "deny", "GOV-PURPOSE-UNDECLARED")


def test_every_call_leaves_one_entry_with_hash_not_image(gov: Regard, astronaut: np.ndarray) -> None:
    ctx = trusted(actor="op", tenant="acme", purpose="door")
    gov.record_consent("eileen", ["door"], "form-17", ctx)
    gov.create_collection("staff", ctx)
    data = encode(astronaut)
    before = len(gov.ledger_entries(ctx))
    gov.detect(data, ctx)
    gov.compare(data, data, ctx)
    gov.enroll("staff", "eileen", [data], ctx)
    gov.search("staff", data, ctx)
    entries = gov.ledger_entries(ctx)[before:]
    assert [e.fields["operation"] for e in entries] == ["detect", "compare", "enroll", "search"]
    digest = hashlib.sha256(data).hexdigest()
    assert all(digest in e.fields["input_sha256"] for e in entries)
    search = entries[-1].fields
    assert search["model_id"] == "fast" and search["model_version"] and search["threshold"] > 0
    assert search["result"]["candidates"][0]["subject"] == "eileen"
    assert search["actor"] == "op" and search["purpose"] == "door" and search["policy_version"] == "builtin-1"


def test_consent_required_and_withdrawal_erases(gov: Regard, astronaut: np.ndarray) -> None:
    ctx = trusted(actor="op", tenant="acme", purpose="door")
    gov.create_collection("staff", ctx)
    with pytest.raises(PolicyDeniedError) as info:
        gov.enroll("staff", "eileen", [astronaut], ctx)
    assert info.value.rule_id == "GOV-CONSENT-REQUIRED"
    gov.record_consent("eileen", ["door"], "signed form #17", ctx, expires_at=utcnow() + timedelta(days=365))
    face = gov.enroll("staff", "eileen", [astronaut, np.ascontiguousarray(astronaut[:, ::-1])], ctx).indexed
    assert len(face) == 2
    receipt = gov.withdraw_consent("eileen", ctx)
    assert receipt.consents_ended == 1 and sorted(receipt.face_ids) == sorted(f.face_id for f in face)
    assert receipt.thumbnails == 2 and receipt.index_entries == 2 and receipt.verified_absent
    entry = next(e for e in gov.ledger_entries(ctx) if e.seq == receipt.ledger_seq)
    assert entry.entry_hash == receipt.ledger_hash and entry.fields["operation"] == "erase"
    assert gov.search("staff", astronaut, ctx).results[0].matches == []
    assert gov.list_subjects("staff", ctx).total == 0
    with pytest.raises(PolicyDeniedError):  # withdrawn consent no longer covers enrollment
        gov.enroll("staff", "eileen", [astronaut], ctx)


def test_expired_consent(gov: Regard, astronaut: np.ndarray) -> None:
    ctx = trusted(tenant="acme", purpose="door")
    gov.create_collection("staff", ctx)
    gov.record_consent(
        "eileen", ["door"], "form", ctx, given_at=utcnow() - timedelta(days=10), expires_at=utcnow() - timedelta(days=1)
    )
    with pytest.raises(PolicyDeniedError, match="consent"):
        gov.enroll("staff", "eileen", [astronaut], ctx)


def test_erasure_request(gov: Regard, astronaut: np.ndarray) -> None:
    ctx = trusted(tenant="acme", purpose="door")
    gov.record_consent("eileen", ["door"], "form", ctx)
    gov.create_collection("a", ctx)
    gov.create_collection("b", ctx)
    gov.enroll("a", "eileen", [astronaut], ctx)
    gov.enroll("b", "eileen", [astronaut], ctx)
    receipt = gov.erase_subject("eileen", ctx)
    assert receipt.collections == ["a", "b"] and len(receipt.face_ids) == 2 and receipt.verified_absent
    assert gov._parts.store.subject_holdings("acme", "eileen") == {}
    assert gov._parts.governance.erasures("acme")[0]["removed"] == receipt.removed


def test_retention_purge(gov: Regard, astronaut: np.ndarray) -> None:
    ctx = trusted(tenant="acme", purpose="door")
    gov.record_consent("eileen", ["door"], "form", ctx)
    gov.create_collection("staff", ctx)
    gov.enroll("staff", "eileen", [astronaut], ctx)
    assert gov.search("staff", astronaut, ctx).results[0].matches  # index is warm
    assert gov.purge(ctx, now=utcnow() + timedelta(days=29)).templates == 0
    report = gov.purge(ctx, now=utcnow() + timedelta(days=31))
    assert report.templates == 1 and report.by_tenant == {"acme": 1}
    assert gov.search("staff", astronaut, ctx).results[0].matches == []
    assert gov.list_subjects("staff", ctx).total == 0
    assert ledger_ops(gov)[-2][0] == "purge"


def test_two_reviewers_release_a_consequential_match(gov: Regard, astronaut: np.ndarray) -> None:
    admin = trusted(actor="alice", tenant="acme", purpose="door")
    gov.declare_purpose("vip", admin, **consequential_purpose_args())  # type: ignore[arg-type]
    op = person(gov, "op", ["operator"], "acme", "vip")
    r1 = person(gov, "rev1", ["reviewer"], "acme", "vip")
    r2 = person(gov, "rev2", ["reviewer"], "acme", "vip")
    gov.create_collection("members", op)
    gov.enroll("members", "eileen", [astronaut], op)
    held = gov.search("members", np.ascontiguousarray(astronaut[:, ::-1]), op)
    assert held.review_case and held.results[0].matches == []
    assert held.threshold >= gov.model("fast").spec.thresholds["1e-05"] - 1e-9  # policy's min score 99
    assert held.fmr == pytest.approx(1e-5, rel=0.05)  # and the result says the false match rate it now stands at
    case = gov.review_case(held.review_case, r1)
    assert case.status == "pending" and case.candidates[0]["subject"] == "eileen"
    assert case.probe_thumbnail and case.model_error_rates["fmr_at_threshold"] <= 1e-5
    assert "lfw_tar_at_fmr_1e-3" in case.model_error_rates
    with pytest.raises(PermissionDeniedError, match="ran the search"):
        gov.review_candidate(case.id, "eileen", "confirm", "looks alike", person(gov, "op", ["reviewer"], "acme"))
    with pytest.raises(PermissionDeniedError):
        gov.review_candidate(case.id, "eileen", "confirm", "me", op)
    assert gov.review_candidate(case.id, "eileen", "confirm", "same person: scar, ears", r1) == "pending"
    with pytest.raises(ConflictError, match="someone else"):
        gov.review_candidate(case.id, "eileen", "confirm", "again", r1)
    assert gov.review_result(case.id, op).released == []
    assert gov.review_candidate(case.id, "eileen", "confirm", "agree", r2) == "released"
    assert [c["subject"] for c in gov.review_result(case.id, op).released] == ["eileen"]
    with pytest.raises(ConflictError):
        gov.review_candidate(case.id, "eileen", "reject", "late", r2)
    reviews = [e.fields["review"] for e in gov.ledger_entries(admin) if e.fields["operation"] == "review"]
    assert [r["action"] for r in reviews] == ["confirm", "confirm"]
    # a rejected candidate is never released
    second = gov.search("members", astronaut, op)
    assert second.review_case is not None
    assert gov.review_candidate(second.review_case, "eileen", "reject", "different person", r1) == "rejected"
    assert gov.review_result(second.review_case, op).released == []


def test_scale_application_flow(gov: Regard, astronaut: np.ndarray) -> None:
    admin = trusted(actor="alice", tenant="acme", purpose="open")
    gov.declare_purpose(
        "open",
        admin,
        category="photo-organisation",
        legal_basis="legitimate-interests",
        data_subjects="club photos",
        retention_days=30,
        max_collection_subjects=1000,
        consequential=False,
    )
    gov.apply_policy("version: small-1\nscale_limits:\n  - id: SCALE-TINY\n    max_subjects: 1\n", admin)
    gov.create_collection("club", admin)
    gov.enroll("club", "a", [astronaut], admin)
    with pytest.raises(PolicyDeniedError) as info:
        gov.enroll("club", "b", [astronaut], admin)
    assert info.value.rule_id == "SCALE-TINY" and info.value.policy_version == "small-1"
    app = gov.submit_application("scale", "open", {"max_subjects": 5}, "club of five", admin)
    with pytest.raises(PermissionDeniedError):  # reviewers decide, and never their own application
        gov.decide_application(app.id, True, "ok", trusted(actor="alice", tenant="acme"))
    reviewer = person(gov, "rita", ["reviewer"], "acme")
    decided = gov.decide_application(app.id, True, "small club, consented photos", reviewer, valid_days=30)
    assert decided.status == "approved" and decided.expires_at is not None
    gov.enroll("club", "b", [astronaut], admin)
    with pytest.raises(ConflictError):
        gov.decide_application(app.id, False, "changed my mind", reviewer)


def test_moratorium_and_explain(gov: Regard, astronaut: np.ndarray) -> None:
    admin = trusted(actor="alice", tenant="acme", purpose="door")
    today = utcnow().date()
    gov.apply_policy(
        f"version: m-1\nmoratoria:\n  - id: MORATORIUM-DOORS\n    categories: [access-control]\n"
        f"    start: {today - timedelta(days=1)}\n    expires: {today + timedelta(days=365)}\n"
        f"    reason: pause while the union reviews it\n",
        admin,
    )
    entries = len(gov.ledger_entries(admin))
    explained = gov.explain(admin, Operation.SEARCH)
    assert explained.effect == "deny" and explained.rule_id == "MORATORIUM-DOORS"
    assert len(gov.ledger_entries(admin)) == entries  # a dry run records nothing
    with pytest.raises(PolicyDeniedError, match="union"):
        gov.compare(astronaut, astronaut, admin)
    assert gov.policy_history(admin)[-1].version == "m-1"
    assert "MORATORIUM-DOORS" in gov.policy_text(admin)


def test_prohibited_purpose_declaration_is_recorded(gov: Regard) -> None:
    with pytest.raises(PolicyDeniedError, match="emotion"):
        gov.declare_purpose(
            "mood",
            ADMIN,
            category="emotion-recognition",
            legal_basis="consent",
            data_subjects="shoppers",
            retention_days=1,
            max_collection_subjects=10,
            consequential=False,
        )
    assert ledger_ops(gov)[-1] == ("declare-purpose", "deny", "PROHIBIT-EMOTION-RECOGNITION")


def test_scraped_provenance_is_refused(gov: Regard, astronaut: np.ndarray) -> None:
    ctx = trusted(tenant="acme", purpose="door")
    gov.create_collection("staff", ctx)
    with pytest.raises(PolicyDeniedError, match="scraping"):
        gov.enroll("staff", "x", [astronaut], ctx, provenance="scraped")


def test_accountability_report(gov: Regard, astronaut: np.ndarray, tmp_path: Path) -> None:
    from regard.governance.report import render_html, render_markdown

    ctx = trusted(tenant="acme", purpose="door")
    gov.record_consent("eileen", ["door"], "form", ctx)
    gov.create_collection("staff", ctx)
    gov.enroll("staff", "eileen", [astronaut], ctx)
    gov.search("staff", astronaut, ctx)
    with pytest.raises(PolicyDeniedError):
        gov.detect(astronaut, trusted(tenant="acme", purpose="nope"))
    gov.erase_subject("eileen", ctx)
    report = gov.accountability_report(ctx)
    assert report.calls_by_operation["door"]["search"] == 1
    assert report.denials_by_rule == {"GOV-PURPOSE-UNDECLARED": 1}
    assert report.consent["records"] == 1 and report.erasures == {"request": 1}
    assert report.models[0]["model"] == "fast" and report.ledger["intact"]
    markdown = render_markdown(report)
    assert "## Purposes declared" in markdown and "GOV-PURPOSE-UNDECLARED" in markdown
    page = render_html(report)
    assert page.startswith("<!doctype html>") and "<table>" in page and "http" not in page


def test_purge_scheduler(gov: Regard, astronaut: np.ndarray) -> None:
    import time as _time

    from regard.scheduler import PurgeScheduler

    ctx = trusted(tenant="acme", purpose="door")
    gov.record_consent("eileen", ["door"], "form", ctx)
    gov.create_collection("staff", ctx)
    gov.enroll("staff", "eileen", [astronaut], ctx)
    from regard.store.tables import FaceRow

    with gov._parts.governance.tx() as s:  # make the template due now
        for row in s.query(FaceRow):
            row.delete_by = utcnow() - timedelta(seconds=1)
    scheduler = PurgeScheduler(gov, interval_s=0.05, ctx=LOCAL)
    scheduler.start()
    deadline = _time.time() + 10
    while not any(r.templates for r in scheduler.runs) and _time.time() < deadline:
        _time.sleep(0.05)
    scheduler.stop()
    assert sum(r.templates for r in scheduler.runs) == 1
    assert gov.describe_collection("staff", ctx).face_count == 0


# The fairness gate (activation on trusted reports, FAIRNESS-GATE required by policy): test_fairness_provenance.py


def test_watchlist_search_of_a_crowd_is_refused(gov: Regard, grid4: np.ndarray, astronaut: np.ndarray) -> None:
    admin = trusted(actor="alice", tenant="acme", purpose="leads", case_reference="case-42")
    gov.declare_purpose("leads", admin, **watchlist_purpose_args())  # type: ignore[arg-type]
    app = gov.submit_application("category", "leads", {}, "detective unit, documented cases", admin)
    gov.decide_application(app.id, True, "case process reviewed", person(gov, "rita", ["reviewer"], "acme"))
    gov.create_collection("persons", admin)
    gov.enroll("persons", "p1", [astronaut], admin)
    assert gov.search("persons", astronaut, admin).review_case  # one face, documented target: held for review
    with pytest.raises(PolicyDeniedError) as info:
        gov.search("persons", grid4, admin, all_faces=True)
    assert info.value.rule_id == "PROHIBIT-UNTARGETED-SURVEILLANCE"
    with pytest.raises(PolicyDeniedError, match="documented target"):
        gov.search("persons", astronaut, trusted(actor="alice", tenant="acme", purpose="leads"))
    with pytest.raises(PolicyDeniedError, match="stream"):
        gov.search("persons", astronaut, admin, source="stream")
