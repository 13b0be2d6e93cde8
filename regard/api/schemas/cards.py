"""The fairness cards Regard ships for its built-in models, as the API shows them.

A card is an audit report (``regard.fairness.report.AuditReport``): the typed
fields are what the dashboard's fairness page shows (rates per group with
their intervals, differentials, DET curves, caveats); ``report`` is the whole
document as shipped, for what they leave out.
"""

from __future__ import annotations

import json
from typing import Any

from pydantic import BaseModel, Field

from regard.api.schemas.base import example
from regard.fairness.labels import LabelProvenance
from regard.fairness.metrics import Differentials
from regard.fairness.report import AuditReport, DatasetInfo, DetCurve, GroupStats

LABELS: dict[str, Any] = {
    "source": "assigned-by-people",
    "assigned_by": "annotators of per-image gender name lists",
    "notes": "binary and perceived, not self-identified",
    "description": "assigned by people (perceived, not self-identified); assigned by: annotators of per-image gender "
    "name lists (binary and perceived, not self-identified)",
}
DATASET: dict[str, Any] = {
    "name": "LFW",
    "description": "Labeled Faces in the Wild, deep-funneled: 13,233 images of 5,749 people",
    "group_column": "identity_gender",
    "images": 13228,
    "identities": 5744,
    "labels": LABELS,
}
GROUP: dict[str, Any] = {
    "group": "female",
    "identities": 1472,
    "images": 2962,
    "genuine_pairs": 9803,
    "impostor_pairs": 2000000,
    "false_matches": 559,
    "false_non_matches": 459,
    "fmr": 0.0002795,
    "fmr_ci": [0.000196, 0.000459],
    "fnmr": 0.0468,
    "fnmr_ci": [0.0270, 0.0722],
    "flagged": False,
    "flag_reasons": [],
}
DIFFERENTIALS: dict[str, Any] = {
    "groups": ["female", "male"],
    "fmr_max_min": 2.13,
    "fmr_max_geomean": 1.46,
    "fnmr_max_min": 9.85,
    "fnmr_max_geomean": 3.14,
    "fmr_gini": 0.36,
    "fnmr_gini": 0.82,
    "fdr": 0.979,
    "garbe": 0.588,
    "notes": [],
}
DET: dict[str, Any] = {
    "group": "female",
    "fmr": [0.01, 0.001, 0.0001],
    "fnmr": [0.004, 0.012, 0.047],
    "thresholds": [0.28, 0.36, 0.42],
}


class LabelsOut(BaseModel):
    """Where the group labels came from: a required input of every audit, stated on every card."""

    model_config = example(**LABELS)
    source: str = Field(
        description="How they were assigned: self-reported, administrative-records, assigned-by-people, "
        "machine-proxy or unknown."
    )
    assigned_by: str
    notes: str
    description: str = Field(description="The provenance in one phrase, as the reports print it.")

    @classmethod
    def of(cls, labels: LabelProvenance) -> LabelsOut:
        return cls(
            source=labels.source, assigned_by=labels.assigned_by, notes=labels.notes, description=labels.describe()
        )


class CardDatasetOut(BaseModel):
    """What was measured."""

    model_config = example(**DATASET)
    name: str
    description: str
    group_column: str = Field(description="The attribute the groups are of.")
    images: int | None
    identities: int | None
    labels: LabelsOut

    @classmethod
    def of(cls, d: DatasetInfo) -> CardDatasetOut:
        return cls(
            name=d.name,
            description=d.description,
            group_column=d.group_column,
            images=d.images,
            identities=d.identities,
            labels=LabelsOut.of(d.labels),
        )


class CardGroupOut(BaseModel):
    """One group's error rates at the operating threshold, with their intervals and sample sizes."""

    model_config = example(**GROUP)
    group: str
    identities: int | None
    images: int | None
    genuine_pairs: int
    impostor_pairs: int
    false_matches: int
    false_non_matches: int
    fmr: float | None = Field(description="False match rate of the group's impostor pairs (null without any).")
    fmr_ci: tuple[float, float] | None = Field(description="Its interval at the card's ci_level.")
    fnmr: float | None = Field(description="False non-match rate of the group's genuine pairs (null without any).")
    fnmr_ci: tuple[float, float] | None
    flagged: bool = Field(description="Too small a sample for its rates to mean much; shown, never hidden.")
    flag_reasons: list[str]

    @classmethod
    def of(cls, g: GroupStats) -> CardGroupOut:
        return cls.model_validate(g, from_attributes=True)  # the same fields, tuples as lists


