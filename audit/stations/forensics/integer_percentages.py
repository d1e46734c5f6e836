"""Integer-percentage test (Kobak, Shpilkin & Pshenichnikov 2016).

When a station's turnout or the leader's share is written down rather than
counted, it tends to land on a round number.  The test counts the stations
whose turnout or leader share lies within a narrow window around a whole
percentage and compares that count with what binomial noise around each
station's own rates would give.

The expected count and its spread are computed exactly: for every station
the probability of landing in a window is a sum of binomial probabilities,
and the number of stations that land is a Poisson-binomial variable.  The
published Monte Carlo procedure is available as ``method="simulate"`` so
that the two can be compared.

Every percentage is classified with integer arithmetic, so no station moves
in or out of a window because of floating-point rounding.
"""

from __future__ import annotations

import math
from fractions import Fraction

import numpy as np
import pandas as pd
from ._lazy import stats

from ...core.errors import NotApplicable
from ...core.threads import single_threaded_blas
from ..registry import register
from ..result import TestResult, exclusion_table, simulated_pvalue
from ._validation import as_counts
from ._digit_law import _bernstein_window
from ._poisson_binomial import _saddlepoint_log_sf, poisson_binomial_sf
from ._special import log_factorial

__all__ = ["integer_percentages", "integer_probabilities"]

NULL = ("each station's ballots issued (cast, where a file has none issued) and "
        "leader votes are binomial draws "
        "around its own observed turnout and leader share, so round "
        "percentages occur only by chance")

# Bernstein's inequality bounds the binomial mass left out of the summation
# range by 2 * exp(-_TAIL_LOG) ~ 3e-11 per station: at most 3e-5 of a station
# in the expected count of a million-station election.
_TAIL_LOG = 25.0
# "turnout": round turnout (whatever the leader share), "turnout_only": round
# turnout and a fractional leader share, and so on.
CATEGORIES = ("either", "turnout", "leader", "both", "turnout_only",
              "leader_only")


# --------------------------------------------------------------------------
# validation
# --------------------------------------------------------------------------

def _scale_for(period: float, half_window: float) -> tuple[int, int, int]:
    """Integers (Q, B, H): percentages are measured in units of 1/Q point,
    the period is B units and the half window H units."""
    fp = Fraction(str(period)).limit_denominator(10**6)
    fh = Fraction(str(half_window)).limit_denominator(10**6)
    q = math.lcm(fp.denominator, fh.denominator)
    return q, int(fp * q), int(fh * q)


def _validate(registered, ballots_issued, ballots_cast, leader, *, window,
              period, min_registered, max_share, weight, method,
              n_resamples):
    arrays = {name: as_counts(name, x, missing="keep") for name, x in
              (("registered", registered), ("ballots_issued", ballots_issued),
               ("ballots_cast", ballots_cast), ("leader", leader))}
    lengths = {k: v.size for k, v in arrays.items()}
    if len(set(lengths.values())) != 1:
        raise ValueError("registered, ballots_issued, ballots_cast and leader "
                         f"must have the same length, got {lengths}")
    for name, value in (("window", window), ("period", period)):
        if not isinstance(value, (int, float, np.integer, np.floating)) \
                or not np.isfinite(value) or value <= 0:
            raise ValueError(f"{name} must be a positive number, got {value!r}")
    if window >= period:
        raise ValueError(f"window ({window}) must be narrower than period "
                         f"({period})")
    if period > 100:
        raise ValueError(f"period must be at most 100 points, got {period}")
    q, b, h = _scale_for(period, window / 2)
    if abs(b / q - period) > 1e-12 or abs(h / q - window / 2) > 1e-12 \
            or 100 * q > 10**8:
        raise ValueError(f"period {period} and window {window} must be "
                         "decimal numbers with at most 6 decimals")
    if not isinstance(min_registered, (int, np.integer)) or min_registered < 1:
        raise ValueError(f"min_registered must be a positive integer, "
                         f"got {min_registered!r}")
    if not (0 < max_share <= 1):
        raise ValueError(f"max_share must be in (0, 1], got {max_share!r}")
    if weight not in ("stations", "voters"):
        raise ValueError(f"weight must be 'stations' or 'voters', got {weight!r}")
    if method not in ("exact", "simulate"):
        raise ValueError(f"method must be 'exact' or 'simulate', got {method!r}")
    if not isinstance(n_resamples, (int, np.integer)) or n_resamples < 1:
        raise ValueError(f"n_resamples must be a positive integer, "
                         f"got {n_resamples!r}")
    return arrays, (q, b, h)


