"""From scored, group-labelled pairs to an :class:`AuditReport`: rates, intervals, differentials, curves, flags."""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from datetime import UTC, datetime

import numpy as np

from regard.evaluation.metrics import threshold_at_fmr
from regard.fairness import intervals as iv
from regard.fairness import metrics as m
from regard.fairness.pairs import PairConfig
from regard.fairness.report import (
    AuditReport,
    CrossGroupStats,
    DatasetInfo,
    DetCurve,
    GroupRates,
    GroupStats,
    Provenance,
    ScoreHistogram,
)

# One identity supplying more than this share of a group's genuine pairs gets a caveat.
DOMINANT_IDENTITY_SHARE = 0.25


@dataclass(frozen=True)
class AuditConfig:
    """Every choice an audit makes, recorded in the report."""

    target_fmr: float = 1e-4
    pairs: PairConfig = field(default_factory=PairConfig)
    adequacy: m.AdequacyRule = field(default_factory=m.AdequacyRule)
    bootstrap_replicates: int = 1000
    ci_level: float = 0.95
    alpha: float = 0.5  # weight of FMR against FNMR in FDR and GARBE
    seed: int = 0
    det_points: int = 40
    histogram_bins: int = 60
    fsn_clusters: int = 0  # 0: no fair score normalisation comparison
    fsn_fmr: float | None = None  # FMR the FSN cluster thresholds hold; None: target_fmr
    fsn_seeds: int = 5  # FSN is fitted with seeds seed, seed+1, ...: its effect varies with them


@dataclass(frozen=True)
class ScoredPairs:
    """Similarity scores of pairs with the group (and, when known, the identity) of each side."""

    scores: np.ndarray
    genuine: np.ndarray  # bool
    group_a: np.ndarray  # int codes into group_names
    group_b: np.ndarray
    group_names: tuple[str, ...]
    identity_a: np.ndarray | None = None  # int codes; None: unknown (intervals then resample pairs)
    identity_b: np.ndarray | None = None


@dataclass(frozen=True)
class GroupSizes:
    """Per group (aligned with ``group_names``): identities, images, images where no face was found."""

    identities: list[int]
    images: list[int]
    without_face: list[int]


def evaluate(
    scored: ScoredPairs,
    threshold: float,
    threshold_source: str,
    system: str,
    system_version: str,
    dataset: DatasetInfo,
    config: AuditConfig,
    provenance: Provenance,
    sizes: GroupSizes | None = None,
    caveats: list[str] | None = None,
    sampled: bool = True,
) -> AuditReport:
    """The audit of ``scored`` at ``threshold``: per-group and cross-group rates, differentials, DET, histograms.

    ``sampled`` says the pairs were drawn by :func:`regard.fairness.pairs.build_pairs` with ``config.pairs``
    (False: they came from elsewhere, a score file), for the caveats.
    """
    groups = [_group_stats(scored, g, threshold, config, sizes) for g in range(len(scored.group_names))]
    cross = [
        _cross_stats(scored, g, h, threshold, config)
        for g in range(len(scored.group_names))
        for h in range(g + 1, len(scored.group_names))
    ]
    within_imp = ~scored.genuine & (scored.group_a == scored.group_b)
    edges = _edges(scored.scores, config.histogram_bins)
    flags = [f"{s.group}: {'; '.join(s.flag_reasons)}" for s in groups if s.flagged]
    report = AuditReport(
        system=system,
        system_version=system_version,
        dataset=dataset,
        threshold=float(threshold),
        threshold_source=threshold_source,
        target_fmr=config.target_fmr,
        pooled_fmr=_rate(scored.scores[within_imp] >= threshold),
        pooled_fnmr=_rate(scored.scores[scored.genuine] < threshold),
        adequacy=config.adequacy,
        bootstrap_replicates=config.bootstrap_replicates,
        ci_level=config.ci_level,
        seed=config.seed,
        groups=groups,
        cross_groups=cross,
        differentials=group_differentials(groups, config.alpha),
        differentials_adequate=group_differentials([s for s in groups if not s.flagged], config.alpha),
        flags=flags,
        caveats=[],
        det=[_det(scored, g, config.det_points) for g in range(len(scored.group_names))],
        histograms=[_histogram(scored, g, edges) for g in range(len(scored.group_names))],
        provenance=provenance,
        created=datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
    )
    report.caveats = standard_caveats(report, scored.identity_a is not None, config, sampled) + list(caveats or [])
    return report


