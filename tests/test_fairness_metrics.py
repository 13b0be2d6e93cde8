"""Fairness metrics against hand-computed cases; pair generation; scoring; k-means; FSN (intervals: elsewhere)."""

from __future__ import annotations

import inspect
from collections import Counter
from pathlib import Path

import numpy as np
import pytest

from regard.errors import InvalidInputError
from regard.evaluation.metrics import threshold_at_fmr
from regard.fairness import metrics as m
from regard.fairness.fsn import FairScoreNormalizer
from regard.fairness.kmeans import kmeans
from regard.fairness.pairs import PairConfig, build_pairs, distinct_keys, triangle_pairs
from regard.fairness.scores import all_pairs_scores, impostor_scores_within, score_pairs
from regard.fairness.synthetic import synthetic_set

# --- differentials ------------------------------------------------------------------------------------------


def test_ratios_by_hand() -> None:
    fmr = [1e-4, 2e-4, 4e-4]
    assert m.max_min_ratio(fmr) == pytest.approx(4.0)  # 4e-4 / 1e-4
    # geometric mean = (1e-4 * 2e-4 * 4e-4) ** (1/3) = (8e-12) ** (1/3) = 2e-4; 4e-4 / 2e-4 = 2
    assert m.max_geomean_ratio(fmr) == pytest.approx(2.0)


def test_gini_by_hand() -> None:
    assert m.gini([0.0, 1.0]) == pytest.approx(1.0)  # sum|xi-xj| = 2; 2 / (2*4*0.5) = 0.5; * 2/1 = 1
    assert m.gini([1.0, 1.0, 1.0]) == 0.0
    # x = 1,2,3: sum over ordered pairs |xi-xj| = 2*(1+2+1) = 8; mean 2; 8 / (2*9*2) = 2/9; * 3/2 = 1/3
    assert m.gini([1.0, 2.0, 3.0]) == pytest.approx(1 / 3)
    assert m.gini([0.0, 0.0]) == 0.0 and m.gini([5.0]) == 0.0


def test_fdr_and_garbe_by_hand() -> None:
    # A = 0.003 - 0.001 = 0.002, B = 0.10 - 0.05 = 0.05; FDR = 1 - (0.5*0.002 + 0.5*0.05) = 1 - 0.026 = 0.974
    assert m.fairness_discrepancy_rate([0.001, 0.003], [0.05, 0.10]) == pytest.approx(0.974)
    # alpha 0.9: 1 - (0.9*0.002 + 0.1*0.05) = 1 - 0.0068 = 0.9932
    assert m.fairness_discrepancy_rate([0.001, 0.003], [0.05, 0.10], alpha=0.9) == pytest.approx(0.9932)
    # Gini(1e-4, 3e-4): sum = 2*2e-4 = 4e-4; 4e-4 / (2*4*2e-4) = 0.25; * 2 = 0.5.  Gini(0.1, 0.1) = 0.
    # GARBE = 0.5*0.5 + 0.5*0 = 0.25
    assert m.garbe([1e-4, 3e-4], [0.1, 0.1]) == pytest.approx(0.25)


def test_differentials_floor_zero_rates_and_say_so() -> None:
    # Group a: FMR 0 in 1,000 pairs -> floor 1/1000 = 1e-3; group b: FMR 1e-2.  Ratio 1e-2 / 1e-3 = 10.
    d = m.differentials(["a", "b"], [0.0, 1e-2], [0.02, 0.04], [1000, 1000], [500, 500])
    assert d.fmr_max_min == pytest.approx(10.0)
    assert d.fnmr_max_min == pytest.approx(2.0)  # 0.04 / 0.02
    assert any("FMR of a is 0" in n for n in d.notes)
    # A small group with no error must not pose as the worst: floor 1/100 = 0.01 is capped at the max (1e-3).
    small = m.differentials(["a", "b"], [0.0, 1e-3], [0.1, 0.1], [100, 10_000], [50, 50])
    assert small.fmr_max_min == pytest.approx(1.0)
    # No error anywhere: ratios are 1, not a ratio of floors.
    none = m.differentials(["a", "b"], [0.0, 0.0], [0.0, 0.0], [100, 10_000], [50, 50])
    assert none.fmr_max_min == 1.0 and none.fnmr_max_geomean == 1.0
    assert m.differentials(["a"], [0.1], [0.1], [10], [10]).fmr_max_min is None