# --------------------------------------------------------------------------
# exact per-station probabilities
# --------------------------------------------------------------------------

def _is_integer(k, n, scale):
    """Whether 100 * k / n lies in [m*P - w/2, m*P + w/2) for some m."""
    q, b, h = scale
    a = 100 * q
    k = np.asarray(k, dtype=np.int64)
    n = np.asarray(n, dtype=np.int64)
    shifted = a * k + h * n                 # (percentage + w/2) in units * n
    rem = shifted - (shifted // (b * n)) * (b * n)
    return rem < 2 * h * n


#: Largest denominator for which log-factorials are tabulated once (8 bytes
#: each); above it they are computed per value (:func:`._special.log_factorial`).
_TABLE_MAX = 1 << 23


def _log_factorials(n_max: int) -> np.ndarray | None:
    """``log(j!)`` for j = 0..n_max, or None when the table would be too big."""
    if n_max > _TABLE_MAX:
        return None
    return log_factorial(np.arange(n_max + 1))


#: Stations per block of :func:`_window_summary`: the block's arrays stay in
#: the processor's cache, and memory does not grow with the election.
_BLOCK = 1 << 17


def _window_summary(n, p, scale):
    """Per-station round-window probability and per-window expected counts,
    computed block by block (see :func:`_window_block`)."""
    n = np.asarray(n, dtype=np.int64)
    p = np.asarray(p, dtype=float)
    if n.size <= _BLOCK:
        return _window_block(n, p, scale)
    prob = np.empty(n.size)
    parts = []
    for start in range(0, n.size, _BLOCK):
        stop = min(start + _BLOCK, n.size)
        prob[start:stop], part = _window_block(n[start:stop], p[start:stop], scale)
        parts.append(part)
    by_window = (pd.concat(parts).groupby("m", sort=True)[["expected", "var"]].sum()
                 .reset_index())
    return prob, by_window


def _window_block(n, p, scale):
    """Per-station round-window probability and per-window expected counts.

    For a Binomial(n, p) count K, the probability that 100 K / n falls in
    window m, i.e. in [m*P - w/2, m*P + w/2), is the sum of the binomial
    probabilities of the values of K inside it.  Values of K further than
    Bernstein's bound from n p carry a total mass below ~3e-11 per station
    and are left out.

    The windows are visited by their rank j within each station (the j-th
    window above the lowest one that can be reached), with the stations
    sorted by how many windows they reach, so that every step is a
    contiguous vector operation over the stations still active and memory
    stays proportional to the number of stations.

    Returns
    -------
    prob : ndarray
        For each station, the probability that its redrawn percentage lands
        in some window (clipped to 1 against rounding).
    by_window : DataFrame
        ``m`` (window index), ``expected`` (sum of the stations' masses in
        window m) and ``var`` (sum of mass * (1 - mass): a station lands in
        at most one window per draw, so each window's count is
        Poisson-binomial over stations).
    """
    q, b, h = scale
    a = 100 * q
    n = np.asarray(n, dtype=np.int64)
    p = np.asarray(p, dtype=float)
    if n.size == 0:
        return np.zeros(0), pd.DataFrame({"m": np.zeros(0, np.int64),
                                          "expected": np.zeros(0),
                                          "var": np.zeros(0)})
    mean = n * p
    var = mean * (1 - p)
    lo, hi = _bernstein_window(n, p, _TAIL_LOG)
    # p = 0 or 1: all the mass sits on K = n p
    point = var == 0
    lo[point] = hi[point] = np.round(mean[point]).astype(np.int64)
    # windows touching [lo, hi]: m*B - H <= a*k/n < m*B + H
    bn = b * n
    m_lo = np.maximum(-((h * n - a * lo) // bn), 0)   # ceil((a lo - h n)/(b n))
    m_hi = (a * hi + h * n) // bn
    n_win = np.maximum(m_hi - m_lo + 1, 0)
    order = np.argsort(-n_win, kind="stable")
    n_s, lo_s, hi_s, m_lo_s = n[order], lo[order], hi[order], m_lo[order]
    point_s = point[order]
    lf = _log_factorials(int(n.max()))
    # log pmf(k) = log C(n, k) + k log(p / q) + n log q, with q = 1 - p
    p_s = np.where(point_s, 0.5, p[order])
    log_ratio = np.log(p_s) - np.log1p(-p_s)
    log_base = n_s * np.log1p(-p_s) + (lf[n_s] if lf is not None
                                        else log_factorial(n_s))
    active = n.size - np.cumsum(np.bincount(n_win))   # stations with > j windows
    size = int(m_hi.max()) + 1
    prob_s = np.zeros(n.size)
    exp_m = np.zeros(size)
    var_m = np.zeros(size)

    def log_pmf(k, sel, nn):
        """log pmf at k of the stations ``sel`` (a slice or an index array)."""
        if lf is not None:
            rest = lf[k] + lf[nn - k]
        else:
            rest = log_factorial(k) + log_factorial(nn - k)
        return log_base[sel] - rest + k * log_ratio[sel]

    for j in range(int(n_win.max())):
        s = slice(0, int(active[j]))
        nn = n_s[s]
        m = m_lo_s[s] + j
        mb = m * b
        # k range of window m: ceil(n(mB - H)/a) .. ceil(n(mB + H)/a) - 1
        k_min = np.maximum(-((nn * (h - mb)) // a), lo_s[s])
        k_max = np.minimum(-((-(nn * (mb + h))) // a) - 1, hi_s[s])
        n_k = k_max - k_min + 1
        hit = n_k > 0
        k0 = np.where(hit, k_min, 0)
        mass = np.exp(log_pmf(k0, s, nn))
        more = np.flatnonzero(n_k > 1)
        step = 1
        while more.size:                   # windows holding several values of K
            mass[more] += np.exp(log_pmf(k_min[more] + step, more, nn[more]))
            step += 1
            more = more[n_k[more] > step]
        mass = np.where(hit, np.where(point_s[s], 1.0, mass), 0.0)
        prob_s[s] += mass
        exp_m += np.bincount(m, weights=mass, minlength=size)
        var_m += np.bincount(m, weights=mass * (1 - mass), minlength=size)
    prob = np.empty(n.size)
    prob[order] = prob_s
    idx = np.flatnonzero(exp_m > 0)
    by_window = pd.DataFrame({"m": idx, "expected": exp_m[idx], "var": var_m[idx]})
    return np.minimum(prob, 1.0), by_window


def integer_probabilities(n, k, *, window=0.1, period=1.0):
    """Exact probability that a binomial percentage lands on a round value.

    Parameters
    ----------
    n : array of int
        Denominators (registered voters, or ballots cast), all positive.
    k : array of int
        Observed numerators; ``p = k / n`` is the rate of the binomial draw.
    window, period : float
        Window width and spacing of the round values, in percentage points.

    Returns
    -------
    ndarray
        For each unit, ``P(100 K / n in [m*period - window/2,
        m*period + window/2) for some m)`` with ``K ~ Binomial(n, k/n)``.

    Examples
    --------
    With 1,000 voters and a 62.3% rate, 623 voters is nowhere near a whole
    percentage; the chance that a fresh draw lands within 0.05 points of one
    is close to the 1-in-10 share of the line the windows cover:

    >>> p = integer_probabilities([1000], [623])
    >>> bool(0.05 < p[0] < 0.15)
    True
    """
    n = np.asarray(n, dtype=np.int64)
    k = np.asarray(k, dtype=np.int64)
    if (n <= 0).any() or (k < 0).any() or (k > n).any():
        raise ValueError("n must be positive and 0 <= k <= n")
    scale = _scale_for(period, window / 2)
    return _window_summary(n, k / n, scale)[0]


# --------------------------------------------------------------------------
# the test
# --------------------------------------------------------------------------

@register("integer_percentages", family="integer-percentage", min_units=100,
          leaves_out=("missing", "leader_over_cast", "cast_over_registered"),
          evidence=True, stand_ins={"ballots_issued": "ballots_cast"},
          null=NULL)
@single_threaded_blas
def integer_percentages(registered, ballots_issued, ballots_cast, leader, *,
                        window=0.1, period=1.0, min_registered=100,
                        max_share=0.99, weight="stations", method="exact",
                        n_resamples=1000, rng=None):
    """Excess of stations reporting a round turnout or leader share.

    Turnout is ``ballots_issued / registered`` and the leader's share is
    ``leader / ballots_cast``.  Where a file has no ballots issued at all
    (most countries count turnout as ballots cast), the battery passes the
    ballots cast in their place and says so in the result's
    ``details["read_as"]``.  A station is *integer* when either
    percentage lies in ``[m*period - window/2, m*period + window/2)`` for
    a whole ``m``.  The statistic is the number of integer stations (or,
    with ``weight="voters"``, the registered voters of those stations).

    Parameters
    ----------
    registered, ballots_issued, ballots_cast, leader : array_like of int
        One value per station.  Rows with a missing value are left out and
        counted in ``details["excluded_missing"]``.
    window : float, default 0.1
        Width in percentage points of the window around each round value
        (Kobak, Shpilkin & Pshenichnikov 2016, Sec. 2: 0.1 point).
    period : float, default 1.0
        Spacing of the round values: 1 for whole percentages, 0.5, 5 or 10
        for other kinds of roundness.
    min_registered : int, default 100
        Stations with fewer registered voters are left out; percentages of
        tiny stations are often whole by arithmetic (Kobak et al. 2016).
    max_share : float, default 0.99
        Stations whose turnout or leader share exceeds this are left out:
        near 100% round values are forced (Kobak et al. 2016).
    weight : {"stations", "voters"}
        What the statistic counts.  Both weightings are always reported in
        ``details``.
    method : {"exact", "simulate"}
        ``"exact"`` computes the null distribution in closed form;
        ``"simulate"`` runs the published Monte Carlo procedure with
        ``n_resamples`` simulated elections.
    n_resamples : int, default 1000
        Number of simulated elections for ``method="simulate"``.
    rng : None, int or numpy.random.Generator
        Seed for ``method="simulate"``; unused by the exact method.

    Returns
    -------
    TestResult
        ``statistic`` is the observed count of integer stations (weighted as
        asked), ``expected`` its null mean, ``pvalue`` the one-sided
        probability of a count at least as large (``details["log10_pvalue"]``
        keeps tails too small for a float, e.g. about -207 for Russia 2020,
        and ``details["pvalue_method"]`` says how it was computed).  ``details`` holds
        ``observed``, ``expected``, ``excess`` and ``sd`` for the station
        count of the "either" category, and the same four numbers for every
        category (``either``, ``turnout``, ``leader``, ``both``,
        ``turnout_only``, ``leader_only``) under both weightings: keys such
        as ``turnout_expected`` (stations) and ``turnout_voters_expected``
        (registered voters of those stations).
        ``table`` holds, for turnout and leader share, the observed number
        of stations in every bin of width ``window`` (``observed``), the
        stations with counts that the test leaves out in that bin
        (``left_out``: shares above ``max_share`` or fewer than
        ``min_registered`` voters; for figures, not tested) and, for the bins centred on round values,
        the expected number and its SD.

    Notes
    -----
    Under the null of Kobak et al. (2016, Sec. 3), station *i* with
    :math:`N_i` registered voters, :math:`C_i` ballots cast, turnout
    :math:`t_i` and leader share :math:`r_i` produces

    .. math:: G_i \\sim \\mathrm{Bin}(N_i, t_i), \\qquad
              L_i \\sim \\mathrm{Bin}(C_i, r_i),

    independently (the leader's votes are drawn out of the *observed*
    ballots cast, so the two percentages are independent).  The chance that
    station *i* shows a round turnout is

    .. math:: a_i = \\sum_{g \\in W(N_i)} \\binom{N_i}{g} t_i^g (1-t_i)^{N_i-g},

    with :math:`W(N)` the counts whose percentage falls in a window, and
    likewise :math:`b_i` for the leader share.  A station is integer in
    "either" sense with probability :math:`e_i = 1 - (1-a_i)(1-b_i)`.  The
    count of integer stations is Poisson-binomial with mean
    :math:`\\sum e_i` and variance :math:`\\sum e_i (1 - e_i)`; the p-value
    is its exact upper tail (saddlepoint approximation, Daniels 1987, once
    the tail is below 1e-10).  With voter weights :math:`v_i` the mean is
    :math:`\\sum v_i e_i`, the variance :math:`\\sum v_i^2 e_i(1-e_i)`, and
    the p-value comes from the saddlepoint approximation.

    Binomial terms further than Bernstein's bound from the mean are left out
    (under 3e-11 per station).

    References
    ----------
    Kobak, D., Shpilkin, S. and Pshenichnikov, M. S. (2016). Integer
    percentages as electoral falsification fingerprints. *Annals of Applied
    Statistics* 10(1), 54-73.

    Daniels, H. E. (1987). Tail probability approximations. *International
    Statistical Review* 55(1), 37-48.

    Examples
    --------
    A clean synthetic election: every station's counts are binomial draws,
    so round percentages should appear about as often as expected.

    >>> rng = np.random.default_rng(1)
    >>> registered = rng.integers(1000, 3000, size=2000)
    >>> issued = rng.binomial(registered, 0.6)
    >>> leader = rng.binomial(issued, 0.55)
    >>> res = integer_percentages(registered, issued, issued, leader)
    >>> bool(abs(res.details["excess"]) < 4 * res.details["sd"])
    True

    Now 200 stations report an invented turnout of exactly 70%.  The
    excess of round stations is far beyond the binomial noise, so the
    count cannot be explained by chance:

    >>> issued[:200] = np.round(0.70 * registered[:200])
    >>> res = integer_percentages(registered, issued, issued, leader)
    >>> bool(res.details["excess"] > 120 and res.pvalue < 1e-12)
    True
    """
    arrays, scale = _validate(
        registered, ballots_issued, ballots_cast, leader, window=window,
        period=period, min_registered=min_registered, max_share=max_share,
        weight=weight, method=method, n_resamples=n_resamples)
    n_reg, n_iss = arrays["registered"], arrays["ballots_issued"]
    n_cast, n_lead = arrays["ballots_cast"], arrays["leader"]
    params = dict(window=window, period=period, min_registered=min_registered,
                  max_share=max_share, weight=weight, method=method,
                  n_resamples=n_resamples if method == "simulate" else None)

    missing = ~(np.isfinite(n_reg) & np.isfinite(n_iss) & np.isfinite(n_cast)
                & np.isfinite(n_lead))
    with np.errstate(divide="ignore", invalid="ignore"):
        turnout = n_iss / n_reg
        share = n_lead / n_cast
    no_ballots = ~missing & ~(n_cast > 0)
    small = ~missing & ~no_ballots & (n_reg < min_registered)
    high = ~missing & ~no_ballots & ~small & ((turnout > max_share)
                                              | (share > max_share))
    keep = ~(missing | no_ballots | small | high)
    excluded = {"excluded_missing": int(missing.sum()),
                "excluded_no_ballots": int(no_ballots.sum()),
                "excluded_small": int(small.sum()),
                "excluded_high_share": int(high.sum())}
    n_units = int(keep.sum())
    if n_units < integer_percentages.spec.min_units:
        raise NotApplicable(
            f"integer_percentages needs at least "
            f"{integer_percentages.spec.min_units} stations with ballots cast, "
            f">= {min_registered} registered and shares <= {max_share:.0%}; "
            f"{n_units} left")

    N = n_reg[keep].astype(np.int64)
    G = n_iss[keep].astype(np.int64)
    C = n_cast[keep].astype(np.int64)
    L = n_lead[keep].astype(np.int64)
    voters = N.astype(float)

    obs_t = _is_integer(G, N, scale)
    obs_l = _is_integer(L, C, scale)
    observed = {"either": obs_t | obs_l, "turnout": obs_t, "leader": obs_l,
                "both": obs_t & obs_l, "turnout_only": obs_t & ~obs_l,
                "leader_only": obs_l & ~obs_t}

    details: dict = {"n_stations": n_units, "n_voters": int(N.sum()),
                     **excluded}
    if method == "exact":
        a, bins_t = _window_summary(N, G / N, scale)
        b, bins_l = _window_summary(C, L / C, scale)
        prob = {"either": 1 - (1 - a) * (1 - b), "turnout": a, "leader": b,
                "both": a * b, "turnout_only": a * (1 - b),
                "leader_only": b * (1 - a)}
        for cat in CATEGORIES:
            for wname, w in (("stations", None), ("voters", voters)):
                o = observed[cat].sum() if w is None else w[observed[cat]].sum()
                pr = prob[cat]
                e = pr.sum() if w is None else np.dot(w, pr)
                v = np.sum(pr * (1 - pr)) if w is None else \
                    np.sum(w * w * pr * (1 - pr))
                _store(details, cat, wname, o, e, np.sqrt(v))
        e_prob = prob["either"]
        if weight == "stations":
            obs = int(observed["either"].sum())
            pval, log10p, how = poisson_binomial_sf(e_prob, obs)
        else:
            obs = float(voters[observed["either"]].sum())
            mean = float(np.dot(voters, e_prob))
            if obs <= mean:
                z = (obs - mean) / np.sqrt(np.sum(voters**2 * e_prob * (1 - e_prob)))
                pval = float(stats.norm.sf(z))
                log10p, how = np.log10(pval), "normal"
            else:
                log_sf = _saddlepoint_log_sf(e_prob, obs, weights=voters)
                pval, log10p, how = float(np.exp(log_sf)), log_sf / np.log(10), \
                    "saddlepoint"
        details["pvalue_method"] = how
        details["log10_pvalue"] = float(log10p)
        expected_bins = {"turnout": bins_t, "leader": bins_l}
    else:
        # stations in a canonical order before the draws, so that the same
        # seed gives the same p-value whatever the order of the rows
        order = np.lexsort((L, C, G, N))
        sims = _simulate(N[order], G[order], C[order], L[order], voters[order],
                         scale, n_resamples, rng)
        for cat in CATEGORIES:
            for wname, w in (("stations", None), ("voters", voters)):
                o = observed[cat].sum() if w is None else w[observed[cat]].sum()
                s = sims[(cat, wname)]
                _store(details, cat, wname, o, s.mean(), s.std(ddof=1))
        s = sims[("either", weight)]
        obs = observed["either"].sum() if weight == "stations" else \
            voters[observed["either"]].sum()
        pval = simulated_pvalue(int(np.sum(s >= obs)), n_resamples)
        details["pvalue_method"] = "simulation"
        details["log10_pvalue"] = float(np.log10(pval))
        details["simulated_either"] = sims[("either", "stations")]
        expected_bins = {"turnout": sims["bins_turnout"],
                         "leader": sims["bins_leader"]}

    # headline numbers: the station count of the "either" category, whatever
    # the weighting of the statistic
    for name in ("observed", "expected", "excess", "sd"):
        details[name] = details[f"either_{name}"]
    table = _histogram_table(G, N, L, C, scale, window, period, expected_bins)
    # Stations with counts that the test leaves out (shares above the caps,
    # small stations) are counted apart (``left_out``), so that a figure of
    # the table shows no false gap where they are (e.g. at 100% turnout).
    out = (high | small) & (n_reg > 0)
    part = {k: v[out].astype(np.int64) for k, v in
            (("G", n_iss), ("N", n_reg), ("L", n_lead), ("C", n_cast))}
    left_out = _histogram_table(part["G"], part["N"], part["L"], part["C"], scale, window,
                                period, {"turnout": (), "leader": ()})
    table.insert(3, "left_out", left_out["observed"].to_numpy())
    statistic = details["either_observed"] if weight == "stations" else \
        details["either_voters_observed"]
    expected = details["either_expected"] if weight == "stations" else \
        details["either_voters_expected"]
    return TestResult(test="integer_percentages", statistic=float(statistic),
                      pvalue=float(pval), n=n_units, expected=float(expected),
                      null=NULL, params=params, details=details, table=table,
                      excluded=exclusion_table({
                          "missing count": missing, "no ballots cast": no_ballots,
                          f"fewer than {min_registered} registered": small,
                          f"turnout or leader share above {max_share:.0%}": high}))


def _store(details, cat, wname, observed, expected, sd):
    key = cat if wname == "stations" else f"{cat}_voters"
    observed = int(observed) if wname == "stations" else float(observed)
    details[f"{key}_observed"] = observed
    details[f"{key}_expected"] = float(expected)
    details[f"{key}_excess"] = float(observed - expected)
    details[f"{key}_sd"] = float(sd)


def _fine_bin(k, n, scale):
    """Index j of the fine bin [j*w - w/2, j*w + w/2) holding 100 k / n."""
    q, _, h = scale
    a = 100 * q
    return (a * k + h * n) // (2 * h * n)


def _histogram_table(G, N, L, C, scale, window, period, expected_bins):
    """Stations per fine bin of turnout and of leader share, with the count
    expected at the round values."""
    q, b, h = scale
    per_window = b // (2 * h) if b % (2 * h) == 0 else None
    frames = []
    for name, k, n in (("turnout", G, N), ("leader", L, C)):
        j = _fine_bin(k, n, scale)
        top = int(round(100 / window))
        counts = np.bincount(np.clip(j, 0, top), minlength=top + 1)
        centers = np.arange(top + 1) * window
        df = pd.DataFrame({"quantity": name, "center": centers,
                           "observed": counts.astype(int)})
        df["is_round"] = False
        df["expected"] = np.nan
        df["sd"] = np.nan
        eb = expected_bins[name]
        if per_window is not None and len(eb):
            rows = eb["m"].to_numpy() * per_window
            ok = rows <= top
            df.loc[rows[ok], "expected"] = eb["expected"].to_numpy()[ok]
            df.loc[rows[ok], "sd"] = np.sqrt(eb["var"].to_numpy()[ok])
            df.loc[np.arange(0, top + 1, per_window), "is_round"] = True
            df.loc[df["is_round"] & df["expected"].isna(), ["expected", "sd"]] = 0.0
        frames.append(df)
    table = pd.concat(frames, ignore_index=True)
    table["center"] = table["center"].round(10)
    return table


def _simulate(N, G, C, L, voters, scale, n_resamples, rng):
    """The published Monte Carlo: redraw every station's counts."""
    rng = np.random.default_rng(rng)
    t = G / N
    r = L / C
    q, b, h = scale
    per_window = b // (2 * h) if b % (2 * h) == 0 else None
    out = {(c, w): np.empty(n_resamples) for c in CATEGORIES
           for w in ("stations", "voters")}
    bins = {"turnout": {}, "leader": {}}
    for i in range(n_resamples):
        g = rng.binomial(N, t)
        ell = rng.binomial(C, r)
        it = _is_integer(g, N, scale)
        il = _is_integer(ell, C, scale)
        for cat, ind in (("either", it | il), ("turnout", it), ("leader", il),
                         ("both", it & il), ("turnout_only", it & ~il),
                         ("leader_only", il & ~it)):
            out[(cat, "stations")][i] = ind.sum()
            out[(cat, "voters")][i] = voters[ind].sum()
        if per_window is not None:
            for name, k, n, ind in (("turnout", g, N, it), ("leader", ell, C, il)):
                m = _fine_bin(k[ind], n[ind], scale) // per_window
                for key, cnt in zip(*np.unique(m, return_counts=True)):
                    bins[name].setdefault(int(key), np.zeros(n_resamples))[i] = cnt
    out["bins_turnout"] = _bins_frame(bins["turnout"])
    out["bins_leader"] = _bins_frame(bins["leader"])
    return out


def _bins_frame(bins):
    if not bins:
        return pd.DataFrame(columns=["m", "expected", "var"])
    keys = sorted(bins)
    return pd.DataFrame({"m": keys,
                         "expected": [bins[k].mean() for k in keys],
                         "var": [bins[k].var(ddof=1) for k in keys]})
