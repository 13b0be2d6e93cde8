"""Verification accuracy: LFW View 2 (standard 6,000 pairs, 10 folds) and the CelebA tree protocol."""

from __future__ import annotations

import argparse
import csv
from dataclasses import asdict

import numpy as np
from _common import SHARED_DATA, cached_embeddings, every_face, profile_members, require, write_result
from embed_lfw import lfw_embeddings

from regard.evaluation.metrics import equal_error_rate, kfold_accuracy, tar_at_fmr
from regard.evaluation.protocol import tree_pairs, verify


def lfw_pairs(index: dict[str, int]) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    lines = (require(SHARED_DATA / "lfw") / "pairs.txt").read_text().split("\n")
    folds, per = (int(v) for v in lines[0].split())
    a, b, same, fold = [], [], [], []

    def key(name: str, n: str) -> int:
        return index[f"images/{name}/{name}_{int(n):04d}.jpg"]

    for i, line in enumerate(lines[1 : 1 + folds * 2 * per]):
        parts = line.split()
        if len(parts) == 3:
            a.append(key(parts[0], parts[1])), b.append(key(parts[0], parts[2])), same.append(True)
        else:
            a.append(key(parts[0], parts[1])), b.append(key(parts[2], parts[3])), same.append(False)
        fold.append(i // (2 * per))
    return np.asarray(a), np.asarray(b), np.asarray(same), np.asarray(fold)


def lfw_report(model: str) -> dict[str, object]:
    rows, vectors, found = lfw_embeddings(model)
    return {**lfw_scores(rows, vectors, found), **profile_variants(model, rows)}


def profile_variants(model: str, rows: list[dict[str, str]]) -> dict[str, object]:
    """For a profile of several members: each member as the profile runs it, and the profile without flip."""
    from regard.backends.fusion import fuse

    composition = profile_members(model)
    if composition is None or len(composition[0]) < 2:
        return {}
    members, flip = composition
    paths = [SHARED_DATA / "lfw" / r["path"] for r in rows]
    parts = {m: cached_embeddings("lfw", paths, m, "center", flip) for m, _ in members}
    out: dict[str, object] = {f"member {m}{' (flip)' if flip else ''}": lfw_scores(rows, *parts[m]) for m, _ in members}
    if flip:
        plain = [cached_embeddings("lfw", paths, m, "center") for m, _ in members]
        fused = fuse([v for v, _ in plain], [w for _, w in members])
        out["same weights, without flip"] = lfw_scores(rows, fused, np.logical_and.reduce([f for _, f in plain]))
    return {"variants": out}


def lfw_scores(rows: list[dict[str, str]], vectors: np.ndarray, found: np.ndarray) -> dict[str, object]:
    index = {r["path"]: i for i, r in enumerate(rows)}
    a, b, same, fold = lfw_pairs(index)
    scores = np.einsum("ij,ij->i", vectors[a], vectors[b]).astype(np.float64)
    scores[~(found[a] & found[b])] = -1.0
    kfold = kfold_accuracy(scores, same, fold)
    tar, threshold = tar_at_fmr(scores[same], scores[~same], 1e-3)
    eer, _ = equal_error_rate(scores[same], scores[~same])
    return {
        "protocol": "LFW View 2, deep-funneled, 10 folds, threshold chosen on the other 9",
        "accuracy_mean": round(kfold.accuracy_mean, 5),
        "accuracy_std": round(kfold.accuracy_std, 5),
        "tar_at_fmr_1e3": round(tar, 5),
        "threshold_at_fmr_1e3": round(threshold, 4),
        "eer": round(eer, 5),
        "pairs_without_face": int((~(found[a] & found[b])).sum()),
    }


def celeba_report(model: str) -> dict[str, object]:
    root = require(SHARED_DATA / "celeba_wild")
    with (root / "manifest.csv").open() as handle:
        rows = list(csv.DictReader(handle))
    faces = every_face([str(root / r["path"]) for r in rows], model)
    found = np.asarray([f.shape[0] > 0 for f in faces])
    size = next(f.shape[1] for f in faces if f.shape[0])
    vectors = np.stack([f[0] if f.shape[0] else np.zeros(size, np.float32) for f in faces])  # the largest face
    report = verify(vectors, found, tree_pairs([r["identity"] for r in rows]))
    return {
        "protocol": (
            "CelebA in the wild, 120 identities, genuine pairs within and as many impostor pairs,"
            " 10 identity-disjoint folds"
        ),
        **{k: (round(v, 5) if isinstance(v, float) else v) for k, v in asdict(report).items()},
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--model", default="sface")
    args = parser.parse_args()
    result = {"model": args.model, "lfw": lfw_report(args.model), "celeba_wild": celeba_report(args.model)}
    print(result)
    write_result(f"accuracy_{args.model}", result)


if __name__ == "__main__":
    main()
