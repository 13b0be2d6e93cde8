"""Confidence intervals of per-group error rates: seeded, exact where they can be, and covering the truth.

The coverage tests simulate a population with known rates, where errors depend on who is compared (some people
have look-alikes, some are hard to recognise), draw many samples of people from it, and count how often the
nominal 95% interval contains the true rate.
"""

from __future__ import annotations

import math

import numpy as np
import pytest

from regard.fairness import intervals as iv
from regard.fairness import metrics as m


def test_genuine_counts_are_per_identity() -> None:
    # Genuine pairs of identities 0,0,1 with errors 1,0,1: identity 0 has 1 error in 2, identity 1 has 1 in 1.
    e, t = m.unit_counts(np.array([True, False, True]), np.array([0, 0, 1]), 3)
    assert e.tolist() == [1, 1, 0] and t.tolist() == [2, 1, 0]


def test_identity_bootstrap_is_seeded_and_brackets_the_estimate() -> None:
    rng = np.random.default_rng(1)
    trials = rng.integers(1, 30, 200)
    errors = rng.binomial(trials, 0.1)
    first = iv.identity_bootstrap_ci(errors, trials, n_boot=500, seed=7)
    assert first == iv.identity_bootstrap_ci(errors, trials, n_boot=500, seed=7)
    assert first != iv.identity_bootstrap_ci(errors, trials, n_boot=500, seed=8)
    assert first[0] < errors.sum() / trials.sum() < first[1]


def test_no_error_gives_the_exact_clopper_pearson_bound_on_pairs() -> None:
    # 0 errors in N pairs: [0, 1 - 0.025^(1/N)], about 3.69 / N -- never 3 / (2N), which crediting each impostor
    # pair to both its people used to give.
    bound = iv.zero_error_upper(1000)
    assert bound == pytest.approx(1 - 0.025 ** (1 / 1000)) and 3.68e-3 < bound < 3.69e-3
    assert iv.identity_bootstrap_ci(np.zeros(2, dtype=int), np.array([500, 500]), n_boot=50) == (0.0, bound)
    a, b = np.triu_indices(46, 1)  # 1,035 pairs of 46 people
    assert iv.pair_bootstrap_ci(np.zeros(1000, dtype=bool), a[:1000], b[:1000]) == (0.0, bound)
    assert all(math.isnan(x) for x in iv.identity_bootstrap_ci(np.zeros(0), np.zeros(0)))
    assert all(math.isnan(x) for x in iv.pair_bootstrap_ci(np.zeros(0, dtype=bool), a[:0], b[:0]))


def test_pair_bootstrap_weights_pairs_by_both_multiplicities() -> None:
    # With every identity drawn exactly once the replicate is the sample itself; the quadratic form over dyads,
    # dense or gathered, equals sum_i m[a_i] * m[b_i].
    rng = np.random.default_rng(0)
    a, b = rng.integers(0, 50, 3000), rng.integers(0, 50, 3000)
    keep = a != b
    a, b = a[keep], b[keep]
    m_ = rng.integers(0, 4, (7, 50)).astype(np.float32)
    expected = (m_[:, a] * m_[:, b]).sum(axis=1)
    counts = iv._DyadCounts(a, b, 50)
    np.testing.assert_allclose(counts.weighted(m_), expected, rtol=1e-6)
    many = np.repeat(m_, 600, axis=0)  # enough replicates x dyads to take the dense path, in blocks of 7
    counts.block = 7
    np.testing.assert_allclose(counts.weighted(many), np.repeat(expected, 600), rtol=1e-5)
    members = [np.arange(0, 20), np.arange(20, 50)]
    draws = iv.multiplicities(rng, 5, members, 50)
    assert draws[:, :20].sum(axis=1).tolist() == [20] * 5 and draws[:, 20:].sum(axis=1).tolist() == [30] * 5


def _impostor_population(rng: np.random.Generator, people: int, fmr: float) -> tuple[np.ndarray, ...]:
    """All impostor pairs among 2-3 images of each of ``people``; a pair's false match probability is
    ``fmr * w_a * w_b`` with ``w`` ~ Gamma(1, 1) per person (mean 1: the population FMR is ``fmr``)."""
    w = rng.gamma(1.0, 1.0, people)
    identity = np.repeat(np.arange(people), rng.integers(2, 4, people))
    i, j = np.triu_indices(identity.size, 1)
    keep = identity[i] != identity[j]
    a, b = identity[i[keep]], identity[j[keep]]
    errors = rng.random(a.size) < np.clip(fmr * w[a] * w[b], 0.0, 1.0)
    return errors, a, b


def _halves_independent_ci(errors: np.ndarray, a: np.ndarray, b: np.ndarray, seed: int) -> tuple[float, float]:
    """The scheme Regard used before: each impostor pair credited to both people, halves resampled apart."""
    n = int(max(a.max(), b.max())) + 1
    e = np.bincount(a, errors, n) + np.bincount(b, errors, n)
    t = np.bincount(a, minlength=n) + np.bincount(b, minlength=n)
    return iv.identity_bootstrap_ci(np.rint(e).astype(int), t, 200, 0.95, seed)


def test_impostor_intervals_cover_the_true_fmr() -> None:
    # 300 samples of 60 people (about 14,000 impostor pairs and 25 false matches each) from a population with
    # FMR 2e-3.  Stated tolerance: coverage of the nominal 95% interval within [0.92, 0.995].  The low end is
    # 0.95 less about 2.5 binomial standard errors (0.0126 at 300 samples); the high end allows the vertex
    # bootstrap's known conservatism (it counts the pair-level noise more than once) but not an interval so
    # wide it would always cover.  The scheme used before covers about 0.8 here, and the test says so.
    rng = np.random.default_rng(2024)
    fmr, runs, covered, covered_before = 2e-3, 300, 0, 0
    for run in range(runs):
        errors, a, b = _impostor_population(rng, 60, fmr)
        low, high = iv.pair_bootstrap_ci(errors, a, b, n_boot=200, seed=run)
        covered += low <= fmr <= high
        if run < 100:
            low, high = _halves_independent_ci(errors, a, b, run)
            covered_before += low <= fmr <= high
    assert 0.92 <= covered / runs <= 0.995, covered / runs
    assert covered_before / 100 < 0.9, covered_before / 100


def test_genuine_intervals_cover_the_true_fnmr() -> None:
    # 300 samples of 300 people with 2-8 genuine pairs each (about 30 false non-matches); a person's FNMR is
    # Beta(0.5, 24.5), mean 0.02.  Stated tolerance as above: coverage within [0.92, 0.995].  (With a tenth of
    # the errors, 80 people, the percentile interval covers about 0.92: few errors make it a little short.)
    rng = np.random.default_rng(7)
    fnmr, runs, covered = 0.02, 300, 0
    for run in range(runs):
        trials = rng.integers(2, 9, 300)
        errors = rng.binomial(trials, rng.beta(0.5, 24.5, 300))
        low, high = iv.identity_bootstrap_ci(errors, trials, n_boot=300, seed=run)
        covered += low <= fnmr <= high
    assert 0.92 <= covered / runs <= 0.995, covered / runs
