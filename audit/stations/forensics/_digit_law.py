"""Exact digit laws of binomial vote counts (helpers of :mod:`.digits`).

For a count ``c`` of an option at a station whose options add up to ``n``,
the null draws ``X ~ Binomial(n, p)`` with ``p = c / n`` and keeps it only
if ``X >= t`` (the selection the digit test applies to the observed count).
The functions here give, for many counts at once, the law of the digits of
``X`` under that null:

* :func:`residue_probabilities`: ``P(X mod m in S_j | X >= t)`` for sets
  ``S_j`` of residues (last digit: ``m = 10``; last two digits:
  ``m = 100``), from the characteristic function of the binomial;
* :func:`leading_digit_probabilities`: ``P(D = d | X >= t)`` for the first
  or second significant digit, from the binomial probabilities summed over
  the digit's ranges.

Binomial mass further from the mean than Bernstein's bound for
``_TAIL_LOG`` is left out: at most ``2 exp(-_TAIL_LOG)`` (about 2e-13) per
count.
"""

from __future__ import annotations

import numpy as np
from ._lazy import special

_TAIL_LOG = 30.0
#: ``|phi(u)|`` below ``exp(-_PHI_LOG)`` (about 1e-17) is left out of the
#: Fourier sums: far below the rounding of the result.
_PHI_LOG = 39.0
#: Largest total for which log-factorials are tabulated (8 bytes each).
_TABLE_MAX = 1 << 23


def _bernstein_window(n, p, tail_log=_TAIL_LOG):
    """Integers ``lo <= hi`` holding all but ``2 exp(-tail_log)`` (~2e-13 by
    default) of Binomial(n, p), by Bernstein's inequality
    ``P(|K - np| >= d) <= 2 exp(-d^2 / (2 (var + d / 3)))``."""
    mean = n * p
    var = mean * (1 - p)
    c = tail_log
    d = c / 3 + np.sqrt((c / 3) ** 2 + 2 * c * var)
    lo = np.clip(np.floor(mean - d), 0, n).astype(np.int64)
    hi = np.clip(np.ceil(mean + d), 0, n).astype(np.int64)
    return lo, hi


def _pmf_walk(n, p, lo, hi):
    """Binomial(n, p) probabilities of every integer in ``[lo, hi]``.

    Yields ``(rows, k, pmf)`` once per rank ``j`` of the value within its
    window: ``rows`` are the counts whose window holds a ``j``-th value,
    ``k = lo[rows] + j`` and ``pmf`` its probability.  Counts are sorted by
    window length so that every step is a vector operation over a prefix.
    Degenerate counts (``p`` of 0 or 1) get probability 1 at ``n p``.
    """
    n = np.asarray(n, dtype=np.int64)
    p = np.asarray(p, dtype=float)
    length = np.maximum(hi - lo + 1, 0)
    if n.size == 0 or length.max(initial=0) == 0:
        return
    order = np.argsort(-length, kind="stable")
    n_s, lo_s, p_s = n[order], lo[order], p[order]
    point = (p_s <= 0) | (p_s >= 1)
    p_safe = np.where(point, 0.5, p_s)
    log_ratio = np.log(p_safe) - np.log1p(-p_safe)
    n_max = int(n.max())
    lf = special.gammaln(np.arange(n_max + 1, dtype=float) + 1) \
        if n_max <= _TABLE_MAX else None
    log_base = n_s * np.log1p(-p_safe) + (lf[n_s] if lf is not None
                                          else special.gammaln(n_s + 1.0))
    active = n.size - np.cumsum(np.bincount(length[order]))
    for j in range(int(length.max())):
        a = int(active[j])
        k = lo_s[:a] + j
        nn = n_s[:a]
        if lf is not None:
            rest = lf[k] + lf[nn - k]
        else:
            rest = special.gammaln(k + 1.0) + special.gammaln(nn - k + 1.0)
        pmf = np.exp(log_base[:a] - rest + k * log_ratio[:a])
        pt = point[:a]
        if pt.any():
            pmf[pt] = (k[pt] == np.round(nn[pt] * p_s[:a][pt])).astype(float)
        yield order[:a], k, pmf


