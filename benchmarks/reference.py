"""Reference implementations that the benchmark compares the package against.

Written for the benchmark only, independently of :mod:`audit`: the point is
to time the package against the procedure as published and to check that
both give the same numbers.

``integer_counts_monte_carlo``
    The Monte Carlo procedure of Kobak, Shpilkin and Pshenichnikov (2016,
    Sec. 3), vectorised with numpy: every station's ballots issued and
    leader votes are redrawn ``n_resamples`` times and the stations with a
    round turnout or leader share are counted in each simulated election.
"""

from __future__ import annotations

import numpy as np

__all__ = ["integer_counts_monte_carlo", "is_round", "kobak_sample"]


def kobak_sample(registered, ballots_issued, ballots_cast, leader, *,
                 min_registered=100, max_share=0.99):
    """Stations kept by the published procedure, as int64 arrays.

    Kept: no missing value, ballots cast > 0, at least ``min_registered``
    registered voters, turnout (ballots issued / registered) and leader
    share (leader / ballots cast) both at most ``max_share``.

    Returns
    -------
    tuple of ndarray
        ``(registered, ballots_issued, ballots_cast, leader)`` of the kept
        stations.
    """
    cols = [np.asarray(x, dtype=float) for x in
            (registered, ballots_issued, ballots_cast, leader)]
    n, g, c, lead = cols
    ok = np.isfinite(n) & np.isfinite(g) & np.isfinite(c) & np.isfinite(lead)
    ok &= (c > 0) & (n >= min_registered)
    with np.errstate(divide="ignore", invalid="ignore"):
        ok &= (g / n <= max_share) & (lead / c <= max_share)
    return tuple(x[ok].astype(np.int64) for x in cols)


def is_round(k, n):
    """Whether ``100 k / n`` lies within 0.05 points of a whole percentage.

    The window is ``[m - 0.05, m + 0.05)`` for a whole ``m``.  Multiplying
    by ``20 n``: ``2000 k + n`` must fall in ``[20 m n, 20 m n + 2 n)``,
    checked in integers so that no count moves in or out of a window
    through floating-point rounding.
    """
    k = np.asarray(k, dtype=np.int64)
    n = np.asarray(n, dtype=np.int64)
    return (2000 * k + n) % (20 * n) < 2 * n


def integer_counts_monte_carlo(registered, ballots_issued, ballots_cast, leader,
                               *, n_resamples=1000, rng=None,
                               block_elements=4_000_000):
    """Integer-station counts in ``n_resamples`` simulated clean elections.

    Station *i* keeps its registered voters :math:`N_i` and ballots cast
    :math:`C_i`; its turnout :math:`t_i = G_i / N_i` and leader share
    :math:`r_i = L_i / C_i` are the observed ones, and each simulated
    election draws

    .. math:: G_i^* \\sim \\mathrm{Bin}(N_i, t_i), \\qquad
              L_i^* \\sim \\mathrm{Bin}(C_i, r_i)

    independently (the leader's votes out of the observed ballots cast).
    A station counts when :math:`100 G^*/N` or :math:`100 L^*/C` is within
    0.05 points of a whole number (Kobak, Shpilkin & Pshenichnikov 2016,
    Ann. Appl. Stat. 10(1), 54-73, Sec. 3: 0.1-point window).

    Parameters
    ----------
    registered, ballots_issued, ballots_cast, leader : array of int
        Stations already filtered (see :func:`kobak_sample`).
    n_resamples : int
        Number of simulated elections.
    rng : seed or Generator
    block_elements : int
        Resamples are drawn in blocks of about this many station draws, so
        memory stays bounded whatever ``n_resamples``.

    Returns
    -------
    ndarray of int64, shape (n_resamples,)
        Number of integer stations in each simulated election.
    """
    rng = np.random.default_rng(rng)
    n = np.asarray(registered, dtype=np.int64)
    g = np.asarray(ballots_issued, dtype=np.int64)
    c = np.asarray(ballots_cast, dtype=np.int64)
    lead = np.asarray(leader, dtype=np.int64)
    t = g / n
    r = lead / c
    out = np.empty(n_resamples, dtype=np.int64)
    per_block = max(1, block_elements // max(n.size, 1))
    done = 0
    while done < n_resamples:
        b = min(per_block, n_resamples - done)
        g_sim = rng.binomial(n, t, size=(b, n.size))
        l_sim = rng.binomial(c, r, size=(b, n.size))
        hit = is_round(g_sim, n) | is_round(l_sim, c)
        out[done:done + b] = hit.sum(axis=1)
        done += b
    return out
