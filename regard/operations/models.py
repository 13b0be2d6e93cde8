"""The model registry as callers see it, and the fairness gate: a model runs at a threshold a trusted audit passed."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from importlib import resources
from typing import TYPE_CHECKING, Any

from regard.backends.calibration import threshold_for
from regard.backends.registry import user_embedder_spec
from regard.backends.specs import ModelSpec
from regard.context import CallContext
from regard.errors import InvalidInputError
from regard.governance.policy import PolicyDecision
from regard.governance.roles import Operation
from regard.models_io import spec_to_dict
from regard.operations.audits import AuditOperations, StoredAudit
from regard.operations.collections import check_name
from regard.operations.parts import Parts

if TYPE_CHECKING:
    from regard.fairness.gate import FairnessPolicy, GateResult
    from regard.fairness.report import AuditReport


@dataclass(frozen=True)
class ModelInfo:
    """A registry entry and whether its weights and runtime are installed here."""

    spec: ModelSpec
    installed: bool


class ModelOperations:
    def __init__(self, parts: Parts, audits: AuditOperations) -> None:
        self._p = parts
        self._audits = audits
        self._guard = parts.guard
        self._gov = parts.governance

    def models(self) -> list[ModelInfo]:
        """Every model the registry knows (public facts: ids, licences, thresholds, measured accuracy)."""
        registry = self._p.registry
        return [ModelInfo(spec, registry.available(spec.id)) for spec in registry.specs()]

    def model(self, model_id: str) -> ModelInfo:
        """One registry entry (NotFoundError for an unknown id)."""
        spec = self._p.registry.spec(model_id)
        return ModelInfo(spec, self._p.registry.available(spec.id))

    def register_model(
        self,
        model_id: str,
        model: bytes,
        thresholds: dict[str, float],
        ctx: CallContext,
        licence: str = "user-supplied",
    ) -> ModelSpec:
        """Register a user's ArcFace-style ONNX embedder (112x112 RGB input) with its calibrated thresholds.

        The file is kept in the database (and cached under its sha256), so
        every worker process sharing the database can load it.
        """
        decision = self._guard.allow(ctx, Operation.DECLARE)
        check_name("model", model_id)
        if not isinstance(model, bytes | bytearray) or not model:
            raise InvalidInputError("a model is the ONNX file's bytes")
        digest = hashlib.sha256(model).hexdigest()
        target = self._p.settings.resolved_model_cache_dir() / "user" / f"{digest}.onnx"
        target.parent.mkdir(parents=True, exist_ok=True)
        if not target.exists():
            partial = target.with_suffix(".partial")
            partial.write_bytes(model)
            partial.replace(target)
        spec = user_embedder_spec(model_id, target, thresholds, licence)
        self._p.store.save_user_model(model_id, spec_to_dict(spec), bytes(model))
        self._p.registry.add(spec)
        self._guard.record(ctx, "register-model", decision, result={"model": model_id, "sha256": spec.sha256})
        return spec

    def models_in_use(self, ctx: CallContext) -> list[dict[str, Any]]:
        """The embedders the tenant's collections use, with their accuracy and active fairness audit."""
        self._guard.require(ctx, Operation.READ)
        active = {d["model"]: d for d in self._gov.deployments(ctx.tenant, active_only=True)}
        out = []
        for model_id in self._p.store.models_in_use(ctx.tenant):
            spec = self._p.registry.spec(model_id)
            d = active.get(model_id)
            fairness = (
                f"activated {d['activated_at']} at threshold {d['threshold']:.4f} on {d['dataset']}: "
                f"FMR max/min {d['fmr_max_min']}, FNMR max/min {d['fnmr_max_min']}, "
                f"report {d.get('report_id', '?')} (sha256 {d['report_sha256'][:12]}, "
                f"verified by {d.get('verified_by') or 'nobody'})"
                if d
                else None
            )
            out.append(
                {
                    "model": model_id,
                    "version": spec.version,
                    "licence": spec.licence,
                    "measured": dict(spec.measured),
                    "calibration": spec.calibration,
                    "fairness": fairness,
                }
            )
        return out

    # -- deployment gate -------------------------------------------------------------------------
    def activate_model(
        self,
        model_id: str,
        ctx: CallContext,
        *,
        report_id: str | None = None,
        signed_report: bytes | None = None,
        fmr: float | None = None,
    ) -> dict[str, Any]:
        """Activate a model at an operating point, if a trusted fairness audit of it passes the tenant's gate.

        The audit is a stored report (``report_id``) or a signed report's bytes (``signed_report``); either must
        verify: signed by this instance (an image audit run here, recorded in this tenant's ledger) or by an
        auditor the tenant registered.  It must audit this model at the threshold it will run at (``fmr``,
        default the settings' operating point).  Refused with the reason or the failing rules, and recorded
        either way.
        """
        from regard.fairness.gate import evaluate_gate

        self._guard.require(ctx, Operation.DECLARE)
        spec = self._p.registry.spec(model_id)
        point = fmr or self._p.settings.default_fmr
        threshold = threshold_for(spec.thresholds, point, spec.id)
        document = self._gov.policy(ctx.tenant)[0]
        gate_rule = document.fairness_gate
        stored, why = self._audits.trusted_report(ctx, report_id, signed_report)
        details: dict[str, Any] = {"model": model_id, "threshold": threshold}
        if stored is None:
            reason = (
                f"the fairness report is unverified ({why}): only a report signed by this instance or by a "
                "registered auditor can activate a model"
            )
            decision = PolicyDecision("deny", gate_rule.id, reason, document.version)
            self._guard.deny(ctx, "activate-model", decision, **details, result={"report_id": report_id})
        report = stored.report
        if report.system != model_id:
            raise InvalidInputError(f"the report audits '{report.system}', not '{model_id}'")
        if abs(report.threshold - threshold) > 1e-4:
            raise InvalidInputError(
                f"the report audits threshold {report.threshold:.4f};"
                f" {model_id} runs at {threshold:.4f} (FMR {point:g})"
            )
        result = evaluate_gate(report, gate_policy(gate_rule.limits))
        summary = activation_summary(stored, result)
        details["result"] = {"report_sha256": stored.record.report_sha256, **summary}
        if not result.passed:
            failing = "; ".join(
                f"{r.id} {f'{r.measured:.4g}' if r.measured is not None else 'unmeasurable'} > {r.limit:g}"
                for r in result.rules
                if not r.passed
            )
            decision = PolicyDecision("deny", gate_rule.id, f"fairness gate failed: {failing}", document.version)
            self._guard.deny(ctx, "activate-model", decision, **details)
        self._gov.activate(ctx.tenant, model_id, point, threshold, stored.record.report_sha256, summary, ctx.actor)
        allow = PolicyDecision("allow", gate_rule.id, "fairness gate passed", document.version)
        self._guard.record(ctx, "activate-model", allow, **details)
        return summary

    def deployments(self, ctx: CallContext) -> list[dict[str, Any]]:
        self._guard.require(ctx, Operation.READ)
        return self._gov.deployments(ctx.tenant)

    def fairness_gate(self, report_id: str, ctx: CallContext) -> GateResult:
        """The tenant's fairness gate applied to a stored report, without activating anything (a dry run)."""
        from regard.fairness.gate import evaluate_gate

        stored = self._audits.audit_report(report_id, ctx)
        limits = self._gov.policy(ctx.tenant)[0].fairness_gate.limits
        return evaluate_gate(stored.report, gate_policy(limits))

    def fairness_cards(self, ctx: CallContext) -> list[AuditReport]:
        """The fairness audits Regard ships for its built-in models (package data), published and the same for all."""
        from regard.fairness.report import parse_report

        self._guard.require(ctx, Operation.READ)
        cards = resources.files("regard.fairness").joinpath("cards")
        return [
            parse_report(card.read_bytes())
            for card in sorted(cards.iterdir(), key=lambda c: c.name)
            if card.name.endswith(".json")
        ]


