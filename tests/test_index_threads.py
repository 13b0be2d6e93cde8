"""Searches see one consistent index while another thread writes to it (issue 12's index race)."""

from __future__ import annotations

import threading

import numpy as np

from regard.index.exact import ExactIndex

DIM = 32
ROWS = 4000


def _unit(rng: np.random.Generator, n: int) -> np.ndarray:
    v = rng.normal(size=(n, DIM)).astype(np.float32)
    return v / np.linalg.norm(v, axis=1, keepdims=True)


def _hammer(index: ExactIndex, vectors: np.ndarray, rounds: int) -> list[str]:
    """4 readers and 1 writer; returns every hit whose similarity is not its own row's."""
    rng = np.random.default_rng(1)
    queries = _unit(rng, 64)
    wrong: list[str] = []
    done = threading.Event()

    def read(seed: int) -> None:
        local = np.random.default_rng(seed)
        while not done.is_set():
            q = queries[local.integers(0, len(queries))]
            for hit in index.search(q[None], 20, -1.0)[0]:
                true = float(vectors[hit.entry_id] @ q)
                if abs(hit.similarity - true) > 1e-4:
                    wrong.append(f"entry {hit.entry_id}: {hit.similarity:.4f} != {true:.4f}")

    def write() -> None:
        local = np.random.default_rng(2)
        for _ in range(rounds):
            # Deleting swaps the last rows into the holes; re-adding grows the arrays again.
            gone = local.choice(ROWS, 200, replace=False)
            index.remove(gone.tolist())
            index.add(gone.tolist(), (gone % 97).tolist(), vectors[gone])
        done.set()

    readers = [threading.Thread(target=read, args=(s,)) for s in range(4)]
    writer = threading.Thread(target=write)
    for t in [*readers, writer]:
        t.start()
    for t in [*readers, writer]:
        t.join()
    return wrong


def test_concurrent_search_and_writes_return_true_similarities() -> None:
    vectors = _unit(np.random.default_rng(0), ROWS)
    index = ExactIndex(DIM, capacity=16)
    index.add(list(range(ROWS)), [i % 97 for i in range(ROWS)], vectors)
    wrong = _hammer(index, vectors, rounds=300)
    assert wrong == [], f"{len(wrong)} hits carried another row's similarity, e.g. {wrong[:3]}"
    assert len(index) == ROWS


def test_concurrent_two_pass_search_is_consistent() -> None:
    """The int8 first pass reads the codes while the writer changes them."""
    vectors = _unit(np.random.default_rng(3), ROWS)
    index = ExactIndex(DIM, capacity=16, quantized_min_rows=1)
    index.add(list(range(ROWS)), [i % 97 for i in range(ROWS)], vectors)
    assert _hammer(index, vectors, rounds=150) == []


def test_hnsw_index_under_concurrent_writes() -> None:
    """The FAISS graph is changed in place: searches and writes share a readers-writer lock."""
    from regard.index.hnsw import HnswIndex

    vectors = _unit(np.random.default_rng(4), ROWS)
    index = HnswIndex(DIM)
    index.add(list(range(ROWS)), [i % 97 for i in range(ROWS)], vectors)
    assert _hammer(index, vectors, rounds=40) == []  # type: ignore[arg-type]
    assert len(index) == ROWS and index.ids().tolist() == list(range(ROWS))
