"""Round shares against their neighbouring counts.

Officials who write a result instead of counting it favour round shares:
50%, 60%, 75%, two thirds. Rozenas (2017) looks for such spikes in the
distribution of vote shares; :func:`audit.stations.forensics.spikes.spikes` does it
with his null, a smooth law fitted to the whole country. That null fails on
honest data: a country of many districts does not have one smooth share
distribution, and clean twins of the Russian files reject it at about three
times its nominal size. A null centred on each station's own observed share
(as the integer-percentage test uses) fails more mildly: redrawing around an
observed share doubles the binomial variance, and where the share
distribution is peaked, as in the Russian files, the smoothed expectation
misses the observed count of round shares by a fraction of a percent, which
is several tenths of a standard deviation with a hundred thousand stations.

The tests here ask a narrower question that needs no model of the share
distribution at all. Take the stations whose count lies within a few votes
of a round share: the exact round count and as many counts on each side of
it (a *band*; 49, 50 and 51 of 100 ballots around 50%). Whatever the
station's true share, a binomial count cannot tell apart neighbouring
integers much: given that the count fell in the band, its chance of being the
round one is close to its share of the band, and is computed exactly from
the station's own law (below). A count written to a round share falls on the
round integer, not beside it. The number of banded stations on the round
count is then a sum of independent Bernoulli variables, and its upper tail
is computed exactly.

The station's law within its band is the binomial averaged over what its
count says about its true share (a beta-binomial with Jeffreys' prior,
``Beta(k + 1/2, n - k + 1/2)``): the plug-in binomial at the observed share
puts its mode on the observed count and overstates the round count's chance
for stations that sit on it. Either way the error is of order one over the
binomial variance of the count, a few tenths of a percent at 200 ballots.
Stations with fewer than ``min_whole`` ballots are left out: the bands of
neighbouring round shares (one third and 35%) would overlap.
"""

from __future__ import annotations

import numpy as np
from .._lazy import special

from ....core.errors import NotApplicable
from ...registry import register
from ...result import exclusion_table
from .._poisson_binomial import count_result
from .._validation import as_counts
from .mixture import _window
from .test import coarse_shares

__all__ = ["round_shares", "round_turnout"]

_ROUND_NULL = ("each station's count is binomial, so a count that lies within a few "
               "votes of a coarse {what} (multiples of 5%, one and two thirds) is "
               "the round count itself only as often as the station's own law "
               "spreads over the round count and its neighbours")


def _focal(focal, halfwidth):
    foc = coarse_shares() if focal is None else np.sort(np.asarray(focal, dtype=float))
    if foc.ndim != 1 or foc.size == 0 or np.any((foc <= 0) | (foc >= 1)):
        raise ValueError(f"focal must be shares strictly between 0 and 1, got {focal!r}")
    if not 0 < halfwidth < 0.01:
        raise ValueError(f"halfwidth must be in (0, 0.01), got {halfwidth!r}")
    if foc.size > 1 and np.min(np.diff(foc)) <= 2 * halfwidth:
        raise ValueError("focal shares must be more than 2 * halfwidth apart")
    return foc


def _bands(n, k, foc, halfwidth):
    """Each station's band: the integers of a focal window (``lo..hi``) and
    as many on each side. Returns (pair station, lo, hi, band lo, band hi,
    focal index) for the stations whose count lies in a band."""
    lo, hi = _window(n.astype(float), foc, halfwidth)
    lo, hi = lo.astype(np.int64), hi.astype(np.int64)
    width = hi - lo + 1
    blo, bhi = lo - width, hi + width
    filled = width > 0
    # bands of neighbouring focal shares must not meet, or a count could
    # belong to two of them
    both = filled[:, :-1] & filled[:, 1:]
    if np.any(both & (bhi[:, :-1] >= blo[:, 1:])):
        station = int(np.flatnonzero((both & (bhi[:, :-1] >= blo[:, 1:])).any(axis=1))[0])
        raise ValueError(f"focal shares too close together for a station of "
                         f"{int(n[station])}: their bands of neighbouring counts "
                         "overlap; raise the minimum size or thin the focal shares")
    inside = filled & (k[:, None] >= blo) & (k[:, None] <= bhi)
    station, col = np.nonzero(inside)
    return (station, lo[station, col], hi[station, col], blo[station, col],
            bhi[station, col], col)


