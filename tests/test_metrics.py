"""Verification metrics and the score scale against hand-computed cases."""

from __future__ import annotations

import numpy as np
import pytest

from regard.backends.calibration import score_to_similarity, similarity_to_score, threshold_for
from regard.errors import InvalidInputError
from regard.evaluation.metrics import (
    best_accuracy_threshold,
    equal_error_rate,
    kfold_accuracy,
    rates_at,
    tar_at_fmr,
    threshold_at_fmr,
)
from regard.evaluation.protocol import tree_pairs

IMPOSTOR = np.array([0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9, 0.95])
GENUINE = np.array([0.5, 0.85, 0.9, 0.92, 0.97, 0.99])


def test_threshold_at_fmr() -> None:
    # 10 impostors: FMR 0.1 allows one false match (0.95), so the threshold sits just above 0.9.
    t = threshold_at_fmr(IMPOSTOR, 0.1)
    assert 0.9 < t <= 0.95 + 1e-12
    assert rates_at(GENUINE, IMPOSTOR, t)[0] == pytest.approx(0.1)
    # FMR 0.0 allows none: just above the highest impostor.
    assert threshold_at_fmr(IMPOSTOR, 0.0) > 0.95
    tar, _ = tar_at_fmr(GENUINE, IMPOSTOR, 0.1)
    assert tar == pytest.approx(3 / 6)


def test_rates_at() -> None:
    fmr, fnmr = rates_at(GENUINE, IMPOSTOR, 0.9)
    assert fmr == pytest.approx(2 / 10) and fnmr == pytest.approx(2 / 6)


def test_equal_error_rate() -> None:
    genuine = np.array([0.6, 0.7, 0.8, 0.9])
    impostor = np.array([0.1, 0.2, 0.3, 0.65])
    eer, threshold = equal_error_rate(genuine, impostor)
    assert eer == pytest.approx(0.25)
    assert 0.6 <= threshold <= 0.7


def test_best_threshold_and_kfold() -> None:
    scores = np.array([0.1, 0.2, 0.8, 0.9, 0.15, 0.85])
    same = np.array([False, False, True, True, False, True])
    t = best_accuracy_threshold(scores, same)
    assert 0.2 < t < 0.8
    result = kfold_accuracy(scores, same, np.array([0, 0, 0, 1, 1, 1]))
    assert result.accuracy_mean == 1.0 and len(result.fold_accuracies) == 2


def test_tree_pairs_keep_identities_in_one_fold() -> None:
    identities = [f"p{i // 3}" for i in range(60)]
    pairs = tree_pairs(identities, folds=5)
    assert pairs.same.sum() == 20 * 3
    assert (~pairs.same).sum() == pairs.same.sum()
    fold_of_image = {}
    for a, b, f in zip(pairs.a, pairs.b, pairs.fold, strict=True):
        for i in (a, b):
            assert fold_of_image.setdefault(int(i), int(f)) == f


THRESHOLDS = {"1e-01": 0.2, "1e-02": 0.3, "1e-03": 0.4, "1e-04": 0.5, "1e-05": 0.6}


def test_score_scale_anchors() -> None:
    assert similarity_to_score(-1.0, THRESHOLDS) == 0
    assert similarity_to_score(1.0, THRESHOLDS) == 100
    assert similarity_to_score(0.4, THRESHOLDS) == pytest.approx(90)
    assert similarity_to_score(0.6, THRESHOLDS) == pytest.approx(99)
    assert similarity_to_score(0.55, THRESHOLDS) == pytest.approx(97)
    grid = np.linspace(-1, 1, 201)
    assert np.all(np.diff(similarity_to_score(grid, THRESHOLDS)) >= 0)
    for score in (0, 35, 50, 90, 99, 100):
        assert similarity_to_score(score_to_similarity(score, THRESHOLDS), THRESHOLDS) == pytest.approx(score)


def test_threshold_lookup() -> None:
    assert threshold_for(THRESHOLDS, 1e-4) == 0.5
    with pytest.raises(InvalidInputError, match="no threshold"):
        threshold_for(THRESHOLDS, 1e-6)
    with pytest.raises(InvalidInputError):
        score_to_similarity(101, THRESHOLDS)


def test_balanced_pairs_are_fixed_by_the_seed() -> None:
    from regard.evaluation.protocol import balanced_pairs, decisions

    identities = [f"p{i // 5}" for i in range(50)]  # 10 people, 5 photos each
    pairs = balanced_pairs(identities)
    assert pairs.same.sum() == 10 * 10 and (~pairs.same).sum() == 100  # every genuine pair, as many impostors
    labels = np.asarray(identities)
    assert (labels[pairs.a] == labels[pairs.b]).tolist() == pairs.same.tolist()
    impostors = set(zip(pairs.a[~pairs.same].tolist(), pairs.b[~pairs.same].tolist(), strict=True))
    assert len(impostors) == 100
    again = balanced_pairs(identities)
    assert np.array_equal(again.a, pairs.a) and np.array_equal(again.b, pairs.b)
    assert balanced_pairs(identities, genuine_per_identity=3).same.sum() == 30
    scores = np.where(pairs.same, 0.9, 0.1)
    report = decisions(scores, pairs.same, {"1e-03": 0.5, "1e-04": 0.95})
    assert report.accuracy_at == {"1e-03": 1.0, "1e-04": 0.5} and report.fnmr_at["1e-04"] == 1.0
    assert report.best_accuracy == 1.0 and report.eer == 0.0
