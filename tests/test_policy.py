"""The policy engine, rule by rule, without models or a database."""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime

import pytest

from regard.errors import InvalidInputError, PolicyDeniedError
from regard.governance.policy import DEFAULT_POLICY_YAML, Approval, PolicyEngine, PolicyRequest, parse_policy
from regard.governance.purposes import Category, LegalBasis, Purpose, validate
from regard.governance.roles import Operation

NOW = datetime(2026, 11, 27, 12, 0)

PHOTOS = Purpose("family-photos", Category.PHOTO_ORGANISATION, LegalBasis.CONSENT, "family members", 365, 500, False)
POLICE = Purpose(
    "police-id", Category.PUBLIC_SAFETY_IDENTIFICATION, LegalBasis.PUBLIC_TASK, "suspects", 365, 50000, True
)
LEADS = Purpose("leads", Category.INVESTIGATIVE_LEAD, LegalBasis.PUBLIC_TASK, "persons of interest", 90, 1000, True)

POLICY = """
version: "2026-11-27.1"
moratoria:
  - id: MORATORIUM-POLICE-ID
    categories: [public-safety-identification]
    start: 2026-06-01
    expires: 2027-06-01
    reason: one-year moratorium on police identification
scale_limits:
  - id: SCALE-SUBJECTS
    max_subjects: 100
  - id: SCALE-SEARCHES
    max_searches_per_day: 10
restricted_categories:
  - id: RESTRICTED-LEADS
    categories: [investigative-lead]
consequential:
  id: CONSEQUENTIAL
  min_score: 99
  reviewers: 2
"""


def request(purpose: Purpose | None, operation: Operation = Operation.SEARCH, **kw: object) -> PolicyRequest:
    return PolicyRequest(
        operation=operation, purpose_name=purpose.name if purpose else "nope", purpose=purpose, now=NOW, **kw
    )  # type: ignore[arg-type]


def engine(*approvals: Approval) -> PolicyEngine:
    return PolicyEngine(parse_policy(POLICY), approvals)


def test_default_policy_parses() -> None:
    doc = parse_policy(DEFAULT_POLICY_YAML)
    assert doc.version == "builtin-1" and doc.consequential.reviewers == 2


def test_policy_validation_errors() -> None:
    with pytest.raises(InvalidInputError, match="YAML"):
        parse_policy("version: [unclosed")
    with pytest.raises(InvalidInputError, match="invalid policy"):
        parse_policy("version: x\nmoratoria: [{id: M}]")
    with pytest.raises(InvalidInputError, match="invalid policy"):
        parse_policy("version: x\nunknown_section: 1")
    with pytest.raises(InvalidInputError, match="invalid policy"):
        parse_policy("version: x\nrestricted_categories: [{id: R, categories: [palmistry]}]")


def test_undeclared_purpose_is_denied() -> None:
    decision = engine().decide(request(None))
    assert decision.effect == "deny" and decision.rule_id == "GOV-PURPOSE-UNDECLARED"
    assert decision.policy_version == "2026-11-27.1"


def test_allow_cites_default_rule_and_trace() -> None:
    decision = engine().decide(request(PHOTOS, collection="fam", collection_purpose="family-photos"))
    assert decision.effect == "allow" and decision.rule_id == "DEFAULT-ALLOW"
    assert ("BUILTIN-PROHIBITIONS", "pass") in decision.trace


def test_collection_of_another_purpose() -> None:
    decision = engine().decide(request(PHOTOS, collection="x", collection_purpose="door-access"))
    assert decision.rule_id == "GOV-PURPOSE-MISMATCH"


def test_moratorium_with_expiry() -> None:
    approved = Approval("category", "police-id", {})
    decision = engine(approved).decide(request(POLICE, case_reference="case-1"))
    assert decision.effect == "deny" and decision.rule_id == "MORATORIUM-POLICE-ID"
    assert "2027-06-01" in decision.reason
    after = engine(approved).decide(replace(request(POLICE, case_reference="case-1"), now=datetime(2027, 6, 2)))
    assert after.rule_id != "MORATORIUM-POLICE-ID"


