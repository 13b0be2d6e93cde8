"""Policies as versioned YAML documents, and the engine that decides every call on them.

Every decision is allow, deny or review, cites the rule that made it and the
policy version in force, and carries the trace of the rules it went through
(the ``explain`` view).  Built-in prohibitions are checked first and cannot be
lifted by any document.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any, Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from regard.errors import InvalidInputError
from regard.governance import prohibitions as builtin
from regard.governance.purposes import WATCHLIST_CATEGORIES, Category, Purpose
from regard.governance.roles import Operation

Effect = Literal["allow", "deny", "review"]


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Moratorium(_Strict):
    id: str
    categories: list[Category]
    operations: list[Operation] = Field(default_factory=lambda: [Operation.ENROLL, Operation.SEARCH, Operation.COMPARE])
    start: date
    expires: date
    reason: str


class ScaleLimit(_Strict):
    id: str
    max_subjects: int | None = Field(None, ge=1)  # per collection
    max_searches_per_day: int | None = Field(None, ge=1)  # per tenant


class RestrictedCategory(_Strict):
    id: str
    categories: list[Category]
    reason: str = "this category needs an approved application"


class Consequential(_Strict):
    id: str = "CONSEQUENTIAL-REVIEW"
    min_score: float = Field(99.0, ge=0, le=100)
    human_review: bool = True
    reviewers: int = Field(2, ge=1, le=5)


class FairnessGate(_Strict):
    """Limits an audit report must meet before a model and threshold can be activated.

    The limits are those of ``regard.fairness.gate.FairnessPolicy``: absent
    (no ``limits`` key), the gate's defaults apply; given, only the limits
    listed are checked, and ``null`` or ``off`` switches one off explicitly.
    With ``required`` the tenant's biometric calls are also refused for any
    model it has not activated.
    """

    id: str = "FAIRNESS-GATE"
    required: bool = False
    limits: dict[str, float | int | bool | str | None] | None = None


class PolicyDocument(_Strict):
    version: str
    moratoria: list[Moratorium] = Field(default_factory=list)
    scale_limits: list[ScaleLimit] = Field(default_factory=list)
    restricted_categories: list[RestrictedCategory] = Field(default_factory=list)
    consequential: Consequential = Field(default_factory=lambda: Consequential.model_validate({}))
    fairness_gate: FairnessGate = Field(default_factory=lambda: FairnessGate.model_validate({}))


DEFAULT_POLICY_YAML = """\
# Regard's default policy, in force until a tenant applies its own.
version: builtin-1
scale_limits:
  - id: SCALE-COLLECTION-SUBJECTS
    max_subjects: 10000
  - id: SCALE-SEARCHES-PER-DAY
    max_searches_per_day: 10000
restricted_categories:
  - id: RESTRICTED-IDENTIFICATION
    categories: [investigative-lead, public-safety-identification]
    reason: identification for investigations or public safety needs an approved application
consequential:
  id: CONSEQUENTIAL-REVIEW
  min_score: 99
  human_review: true
  reviewers: 2
