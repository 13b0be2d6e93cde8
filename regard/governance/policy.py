"""Policies as versioned YAML documents, and the engine that decides every call on them.

Every decision is allow, deny or review, cites the rule that made it and the
policy version in force, and carries the trace of the rules it went through
(the ``explain`` view).  Built-in prohibitions are checked first and cannot be
lifted by any document; nor can the two-reviewer floor of consequential searches.

An allowed decision also carries the limits it was decided under (subjects per
collection, searches per day), so the write that follows can check them again
inside its own serialised transaction: a limit decided on a count read earlier
would let concurrent writers race past it.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field, replace
from datetime import date, datetime
from typing import Any, Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from regard.errors import InvalidInputError, PolicyDeniedError
from regard.governance import prohibitions as builtin
from regard.governance.purposes import WATCHLIST_CATEGORIES, Category, Purpose
from regard.governance.roles import Operation

Effect = Literal["allow", "deny", "review"]

# EU AI Act Art. 14(5): a consequential identification is confirmed by at least two natural persons.
REVIEW_FLOOR = 2


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
    """Consequential searches are held for review.

    ``human_review`` and ``reviewers`` can only make review stricter: documents
    asking for less are refused when applied (``check_applicable``), and a
    stored one is read with the floor applied (``Consequential.required``).
    """

    id: str = "CONSEQUENTIAL-REVIEW"
    min_score: float = Field(99.0, ge=0, le=100)
    human_review: bool = True
    reviewers: int = Field(REVIEW_FLOOR, ge=1, le=5)

    @property
    def required(self) -> int:
        return max(REVIEW_FLOOR, self.reviewers)


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
        raise InvalidInputError(f"policy is not valid YAML: {' '.join(str(exc).split())}") from None
    if not isinstance(data, dict):
        raise InvalidInputError("a policy is a YAML mapping with at least 'version'")
    try:
        return PolicyDocument.model_validate(data)
    except ValidationError as exc:
        problems = "; ".join(
            f"{'.'.join(str(p) for p in e['loc']) or 'policy'}: {e['msg']}" for e in exc.errors(include_url=False)
        )
        raise InvalidInputError(f"invalid policy: {problems}") from None


def check_applicable(document: PolicyDocument) -> None:
    """Refuse a new document that asks for less than the built-in floors (stored ones are floored when read)."""
    rule = document.consequential
    if not rule.human_review:
        raise InvalidInputError(
            "consequential.human_review cannot be false: consequential matches are always held for"
            f" at least two human reviewers (EU AI Act Art. 14(5)) [rule {rule.id}]"
        )
    if rule.reviewers < REVIEW_FLOOR:
        raise InvalidInputError(
            f"consequential.reviewers must be at least {REVIEW_FLOOR}: two human reviewers are a built-in floor"
            f" that a policy can raise, never lower [rule {rule.id}]"
        )


def policy_sha256(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()


@dataclass(frozen=True)
class Approval:
    """An approved, unexpired application."""

    kind: Literal["scale", "category"]
    purpose: str
    requested: dict[str, Any]


SUBJECTS = "subjects"  # per collection, after the enrollment
SEARCHES_PER_DAY = "searches_per_day"  # per tenant, this search included


@dataclass(frozen=True)
class Limit:
    """An upper bound the decision was made under: exceeding ``maximum`` is denied by ``rule_id``."""

    rule_id: str
    kind: str  # SUBJECTS | SEARCHES_PER_DAY
    maximum: int
    reason: str


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
    limits: tuple[Limit, ...] = ()

    @property
    def allowed(self) -> bool:
        return self.effect != "deny"

    def breach(self, kind: str, value: int) -> PolicyDecision | None:
        """The denial, if ``value`` (counted again inside the write transaction) exceeds a limit of ``kind``."""
        for limit in self.limits:
            if limit.kind == kind and value > limit.maximum:
                return PolicyDecision("deny", limit.rule_id, limit.reason, self.policy_version)
        return None


class LimitReachedError(PolicyDeniedError):
    """A limit checked again inside a write transaction was reached by a concurrent writer.

    Raised inside the transaction (which then rolls back); the operation records
    ``decision`` in the ledger once the transaction is gone, and raises it as a
    plain policy denial.
    """

    def __init__(self, decision: PolicyDecision) -> None:
        super().__init__(decision.reason, decision.rule_id, decision.policy_version)
        self.decision = decision


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
        decision = self._consequential(request, trace)
        return replace(decision, limits=self._limits(request))

    # Each check returns (rule id, reason) to deny, or None to pass, and notes what it looked at.
    def _prohibitions(self, req: PolicyRequest, trace: list[tuple[str, str]]) -> tuple[str, str] | None:
        if req.operation is Operation.ENROLL and req.provenance in builtin.SCRAPED_PROVENANCE:
            return builtin.PROHIBIT_SCRAPING, "images gathered by scraping cannot be enrolled"
        if req.operation is Operation.ENROLL and req.provenance not in builtin.ALLOWED_PROVENANCE:
            return builtin.PROHIBIT_SCRAPING, f"unknown image provenance '{req.provenance}'"
        if req.operation is Operation.SEARCH and req.source not in builtin.SOURCES:
            return builtin.PROHIBIT_UNKNOWN_SOURCE, (
                f"unknown probe source '{req.source}' (sources: {', '.join(sorted(builtin.SOURCES))})"
            )
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
            if not builtin.documents_a_target(req.case_reference):
                return builtin.PROHIBIT_SURVEILLANCE, (
                    "a watchlist search needs an individual, documented target: a case reference"
                    " (blank or placeholder references such as 'n/a' or 'tbd' are not one)"
                )
        trace.append(("BUILTIN-PROHIBITIONS", "pass"))
        return None

    def _purpose(self, req: PolicyRequest, trace: list[tuple[str, str]]) -> tuple[str, str] | None:
        if req.purpose is None:
            return "GOV-PURPOSE-UNDECLARED", (
                f"purpose '{req.purpose_name}' is not declared by this tenant:"
                " declare it first, then name it in every call"
            )
        if req.collection_purpose is not None and req.collection_purpose != req.purpose.name:
            return "GOV-PURPOSE-MISMATCH", (
                f"collection '{req.collection}' serves purpose '{req.collection_purpose}', not '{req.purpose.name}'"
            )
        limit = self._purpose_limit(req.purpose)
        if req.subjects_after is not None and req.subjects_after > limit.maximum:
            return limit.rule_id, limit.reason
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
        for limit in self._scale_limits(req.purpose.name):
            if limit.kind == SUBJECTS and req.subjects_after is not None and req.subjects_after > limit.maximum:
                return limit.rule_id, limit.reason
            searching = limit.kind == SEARCHES_PER_DAY and req.operation is Operation.SEARCH
            if searching and req.searches_today > limit.maximum:
                return limit.rule_id, limit.reason
        trace += [(rule.id, "pass") for rule in self.document.scale_limits]
        return None

    @staticmethod
    def _purpose_limit(purpose: Purpose) -> Limit:
        return Limit(
            "GOV-PURPOSE-MAX-SUBJECTS",
            SUBJECTS,
            purpose.max_collection_subjects,
            f"purpose '{purpose.name}' declares at most {purpose.max_collection_subjects} subjects",
        )

    def _scale_limits(self, purpose: str) -> list[Limit]:
        """The document's scale limits, each raised to what an approved application grants."""
        approved = self._approved("scale", purpose)
        limits = []
        for rule in self.document.scale_limits:
            if rule.max_subjects:
                granted = max((int(a.requested.get("max_subjects", 0)) for a in approved), default=0)
                reason = (
                    f"a collection above {rule.max_subjects} subjects needs an approved application"
                    f" (approved up to {granted})"
                )
                limits.append(Limit(rule.id, SUBJECTS, max(rule.max_subjects, granted), reason))
            if rule.max_searches_per_day:
                granted = max((int(a.requested.get("max_searches_per_day", 0)) for a in approved), default=0)
                reason = (
                    f"more than {rule.max_searches_per_day} searches a day needs an approved application"
                    f" (approved up to {granted})"
                )
                limits.append(Limit(rule.id, SEARCHES_PER_DAY, max(rule.max_searches_per_day, granted), reason))
        return limits

    def _limits(self, req: PolicyRequest) -> tuple[Limit, ...]:
        """The limits an allowed call's write must check again: subjects for enrollments, volume for searches."""
        if req.purpose is None or req.operation not in (Operation.ENROLL, Operation.SEARCH):
            return ()
        kind = SUBJECTS if req.operation is Operation.ENROLL else SEARCHES_PER_DAY
        limits = [self._purpose_limit(req.purpose), *self._scale_limits(req.purpose.name)]
        return tuple(limit for limit in limits if limit.kind == kind)

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
            if req.operation is Operation.SEARCH:  # always held: ``human_review: false`` cannot lift the floor
                reviewers = rule.required
                trace.append((rule.id, "review" if rule.human_review else "review (built-in floor)"))
                reason = f"consequential purpose: matches need {reviewers} reviewer confirmations"
                return PolicyDecision("review", rule.id, reason, version, rule.min_score, reviewers, tuple(trace))
            trace.append((rule.id, "allow with minimum score"))
            reason = f"consequential purpose: minimum score {rule.min_score:g}"
            return PolicyDecision("allow", rule.id, reason, version, rule.min_score, 0, tuple(trace))
        trace.append(("DEFAULT-ALLOW", "allow"))
        return PolicyDecision("allow", "DEFAULT-ALLOW", "no rule restricts this call", version, trace=tuple(trace))
