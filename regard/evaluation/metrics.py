"""Verification metrics as pure functions over genuine and impostor similarity scores."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np


def threshold_at_fmr(impostor: np.ndarray, fmr: float) -> float:
    """Smallest threshold whose false match rate on ``impostor`` scores is at most ``fmr``.

    A pair matches when its score is >= the threshold.
    """
    scores = np.sort(np.asarray(impostor, dtype=np.float64))[::-1]
    allowed = int(np.floor(fmr * scores.size))  # false matches we may accept
    if allowed >= scores.size:
        return float(scores[-1])
    return float(np.nextafter(scores[allowed], np.inf))


def rates_at(genuine: np.ndarray, impostor: np.ndarray, threshold: float) -> tuple[float, float]:
    """(FMR, FNMR) at ``threshold``."""
    fmr = float(np.mean(np.asarray(impostor) >= threshold)) if len(impostor) else 0.0
    fnmr = float(np.mean(np.asarray(genuine) < threshold)) if len(genuine) else 0.0
    return fmr, fnmr


def tar_at_fmr(genuine: np.ndarray, impostor: np.ndarray, fmr: float) -> tuple[float, float]:
    """(TAR, threshold) at the threshold that gives at most ``fmr`` on the impostors."""
    threshold = threshold_at_fmr(impostor, fmr)
    return float(np.mean(np.asarray(genuine) >= threshold)), threshold


def equal_error_rate(genuine: np.ndarray, impostor: np.ndarray) -> tuple[float, float]:
    """(EER, threshold): where FMR and FNMR cross, averaged at the closest candidate threshold."""
    thresholds = np.unique(np.concatenate([genuine, impostor]))
    imp = np.sort(impostor)
    gen = np.sort(genuine)
    fmr = 1.0 - np.searchsorted(imp, thresholds, side="left") / imp.size
    fnmr = np.searchsorted(gen, thresholds, side="left") / gen.size
    i = int(np.argmin(np.abs(fmr - fnmr)))
    return float((fmr[i] + fnmr[i]) / 2), float(thresholds[i])


def best_accuracy_threshold(scores: np.ndarray, same: np.ndarray) -> float:
    """Threshold maximising accuracy on labelled pairs (midpoint between neighbouring scores)."""
    order = np.argsort(scores)
    s, y = scores[order], same[order].astype(np.int64)
    # Predict "same" for scores >= s[i]: correct = negatives below i + positives from i on.
    neg_below = np.concatenate([[0], np.cumsum(1 - y)])
    pos_from = np.concatenate([np.cumsum(y[::-1])[::-1], [0]])
    correct = neg_below + pos_from
    i = int(np.argmax(correct))
    if i == 0:
        return float(s[0] - 1e-6)
    if i == s.size:
        return float(s[-1] + 1e-6)
    return float((s[i - 1] + s[i]) / 2)


@dataclass(frozen=True)
class KFoldResult:
    accuracy_mean: float
    accuracy_std: float
    fold_accuracies: list[float]
    thresholds: list[float]


def kfold_accuracy(scores: np.ndarray, same: np.ndarray, folds: np.ndarray) -> KFoldResult:
    """LFW protocol: per fold, the threshold is chosen on the other folds, accuracy measured on this one."""
    accuracies, thresholds = [], []
    for fold in np.unique(folds):
        test = folds == fold
        threshold = best_accuracy_threshold(scores[~test], same[~test])
        accuracies.append(float(np.mean((scores[test] >= threshold) == same[test].astype(bool))))
        thresholds.append(threshold)
    return KFoldResult(float(np.mean(accuracies)), float(np.std(accuracies)), accuracies, thresholds)
