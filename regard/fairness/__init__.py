"""Demographic fairness audits: error rates per group, their differentials, a report, and a deployment gate.

Group labels always come from people (a manifest, a score file). Nothing in Regard predicts race, sex, age or
any other attribute from a face.

- :func:`audit_embeddings`, :func:`audit_score_file`, :func:`audit_manifest` produce an :class:`AuditReport`;
- :func:`evaluate_gate` checks a report against a :class:`FairnessPolicy`;
- :class:`FairScoreNormalizer` is a label-free mitigation whose effect an audit can measure.
"""

from regard.fairness.evaluate import AuditConfig, ScoredPairs
from regard.fairness.fsn import FairScoreNormalizer
from regard.fairness.gate import FairnessPolicy, GateResult, RuleResult, evaluate_gate
from regard.fairness.metrics import AdequacyRule, Differentials
from regard.fairness.pairs import PairConfig, PairSet, build_pairs
from regard.fairness.report import AuditReport, DatasetInfo, GroupStats, load_report
from regard.fairness.runner import audit_embeddings, audit_manifest, audit_score_file

__all__ = [
    "AdequacyRule",
    "AuditConfig",
    "AuditReport",
    "DatasetInfo",
    "Differentials",
    "FairScoreNormalizer",
    "FairnessPolicy",
    "GateResult",
    "GroupStats",
    "PairConfig",
    "PairSet",
    "RuleResult",
    "ScoredPairs",
    "audit_embeddings",
    "audit_manifest",
    "audit_score_file",
    "build_pairs",
    "evaluate_gate",
    "load_report",
]