def _round_chance(n, k, lo, hi, blo, bhi):
    """Chance that a count known to lie in ``blo..bhi`` lies in ``lo..hi``,
    under the beta-binomial law of the station's count given its observed
    count (module notes), for each banded station."""
    a = k + 0.5
    b = n - k + 0.5
    length = int((bhi - blo).max(initial=-1)) + 1
    inner = np.zeros(n.size)
    total = np.zeros(n.size)
    # log pmf relative to a per-station constant: log C(n, j) + log B(j + a, n - j + b)
    base = None
    for offset in range(length):
        j = blo + offset
        live = j <= bhi
        logw = (special.gammaln(n + 1) - special.gammaln(j + 1) - special.gammaln(n - j + 1)
                + special.betaln(j + a, n - j + b))
        if base is None:
            base = logw
        w = np.where(live, np.exp(logw - base), 0.0)
        total += w
        inner += np.where(live & (j >= lo) & (j <= hi), w, 0.0)
    return inner / total


def _round_share_test(test, whole, part, *, names, what, focal, halfwidth,
                      min_whole, min_units, alternative):
    """Stations whose count lies on a round share among those within a few
    votes of one, against each station's own law (see the module notes)."""
    if not isinstance(min_whole, (int, np.integer)) or min_whole < 1:
        raise ValueError(f"min_whole must be a positive integer, got {min_whole!r}")
    if not isinstance(min_units, (int, np.integer)) or min_units < 1:
        raise ValueError(f"min_units must be a positive integer, got {min_units!r}")
    if alternative not in ("greater", "two-sided", "less"):
        raise ValueError("alternative must be 'greater', 'two-sided' or 'less', "
                         f"got {alternative!r}")
    foc = _focal(focal, halfwidth)
    whole_name, part_name, over_reason = names
    n_all = as_counts(whole_name, whole, missing="keep", dims=(1, 2))
    k_all = as_counts(part_name, part, missing="keep", dims=(1, 2))
    if n_all.ndim != 1 or n_all.shape != k_all.shape:
        raise ValueError(f"{whole_name} and {part_name} must be one-dimensional and "
                         f"of the same length, got shapes {n_all.shape} and {k_all.shape}")
    missing = ~(np.isfinite(n_all) & np.isfinite(k_all))
    ok = ~missing & (n_all >= min_whole)
    small = ~missing & ~ok
    # a part above the whole is impossible (a finding of the reader): such a
    # station has no share to test; it is counted, not used
    over = ok & (k_all > n_all)
    ok &= ~over
    excluded = exclusion_table({"missing count": missing,
                                f"fewer than {min_whole} {what[1]}": small,
                                over_reason: over})
    n = n_all[ok].astype(np.int64)
    k = k_all[ok].astype(np.int64)
    if n.size < min_units:
        raise NotApplicable(f"{test} needs at least {min_units} stations with >= "
                            f"{min_whole} {what[1]}; {n.size} left")
    station, lo, hi, blo, bhi, col = _bands(n, k, foc, halfwidth)
    if station.size == 0:
        # the law of the count is exact for any number of banded stations,
        # but with none there is nothing to compare
        raise NotApplicable(f"{test}: no station's count lies within a few votes "
                            f"of a coarse {what[0]}")
    kk = k[station]
    hit = (kk >= lo) & (kk <= hi)
    probs = _round_chance(n[station].astype(float), kk.astype(float), lo, hi, blo, bhi)
    params = {"focal": foc.tolist(), "halfwidth": halfwidth, "min_whole": int(min_whole),
              "min_units": int(min_units), "alternative": alternative,
              "null": "band"}
    details = {"excluded": int((~ok).sum()), "excluded_over": int(over.sum()),
               "stations_used": int(n.size), "stations_in_band": int(station.size),
               "n_focal": int(foc.size)}
    result = count_result(
        test, int(hit.sum()), probs, alternative, _ROUND_NULL.format(what=what[0]),
        params, details, ["on the round count", "beside it"], excluded=excluded)
    # observed and expected stations on each focal share: where the excess sits
    result.details["focal_observed"] = np.bincount(col, weights=hit, minlength=foc.size
                                                   ).astype(int).tolist()
    result.details["focal_expected"] = np.bincount(col, weights=probs,
                                                   minlength=foc.size).tolist()
    return result


@register("round_shares", family="spike", min_units=100,
          leaves_out=("missing", "leader_over_cast"),
          null=_ROUND_NULL.format(what="leader share"), evidence=True)
