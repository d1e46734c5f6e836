"""Upper tail of a Poisson-binomial count (a sum of independent Bernoulli
variables, optionally weighted): exact by FFT convolution (the pmf of
:mod:`._exact_law`) up to ``_EXACT_MAX`` terms, by a saddlepoint
approximation above.  Shared by the integer-percentage, digit and spike tests.
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
from ._lazy import stats

from ..result import TestResult
from ._exact_law import poisson_binomial_pmf
from ._special import erfcx, expit


def _saddlepoint_log_sf(p, x, weights=None):
    """log P(S >= x) for S = sum w_i B_i by the Lugannani-Rice formula.

    With unit weights S lives on the integers and the continuity-corrected
    version is used (Daniels 1987, Sec. 4, second form); ``x`` must lie
    above the mean.  Weights are rescaled to a maximum of 1, which leaves
    the approximation unchanged.
    """
    p = np.asarray(p, dtype=float)
    lattice = weights is None
    w = np.ones_like(p) if lattice else np.asarray(weights, float)
    scale = 1.0 if lattice else float(w.max())
    w = w / scale
    target = (x - 0.5) if lattice else x / scale
    with np.errstate(divide="ignore"):
        log_p, log_q = np.log(p), np.log1p(-p)

    def tilted(s):                       # P(B_i = 1) under the tilted law
        return expit(s * w + log_p - log_q)

    def kprime(s):
        return np.sum(w * tilted(s))

    if kprime(0.0) >= target:
        return np.log(0.5)
    upper = 1.0
    while kprime(upper) < target:
        upper *= 2
        if upper > 1e6:                  # x beyond the largest possible sum
            return -np.inf
    s = _saddlepoint_root(tilted, w, target, upper)
    pi = tilted(s)
    cgf = np.sum(np.logaddexp(log_q, log_p + s * w))
    k2 = np.sum(w * w * pi * (1 - pi))
    r = np.sqrt(max(2 * (s * target - cgf), 0.0))
    u = (2 * np.sinh(s / 2) if lattice else s) * np.sqrt(k2)
    if r < 1e-6 or u < 1e-12:
        return np.log(0.5)
    # 1 - Phi(r) = phi(r) * mills(r), kept in log form for tails like 1e-300
    mills = 0.5 * erfcx(r / np.sqrt(2)) * np.sqrt(2 * np.pi)
    bracket = mills + 1 / u - 1 / r
    if bracket <= 0:
        return float(stats.norm.logsf(r))
    return float(-r * r / 2 - 0.5 * np.log(2 * np.pi) + np.log(bracket))


def _saddlepoint_root(tilted, w, target, upper):
    """The s in (0, upper) where K'(s) = sum_i w_i tilted(s)_i equals ``target``.

    K' increases in s (its derivative is K''(s) = sum w_i^2 pi_i (1 - pi_i)
    > 0) and K'(0) < target <= K'(upper), so Newton's method is run inside
    the bracket, falling back to bisection whenever a step would leave it;
    it stops when the bracket or the step is below 1e-14 relative.  (A few
    lines instead of :func:`scipy.optimize.brentq`, whose import alone costs
    a short ``audit run`` about a quarter of a second.)
    """
    lo, hi = 0.0, float(upper)
    s = hi / 2
    for _ in range(200):
        pi = tilted(s)
        f = float(np.sum(w * pi)) - target
        if f == 0.0:
            return s
        if f < 0:
            lo = s
        else:
            hi = s
        slope = float(np.sum(w * w * pi * (1 - pi)))
        step = f / slope if slope > 0 else np.inf
        new = s - step
        if not lo < new < hi:
            new = (lo + hi) / 2
        if abs(new - s) <= 1e-14 * max(1.0, abs(new)) or hi - lo <= 1e-14 * max(1.0, hi):
            return new
        s = new
    return s


#: Above this many stations the Poisson-binomial tail is taken from the
#: saddlepoint approximation instead of the exact pmf.
_EXACT_MAX = 1 << 20


def poisson_binomial_sf(p, x):
    """Upper tail ``P(S >= x)`` of a sum of independent Bernoulli(p_i).

    The exact pmf (FFT products of generating polynomials) is used where
    the tail is above 1e-10; beyond that, where the exact sum drowns in
    floating-point error, the saddlepoint approximation is used (directly,
    without the pmf, when Bernstein's bound already puts the tail below
    1e-14).  Above ``_EXACT_MAX`` (about a million) stations the FFT
    products, which grow as n log^2 n, give way to the saddlepoint
    approximation for every x (the lower tail for x below the mean); its
    relative error there is of order 1/n.

    Returns
    -------
    pvalue : float
    log10_pvalue : float
    how : str
        ``"exact"`` or ``"saddlepoint"``.

    Examples
    --------
    Ten fair coins: the chance of 8 heads or more is 56/1024.

    >>> poisson_binomial_sf([0.5] * 10, 8)[0] * 1024
    56.00000000000...
    """
    p = np.asarray(p, dtype=float)
    x = int(math.ceil(x))
    if x <= 0:
        return 1.0, 0.0, "exact"
    if x > p.size:
        return 0.0, -np.inf, "exact"
    mean = float(p.sum())
    if p.size > _EXACT_MAX:
        # the FFT products grow as n log^2 n; with this many stations the
        # saddlepoint approximation is accurate to a few parts in a million
        if x > mean:
            log_sf = _saddlepoint_log_sf(p, x)
        else:   # P(S >= x) = 1 - P(S' >= n - x + 1), S' = n - S
            log_lower = _saddlepoint_log_sf(1 - p, p.size - x + 1)
            log_sf = float(np.log1p(-np.exp(log_lower)))
        return float(np.exp(log_sf)), float(log_sf / np.log(10)), "saddlepoint"
    t = x - mean
    if t > 0:
        # Bernstein: P(S - mean >= t) <= exp(-t^2 / (2 (var + t / 3))).  Where
        # even this bound is far below the exact sum's reach, skip the pmf.
        bound = -t * t / (2 * (float(np.sum(p * (1 - p))) + t / 3))
        if bound < np.log(1e-14):
            log_sf = _saddlepoint_log_sf(p, x)
            return float(np.exp(log_sf)), float(log_sf / np.log(10)), "saddlepoint"
    pmf = poisson_binomial_pmf(p)
    tail = float(min(pmf[x:].sum(), 1.0))
    if tail >= 1e-10 or x <= mean:
        return tail, np.log10(tail) if tail > 0 else -np.inf, "exact"
    log_sf = _saddlepoint_log_sf(p, x)
    return float(np.exp(log_sf)), float(log_sf / np.log(10)), "saddlepoint"


def count_pvalue(probs, hits, alternative):
    """Tail of ``H = sum_i B_i``, ``B_i ~ Bernoulli(probs_i)``, at ``hits``.

    Two-sided: twice the smaller tail, capped at 1.
    """
    n = probs.size
    upper, _, how_u = poisson_binomial_sf(probs, hits)
    if alternative == "greater":
        return upper, how_u
    lower, _, how_l = poisson_binomial_sf(1 - probs, n - hits)
    if alternative == "less":
        return lower, how_l
    how = how_u if upper <= lower else how_l
    return float(min(1.0, 2 * min(upper, lower))), how


def count_result(test, hits, probs, alternative, null, params,
                             details, labels, excluded=None):
    """Result of a count test whose null hit probabilities vary by unit."""
    n = probs.size
    # exactly rounded sums: the same for any order of the stations
    mean = math.fsum(probs)
    pval, how = count_pvalue(probs, int(hits), alternative)
    p0 = mean / n
    sd = math.sqrt(math.fsum(probs * (1 - probs)))
    table = pd.DataFrame({"category": labels,
                          "observed": [int(hits), int(n - hits)],
                          "expected": [mean, n - mean],
                          "observed_share": [hits / n, 1 - hits / n],
                          "expected_share": [p0, 1 - p0]})
    ci = stats.binomtest(int(hits), int(n)).proportion_ci(confidence_level=0.95)
    details = {**details, "hits": int(hits), "share": hits / n,
               "expected_hits": mean, "null_sd_hits": sd,
               "z": (hits - mean) / sd if sd > 0 else 0.0,
               "ci_low": float(ci.low), "ci_high": float(ci.high),
               "pvalue_method": f"Poisson-binomial ({how})"}
    return TestResult(test=test, statistic=float(hits / n), pvalue=float(pval),
                      n=int(n), expected=p0, null=null, params=params,
                      details=details, table=table, excluded=excluded)
