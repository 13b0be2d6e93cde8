"""The model registry as callers see it, and the fairness gate that activates a model at a threshold."""

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
from regard.operations.collections import check_name
from regard.operations.parts import Parts

if TYPE_CHECKING:
    from regard.fairness.report import AuditReport


@dataclass(frozen=True)
class ModelInfo:
    """A registry entry and whether its weights and runtime are installed here."""

    spec: ModelSpec
    installed: bool


class ModelOperations:
    def __init__(self, parts: Parts) -> None:
        self._p = parts
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
                f"report sha256 {d['report_sha256'][:12]}"
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
        self, model_id: str, report_json: bytes, ctx: CallContext, *, fmr: float | None = None
    ) -> dict[str, Any]:
        """Activate a model at an operating point, if its fairness audit passes the tenant's gate.

        ``report_json`` is a report written by ``regard audit``.  It must audit
        this model at the threshold it will run at (``fmr``, default the
        settings' operating point).  Refused with the failing rules listed, and
        recorded either way.
        """
        from regard.fairness.gate import FairnessPolicy, evaluate_gate
        from regard.fairness.report import parse_report

        self._guard.require(ctx, Operation.DECLARE)
        spec = self._p.registry.spec(model_id)
        point = fmr or self._p.settings.default_fmr
        threshold = threshold_for(spec.thresholds, point, spec.id)
        report = parse_report(report_json)
        if report.system != model_id:
            raise InvalidInputError(f"the report audits '{report.system}', not '{model_id}'")
        if abs(report.threshold - threshold) > 1e-4:
            raise InvalidInputError(
                f"the report audits threshold {report.threshold:.4f};"
                f" {model_id} runs at {threshold:.4f} (FMR {point:g})"
            )
        document = self._gov.policy(ctx.tenant)[0]
        gate_rule = document.fairness_gate
        policy = (
            FairnessPolicy.from_mapping(dict(gate_rule.limits), "policy fairness_gate")
            if gate_rule.limits
            else FairnessPolicy()
        )
        result = evaluate_gate(report, policy)
        summary = {
            "dataset": report.dataset.name,
            "groups": [g.group for g in report.groups],
            "fmr_max_min": report.differentials_adequate.fmr_max_min,
            "fnmr_max_min": report.differentials_adequate.fnmr_max_min,
            "gate": [
                {"rule": r.id, "measured": r.measured, "limit": r.limit, "passed": r.passed} for r in result.rules
            ],
            "excluded_groups": result.excluded_groups,
        }
        sha = hashlib.sha256(report_json).hexdigest()
        details: dict[str, Any] = {
            "model": model_id,
            "threshold": threshold,
            "result": {"report_sha256": sha, **summary},
        }
        if not result.passed:
            failing = "; ".join(
                f"{r.id} {r.measured if r.measured is not None else 'unmeasurable'} > {r.limit}"
                for r in result.rules
                if not r.passed
            )
            decision = PolicyDecision("deny", gate_rule.id, f"fairness gate failed: {failing}", document.version)
            self._guard.deny(ctx, "activate-model", decision, **details)
        self._gov.activate(ctx.tenant, model_id, point, threshold, sha, summary, ctx.actor)
        allow = PolicyDecision("allow", gate_rule.id, "fairness gate passed", document.version)
        self._guard.record(ctx, "activate-model", allow, **details)
        return summary

    def deployments(self, ctx: CallContext) -> list[dict[str, Any]]:
        self._guard.require(ctx, Operation.READ)
        return self._gov.deployments(ctx.tenant)

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
