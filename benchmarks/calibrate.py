"""Cosine thresholds at FMR 1e-1 .. 1e-5 from every impostor pair of LFW (about 87 million).

Every pair of images of different identities is an impostor pair; the
threshold at FMR f is the smallest cosine that at most f of them reach.
Results go to benchmarks/results/calibration_<model>.json and into
regard/backends/specs.py by hand.
"""

from __future__ import annotations

import argparse
import time

import numpy as np
from _common import write_result
from embed_lfw import lfw_embeddings

FMRS = (1e-1, 1e-2, 1e-3, 1e-4, 1e-5, 1e-6)


def impostor_scores(vectors: np.ndarray, labels: np.ndarray, block: int = 2048) -> np.ndarray:
    """Upper-triangle cosines between images of different identities, as one float32 array."""
    chunks = []
    n = vectors.shape[0]
    for start in range(0, n, block):
        stop = min(n, start + block)
        scores = vectors[start:stop] @ vectors[start:].T  # rows start..stop against start..n
        rows = np.arange(start, stop)[:, None]
        cols = np.arange(start, n)[None, :]
        keep = (cols > rows) & (labels[start:stop, None] != labels[None, start:])
        chunks.append(scores[keep])
    return np.concatenate(chunks)


def thresholds(impostor: np.ndarray) -> dict[str, float]:
    out = {}
    for fmr in FMRS:
        allowed = int(np.floor(fmr * impostor.size))
        if allowed < 10:
            continue  # too few events to estimate this far out
        kth = np.partition(impostor, impostor.size - allowed - 1)[impostor.size - allowed - 1]
        out[f"{fmr:.0e}"] = round(float(np.nextafter(kth, np.float32(np.inf))), 4)
    return out


def member_statistics(model_id: str, vectors: np.ndarray, identities: np.ndarray) -> dict[str, object]:
    """For a profile: each member's impostor mean and std (its part of the template, unscaled), and the
    fusion weights those stds give (``regard.backends.fusion.impostor_weights``)."""
    from regard.backends.fusion import impostor_weights
    from regard.backends.specs import BUILTIN_MODELS

    spec = next(s for s in BUILTIN_MODELS if s.id == model_id)
    sizes = {s.id: s.embedding_size for s in BUILTIN_MODELS}
    if len(spec.members) < 2:
        return {}
    stats, start = {}, 0
    for member in spec.members:
        part = vectors[:, start : start + sizes[member.model_id]] / np.sqrt(member.weight)
        start += sizes[member.model_id]
        scores = impostor_scores(part, identities)
        stats[member.model_id] = {"impostor_mean": float(scores.mean()), "impostor_std": float(scores.std())}
    weights = impostor_weights([v["impostor_std"] for v in stats.values()])
    return {
        "members": stats,
        "flip": spec.flip,
        "weights_from_impostor_std": {k: round(w, 4) for k, w in zip(stats, weights, strict=True)},
        "weights_in_registry": {m.model_id: m.weight for m in spec.members},
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--model", default="sface")
    args = parser.parse_args()
    rows, vectors, found = lfw_embeddings(args.model)
    identities = np.unique([r["identity"] for r in rows], return_inverse=True)[1]
    keep = found
    start = time.time()
    impostor = impostor_scores(vectors[keep], identities[keep])
    table = thresholds(impostor)
    print(f"{impostor.size} impostor pairs in {time.time() - start:.1f} s: {table}")
    write_result(
        f"calibration_{args.model}",
        {
            "model": args.model,
            "data": "LFW deep-funneled, all 13,233 images, face nearest the centre",
            "impostor_pairs": int(impostor.size),
            "images_used": int(keep.sum()),
            "thresholds": table,
            "impostor_mean": float(impostor.mean()),
            "impostor_std": float(impostor.std()),
            **member_statistics(args.model, vectors[keep], identities[keep]),
        },
    )


if __name__ == "__main__":
    main()