def test_restricted_category_needs_approval() -> None:
    denied = engine().decide(request(LEADS, case_reference="case-7"))
    assert denied.rule_id == "RESTRICTED-LEADS"
    allowed = engine(Approval("category", "leads", {})).decide(request(LEADS, case_reference="case-7"))
    assert allowed.effect == "review"


@pytest.mark.parametrize(
    ("kw", "why"),
    [
        ({"source": "stream", "case_reference": "c"}, "stream"),
        ({"source": "bulk", "case_reference": "c"}, "bulk"),
        ({"probe_faces": 12, "case_reference": "c"}, "12 face"),
        ({}, "documented target"),
    ],
)
def test_untargeted_surveillance_is_prohibited(kw: dict[str, object], why: str) -> None:
    decision = engine(Approval("category", "leads", {})).decide(request(LEADS, **kw))
    assert decision.rule_id == "PROHIBIT-UNTARGETED-SURVEILLANCE" and why in decision.reason


def test_photo_libraries_may_search_every_face() -> None:
    assert engine().decide(request(PHOTOS, probe_faces=12)).effect == "allow"


def test_scraped_images_are_prohibited() -> None:
    decision = engine().decide(request(PHOTOS, Operation.ENROLL, provenance="scraped"))
    assert decision.rule_id == "PROHIBIT-SCRAPED-DATABASE"
    assert engine().decide(request(PHOTOS, Operation.ENROLL, provenance="camera")).effect == "allow"


@pytest.mark.parametrize(
    "category",
    [
        Category.MASS_SURVEILLANCE,
        Category.BIOMETRIC_CATEGORISATION,
        Category.EMOTION_RECOGNITION,
        Category.SCRAPED_DATABASE,
    ],
)
def test_prohibited_categories_cannot_be_declared(category: Category) -> None:
    with pytest.raises(PolicyDeniedError) as info:
        validate(replace(PHOTOS, category=category))
    assert info.value.rule_id.startswith("PROHIBIT-") and info.value.policy_version == "built-in"
    # and even a purpose smuggled past declaration is denied at call time
    assert engine().decide(request(replace(PHOTOS, category=category))).rule_id.startswith("PROHIBIT-")


def test_retention_is_capped_at_three_years() -> None:
    with pytest.raises(InvalidInputError, match="3 years"):
        validate(replace(PHOTOS, retention_days=4 * 365))


def test_purpose_max_subjects() -> None:
    decision = engine().decide(request(PHOTOS, Operation.ENROLL, subjects_after=501))
    assert decision.rule_id == "GOV-PURPOSE-MAX-SUBJECTS"


def test_scale_limits_and_approvals() -> None:
    big = replace(PHOTOS, max_collection_subjects=10_000)
    assert engine().decide(request(big, Operation.ENROLL, subjects_after=101)).rule_id == "SCALE-SUBJECTS"
    small_grant = Approval("scale", "family-photos", {"max_subjects": 150})
    assert engine(small_grant).decide(request(big, Operation.ENROLL, subjects_after=120)).effect == "allow"
    assert engine(small_grant).decide(request(big, Operation.ENROLL, subjects_after=151)).rule_id == "SCALE-SUBJECTS"
    assert engine().decide(request(big, searches_today=11)).rule_id == "SCALE-SEARCHES"
    assert (
        engine(Approval("scale", "family-photos", {"max_searches_per_day": 50}))
        .decide(request(big, searches_today=11))
        .effect
        == "allow"
    )


def test_consequential_purposes_go_to_review() -> None:
    approved = Approval("category", "leads", {})
    decision = engine(approved).decide(request(LEADS, case_reference="case-9"))
    assert (decision.effect, decision.min_score, decision.reviewers) == ("review", 99, 2)
    compare = engine(approved).decide(request(LEADS, Operation.COMPARE, case_reference="case-9"))
    assert compare.effect == "allow" and compare.min_score == 99
