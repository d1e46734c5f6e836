"""Shpilkin's excess votes split into stuffed ballots and switched votes.

:func:`audit.stations.forensics.excess_votes.excess_votes` estimates the leader's
votes above what the clean turnout peak predicts.  This module reads the
same peak (turnout :math:`t^*` and the leader's share :math:`p^*` of the
valid votes there) as the profile of a clean station, and asks of every
station above the peak how its excess came about: ballots added beyond the
clean turnout (*stuffing*) or votes moved from the other options to the
leader (*switching*).  The two add up to Shpilkin's excess station by
station, so the split sits side by side with the mixture model's
manufactured and stolen votes (:mod:`audit.stations.forensics.mixture`).
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from ....core.errors import NotApplicable
from .._validation import pair_screen
from .votes import excess_votes

__all__ = ["ExcessSplit", "excess_split"]


@dataclass(frozen=True)
class ExcessSplit:
    """Stuffing / switching split of the excess votes.

    Attributes
    ----------
    stuffed, switched : float
        National totals: ballots added beyond the clean turnout, and votes
        moved from the other options to the leader.
    excess : float
        Shpilkin's excess, ``stuffed + (1 + r) * switched`` with ``r`` the
        leader-to-others ratio at the peak (equal to
        ``excess_votes(...).statistic`` for the same peak).
    stuffed_se, switched_se : float
        Standard errors from the clean spread of turnout and share around
        the peak, stations taken as independent (the uncertainty of the
        peak itself is not in them; the excess-vote bootstrap has it).
    peak_turnout, leader_share_at_peak, turnout_sd, share_sd : float
        The clean profile used.
    table : DataFrame
        One row per station used: ``position``, ``above_peak``,
        ``stuffed``, ``stuffed_se``, ``switched``, ``switched_se``,
        ``excess`` (0 at or below the peak with ``side='above'``).
    """

    stuffed: float
    switched: float
    excess: float
    stuffed_se: float
    switched_se: float
    peak_turnout: float
    leader_share_at_peak: float
    turnout_sd: float
    share_sd: float
    n: int
    table: pd.DataFrame = field(repr=False, compare=False)

    def to_frame(self) -> pd.DataFrame:
        """One tidy row of the national figures."""
        return pd.DataFrame([{k: getattr(self, k) for k in (
            "stuffed", "stuffed_se", "switched", "switched_se", "excess",
            "peak_turnout", "leader_share_at_peak", "turnout_sd", "share_sd", "n")}])


def excess_split(registered, ballots_cast, leader, votes, *, peak_turnout=None,
                 side="all", min_stations=100, **options) -> ExcessSplit:
    """Split Shpilkin's excess votes into stuffed ballots and switched votes.

    Parameters
    ----------
    registered, ballots_cast, leader : array_like of int, shape (n,)
        As for :func:`~audit.stations.forensics.excess_votes.excess_votes`.
    votes : array_like of int, shape (n, k)
        Votes of every option, the leader's column included; invalid
        ballots are ``ballots_cast - votes.sum(axis=1)``.
    peak_turnout : float, optional
        Clean turnout to use instead of the peak found.
    side : {'all', 'above'}, default 'all'
        Stations whose terms are summed: all of them (default: a clean
        station's turnout and share scatter around the peak on both sides,
        so their terms cancel in the sum), or only those above the peak, as
        Shpilkin sums the excess (then ``excess`` equals his figure, but
        clean stations above the peak add their upward scatter to the
        stuffed ballots and take it off the switched votes).
    min_stations : int, default 100
        Fewer usable stations raise :class:`~audit.errors.NotApplicable`.
    **options
        Further options of the peak search (``bin_width``, ``window``,
        ``smooth``, ...), passed to ``excess_votes``.

    Returns
    -------
    ExcessSplit

    Notes
    -----
    A station of :math:`N` voters with turnout above the peak :math:`t^*`
    reports :math:`B` ballots, :math:`L` leader votes, :math:`O` other
    valid votes and :math:`I = B - L - O` invalid ones.  Had it been a
    clean station at the peak, it would have had :math:`B_0 = t^* N`
    ballots, the same invalid ones, and the leader's share :math:`p^*` of
    the valid ones.  Ballots added for the leader (stuffing) and votes moved
    to him (switching) are then

    .. math:: S = B - t^* N, \\qquad T = (1 - p^*)(t^* N - I) - O,

    and with :math:`r = p^*/(1 - p^*)` Shpilkin's station excess is exactly
    :math:`L - rO = S + (1 + r)T` (switching counts the leader's gain and
    the others' loss).  With ``side='above'`` stations at or below the peak
    count as clean, as in Shpilkin's sum; with ``side='all'`` every
    station's terms are summed, which is unbiased when clean stations
    scatter symmetrically around the peak's turnout and share (the
    assumption behind reading the clean profile at the peak).  Negative
    terms are kept (they offset positive ones).  The clean turnout and share of a station scatter around the
    peak with the standard deviations :math:`\\sigma_t, \\sigma_p` of the
    stations below the peak (the side fraud does not reach); so
    :math:`\\mathrm{se}(S) = \\sigma_t N` and :math:`\\mathrm{se}(T) =
    \\sqrt{(1 - p^*)^2\\sigma_t^2 N^2 + \\sigma_p^2 (t^* N - I)^2}`.

    Examples
    --------
    3,000 clean stations around 55% turnout, then 300 of them stuffed to
    85% turnout with ballots for the leader:

    >>> import numpy as np
    >>> rng = np.random.default_rng(1)
    >>> reg = rng.integers(800, 1500, 3000)
    >>> cast = rng.binomial(reg, np.clip(rng.normal(0.55, 0.05, 3000), 0.05, 0.95))
    >>> lead = rng.binomial(cast, 0.6)
    >>> add = np.where(np.arange(3000) >= 2700, (0.85 * reg - cast).astype(int), 0)
    >>> res = excess_split(reg, cast + add, lead + add, np.c_[lead + add, cast - lead])
    >>> bool(res.stuffed > 5 * abs(res.switched))
    True

    The excess comes with extra ballots, so the split reads it as stuffing
    rather than switching.  (The stuffed total, 74% of the planted ballots
    here, depends on where the peak is read: a peak half a point above the
    clean mean turnout costs that half point of every station's voters.)
    """
    reg = np.asarray(registered, dtype=float)
    cast = np.asarray(ballots_cast, dtype=float)
    lead = np.asarray(leader, dtype=float)
    vts = np.asarray(votes, dtype=float)
    if vts.ndim == 1:
        vts = vts[:, None]
    ev = excess_votes(reg, cast, lead, vts, peak_turnout=peak_turnout, n_boot=0,
                      min_stations=min_stations, **options)
    t0 = ev.details["peak_turnout"]
    p0 = ev.details["leader_share_at_peak"]
    r = p0 / (1 - p0)
    total = vts.sum(axis=1)
    others = total - lead
    empty, impossible = pair_screen(reg, cast, total)    # the stations excess_votes used
    ok = ~(empty | impossible) & (others >= 0)
    pos = np.flatnonzero(ok)
    n, b, l, o = reg[ok], cast[ok], lead[ok], others[ok]
    inv = b - l - o
    t = b / n
    valid = l + o
    below = t <= t0
    if below.sum() < 10:
        raise NotApplicable("excess_split needs stations below the turnout peak to "
                            "measure the clean spread")
    sd_t = float(np.sqrt(np.average((t[below] - t0) ** 2, weights=n[below])))
    share = np.divide(l, valid, out=np.full_like(l, p0), where=valid > 0)
    sd_p = float(np.sqrt(np.average((share[below] - p0) ** 2,
                                    weights=np.maximum(valid[below], 1))))
    if side not in ("all", "above"):
        raise ValueError(f"side must be 'all' or 'above', got {side!r}")
    above = t > t0 if side == "above" else np.ones(t.size, bool)
    stuffed = np.where(above, b - t0 * n, 0.0)
    switched = np.where(above, (1 - p0) * (t0 * n - inv) - o, 0.0)
    se_s = np.where(above, sd_t * n, 0.0)
    se_t = np.where(above, np.sqrt((1 - p0) ** 2 * sd_t ** 2 * n ** 2
                                   + sd_p ** 2 * (t0 * n - inv) ** 2), 0.0)
    excess = stuffed + (1 + r) * switched
    table = pd.DataFrame({"position": pos, "above_peak": t > t0, "stuffed": stuffed,
                          "stuffed_se": se_s, "switched": switched, "switched_se": se_t,
                          "excess": excess})
    return ExcessSplit(
        stuffed=float(stuffed.sum()), switched=float(switched.sum()),
        excess=float(excess.sum()), stuffed_se=float(np.sqrt((se_s ** 2).sum())),
        switched_se=float(np.sqrt((se_t ** 2).sum())), peak_turnout=float(t0),
        leader_share_at_peak=float(p0), turnout_sd=sd_t, share_sd=sd_p,
        n=int(ok.sum()), table=table)
