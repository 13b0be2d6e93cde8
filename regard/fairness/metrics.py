"""Demographic differential metrics as pure functions over scores, error counts and per-group rates.

Conventions: a pair *matches* when its similarity is >= the threshold.  FMR (false match rate) is the share of
impostor pairs (two different people) that match; FNMR (false non-match rate) the share of genuine pairs (one
person) that do not.  Rates are fractions in [0, 1].

References
- P. Grother, M. Ngan, K. Hanaoka: FRVT Part 3: Demographic Effects, NISTIR 8280 (2019).
- P. Grother: FRVT Part 8: Summarizing Demographic Differentials, NISTIR 8429 (2022).
- T. de Freitas Pereira, S. Marcel: Fairness in Biometrics: a figure of merit to assess biometric verification
  systems, IEEE T-BIOM 4(1), 2022 (Fairness Discrepancy Rate).
- J. J. Howard, E. J. Laird, R. E. Rubin, Y. B. Sirotin, J. L. Tipton, A. R. Vemury: Evaluating Proposed Fairness
  Models for Face Recognition Algorithms, 2022 (GARBE).

Confidence intervals are in :mod:`regard.fairness.intervals`.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np

from regard.evaluation.metrics import rates_at, threshold_at_fmr

__all__ = [
    "AdequacyRule",
    "Differentials",
    "det_curve",
    "differentials",
    "fairness_discrepancy_rate",
    "floored",
    "garbe",
    "gini",
    "histogram",
    "max_geomean_ratio",
    "max_min_ratio",
    "rates_at",
    "threshold_at_fmr",
    "unit_counts",
]


def unit_counts(errors: np.ndarray, units: np.ndarray, n_units: int) -> tuple[np.ndarray, np.ndarray]:
    """Errors and trials per unit (identity) of pairs that each belong to one unit (genuine pairs): ``(e, t)``,
    two int64 arrays of length ``n_units``; ``sum(e) / sum(t)`` is the pooled rate."""
    e = np.bincount(units, weights=np.asarray(errors, dtype=np.float64), minlength=n_units)
    t = np.bincount(units, minlength=n_units)
    return np.rint(e).astype(np.int64), t.astype(np.int64)


def floored(rate: float, trials: int, ceiling: float = 1.0) -> float:
    """``rate``, or when it is 0, ``min(1 / trials, ceiling)``: the smallest non-zero rate the sample could show.

    Ratios of rates need non-zero values; a group with no observed error gets this floor, and the report says
    so.  ``ceiling`` (the largest rate observed in any group) keeps a small group's floor from posing as the
    worst group: a group with no error is never counted as worse than one with errors.
    """
    return rate if rate > 0 or trials <= 0 else min(1.0 / trials, ceiling)


def max_min_ratio(values: Sequence[float]) -> float:
    """``max(x) / min(x)`` over groups (NISTIR 8429); 1 means no differential.  Values must be > 0."""
    x = np.asarray(values, dtype=np.float64)
    return float(x.max() / x.min())


def max_geomean_ratio(values: Sequence[float]) -> float:
    """``max(x) / (prod x)^(1/n)``, the worst group against the geometric mean (NISTIR 8429).  Values > 0."""
    x = np.asarray(values, dtype=np.float64)
    return float(x.max() / math.exp(float(np.mean(np.log(x)))))


def gini(values: Sequence[float]) -> float:
    """Sample-size-corrected Gini coefficient, 0 (equal) to 1 (one group has everything).

    ``G = n/(n-1) * sum_i sum_j |x_i - x_j| / (2 n^2 mean(x))`` (Howard et al. 2022).  0 when all values are 0
    or there are fewer than two.
    """
    x = np.asarray(values, dtype=np.float64)
    n = x.size
    if n < 2 or x.mean() == 0:
        return 0.0
    spread = float(np.abs(x[:, None] - x[None, :]).sum())
    return n / (n - 1) * spread / (2 * n * n * float(x.mean()))


def fairness_discrepancy_rate(fmr: Sequence[float], fnmr: Sequence[float], alpha: float = 0.5) -> float:
    """FDR (de Freitas Pereira & Marcel 2022): ``1 - (alpha * A + (1 - alpha) * B)``, 1 is perfectly fair.

    ``A = max_ij |FMR_i - FMR_j|`` and ``B = max_ij |FNMR_i - FNMR_j|`` at one shared threshold.
    """
    a = float(np.ptp(np.asarray(fmr, dtype=np.float64)))
    b = float(np.ptp(np.asarray(fnmr, dtype=np.float64)))
    return 1.0 - (alpha * a + (1 - alpha) * b)


def garbe(fmr: Sequence[float], fnmr: Sequence[float], alpha: float = 0.5) -> float:
    """GARBE (Howard et al. 2022): ``alpha * G(FMR) + (1 - alpha) * G(FNMR)``, 0 is perfectly fair."""
    return alpha * gini(fmr) + (1 - alpha) * gini(fnmr)


@dataclass(frozen=True)
class Differentials:
    """Between-group differentials at one threshold; ``None`` where fewer than two groups have pairs."""

    groups: list[str]
    fmr_max_min: float | None = None
    fmr_max_geomean: float | None = None
    fnmr_max_min: float | None = None
    fnmr_max_geomean: float | None = None
    fmr_gini: float | None = None
    fnmr_gini: float | None = None
    fdr: float | None = None
    garbe: float | None = None
    alpha: float = 0.5
    notes: list[str] = field(default_factory=list)


def differentials(
    groups: Sequence[str],
    fmr: Sequence[float],
    fnmr: Sequence[float],
    impostor_pairs: Sequence[int],
    genuine_pairs: Sequence[int],
    alpha: float = 0.5,
) -> Differentials:
    """Every differential over the groups that have both impostor and genuine pairs.

    Ratios use :func:`floored` rates (a 0 becomes ``1 / pairs``, capped at the largest observed rate; ``notes``
    lists each floor used) and are 1 when no group shows any error; Gini, GARBE and FDR use the measured rates.
    """
    keep = [i for i in range(len(groups)) if impostor_pairs[i] > 0 and genuine_pairs[i] > 0]
    names = [groups[i] for i in keep]
    if len(keep) < 2:
        return Differentials(groups=names, alpha=alpha)
    f = [fmr[i] for i in keep]
    g = [fnmr[i] for i in keep]
    f_top, g_top = max(f), max(g)
    f_floor = [floored(fmr[i], impostor_pairs[i], f_top) for i in keep]
    g_floor = [floored(fnmr[i], genuine_pairs[i], g_top) for i in keep]
    notes = [
        f"{what} of {groups[i]} is 0 in {n:,} pairs: ratios use the floor {floor:.3g} (1/{n:,}, at most the "
        "largest rate observed)"
        for i, f_i, g_i in zip(keep, f_floor, g_floor, strict=True)
        for what, rate, n, floor in (("FMR", fmr[i], impostor_pairs[i], f_i), ("FNMR", fnmr[i], genuine_pairs[i], g_i))
        if rate == 0 and floor > 0
    ]
    notes += [
        f"No {what} error in any group: its ratios are 1."
        for what, top in (("FMR", f_top), ("FNMR", g_top))
        if top == 0
    ]
    return Differentials(
        groups=names,
        fmr_max_min=max_min_ratio(f_floor) if f_top > 0 else 1.0,
        fmr_max_geomean=max_geomean_ratio(f_floor) if f_top > 0 else 1.0,
        fnmr_max_min=max_min_ratio(g_floor) if g_top > 0 else 1.0,
        fnmr_max_geomean=max_geomean_ratio(g_floor) if g_top > 0 else 1.0,
        fmr_gini=gini(f),
        fnmr_gini=gini(g),
        fdr=fairness_discrepancy_rate(f, g, alpha),
        garbe=garbe(f, g, alpha),
        alpha=alpha,
        notes=notes,
    )


def det_curve(
    genuine: np.ndarray, impostor: np.ndarray, points: int = 40, max_fmr: float = 0.5
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """DET points ``(fmr, fnmr, thresholds)`` at log-spaced FMR from ``max_fmr`` down to ``1 / impostors``.

    For each target FMR f the threshold is :func:`threshold_at_fmr`; the FMR and FNMR are then measured at that
    threshold (ties can make the FMR lower than f).  Thresholds that repeat are dropped; FMR falls along the
    arrays and FNMR rises.
    """
    imp = np.sort(np.asarray(impostor, dtype=np.float64))
    gen = np.sort(np.asarray(genuine, dtype=np.float64))
    if imp.size == 0 or gen.size == 0:
        return np.zeros(0), np.zeros(0), np.zeros(0)
    lowest = 1.0 / imp.size
    if lowest >= max_fmr:
        targets = np.asarray([max_fmr])
    else:
        targets = np.logspace(math.log10(max_fmr), math.log10(lowest), points)
    # The relative nudge keeps f = 1/N from flooring to 0 false matches through rounding.
    allowed = np.clip(np.floor(targets * imp.size * (1 + 1e-9)).astype(np.int64), 1, imp.size - 1)
    thresholds = np.unique(np.nextafter(imp[imp.size - 1 - allowed], np.inf))
    fmr = (imp.size - np.searchsorted(imp, thresholds, side="left")) / imp.size
    fnmr = np.searchsorted(gen, thresholds, side="left") / gen.size
    return fmr, fnmr, thresholds


def histogram(scores: np.ndarray, edges: np.ndarray) -> list[int]:
    """Counts of ``scores`` in the bins ``[edges[i], edges[i+1])`` (the last bin closed), clipped into range."""
    clipped = np.clip(np.asarray(scores, dtype=np.float64), edges[0], edges[-1])
    return [int(c) for c in np.histogram(clipped, bins=edges)[0]]


@dataclass(frozen=True)
class AdequacyRule:
    """When a group is too small for its rates to mean much.  Such groups are flagged, never hidden.

    A group is flagged when it has fewer than ``min_identities`` identities, fewer than
    ``min_genuine_identities`` identities with at least one genuine pair, fewer than ``min_genuine_pairs``
    genuine pairs, or fewer than ``impostor_factor / target_fmr`` impostor pairs (with the default 3, the
    number of pairs at which ``impostor_factor`` false matches are expected at the target FMR: below that, an
    FMR of 0 is what one would usually see even at exactly the target).
    """

    min_identities: int = 10
    min_genuine_identities: int = 10
    min_genuine_pairs: int = 100
    impostor_factor: float = 3.0

    def reasons(
        self, identities: int, genuine_identities: int, genuine_pairs: int, impostor_pairs: int, target_fmr: float
    ) -> list[str]:
        """Why a group with these sample sizes is flagged; empty when it is not."""
        need_impostors = math.ceil(self.impostor_factor / target_fmr)
        checks = (
            (identities, self.min_identities, "identities"),
            (genuine_identities, self.min_genuine_identities, "identities with genuine pairs"),
            (genuine_pairs, self.min_genuine_pairs, "genuine pairs"),
            (impostor_pairs, need_impostors, f"impostor pairs ({self.impostor_factor:g} / target FMR)"),
        )
        return [f"{have:,} {what}, fewer than {need:,}" for have, need, what in checks if have < need]