def group_differentials(groups: list[GroupStats], alpha: float) -> m.Differentials:
    """Differentials over ``groups`` from their rates and pair counts."""
    usable = [s for s in groups if s.fmr is not None and s.fnmr is not None]
    return m.differentials(
        [s.group for s in usable],
        [float(s.fmr or 0.0) for s in usable],
        [float(s.fnmr or 0.0) for s in usable],
        [s.impostor_pairs for s in usable],
        [s.genuine_pairs for s in usable],
        alpha,
    )


def group_rates(scored: ScoredPairs, scores: np.ndarray, threshold: float) -> list[GroupRates]:
    """FMR and FNMR per group of ``scores`` (aligned with ``scored``'s pairs) at ``threshold``."""
    out = []
    for g, name in enumerate(scored.group_names):
        gen = scored.genuine & (scored.group_a == g)
        imp = ~scored.genuine & (scored.group_a == g) & (scored.group_b == g)
        fm, fnm = scores[imp] >= threshold, scores[gen] < threshold
        out.append(GroupRates(name, _rate(fm), _rate(fnm), int(fm.sum()), int(fnm.sum())))
    return out


def _group_stats(
    scored: ScoredPairs, g: int, threshold: float, config: AuditConfig, sizes: GroupSizes | None
) -> GroupStats:
    gen = scored.genuine & (scored.group_a == g)
    imp = ~scored.genuine & (scored.group_a == g) & (scored.group_b == g)
    gen_scores, imp_scores = scored.scores[gen], scored.scores[imp]
    fnm, fm = gen_scores < threshold, imp_scores >= threshold
    seed = [config.seed, g]
    fnmr_ci = _ci(scored, gen, fnm, True, config, [*seed, 0])
    fmr_ci = _ci(scored, imp, fm, False, config, [*seed, 1])
    own = threshold_at_fmr(imp_scores, config.target_fmr) if imp_scores.size else None
    gen_ids = scored.identity_a[gen] if scored.identity_a is not None else None
    share = None
    if gen_ids is not None and gen_ids.size:
        share = float(np.bincount(gen_ids).max() / gen_ids.size)
    if sizes is not None:
        identities: int | None = sizes.identities[g]
    elif scored.identity_a is not None and scored.identity_b is not None:
        both = np.concatenate([scored.identity_a[gen | imp], scored.identity_b[gen | imp]])
        identities = int(np.unique(both).size)
    else:
        identities = None
    genuine_identities = int(np.unique(gen_ids).size) if gen_ids is not None else None
    reasons = config.adequacy.reasons(
        identities if identities is not None else config.adequacy.min_identities,
        genuine_identities if genuine_identities is not None else config.adequacy.min_genuine_identities,
        int(gen.sum()),
        int(imp.sum()),
        config.target_fmr,
    )
    return GroupStats(
        group=scored.group_names[g],
        identities=identities,
        images=sizes.images[g] if sizes else None,
        images_without_face=sizes.without_face[g] if sizes else 0,
        genuine_identities=genuine_identities,
        genuine_pairs=int(gen.sum()),
        impostor_pairs=int(imp.sum()),
        false_non_matches=int(fnm.sum()),
        false_matches=int(fm.sum()),
        fmr=_rate(fm),
        fmr_ci=fmr_ci,
        fnmr=_rate(fnm),
        fnmr_ci=fnmr_ci,
        threshold_at_target_fmr=own,
        fnmr_at_own_threshold=_rate(gen_scores < own) if own is not None else None,
        largest_identity_genuine_share=share,
        flagged=bool(reasons),
        flag_reasons=reasons,
    )


def _cross_stats(scored: ScoredPairs, g: int, h: int, threshold: float, config: AuditConfig) -> CrossGroupStats:
    imp = ~scored.genuine & (
        ((scored.group_a == g) & (scored.group_b == h)) | ((scored.group_a == h) & (scored.group_b == g))
    )
    fm = scored.scores[imp] >= threshold
    return CrossGroupStats(
        group_a=scored.group_names[g],
        group_b=scored.group_names[h],
        impostor_pairs=int(imp.sum()),
        false_matches=int(fm.sum()),
        fmr=_rate(fm),
        fmr_ci=_ci(scored, imp, fm, False, config, [config.seed, g, h, 2]),
    )