"""


def parse_policy(text: str) -> PolicyDocument:
    """Parse and validate a YAML policy; errors name the offending field."""
    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        raise InvalidInputError(f"policy is not valid YAML: {exc}") from exc
    if not isinstance(data, dict):
        raise InvalidInputError("a policy is a YAML mapping with at least 'version'")
    try:
        return PolicyDocument.model_validate(data)
    except ValidationError as exc:
        raise InvalidInputError(f"invalid policy: {exc}") from exc


def policy_sha256(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()


@dataclass(frozen=True)
class Approval:
    """An approved, unexpired application."""

    kind: Literal["scale", "category"]
    purpose: str
    requested: dict[str, Any]


@dataclass(frozen=True)
class PolicyRequest:
    operation: Operation
    purpose_name: str
    purpose: Purpose | None
    now: datetime
    collection: str | None = None
    collection_purpose: str | None = None
    subjects_after: int | None = None  # enroll: collection size if it goes ahead
    searches_today: int = 0  # search: the tenant's searches today, this one included
    probe_faces: int = 1
    source: str = "upload"
    provenance: str = "upload"
    case_reference: str | None = None
    model_id: str | None = None  # the embedder the call would use
    model_activated: bool = False  # whether the tenant activated it through the fairness gate


@dataclass(frozen=True)
class PolicyDecision:
    effect: Effect
    rule_id: str
    reason: str
    policy_version: str
    min_score: float | None = None
    reviewers: int = 0
    trace: tuple[tuple[str, str], ...] = field(default=())

    @property
    def allowed(self) -> bool:
        return self.effect != "deny"


class PolicyEngine:
    """Decides requests against one policy document plus the built-in prohibitions."""

    def __init__(self, document: PolicyDocument, approvals: tuple[Approval, ...] = ()) -> None:
        self.document = document
        self.approvals = approvals

    def decide(self, request: PolicyRequest) -> PolicyDecision:
        trace: list[tuple[str, str]] = []
        checks = (self._prohibitions, self._purpose, self._moratoria, self._restricted, self._scale, self._fairness)
        for check in checks:
            verdict = check(request, trace)
            if verdict is not None:
                rule_id, reason = verdict
                trace.append((rule_id, "deny"))
                return PolicyDecision("deny", rule_id, reason, self.document.version, trace=tuple(trace))
        return self._consequential(request, trace)

    # Each check returns (rule id, reason) to deny, or None to pass, and notes what it looked at.
    def _prohibitions(self, req: PolicyRequest, trace: list[tuple[str, str]]) -> tuple[str, str] | None:
        if req.operation is Operation.ENROLL and req.provenance in builtin.SCRAPED_PROVENANCE:
            return builtin.PROHIBIT_SCRAPING, "images gathered by scraping cannot be enrolled"
        if req.operation is Operation.ENROLL and req.provenance not in builtin.ALLOWED_PROVENANCE:
            return builtin.PROHIBIT_SCRAPING, f"unknown image provenance '{req.provenance}'"
        if req.purpose is not None and req.purpose.category in builtin.PROHIBITED_CATEGORIES:
            return builtin.PROHIBITED_CATEGORIES[req.purpose.category]
        if (
            req.operation is Operation.SEARCH
            and req.purpose is not None
            and req.purpose.category in WATCHLIST_CATEGORIES
        ):
            if req.source in builtin.UNTARGETED_SOURCES or req.probe_faces > 1:
                return builtin.PROHIBIT_SURVEILLANCE, (
                    f"{req.source} search of {req.probe_faces} face(s) against a watchlist is untargeted surveillance"
                )
            if not req.case_reference:
                return builtin.PROHIBIT_SURVEILLANCE, "a watchlist search needs an individual, documented target"
        trace.append(("BUILTIN-PROHIBITIONS", "pass"))
        return None

    def _purpose(self, req: PolicyRequest, trace: list[tuple[str, str]]) -> tuple[str, str] | None:
        if req.purpose is None:
            return "GOV-PURPOSE-UNDECLARED", f"purpose '{req.purpose_name}' is not declared by this tenant"
        if req.collection_purpose is not None and req.collection_purpose != req.purpose.name:
            return "GOV-PURPOSE-MISMATCH", (
                f"collection '{req.collection}' serves purpose '{req.collection_purpose}', not '{req.purpose.name}'"
            )
        if req.subjects_after is not None and req.subjects_after > req.purpose.max_collection_subjects:
            return "GOV-PURPOSE-MAX-SUBJECTS", (
                f"purpose '{req.purpose.name}' declares at most {req.purpose.max_collection_subjects} subjects"
            )
        trace.append(("GOV-PURPOSE", "pass"))
        return None

    def _moratoria(self, req: PolicyRequest, trace: list[tuple[str, str]]) -> tuple[str, str] | None:
        assert req.purpose is not None
        today = req.now.date()
        for rule in self.document.moratoria:
            applies = req.purpose.category in rule.categories and req.operation in rule.operations
            if applies and rule.start <= today < rule.expires:
                return rule.id, f"moratorium until {rule.expires.isoformat()}: {rule.reason}"
            trace.append((rule.id, "pass" if not applies else "expired or not started"))
        return None

    def _approved(self, kind: str, purpose: str) -> list[Approval]:
        return [a for a in self.approvals if a.kind == kind and a.purpose == purpose]

    def _restricted(self, req: PolicyRequest, trace: list[tuple[str, str]]) -> tuple[str, str] | None:
        assert req.purpose is not None
        for rule in self.document.restricted_categories:
            if req.purpose.category in rule.categories and not self._approved("category", req.purpose.name):
                return rule.id, rule.reason
            trace.append((rule.id, "pass"))
        return None

    def _scale(self, req: PolicyRequest, trace: list[tuple[str, str]]) -> tuple[str, str] | None:
        assert req.purpose is not None
        approved = self._approved("scale", req.purpose.name)
        for rule in self.document.scale_limits:
            if rule.max_subjects and req.subjects_after is not None and req.subjects_after > rule.max_subjects:
                granted = max((int(a.requested.get("max_subjects", 0)) for a in approved), default=0)
                if req.subjects_after > granted:
                    return rule.id, (
                        f"a collection above {rule.max_subjects} subjects needs an approved application"
                        f" (approved up to {granted})"
                    )
            if (
                rule.max_searches_per_day
                and req.operation is Operation.SEARCH
                and req.searches_today > rule.max_searches_per_day
            ):
                granted = max((int(a.requested.get("max_searches_per_day", 0)) for a in approved), default=0)
                if req.searches_today > granted:
                    return rule.id, (
                        f"more than {rule.max_searches_per_day} searches a day needs an approved application"
                        f" (approved up to {granted})"
                    )
            trace.append((rule.id, "pass"))
        return None

    def _fairness(self, req: PolicyRequest, trace: list[tuple[str, str]]) -> tuple[str, str] | None:
        gate = self.document.fairness_gate
        if gate.required and req.model_id is not None and not req.model_activated:
            return gate.id, (
                f"model '{req.model_id}' has not been activated with a passing fairness audit"
                " (regard models activate MODEL --report REPORT.json)"
            )
        trace.append((gate.id, "pass" if gate.required else "not required"))
        return None

    def _consequential(self, req: PolicyRequest, trace: list[tuple[str, str]]) -> PolicyDecision:
        assert req.purpose is not None
        rule = self.document.consequential
        version = self.document.version
        if req.purpose.consequential and req.operation in (Operation.SEARCH, Operation.COMPARE):
            if req.operation is Operation.SEARCH and rule.human_review:
                trace.append((rule.id, "review"))
                reason = f"consequential purpose: matches need {rule.reviewers} reviewer confirmations"
                return PolicyDecision("review", rule.id, reason, version, rule.min_score, rule.reviewers, tuple(trace))
            trace.append((rule.id, "allow with minimum score"))
            reason = f"consequential purpose: minimum score {rule.min_score:g}"
            return PolicyDecision("allow", rule.id, reason, version, rule.min_score, 0, tuple(trace))
        trace.append(("DEFAULT-ALLOW", "allow"))
        return PolicyDecision("allow", "DEFAULT-ALLOW", "no rule restricts this call", version, trace=tuple(trace))
