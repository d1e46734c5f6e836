"""The registered spike test and its result.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from fractions import Fraction

import numpy as np
import pandas as pd

from ....core.errors import NotApplicable
from ....core.threads import single_threaded_blas
from ...registry import register
from ...result import TestResult, exclusion_table
from .._validation import LEADER_OVER, NO_BALLOTS, as_counts
from .null import _exact, _rkd


_NULL = ("each station's leader count is a binomial draw around a share from a "
         "smooth law (a fitted mixture of beta laws), so no share is reported more "
         "often than arithmetic with the station's own denominator makes it "
         "(resampled kernel density, Rozenas 2017)")

_NULL_EXACT = ("each station's leader count is a binomial draw around a share from a "
               "smooth (beta) law, so focal (round) shares occur only as often as "
               "arithmetic makes them (exact Poisson-binomial law of their count)")

_METHODS = ("rkd", "exact")


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
        m = round(1 / step)
        vals.update(Fraction(k, m) for k in range(1, m))
    return np.array(sorted(float(v) for v in vals))


@dataclass(frozen=True)
class SpikeResult(TestResult):
    """:class:`~audit.stations.result.TestResult` plus the per-focal-share table.

    ``table`` holds the share grid behind the plot (``share_lo``,
    ``share_hi``, ``observed``, ``resampled``: mean count over resamples;
    with ``method="rkd"`` also ``kde_observed``, ``kde_envelope`` and
    ``flagged``, see :func:`spikes`); ``focal_table`` one row per focal
    share (``focal``, ``observed``, ``expected``, ``excess``).
    """

    focal_table: pd.DataFrame | None = field(default=None, repr=False, compare=False)

    def confidence_interval(self) -> tuple[float, float]:
        """Bootstrap percentile interval of the share of spike stations
        (level ``details["confidence"]``)."""
        return (self.details["ci_low"], self.details["ci_high"])


def _validate(ballots_cast, leader, focal, halfwidth, min_ballots, n_resamples,
              n_boot, confidence, bin_width, method, bandwidth, max_components,
              max_fit):
    if method not in _METHODS:
        raise ValueError(f"method must be 'rkd' or 'exact', got {method!r}")
    n_i = as_counts("ballots_cast", ballots_cast)
    w_i = as_counts("leader", leader, n_i.size)
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
    if method == "exact" and n_resamples is not None:
        raise ValueError("n_resamples applies to method='rkd' only: the exact method "
                         "computes the law of its focal count exactly")
    checked = (("max_components", max_components), ("max_fit", max_fit))
    if method == "rkd":
        checked = (("n_resamples", n_resamples), *checked)
    for name, val in checked:
        if int(val) != val or val < 1:
            raise ValueError(f"{name} must be a positive integer, got {val!r}")
    if int(n_boot) != n_boot or n_boot < 0:
        raise ValueError(f"n_boot must be a non-negative integer, got {n_boot!r}")
    if method == "rkd" and n_resamples < 19:
        raise ValueError(f"n_resamples must be at least 19 for method='rkd', "
                         f"got {n_resamples!r}")
    if not 0 < confidence < 1:
        raise ValueError(f"confidence must be in (0, 1), got {confidence!r}")
    if not 0 < bin_width <= 0.05:
        raise ValueError(f"bin_width must be in (0, 0.05], got {bin_width!r}")
    if method == "rkd" and abs(1 / bin_width - round(1 / bin_width)) > 1e-6:
        raise ValueError(f"bin_width must divide 1 for method='rkd', got {bin_width!r}")
    if not 0 < bandwidth <= 0.05:
        raise ValueError(f"bandwidth must be in (0, 0.05], got {bandwidth!r}")
    return n_i, w_i, foc


@register("spikes", family="spike", min_units=100, null=_NULL, cost=20,
          leaves_out=("leader_over_cast",),
          evidence=False, flag="liberal",
          why="clean twins of the Russian files, whose leader shares are smooth "
              "within districts but form a lumpy national distribution, reject "
              "it at about three times alpha, both methods (docs/calibration.md): a "
              "mixture of three beta-binomials does not fit a country of many "
              "districts (docs/calibration.md)",
          variants={"method=exact": {"method": "exact"}},
          calibration_options={"n_boot": 0})
@single_threaded_blas
def spikes(ballots_cast, leader, *, method="rkd", focal=None, halfwidth=0.0005,
           min_ballots=1, n_resamples=None, n_boot=500, confidence=0.95,
           bin_width=0.001, bandwidth=0.0001, max_components=3, max_fit=10000,
           n_density=20, min_stations=100, rng=None):
    """Excess of stations at coarse (round) leader shares over resampled shares.

    The default, ``method="rkd"``, is the resampled kernel density (RKD)
    method of Rozenas (2017) and of his R package ``spikes``;
    ``method="exact"`` is the earlier exact beta-binomial count at the focal
    shares, kept so that its results can be redone.

    Parameters
    ----------
    ballots_cast, leader : array_like of int, shape (n,)
        Ballots in the boxes (the share's denominator) and the leader's votes.
        Stations with more leader votes than ballots (an impossible figure)
        are left out and counted in ``details["excluded_leader_over_ballots"]``
        (and in ``details["excluded_stations"]``).
    method : {'rkd', 'exact'}, default 'rkd'
        Resampled kernel density (Rozenas 2017) or the exact focal count.
    focal : array_like of float, optional
        Focal shares in (0, 1); default :func:`coarse_shares`: multiples of
        5% and 1/3, 2/3. For ``"rkd"`` they only fill ``focal_table`` and the
        ``*_focal`` details (the estimate scans every grid point); for
        ``"exact"`` they define the statistic. The end points 0 and 1 are
        left out (they arise from empty or unanimous stations, which a spike
        test cannot judge).
    halfwidth : float, default 0.0005
        A share counts as focal when within this distance (0.05 percentage
        points, so that a 0.1-point window surrounds each focal share, as in
        the integer-percentage test of Kobak et al.).
    min_ballots : int, default 1
        Stations with fewer ballots are left out (both nulls keep each
        station's own denominator, so none need be).
    n_resamples : int, optional
        Resamples of the whole election for ``"rkd"``, default 200 (Rozenas
        uses 1000; 200 keeps ~97,000 stations under ~10 s); its p-value
        cannot fall below ``1 / (n_resamples + 1)``. Not for ``"exact"``,
        whose null law is computed exactly. Each ``"rkd"`` resample has its own
        seed, and blocks of them run on :func:`audit.core.threads.worker_threads`
        threads (the same numbers on any number of threads).
    n_boot : int, default 500
        Bootstrap resamples of stations for the interval (0: no interval,
        ``ci_low`` and ``ci_high`` are nan). They are drawn after
        everything else, so the statistic and p-value do not depend on it.
    confidence : float, default 0.95
        Level of the percentile interval.
    bin_width : float, default 0.001
        Grid step: ``"rkd"`` evaluates the densities at the 1,001 points
        0, 0.001, ..., 1 and counts stations in bins of this width centred
        on them, as the R package does (``grid = 1001``); ``"exact"`` uses it
        only for the plotting table.
    bandwidth : float, default 0.0001
        Standard deviation of the Gaussian kernel (the R package's default
        ``bw = 1e-4``): small enough that the density at a grid point sees
        only shares within about 0.0002 of it, i.e. exact coarse fractions.
    max_components : int, default 3
        Largest number of beta-binomial components of the null; BIC picks
        the number (the R package adds components, up to 5, while the fit
        still changes).
    max_fit : int, default 10000
        The mixture is fitted on at most this many stations drawn at random
        (all of them are resampled).
    n_density : int, default 20
        ``"exact"`` only: resamples averaged for the ``resampled`` column of
        the table.
    min_stations : int, default 100
        Fewer usable stations raise :class:`~audit.core.errors.NotApplicable`.
    rng : None, int or numpy.random.Generator
        Seed for all resampling; the same seed gives the same result.

    Returns
    -------
    SpikeResult
        ``statistic`` = estimated share of stations in spikes
        :math:`\\hat\\pi`; ``pvalue`` = simulated :math:`(k + 1) / (B + 1)`;
        ``expected`` = mean of :math:`\\hat\\pi` over the null resamples
        (``"rkd"``: chance exceedances make it positive) or 0 (``"exact"``).
        ``details`` has ``excess_stations`` (:math:`n\\hat\\pi`), ``ci_low``,
        ``ci_high``, ``excess_over_null`` (:math:`\\hat\\pi` minus
        ``expected``), ``observed_focal`` and ``expected_focal`` (stations
        within ``halfwidth`` of a focal share, observed and expected under
        the null), ``flagged_shares`` (grid points counted in
        :math:`\\hat\\pi`) and the fitted mixture. ``table`` is the grid
        (``share_lo``, ``share_hi``, ``observed`` and ``resampled`` station
        counts per bin, and for ``"rkd"`` ``kde_observed``,
        ``kde_envelope``: the observed kernel density and the largest
        resampled one at the grid point, as kernel-weighted station counts,
        :math:`f \\cdot n h \\sqrt{2\\pi}`, so that a share exactly at the
        point counts 1, and ``flagged``: the bins counted in
        :math:`\\hat\\pi`); ``focal_table`` has ``focal``, ``observed``,
        ``expected``, ``excess`` per focal share.

    Notes
    -----
    Station :math:`i` has :math:`n_i` ballots and :math:`w_i` leader votes,
    share :math:`s_i = w_i / n_i`.

    *Null* (Rozenas 2017, section 3): true shares come from a smooth law,
    here a mixture :math:`\\sum_j \\pi_j \\mathrm{Beta}(a_j, b_j)` fitted by
    maximum likelihood to the counts (:func:`fit_beta_binomial_mixture`),
    and :math:`w_i \\mid p_i \\sim \\mathrm{Binomial}(n_i, p_i)`. Coarse
    shares then occur only as often as each station's arithmetic allows.

    *Resampling* (section 4): each station's latent share is drawn from its
    posterior, a component :math:`j` with probability proportional to
    :math:`\\pi_j\\,\\mathrm{BB}(w_i; n_i, a_j, b_j)`, then
    :math:`p_i \\sim \\mathrm{Beta}(a_j + w_i, b_j + n_i - w_i)`; the
    :math:`B` resampled elections draw
    :math:`w_i^{(r)} \\sim \\mathrm{Binomial}(n_i, p_i)`, keeping the
    denominators.

    *Estimate*: with :math:`f_r` the Gaussian kernel density (bandwidth
    :math:`h`) of sample :math:`r` at the grid points :math:`x_b` (sample 0
    the observed shares), :math:`c_r(b)` its station count in bin :math:`b`
    and :math:`\\bar c(b)` the mean over resamples,

    .. math:: \\hat\\pi = \\frac{1}{n} \\sum_{b} 1\\left[f_0(x_b) > \\max_{r \\ge 1}
              f_r(x_b)\\right] \\left(c_0(b) - \\bar c(b)\\right)^+ ,

    the stations in excess wherever the observed density rises above the
    upper envelope of the resampled ones (the package's ``fraud``, there in
    percent).

    *p-value*: the latent share is drawn once and shared by all resamples,
    so under the null the observed election and the :math:`B` resampled
    ones are exchangeable. Each resample's :math:`\\hat\\pi_r` is computed
    in the same way against the other :math:`B` samples (envelope and mean
    leave it out and include the observed one), and
    :math:`p = (\\#\\{r : \\hat\\pi_r \\ge \\hat\\pi\\} + 1) / (B + 1)`.

    *Interval*: stations are resampled with replacement (``n_boot``
    times), the bins counted in :math:`\\hat\\pi` held fixed and each
    station's expected count in them computed exactly from
    :math:`\\mathrm{Binomial}(n_i, p_i)`; the percentile interval is
    shifted by the small gap between :math:`\\hat\\pi` and this exact-mean
    version.

    Simplifications relative to Rozenas (2017) and his package: turnout is
    not resampled (the denominator is the observed ballots, since the test
    receives only ``ballots_cast`` and ``leader``); the number of mixture
    components is chosen by BIC (at most 3) and the mixture is fitted on at
    most ``max_fit`` stations; the latent share is drawn once rather than
    in each resample (this makes the rank p-value exact under the fitted
    null; the R package reports no p-value); 200 rather than 1000 resamples by
    default; the end points 0 and 1 of the grid are left out; the interval
    is a station bootstrap given the counted bins, not his posterior
    simulation of the mixture parameters (``confInt``), so it ignores the
    uncertainty of the fit and of which bins are counted. As in the paper,
    :math:`\\hat\\pi` counts exact coarse fractions: with the default
    bandwidth a count rounded to the nearest integer (share within
    :math:`1/(2n_i)` of a round value) is seen only when that integer
    gives the round share almost exactly, and a bin-by-bin envelope has
    little power when the rounded stations spread over many targets (in
    the calibration scenario with 5% of 1,500 stations set to the nearest
    whole percent it rejects at about the nominal rate, also with
    ``bandwidth=0.0005``); ``method="exact"`` and the integer-percentage
    test pool the focal shares and are the better tests for that fraud.

    ``method="exact"``: the observed count :math:`M` of stations within
    :math:`h` of a focal share is compared with its expectation
    :math:`E = \\sum_i q_i`, :math:`q_i` the exact beta-binomial chance of a
    focal share under one beta law fitted by moments (:func:`beta_prior`,
    :func:`hit_probability`); :math:`\\hat\\pi = (M - E) / (n - E)`. Under
    the null :math:`M` is a sum of independent Bernoulli(:math:`q_i`), and
    the p-value is its exact upper tail :math:`P(M \\ge M_\\text{obs})`
    (:func:`audit.stations.forensics.integer_percentages.poisson_binomial_sf`: the
    exact law where the tail is above 1e-10, a saddlepoint approximation
    beyond); the interval comes from a station bootstrap.

    Calibration on real data: it holds its size on the honestly counted
    elections of the dataset registry, but clean twins of the Russian
    station files reject it at about three times alpha (both methods): the
    smooth null mixture does not fit a national share distribution made of
    many districts.  It is registered as descriptive
    (``docs/calibration.md``).

    References
    ----------
    .. [1] A. Rozenas, "Detecting Election Fraud from Irregularities in
       Vote-Share Distributions", Political Analysis 25(1), 2017, 41-56,
       doi:10.1017/pan.2016.9.
    .. [2] A. Rozenas, ``spikes``: Detecting Election Fraud from
       Irregularities in Vote-Share Distributions, R package version 1.1,
       CRAN, 2016.
    .. [3] D. Kobak, S. Shpilkin and M. S. Pshenichnikov, "Integer
       percentages as electoral falsification fingerprints", Annals of
       Applied Statistics 10(1), 2016.

    Examples
    --------
    4,000 clean stations, then 3% of them made to report an exact multiple
    of 5% (their ballots rounded to a multiple of 20):

    >>> import numpy as np
    >>> g = np.random.default_rng(6)
    >>> n = g.integers(200, 3000, 4000)
    >>> w = g.binomial(n, g.beta(12, 8, 4000))
    >>> clean = spikes(n, w, rng=1)
    >>> bool(clean.pvalue > 0.05)
    True
    >>> fixed = g.random(4000) < 0.03
    >>> n[fixed] = 20 * np.round(n[fixed] / 20)
    >>> w[fixed] = np.round(20 * w[fixed] / n[fixed]) * n[fixed] // 20
    >>> res = spikes(n, w, rng=1)
    >>> bool(res.pvalue < 0.01), bool(res.details["ci_low"] < fixed.mean() < res.details["ci_high"])
    (True, True)

    The clean election shows no excess at coarse shares; in the altered one
    the excess is significant and its interval covers the 3% planted.
    """
    if n_resamples is None and method == "rkd":
        n_resamples = 200
    n_i, w_i, foc = _validate(ballots_cast, leader, focal, halfwidth, min_ballots,
                              n_resamples, n_boot, confidence, bin_width, method,
                              bandwidth, max_components, max_fit)
    gen = np.random.default_rng(rng)
    # more leader votes than ballots is impossible (a finding of the reader):
    # such stations have no share and are left out and counted
    over = w_i > n_i
    ok = (n_i >= min_ballots) & ~over
    n_excluded = int((~ok).sum())
    # one row per station left out, positions in the order given (before the
    # canonical sort below); their total is details["excluded_stations"]
    excluded = exclusion_table({
        LEADER_OVER: over,
        (NO_BALLOTS if min_ballots == 1
         else f"fewer than {min_ballots} ballots cast"): ~ok & ~over})
    if ok.sum() < min_stations:
        raise NotApplicable(f"spikes needs at least {min_stations} stations with "
                            f">= {min_ballots} ballots, got {int(ok.sum())}")
    # canonical station order: every draw below is made station by station,
    # so sorting makes the result independent of the order of the rows
    order = np.lexsort((w_i[ok], n_i[ok]))
    n_i, w_i = n_i[ok][order], w_i[ok][order]
    common = {"halfwidth": halfwidth, "n_boot": int(n_boot), "confidence": confidence,
              "bin_width": bin_width}
    if method == "exact":
        stat, pvalue, expected, details, table, focal_table = _exact(
            n_i, w_i, foc, n_density=int(n_density), gen=gen, **common)
        extra = {"n_resamples": None, "n_density": int(n_density)}
        null = _NULL_EXACT
    else:
        stat, pvalue, expected, details, table, focal_table = _rkd(
            n_i, w_i, foc, n_resamples=int(n_resamples), bandwidth=bandwidth,
            max_components=int(max_components), max_fit=int(max_fit), gen=gen,
            **common)
        extra = {"n_resamples": int(n_resamples), "bandwidth": bandwidth,
                 "max_components": int(max_components), "max_fit": int(max_fit)}
        null = _NULL
    details["excluded_stations"] = n_excluded
    details["excluded_leader_over_ballots"] = int(over.sum())
    params = {"method": method, "focal": foc.tolist(), "min_ballots": min_ballots,
              "min_stations": min_stations, **common, **extra}
    return SpikeResult(test="spikes", statistic=float(stat), pvalue=pvalue,
                       n=int(n_i.size), expected=float(expected), null=null,
                       params=params, details=details, table=table,
                       focal_table=focal_table, excluded=excluded)
