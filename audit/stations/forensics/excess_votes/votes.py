"""Shpilkin's excess-vote estimate from the turnout profile of the votes.

Sergey Shpilkin's method (used in his analyses of Russian federal votes since
2011 and described by Kobak, Shpilkin and Pshenichnikov) reads the votes of
each option as a function of station turnout. In a clean election the other
options' votes form one bell around a typical turnout and the leader's votes
follow the same bell; ballot stuffing and re-written protocols push the
leader's votes (and only his) to high turnouts. Taking the others' votes as
genuine and the leader's share as it is at the clean turnout peak gives the
leader's votes expected without fraud; the rest is "excess".
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from ....core.errors import NotApplicable
from ....core.threads import single_threaded_blas
from ...registry import register
from ...result import TestResult, exclusion_table
from .._order import canonical_order
from .._validation import (NO_BALLOTS, NO_REGISTERED, OVER_100, VOTES_OVER, as_counts,
                           pair_screen, reason)

__all__ = ["ExcessVotesResult", "excess_votes"]

_NULL = ("descriptive: no p-value. The estimate assumes that, absent fraud, "
         "stations above the clean turnout peak would have the others' votes "
         "they report and the leader's share found at the peak")


@dataclass(frozen=True)
class ExcessVotesResult(TestResult):
    """:class:`~audit.stations.result.TestResult` plus the bootstrap replicates.

    ``statistic`` is the number of excess leader votes; ``details`` holds
    ``excess_share`` (of the leader's total), the interval, the peak turnout
    and the leader's share at the peak. ``table`` has one row per turnout
    bin (``turnout_lo``, ``turnout_hi``, ``stations``, ``registered``,
    ``ballots_cast``, ``leader``, ``others``, ``leader_clean``).
    """

    replicates: np.ndarray | None = field(default=None, repr=False, compare=False)

    def confidence_interval(self) -> tuple[float, float]:
        """Bootstrap percentile interval of the excess votes."""
        return (self.details["excess_ci_low"], self.details["excess_ci_high"])


def _validate(registered, ballots_cast, leader, votes, bin_width, peak,
              peak_turnout, window, smooth, max_peak_turnout, min_peak_height,
              n_boot, confidence):
    reg = as_counts("registered", registered)
    if reg.ndim != 1:
        raise ValueError(f"registered must be one-dimensional, got shape {reg.shape}")
    n = reg.shape[0]
    cast = as_counts("ballots_cast", ballots_cast, n)
    lead = as_counts("leader", leader, n)
    vts = as_counts("votes", votes, n, dims=(1, 2))
    if cast.ndim != 1 or lead.ndim != 1:
        raise ValueError("ballots_cast and leader must be one-dimensional")
    if vts.ndim == 1:
        vts = vts[:, None]
    if vts.ndim != 2:
        raise ValueError(f"votes must be a (stations x options) matrix, got shape {vts.shape}")
    if not 0 < bin_width <= 0.1:
        raise ValueError(f"bin_width must be in (0, 0.1], got {bin_width!r}")
    if peak not in ("others", "voters"):
        raise ValueError(f"peak must be 'others' or 'voters', got {peak!r}")
    if peak_turnout is not None and not 0 < peak_turnout < 1:
        raise ValueError(f"peak_turnout must be in (0, 1), got {peak_turnout!r}")
    if not 0 <= window < 0.5:
        raise ValueError(f"window must be in [0, 0.5), got {window!r}")
    if int(smooth) != smooth or smooth < 1:
        raise ValueError(f"smooth must be a positive integer, got {smooth!r}")
    if not 0 < min_peak_height <= 1:
        raise ValueError(f"min_peak_height must be in (0, 1], got {min_peak_height!r}")
    if not 0 < max_peak_turnout <= 1:
        raise ValueError(f"max_peak_turnout must be in (0, 1], got {max_peak_turnout!r}")
    if int(n_boot) != n_boot or n_boot < 0:
        raise ValueError(f"n_boot must be a non-negative integer, got {n_boot!r}")
    if not 0 < confidence < 1:
        raise ValueError(f"confidence must be in (0, 1), got {confidence!r}")
    return reg, cast, lead, vts


def _find_peak(hist, centres, smooth, max_peak_turnout, min_peak_height):
    """Lowest-turnout mode of the smoothed weighted turnout histogram ``hist``
    (one value per bin, bin centres ``centres``).

    Local maxima below ``max_peak_turnout`` whose height is at least
    ``min_peak_height`` times the highest one are candidates; the one with
    the lowest turnout is taken, since fraud moves votes to the right.
    """
    k = int(smooth)
    if k > 1:
        hist = np.convolve(hist, np.ones(k) / k, mode="same")
    allowed = centres <= max_peak_turnout
    h = np.where(allowed, hist, -np.inf)
    if not np.any(h > 0):
        return np.nan
    left = np.concatenate(([-np.inf], h[:-1]))
    right = np.concatenate((h[1:], [-np.inf]))
    local = (h > 0) & (h >= left) & (h >= right)
    local &= h >= min_peak_height * h.max()
    return float(centres[np.flatnonzero(local)[0]])


def _bins(turnout, edges):
    """Bin of each turnout, as :func:`numpy.histogram` assigns it (half-open
    bins, the last one closed)."""
    nbins = len(edges) - 1
    return np.clip(np.searchsorted(edges, turnout, side="right") - 1, 0, nbins - 1)


def _estimate(turnout, bins, lead, others, cast, edges, peak, peak_turnout, window,
              smooth, max_peak_turnout, min_peak_height, idx=None, counts=None,
              cache=None, work=None):
    """Return (excess, peak turnout, leader/others ratio at the peak).

    Without ``idx`` the stations are taken as given.  With a bootstrap
    resample ``idx`` (station positions) and ``counts`` (how often each
    station was drawn, ``bincount(idx)``), the result is that of the
    resampled table ``x[idx]``: the histogram and the window sums are sums
    of whole numbers (exact in any order below 2**53), so they are taken over the
    stations weighted by ``counts``; the excess is summed over the drawn
    positions in the order drawn, as on the resampled table.  ``cache``
    (a dict, required with ``counts``) keeps the stations near and above
    each peak already met, since resamples mostly find the same peak;
    ``work`` (required with ``counts``) holds scratch arrays: two float
    arrays and one bool array of the stations' length.
    """
    nbins = len(edges) - 1
    if peak_turnout is None:
        weight = others if peak == "others" else cast
        if counts is not None:
            weight = np.multiply(weight, counts, out=work[0])
        hist = np.bincount(bins, weights=weight, minlength=nbins)
        centres = (edges[:-1] + edges[1:]) / 2
        t0 = _find_peak(hist, centres, smooth, max_peak_turnout, min_peak_height)
    else:
        t0 = float(peak_turnout)
    if not np.isfinite(t0):
        return np.nan, np.nan, np.nan
    half = max(window / 2, (edges[1] - edges[0]) / 2)
    if counts is None:
        near = np.abs(turnout - t0) <= half
        above = turnout > t0
        o_near = others[near].sum()
        l_near = lead[near].sum()
    else:
        if t0 not in cache:
            near = np.flatnonzero(np.abs(turnout - t0) <= half)
            cache[t0] = (near, others[near], lead[near], turnout > t0)
        near, o_w, l_w, above = cache[t0]
        c_near = counts[near].astype(float)
        o_near = c_near @ o_w
        l_near = c_near @ l_w
    if o_near <= 0:
        return np.nan, t0, np.nan
    ratio = l_near / o_near
    if idx is None:
        excess = float(np.sum(lead[above] - ratio * others[above]))
    else:
        # the drawn stations above the peak, in the order drawn (written
        # into reused buffers: fresh arrays of this size cost page faults)
        terms, drawn, hit = work
        np.multiply(others, ratio, out=terms)
        np.subtract(lead, terms, out=terms)
        terms.take(idx, out=drawn, mode="clip")     # idx is in range: no check
        above.take(idx, out=hit, mode="clip")
        excess = float(np.sum(np.compress(hit, drawn)))
    return excess, t0, float(ratio)


@register("excess_votes", family="excess-votes", min_units=100, null=_NULL,
          leaves_out=("leader_over_cast", "cast_over_registered"),
          evidence=False, why="an estimate with a bootstrap interval, not a test: "
          "it gives no p-value")
@single_threaded_blas
def excess_votes(registered, ballots_cast, leader, votes, *, bin_width=0.005,
                 peak="others", peak_turnout=None, window=0.02, smooth=5,
                 max_peak_turnout=0.95, min_peak_height=0.5, n_boot=200,
                 confidence=0.95, min_stations=100, rng=None):
    """Leader votes in excess of the clean turnout peak (Shpilkin's method).

    Parameters
    ----------
    registered, ballots_cast, leader : array_like of int, shape (n,)
        Voters on the list, ballots found in the boxes and the leader's votes
        at each station.
    votes : array_like of int, shape (n, k)
        Votes of every option (the leader's column included); the others'
        votes are ``votes.sum(axis=1) - leader``.
    bin_width : float, default 0.005
        Turnout bin width used to find the peak and for the table (half a
        percentage point, as in Shpilkin's plots).
    peak : {'others', 'voters'}, default 'others'
        Where the clean turnout is read: a mode of the other options'
        votes by turnout (``'others'``), or a mode of the ballots-weighted
        turnout distribution (``'voters'``; misleading where stuffed
        stations outweigh clean ones).
    peak_turnout : float, optional
        Use this clean turnout instead of searching for the peak.
    window : float, default 0.02
        Width of the turnout window around the peak in which the leader's
        share is measured (at least one bin).
    smooth : int, default 5
        Moving-average width, in bins, applied before taking the mode.
    max_peak_turnout : float, default 0.95
        The peak is searched below this turnout only.
    min_peak_height : float, default 0.5
        A local maximum counts as a mode when it is at least this fraction
        of the highest one; the lowest-turnout mode is the clean peak
        (fraud only moves votes to higher turnout).
    n_boot : int, default 200
        Bootstrap resamples of stations for the interval (peak re-found each
        time unless ``peak_turnout`` is given).
    confidence : float, default 0.95
        Level of the percentile interval.
    min_stations : int, default 100
        Fewer usable stations raise :class:`~audit.core.errors.NotApplicable`.
    rng : None, int or numpy.random.Generator
        Seed for the bootstrap.

    Returns
    -------
    ExcessVotesResult
        ``statistic`` = excess leader votes; ``pvalue`` = nan (descriptive);
        ``expected`` = 0 (no excess in a clean election); ``details`` has
        ``excess_share`` (excess / leader total), ``excess_ci_low``,
        ``excess_ci_high``, ``share_ci_low``, ``share_ci_high``,
        ``peak_turnout``, ``leader_share_at_peak`` (leader / (leader +
        others) in the window), ``clean_leader_votes``, ``leader_total``,
        ``stations_above_peak``, ``excluded_stations``.

    Notes
    -----
    With turnout :math:`t_i = B_i / R_i` (ballots cast over registered),
    others' votes :math:`O_i` and leader votes :math:`L_i`, let
    :math:`t^*` be the lowest-turnout mode of :math:`\\sum_i O_i` by
    turnout (after smoothing) and
    :math:`r = \\sum_{|t_i - t^*| \\le w/2} L_i / \\sum_{|t_i - t^*| \\le w/2} O_i`
    the leader-to-others ratio at the peak. The excess is

    .. math:: E = \\sum_{i: t_i > t^*} (L_i - r O_i),

    stations at or below the peak counting as reported. Stations with no
    registered voters, no ballots, turnout above 100% or more votes than
    ballots cast are left out and counted in ``excluded_stations``. The
    estimate is descriptive: there is no sampling model for the clean
    election, so ``pvalue`` is ``nan``; the interval reflects only the
    resampling of stations. Negative station
    terms are kept (they offset positive ones), as summing a binned curve
    does.

    Simplifications relative to Shpilkin: one peak for the whole table
    (he often works region by region and excludes regions with their own
    peaks); the clean leader share is a single ratio, not a curve fitted
    below the peak; the turnout distribution is not assumed symmetric, so
    the estimate counts only the leader votes, not the extra turnout.

    Calibration: an estimate with a bootstrap interval, not a test (no
    p-value); it is registered as descriptive and never counted as evidence.

    References
    ----------
    .. [1] S. Shpilkin, "Как Россия поменяла Конституцию голосами 29%
       избирателей", Proekt, 3 July 2020.
    .. [2] D. Kobak, S. Shpilkin and M. S. Pshenichnikov, "Integer
       percentages as electoral falsification fingerprints", Annals of
       Applied Statistics 10(1), 2016, section 1.
    .. [3] D. Kobak, S. Shpilkin and M. S. Pshenichnikov, "Statistical
       fingerprints of electoral fraud?", Significance 13(4), 2016.

    Examples
    --------
    A clean election of 2,000 stations around 55% turnout with the leader at
    60%, then 300 stations stuffed to 90% turnout with the stuffed ballots
    all for the leader:

    >>> import numpy as np
    >>> rng = np.random.default_rng(1)
    >>> reg = rng.integers(800, 1500, 2300)
    >>> t = np.clip(rng.normal(0.55, 0.06, 2300), 0.05, 0.95)
    >>> cast = rng.binomial(reg, t)
    >>> lead = rng.binomial(cast, 0.6)
    >>> other = cast - lead
    >>> stuffed = np.arange(2300) >= 2000
    >>> extra = (0.9 * reg[stuffed] - cast[stuffed]).astype(int)
    >>> cast[stuffed] += extra; lead[stuffed] += extra
    >>> res = excess_votes(reg, cast, lead, np.c_[lead, other], n_boot=50, rng=0)
    >>> planted = extra.sum()
    >>> bool(abs(res.statistic - planted) < 0.1 * planted)
    True

    The estimate is close to the ballots that were stuffed: the other
    option's votes at high turnout betray how many leader votes a clean
    station of that size would have had.
    """
    reg, cast, lead, vts = _validate(registered, ballots_cast, leader, votes,
                                     bin_width, peak, peak_turnout, window,
                                     smooth, max_peak_turnout, min_peak_height,
                                     n_boot, confidence)
    gen = np.random.default_rng(rng)
    total = vts.sum(axis=1)
    others_all = total - lead
    empty, impossible = pair_screen(reg, cast, total)
    ok = ~(empty | impossible) & (others_all >= 0)
    n_excluded = int((~ok).sum())
    # positions in the order given, before the canonical sort below
    excluded = exclusion_table({
        reason(NO_REGISTERED, NO_BALLOTS, OVER_100, VOTES_OVER): ~ok})
    if ok.sum() < min_stations:
        raise NotApplicable(f"excess_votes needs at least {min_stations} stations with "
                            f"registered voters and ballots cast, got {int(ok.sum())}")
    # canonical station order, so that the bootstrap (which draws station
    # positions) and the sums do not depend on the order of the rows
    order = canonical_order([reg[ok], cast[ok], lead[ok], others_all[ok]])
    reg, cast, lead, others = (x[ok][order] for x in (reg, cast, lead, others_all))
    if others.sum() <= 0:
        raise NotApplicable("excess_votes needs votes for options other than the leader")
    turnout = cast / reg
    nbins = int(round(1 / bin_width))
    edges = np.linspace(0, 1, nbins + 1)
    k = _bins(turnout, edges)
    excess, t0, ratio = _estimate(turnout, k, lead, others, cast, edges, peak,
                                  peak_turnout, window, smooth, max_peak_turnout,
                                  min_peak_height)
    if not np.isfinite(excess):
        raise NotApplicable("excess_votes found no others' votes at the turnout peak")

    n = turnout.size
    reps = np.full(int(n_boot), np.nan)
    cache = {}          # station masks of the window and above it, by peak
    work = (np.empty(n), np.empty(n), np.empty(n, dtype=bool))
    for b in range(int(n_boot)):
        idx = gen.integers(0, n, n)
        counts = np.bincount(idx, minlength=n)
        reps[b] = _estimate(turnout, k, lead, others, cast, edges, peak, peak_turnout,
                            window, smooth, max_peak_turnout, min_peak_height,
                            idx=idx, counts=counts, cache=cache, work=work)[0]
    alpha = (1 - confidence) / 2
    finite = reps[np.isfinite(reps)]
    if finite.size:
        lo, hi = (float(q) for q in np.quantile(finite, [alpha, 1 - alpha]))
    else:
        lo = hi = float("nan")
    total = float(lead.sum())

    above = turnout > t0
    clean = np.where(above, ratio * others, lead)

    def per_bin(x):
        return np.bincount(k, weights=x, minlength=nbins)

    table = pd.DataFrame({
        "turnout_lo": edges[:-1], "turnout_hi": edges[1:],
        "stations": np.bincount(k, minlength=nbins),
        "registered": per_bin(reg), "ballots_cast": per_bin(cast),
        "leader": per_bin(lead), "others": per_bin(others),
        "leader_clean": per_bin(clean)})
    details = {
        "excess_share": excess / total if total > 0 else float("nan"),
        "excess_ci_low": lo, "excess_ci_high": hi,
        "share_ci_low": lo / total if total > 0 else float("nan"),
        "share_ci_high": hi / total if total > 0 else float("nan"),
        "peak_turnout": t0, "leader_share_at_peak": ratio / (1 + ratio),
        "clean_leader_votes": total - excess, "leader_total": total,
        "stations_above_peak": int(above.sum()), "excluded_stations": n_excluded,
        "confidence": confidence,
    }
    params = {"bin_width": bin_width, "peak": peak, "peak_turnout": peak_turnout,
              "window": window, "smooth": smooth, "max_peak_turnout": max_peak_turnout,
              "min_peak_height": min_peak_height,
              "n_boot": int(n_boot), "confidence": confidence,
              "min_stations": min_stations}
    return ExcessVotesResult(
        test="excess_votes", statistic=excess, pvalue=float("nan"), n=int(n),
        expected=0.0, null=_NULL, params=params, details=details, table=table,
        excluded=excluded, replicates=reps)