def residue_probabilities(n, p, t, m, sets):
    """``P(X mod m in S_j | X >= t)`` for ``X ~ Binomial(n, p)``.

    Parameters
    ----------
    n : array of int
        Binomial sizes (station totals), one per count.
    p : array of float
        Binomial rates ``c / n``; ``n p >= t`` for every count (the observed
        count passed the selection), so the conditioning event has
        probability at least about a half.
    t : int
        Selection threshold (``min_count``).
    m : int
        Period (10 for the last digit, 100 for the last two digits).
    sets : array of shape (s, m)
        Indicator (0/1) of each set of residues.

    Returns
    -------
    ndarray of shape (len(n), s)

    Notes
    -----
    With :math:`\\varphi(u) = (1 - p + p e^{iu})^n` the characteristic
    function of the binomial and :math:`\\hat S_k = \\sum_r S_r
    e^{-2\\pi i k r / m}`,

    .. math:: P(X \\bmod m \\in S) = \\frac{1}{m} \\sum_{k=0}^{m-1}
              \\varphi(2\\pi k / m)\\, \\hat S_k,

    a finite (exact) Fourier inversion; the terms pair up as complex
    conjugates, and :math:`|\\varphi(u)| = (1 - 2p(1-p)(1 - \\cos u))^{n/2}`
    decreases in :math:`k` up to :math:`m/2`, so each count stops at the
    first :math:`k` where it falls below 1e-17.  The probabilities of the
    values below ``t`` (within the Bernstein window) are then subtracted
    residue by residue and the result divided by :math:`P(X \\ge t)`.
    """
    n = np.asarray(n, dtype=np.int64)
    p = np.asarray(p, dtype=float)
    sets = np.asarray(sets, dtype=float)
    size = n.size
    kk = np.arange(m)
    # S_hat_k for k = 0..m//2
    half = m // 2
    freq = np.exp(-2j * np.pi * np.outer(np.arange(half + 1), kk) / m)
    s_hat = freq @ sets.T                                 # (half+1, s)
    out = np.tile(s_hat[0].real / m, (size, 1))
    pq = p * (1 - p)
    # last k with |phi_k| >= exp(-_PHI_LOG): 1 - cos u <= thr
    with np.errstate(divide="ignore", invalid="ignore"):
        thr = -np.expm1(-2 * _PHI_LOG / np.maximum(n, 1)) / (2 * pq)
        u_max = np.arccos(np.clip(1 - thr, -1, 1))
    k_max = np.where(thr >= 2, half, np.floor(u_max * m / (2 * np.pi)))
    k_max = np.minimum(k_max, half).astype(np.int64)
    order = np.argsort(-k_max, kind="stable")
    n_s, p_s = n[order], p[order]
    active = size - np.cumsum(np.bincount(k_max[order], minlength=half + 1))
    acc = np.zeros_like(out)
    for k in range(1, half + 1):
        a = int(active[k - 1])
        if a == 0:
            break
        u = 2 * np.pi * k / m
        z = 1 - p_s[:a] + p_s[:a] * np.exp(1j * u)
        with np.errstate(divide="ignore", invalid="ignore"):
            phi = np.exp(n_s[:a] * np.log(z))
        phi = np.where(np.isfinite(phi), phi, 0)
        weight = 1.0 if (m % 2 == 0 and k == half) else 2.0
        acc[:a] += weight / m * (phi[:, None] * s_hat[k][None, :]).real
    out[order] += acc
    # the part below the threshold
    if t > 0:
        lo, hi = _bernstein_window(n, p)
        near = np.flatnonzero(lo < t)
        if near.size:
            below = np.zeros(near.size)
            sub = np.zeros((near.size, sets.shape[0]))
            top = np.minimum(hi[near], t - 1)
            for rows, k, pmf in _pmf_walk(n[near], p[near], lo[near], top):
                below[rows] += pmf
                sub[rows] += pmf[:, None] * sets[:, k % m].T
            out[near] = (out[near] - sub) / (1 - below)[:, None]
    return np.clip(out, 0, 1)


def _significant_digit(k, position):
    """First (position 1) or second (position 2) significant digit of k >= 1
    (k >= 10 for the second), exactly, in integer arithmetic."""
    k = np.asarray(k, dtype=np.int64)
    power = np.ones_like(k)
    limit = 10 if position == 1 else 100
    while True:
        big = k >= power * limit
        if not big.any():
            break
        power[big] *= 10
    return (k // power) % 10


def leading_digit_probabilities(n, p, t, position):
    """``P(D = d | X >= t)`` for the first (``position=1``, d = 1..9) or
    second (``position=2``, d = 0..9) significant digit of
    ``X ~ Binomial(n, p)``; ``t`` must be at least 1 (first) or 10 (second).

    The binomial probabilities of every value in the Bernstein window above
    ``t`` are added to the digit of that value (walking up the window with
    the ratio ``P(k+1)/P(k) = (n-k)/(k+1) * p/(1-p)`` from the first value,
    whose probability comes from log-gamma functions), then each row is
    divided by its total (``P(X >= t)`` up to ~2e-13).

    Returns
    -------
    ndarray of shape (len(n), 9) or (len(n), 10)
    """
    n = np.asarray(n, dtype=np.int64)
    p = np.asarray(p, dtype=float)
    out = np.zeros((n.size, 10))
    if n.size == 0:
        return out[:, 1:] if position == 1 else out
    lo, hi = _bernstein_window(n, p)
    lo = np.maximum(lo, t)
    point = (p <= 0) | (p >= 1)
    lo[point] = hi[point] = np.round(n[point] * p[point]).astype(np.int64)
    length = np.maximum(hi - lo + 1, 0)
    order = np.argsort(-length, kind="stable")
    n_s, lo_s, p_s, pt_s = n[order], lo[order], p[order], point[order]
    p_safe = np.where(pt_s, 0.5, p_s)
    ratio = np.where(pt_s, 0.0, p_safe / (1 - p_safe))
    cur = np.exp(special.gammaln(n_s + 1.0) - special.gammaln(lo_s + 1.0)
                 - special.gammaln(n_s - lo_s + 1.0) + lo_s * np.log(p_safe)
                 + (n_s - lo_s) * np.log1p(-p_safe))
    cur[pt_s] = 1.0
    top = int(hi.max())
    table = _significant_digit(np.arange(top + 1), position).astype(np.int8) \
        if top <= _TABLE_MAX else None
    flat = np.zeros(n.size * 10)
    base = np.arange(n.size) * 10
    active = n.size - np.cumsum(np.bincount(length[order]))
    for j in range(int(length.max())):
        a = int(active[j])
        k = lo_s[:a] + j
        digit = table[k] if table is not None else _significant_digit(
            np.maximum(k, 1), position)
        flat[base[:a] + digit] += cur[:a]
        cur[:a] *= (n_s[:a] - k) / (k + 1.0) * ratio[:a]
    out[order] = flat.reshape(n.size, 10)
    out /= out.sum(axis=1, keepdims=True)
    return out[:, 1:] if position == 1 else out
