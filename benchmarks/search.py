"""1:N search latency and memory of the exact index at 10k, 100k and 1M synthetic templates.

Templates are random unit vectors (128-d, like SFace), two per subject; each
query is one probe, searched alone (the API's case), top 5 subjects at SFace's
FMR 1e-4 threshold.  Two modes on both cores: the default (an int8 first pass
with a proven error bound, then float32 rescoring: same results as a full
pass) and a plain float32 BLAS pass over every template, for comparison.
"""

from __future__ import annotations

import argparse
import gc
import time

import numpy as np
import psutil
from _common import write_result
from threadpoolctl import threadpool_info

from regard.backends.specs import SFACE
from regard.index.exact import QUANTIZED_MIN_ROWS, ExactIndex

THRESHOLD = SFACE.thresholds["1e-04"]


def unit_vectors(rng: np.random.Generator, n: int, d: int) -> np.ndarray:
    out = np.empty((n, d), dtype=np.float32)
    for start in range(0, n, 100_000):  # in blocks to keep the float64 temporaries small
        block = rng.standard_normal((min(100_000, n - start), d), dtype=np.float32)
        out[start : start + block.shape[0]] = block / np.linalg.norm(block, axis=1, keepdims=True)
    return out


def bench(size: int, queries: int, dim: int = 128) -> dict[str, object]:
    rng = np.random.default_rng(size)
    process = psutil.Process()
    gc.collect()
    before = process.memory_info().rss
    index = ExactIndex(dim, capacity=size, quantized_min_rows=QUANTIZED_MIN_ROWS)
    vectors = unit_vectors(rng, size, dim)
    start = time.perf_counter()
    index.add(np.arange(size).tolist(), (np.arange(size) // 2).tolist(), vectors)
    build_s = time.perf_counter() - start
    del vectors
    gc.collect()
    rss = process.memory_info().rss - before
    # Probes near some enrolled templates, so there are real matches to rank.
    probes = index.vectors()[rng.integers(0, size, queries)] + rng.normal(0, 0.05, (queries, dim)).astype(np.float32)
    probes /= np.linalg.norm(probes, axis=1, keepdims=True)
    out: dict[str, object] = {"templates": size, "index_rss_mb": round(rss / 2**20, 1), "add_s": round(build_s, 2)}
    for mode, min_rows in (("default", QUANTIZED_MIN_ROWS), ("float32_only", 2**62)):
        index.quantized_min_rows = min_rows
        for probe in probes[:5]:
            index.search(probe[None], 5, THRESHOLD)
        times = []
        for probe in probes:
            t0 = time.perf_counter()
            hits = index.search(probe[None], 5, THRESHOLD)
            times.append(time.perf_counter() - t0)
            assert hits[0], "the probe's own template should match"
        ms = np.asarray(times) * 1000
        out[f"{mode}_p50_ms"] = round(float(np.percentile(ms, 50)), 3)
        out[f"{mode}_p99_ms"] = round(float(np.percentile(ms, 99)), 3)
    print(out)
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--sizes", default="10000,100000,1000000")
    parser.add_argument("--queries", type=int, default=200)
    args = parser.parse_args()
    blas = [
        {k: v for k, v in lib.items() if k in ("internal_api", "version", "architecture", "num_threads")}
        for lib in threadpool_info()
    ]
    rows = [bench(int(s), args.queries) for s in args.sizes.split(",")]
    write_result("search", {"threshold": THRESHOLD, "top_k": 5, "blas": blas, "results": rows})


if __name__ == "__main__":
    main()
