"""The one exact-law module (audit.stations.forensics._exact_law) against
direct convolution and scipy's binomial law."""

from __future__ import annotations

import numpy as np
from scipy import stats

from audit.stations.forensics._exact_law import iid_sum_pmf, poisson_binomial_pmf


def _direct(pmfs) -> np.ndarray:
    out = np.array([1.0])
    for pmf in pmfs:
        out = np.convolve(out, pmf)
    return out


def test_poisson_binomial_against_direct_convolution():
    rng = np.random.default_rng(1)
    for n in (1, 2, 5, 33, 200):
        p = rng.uniform(size=n)
        got = poisson_binomial_pmf(p)
        assert got.shape == (n + 1,)
        np.testing.assert_allclose(got, _direct([[1 - q, q] for q in p]), atol=1e-13)


def test_equal_probabilities_give_the_binomial_law():
    np.testing.assert_allclose(poisson_binomial_pmf(np.full(150, 0.3)),
                               stats.binom.pmf(np.arange(151), 150, 0.3), atol=1e-13)


def test_iid_sum_against_direct_convolution():
    probs = np.array([0.12, 0.11, 0.109, 0.104, 0.1, 0.097, 0.093, 0.09, 0.088, 0.089])
    probs = probs / probs.sum()
    for n in (1, 3, 40):
        got = iid_sum_pmf(probs, n)
        assert got.shape == (9 * n + 1,)
        np.testing.assert_allclose(got, _direct([probs] * n), atol=1e-13)
