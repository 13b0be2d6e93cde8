"""Human review against insiders: a policy that lowers the floor, one person with two keys, a requester
reviewing their own search, the local operator changing $USER, an auditor reading held candidates.

Each test is the attempt of someone with that access to get round the rule.
"""

from __future__ import annotations

import hashlib
from pathlib import Path

import numpy as np
import pytest
from conftest import LOCAL, consequential_purpose_args, person
from typer.testing import CliRunner

from regard import CallContext, Regard
from regard.cli.app import app
from regard.errors import ConflictError, InvalidInputError, PermissionDeniedError
from regard.governance.ledger import canonical

TENANT = "acme"


@pytest.fixture
def svc(tmp_path: Path, model_cache: Path, astronaut: np.ndarray):  # type: ignore[no-untyped-def]
    with Regard(data_dir=tmp_path / "data", model_cache_dir=model_cache, onnx_threads=1) as service:
        service.create_tenant(TENANT, LOCAL)
        admin = CallContext.local(TENANT, "vip")
        service.declare_purpose("vip", admin, **consequential_purpose_args())  # type: ignore[arg-type]
        service.create_collection("members", admin)
        service.enroll("members", "eileen", [astronaut], admin)
        yield service


def held_case(svc: Regard, probe: np.ndarray, requester: CallContext) -> str:
    result = svc.search("members", probe, requester)
    assert result.review_case is not None and result.results[0].matches == []
    return result.review_case


def test_policy_cannot_lower_the_two_reviewer_floor(svc: Regard, astronaut: np.ndarray) -> None:
    admin = CallContext.local(TENANT, "vip")
    for weaker in ("reviewers: 1", "human_review: false"):
        with pytest.raises(InvalidInputError, match="two"):
            svc.apply_policy(f"version: weak-{weaker[:5]}\nconsequential:\n  {weaker}\n", admin)
    # A document stored by an older Regard (or written into the database) is floored when it is read.
    from regard.store.governance_tables import PolicyRow

    with svc._parts.governance.tx() as s:
        text = "version: old-1\nconsequential:\n  human_review: false\n  reviewers: 1\n"
        s.add(PolicyRow(tenant=TENANT, version="old-1", document=text, sha256="0" * 64, applied_by="local"))
    explained = svc.explain(admin, "search", "members")  # type: ignore[arg-type]
    assert explained.effect == "review" and explained.reviewers == 2
    requester = person(svc, "olga", ["operator"], TENANT, "vip")
    case = held_case(svc, astronaut, requester)
    assert svc.review_case(case, person(svc, "rita", ["reviewer"], TENANT)).reviewers_required == 2
    assert svc.review_candidate(case, "eileen", "confirm", "same", person(svc, "rita", ["reviewer"], TENANT)) == (
        "pending"
    )


def test_a_case_keeps_the_requirement_it_was_opened_with(svc: Regard, astronaut: np.ndarray) -> None:
    admin = CallContext.local(TENANT, "vip")
    svc.apply_policy("version: strict-1\nconsequential:\n  reviewers: 3\n", admin)
    requester = person(svc, "olga", ["operator"], TENANT, "vip")
    case = held_case(svc, astronaut, requester)
    svc.apply_policy("version: relaxed-2\nconsequential:\n  reviewers: 2\n", admin)  # raised floor lowered again
    reviewers = [person(svc, name, ["reviewer"], TENANT) for name in ("rita", "sam", "tess")]
    assert svc.review_case(case, reviewers[0]).reviewers_required == 3
    assert svc.review_candidate(case, "eileen", "confirm", "ears", reviewers[0]) == "pending"
    assert svc.review_candidate(case, "eileen", "confirm", "scar", reviewers[1]) == "pending"
    assert svc.review_result(case, requester).released == []
    assert svc.review_candidate(case, "eileen", "confirm", "agree", reviewers[2]) == "released"
    # A case opened under the relaxed policy needs two.
    second = held_case(svc, astronaut, requester)
    assert svc.review_case(second, reviewers[0]).reviewers_required == 2


def test_reviewers_are_distinct_authenticated_people(svc: Regard, astronaut: np.ndarray) -> None:
    requester = person(svc, "olga", ["operator"], TENANT, "vip")
    case = held_case(svc, astronaut, requester)
    # The requester's other key, with the reviewer role, is still the requester.
    with pytest.raises(PermissionDeniedError, match="ran the search"):
        svc.review_candidate(case, "eileen", "confirm", "mine", person(svc, "Olga ", ["reviewer"], TENANT))
    # Neither the local operator nor a caller who merely names themselves is an authenticated person.
    for anonymous in (CallContext.local(TENANT), CallContext("carol", TENANT, roles=frozenset({"reviewer"}))):
        with pytest.raises(PermissionDeniedError, match="own API key"):
            svc.review_candidate(case, "eileen", "confirm", "trust me", anonymous)
    forged = CallContext("dave", TENANT, roles=frozenset({"reviewer"}), key_id="000000000000")
    with pytest.raises(PermissionDeniedError, match="own API key"):
        svc.review_candidate(case, "eileen", "confirm", "forged key id", forged)
    # One person holding two keys counts once, however their name is spelled on each key.
    bob_1, bob_2 = person(svc, "bob", ["reviewer"], TENANT), person(svc, " BOB", ["reviewer"], TENANT)
    assert bob_1.key_id != bob_2.key_id
    assert svc.review_candidate(case, "eileen", "confirm", "same ears", bob_1) == "pending"
    with pytest.raises(ConflictError, match="someone else"):
        svc.review_candidate(case, "eileen", "confirm", "still same", bob_2)
    # A revoked key no longer speaks for its owner.
    rita = person(svc, "rita", ["reviewer"], TENANT)
    assert rita.key_id is not None
    svc.revoke_api_key(rita.key_id, CallContext.local(TENANT))
    with pytest.raises(PermissionDeniedError, match="own API key"):
        svc.review_candidate(case, "eileen", "confirm", "agree", rita)
    assert svc.review_result(case, requester).released == []
    assert svc.review_candidate(case, "eileen", "confirm", "agree", person(svc, "sam", ["reviewer"], TENANT)) == (
        "released"
    )