def test_det_curve_matches_threshold_at_fmr() -> None:
    impostor = np.arange(1000) / 1000.0  # 0.000 .. 0.999
    genuine = np.linspace(0.5, 1.0, 200)
    fmr, fnmr, thresholds = m.det_curve(genuine, impostor, points=10)
    assert np.all(np.diff(fmr) <= 0) and np.all(np.diff(fnmr) >= 0)
    assert fmr[0] == pytest.approx(0.5) and fmr[-1] == pytest.approx(1e-3)  # 500 down to 1 false match in 1000
    for f, fn, t in zip(fmr, fnmr, thresholds, strict=True):
        assert f == np.mean(impostor >= t) and fn == np.mean(genuine < t)
    # At FMR 0.1 the threshold lets the top 100 impostors (0.900 .. 0.999) match: just above 0.899.
    assert threshold_at_fmr(impostor, 0.1) == pytest.approx(0.899)


def test_histogram_clips_into_range() -> None:
    edges = np.array([0.0, 0.5, 1.0])
    assert m.histogram(np.array([-3.0, 0.2, 0.7, 0.9, 5.0]), edges) == [2, 3]


def test_adequacy_rule_is_explicit() -> None:
    rule = m.AdequacyRule()
    assert rule.reasons(50, 20, 500, 40_000, 1e-4) == []
    reasons = rule.reasons(5, 3, 40, 20_000, 1e-4)  # 3 / 1e-4 = 30,000 impostor pairs needed
    assert len(reasons) == 4 and "30,000" in reasons[3]


# --- pairs --------------------------------------------------------------------------------------------------


