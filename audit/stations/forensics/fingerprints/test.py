"""The registered fingerprint test: the fitted fraud shares and their
bootstrap intervals (an estimate, not a test, by default), and on request a
p-value from refits on elections simulated without fraud.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd
from .._lazy import stats

from ....core.errors import NotApplicable
from ....core.threads import map_threads, single_threaded_blas
from ...registry import Column, register
from ...result import TestResult, exclusion_table, simulated_pvalue
from .._validation import (LEADER_OVER, NO_BALLOTS, NO_REGISTERED, OVER_100, as_counts,
                           pair_screen, reason)
from .model import _fit, _simulate_from


_NULL = ("no fraud in the Klimek et al. model (f_i = f_e = 0): station turnout "
         "and leader share are truncated normals around the fitted fair "
         "values (parametric bootstrap)")


@dataclass(frozen=True)
class FingerprintResult(TestResult):
    """:class:`~audit.stations.result.TestResult` plus the fit's by-products.

    ``table`` is the fingerprint: one row per (turnout, share) cell with
    ``turnout_lo``, ``turnout_hi``, ``share_lo``, ``share_hi``,
    ``observed`` (station counts), ``fitted`` (expected counts under the
    fitted model) and ``fair`` (under the fitted fair model, f_i = f_e = 0).
    ``objective`` holds the fit criterion over the (theta, f_i, f_e) grid;
    ``bootstrap`` and ``null_statistics`` the replicates behind the interval
    and the p-value.
    """

    objective: pd.DataFrame | None = field(default=None, repr=False, compare=False)
    bootstrap: pd.DataFrame | None = field(default=None, repr=False, compare=False)
    null_statistics: pd.DataFrame | None = field(default=None, repr=False, compare=False)

    def confidence_interval(self, which: str = "f_i") -> tuple[float, float]:
        """Parametric-bootstrap percentile interval of ``f_i``, ``f_e`` or
        ``total`` (their sum)."""
        if which not in ("f_i", "f_e", "total"):
            raise ValueError(f"which must be 'f_i', 'f_e' or 'total', got {which!r}")
        return (self.details[f"{which}_ci_low"], self.details[f"{which}_ci_high"])


def _validate(registered, ballots_cast, leader, groups, bins, alpha, theta_grid,
              sigma_extreme, step, fi_max, fe_max, n_sim, n_correct, n_boot, n_null,
              min_group, confidence):
    reg = as_counts("registered", registered)
    cast = as_counts("ballots_cast", ballots_cast, reg.size)
    lead = as_counts("leader", leader, reg.size)
    if groups is not None:
        groups = np.asarray(groups)
        if groups.shape != (reg.size,):
            raise ValueError(f"groups must have one label per station ({reg.size}), "
                             f"got shape {groups.shape}")
    if int(bins) != bins or not 5 <= bins <= 200:
        raise ValueError(f"bins must be an integer in [5, 200], got {bins!r}")
    if not 0 < alpha <= 10:
        raise ValueError(f"alpha must be in (0, 10], got {alpha!r}")
    theta = np.atleast_1d(np.asarray(theta_grid, dtype=float))
    if theta.ndim != 1 or theta.size == 0 or np.any((theta <= 0) | (theta > 1)):
        raise ValueError(f"theta_grid must hold widths in (0, 1], got {theta_grid!r}")
    if not 0 < sigma_extreme <= 0.5:
        raise ValueError(f"sigma_extreme must be in (0, 0.5], got {sigma_extreme!r}")
    J = 1 / step if step > 0 else 0
    if not 0 < step <= 0.1 or abs(J - round(J)) > 1e-9:
        raise ValueError(f"step must divide 1 and lie in (0, 0.1], got {step!r}")
    for name, val in (("fi_max", fi_max), ("fe_max", fe_max)):
        if not 0 <= val <= 1:
            raise ValueError(f"{name} must be in [0, 1], got {val!r}")
    for name, val, low in (("n_sim", 1 if n_sim is None else n_sim, 1),
                           ("n_correct", n_correct, 0),
                           ("n_boot", n_boot, 0),
                           ("n_null", n_null, 0), ("min_group", min_group, 1)):
        if int(val) != val or val < low:
            raise ValueError(f"{name} must be an integer >= {low}, got {val!r}")
    if not 0 < confidence < 1:
        raise ValueError(f"confidence must be in (0, 1), got {confidence!r}")
    return reg, cast, lead, groups, theta


def _tail_pvalue(observed, null):
    """P-value of the fit improvement ``observed`` from its null refits
    ``null``: a point mass at 0 and a scaled chi-square(1) tail.

    With :math:`k` of the :math:`B` refits positive, of mean :math:`m`,
    :math:`p = \\frac{k + 1}{B + 1} \\, P(F_{1, k} \\ge x / m)`; if the
    positive refits are :math:`c \\chi^2_1`, :math:`x / m` is
    :math:`F_{1,k}` under the null whatever :math:`c` (a pivot, so the
    estimated scale costs no size).  1 when ``observed`` is 0 (every refit
    is at least as large); :math:`1 / (B + 1)` when no refit is positive.

    Examples
    --------
    >>> round(_tail_pvalue(0.0, np.array([0.0, 3.0])), 3)
    1.0
    >>> bool(_tail_pvalue(200.0, np.r_[np.zeros(7), np.full(12, 10.0)]) < 1 / 20)
    True
    """
    if not observed > 0:
        return 1.0
    pos = null[null > 0]
    if pos.size == 0:
        return 1.0 / (null.size + 1)
    share = (pos.size + 1) / (null.size + 1)
    return float(min(1.0, share * stats.f.sf(observed / pos.mean(), 1, pos.size)))


@register("fingerprint", family="fingerprint", min_units=100, null=_NULL,
          leaves_out=("leader_over_cast", "cast_over_registered"),
          evidence=False, flag="liberal",
          why="the fitted fraud shares are estimates to read with their "
              "intervals, not a test: on clean twins of the Russian files the "
              "fit finds incremental-fraud shares of 0.2 to 0.8 and rejects most "
              "twins, grouped by region or by district (docs/calibration.md), "
              "because a fair model of one normal law per group cannot fit "
              "districts of different kinds",
          variants={"groups": {"groups": Column("region")}},
          calibration_options={"n_null": 19, "n_boot": 0, "n_sim": 2,
                               "n_correct": 1, "step": 0.02},
          max_sims=40, cost=60)
@single_threaded_blas
def fingerprint(registered, ballots_cast, leader, *, groups=None, bins=50,
                alpha=2.0, theta_grid=(0.2,), sigma_extreme=0.075,
                step=0.01, fi_max=1.0, fe_max=0.5, n_sim=None, n_correct=2,
                n_boot=50, n_null=0, min_group=50, confidence=0.95,
                min_stations=100, rng=None):
    """Election fingerprint and the fitted share of fraudulent stations.

    Parameters
    ----------
    registered, ballots_cast, leader : array_like of int, shape (n,)
        Voters on the list, ballots in the boxes and the leader's votes.
        Turnout is ``ballots_cast / registered``, the leader's share
        ``leader / ballots_cast``.
    groups : array_like, shape (n,), optional
        Region (or other) label of each station. The fair turnout and
        share are then centred per group (groups with fewer than
        ``min_group`` stations use the overall values), as Klimek et al.
        do for countries with strong regional differences.
    bins : int, default 50
        Cells per axis of the fingerprint (2-point cells).
    alpha : float, default 2.0
        Stolen fraction = ``x ** alpha`` for a stuffed fraction ``x``.
    theta_grid : sequence of float, default (0.2,)
        Candidate scales of the incremental-fraud intensity ``x``
        (half-normal, mean about ``0.8 * theta``); with several, the best
        is chosen with ``f_i`` and ``f_e``. One scale by default: small
        scales trade off against the fair spread (a slight smear of many
        stations looks like a wider clean blob), so ``f_i`` is weakly
        identified when the scale is free.
    sigma_extreme : float, default 0.075
        Extreme fraud sets ``x = 1 - |N(0, sigma_extreme)|``.
    step : float, default 0.01
        Grid step of ``f_i`` and ``f_e``.
    fi_max, fe_max : float, default 1.0 and 0.5
        Upper ends of the grids.
    n_sim : int, optional
        Simulated copies of the election per fit (the expected fingerprint
        is their average); default enough copies for about 40,000
        simulated stations (1 to 8).
    n_correct : int, default 2
        Rounds of correction of the fair values for the pull of the
        fitted fraud (0 keeps the values read from the data).
    n_boot : int, default 50
        Parametric-bootstrap refits for the intervals (0 to skip; the
        statistic and p-value do not depend on it). Each refit costs
        as much as the main fit (``make bench`` measures it); the refits
        run on :func:`audit.core.threads.worker_threads` threads, each
        with its own seed (the same numbers on any number of threads).
    n_null : int, default 0
        Refits of elections simulated with ``f_i = f_e = 0`` for a
        p-value; with 0 (the default) the p-value is nan and the result
        is an estimate with its interval, not a test. The no-fraud model
        of one truncated-normal blob per group does not fit honest
        countries: on clean twins of the Russian files this p-value falls
        below 0.05 in every run (``docs/calibration.md``, which computes it
        with 19 refits), so the battery does not report it. Pass
        ``n_null`` (50 or more) to study the fit itself.
    min_group : int, default 50
        Smallest group given its own fair values.
    confidence : float, default 0.95
        Level of the percentile intervals.
    min_stations : int, default 100
        Fewer usable stations raise :class:`~audit.core.errors.NotApplicable`.
    rng : None, int or numpy.random.Generator
        Seed; the same seed gives the same fit, intervals and p-value.

    Returns
    -------
    FingerprintResult
        ``statistic`` = :math:`\\hat f_i + \\hat f_e`, the estimated share of
        stations with fraud of either kind; ``pvalue`` = nan by default
        (``n_null`` = 0), else the tail p-value of the improvement of fit
        that the fraud terms bring, :math:`\\Delta\\chi^2`
        (``details['delta_chi2']``), against its
        ``n_null`` refits of clean simulated elections (see Notes; it can
        go below :math:`1/(B + 1)`); ``details['pvalue_simulated']`` is the
        plain :math:`(k + 1)/(B + 1)` count and ``details['null_positive']``
        the number of positive null refits; ``expected`` = mean
        :math:`\\hat f_i + \\hat f_e` of those clean refits (the fit's
        bias under no fraud); ``details`` has ``f_i``, ``f_e``, their
        intervals (``f_i_ci_low`` ...), ``total_ci_low``/``high``,
        ``theta``, ``chi2``, ``chi2_null``, ``delta_chi2``, the observed
        modes and left spreads (``turnout_mode``, ``turnout_sd``,
        ``share_mode``, ``share_sd``) and the corrected fair values
        (``fair_turnout``, ``fair_turnout_sd``, ``fair_share``,
        ``fair_share_sd``; station averages when grouped).

    Notes
    -----
    The model (Klimek et al. 2012, "Fraud model" in Methods): station
    :math:`i` with :math:`N_i` voters on the list has fair turnout
    :math:`a_i \\sim \\mathcal N(\\bar a, \\sigma_a)` and fair leader share
    :math:`v_i \\sim \\mathcal N(\\bar v, \\sigma_v)`, both truncated to
    [0, 1]. With probability :math:`f_i` it sees incremental fraud with
    intensity :math:`x_i = |\\mathcal N(0, \\theta)|`, with probability
    :math:`f_e` extreme fraud with :math:`x_i = 1 - |\\mathcal N(0,
    \\sigma_x)|`; then

    .. math::

        W_i = N_i a_i v_i + x_i N_i (1 - a_i) + x_i^{\\alpha} N_i a_i (1 - v_i),
        \\qquad T_i = N_i a_i + x_i N_i (1 - a_i),

    i.e. a fraction :math:`x_i` of non-voters' ballots is stuffed for the
    leader and a fraction :math:`x_i^{\\alpha}` of the others' votes is
    moved to him. The fair values :math:`\\bar a, \\bar v` are the modes of
    the observed turnout and share (per group when ``groups`` is given)
    and :math:`\\sigma_a, \\sigma_v` the root-mean-square distance to the
    mode of the stations *below* it, since fraud only moves stations up.
    :math:`(\\theta, f_i, f_e)` minimise the Neyman chi-square
    :math:`\\sum_c (H_c - O_c)^2 / (O_c + 1)` between the observed
    fingerprint :math:`O` and the model's expected one :math:`H`
    (average of ``n_sim`` simulations with the observed :math:`N_i`, the
    same random numbers at every grid point). The fair values are then
    corrected ``n_correct`` times for the pull of the fitted fraud on the
    modes and spreads (take the simulated stations of the fitted grid
    point, move the fair values by the gap between observed and simulated
    summaries, refit); if that fits
    worse than the uncorrected values, these are kept
    (``details['corrected']`` is False). Intervals:
    refits of ``n_boot`` elections simulated from the fitted model, as the
    union of the percentile and basic bootstrap intervals widened by half
    a grid step (the grid fit is biased near zero and resolved only to
    ``step``). P-value: :math:`\\Delta\\chi^2 = \\chi^2_0 - \\chi^2_{\\min}`,
    where :math:`\\chi^2_0` is the fit of the no-fraud model with the fair
    values read from the data, is compared with its value in refits of
    ``n_null`` elections simulated from that no-fraud model (a parametric
    bootstrap of a likelihood-ratio-type statistic; it has more power
    than :math:`\\hat f_i + \\hat f_e`, whose incremental part is noisy
    under the null). Under the null :math:`\\Delta\\chi^2` is 0 in about a
    third to two thirds of the refits (no fraud term helps) and positive
    otherwise, with a right-skewed law (gamma shape 0.7 to 1.3 on clean
    simulated elections). The p-value models the refits as a point mass at
    0 plus a scaled :math:`\\chi^2_1` (the law of a one-parameter
    likelihood-ratio statistic on a boundary, the chi-bar-square; shape 0.5
    has a heavier tail than what was measured, so it errs on the
    conservative side): with :math:`k` positive refits of mean :math:`m`,

    .. math:: p = \\frac{k + 1}{B + 1} \\, P\\left(F_{1,k} \\ge
              \\Delta\\chi^2 / m\\right),

    where :math:`F_{1,k}` is exact for a scaled :math:`\\chi^2_1` with
    unknown scale (the new statistic over the mean of :math:`k` others).
    Unlike :math:`(k + 1)/(B + 1)` it is not bounded below by
    :math:`1/(B + 1)`, so it can survive a multiple-testing correction
    with the calibration's 19 refits. Checked on four clean simulated
    elections (800 to 3,000 stations, with and without region groups):
    drawing 3,000 times one refit as "observed" and 19 others as the null,
    :math:`P(p \\le a)` was 0.022 to 0.051 at :math:`a` = 0.05, 0.0003 to
    0.0073 at 0.01 and 0 to 0.0007 at 0.001 (an exponential tail instead
    was liberal: 0.025 at 0.01 and 0.006 at 0.001). End to end on clean
    elections see ``tests/test_fingerprints.py``. The tail is a model: far
    beyond the refits it extrapolates, so a tiny p-value says
    :math:`\\Delta\\chi^2` is far out on the null's scale, not that its
    exact value is known. A small p-value says the fingerprint is not a single
    truncated-normal blob; several clean blobs (regions, urban/rural) can
    also do that, which is what ``groups`` is for.

    The model follows the paper's Methods as implemented in the authors'
    MATLAB code (ported to R as ``ComputeKlimekModel`` in Mebane and
    Kalinin's Election Forensics Toolkit): truncated-normal fair values,
    half-normal incremental intensity, extreme intensity
    :math:`1 - |\\mathcal N(0, 0.075)|`, stolen fraction :math:`x^\\alpha`.
    Simplifications and departures: the fair spreads come from the left
    half of the distributions (and are corrected for the fitted fraud)
    rather than from the authors' peak-and-slope rule; :math:`\\theta` is
    fixed (or chosen from a small grid with :math:`f_i, f_e`) instead of
    being set from the right tail of the data; :math:`\\alpha` is fixed
    (the toolkit also scans it); the criterion compares 2-D fingerprints
    rather than the 1-D distribution of the leader's share; the interval
    is a parametric bootstrap rather than the spread over repeated fits.

    Calibration: without region labels (``groups``) its false-alarm rate on clean simulated
    elections of several regions is well above 5%; the battery passes region labels where
    the table has them (``docs/calibration.md``; the battery's evidence table repeats this
    in its ``calibration`` column).

    References
    ----------
    .. [1] P. Klimek, Y. Yegorov, R. Hanel and S. Thurner, "Statistical
       detection of systematic election irregularities", PNAS 109(41),
       2012, 16469-16473 (Methods, "Fraud model"; Figs. 2 and 4).

    Examples
    --------
    A simulated election of 1,500 stations where 20% of stations see
    incremental and 5% extreme fraud:

    >>> import numpy as np
    >>> g = np.random.default_rng(0)
    >>> reg = g.integers(500, 2000, 1500)
    >>> sim = simulate_klimek(reg, [0.55, 0.07, 0.55, 0.07], 0.20, 0.05,
    ...                       theta=0.2, rng=1)
    >>> res = fingerprint(sim.registered, sim.ballots_cast, sim.leader,
    ...                   n_boot=20, n_null=20, rng=2)
    >>> bool(abs(res.details["f_e"] - 0.05) <= 0.02)
    True
    >>> bool(res.pvalue < 0.1)
    True

    The fit recovers the share of extreme fraud, and no refit of a clean
    election reaches the observed share of fraudulent stations.
    """
    reg, cast, lead, groups, theta = _validate(
        registered, ballots_cast, leader, groups, bins, alpha, theta_grid,
        sigma_extreme, step, fi_max, fe_max, n_sim, n_correct, n_boot, n_null,
        min_group, confidence)
    gen = np.random.default_rng(rng)
    empty, impossible = pair_screen(reg, cast, lead)
    ok = ~(empty | impossible)
    n_excluded = int((~ok).sum())
    # positions in the order given, before the canonical sort below
    excluded = exclusion_table({
        reason(NO_REGISTERED, NO_BALLOTS, OVER_100, LEADER_OVER): ~ok})
    if ok.sum() < min_stations:
        raise NotApplicable(f"fingerprint needs at least {min_stations} stations with "
                            f"registered voters and 0 < ballots_cast <= registered, "
                            f"got {int(ok.sum())}")
    reg, cast, lead = reg[ok], cast[ok], lead[ok]
    # groups numbered in sorted order of their labels, and stations put in a
    # canonical order, so that the simulations (drawn station by station) and
    # hence the fit do not depend on the order of the rows
    codes = (None if groups is None
             else np.unique(groups[ok].astype(str), return_inverse=True)[1].ravel())
    keys = (lead, cast, reg) if codes is None else (lead, cast, reg, codes)
    order = np.lexsort(keys)
    reg, cast, lead = reg[order], cast[order], lead[order]
    codes = None if codes is None else codes[order]
    a = cast / reg
    v = lead / cast
    if n_sim is None:
        n_sim = int(min(8, max(1, np.ceil(40_000 / reg.size))))
    opts = dict(bins=int(bins), alpha=float(alpha), theta=theta,
                sigma_extreme=float(sigma_extreme), step=float(step),
                fi_max=float(fi_max), fe_max=float(fe_max), n_sim=int(n_sim),
                min_group=int(min_group), n_correct=int(n_correct))
    fit = _fit(reg, a, v, codes, gen=gen, keep=True, **opts)
    stat = fit["f_i"] + fit["f_e"]

    # one seed per refit, spawned from the test's own stream: the refits are
    # independent, so they run on several threads (in any order) and give
    # the same numbers as one after the other
    # (separate streams for the bootstrap and the null: the p-value does not
    # depend on n_boot)
    n_boot, n_null = int(n_boot), int(n_null)
    boot_root, null_root = np.random.SeedSequence(
        [int(x) for x in gen.integers(0, 2 ** 63, size=4)]).spawn(2)
    seeds = boot_root.spawn(n_boot) + null_root.spawn(n_null)

    def refit(job):
        (f_i, f_e), seed = job
        g = np.random.default_rng(seed)
        keep, a_s, v_s = _simulate_from(reg, fit["par"], f_i, f_e, fit["theta"],
                                        alpha, sigma_extreme, g)
        c_s = None if codes is None else codes[keep]
        r = _fit(reg[keep], a_s[keep], v_s[keep], c_s, gen=g, **opts)
        return r["f_i"], r["f_e"], r["theta"], r["delta_chi2"]

    jobs = ([((fit["f_i"], fit["f_e"]), s) for s in seeds[:n_boot]]
            + [((0.0, 0.0), s) for s in seeds[n_boot:]])
    refits = map_threads(refit, jobs)
    boot = np.array(refits[:n_boot]).reshape(-1, 4)[:, :3]
    null = np.array(refits[n_boot:]).reshape(-1, 4)
    null_delta = null[:, 3]
    if null.size:
        p_sim = simulated_pvalue(int(np.sum(null_delta >= fit["delta_chi2"])),
                                 null_delta.size)
        pvalue = _tail_pvalue(fit["delta_chi2"], null_delta)
        expected = float((null[:, 0] + null[:, 1]).mean())
    else:
        pvalue = p_sim = expected = float("nan")

    q = [(1 - confidence) / 2, 1 - (1 - confidence) / 2]

    def interval(x, est):
        # union of the percentile and basic intervals, widened by half a grid
        # step: the grid fit is biased near 0 and only known to the step
        if not x.size:
            return (np.nan, np.nan)
        lo, hi = np.quantile(x, q)
        low = min(lo, 2 * est - hi) - step / 2
        high = max(hi, 2 * est - lo) + step / 2
        return (float(np.clip(low, 0, 1)), float(np.clip(high, 0, 1)))

    fi_ci = interval(boot[:, 0], fit["f_i"])
    fe_ci = interval(boot[:, 1], fit["f_e"])
    tot_ci = interval(boot[:, 0] + boot[:, 1], stat)
    ov = fit["fair_table"]["__all__"]
    fv = fit["fair_table"]["__corrected__"]
    edges = np.linspace(0, 1, int(bins) + 1)
    ia, iv = np.divmod(np.arange(int(bins) ** 2), int(bins))
    table = pd.DataFrame({
        "turnout_lo": edges[ia], "turnout_hi": edges[ia + 1],
        "share_lo": edges[iv], "share_hi": edges[iv + 1],
        "observed": fit["obs"].astype(np.int64), "fitted": fit["fitted"],
        "fair": fit["fair"]})
    details = {
        "f_i": fit["f_i"], "f_e": fit["f_e"],
        "f_i_ci_low": fi_ci[0], "f_i_ci_high": fi_ci[1],
        "f_e_ci_low": fe_ci[0], "f_e_ci_high": fe_ci[1],
        "total_ci_low": tot_ci[0], "total_ci_high": tot_ci[1],
        "theta": fit["theta"], "chi2": fit["chi2"], "chi2_null": fit["chi2_null"],
        "delta_chi2": fit["delta_chi2"], "corrected": bool(fit["corrected"]),
        "delta_chi2_null_mean": float(null_delta.mean()) if null.size else float("nan"),
        "null_positive": int((null_delta > 0).sum()),
        "pvalue_simulated": float(p_sim),
        "confidence": confidence,
        "turnout_mode": ov[0], "turnout_sd": ov[1], "share_mode": ov[2],
        "share_sd": ov[3], "fair_turnout": fv[0], "fair_turnout_sd": fv[1],
        "fair_share": fv[2], "fair_share_sd": fv[3],
        "groups": 0 if codes is None else int(codes.max() + 1),
        "excluded_stations": n_excluded,
    }
    params = {"bins": int(bins), "alpha": float(alpha),
              "theta_grid": theta.tolist(), "sigma_extreme": float(sigma_extreme),
              "step": float(step), "fi_max": float(fi_max), "fe_max": float(fe_max),
              "n_sim": int(n_sim), "n_correct": int(n_correct),
              "n_boot": int(n_boot), "n_null": int(n_null),
              "min_group": int(min_group), "confidence": confidence,
              "min_stations": min_stations, "grouped": codes is not None}
    return FingerprintResult(
        test="fingerprint", statistic=float(stat), pvalue=float(pvalue),
        n=int(reg.size), expected=expected, null=_NULL, params=params,
        details=details, table=table, excluded=excluded, objective=fit["objective"],
        bootstrap=pd.DataFrame(boot, columns=["f_i", "f_e", "theta"]),
        null_statistics=pd.DataFrame(null, columns=["f_i", "f_e", "theta",
                                                    "delta_chi2"]))