def _ci(
    scored: ScoredPairs, mask: np.ndarray, errors: np.ndarray, genuine: bool, config: AuditConfig, seed: list[int]
) -> tuple[float, float] | None:
    """Intervals that resample people when identities are known (:mod:`regard.fairness.intervals`), pairs
    otherwise."""
    if errors.size == 0:
        return None
    seed_int = int(np.random.SeedSequence(seed).generate_state(1)[0])
    replicates, level = config.bootstrap_replicates, config.ci_level
    if scored.identity_a is None or scored.identity_b is None:
        ones = np.ones(errors.size, dtype=np.int64)
        low, high = iv.identity_bootstrap_ci(errors.astype(np.int64), ones, replicates, level, seed_int)
    elif genuine:
        n = int(scored.identity_a.max()) + 1
        e, t = m.unit_counts(errors, scored.identity_a[mask], n)
        low, high = iv.identity_bootstrap_ci(e, t, replicates, level, seed_int)
    else:
        a, b = scored.identity_a[mask], scored.identity_b[mask]
        # Across two groups each side is resampled within its own group; within one group, one stratum.
        n = int(max(scored.identity_a.max(), scored.identity_b.max())) + 1
        stratum = np.zeros(n, dtype=np.int64)
        stratum[a] = scored.group_a[mask]
        stratum[b] = scored.group_b[mask]
        low, high = iv.pair_bootstrap_ci(errors, a, b, replicates, level, seed_int, stratum)
    return (low, high) if math.isfinite(low) else None


def _det(scored: ScoredPairs, g: int, points: int) -> DetCurve:
    gen = scored.genuine & (scored.group_a == g)
    imp = ~scored.genuine & (scored.group_a == g) & (scored.group_b == g)
    fmr, fnmr, thr = m.det_curve(scored.scores[gen], scored.scores[imp], points)
    return DetCurve(scored.group_names[g], fmr.tolist(), fnmr.tolist(), thr.tolist())


def _edges(scores: np.ndarray, bins: int) -> np.ndarray:
    if scores.size == 0:
        return np.linspace(-1.0, 1.0, bins + 1)
    low = max(-1.0, math.floor(float(scores.min()) * 10) / 10)
    high = min(1.0, math.ceil(float(scores.max()) * 10) / 10)
    return np.linspace(low, max(high, low + 0.1), bins + 1)


def _histogram(scored: ScoredPairs, g: int, edges: np.ndarray) -> ScoreHistogram:
    gen = scored.genuine & (scored.group_a == g)
    imp = ~scored.genuine & (scored.group_a == g) & (scored.group_b == g)
    return ScoreHistogram(
        scored.group_names[g],
        [float(e) for e in edges],
        m.histogram(scored.scores[gen], edges),
        m.histogram(scored.scores[imp], edges),
    )


def _rate(errors: np.ndarray) -> float | None:
    return float(errors.mean()) if errors.size else None


def standard_caveats(report: AuditReport, identities_known: bool, config: AuditConfig, sampled: bool) -> list[str]:
    """What every reader of this report must keep in mind, derived from the report itself."""
    out = [
        f"Group labels ({report.dataset.group_column or 'group'}) are {report.dataset.labels.describe()}. Regard "
        "never infers demographic attributes from faces.",
        *report.dataset.labels.caveats(),
        "The rates describe this system at this threshold on this dataset. They do not transfer to other "
        "populations, image conditions (capture, pose, lighting, age) or thresholds.",
    ]
    if sampled:
        out.append(
            "Impostor pairs are built within each group (as NIST FRVT Part 3 does) and sampled: up to "
            f"{config.pairs.max_within_impostors:,} per group, seed {config.seed}; every genuine pair is used."
        )
    else:
        out.append("The pairs are those of the score file: which comparisons to include was the auditor's choice.")
    if identities_known:
        out.append(
            f"{config.ci_level:.0%} intervals: percentile bootstrap over identities ({config.bootstrap_replicates} "
            "replicates); an impostor pair counts in a replicate when both its people were drawn, once per pair of "
            "draws. With no error observed the interval is the exact Clopper-Pearson one, [0, about 3.69 / pairs]."
        )
    else:
        out.append(
            "The scores carry no identities: intervals resample pairs, not people, and are too narrow when one "
            "person appears in many pairs. With no error observed the interval is the exact Clopper-Pearson one."
        )
    for s in report.groups:
        if s.largest_identity_genuine_share and s.largest_identity_genuine_share > DOMINANT_IDENTITY_SHARE:
            out.append(
                f"In group {s.group}, one identity supplies {s.largest_identity_genuine_share:.0%} of the genuine "
                "pairs: its FNMR mostly reflects that person (the interval, which resamples people, shows it)."
            )
        if s.flagged:
            out.append(
                f"Group {s.group} is too small for a reliable estimate ({'; '.join(s.flag_reasons)}). Its rates are "
                "shown, but gate rules that need enough samples leave it out."
            )
    if report.dataset.excluded_unlabelled:
        out.append(f"{report.dataset.excluded_unlabelled:,} images or rows without a group label were left out.")
    return out