def test_applications_are_decided_by_another_authenticated_person(svc: Regard) -> None:
    submitter = person(svc, "olga", ["admin"], TENANT)
    application = svc.submit_application("scale", "vip", {"max_subjects": 500}, "growing club", submitter)
    with pytest.raises(PermissionDeniedError, match="submitted it"):
        svc.decide_application(application.id, True, "fine", person(svc, "OLGA", ["reviewer"], TENANT))
    for anonymous in (CallContext.local(TENANT), CallContext("carol", TENANT, roles=frozenset({"reviewer"}))):
        with pytest.raises(PermissionDeniedError, match="own API key"):
            svc.decide_application(application.id, True, "fine", anonymous)
    decided = svc.decide_application(application.id, True, "fine", person(svc, "rita", ["reviewer"], TENANT))
    assert decided.status == "approved" and decided.decided_by == "rita"


def test_changing_user_does_not_make_the_local_operator_a_reviewer(
    svc: Regard, tmp_path: Path, model_cache: Path, astronaut: np.ndarray
) -> None:
    case = held_case(svc, astronaut, CallContext.local(TENANT, "vip"))
    runner = CliRunner()
    env = {"REGARD_DATA_DIR": str(tmp_path / "data"), "REGARD_MODEL_CACHE_DIR": str(model_cache)}
    for user in ("alice", "bob"):
        result = runner.invoke(
            app,
            ["--tenant", TENANT, "review", "confirm", case, "eileen", "--justification", "same"],
            env={**env, "USER": user, "LOGNAME": user},
        )
        assert result.exit_code == 13 and "own API key" in result.stderr
    assert svc.review_case(case, person(svc, "rita", ["reviewer"], TENANT)).actions == []


def test_held_candidates_stay_out_of_the_ledger_until_release(svc: Regard, astronaut: np.ndarray) -> None:
    auditor = CallContext.local(TENANT)
    face_id = svc.list_faces("members", auditor).items[0].face_id
    requester = person(svc, "olga", ["operator"], TENANT, "vip")
    case = held_case(svc, np.ascontiguousarray(astronaut[:, ::-1]), requester)
    score = svc.review_case(case, person(svc, "rita", ["reviewer"], TENANT)).candidates[0]["score"]

    def ledger_text() -> str:
        return "".join(svc.export_ledger(auditor))

    def search_entries() -> list[dict[str, object]]:
        return [e.fields for e in svc.ledger_entries(auditor) if e.fields["operation"] == "search"]

    before_enrolled = ledger_text().count("eileen")  # the enrollment names the subject; the search must not
    held = search_entries()[-1]["result"]
    assert held["held_for_review"] == case and held["candidates"] == 1  # type: ignore[index]
    assert face_id not in ledger_text() and f'"score":{score}' not in ledger_text()
    svc.review_candidate(case, "eileen", "confirm", "same ears", person(svc, "rita", ["reviewer"], TENANT))
    assert ledger_text().count("eileen") == before_enrolled and face_id not in ledger_text()
    svc.review_candidate(case, "eileen", "confirm", "agree", person(svc, "sam", ["reviewer"], TENANT))
    release = [e.fields for e in svc.ledger_entries(auditor) if e.fields["operation"] == "release"][-1]
    revealed = release["result"]["released"]
    assert [c["subject"] for c in revealed] == ["eileen"] and revealed[0]["face_id"] == face_id
    # Anyone holding the ledger can check that what was released is what was held, without trusting the case.
    digests = held["candidate_digests"]  # type: ignore[index]
    for candidate in revealed:
        nonce = candidate["nonce"]
        body = {k: v for k, v in candidate.items() if k != "nonce"}
        assert hashlib.sha256((nonce + canonical(body)).encode()).hexdigest() in digests
    assert hashlib.sha256(canonical([case, digests]).encode()).hexdigest() == held["held_sha256"]  # type: ignore[index]


def test_the_requester_sees_nothing_held_until_it_is_released(svc: Regard, astronaut: np.ndarray) -> None:
    requester = person(svc, "olga", ["operator", "reviewer"], TENANT, "vip")
    case = held_case(svc, astronaut, requester)
    with pytest.raises(PermissionDeniedError, match="held candidates"):
        svc.review_case(case, requester)
    rita = person(svc, "rita", ["reviewer"], TENANT)
    svc.review_candidate(case, "eileen", "confirm", "same ears", rita)
    early = svc.review_result(case, requester)
    assert early.status == "pending" and early.candidates == [] and early.actions == []
    svc.review_candidate(case, "eileen", "confirm", "agree", person(svc, "sam", ["reviewer"], TENANT))
    released = svc.review_result(case, requester)
    assert [c["subject"] for c in released.candidates] == ["eileen"] and len(released.actions) == 2
