"""A deployment gate: limits on demographic differentials that an audit report must meet.

A policy is a small JSON or TOML file of limits.  A limit the file leaves out is not checked; one can also be
switched off explicitly, with ``null`` (JSON, YAML) or ``"off"`` (any format; TOML has no null), and the result
lists it as switched off.  With no policy at all, :data:`DEFAULT_POLICY` applies::

    # policy.toml
    max_fmr_ratio = 2.0      # FMR max/min over groups
    max_fnmr_ratio = 1.5     # FNMR max/min over groups
    max_group_fmr = "off"    # switched off, and shown so
    max_group_fmr_factor = 2 # every group's FMR at most twice the target FMR of the audited operating point

Every rule looks only at groups with enough samples (see :class:`regard.fairness.metrics.AdequacyRule`); the
flagged groups are listed in the result, and ``max_flagged_groups`` can refuse a report that has too many.  A
differential needs two groups: with fewer, its rule cannot be measured and fails (the gate fails closed).
"""

from __future__ import annotations

import dataclasses
import json
import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from regard.errors import InvalidInputError
from regard.fairness.report import AuditReport

OFF = "off"


@dataclass(frozen=True)
class FairnessPolicy:
    """Limits a report must meet; ``None`` leaves a limit unchecked.  ``switched_off`` names the limits a policy
    switched off explicitly (they are unchecked too, and the gate's result says so)."""

    max_fmr_ratio: float | None = None
    max_fnmr_ratio: float | None = None
    max_group_fmr: float | None = None
    max_group_fmr_factor: float | None = None  # each group's FMR <= this times the report's target FMR
    max_fmr_geomean_ratio: float | None = None
    max_fnmr_geomean_ratio: float | None = None
    max_group_fnmr: float | None = None
    min_fdr: float | None = None
    max_garbe: float | None = None
    max_flagged_groups: int | None = None
    use_upper_bound: bool = False  # compare each group's rate at the upper end of its interval, not the estimate
    switched_off: tuple[str, ...] = ()

    @classmethod
    def from_mapping(cls, data: dict[str, Any], source: str = "policy") -> FairnessPolicy:
        """Limits from a parsed file: left out is unchecked; ``None`` or ``"off"`` is switched off explicitly."""
        known = [f.name for f in dataclasses.fields(cls) if f.name != "switched_off"]
        unknown = sorted(set(data) - set(known))
        if unknown:
            raise InvalidInputError(f"{source}: unknown setting(s) {', '.join(unknown)} (known: {', '.join(known)})")
        limits: dict[str, Any] = {}
        off = []
        for key, value in data.items():
            if key == "use_upper_bound":
                if not isinstance(value, bool):
                    raise InvalidInputError(f"{source}: use_upper_bound must be true or false")
                limits[key] = value
            elif value is None or (isinstance(value, str) and value.strip().lower() == OFF):
                off.append(key)
            elif isinstance(value, bool) or not isinstance(value, int | float) or value < 0:
                raise InvalidInputError(f'{source}: {key} must be a non-negative number or "off", got {value!r}')
            else:
                limits[key] = value
        return cls(**limits, switched_off=tuple(off))

    @classmethod
    def load(cls, path: Path) -> FairnessPolicy:
        """Read a ``.toml`` or ``.json`` policy file."""
        try:
            text = path.read_text(encoding="utf-8")
            data = json.loads(text) if path.suffix.lower() == ".json" else tomllib.loads(text)
        except OSError as exc:
            raise InvalidInputError(f"{path}: {exc.strerror}") from None
        except (json.JSONDecodeError, tomllib.TOMLDecodeError) as exc:
            raise InvalidInputError(f"{path}: {exc}") from None
        if not isinstance(data, dict):
            raise InvalidInputError(f"{path}: expected a table of settings")
        return cls.from_mapping(data, str(path))


