"""Verification on an identity-labelled set: pairs, 10 folds by identity, accuracy, TAR, EER."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from regard.evaluation.metrics import best_accuracy_threshold, equal_error_rate, kfold_accuracy, tar_at_fmr


@dataclass(frozen=True)
class Pairs:
    a: np.ndarray  # image indices
    b: np.ndarray
    same: np.ndarray  # bool
    fold: np.ndarray  # int


@dataclass(frozen=True)
class VerificationReport:
    pairs: int
    genuine: int
    impostor: int
    accuracy_mean: float
    accuracy_std: float
    tar_at_fmr_1e3: float
    threshold_at_fmr_1e3: float
    eer: float
    eer_threshold: float
    images_without_face: int


def tree_pairs(identities: Sequence[str], folds: int = 10, max_genuine_per_identity: int = 45, seed: int = 0) -> Pairs:
    """Genuine pairs within identities and as many impostor pairs, both inside one fold of identities.

    Identities are dealt to ``folds`` folds at random, so no identity is in two folds.
    """
    rng = np.random.default_rng(seed)
    by_id: dict[str, list[int]] = defaultdict(list)
    for i, ident in enumerate(identities):
        by_id[ident].append(i)
    names = sorted(by_id)
    fold_of = {name: int(f) for name, f in zip(names, rng.permutation(len(names)) % folds, strict=True)}
    a, b, same, fold = [], [], [], []
    for name in names:
        imgs = by_id[name]
        combos = [(imgs[i], imgs[j]) for i in range(len(imgs)) for j in range(i + 1, len(imgs))]
        if len(combos) > max_genuine_per_identity:
            combos = [combos[k] for k in rng.choice(len(combos), max_genuine_per_identity, replace=False)]
        for x, y in combos:
            a.append(x)
            b.append(y)
            same.append(True)
            fold.append(fold_of[name])
    genuine = len(a)
    per_fold = [[n for n in names if fold_of[n] == f] for f in range(folds)]
    attempts = 0
    while len(a) < 2 * genuine and attempts < 20 * genuine:
        attempts += 1
        f = int(rng.integers(folds))
        if len(per_fold[f]) < 2:
            continue
        n1, n2 = rng.choice(per_fold[f], 2, replace=False)
        a.append(int(rng.choice(by_id[n1])))
        b.append(int(rng.choice(by_id[n2])))
        same.append(False)
        fold.append(f)
    return Pairs(np.asarray(a), np.asarray(b), np.asarray(same), np.asarray(fold))


def verify(vectors: np.ndarray, found: np.ndarray, pairs: Pairs) -> VerificationReport:
    """Score pairs by cosine; a pair with an image where no face was found scores -1 (counts as an error)."""
    scores = np.einsum("ij,ij->i", vectors[pairs.a], vectors[pairs.b]).astype(np.float64)
    scores[~(found[pairs.a] & found[pairs.b])] = -1.0
    genuine, impostor = scores[pairs.same], scores[~pairs.same]
    kfold = kfold_accuracy(scores, pairs.same, pairs.fold)
    tar, thr = tar_at_fmr(genuine, impostor, 1e-3)
    eer, eer_thr = equal_error_rate(genuine, impostor)
    used = np.unique(np.concatenate([pairs.a, pairs.b]))
    return VerificationReport(
        pairs=int(scores.size),
        genuine=int(genuine.size),
        impostor=int(impostor.size),
        accuracy_mean=kfold.accuracy_mean,
        accuracy_std=kfold.accuracy_std,
        tar_at_fmr_1e3=tar,
        threshold_at_fmr_1e3=thr,
        eer=eer,
        eer_threshold=eer_thr,
        images_without_face=int((~found[used]).sum()),
    )


def balanced_pairs(identities: Sequence[str], genuine_per_identity: int = 0, seed: int = 0) -> Pairs:
    """Genuine pairs within each identity (all, or ``genuine_per_identity`` drawn per identity) and as many
    impostor pairs of images of two different identities, drawn uniformly without repeats; one fold.

    Fixed by ``seed``: the in-the-wild 1:1 protocol (docs/benchmarks.md).
    """
    rng = np.random.default_rng(seed)
    by_id: dict[str, list[int]] = defaultdict(list)
    for i, ident in enumerate(identities):
        by_id[ident].append(i)
    genuine: list[tuple[int, int]] = []
    for name in sorted(by_id):
        imgs = by_id[name]
        combos = [(imgs[i], imgs[j]) for i in range(len(imgs)) for j in range(i + 1, len(imgs))]
        if 0 < genuine_per_identity < len(combos):
            combos = [combos[k] for k in sorted(rng.choice(len(combos), genuine_per_identity, replace=False))]
        genuine += combos
    labels = np.asarray(identities)
    impostor: set[tuple[int, int]] = set()
    while len(impostor) < len(genuine):
        a, b = (int(v) for v in rng.integers(len(labels), size=2))
        if labels[a] != labels[b]:
            impostor.add((min(a, b), max(a, b)))
    pairs = genuine + sorted(impostor)
    same = np.asarray([True] * len(genuine) + [False] * len(impostor))
    return Pairs(np.asarray([p[0] for p in pairs]), np.asarray([p[1] for p in pairs]), same, np.zeros(len(pairs), int))


@dataclass(frozen=True)
class DecisionReport:
    """How often 1:1 decisions are right on balanced pairs, at calibrated operating points and at the best threshold."""

    pairs: int
    genuine: int
    impostor: int
    accuracy_at: dict[str, float]  # FMR key ("1e-03") -> share of pairs decided correctly at that threshold
    fnmr_at: dict[str, float]
    fmr_at: dict[str, float]
    best_accuracy: float  # at the threshold that suits these pairs best (an upper bound, chosen on the test pairs)
    best_threshold: float
    eer: float
    tar_at_fmr_1e3: float


def decisions(similarity: np.ndarray, same: np.ndarray, thresholds: dict[str, float]) -> DecisionReport:
    """Score decisions on pairs; a pair where a face was missing carries similarity -1 (a non-match)."""
    genuine, impostor = similarity[same], similarity[~same]
    best = best_accuracy_threshold(similarity, same)
    return DecisionReport(
        pairs=int(similarity.size),
        genuine=int(genuine.size),
        impostor=int(impostor.size),
        accuracy_at={k: float(np.mean((similarity >= t) == same)) for k, t in thresholds.items()},
        fnmr_at={k: float(np.mean(genuine < t)) for k, t in thresholds.items()},
        fmr_at={k: float(np.mean(impostor >= t)) for k, t in thresholds.items()},
        best_accuracy=float(np.mean((similarity >= best) == same)),
        best_threshold=best,
        eer=equal_error_rate(genuine, impostor)[0],
        tar_at_fmr_1e3=tar_at_fmr(genuine, impostor, 1e-3)[0],
    )
