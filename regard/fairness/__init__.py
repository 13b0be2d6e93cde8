"""Demographic fairness audits: error rates per group, their differentials, a report, and a deployment gate.

Pure functions over embeddings, scores and labels.  Group labels always come from people or from a source the
auditor names (:class:`LabelProvenance`, a required input); nothing in Regard predicts race, sex, age or any
other attribute from a face.  Regard embeds images for an audit in the service (``Regard.audit_images``), which
signs and records the report; that is the route whose reports can activate a model.

- :func:`audit_embeddings`, :func:`audit_score_file` produce an :class:`AuditReport`;
- :func:`evaluate_gate` checks a report against a :class:`FairnessPolicy`;
- :class:`FairScoreNormalizer` is a label-free mitigation whose effect an audit can measure;
- :mod:`regard.fairness.signing` signs reports and verifies their signatures.
"""

from regard.fairness.evaluate import AuditConfig, ScoredPairs
from regard.fairness.fsn import FairScoreNormalizer
from regard.fairness.gate import DEFAULT_POLICY, FairnessPolicy, GateResult, RuleResult, evaluate_gate
from regard.fairness.labels import LabelProvenance, LabelSource
from regard.fairness.metrics import AdequacyRule, Differentials
from regard.fairness.pairs import PairConfig, PairSet, build_pairs
from regard.fairness.report import AuditReport, DatasetInfo, GroupStats, Provenance, load_report
from regard.fairness.runner import audit_embeddings, audit_score_file

__all__ = [
    "DEFAULT_POLICY",
    "AdequacyRule",
    "AuditConfig",
    "AuditReport",
    "DatasetInfo",
    "Differentials",
    "FairScoreNormalizer",
    "FairnessPolicy",
    "GateResult",
    "GroupStats",
    "LabelProvenance",
    "LabelSource",
    "PairConfig",
    "PairSet",
    "Provenance",
    "RuleResult",
    "ScoredPairs",
    "audit_embeddings",
    "audit_score_file",
    "build_pairs",
    "evaluate_gate",
    "load_report",
]
