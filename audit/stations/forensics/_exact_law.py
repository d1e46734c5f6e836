"""Exact laws of sums of independent discrete variables, by FFT.

The one place where the station tests compute a null distribution exactly
by convolution:

* :func:`poisson_binomial_pmf`: a sum of independent Bernoulli(p_i) with
  different p_i (the integer-percentage, last-digit, pair and spike tests,
  through :mod:`._poisson_binomial`), as the product of the generating
  polynomials ``(1 - p_i + p_i z)``, multiplied pairwise in a tree;
* :func:`iid_sum_pmf`: a sum of ``n`` independent copies of one law on
  ``0, 1, ..., k`` (the mean-second-digit test), as one power of its
  transform.

Round-off leaves tiny negative values, which are clipped to 0 before the
pmf is renormalised; tails far below 1e-10 are at the level of that
round-off, which is why callers switch to an approximation there.

>>> poisson_binomial_pmf([0.5, 0.5]).round(6).tolist()
[0.25, 0.5, 0.25]
>>> iid_sum_pmf(np.array([0.5, 0.5]), 2).round(6).tolist()
[0.25, 0.5, 0.25]
"""

from __future__ import annotations

import numpy as np


def poisson_binomial_pmf(p) -> np.ndarray:
    """Exact pmf of a sum of independent Bernoulli(p_i), by pairwise FFT
    products of the generating polynomials (1 - p_i + p_i z)."""
    p = np.asarray(p, dtype=float)
    size = 1 << max(0, int(np.ceil(np.log2(max(p.size, 1)))))
    polys = np.zeros((size, 2))
    polys[:, 0] = 1.0
    polys[:p.size, 0] = 1 - p
    polys[:p.size, 1] = p
    while polys.shape[0] > 1:
        length = polys.shape[1]
        nfft = 2 * length
        f = np.fft.rfft(polys, n=nfft, axis=1)
        prod = np.fft.irfft(f[0::2] * f[1::2], n=nfft, axis=1)[:, :2 * length - 1]
        np.clip(prod, 0, None, out=prod)
        polys = np.concatenate([prod, np.zeros((prod.shape[0], 1))], axis=1)
    pmf = polys[0, :p.size + 1]
    return pmf / pmf.sum()


def iid_sum_pmf(probs: np.ndarray, n: int) -> np.ndarray:
    """Exact pmf of the sum of ``n`` iid variables with pmf ``probs`` on
    ``0, 1, ..., len(probs) - 1``: the n-fold convolution, as one FFT power.
    The result has ``(len(probs) - 1) * n + 1`` entries."""
    size = (probs.size - 1) * n + 1
    nfft = 1 << int(np.ceil(np.log2(size)))
    f = np.fft.rfft(probs, n=nfft)
    pmf = np.fft.irfft(f ** n, n=nfft)[:size]
    np.clip(pmf, 0, None, out=pmf)
    pmf /= pmf.sum()
    return pmf
