"""Verification on an identity-labelled set: pairs, 10 folds by identity, accuracy, TAR, EER."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from regard.evaluation.metrics import equal_error_rate, kfold_accuracy, tar_at_fmr


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
