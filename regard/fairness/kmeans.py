"""k-means in numpy: k-means++ seeding (Arthur & Vassilvitskii 2007) and Lloyd iterations, deterministic per seed."""

from __future__ import annotations

import numpy as np

from regard.errors import InvalidInputError


def nearest(x: np.ndarray, centroids: np.ndarray, block: int = 8192) -> np.ndarray:
    """Index of the nearest centroid (Euclidean) for each row: argmin ``|c|^2 - 2 x.c``, in row blocks."""
    sq = np.einsum("ij,ij->i", centroids, centroids)
    out = np.empty(x.shape[0], dtype=np.int64)
    for start in range(0, x.shape[0], block):
        out[start : start + block] = np.argmin(sq[None, :] - 2.0 * (x[start : start + block] @ centroids.T), axis=1)
    return out


def kmeans_plus_plus(x: np.ndarray, k: int, rng: np.random.Generator) -> np.ndarray:
    """k seeds: the first uniformly, each next one with probability proportional to its squared distance."""
    centroids = np.empty((k, x.shape[1]), dtype=x.dtype)
    centroids[0] = x[rng.integers(x.shape[0])]
    d2 = np.einsum("ij,ij->i", x - centroids[0], x - centroids[0]).astype(np.float64)
    for c in range(1, k):
        total = d2.sum()
        pick = int(rng.integers(x.shape[0])) if total <= 0 else int(rng.choice(x.shape[0], p=d2 / total))
        centroids[c] = x[pick]
        diff = x - centroids[c]
        d2 = np.minimum(d2, np.einsum("ij,ij->i", diff, diff))
    return centroids


def kmeans(x: np.ndarray, k: int, seed: int = 0, max_iter: int = 100) -> tuple[np.ndarray, np.ndarray]:
    """``(centroids, labels)`` of k-means on the rows of ``x``, stopping when no label changes.

    An emptied cluster is moved to the point farthest from its centroid, so every cluster keeps members.
    """
    x = np.asarray(x, dtype=np.float32)
    if not 1 <= k <= x.shape[0]:
        raise InvalidInputError(f"k-means needs 1 <= k <= {x.shape[0]} points, got k={k}")
    rng = np.random.default_rng(seed)
    centroids = kmeans_plus_plus(x, k, rng)
    labels = nearest(x, centroids)
    for _ in range(max_iter):
        centroids = _means(x, labels, centroids)
        new = nearest(x, centroids)
        if np.array_equal(new, labels):
            break
        labels = new
    return centroids, labels


def _means(x: np.ndarray, labels: np.ndarray, previous: np.ndarray) -> np.ndarray:
    k = previous.shape[0]
    order = np.argsort(labels, kind="stable")
    counts = np.bincount(labels, minlength=k)
    present = np.flatnonzero(counts)
    starts = np.concatenate([[0], np.cumsum(counts)])[present]
    out = previous.copy()
    out[present] = np.add.reduceat(x[order], starts, axis=0) / counts[present, None]
    for c in np.flatnonzero(counts == 0):
        diff = x - out[labels]
        far = int(np.argmax(np.einsum("ij,ij->i", diff, diff)))
        out[c] = x[far]
        labels = labels.copy()
        labels[far] = c
    return out