# The gate with no policy given: the differentials NIST FRVT Part 8 summarises, and every group's FMR at most the
# target the operating point was calibrated for (whatever that point is: 1e-3 for the default profile).
DEFAULT_POLICY = FairnessPolicy(max_fmr_ratio=2.0, max_fnmr_ratio=1.5, max_group_fmr_factor=1.0)


@dataclass(frozen=True)
class RuleResult:
    id: str
    description: str
    measured: float | None
    limit: float
    passed: bool
    note: str = ""


@dataclass(frozen=True)
class GateResult:
    passed: bool
    rules: list[RuleResult]
    excluded_groups: list[str]  # flagged as too small, left out of every rule
    policy: FairnessPolicy = field(default_factory=FairnessPolicy)
    switched_off: list[str] = field(default_factory=list)  # limits the policy switched off explicitly


def evaluate_gate(report: AuditReport, policy: FairnessPolicy) -> GateResult:
    """Check ``report`` against ``policy``; the gate passes when every configured rule passes."""
    adequate = [s for s in report.groups if not s.flagged and s.fmr is not None and s.fnmr is not None]
    excluded = [s.group for s in report.groups if s.flagged]
    d = report.differentials_adequate
    rules: list[RuleResult] = []

    def limit_max(rule_id: str, what: str, measured: float | None, limit: float | None, note: str = "") -> None:
        if limit is None:
            return
        ok = measured is not None and measured <= limit
        note = note or ("" if measured is not None else "cannot be measured: fewer than two groups with enough samples")
        rules.append(RuleResult(rule_id, f"{what} <= {limit:g}", measured, limit, ok, note))

    limit_max("fmr_ratio", "FMR max/min over groups", d.fmr_max_min, policy.max_fmr_ratio)
    limit_max("fnmr_ratio", "FNMR max/min over groups", d.fnmr_max_min, policy.max_fnmr_ratio)
    limit_max("fmr_geomean_ratio", "FMR max/geometric mean", d.fmr_max_geomean, policy.max_fmr_geomean_ratio)
    limit_max("fnmr_geomean_ratio", "FNMR max/geometric mean", d.fnmr_max_geomean, policy.max_fnmr_geomean_ratio)
    limit_max("garbe", "GARBE", d.garbe, policy.max_garbe)
    if policy.min_fdr is not None:
        ok = d.fdr is not None and d.fdr >= policy.min_fdr
        note = "" if d.fdr is not None else "cannot be measured: fewer than two groups with enough samples"
        rules.append(RuleResult("fdr", f"FDR >= {policy.min_fdr:g}", d.fdr, policy.min_fdr, ok, note))
    relative = policy.max_group_fmr_factor * report.target_fmr if policy.max_group_fmr_factor is not None else None
    for rule_id, rate, limit in (
        ("group_fmr", "fmr", policy.max_group_fmr),
        ("group_fmr_vs_target", "fmr", relative),
        ("group_fnmr", "fnmr", policy.max_group_fnmr),
    ):
        if limit is None:
            continue
        values = {s.group: _rate(s, rate, policy.use_upper_bound) for s in adequate}
        worst = max(values, key=lambda g: values[g]) if values else None
        measured = values[worst] if worst is not None else None
        bound = "upper 95% bound of " if policy.use_upper_bound else ""
        note = f"worst group: {worst}" if worst is not None else "no group with enough samples"
        what = f"{bound}{rate.upper()} in every group with enough samples"
        limit_max(rule_id, what, measured, limit, note)
    if policy.max_flagged_groups is not None:
        rules.append(
            RuleResult(
                "flagged_groups",
                f"groups too small to measure <= {policy.max_flagged_groups}",
                float(len(excluded)),
                float(policy.max_flagged_groups),
                len(excluded) <= policy.max_flagged_groups,
                ", ".join(excluded),
            )
        )
    return GateResult(all(r.passed for r in rules), rules, excluded, policy, list(policy.switched_off))


def _rate(stats: Any, rate: str, upper: bool) -> float:
    interval = getattr(stats, f"{rate}_ci")
    if upper and interval is not None:
        return float(interval[1])
    return float(getattr(stats, rate) or 0.0)
