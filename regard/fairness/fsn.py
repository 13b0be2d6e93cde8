"""Fair Score Normalization (Terhörst, Kolf, Damer, Kirchbuchner, Kuijper: "Post-comparison mitigation of
demographic bias in face recognition using fair score normalization", Pattern Recognition Letters 140, 2020).

The idea: people whose embeddings lie in one region of the space can have impostor scores that run higher (or
lower) than elsewhere, so one global threshold gives them a higher (or lower) false match rate.  FSN finds the
regions without any demographic label, by k-means on the embeddings, and shifts each score by how far its two
images' regions are from the global threshold.

What is implemented (the paper's method; the exact choices are ours where the paper leaves them open):

1. k-means with k-means++ seeding on the unit-norm embeddings of a training set (identity labels only).
2. For each cluster c, ``thr_c``: the threshold at FMR ``f`` on the impostor pairs with *both* images in c.
   A cluster with fewer than ``ceil(3 / f)`` such pairs cannot estimate it and keeps ``thr_c = thr_G``
   (counted in ``fallback``).
3. ``thr_G``: the threshold at FMR ``f`` on impostor pairs drawn from the whole training set.
4. A pair (i, j) with clusters c_i, c_j gets ``s' = s - 0.5 * ((thr_ci - thr_G) + (thr_cj - thr_G))``: the
   mean of the two cluster offsets, so a pair within a cluster whose impostors run high is pushed down by
   exactly the amount that aligns that cluster's threshold with the global one.

Demographic labels are never an input: the method is fitted on embeddings and identities alone.
"""

from __future__ import annotations

import json
import math
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from regard.errors import InvalidInputError
from regard.evaluation.metrics import threshold_at_fmr
from regard.fairness.kmeans import kmeans, nearest
from regard.fairness.pairs import encode, impostor_pairs_within
from regard.fairness.scores import gathered_scores, impostor_scores_within, unit_rows

FORMAT = "regard.fairness.fsn/1"


@dataclass(frozen=True)
class FairScoreNormalizer:
    """A fitted FSN: cluster centroids, one threshold per cluster, the global threshold."""

    centroids: np.ndarray  # k x d, in the space of unit-norm embeddings
    cluster_thresholds: np.ndarray  # k, equal to global_threshold where fallback
    cluster_impostor_pairs: np.ndarray  # k, pairs each cluster threshold was estimated on
    fallback: np.ndarray  # bool, k
    global_threshold: float
    fmr: float
    seed: int

    @property
    def k(self) -> int:
        return int(self.centroids.shape[0])

    @property
    def offsets(self) -> np.ndarray:
        """``thr_c - thr_G`` per cluster: how far each cluster's impostors run above the global threshold."""
        return np.asarray(self.cluster_thresholds - self.global_threshold, dtype=np.float64)

    @classmethod
    def fit(
        cls,
        embeddings: np.ndarray,
        identities: Sequence[str] | np.ndarray,
        fmr: float,
        k: int,
        seed: int = 0,
        max_impostors: int = 2_000_000,
    ) -> FairScoreNormalizer:
        """Fit on embeddings (one row per image) and identity labels; ``fmr`` is the FMR the thresholds hold.

        ``max_impostors`` caps the impostor pairs per cluster and for the global threshold (drawn with ``seed``).
        """
        if len(identities) != embeddings.shape[0]:
            raise InvalidInputError("need one identity per embedding")
        if not 0 < fmr < 1:
            raise InvalidInputError(f"fmr must be in (0, 1), got {fmr}")
        unit = unit_rows(embeddings)
        identity = encode(np.asarray(identities, dtype=str))[0]
        rng = np.random.default_rng(seed)
        centroids, labels = kmeans(unit, k, seed)
        everyone = np.arange(unit.shape[0])
        global_threshold = threshold_at_fmr(_impostor_scores(unit, everyone, identity, max_impostors, rng), fmr)
        need = math.ceil(3 / fmr)
        thresholds = np.full(k, global_threshold)
        pairs = np.zeros(k, dtype=np.int64)
        for c in range(k):
            scores = _impostor_scores(unit, np.flatnonzero(labels == c), identity, max_impostors, rng)
            pairs[c] = scores.size
            if scores.size >= need:
                thresholds[c] = threshold_at_fmr(scores, fmr)
        return cls(centroids, thresholds, pairs, pairs < need, float(global_threshold), fmr, seed)

    def assign(self, embeddings: np.ndarray) -> np.ndarray:
        """Cluster index of each embedding (nearest centroid after scaling to unit norm)."""
        return nearest(unit_rows(embeddings), self.centroids)

    def normalise(self, scores: np.ndarray, cluster_a: np.ndarray, cluster_b: np.ndarray) -> np.ndarray:
        """``s - 0.5 * (offset[c_a] + offset[c_b])`` for each pair, float64."""
        offsets = self.offsets
        out: np.ndarray = np.asarray(scores, dtype=np.float64) - 0.5 * (offsets[cluster_a] + offsets[cluster_b])
        return out

    def to_json(self) -> str:
        return json.dumps(
            {
                "format": FORMAT,
                "fmr": self.fmr,
                "seed": self.seed,
                "global_threshold": self.global_threshold,
                "cluster_thresholds": self.cluster_thresholds.tolist(),
                "cluster_impostor_pairs": self.cluster_impostor_pairs.tolist(),
                "fallback": self.fallback.tolist(),
                "centroids": self.centroids.tolist(),
            }
        )

    @classmethod
    def from_json(cls, text: str) -> FairScoreNormalizer:
        try:
            data = json.loads(text)
            if data.get("format") != FORMAT:
                raise ValueError(f"expected format {FORMAT!r}")
            return cls(
                centroids=np.asarray(data["centroids"], dtype=np.float32),
                cluster_thresholds=np.asarray(data["cluster_thresholds"], dtype=np.float64),
                cluster_impostor_pairs=np.asarray(data["cluster_impostor_pairs"], dtype=np.int64),
                fallback=np.asarray(data["fallback"], dtype=bool),
                global_threshold=float(data["global_threshold"]),
                fmr=float(data["fmr"]),
                seed=int(data["seed"]),
            )
        except (ValueError, KeyError, TypeError, AttributeError) as exc:
            raise InvalidInputError(f"not a fair score normaliser: {exc}") from None

    def save(self, path: Path) -> None:
        path.write_text(self.to_json(), encoding="utf-8")

    @classmethod
    def load(cls, path: Path) -> FairScoreNormalizer:
        return cls.from_json(path.read_text(encoding="utf-8"))


def _impostor_scores(
    unit: np.ndarray, members: np.ndarray, identity: np.ndarray, max_pairs: int, rng: np.random.Generator
) -> np.ndarray:
    """Every impostor score among ``members`` by matrix products, or ``max_pairs`` drawn ones when more."""
    n = members.size
    if n * (n - 1) // 2 <= max_pairs:
        return impostor_scores_within(unit[members], identity[members])
    a, b = impostor_pairs_within(members, identity, max_pairs, rng)
    return gathered_scores(unit, a, b)
