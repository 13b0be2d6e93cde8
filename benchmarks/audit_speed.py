"""How fast the fairness audit runs: scoring 10 million pairs, and a full audit, on synthetic 128-d embeddings.

Results go to benchmarks/results/audit_speed.json.
"""

from __future__ import annotations

import argparse
import os
import time

import numpy as np
from _common import write_result

from regard.fairness import AuditConfig, DatasetInfo, LabelProvenance, PairConfig, audit_embeddings
from regard.fairness.scores import all_pairs_scores, score_pairs
from regard.fairness.synthetic import synthetic_set


def best_of(runs: int, func):  # type: ignore[no-untyped-def]
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        func()
        times.append(time.perf_counter() - start)
    return min(times)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--pairs", type=int, default=10_000_000)
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()
    rng = np.random.default_rng(0)
    vectors = rng.standard_normal((20_000, 128)).astype(np.float32)
    a = rng.integers(0, vectors.shape[0], args.pairs)
    b = rng.integers(0, vectors.shape[0], args.pairs)
    gathered = best_of(args.runs, lambda: score_pairs(vectors, a, b))
    group = vectors[:4473]  # 4473 images: 10,001,628 pairs, all against all
    dense = best_of(args.runs, lambda: all_pairs_scores(group))
    print(
        f"{args.pairs:,} listed pairs in {gathered:.2f} s; all {4473 * 4472 // 2:,} pairs of a group in {dense:.2f} s"
    )

    data = synthetic_set(
        {"A": 3000, "B": 1500, "C": 600, "D": 150}, {"A": 0.04, "B": 0.10, "C": 0.07, "D": 0.04}, seed=1
    )
    config = AuditConfig(target_fmr=1e-4, pairs=PairConfig(max_within_impostors=200_000), bootstrap_replicates=1000)
    dataset = DatasetInfo(name="synthetic", labels=LabelProvenance("assigned-by-people", "the generator"))

    def audit(clusters: int) -> None:
        audit_embeddings(
            data.vectors,
            data.identities,
            data.groups,
            system="synthetic",
            threshold=0.45,
            dataset=dataset,
            config=AuditConfig(**{**vars(config), "fsn_clusters": clusters, "fsn_seeds": 1}),
        )

    plain = best_of(args.runs, lambda: audit(0))
    with_fsn = best_of(args.runs, lambda: audit(16))
    print(f"audit of {len(data.identities):,} images in {plain:.2f} s; with FSN (k=16, one seed) in {with_fsn:.2f} s")
    write_result(
        "audit_speed",
        {
            "cpus": os.cpu_count(),
            "embedding_dim": 128,
            "listed_pairs": args.pairs,
            "listed_pairs_s": round(gathered, 3),
            "listed_pairs_per_s": round(args.pairs / gathered),
            "all_pairs_group_images": 4473,
            "all_pairs": 4473 * 4472 // 2,
            "all_pairs_s": round(dense, 3),
            "audit_images": len(data.identities),
            "audit_identities": 5250,
            "audit_groups": 4,
            "audit_within_impostors_per_group": 200_000,
            "audit_bootstrap_replicates": 1000,
            "audit_s": round(plain, 3),
            "audit_with_fsn_k16_s": round(with_fsn, 3),
            "best_of_runs": args.runs,
        },
    )


if __name__ == "__main__":
    main()
