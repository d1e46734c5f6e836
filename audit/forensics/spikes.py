"""Spikes of coarse vote shares: Rozenas' resampled kernel density test.

Officials who write results instead of counting them tend to write round
shares (50%, 60%, 2/3, 3/4). Round shares also occur by arithmetic alone,
far more often at small stations (1 of 2 voters is exactly 50%), so their
raw frequency proves nothing. Rozenas (2017) compares the observed shares
with *resampled* ones: each station's count is redrawn with its own
denominator around a smooth share, which keeps the arithmetic chance of a
round share but breaks any deliberate rounding. Excess mass at the focal shares
over the resampled expectation is the estimated share of "spike" stations.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from fractions import Fraction

import numpy as np
import pandas as pd
from scipy import special

from ..errors import NotApplicable
from ..registry import register
from ..result import TestResult, simulated_pvalue

__all__ = ["SpikeResult", "spikes", "coarse_shares", "beta_prior", "hit_probability"]

_NULL = ("each station's leader count is a binomial draw around a share from a "
         "smooth (beta) law, so focal (round) shares occur only as often as "
         "arithmetic makes them (beta-binomial resampling of every station)")


def coarse_shares(max_denominator: int = 20, *, step: float | None = 0.05) -> np.ndarray:
    """Default focal shares: fractions p/q (q <= ``max_denominator`` of the
    simple ones 2, 3, 4) and multiples of ``step``, strictly inside (0, 1).

    With the defaults: every multiple of 5% plus 1/3 and 2/3 (21 values).

    Examples
    --------
    >>> coarse_shares()[:4].round(4).tolist()
    [0.05, 0.1, 0.15, 0.2]
    >>> len(coarse_shares())
    21
    """
    vals = set()
    for q in (2, 3, 4):
        if q <= max_denominator:
            vals.update(Fraction(p, q) for p in range(1, q))
    if step is not None:
        m = int(round(1 / step))
        vals.update(Fraction(k, m) for k in range(1, m))
    return np.array(sorted(float(v) for v in vals))


@dataclass(frozen=True)
class SpikeResult(TestResult):
    """:class:`~audit.result.TestResult` plus the per-focal-share table.

    ``table`` holds the share histogram behind the plot (``share_lo``,
    ``share_hi``, ``observed``, ``resampled``: mean count over
    beta-binomial resamples); ``focal_table`` one row per focal share (``focal``,
    ``observed``, ``expected``, ``excess``).
    """

    focal_table: pd.DataFrame | None = field(default=None, repr=False, compare=False)

    def confidence_interval(self) -> tuple[float, float]:
        """Bootstrap percentile interval of the share of spike stations."""
        return (self.details["ci_low"], self.details["ci_high"])


def _as_counts(name, x, n=None):
    arr = np.asarray(x)
    try:
        arr = arr.astype(float)
    except (TypeError, ValueError):
        raise TypeError(f"{name} must hold numbers, got dtype {arr.dtype}") from None
    if arr.ndim != 1:
        raise ValueError(f"{name} must be one-dimensional, got shape {arr.shape}")
    if n is not None and arr.size != n:
        raise ValueError(f"{name} has {arr.size} rows, expected {n} (one per station)")
    if np.any(~np.isfinite(arr)):
        raise ValueError(f"{name} has missing or infinite values at rows "
                         f"{np.flatnonzero(~np.isfinite(arr))[:5].tolist()}")
    if np.any(arr < 0) or np.any(arr != np.round(arr)):
        raise ValueError(f"{name} must be non-negative whole numbers")
    return arr


def _validate(ballots_cast, leader, focal, halfwidth, min_ballots, n_resamples,
              n_boot, confidence, bin_width):
    n_i = _as_counts("ballots_cast", ballots_cast)
    w_i = _as_counts("leader", leader, n_i.size)
    if np.any(w_i > n_i):
        bad = np.flatnonzero(w_i > n_i)[:5].tolist()
        raise ValueError(f"leader exceeds ballots_cast at rows {bad}")
    foc = coarse_shares() if focal is None else np.sort(np.asarray(focal, dtype=float))
    if foc.ndim != 1 or foc.size == 0 or np.any((foc <= 0) | (foc >= 1)):
        raise ValueError(f"focal must be shares strictly between 0 and 1, got {focal!r}")
    if not 0 < halfwidth < 0.01:
        raise ValueError(f"halfwidth must be in (0, 0.01), got {halfwidth!r}")
    if foc.size > 1 and np.min(np.diff(foc)) <= 2 * halfwidth:
        raise ValueError("focal shares must be more than 2 * halfwidth apart "
                         f"(closest pair {np.min(np.diff(foc)):.4g} apart)")
    if int(min_ballots) != min_ballots or min_ballots < 1:
        raise ValueError(f"min_ballots must be a positive integer, got {min_ballots!r}")
    for name, val in (("n_resamples", n_resamples), ("n_boot", n_boot)):
        if int(val) != val or val < 1:
            raise ValueError(f"{name} must be a positive integer, got {val!r}")
    if not 0 < confidence < 1:
        raise ValueError(f"confidence must be in (0, 1), got {confidence!r}")
    if not 0 < bin_width <= 0.05:
        raise ValueError(f"bin_width must be in (0, 0.05], got {bin_width!r}")
    return n_i, w_i, foc


def _window(n, focal, halfwidth):
    """Integer counts k with |k/n - c| <= halfwidth, as bounds (lo, hi)."""
    eps = 1e-9
    lo = np.ceil(n[:, None] * (focal[None, :] - halfwidth) - eps)
    hi = np.floor(n[:, None] * (focal[None, :] + halfwidth) + eps)
    return lo, hi


def beta_prior(n, w):
    """Beta(a, b) law of the true shares fitted by moments to all stations.

    The variance of observed shares is the variance of the true shares plus
    binomial noise, :math:`\\mathrm{Var}(s) = V + (m(1-m) - V)\\,
    \\overline{1/n}`; solving for :math:`V` and matching a beta law with
    mean :math:`m` and variance :math:`V` gives :math:`a + b = m(1-m)/V - 1`.

    Examples
    --------
    >>> g = np.random.default_rng(0)
    >>> n = np.full(20000, 400)
    >>> a, b = beta_prior(n, g.binomial(n, g.beta(12, 8, 20000)))
    >>> round(float(a / (a + b)), 2), bool(15 < a + b < 25)
    (0.6, True)
    """
    n = np.asarray(n, dtype=float)
    s = np.asarray(w, dtype=float) / n
    m = float(np.clip(s.mean(), 1e-6, 1 - 1e-6))
    inv = float(np.mean(1 / n))
    v = (s.var() - m * (1 - m) * inv) / (1 - inv) if inv < 1 else 0.0
    v = min(max(v, m * (1 - m) * 1e-6), m * (1 - m) * 0.999)
    total = m * (1 - m) / v - 1
    return float(m * total), float((1 - m) * total)


def _log_betabinom(k, n, a, b):
    return (special.gammaln(n + 1) - special.gammaln(k + 1) - special.gammaln(n - k + 1)
            + special.betaln(k + a, n - k + b) - special.betaln(a, b))


def hit_probability(n, a, b, focal, halfwidth):
    """Probability that K / n lies within ``halfwidth`` of a focal share when
    K ~ BetaBinomial(n, a, b), for each station (rows) and focal share
    (columns). Exact: the beta-binomial mass summed over the integers of
    each window. Large ``a + b`` gives the binomial with p = a / (a + b).

    Examples
    --------
    With a = b = 1 the count is uniform on 0..n, so a station of 4 ballots
    hits exactly 1/2 with probability 1/5:

    >>> hit_probability(np.array([4.0]), np.array([1.0]), np.array([1.0]),
    ...                 np.array([0.5]), 0.001).round(6)
    array([[0.2]])
    """
    n = np.asarray(n, dtype=float)[:, None]
    a = np.asarray(a, dtype=float)[:, None]
    b = np.asarray(b, dtype=float)[:, None]
    lo, hi = _window(n[:, 0], focal, halfwidth)
    lo = np.maximum(lo, 0)
    hi = np.minimum(hi, n)
    width = int(max(0, (hi - lo).max(initial=0))) + 1
    prob = np.zeros(lo.shape)
    for d in range(width):
        k = lo + d
        ok = k <= hi
        if not ok.any():
            break
        prob += np.where(ok, np.exp(_log_betabinom(np.where(ok, k, 0), n, a, b)), 0.0)
    return np.clip(prob, 0.0, 1.0)


@register("spikes", family="spike", min_units=100, null=_NULL)
def spikes(ballots_cast, leader, *, focal=None, halfwidth=0.0005, min_ballots=1,
           n_resamples=1000, n_boot=500, confidence=0.95, bin_width=0.001,
           n_density=20, min_stations=100, rng=None):
    """Excess of stations at focal (round) leader shares over resampled shares.

    Parameters
    ----------
    ballots_cast, leader : array_like of int, shape (n,)
        Ballots in the boxes (the share's denominator) and the leader's votes.
    focal : array_like of float, optional
        Focal shares in (0, 1); default :func:`coarse_shares`: multiples of
        5% and 1/3, 2/3. The end points 0 and 1 are left out (they arise
        from empty or unanimous stations, which a spike test cannot judge).
    halfwidth : float, default 0.0005
        A share counts as focal when within this distance (0.05 percentage
        points, so that a 0.1-point window surrounds each focal share, as in
        the integer-percentage test of Kobak et al.).
    min_ballots : int, default 1
        Stations with fewer ballots are left out (the exact null already
        accounts for small denominators, so none need be).
    n_resamples : int, default 1000
        Draws from the null distribution of the focal count for the p-value.
    n_boot : int, default 500
        Bootstrap resamples of stations for the interval.
    confidence : float, default 0.95
        Level of the percentile interval.
    bin_width : float, default 0.001
        Width of the share bins in the plotting table.
    n_density : int, default 20
        Resamples averaged for the ``resampled`` column of the table.
    min_stations : int, default 100
        Fewer usable stations raise :class:`~audit.errors.NotApplicable`.
    rng : None, int or numpy.random.Generator
        Seed for all resampling.

    Returns
    -------
    SpikeResult
        ``statistic`` = estimated share of spike stations
        :math:`\\hat\\pi`; ``pvalue`` = simulated
        :math:`(k + 1) / (B + 1)`; ``expected`` = 0; ``details`` has
        ``observed_focal``, ``expected_focal``, ``excess_stations``,
        ``ci_low``, ``ci_high`` (of :math:`\\hat\\pi`), ``n_focal``.

    Notes
    -----
    Station :math:`i` has :math:`n_i` ballots and :math:`w_i` leader votes,
    share :math:`s_i = w_i / n_i`; :math:`F` is the set of focal shares and
    :math:`h` the half-width. The observed focal count is
    :math:`M = \\#\\{i : \\min_{c \\in F} |s_i - c| \\le h\\}`. Under the null
    true shares follow a smooth law, here a beta law :math:`\\mathrm{Beta}(a,
    b)` fitted by moments to all stations (:func:`beta_prior`), and counts
    are binomial given the share. Each station's count is resampled from
    its posterior predictive, :math:`w_i^* \\sim \\mathrm{BetaBinomial}(n_i,
    a + w_i, b + n_i - w_i)`: resampling keeps the denominators, hence the
    arithmetic frequency of coarse shares, and smooths away deliberate
    rounding (Rozenas 2017, section 4). If the beta law is right the
    predictive is the law of a fresh count at the same station, so
    :math:`E[q_i]` equals the station's true chance of a focal share, even
    for tiny stations (resampling at the observed share, Binomial(n_i,
    s_i), is biased there: a station with 4 of 4 votes never resamples to
    a round share). The probability that the resampled share is focal,

    .. math:: q_i = \\sum_{c \\in F} P\\left(\\left|\\tfrac{w_i^*}{n_i} - c\\right| \\le h\\right),

    is exact (beta-binomial mass summed over the window's integers), so
    the expected focal count is :math:`E = \\sum_i q_i` without
    simulation. If a fraction :math:`\\pi` of stations report a focal share
    on purpose and the rest behave as the null, :math:`M \\approx \\pi n +
    (1 - \\pi) E`, whence

    .. math:: \\hat\\pi = (M - E) / (n - E).

    The null distribution of :math:`M` is Poisson-binomial with
    probabilities :math:`q_i`; the p-value compares :math:`M` with
    ``n_resamples`` draws from it. The interval resamples stations (with
    :math:`M` and :math:`E` recomputed) and takes percentiles of
    :math:`\\hat\\pi`.

    Simplifications relative to Rozenas (2017): the kernel is a box of
    half-width :math:`h` evaluated only at the focal shares, not a smooth
    kernel density over the whole share range with a bandwidth chosen by
    cross-validation; the smooth law of shares is one beta law for all
    stations (a regional mixture would be closer for heterogeneous
    countries; with large stations the data dominate the prior); the fraud
    share is read from the mixture identity above instead of a mixture fit
    over the density; only the leader's vote share is tested (not
    turnout), and the focal set is fixed in advance, not chosen from the
    data.

    References
    ----------
    .. [1] A. Rozenas, "Detecting Election Fraud from Irregularities in
       Vote-Share Distributions", Political Analysis 25(1), 2017, 41-56.
    .. [2] D. Kobak, S. Shpilkin and M. S. Pshenichnikov, "Integer
       percentages as electoral falsification fingerprints", Annals of
       Applied Statistics 10(1), 2016.

    Examples
    --------
    3,000 clean stations of 1,000 to 3,000 ballots (so that the nearest
    count to a round share lies within the 0.05-point window), then 5% of
    them rewritten to the nearest multiple of 10%:

    >>> import numpy as np
    >>> g = np.random.default_rng(3)
    >>> n = g.integers(1000, 3000, 3000)
    >>> w = g.binomial(n, g.beta(12, 8, 3000))
    >>> clean = spikes(n, w, n_resamples=200, n_boot=100, rng=1)
    >>> bool(clean.pvalue > 0.01)
    True
    >>> fixed = g.random(3000) < 0.05
    >>> w2 = w.copy()
    >>> w2[fixed] = np.round(np.round(w[fixed] / n[fixed], 1) * n[fixed]).astype(int)
    >>> res = spikes(n, w2, n_resamples=200, n_boot=100, rng=1)
    >>> bool(res.pvalue < 0.01), bool(res.details["ci_low"] < 0.05 < res.details["ci_high"])
    (True, True)

    The clean election shows no excess at round shares; in the rewritten
    one the excess is significant and its interval covers the 5% planted.
    """
    n_i, w_i, foc = _validate(ballots_cast, leader, focal, halfwidth, min_ballots,
                              n_resamples, n_boot, confidence, bin_width)
    gen = np.random.default_rng(rng)
    ok = n_i >= min_ballots
    n_excluded = int((~ok).sum())
    if ok.sum() < min_stations:
        raise NotApplicable(f"spikes needs at least {min_stations} stations with "
                            f">= {min_ballots} ballots, got {int(ok.sum())}")
    n_i, w_i = n_i[ok], w_i[ok]
    n = n_i.size
    share = w_i / n_i

    lo, hi = _window(n_i, foc, halfwidth)
    hits = (w_i[:, None] >= lo) & (w_i[:, None] <= hi)
    hit = hits.any(axis=1)
    # posterior predictive of each station's count under the fitted beta law
    a0, b0 = beta_prior(n_i, w_i)
    post_a, post_b = a0 + w_i, b0 + n_i - w_i
    q_each = hit_probability(n_i, post_a, post_b, foc, halfwidth)
    q = np.clip(q_each.sum(axis=1), 0.0, 1.0)

    m_obs = float(hit.sum())
    e_null = float(q.sum())
    pi_hat = (m_obs - e_null) / (n - e_null)

    # Null distribution of M: sum of independent Bernoulli(q_i), in chunks.
    null_m = np.zeros(int(n_resamples))
    chunk = max(1, 2_000_000 // n)
    for start in range(0, int(n_resamples), chunk):
        stop = min(int(n_resamples), start + chunk)
        u = gen.random((stop - start, n))
        null_m[start:stop] = (u < q).sum(axis=1)
    k = int(np.sum(null_m >= m_obs))
    pvalue = simulated_pvalue(k, int(n_resamples))

    boot = np.empty(int(n_boot))
    hitf = hit.astype(float)
    for b in range(int(n_boot)):
        wts = np.bincount(gen.integers(0, n, n), minlength=n)
        mb = wts @ hitf
        eb = wts @ q
        boot[b] = (mb - eb) / (n - eb)
    alpha = (1 - confidence) / 2
    ci_low, ci_high = (float(x) for x in np.quantile(boot, [alpha, 1 - alpha]))

    # Plotting table: observed share histogram vs mean of binomial resamples.
    nb = int(round(1 / bin_width))
    edges = np.linspace(0, 1, nb + 1)
    obs_hist = np.histogram(share, bins=edges)[0]
    res_hist = np.zeros(nb)
    for _ in range(int(n_density)):
        p_star = gen.beta(post_a, post_b)
        res_hist += np.histogram(gen.binomial(n_i.astype(np.int64), p_star) / n_i,
                                 bins=edges)[0]
    res_hist /= max(int(n_density), 1)
    table = pd.DataFrame({"share_lo": edges[:-1], "share_hi": edges[1:],
                          "observed": obs_hist, "resampled": res_hist})
    focal_table = pd.DataFrame({
        "focal": foc, "observed": hits.sum(axis=0),
        "expected": q_each.sum(axis=0)})
    focal_table["excess"] = focal_table["observed"] - focal_table["expected"]

    details = {"observed_focal": int(m_obs), "expected_focal": e_null,
               "excess_stations": m_obs - e_null, "ci_low": ci_low,
               "ci_high": ci_high, "confidence": confidence,
               "n_focal": int(foc.size), "null_sd": float(np.std(null_m)),
               "prior_a": float(a0), "prior_b": float(b0),
               "excluded_stations": n_excluded}
    params = {"focal": foc.tolist(), "halfwidth": halfwidth,
              "min_ballots": min_ballots, "n_resamples": int(n_resamples),
              "n_boot": int(n_boot), "confidence": confidence,
              "bin_width": bin_width, "n_density": int(n_density),
              "min_stations": min_stations}
    return SpikeResult(test="spikes", statistic=float(pi_hat), pvalue=pvalue, n=int(n),
                       expected=0.0, null=_NULL, params=params, details=details,
                       table=table, focal_table=focal_table)