class DifferentialsOut(BaseModel):
    """Between-group differentials at the threshold; null where fewer than two groups have pairs."""

    model_config = example(**DIFFERENTIALS)
    groups: list[str]
    fmr_max_min: float | None = Field(description="Highest group FMR over the lowest.")
    fmr_max_geomean: float | None
    fnmr_max_min: float | None = Field(description="Highest group FNMR over the lowest.")
    fnmr_max_geomean: float | None
    fmr_gini: float | None
    fnmr_gini: float | None
    fdr: float | None = Field(description="Fairness discrepancy rate (1: no differential).")
    garbe: float | None = Field(description="Gini aggregation rate for biometric equitability (0: none).")
    notes: list[str]

    @classmethod
    def of(cls, d: Differentials) -> DifferentialsOut:
        return cls.model_validate(d, from_attributes=True)  # the same fields, tuples as lists


class DetCurveOut(BaseModel):
    """One group's detection error trade-off: FNMR against FMR over thresholds."""

    model_config = example(**DET)
    group: str
    fmr: list[float]
    fnmr: list[float]
    thresholds: list[float]

    @classmethod
    def of(cls, c: DetCurve) -> DetCurveOut:
        return cls(group=c.group, fmr=list(c.fmr), fnmr=list(c.fnmr), thresholds=list(c.thresholds))


CARD: dict[str, Any] = {
    "system": "sface",
    "system_version": "2021dec-int8bq",
    "dataset": DATASET,
    "threshold": 0.4244,
    "threshold_source": "registry threshold of sface at FMR 1e-04",
    "target_fmr": 0.0001,
    "pooled_fmr": 0.0002055,
    "pooled_fnmr": 0.00646,
    "ci_level": 0.95,
    "groups": [GROUP],
    "differentials": DIFFERENTIALS,
    "differentials_adequate": DIFFERENTIALS,
    "det": [DET],
    "flags": [],
    "caveats": ["The rates describe this system at this threshold on this dataset."],
    "producer": "benchmarks/fairness_lfw.py (regard 0.1.0), not signed",
    "created": "2026-11-29T11:58:13Z",
    "report": {"schema": "regard.fairness.audit/2", "system": "sface"},
}


class FairnessCardOut(BaseModel):
    """A fairness audit Regard ships for one of its built-in models: published, the same for every tenant."""

    model_config = example(**CARD)
    system: str = Field(description="The audited model's id.")
    system_version: str
    dataset: CardDatasetOut
    threshold: float = Field(description="The operating threshold (cosine) every rate is measured at.")
    threshold_source: str
    target_fmr: float
    pooled_fmr: float | None
    pooled_fnmr: float | None
    ci_level: float = Field(description="Confidence level of every interval, e.g. 0.95.")
    groups: list[CardGroupOut]
    differentials: DifferentialsOut = Field(description="Over every group with pairs.")
    differentials_adequate: DifferentialsOut = Field(description="Over the groups that are not flagged.")
    det: list[DetCurveOut]
    flags: list[str]
    caveats: list[str] = Field(description="What the rates do not say; read them with the rates.")
    producer: str = Field(description="What produced the report.")
    created: str
    report: dict[str, Any] = Field(
        description="The whole report as shipped (format regard.fairness.audit/2), with what the fields above "
        "leave out: cross-group rates, score histograms, mitigation."
    )

    @classmethod
    def of(cls, r: AuditReport) -> FairnessCardOut:
        return cls(
            system=r.system,
            system_version=r.system_version,
            dataset=CardDatasetOut.of(r.dataset),
            threshold=r.threshold,
            threshold_source=r.threshold_source,
            target_fmr=r.target_fmr,
            pooled_fmr=r.pooled_fmr,
            pooled_fnmr=r.pooled_fnmr,
            ci_level=r.ci_level,
            groups=[CardGroupOut.of(g) for g in r.groups],
            differentials=DifferentialsOut.of(r.differentials),
            differentials_adequate=DifferentialsOut.of(r.differentials_adequate),
            det=[DetCurveOut.of(c) for c in r.det],
            flags=list(r.flags),
            caveats=list(r.caveats),
            producer=r.provenance.producer,
            created=r.created,
            report=json.loads(r.to_json()),  # non-finite numbers as null, as the JSON document has them
        )
