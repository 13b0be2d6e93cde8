"""Operating points: cosine thresholds per false match rate, and the 0-100 score scale.

The score is piecewise linear in cosine similarity through anchors tied to the
model's measured thresholds, so the same score means the same false match rate
whatever the model: 50 at FMR 1e-1, 70 at 1e-2, 90 at 1e-3, 95 at 1e-4,
99 at 1e-5 (and 0 at cosine -1, 100 at cosine 1).
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np

from regard.errors import InvalidInputError

OPERATING_POINTS = (1e-3, 1e-4, 1e-5)
_SCORE_ANCHORS = ((1e-1, 50.0), (1e-2, 70.0), (1e-3, 90.0), (1e-4, 95.0), (1e-5, 99.0))


def fmr_key(fmr: float) -> str:
    """The key a threshold table uses for ``fmr``: ``1e-04`` style."""
    return f"{fmr:.0e}"


def threshold_for(thresholds: Mapping[str, float], fmr: float, model_id: str = "") -> float:
    """Cosine threshold measured for ``fmr``; raises if the model has none for it."""
    try:
        return thresholds[fmr_key(fmr)]
    except KeyError:
        known = ", ".join(sorted(thresholds)) or "none"
        raise InvalidInputError(
            f"model {model_id or '?'} has no threshold for FMR {fmr:g} (calibrated: {known})"
        ) from None


def score_anchors(thresholds: Mapping[str, float]) -> tuple[np.ndarray, np.ndarray]:
    """(cosine, score) anchor arrays, increasing, for the anchors this model has."""
    cos = [-1.0]
    scores = [0.0]
    for fmr, score in _SCORE_ANCHORS:
        key = fmr_key(fmr)
        if key in thresholds and thresholds[key] > cos[-1]:
            cos.append(thresholds[key])
            scores.append(score)
    cos.append(1.0)
    scores.append(100.0)
    return np.asarray(cos), np.asarray(scores)


def similarity_to_score(similarity: np.ndarray | float, thresholds: Mapping[str, float]) -> np.ndarray:
    """Map cosine similarity to the 0-100 score scale of this model."""
    xs, ys = score_anchors(thresholds)
    return np.asarray(np.interp(np.asarray(similarity, dtype=np.float64), xs, ys))


def fmr_at(similarity: float, thresholds: Mapping[str, float]) -> float | None:
    """False match rate at a cosine threshold, interpolated log-linearly between calibrated points.

    Below the loosest calibrated point returns that point's rate (an upper bound is unknown);
    above the strictest, returns the strictest rate (the true rate is lower).
    """
    points = sorted((v, float(k)) for k, v in thresholds.items())
    if not points:
        return None
    cos = np.asarray([p[0] for p in points])
    log_fmr = np.log10([p[1] for p in points])
    return float(10 ** np.interp(similarity, cos, log_fmr))


def score_to_similarity(score: float, thresholds: Mapping[str, float]) -> float:
    """Inverse of ``similarity_to_score``: the cosine at which a model reaches ``score``."""
    if not 0.0 <= score <= 100.0:
        raise InvalidInputError(f"score must be within 0..100, got {score}")
    xs, ys = score_anchors(thresholds)
    return float(np.interp(score, ys, xs))