def gate_policy(limits: dict[str, Any] | None) -> FairnessPolicy:
    """The tenant's fairness limits: the built-in ones when its policy has no ``limits``, else exactly those listed."""
    from regard.fairness.gate import DEFAULT_POLICY, FairnessPolicy

    return DEFAULT_POLICY if limits is None else FairnessPolicy.from_mapping(dict(limits), "policy fairness_gate")


def activation_summary(stored: StoredAudit, result: GateResult) -> dict[str, Any]:
    """What a deployment keeps of the report it rests on and of the gate it passed (or failed)."""
    report = stored.report
    return {
        "report_id": stored.id,
        "verified_by": stored.verification.signer,
        "dataset": report.dataset.name,
        "evaluation_set_sha256": report.provenance.evaluation_set_sha256,
        "label_source": report.dataset.labels.source,
        "face_choice": report.provenance.face_choice,
        "groups": [g.group for g in report.groups],
        "fmr_max_min": report.differentials_adequate.fmr_max_min,
        "fnmr_max_min": report.differentials_adequate.fnmr_max_min,
        "gate": [{"rule": r.id, "measured": r.measured, "limit": r.limit, "passed": r.passed} for r in result.rules],
        "switched_off": result.switched_off,
        "excluded_groups": result.excluded_groups,
    }
