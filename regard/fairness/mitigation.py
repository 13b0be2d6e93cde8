"""Mitigations measured by an audit: fair score normalisation fitted with several seeds, and a verdict.

A mitigation is only worth considering where it narrows the differentials it is meant to narrow without widening
any other, and does so whatever its seed: on LFW with SFace, fair score normalisation narrows the gender FMR ratio
with every seed, yet the FNMR ratio (9.85 before) falls to 5.9 with one seed and rises to 22 with another.  So it
is fitted with several seeds, every run is reported, and it is never recommended where any run widens a watched
differential.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np

from regard.fairness import metrics as m
from regard.fairness.evaluate import AuditConfig, ScoredPairs, group_rates
from regard.fairness.fsn import FairScoreNormalizer
from regard.fairness.report import GroupRates, GroupStats, Mitigation, MitigationRun

FSN_METHOD = "fair score normalization (Terhörst et al. 2020)"


def _rate(errors: np.ndarray) -> float | None:
    return float(errors.mean()) if errors.size else None


def threshold_for_false_matches(impostor: np.ndarray, count: int) -> float:
    """Smallest threshold at which at most ``count`` of the ``impostor`` scores match (exactly, barring ties)."""
    ordered = np.sort(np.asarray(impostor, dtype=np.float64))[::-1]
    if count >= ordered.size:
        return float(ordered[-1])
    return float(np.nextafter(ordered[count], np.inf))


def normalised_run(
    scored: ScoredPairs,
    normalised: np.ndarray,
    threshold: float,
    groups: list[GroupStats],
    seed: int,
    fallback_clusters: int,
    alpha: float,
) -> MitigationRun:
    """Per-group rates of ``normalised`` scores at the threshold giving the pooled FMR ``threshold`` gave.

    The threshold after is re-picked so that the normalised within-group impostor scores give as many false
    matches as the original scores gave at ``threshold``: any change in the spread between groups is then the
    normalisation's doing, not a shift of the operating point.  Differentials are over unflagged groups.
    """
    within_imp = ~scored.genuine & (scored.group_a == scored.group_b)
    false_matches = int((scored.scores[within_imp] >= threshold).sum())
    after_threshold = threshold_for_false_matches(normalised[within_imp], false_matches)
    after = group_rates(scored, normalised, after_threshold)
    return MitigationRun(
        seed=seed,
        fallback_clusters=fallback_clusters,
        threshold_after=after_threshold,
        pooled_fmr_after=_rate(normalised[within_imp] >= after_threshold),
        pooled_fnmr_after=_rate(normalised[scored.genuine] < after_threshold),
        after=after,
        differentials_after=adequate_spread(after, groups, alpha),
    )


def adequate_spread(rates: list[GroupRates], groups: list[GroupStats], alpha: float) -> m.Differentials:
    """Differentials of ``rates`` over the groups of ``groups`` that are not flagged."""
    by_name = {r.group: r for r in rates}
    chosen = [(s, by_name[s.group]) for s in groups if not s.flagged and by_name[s.group].fmr is not None]
    return m.differentials(
        [s.group for s, _ in chosen],
        [float(r.fmr or 0.0) for _, r in chosen],
        [float(r.fnmr or 0.0) for _, r in chosen],
        [s.impostor_pairs for s, _ in chosen],
        [s.genuine_pairs for s, _ in chosen],
        alpha,
    )


# The differentials a mitigation must not widen, on any seed, to be worth considering.
WATCHED = (
    ("FMR max/min", "fmr_max_min"),
    ("FNMR max/min", "fnmr_max_min"),
    ("FMR max/geometric mean", "fmr_max_geomean"),
    ("FNMR max/geometric mean", "fnmr_max_geomean"),
)


def summarise_mitigation(
    scored: ScoredPairs,
    threshold: float,
    groups: list[GroupStats],
    runs: list[MitigationRun],
    method: str,
    clusters: int,
    fit_fmr: float,
    alpha: float,
) -> Mitigation:
    """Rates before, the ``runs`` after, and the verdict: never recommended where any run widens a differential."""
    within_imp = ~scored.genuine & (scored.group_a == scored.group_b)
    before = group_rates(scored, scored.scores, threshold)
    spread_before = adequate_spread(before, groups, alpha)
    widened = []
    for label, attr in WATCHED:
        was = getattr(spread_before, attr)
        after = [getattr(r.differentials_after, attr) for r in runs]
        worse = [a for a in after if was is None or a is None or a > was * (1 + 1e-9)]
        if worse:
            top = max((a for a in worse if a is not None), default=None)
            was_text = "unmeasurable" if was is None else f"{was:.2f}"
            top_text = "unmeasurable" if top is None else f"{top:.2f}"
            widened.append(f"{label} on {len(worse)} of {len(runs)} seeds ({was_text} before, up to {top_text})")
    pooled = [r.pooled_fnmr_after for r in runs if r.pooled_fnmr_after is not None]
    if widened:
        verdict = "On this data it widens " + "; ".join(widened) + "."
    else:
        verdict = (
            f"It widened no differential on any of {len(runs)} seeds (pooled FNMR after: "
            f"{min(pooled, default=math.nan):.4f} to {max(pooled, default=math.nan):.4f}). In-sample: audit it on "
            "held-out people before relying on it."
        )
    return Mitigation(
        method=method,
        clusters=clusters,
        fit_fmr=fit_fmr,
        threshold_before=float(threshold),
        pooled_fmr_before=_rate(scored.scores[within_imp] >= threshold),
        pooled_fnmr_before=_rate(scored.scores[scored.genuine] < threshold),
        before=before,
        differentials_before=spread_before,
        runs=runs,
        recommended=not widened,
        verdict=verdict,
        notes=[
            "Fitted and measured on the same images (in-sample): an optimistic estimate of what the "
            "normalisation does on new people.",
            f"Fitted {len(runs)} times with different seeds (k-means seeding and pair sampling): the spread across "
            "seeds shows how much of the effect is the method and how much is chance.",
            "Clusters come from the embeddings alone; no demographic label is used to fit or apply it.",
            "Differentials before and after are over the groups that are not flagged.",
        ],
    )


def fsn_mitigation(
    embeddings: np.ndarray,
    identities: Sequence[str],
    usable: np.ndarray,
    scored: ScoredPairs,
    a: np.ndarray,
    b: np.ndarray,
    threshold: float,
    groups: list[GroupStats],
    config: AuditConfig,
    fitted: dict[tuple[int, float, int], FairScoreNormalizer] | None = None,
) -> Mitigation:
    """Fair score normalisation with ``config.fsn_clusters`` clusters, fitted with ``config.fsn_seeds`` seeds on the
    ``usable`` rows (images with a face; no label is needed), applied to the audit's pairs ``(a[i], b[i])`` and
    compared at equal pooled FMR.  ``fitted`` caches normalisers by ``(clusters, fit FMR, seed)`` across calls
    on the same rows (one set of images audited by several groupings)."""
    fit_fmr = config.fsn_fmr or config.target_fmr
    rows = np.flatnonzero(usable)
    names = [identities[int(i)] for i in rows]
    fitted = {} if fitted is None else fitted
    runs = []
    for seed in range(config.seed, config.seed + max(1, config.fsn_seeds)):
        key = (config.fsn_clusters, fit_fmr, seed)
        if key not in fitted:
            fitted[key] = FairScoreNormalizer.fit(embeddings[rows], names, fit_fmr, config.fsn_clusters, seed)
        normaliser = fitted[key]
        cluster = normaliser.assign(embeddings)
        normalised = normaliser.normalise(scored.scores, cluster[a], cluster[b])
        fallback = int(normaliser.fallback.sum())
        runs.append(normalised_run(scored, normalised, threshold, groups, seed, fallback, config.alpha))
    return summarise_mitigation(scored, threshold, groups, runs, FSN_METHOD, config.fsn_clusters, fit_fmr, config.alpha)