def round_shares(ballots_cast, leader, *, focal=None, halfwidth=0.0005,
                 min_ballots=200, min_units=100, alternative="greater",
                 rng=None):
    """Excess of stations whose leader share is exactly a coarse fraction,
    among the stations whose count lies within a few votes of one.

    Parameters
    ----------
    ballots_cast, leader : array_like of int, shape (n,)
        Ballots in the boxes (the share's denominator) and the leader's votes.
        A station with more leader votes than ballots (an impossible figure)
        is left out and counted in ``details["excluded_over"]``.
    focal : array_like of float, optional
        Coarse shares, strictly inside (0, 1); default every multiple of 5%
        and one and two thirds (:func:`coarse_shares`).
    halfwidth : float, default 0.0005
        A share counts as on a focal share when within this distance (a
        0.1-point window, as in the integer-percentage test); a station of
        fewer than 1,000 ballots lands only when the fraction is exact. The
        band around the window adds as many counts on each side as the
        window holds (one each side below 1,000 ballots).
    min_ballots : int, default 200
        Stations with fewer ballots are left out: below about 120 ballots the
        bands of one third and 35% meet (a ValueError says so when a smaller
        value makes them meet).
    min_units : int, default 100
        Fewer usable stations raise :class:`~audit.errors.NotApplicable`, as
        does a table where no station's count lies in a band.
    alternative : {'greater', 'two-sided', 'less'}, default 'greater'
        Written results pile up on round shares, so only an excess is
        evidence.
    rng : ignored
        The null law is exact; the argument exists for the battery's uniform
        call.

    Returns
    -------
    TestResult
        ``n`` = banded stations; ``statistic`` = the share of them on the
        round count, ``expected`` = its mean under the null (about a third);
        ``details`` has ``hits``, ``expected_hits``, ``null_sd_hits``, ``z``,
        ``stations_used``, ``stations_in_band``, and per focal share
        ``focal_observed`` and ``focal_expected`` (where an excess sits).

    Notes
    -----
    Station :math:`i` with :math:`n_i` ballots and count :math:`k_i` is
    banded when :math:`k_i` lies in :math:`B_i = [l_i - w_i, h_i + w_i]`,
    where :math:`l_i..h_i` (:math:`w_i` integers) are the counts within
    ``halfwidth`` of a focal share. Given that, it is on the round count with
    chance :math:`\\pi_i = \\sum_{j=l_i}^{h_i} f_i(j) / \\sum_{j \\in B_i} f_i(j)`,
    :math:`f_i` the beta-binomial law of the count given
    :math:`k_i` (module notes). The number of banded stations on their round
    count is a sum of independent Bernoulli(:math:`\\pi_i`) variables; the
    p-value is its exact upper tail
    (:func:`audit.stations.forensics._poisson_binomial.poisson_binomial_sf`).
    The null needs no model of how shares spread across stations, only that
    a station's law is smooth over a few neighbouring counts. Whether it
    holds its size on honest elections is measured, not assumed:
    ``docs/calibration.md``.

    Examples
    --------
    3,000 honest stations, then 4% of them written to a multiple of 5%:

    >>> import numpy as np
    >>> g = np.random.default_rng(3)
    >>> n = g.integers(300, 2500, 3000)
    >>> w = g.binomial(n, g.beta(20, 12, 3000))
    >>> bool(round_shares(n, w).pvalue > 0.05)
    True
    >>> fixed = g.random(3000) < 0.04
    >>> n[fixed] = 20 * np.round(n[fixed] / 20)
    >>> w[fixed] = np.round(20 * w[fixed] / n[fixed]) * n[fixed] // 20
    >>> bool(round_shares(n, w).pvalue < 1e-6)
    True
    """
    return _round_share_test(
        "round_shares", ballots_cast, leader,
        names=("ballots_cast", "leader", "more leader votes than ballots"),
        what=("leader share", "ballots cast"), focal=focal, halfwidth=halfwidth,
        min_whole=min_ballots, min_units=min_units, alternative=alternative)


@register("round_turnout", family="spike", min_units=100,
          leaves_out=("missing", "cast_over_registered"),
          null=_ROUND_NULL.format(what="turnout"), evidence=True)
def round_turnout(registered, ballots_cast, *, focal=None, halfwidth=0.0005,
                  min_registered=200, min_units=100, alternative="greater",
                  rng=None):
    """Excess of stations whose turnout is a coarse fraction.

    The turnout counterpart of :func:`round_shares`: turnout written to a
    target (75%, 80%) lands on a round share of the registered voters.
    Parameters as in :func:`round_shares`, with ``registered`` the
    denominator and ``ballots_cast`` the count; a station with more ballots
    than registered voters is left out and counted in
    ``details["excluded_over"]``.

    Examples
    --------
    >>> import numpy as np
    >>> g = np.random.default_rng(4)
    >>> reg = g.integers(400, 3000, 3000)
    >>> cast = g.binomial(reg, g.beta(12, 8, 3000))
    >>> bool(round_turnout(reg, cast).pvalue > 0.05)
    True
    """
    return _round_share_test(
        "round_turnout", registered, ballots_cast,
        names=("registered", "ballots_cast", "more ballots than registered voters"),
        what=("turnout", "registered voters"), focal=focal, halfwidth=halfwidth,
        min_whole=min_registered, min_units=min_units, alternative=alternative)
