"""The exact index: add, remove, top-k subjects, thresholds, exclusions."""

from __future__ import annotations

import numpy as np
import pytest

from regard.errors import ModelMismatchError
from regard.index.exact import ExactIndex


def unit(rng: np.random.Generator, n: int, d: int = 16) -> np.ndarray:
    v = rng.normal(size=(n, d)).astype(np.float32)
    return v / np.linalg.norm(v, axis=1, keepdims=True)


def brute_force(vectors: np.ndarray, labels: np.ndarray, query: np.ndarray, k: int, floor: float) -> list[int]:
    scores = vectors @ query
    best: dict[int, float] = {}
    for label, score in zip(labels, scores, strict=True):
        if score >= floor:
            best[int(label)] = max(best.get(int(label), -2.0), float(score))
    return [label for label, _ in sorted(best.items(), key=lambda kv: -kv[1])[:k]]


def test_matches_brute_force_with_grouping() -> None:
    rng = np.random.default_rng(0)
    vectors = unit(rng, 3000)
    labels = rng.integers(0, 200, 3000)
    index = ExactIndex(16, capacity=8)  # forces growth
    index.add(list(range(3000)), labels.tolist(), vectors)
    assert len(index) == 3000
    for query in unit(rng, 20):
        for k, floor in [(1, -1.0), (10, -1.0), (50, 0.2), (500, -1.0)]:
            got = [h.label for h in index.search(query[None], k, floor)[0]]
            assert got == brute_force(vectors, labels, query, k, floor)


def test_remove_and_readd() -> None:
    rng = np.random.default_rng(1)
    vectors = unit(rng, 10)
    index = ExactIndex(16)
    index.add(list(range(10)), list(range(10)), vectors)
    hit = index.search(vectors[3][None], 1, 0.5)[0][0]
    assert (hit.entry_id, hit.label) == (3, 3) and hit.similarity == pytest.approx(1, abs=1e-5)
    index.remove([3, 99])
    assert len(index) == 9
    assert all(h.entry_id != 3 for h in index.search(vectors[3][None], 10, -1.0)[0])
    index.add([3], [3], vectors[3][None])
    assert index.search(vectors[3][None], 1, 0.5)[0][0].entry_id == 3
    index.add([3], [3], vectors[3][None])  # adding an existing id replaces it
    assert len(index) == 10


def test_exclusion_threshold_and_empty() -> None:
    rng = np.random.default_rng(2)
    vectors = unit(rng, 5)
    index = ExactIndex(16)
    assert index.search(vectors[0][None], 3, -1.0) == [[]]
    index.add([10, 11, 12, 13, 14], [1, 1, 2, 3, 4], vectors)
    hits = index.search(vectors[0][None], 5, -1.0, exclude=[10])[0]
    assert 10 not in [h.entry_id for h in hits]
    assert index.search(vectors[0][None], 5, 1.1)[0] == []


def test_dimension_mismatch_is_refused() -> None:
    with pytest.raises(ModelMismatchError):
        ExactIndex(16).add([1], [1], np.zeros((1, 8), np.float32))


def test_int8_error_bound_holds() -> None:
    from regard.index import quantized

    rng = np.random.default_rng(3)
    vectors = unit(rng, 2000, 128)
    vectors[:5] = np.eye(128, dtype=np.float32)[:5]  # components of 1.0 are clipped at 0.5
    codes, error = quantized.quantize(vectors)
    for query in unit(rng, 20, 128):
        approx, q_error = quantized.int8_scores(query, codes)
        exact = vectors @ query
        assert np.all(np.abs(approx - exact) <= error + q_error * (1 + error) + 1e-6)


def test_two_pass_search_equals_float_search() -> None:
    rng = np.random.default_rng(4)
    centres = unit(rng, 50, 128)
    # Clustered data: many templates close to each probe, scores spread across the threshold.
    vectors = centres[rng.integers(0, 50, 20_000)] + rng.normal(0, 0.08, (20_000, 128)).astype(np.float32)
    vectors /= np.linalg.norm(vectors, axis=1, keepdims=True)
    labels = rng.integers(0, 5000, 20_000)
    fast = ExactIndex(128, quantized_min_rows=1)
    plain = ExactIndex(128, quantized_min_rows=10**9)
    for index in (fast, plain):
        index.add(list(range(20_000)), labels.tolist(), vectors)
        index.remove(list(range(0, 20_000, 7)))
    probes = centres[:10] + rng.normal(0, 0.05, (10, 128)).astype(np.float32)
    for probe in probes / np.linalg.norm(probes, axis=1, keepdims=True):
        for k, floor in [(1, 0.42), (20, 0.42), (200, 0.6), (5, 0.9)]:
            exclude = [14, 15, 16]
            got = fast.search(probe[None], k, floor, exclude)[0]
            want = plain.search(probe[None], k, floor, exclude)[0]
            assert [(h.label, h.entry_id) for h in got] == [(h.label, h.entry_id) for h in want]
            assert [h.similarity for h in got] == pytest.approx([h.similarity for h in want], abs=1e-6)
    # A floor low enough to pass most rows falls back to the BLAS pass, with the same answer.
    low = fast.search(probes[:1], 10, -1.0)[0]
    assert [h.label for h in low] == [h.label for h in plain.search(probes[:1], 10, -1.0)[0]]