def test_triangle_pairs_and_distinct_keys() -> None:
    for n in (2, 3, 17, 1001):
        i, j = triangle_pairs(n, np.arange(n * (n - 1) // 2))
        ti, tj = np.triu_indices(n, 1)
        assert np.array_equal(i, ti) and np.array_equal(j, tj)
    keys = distinct_keys(np.random.default_rng(0), 10**9, 50_000)
    assert keys.size == 50_000 and np.unique(keys).size == 50_000 and keys.min() >= 0 and keys.max() < 10**9


def test_build_pairs_invariants() -> None:
    # identities: a x3 (group g), b x2 (g), c x1 (g), d x2 (h), e x2 (h), f x2 (unlabelled)
    ids = ["a", "a", "a", "b", "b", "c", "d", "d", "e", "e", "f", "f"]
    groups = {"a": "g", "b": "g", "c": "g", "d": "h", "e": "h", "f": ""}
    pairs = build_pairs(ids, groups, seed=1)
    assert pairs.group_names == ("g", "h")
    ident = np.asarray(ids)
    gen = pairs.genuine
    # genuine: C(3,2) + C(2,2) + C(2,2) + C(2,2) = 3 + 1 + 1 + 1 = 6, all within one identity
    assert gen.sum() == 6 and np.all(ident[pairs.a[gen]] == ident[pairs.b[gen]])
    # impostors within g: C(6,2) - 3 - 1 = 11; within h: C(4,2) - 1 - 1 = 4; across: 6 * 4 = 24
    within = ~gen & pairs.within
    assert np.all(ident[pairs.a[~gen]] != ident[pairs.b[~gen]])
    assert Counter(pairs.group_a[within].tolist()) == {0: 11, 1: 4}
    assert (~gen & ~pairs.within).sum() == 24
    assert not np.isin(pairs.a, [10, 11]).any() and not np.isin(pairs.b, [10, 11]).any()  # f has no group
    keys = set(zip(np.minimum(pairs.a, pairs.b).tolist(), np.maximum(pairs.a, pairs.b).tolist(), strict=True))
    assert len(keys) == len(pairs)  # no pair twice
    usable = np.ones(12, dtype=bool)
    usable[0] = False  # no face in image 0: it takes part in no pair
    masked = build_pairs(ids, groups, usable, seed=1)
    assert 0 not in masked.a and 0 not in masked.b and masked.genuine.sum() == 4


def test_build_pairs_samples_with_a_cap_and_a_seed() -> None:
    data = synthetic_set({"x": 300, "y": 200}, {"x": 0.1, "y": 0.1}, images_per_identity=(1, 4), dim=8)
    config = PairConfig(max_within_impostors=5000, max_cross_impostors=700)
    pairs = build_pairs(data.identities, dict(zip(data.identities, data.groups, strict=True)), None, config, seed=3)
    same = build_pairs(data.identities, dict(zip(data.identities, data.groups, strict=True)), None, config, seed=3)
    assert np.array_equal(pairs.a, same.a) and np.array_equal(pairs.b, same.b)
    imp = ~pairs.genuine
    assert Counter(pairs.group_a[imp & pairs.within].tolist()) == {0: 5000, 1: 5000}
    assert (imp & ~pairs.within).sum() == 700
    ident = np.asarray(data.identities)
    assert np.all(ident[pairs.a[imp]] != ident[pairs.b[imp]])
    keys = np.minimum(pairs.a, pairs.b) * 10**6 + np.maximum(pairs.a, pairs.b)
    assert np.unique(keys).size == keys.size


# --- scores -------------------------------------------------------------------------------------------------


def test_scoring_paths_agree_with_plain_cosine() -> None:
    rng = np.random.default_rng(0)
    v = rng.standard_normal((300, 16)).astype(np.float32) * 3
    v[5] = 0  # no face: scores 0
    unit = v / np.maximum(np.linalg.norm(v, axis=1, keepdims=True), 1e-12)
    a, b = rng.integers(0, 300, 20_000), rng.integers(0, 300, 20_000)
    np.testing.assert_allclose(score_pairs(v, a, b), np.sum(unit[a] * unit[b], axis=1), atol=1e-5)
    i, j = np.triu_indices(300, 1)
    np.testing.assert_allclose(all_pairs_scores(v, block=64), np.sum(unit[i] * unit[j], axis=1), atol=1e-5)
    identity = np.arange(300) // 3
    keep = identity[i] != identity[j]
    np.testing.assert_allclose(
        impostor_scores_within(v, identity, block=50), np.sum(unit[i[keep]] * unit[j[keep]], axis=1), atol=1e-5
    )


# --- k-means and fair score normalisation -------------------------------------------------------------------


def test_kmeans_finds_separated_blobs_deterministically() -> None:
    rng = np.random.default_rng(0)
    centres = np.array([[5.0, 0.0], [-5.0, 0.0], [0.0, 5.0]])
    x = np.concatenate([c + rng.standard_normal((100, 2)) * 0.3 for c in centres]).astype(np.float32)
    _, labels = kmeans(x, 3, seed=1)
    assert all(np.unique(labels[k * 100 : (k + 1) * 100]).size == 1 for k in range(3))
    assert np.unique(labels).size == 3
    assert np.array_equal(labels, kmeans(x, 3, seed=1)[1])
    with pytest.raises(InvalidInputError):
        kmeans(x, 0)


def test_fsn_never_takes_demographic_labels() -> None:
    assert set(inspect.signature(FairScoreNormalizer.fit).parameters) == {
        "embeddings",
        "identities",
        "fmr",
        "k",
        "seed",
        "max_impostors",
    }


def test_fsn_narrows_the_fmr_spread_at_equal_overall_fmr(tmp_path: Path) -> None:
    # Two populations in different regions of the space; in "tight" people look more alike (impostor cosine
    # about 0.15 against 0.02), so one global threshold gives "tight" a much higher FMR.
    data = synthetic_set({"loose": 700, "tight": 700}, {"loose": 0.02, "tight": 0.15}, images_per_identity=(2, 3))
    labels = np.asarray(data.groups)
    pairs = build_pairs(data.identities, dict(zip(data.identities, data.groups, strict=True)), seed=0)
    imp = ~pairs.genuine & pairs.within
    scores = score_pairs(data.vectors, pairs.a, pairs.b).astype(np.float64)
    threshold = threshold_at_fmr(scores[imp], 1e-3)

    def spread(s: np.ndarray, t: float) -> float:
        rates = [np.mean(s[imp & (labels[pairs.a] == g)] >= t) for g in ("loose", "tight")]
        return float(max(rates) - min(rates))

    fsn = FairScoreNormalizer.fit(data.vectors, data.identities, fmr=1e-3, k=4, seed=0)
    cluster = fsn.assign(data.vectors)
    normalised = fsn.normalise(scores, cluster[pairs.a], cluster[pairs.b])
    false_matches = int((scores[imp] >= threshold).sum())
    after = np.sort(normalised[imp])[::-1][false_matches]  # same number of false matches overall
    after_threshold = float(np.nextafter(after, np.inf))
    assert int((normalised[imp] >= after_threshold).sum()) == false_matches
    assert spread(normalised, after_threshold) < 0.5 * spread(scores, threshold)
    path = tmp_path / "fsn.json"
    fsn.save(path)
    again = FairScoreNormalizer.load(path)
    np.testing.assert_array_equal(again.assign(data.vectors), cluster)
    np.testing.assert_allclose(again.normalise(scores, cluster[pairs.a], cluster[pairs.b]), normalised)
    with pytest.raises(InvalidInputError):
        FairScoreNormalizer.from_json('{"format": "something else"}')


def test_gpu_scoring_path_matches_numpy() -> None:
    """The onnxruntime graph used on GPUs gives numpy's scores (run here on onnxruntime's CPU provider)."""
    from regard.fairness.scores import score_pairs

    rng = np.random.default_rng(5)
    vectors = rng.standard_normal((300, 128)).astype(np.float32)
    a, b = rng.integers(0, 300, 5000), rng.integers(0, 300, 5000)
    assert np.allclose(
        score_pairs(vectors, a, b, device="onnx-cpu"), score_pairs(vectors, a, b, device="cpu"), atol=1e-5
    )
