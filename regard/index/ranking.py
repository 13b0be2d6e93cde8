"""Ranking entries into labels (subjects), shared by every index."""

from __future__ import annotations

import numpy as np

from regard.index.base import LabelHit


def top_labels(labels: np.ndarray, ids: np.ndarray, scores: np.ndarray, k: int) -> list[LabelHit]:
    """Best entry per label, ``k`` labels, best first."""
    take = k * 8
    while True:
        part = np.argpartition(-scores, take)[:take] if scores.size > take else np.arange(scores.size)
        order = part[np.argsort(-scores[part], kind="stable")]
        _, first = np.unique(labels[order], return_index=True)
        # Enough distinct labels, or nothing left to widen to.
        if first.size >= k or part.size == scores.size:
            break
        take *= 4
    best = order[np.sort(first)[:k]]
    return [LabelHit(int(labels[i]), int(ids[i]), float(scores[i])) for i in best]


def settle(
    ids: np.ndarray,
    labels: np.ndarray,
    scores: np.ndarray,
    k: int,
    min_similarity: float,
    excluded: np.ndarray,
    complete: bool,
) -> list[LabelHit] | None:
    """The top ``k`` labels from an approximate index's best-first candidates, or None to ask for more.

    Enough when ``complete`` (no more candidates exist or may be asked for), when the last candidate is
    already below the threshold (no later one can reach it), or when ``k`` labels are there.
    """
    below = bool(scores.size) and bool(scores[-1] < min_similarity)
    keep = scores >= min_similarity
    if excluded.size:
        keep &= ~np.isin(ids, excluded)
    ids, labels, scores = ids[keep], labels[keep], scores[keep]
    if complete or below or np.unique(labels).size >= k:
        return top_labels(labels, ids, scores, k)
    return None
