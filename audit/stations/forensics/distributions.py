"""Shape of the station distributions of turnout and leader share.

Five families of checks on station-level rates, where turnout is
``ballots_cast / registered`` and the leader's share is
``leader / ballots_cast``:

- skewness and kurtosis of turnout and of leader share (D'Agostino tests);
- Hartigan's dip test of unimodality of turnout;
- the correlation between turnout and leader share;
- the Sobyanin-Sukhovolsky regression of leader votes per registered voter
  on turnout.

Stations with no registered voters (turnout) or no ballots (share) are left
out and counted in ``details``; so are stations reporting more ballots than
voters or more leader votes than ballots (impossible figures are findings of
the validation step, not data for a shape test).

Warning: real clean elections are mixtures of heterogeneous regions, so their
station rates are neither normal nor free of turnout-share association.  The
normal-theory skewness and kurtosis tests reject on clean simulated elections
(see ``docs/calibration.md``): read them as descriptions, not as evidence.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from scipy import stats

from ..errors import NotApplicable
from .._threads import single_threaded_blas
from ..registry import GROUPS, Calibration, Variant, register
from ..result import TestResult, exclusion_table, simulated_pvalue

__all__ = ["dip_statistic", "dip_pvalue", "turnout_skewness", "turnout_kurtosis",
           "leader_share_skewness", "leader_share_kurtosis", "turnout_dip",
           "turnout_leader_correlation", "sobyanin_sukhovolsky"]


# ------------------------------------------------------------ validation
def _as_counts(name, values):
    if isinstance(values, (str, bytes)) or np.ndim(values) == 0:
        raise TypeError(f"{name} must be a 1-d array of counts, got {type(values).__name__}")
    try:
        arr = np.asarray(values, dtype=float)
    except (TypeError, ValueError) as exc:
        raise TypeError(f"{name} must hold numbers: {exc}") from None
    if arr.ndim != 1:
        raise ValueError(f"{name} must be 1-d, got shape {arr.shape}")
    if not np.isfinite(arr).all():
        raise ValueError(f"{name} holds {int((~np.isfinite(arr)).sum())} missing or "
                         "infinite value(s); drop those stations first")
    if (arr < 0).any():
        i = int(np.flatnonzero(arr < 0)[0])
        raise ValueError(f"{name} must be non-negative; position {i} holds {arr[i]:g}")
    if (arr != np.round(arr)).any():
        i = int(np.flatnonzero(arr != np.round(arr))[0])
        raise ValueError(f"{name} must hold whole numbers (counts); position {i} "
                         f"holds {arr[i]:g}")
    return arr


def _check(**arrays):
    """Validate count arrays of equal length; return them as floats."""
    out = {k: _as_counts(k, v) for k, v in arrays.items()}
    lengths = {k: len(v) for k, v in out.items()}
    if len(set(lengths.values())) > 1:
        raise ValueError("arrays must have the same length, got "
                         + ", ".join(f"{k}={n}" for k, n in lengths.items()))
    return out


def _check_rng_option(name, value, low=1):
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)):
        raise TypeError(f"{name} must be an int, got {type(value).__name__}")
    if value < low:
        raise ValueError(f"{name} must be at least {low}, got {value}")


def _turnout(registered, ballots_cast):
    """Station turnout, the stations left out (one row each) and their counts."""
    keep = (registered > 0) & (ballots_cast <= registered)
    no_registered = registered == 0
    over = (registered > 0) & (ballots_cast > registered)
    details = {"excluded_no_registered": int(no_registered.sum()),
               "excluded_over_100pct": int(over.sum())}
    excluded = exclusion_table({"no registered voters": no_registered,
                                "turnout above 100%": over})
    return ballots_cast[keep] / registered[keep], excluded, details


def _share(ballots_cast, leader):
    """Leader share, the stations left out (one row each) and their counts."""
    keep = (ballots_cast > 0) & (leader <= ballots_cast)
    no_ballots = ballots_cast == 0
    over = (ballots_cast > 0) & (leader > ballots_cast)
    details = {"excluded_no_ballots": int(no_ballots.sum()),
               "excluded_leader_over_ballots": int(over.sum())}
    excluded = exclusion_table({"no ballots cast": no_ballots,
                                "more leader votes than ballots": over})
    return leader[keep] / ballots_cast[keep], excluded, details


def _enough(name, n, minimum):
    if n < minimum:
        raise NotApplicable(f"{name} needs at least {minimum} usable stations, got {n}")


def _not_constant(name, values, what):
    if np.ptp(values) == 0:
        raise NotApplicable(f"{name}: every station has the same {what}; "
                            "the shape of a single value is not defined")


# ------------------------------------------------------------ moments
def _moment_test(name, values, kind, details, params, excluded):
    _enough(name, len(values), 20)
    _not_constant(name, values, params["variable"])
    if kind == "skewness":
        stat = float(stats.skew(values))
        z, p = stats.skewtest(values)
    else:
        stat = float(stats.kurtosis(values))   # excess kurtosis
        z, p = stats.kurtosistest(values)
    return TestResult(
        test=name, statistic=stat, pvalue=float(p), n=len(values), expected=0.0,
        null=f"{params['variable']} is normally distributed across stations "
             f"({kind} {0})",
        params=params, details={"z": float(z), **details}, excluded=excluded)


_MOMENT_NOTES = """
    Notes
    -----
    {formula}  The p-value is D'Agostino's normal approximation
    (:func:`scipy.stats.{scipy}`; D'Agostino, Belanger and D'Agostino 1990,
    "A suggestion for using powerful and informative tests of normality",
    The American Statistician 44(4):316-321).  Klimek et al. (2012, PNAS
    109:16469, abstract) report that the kurtosis of rescaled vote
    distributions is larger in elections with alleged fraud.

    The null (normality) is false for clean elections too: a country is a
    mixture of regions with different rates, which makes the station
    distribution skewed and heavy-tailed.  With thousands of stations these
    tests reject on clean simulated elections, so the result is
    descriptive: compare it with a reference election, never read the
    p-value as evidence of fraud.
"""


_MOMENT_WHY = ("a normal-theory null: station turnout and shares are mixtures of "
               "districts of different kinds, never normal; every clean election "
               "and every clean twin rejects")


@register("turnout_skewness", family="distribution", min_units=20,
          null="turnout is normally distributed (skewness 0)",
          evidence=False, flag="liberal",
          why=_MOMENT_WHY)
def turnout_skewness(registered, ballots_cast, *, rng=None):
    """Skewness of station turnout, against a normal-theory null.

    Parameters
    ----------
    registered, ballots_cast : array of int
        Registered voters and ballots cast per station.
    rng : ignored
        Accepted for the registry contract; the test is deterministic.

    Returns
    -------
    TestResult
        ``statistic`` is the sample skewness :math:`g_1`, ``expected`` 0,
        ``details["z"]`` D'Agostino's z.
    {notes}
    Calibration: its false-alarm rate on heterogeneous clean simulated elections is far
    above 5% (a mixture of regions is not normal); read it as descriptive
    (``docs/calibration.md``; the battery's evidence table repeats this in its
    ``calibration`` column).

    References
    ----------
    Klimek, Yegorov, Hanel and Thurner (2012), PNAS 109(41):16469-16473.

    Examples
    --------
    >>> from audit.simulate import clean_election
    >>> d = clean_election(2000, rng=3).data
    >>> res = turnout_skewness(d.registered.to_numpy(int), d.ballots_cast.to_numpy(int))
    >>> abs(res.statistic) < 1
    True

    The skewness is modest; its p-value may still be small, because a
    clean country is a mixture of regions and not a normal sample.
    """
    a = _check(registered=registered, ballots_cast=ballots_cast)
    t, excluded, details = _turnout(a["registered"], a["ballots_cast"])
    return _moment_test("turnout_skewness", t, "skewness", details,
                        {"variable": "turnout"}, excluded)


@register("turnout_kurtosis", family="distribution", min_units=20,
          null="turnout is normally distributed (excess kurtosis 0)",
          evidence=False, flag="liberal",
          why=_MOMENT_WHY)
def turnout_kurtosis(registered, ballots_cast, *, rng=None):
    """Excess kurtosis of station turnout, against a normal-theory null.

    Parameters
    ----------
    registered, ballots_cast : array of int
        Registered voters and ballots cast per station.
    rng : ignored
        Accepted for the registry contract; the test is deterministic.

    Returns
    -------
    TestResult
        ``statistic`` is the excess kurtosis :math:`g_2`, ``expected`` 0.
    {notes}
    Calibration: its false-alarm rate on heterogeneous clean simulated elections is far
    above 5% (a mixture of regions is not normal); read it as descriptive
    (``docs/calibration.md``; the battery's evidence table repeats this in its
    ``calibration`` column).

    References
    ----------
    Klimek, Yegorov, Hanel and Thurner (2012), PNAS 109(41):16469-16473.

    Examples
    --------
    >>> from audit.simulate import clean_election, klimek_fraud
    >>> clean = clean_election(3000, rng=3)
    >>> rigged = klimek_fraud(clean, f_extreme=0.05, rng=4)
    >>> k = [turnout_kurtosis(t.data.registered.to_numpy(int),
    ...                       t.data.ballots_cast.to_numpy(int)).statistic
    ...      for t in (clean, rigged)]
    >>> k[1] > k[0]
    True

    Five percent of stations pushed to full turnout fatten the upper tail.
    """
    a = _check(registered=registered, ballots_cast=ballots_cast)
    t, excluded, details = _turnout(a["registered"], a["ballots_cast"])
    return _moment_test("turnout_kurtosis", t, "kurtosis", details,
                        {"variable": "turnout"}, excluded)


@register("leader_share_skewness", family="distribution", min_units=20,
          null="leader share is normally distributed (skewness 0)",
          evidence=False, flag="liberal",
          why=_MOMENT_WHY)
def leader_share_skewness(ballots_cast, leader, *, rng=None):
    """Skewness of the leader's station share, against a normal-theory null.

    Parameters
    ----------
    ballots_cast, leader : array of int
        Ballots cast and the leader's votes per station.
    rng : ignored
        Accepted for the registry contract; the test is deterministic.

    Returns
    -------
    TestResult
        ``statistic`` is the sample skewness of ``leader / ballots_cast``.
    {notes}
    Calibration: its false-alarm rate on heterogeneous clean simulated elections is far
    above 5% (a mixture of regions is not normal); read it as descriptive
    (``docs/calibration.md``; the battery's evidence table repeats this in its
    ``calibration`` column).

    References
    ----------
    Klimek, Yegorov, Hanel and Thurner (2012), PNAS 109(41):16469-16473.

    Examples
    --------
    >>> import numpy as np
    >>> rng = np.random.default_rng(0)
    >>> cast = rng.integers(500, 1500, 400)
    >>> res = leader_share_skewness(cast, rng.binomial(cast, 0.5))
    >>> res.pvalue > 0.01
    True

    Binomial shares around one rate are close to normal: no alarm.
    """
    a = _check(ballots_cast=ballots_cast, leader=leader)
    s, excluded, details = _share(a["ballots_cast"], a["leader"])
    return _moment_test("leader_share_skewness", s, "skewness", details,
                        {"variable": "leader share"}, excluded)


@register("leader_share_kurtosis", family="distribution", min_units=20,
          null="leader share is normally distributed (excess kurtosis 0)",
          evidence=False, flag="liberal",
          why=_MOMENT_WHY)
def leader_share_kurtosis(ballots_cast, leader, *, rng=None):
    """Excess kurtosis of the leader's station share (normal-theory null).

    Parameters
    ----------
    ballots_cast, leader : array of int
        Ballots cast and the leader's votes per station.
    rng : ignored
        Accepted for the registry contract; the test is deterministic.

    Returns
    -------
    TestResult
        ``statistic`` is the excess kurtosis of ``leader / ballots_cast``.
    {notes}
    Calibration: its false-alarm rate on heterogeneous clean simulated elections is far
    above 5% (a mixture of regions is not normal); read it as descriptive
    (``docs/calibration.md``; the battery's evidence table repeats this in its
    ``calibration`` column).

    References
    ----------
    Klimek, Yegorov, Hanel and Thurner (2012), PNAS 109(41):16469-16473.

    Examples
    --------
    >>> import numpy as np
    >>> rng = np.random.default_rng(0)
    >>> cast = rng.integers(500, 1500, 400)
    >>> votes = rng.binomial(cast, 0.5)
    >>> votes[:20] = cast[:20]                 # twenty stations at 100%
    >>> leader_share_kurtosis(cast, votes).statistic > 3
    True

    A small cluster of stations at 100% makes the tail heavy.
    """
    a = _check(ballots_cast=ballots_cast, leader=leader)
    s, excluded, details = _share(a["ballots_cast"], a["leader"])
    return _moment_test("leader_share_kurtosis", s, "kurtosis", details,
                        {"variable": "leader share"}, excluded)


for _f, _scipy, _formula in (
        (turnout_skewness, "skewtest",
         r"Sample skewness :math:`g_1 = m_3 / m_2^{3/2}` of the station rates."),
        (turnout_kurtosis, "kurtosistest",
         r"Excess kurtosis :math:`g_2 = m_4 / m_2^2 - 3` of the station rates."),
        (leader_share_skewness, "skewtest",
         r"Sample skewness :math:`g_1 = m_3 / m_2^{3/2}` of the station rates."),
        (leader_share_kurtosis, "kurtosistest",
         r"Excess kurtosis :math:`g_2 = m_4 / m_2^2 - 3` of the station rates.")):
    _f.__doc__ = _f.__doc__.replace(
        "{notes}", _MOMENT_NOTES.format(formula=_formula, scipy=_scipy))


# ------------------------------------------------------------ dip
def _gcm_predecessors(x):
    """For each j, the previous knot of the greatest convex minorant of
    the points (x_i, i), i <= j (sorted x)."""
    # plain Python lists and floats: this loop is sequential, and numpy
    # scalars would cost several times more per step (same arithmetic)
    n = len(x)
    prev = [0] * n
    xs = x.tolist()
    for j in range(1, n):
        m = j - 1
        xj = xs[j]
        while m > 0:
            p = prev[m]
            xm = xs[m]
            # drop m if the slope p->m is at least the slope m->j
            if (m - p) * (xj - xm) >= (j - m) * (xm - xs[p]):
                m = p
            else:
                break
        prev[j] = m
    return prev


def _lcm_successors(x):
    """For each k, the next knot of the least concave majorant of the
    points (x_i, i), i >= k (sorted x)."""
    n = len(x)
    last = n - 1
    nxt = [last] * n
    xs = x.tolist()
    for k in range(n - 2, -1, -1):
        m = k + 1
        xk = xs[k]
        while m < last:
            q = nxt[m]
            xm = xs[m]
            # drop m if the slope m->q is at least the slope k->m
            if (q - m) * (xm - xk) >= (m - k) * (xs[q] - xm):
                m = q
            else:
                break
        nxt[k] = m
    return nxt


def dip_statistic(x) -> float:
    """Hartigan's dip: sup distance from the empirical CDF to the nearest
    unimodal CDF.

    Parameters
    ----------
    x : array of float
        Sample (any order; ties allowed).

    Returns
    -------
    float
        The dip, between ``1 / (2 n)`` (unimodal-looking samples) and 1/4;
        0 when all values are equal.

    Notes
    -----
    Hartigan and Hartigan (1985), "The dip test of unimodality", Annals of
    Statistics 13(1):70-84; the algorithm of Hartigan (1985),
    Applied Statistics 34:320-325 (AS 217).  With counts in units of one
    observation, the algorithm alternately takes the greatest convex
    minorant (GCM) and least concave majorant (LCM) of the empirical CDF on
    the current modal interval ``[low, high]``, finds the largest vertical
    gap ``d`` between them, and narrows the interval to where the gap is
    attained, each time adding the worst departures of the ECDF from the GCM
    left of the interval and from the LCM right of it; it stops when ``d``
    no longer exceeds the dip found so far.  The dip is half that width
    over ``n``.  Cross-checked in the tests against a linear program that
    minimises the sup distance over unimodal piecewise-linear CDFs.

    Examples
    --------
    >>> import numpy as np
    >>> rng = np.random.default_rng(0)
    >>> uni = dip_statistic(rng.normal(size=500))
    >>> bi = dip_statistic(np.r_[rng.normal(-3, 1, 250), rng.normal(3, 1, 250)])
    >>> bool(uni < 0.02 < bi)
    True
    """
    x = np.sort(np.asarray(x, dtype=float))
    n = len(x)
    if n == 0:
        raise ValueError("x must not be empty")
    if not np.isfinite(x).all():
        raise ValueError("x must be finite")
    if x[0] == x[-1]:
        return 0.0
    if n < 2:
        return 0.5 / n
    prev = _gcm_predecessors(x)
    nxt = _lcm_successors(x)
    low, high = 0, n - 1
    dip = 1.0                       # in units of 1/(2n) after the final scaling
    while True:
        gcm = [high]
        while gcm[-1] > low:
            gcm.append(prev[gcm[-1]])
        lcm = [low]
        while lcm[-1] < high:
            lcm.append(nxt[lcm[-1]])
        ng, nl = len(gcm), len(lcm)
        ig, ih = ng - 1, nl - 1
        d = 1.0
        if ng > 2 or nl > 2:
            d = 0.0
            ix, iv = ng - 2, 1
            while True:
                gx, lv = gcm[ix], lcm[iv]
                if gx > lv:
                    # LCM knot lv lies under the GCM segment gcm[ix+1] -> gcm[ix]
                    g1 = gcm[ix + 1]
                    run = x[gx] - x[g1]
                    line = 0.0 if run == 0 else (x[lv] - x[g1]) * (gx - g1) / run
                    dx = (lv - g1 + 1) - line
                    iv += 1
                    if dx >= d:
                        d, ig, ih = dx, ix + 1, iv - 1
                else:
                    # GCM knot gx lies under the LCM segment lcm[iv-1] -> lcm[iv]
                    l1 = lcm[iv - 1]
                    run = x[lv] - x[l1]
                    line = (lv - l1) if run == 0 else (x[gx] - x[l1]) * (lv - l1) / run
                    dx = line - (gx - l1 - 1)
                    ix -= 1
                    if dx >= d:
                        d, ig, ih = dx, ix + 1, iv
                ix = max(ix, 0)
                iv = min(iv, nl - 1)
                if gcm[ix] == lcm[iv]:
                    break
        if d < dip:
            break
        # worst departure of the ECDF from the GCM left of the new interval
        dip_l = 0.0
        for j in range(ig, ng - 1):
            jb, je = gcm[j + 1], gcm[j]
            worst = 1.0
            if je - jb > 1 and x[je] != x[jb]:
                jj = np.arange(jb, je + 1)
                c = (je - jb) / (x[je] - x[jb])
                worst = max(worst, float(np.max((jj - jb + 1) - (x[jb:je + 1] - x[jb]) * c)))
            dip_l = max(dip_l, worst)
        # and from the LCM right of it
        dip_u = 0.0
        for j in range(ih, nl - 1):
            jb, je = lcm[j], lcm[j + 1]
            worst = 1.0
            if je - jb > 1 and x[je] != x[jb]:
                jj = np.arange(jb, je + 1)
                c = (je - jb) / (x[je] - x[jb])
                worst = max(worst, float(np.max((x[jb:je + 1] - x[jb]) * c - (jj - jb - 1))))
            dip_u = max(dip_u, worst)
        dip = max(dip, dip_l, dip_u)
        if low == gcm[ig] and high == lcm[ih]:
            break
        low, high = gcm[ig], lcm[ih]
    return dip / (2 * n)


#: Quantiles of sqrt(n) * dip for samples of n uniform draws, computed by
#: :func:`simulate_dip_table` (root seed 19850101; 4,000 samples per n up to
#: 1,000, 1,200 above).  Rows: n -> (samples, quantiles at _DIP_PROBS).
_DIP_PROBS = (0.01, 0.05, 0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9, 0.95,
              0.98, 0.99, 0.995, 0.999)
_DIP_TABLE: dict[int, tuple] = {}
_DIP_TABLE.update({
    4: (4000, 0.25000, 0.25000, 0.25000, 0.25000, 0.25000, 0.25000, 0.25000, 0.25000, 0.26533, 0.31782, 0.38055, 0.42091, 0.45542, 0.46960, 0.47879, 0.49299),
    6: (4000, 0.20412, 0.20412, 0.20412, 0.22463, 0.25427, 0.27921, 0.30087, 0.32261, 0.34428, 0.36549, 0.38847, 0.40267, 0.43721, 0.46036, 0.47840, 0.51693),
    8: (4000, 0.17678, 0.20845, 0.23401, 0.26280, 0.28334, 0.29979, 0.31420, 0.32795, 0.34137, 0.35395, 0.39905, 0.43555, 0.47109, 0.49121, 0.51133, 0.56073),
    10: (4000, 0.19655, 0.22935, 0.24709, 0.27078, 0.28552, 0.29849, 0.30929, 0.32348, 0.34848, 0.37551, 0.41195, 0.43816, 0.47476, 0.50735, 0.52579, 0.56979),
    15: (4000, 0.20732, 0.23700, 0.24931, 0.26895, 0.28962, 0.30722, 0.32436, 0.34088, 0.36015, 0.38474, 0.42356, 0.46206, 0.50174, 0.52948, 0.55239, 0.59359),
    20: (4000, 0.21191, 0.23548, 0.25345, 0.27904, 0.29800, 0.31334, 0.33057, 0.35217, 0.37242, 0.39916, 0.43935, 0.47781, 0.51745, 0.54709, 0.57062, 0.61338),
    30: (4000, 0.21744, 0.24486, 0.26101, 0.28132, 0.30149, 0.31954, 0.33730, 0.35659, 0.37929, 0.40532, 0.45101, 0.48566, 0.53223, 0.55881, 0.57984, 0.61967),
    50: (4000, 0.22276, 0.25183, 0.26983, 0.29161, 0.31181, 0.32963, 0.34768, 0.36803, 0.38963, 0.41975, 0.46019, 0.49912, 0.54100, 0.57072, 0.59225, 0.64265),
    75: (4000, 0.22155, 0.25273, 0.27071, 0.29687, 0.31573, 0.33085, 0.35090, 0.37045, 0.39367, 0.42475, 0.47036, 0.50914, 0.55473, 0.59552, 0.62400, 0.68999),
    100: (4000, 0.22793, 0.25743, 0.27472, 0.29844, 0.31758, 0.33746, 0.35609, 0.37568, 0.39855, 0.42683, 0.47242, 0.50443, 0.54843, 0.58348, 0.61036, 0.66903),
    150: (4000, 0.23195, 0.26071, 0.27612, 0.29798, 0.31901, 0.33814, 0.35673, 0.37657, 0.40152, 0.43161, 0.47594, 0.51741, 0.56898, 0.60619, 0.63071, 0.69098),
    200: (4000, 0.23099, 0.26133, 0.27951, 0.30709, 0.32620, 0.34476, 0.36371, 0.38352, 0.40806, 0.43810, 0.48426, 0.52209, 0.57220, 0.60836, 0.63578, 0.68774),
    300: (4000, 0.23469, 0.26278, 0.28216, 0.30617, 0.32604, 0.34525, 0.36715, 0.38868, 0.41185, 0.43960, 0.48466, 0.52708, 0.56764, 0.59714, 0.64679, 0.69392),
    500: (4000, 0.23923, 0.26904, 0.28469, 0.30883, 0.32834, 0.34705, 0.36615, 0.38804, 0.41329, 0.44428, 0.48799, 0.53423, 0.58612, 0.62255, 0.64256, 0.72392),
    750: (4000, 0.23745, 0.26874, 0.28813, 0.31335, 0.33336, 0.35260, 0.37258, 0.39508, 0.41967, 0.45119, 0.50108, 0.53881, 0.59238, 0.61746, 0.65976, 0.70358),
    1000: (4000, 0.24103, 0.26949, 0.28722, 0.31228, 0.33162, 0.35201, 0.37022, 0.39105, 0.41465, 0.44535, 0.49254, 0.53841, 0.58836, 0.63514, 0.66066, 0.71728),
    2000: (1200, 0.24566, 0.27166, 0.29243, 0.31691, 0.34083, 0.35727, 0.37752, 0.39704, 0.42171, 0.44952, 0.49767, 0.53748, 0.60111, 0.62610, 0.65094, 0.72808),
    5000: (1200, 0.24439, 0.26995, 0.28713, 0.31383, 0.33411, 0.35391, 0.37680, 0.39798, 0.42141, 0.45332, 0.49876, 0.54661, 0.60223, 0.64190, 0.68377, 0.74422),
})


def simulate_dip_table(ns, *, n_samples=1000, rng=None):
    """Quantiles of ``sqrt(n) * dip`` under the uniform null, by simulation.

    Parameters
    ----------
    ns : sequence of int
        Sample sizes.
    n_samples : int
        Uniform samples drawn for each size.
    rng : seed or Generator, optional

    Returns
    -------
    dict
        ``n -> (n_samples, *quantiles at the probabilities _DIP_PROBS)``.

    Notes
    -----
    The uniform law is the least favourable unimodal null for the dip
    (Hartigan and Hartigan 1985), so p-values from it are
    conservative for any unimodal law.  The stored table was made with
    ``np.random.SeedSequence(19850101).spawn(len(ns))``, one child per size.
    """
    rng = np.random.default_rng(rng)
    out = {}
    for n in ns:
        d = np.array([dip_statistic(rng.uniform(size=n)) for _ in range(n_samples)])
        out[int(n)] = (int(n_samples), *np.quantile(d * np.sqrt(n), _DIP_PROBS).tolist())
    return out


def dip_pvalue(dip: float, n: int, *, method: str = "table", n_resamples: int = 999,
               rng=None) -> float:
    """P-value of a dip under the uniform null (least favourable unimodal).

    Parameters
    ----------
    dip : float
        Observed dip of a sample of size ``n``.
    n : int
        Sample size.
    method : {"table", "simulate"}
        ``"table"`` interpolates the stored quantiles of ``sqrt(n) * dip``
        (linearly in log n and in probability; p-values beyond the 0.999
        quantile are reported as 0.001, beyond the 0.01 quantile as 0.99 or
        more); ``"simulate"`` draws ``n_resamples`` uniform samples of size
        ``n`` and returns ``(k + 1) / (n_resamples + 1)``.
    n_resamples : int
    rng : seed or Generator, optional

    Returns
    -------
    float

    Examples
    --------
    >>> p = dip_pvalue(0.05, 200)
    >>> bool(p < 0.01)
    True
    """
    if method not in ("table", "simulate"):
        raise ValueError(f"method must be 'table' or 'simulate', got {method!r}")
    _check_rng_option("n", n, low=1)
    if method == "simulate":
        _check_rng_option("n_resamples", n_resamples)
        rng = np.random.default_rng(rng)
        k = sum(dip_statistic(rng.uniform(size=n)) >= dip for _ in range(n_resamples))
        return simulated_pvalue(int(k), n_resamples)
    ns = np.array(sorted(_DIP_TABLE))
    q = np.array([_DIP_TABLE[m][1:] for m in ns])
    ln = np.log(np.clip(n, ns[0], ns[-1]))
    qn = np.array([np.interp(ln, np.log(ns), q[:, j]) for j in range(q.shape[1])])
    stat = dip * np.sqrt(n)
    cdf = np.interp(stat, qn, _DIP_PROBS, left=0.0, right=_DIP_PROBS[-1])
    return float(1.0 - cdf)


@register("turnout_dip", family="distribution", min_units=10,
          null="turnout has a unimodal distribution across stations",
          evidence=False, flag="conservative",
          why="across a country the turnout of districts is itself multimodal: "
              "clean twins of the Russian files, which keep each district's real "
              "centre, reject; within districts (groups) the uniform "
              "least-favourable null never rejects a clean election or twin, "
              "far below alpha (docs/calibration.md)",
          variants={"groups": {"groups": GROUPS}})
def turnout_dip(registered, ballots_cast, *, method="table", n_resamples=999,
                groups=None, rng=None):
    """Hartigan's dip test of unimodality of station turnout.

    Parameters
    ----------
    registered, ballots_cast : array of int
        Registered voters and ballots cast per station.
    method : {"table", "simulate"}
        How the p-value is obtained (see :func:`dip_pvalue`).
    n_resamples : int
        Uniform samples when ``method="simulate"``.
    groups : array of labels, optional
        District (or other unit) of each station.  The test then looks at
        turnout within districts: each station's logit turnout
        :math:`\\operatorname{logit}((C + 1/2) / (N + 1))` minus its
        district's median.  Districts of one station carry no within-district
        information and are left out (counted in
        ``details["singleton_groups"]``).
    rng : seed or Generator, optional
        Used only when ``method="simulate"``.

    Returns
    -------
    TestResult
        ``statistic`` is the dip (sup distance between the empirical CDF of
        turnout, or of the within-district deviations, and the closest
        unimodal CDF), ``expected`` the median dip of a uniform sample of the
        same size.

    Notes
    -----
    Null: turnout is unimodal.  The p-value uses the uniform law, the least
    favourable unimodal law (Hartigan and Hartigan 1985, Annals of
    Statistics 13(1):70-84), so it is conservative for the
    bell-shaped turnout of clean elections.  Two humps (a bulk of ordinary
    stations and a cluster near 100%) is the pattern of extreme fraud in
    the fingerprints of Klimek et al. (2012, PNAS 109:16469), but a country made of two
    kinds of region may also be bimodal without any fraud.

    With ``groups`` the question is narrower: around its own district's
    centre, is turnout unimodal?  A mixture of unimodal laws centred at the
    same point is unimodal, so districts of different spreads do not make
    deviations bimodal; a share of stations within districts pushed far
    above their neighbours (incremental or extreme fraud) does.  Geography
    between districts no longer counts.  Legitimate within-district
    bimodality exists too (e.g. hospitals or closed institutions voting in
    full beside ordinary stations): a rejection is an anomaly to explain.

    Calibration: against the uniform null it is conservative (false-alarm rate near 0 on
    clean elections, and no rejection within districts on any clean election or
    clean twin measured), while across a whole country the clean twins of the Russian files,
    which keep each district's real turnout, reject it.  It is registered as
    descriptive (``docs/calibration.md``; the battery's evidence table repeats this in
    its ``calibration`` column).

    Examples
    --------
    >>> import numpy as np
    >>> rng = np.random.default_rng(5)
    >>> reg = rng.integers(500, 2000, 2000)
    >>> rate = np.where(rng.random(2000) < 0.2, 0.95, 0.55)
    >>> res = turnout_dip(reg, rng.binomial(reg, rate))
    >>> bool(res.pvalue < 0.01)
    True

    A fifth of stations near 95% turnout beside a bulk near 55% makes two
    modes, and the dip test sees them.
    """
    a = _check(registered=registered, ballots_cast=ballots_cast)
    if method not in ("table", "simulate"):
        raise ValueError(f"method must be 'table' or 'simulate', got {method!r}")
    _check_rng_option("n_resamples", n_resamples)
    t, excluded, details = _turnout(a["registered"], a["ballots_cast"])
    if groups is not None:
        t, excluded, details = _within_group_logit(a, groups, excluded, details)
    _enough("turnout_dip", len(t), 10)
    _not_constant("turnout_dip", t, "turnout")
    d = dip_statistic(t)
    p = dip_pvalue(d, len(t), method=method, n_resamples=n_resamples, rng=rng)
    median = np.interp(np.log(np.clip(len(t), min(_DIP_TABLE), max(_DIP_TABLE))),
                       np.log(sorted(_DIP_TABLE)),
                       [_DIP_TABLE[m][1 + _DIP_PROBS.index(0.5)] for m in sorted(_DIP_TABLE)])
    return TestResult(
        test="turnout_dip", statistic=float(d), pvalue=float(p), n=len(t),
        expected=float(median / np.sqrt(len(t))),
        null="turnout is unimodal (uniform least-favourable null)"
             + (" around each group's median" if groups is not None else ""),
        params={"method": method, "n_resamples": n_resamples,
                "groups": groups is not None},
        details={"sqrt_n_dip": float(d * np.sqrt(len(t))), **details},
        excluded=excluded)


def _within_group_logit(a, groups, excluded, details):
    """Logit turnout minus its group's median, for the stations ``_turnout``
    kept that are not alone in their group; the singletons join the
    exclusions."""
    reg, cast = a["registered"], a["ballots_cast"]
    keep = np.ones(len(reg), bool)
    if excluded is not None and len(excluded):
        keep[excluded["position"].to_numpy(dtype=np.int64)] = False
    labels = np.asarray(groups)
    if labels.shape != (len(reg),):
        raise ValueError(f"groups must have one label per station ({len(reg)}), "
                         f"got shape {labels.shape}")
    codes = _label_codes(labels)
    pos = np.flatnonzero(keep)
    c = codes[pos]
    sizes = np.bincount(c, minlength=int(codes.max()) + 1 if len(codes) else 0)
    alone = sizes[c] < 2
    x = np.log((cast[pos] + 0.5) / (reg[pos] - cast[pos] + 0.5))
    pos, c, x = pos[~alone], c[~alone], x[~alone]
    n_alone = int(alone.sum())
    extra = pd.DataFrame({"position": np.flatnonzero(keep)[alone],
                          "reason": "alone in its group"})
    excluded = (pd.concat([excluded, extra], ignore_index=True)
                .sort_values("position", kind="stable", ignore_index=True)
                if excluded is not None else extra)
    details = {**details, "singleton_groups": n_alone, "excluded_alone_in_group": n_alone}
    if x.size == 0:                 # every group a single station: nothing left
        return x, excluded, {**details, "n_groups": 0}
    order = np.lexsort((x, c))
    c_s, x_s = c[order], x[order]
    starts = np.flatnonzero(np.r_[True, c_s[1:] != c_s[:-1]])
    ends = np.r_[starts[1:], len(c_s)]
    lo, hi = starts + (ends - starts - 1) // 2, starts + (ends - starts) // 2
    med = (x_s[lo] + x_s[hi]) / 2
    centred = np.empty_like(x)
    centred[order] = x_s - np.repeat(med, ends - starts)
    return centred, excluded, {**details, "n_groups": int(len(starts))}


# ------------------------------------------------------------ correlation
def _label_codes(labels):
    """Codes of ``labels`` in sorted order of the distinct labels, as
    ``numpy.unique(labels, return_inverse=True)[1]``.

    Station tables list a region's stations together, so the labels are
    compared once per run of equal labels, not once per station.
    """
    n = len(labels)
    if n == 0:
        return np.zeros(0, dtype=np.intp)
    starts = np.flatnonzero(np.r_[True, labels[1:] != labels[:-1]])
    _, run_codes = np.unique(labels[starts], return_inverse=True)
    return np.repeat(run_codes.ravel(), np.diff(np.r_[starts, n]))


def _canonical_order(reg, cast, lead, codes=None):
    """Order of the stations by group, registered, cast and leader votes
    (``numpy.lexsort`` of those keys), through one sort of a packed integer
    key when the counts fit in 63 bits.  Stations that tie agree in every
    key, so the order among them does not matter."""
    keys = [reg, cast, lead] if codes is None else [codes, reg, cast, lead]
    bits = [int(k.max()).bit_length() if len(k) else 0 for k in keys]
    if sum(bits) > 63:
        return np.lexsort(keys[::-1])
    packed = np.zeros(len(reg), dtype=np.int64)
    for k, b in zip(keys, bits):
        packed <<= b
        packed |= k.astype(np.int64)
    return np.argsort(packed)


def _clean_pairs(a, groups=None):
    reg, cast, lead = a["registered"], a["ballots_cast"], a["leader"]
    keep = (reg > 0) & (cast > 0) & (cast <= reg) & (lead <= cast)
    empty = (reg == 0) | (cast == 0)
    impossible = (reg > 0) & (cast > 0) & ((cast > reg) | (lead > cast))
    details = {"excluded_no_ballots_or_voters": int(empty.sum()),
               "excluded_impossible": int(impossible.sum())}
    # positions in the order given, before the canonical sort below
    excluded = exclusion_table({
        "no registered voters or no ballots cast": empty,
        "turnout above 100% or more leader votes than ballots": impossible})
    codes = None
    if groups is not None:
        g = np.asarray(groups, dtype=object) if not isinstance(groups, np.ndarray) else groups
        if g.ndim != 1 or len(g) != len(reg):
            raise ValueError(f"groups must be 1-d with one label per station "
                             f"({len(reg)}), got shape {np.shape(groups)}")
        # text labels cannot be missing; other kinds are checked one by one
        if g.dtype.kind not in "US" and any(
                v is None or (isinstance(v, float) and np.isnan(v)) for v in g.tolist()):
            raise ValueError("groups holds missing labels")
        # codes of all labels (text labels are used as they are: no copy),
        # then renumbered over the labels of the stations kept
        codes = _label_codes(g if g.dtype.kind == "U" else np.asarray(g).astype(str))[keep]
        present = np.bincount(codes) > 0
        if not present.all():
            codes = (np.cumsum(present) - 1)[codes]
    reg, cast, lead = reg[keep], cast[keep], lead[keep]
    # Stations in a canonical order (by group, then counts), so that neither
    # the sums nor the permutation null (drawn position by position) depend
    # on the order of the rows: permuting stations gives the same result.
    order = _canonical_order(reg, cast, lead, codes)
    return (reg[order], cast[order], lead[order],
            None if codes is None else codes[order], details, excluded)


def _centre(v, w, codes):
    """Weighted deviations from the overall mean, or from the group means."""
    if codes is None:
        return v - (w @ v) / w.sum()
    sums = np.bincount(codes, weights=w * v)
    wsum = np.bincount(codes, weights=w)
    return v - (sums / wsum)[codes]


def _weighted_r(t, s, w, codes=None):
    tc, sc = _centre(t, w, codes), _centre(s, w, codes)
    return float((w * tc * sc).sum() / np.sqrt((w * tc ** 2).sum() * (w * sc ** 2).sum()))


@register("turnout_leader_correlation", family="distribution", min_units=10,
          null="leader share does not rise with turnout across stations",
          evidence=False, flag="liberal",
          why="without districts, stations are not exchangeable across a "
              "country of different regions; with them it still rejects honest "
              "elections: Canada 2011 grouped by riding (docs/calibration.md), "
              "and more strongly in ridings won by a wide margin, so not an "
              "artefact of picking each riding's winner: within a district the "
              "leader's voters can simply turn out more",
          variants={"groups": {"groups": GROUPS}})
@single_threaded_blas
def turnout_leader_correlation(registered, ballots_cast, leader, *, weights="registered",
                               method="permutation", n_resamples=999, n_exceed=20,
                               alternative="greater", groups=None, rng=None):
    """Weighted correlation between station turnout and leader share.

    Parameters
    ----------
    registered, ballots_cast, leader : array of int
        Per station: registered voters, ballots cast, the leader's votes.
    weights : {"registered", "none"}
        Station weights of the Pearson correlation.
    method : {"permutation", "fisher"}
        Null distribution: permutations of the leader shares among stations
        (within groups if given; p-value ``(k + 1) / (n_resamples + 1)``),
        or Fisher's :math:`z = \\operatorname{atanh}(r) \\sqrt{n_\\text{eff} - G - 2}`
        with Kish's effective size :math:`n_\\text{eff} = (\\sum w)^2 / \\sum w^2`
        and :math:`G` groups (1 without groups).
    n_resamples : int
        Most permutations.
    n_exceed : int or None, default 20
        Stop permuting once this many permuted correlations are at least as
        extreme as the observed one, with the sequential p-value
        ``n_exceed / L`` after ``L`` permutations (Besag and Clifford 1991);
        ``None`` always runs ``n_resamples``.  Either way the p-value is
        valid (``P(p <= a) <= a`` under the null); stopping early only
        costs precision where the p-value is large.
    alternative : {"greater", "two-sided", "less"}
        ``"greater"`` (default): the leader does better where turnout is
        higher, the direction that ballot stuffing and the transfer of
        non-voters' ballots predict.  No fraud model predicts a negative
        correlation, which is common in clean elections (Poland 2020 and
        Czechia 2018 have within-municipality :math:`r` of -0.41 and
        -0.08); ``"two-sided"`` flags it too.
    groups : array of labels, optional
        Administrative unit of each station; pass the finest one in the
        file (district, territorial commission, municipality).  The
        correlation is then computed within groups (rates centred on their
        group's weighted means) and shares are permuted within groups only,
        so differences between units (urban and rural, ethnic areas) do
        not count as evidence.  A group of one station has centred rates
        0: it contributes nothing to :math:`r` nor to its permutations,
        and is counted in ``details["singleton_groups"]``.
        Without ``groups`` all stations are assumed exchangeable across
        the whole scope (see Notes).
    rng : seed or Generator, optional

    Returns
    -------
    TestResult
        ``statistic`` is the weighted correlation :math:`r`, expected 0;
        ``null`` says whether stations were taken as exchangeable
        within groups or across the whole scope; ``details`` hold
        ``n_groups``, ``singleton_groups`` and ``informative_groups``
        (groups of two or more stations).

    Notes
    -----
    .. math:: r = \\frac{\\sum_i w_i (t_i - \\bar t)(s_i - \\bar s)}
              {\\sqrt{\\sum_i w_i (t_i - \\bar t)^2 \\sum_i w_i (s_i - \\bar s)^2}}

    with turnout :math:`t_i = \\text{cast}_i / \\text{registered}_i`, share
    :math:`s_i = \\text{leader}_i / \\text{cast}_i` and weighted means (group
    means with ``groups``).  Stuffing and the transfer of non-voters'
    ballots raise both together (Myagkov, Ordeshook and Shakin 2009, "The
    Forensics of Election Fraud"; the fingerprints of Klimek et al. 2012).
    The sequential p-value is that of J. Besag and P. Clifford, "Sequential
    Monte Carlo p-values", Biometrika 78(2), 1991, 301-304.

    The permutations run in blocks of growing size (50, 100, 200, ... rows,
    at most about 2 million numbers), in the same order whatever the
    outcome, so a seed gives one answer.  Under the null (p uniform) stopping
    at ``h = n_exceed`` hits takes on average about
    :math:`h (1 + \\ln(B / h))` of the :math:`B` = ``n_resamples``
    permutations (98 of 999 with the defaults).

    Null and clustering.  With ``groups`` the null is that, within each
    group, the stations' leader shares are exchangeable given their
    turnout (e.g. station rates drawn independently around the group's
    centres).  Group effects of any size and any correlation between the
    groups' turnout and support are allowed: they are geography, not
    fraud.  On clean elections simulated with regions, districts and
    station heterogeneity (logit-normal; turnout and support independent
    within districts, correlated 0.7 across districts and regions; a fifth
    of the districts single stations), 200 datasets of about 1,700
    stations gave a rejection rate at 0.05 of 0.045 (``"greater"``) and
    0.035 (two-sided) with ``groups=district``, but 1.0 with
    ``groups=region`` or none: grouping at a coarser level than the one
    where turnout and support co-vary leaves that co-variation in the
    statistic.  Dependence *below* the level passed (e.g. urban and rural
    neighbourhoods of one municipality) makes the test liberal in the same
    way, so pass the finest level available.

    Without ``groups`` the null treats all stations in the scope as
    exchangeable.  A country is a mixture of units whose turnout and
    support differ; even when they are unrelated in law, their realised
    correlation across units is far from 0, and the test rejects on most
    clean simulated elections (``docs/calibration.md``).  This behaviour
    is kept (it is the classic station-level test) but is not evidence.

    Calibration on real data: with ``groups`` = districts it holds its size
    on clean twins of the Russian files, but an honestly counted election
    rejects it (Canada 2011 grouped by riding, where the leader is each
    riding's winner; ``docs/calibration.md``).  Dependence below
    the finest level in the file cannot be removed, so the test is
    registered as descriptive, grouped or not.

    What a correlation can and cannot show.  A positive within-group
    correlation is what stuffing predicts, but legitimate mobilisation
    predicts it too: a popular local candidate or an effective campaign
    raises turnout and support in the same stations.  A small p-value is
    evidence that needs explaining, not proof of fraud; the station-level
    follow-ups (fingerprint, spikes, integer percentages) and the ground
    facts decide between the explanations.

    Examples
    --------
    >>> from audit.simulate import clean_election, ballot_stuffing
    >>> t = ballot_stuffing(clean_election(2000, rng=1), share=0.2, amount=0.1, rng=2)
    >>> d = t.data
    >>> res = turnout_leader_correlation(d.registered.to_numpy(int),
    ...     d.ballots_cast.to_numpy(int), d.leader.to_numpy(int),
    ...     groups=d.region.to_numpy(), rng=3)
    >>> bool(res.statistic > 0 and res.pvalue < 0.01)
    True

    Within regions, stuffed stations have both higher turnout and a higher
    leader share.
    """
    a = _check(registered=registered, ballots_cast=ballots_cast, leader=leader)
    if weights not in ("registered", "none"):
        raise ValueError(f"weights must be 'registered' or 'none', got {weights!r}")
    if method not in ("permutation", "fisher"):
        raise ValueError(f"method must be 'permutation' or 'fisher', got {method!r}")
    if alternative not in ("two-sided", "greater", "less"):
        raise ValueError(f"alternative must be 'two-sided', 'greater' or 'less', "
                         f"got {alternative!r}")
    _check_rng_option("n_resamples", n_resamples)
    if n_exceed is not None:
        _check_rng_option("n_exceed", n_exceed)
    reg, cast, lead, codes, details, excluded = _clean_pairs(a, groups)
    _enough("turnout_leader_correlation", len(reg), 10)
    t, s = cast / reg, lead / cast
    _not_constant("turnout_leader_correlation", t, "turnout")
    _not_constant("turnout_leader_correlation", s, "leader share")
    w = reg if weights == "registered" else np.ones_like(reg)
    tc = _centre(t, w, codes)
    if not (w * tc ** 2).sum() > 0 or not (w * _centre(s, w, codes) ** 2).sum() > 0:
        raise NotApplicable("turnout_leader_correlation: no variation within groups")
    r = _weighted_r(t, s, w, codes)
    n_groups = 1 if codes is None else int(codes.max()) + 1
    n_eff = float(w.sum() ** 2 / (w ** 2).sum())
    if method == "fisher":
        z = np.arctanh(np.clip(r, -1 + 1e-15, 1 - 1e-15)) * np.sqrt(max(n_eff - n_groups - 2, 1))
        p = {"two-sided": 2 * stats.norm.sf(abs(z)), "greater": stats.norm.sf(z),
             "less": stats.norm.cdf(z)}[alternative]
        details.update(z=float(z))
    else:
        rng = np.random.default_rng(rng)
        # work with the stations sorted by group, so that each group is one
        # block of columns whose shares are shuffled among themselves
        n = len(s)
        order = np.arange(n) if codes is None else np.argsort(codes, kind="stable")
        cs = np.zeros(n, np.int64) if codes is None else codes[order]
        starts = np.flatnonzero(np.r_[True, cs[1:] != cs[:-1]])
        blocks = list(zip(starts, np.r_[starts[1:], n]))
        w_s = w[order]
        wtc_s = (w * tc)[order]
        wsum_g = np.add.reduceat(w_s, starts)
        var_t = float((w * tc ** 2).sum())
        # shares re-centred on their (group) weighted mean
        sc_s = _centre(s, w, codes)[order]
        done = k = 0
        p = None
        chunk = max(1, min(n_resamples, 2_000_000 // n))
        # two buffers reused by every block of permutations (fresh arrays
        # of this size cost page faults each time)
        buf_s = np.empty((chunk, n))
        buf_t = np.empty((chunk, n))
        shuffled = [(lo, hi) for lo, hi in blocks if hi - lo > 1]
        eps = 1e-12
        size = 50
        while done < n_resamples:
            m = min(chunk, size, n_resamples - done)
            size *= 2
            S, T = buf_s[:m], buf_t[:m]
            S[...] = sc_s
            for lo, hi in shuffled:
                rng.permuted(S[:, lo:hi], axis=1, out=S[:, lo:hi])
            # turnout is centred within groups (sum of w * tc is 0 in each),
            # so the permuted shares' group means drop out of the numerator;
            # the denominator uses sum w (S - mean)^2 = sum w S^2 - sum W_g mean_g^2
            means = np.add.reduceat(np.multiply(S, w_s, out=T), starts, axis=1) / wsum_g
            var_s = np.multiply(S, S, out=T) @ w_s - (means * means) @ wsum_g
            null = (S @ wtc_s) / np.sqrt(var_t * var_s)
            hit = {"two-sided": np.abs(null) >= abs(r) - eps,
                   "greater": null >= r - eps, "less": null <= r + eps}[alternative]
            total = k + np.cumsum(hit)
            if n_exceed is not None and total[-1] >= n_exceed:
                at = int(np.argmax(total >= n_exceed))      # the n_exceed-th hit
                done += at + 1
                k = int(n_exceed)
                p = k / done
                break
            k, done = int(total[-1]), done + m
        if p is None:
            p = simulated_pvalue(k, n_resamples)
        details.update(permutations=done, exceedances=k, stopped_early=done < n_resamples)
    sizes = np.bincount(codes) if codes is not None else np.array([len(t)])
    details.update(n_eff=n_eff, n_groups=n_groups,
                   singleton_groups=int((sizes == 1).sum()),
                   informative_groups=int((sizes > 1).sum()))
    return TestResult(
        test="turnout_leader_correlation", statistic=r, pvalue=float(p), n=len(t),
        expected=0.0,
        null="leader share is unrelated to turnout"
             + (" within groups (stations exchangeable within each group)"
                if codes is not None else
                " (stations assumed exchangeable across the whole scope)"),
        params={"weights": weights, "method": method, "n_resamples": n_resamples,
                "n_exceed": n_exceed, "alternative": alternative,
                "groups": codes is not None},
        details=details, excluded=excluded)


# ------------------------------------------------------------ regression
@register("sobyanin_sukhovolsky", family="distribution", min_units=10,
          null="leader votes per registered voter grow with turnout at the "
               "leader's overall share",
          evidence=False, flag="liberal",
          why="rejects honest elections even within districts with a "
              "cluster-robust variance: Canada 2011 grouped by riding "
              "(docs/calibration.md); "
              "a slope above the leader's share is also what legitimate "
              "mobilisation of the leader's voters produces",
          variants={"groups": {"groups": GROUPS}})
@single_threaded_blas
def sobyanin_sukhovolsky(registered, ballots_cast, leader, *, alternative="greater",
                         confidence=0.95, groups=None, variance="cluster", rng=None):
    """Sobyanin-Sukhovolsky regression of leader votes on turnout.

    Parameters
    ----------
    registered, ballots_cast, leader : array of int
        Per station: registered voters, ballots cast, the leader's votes.
    alternative : {"greater", "two-sided", "less"}
        ``"greater"`` (default): the slope exceeds the leader's overall
        share, as when added ballots go to the leader.
    confidence : float
        Level of the slope's interval.
    groups : array of labels, optional
        Administrative unit of each station (pass the finest in the file:
        district, territorial commission, municipality): the regression
        then has one intercept per group (within-group slope) and the null
        share is the average of the groups' shares with the slope's own
        weights.  A group of one station has no within-group turnout
        variation and gets coefficient 0 (counted in
        ``details["singleton_groups"]``).  Without ``groups`` all stations
        are assumed exchangeable across the whole scope.
    variance : {"cluster", "station"}
        Null variance of :math:`D = b - \\bar s` with ``groups``:
        ``"cluster"`` (default) sums the squared group contributions and
        refers :math:`z` to Student's t with (groups of two or more
        stations - 1) degrees of freedom; ``"station"`` sums squared station
        terms and uses the normal law (the only choice without groups).
    rng : ignored
        Accepted for the registry contract; the test is deterministic.

    Returns
    -------
    TestResult
        ``statistic`` is the slope :math:`b`; ``expected`` the share it
        should equal under the null; ``details`` hold the intercept, the
        interval of the slope (``ci_low``, ``ci_high``), ``z``,
        ``excess_slope`` :math:`b - \\bar s`, ``overall_share``,
        ``n_groups``, ``singleton_groups``, ``informative_groups`` and
        (cluster variance) ``df``.

    Notes
    -----
    Sobyanin and Sukhovolsky (1995; summarised in Myagkov, Ordeshook and
    Shakin 2009, "The Forensics of Election Fraud", Cambridge UP) regress the
    leader's votes per registered voter :math:`y_i = L_i / N_i` on turnout
    :math:`x_i = C_i / N_i` by least squares, :math:`y_i = a + b x_i + e_i`.
    If each voter who turns out picks the leader with a probability
    unrelated to turnout, :math:`y_i = s_i x_i` with :math:`E s_i = \\bar s`,
    so :math:`b = \\bar s`; every ballot added for the leader raises both
    :math:`x` and :math:`y` by :math:`1/N_i`, pulling :math:`b` towards 1.

    Null: :math:`b = \\bar s`, the overall share :math:`\\sum L / \\sum C`.
    Because :math:`b = \\sum_i a_i s_i` with
    :math:`a_i = (x_i - \\bar x) x_i / S_{xx}` and
    :math:`\\bar s = \\sum_i c_i s_i` with :math:`c_i = C_i / \\sum C`,
    :math:`D = b - \\bar s = \\sum_i (a_i - c_i) s_i` has mean 0 under the
    null and, given turnout and sizes, variance
    :math:`\\sum_i (a_i - c_i)^2 \\operatorname{var}(s_i)`, estimated by
    :math:`\\sum_i (a_i - c_i)^2 (s_i - \\bar s)^2`; :math:`z = D / \\text{se}`
    is referred to the normal law.  With ``groups``, :math:`\\bar x` is the
    group mean, :math:`c_i = (S_{xx,g} / S_{xx}) C_i / C_g` and
    :math:`\\bar s` the group share, so the coefficients sum to zero within
    each group and regional differences in support cancel.  The interval of
    :math:`b` uses the heteroskedasticity-robust (HC0) standard error.

    Clustering.  Since the coefficients sum to zero in each group, any
    group effect on support cancels from :math:`D`, and
    :math:`D = \\sum_g D_g` with :math:`D_g = \\sum_{i \\in g} (a_i - c_i)
    (s_i - \\bar s_g)` of mean 0 in every group under the null.  The
    station-level estimate :math:`\\sum_i (a_i - c_i)^2 (s_i - \\bar s_g)^2`
    assumes independent stations inside a group and loses a degree of
    freedom per group to :math:`\\bar s_g`: with many groups of two or
    three stations it is too small (on the clustered simulation below,
    two-sided rejection rate 0.075 at 0.05).  The cluster estimate
    :math:`\\sum_g D_g^2` is unbiased for :math:`\\operatorname{var} D`
    whatever the dependence inside a group, and needs no residual degrees
    of freedom; with few groups it is noisy, hence the t reference, and
    :math:`|z| \\le \\sqrt{G}`, so with a handful of groups the p-value
    cannot be small.  Measured on 200 clean elections simulated with
    regions, districts and station heterogeneity (logit-normal; turnout
    and support independent within districts, correlated 0.7 across
    districts and regions; about 1,700 stations, a fifth of the districts
    single stations), ``groups=district``: rejection rate at 0.05 of 0.050
    (``"greater"``) and 0.050 (two-sided), against 1.0 with
    ``groups=region`` or none.  Grouping coarser than the level at which
    turnout and support co-vary leaves that co-variation in :math:`b`;
    pass the finest level in the file.

    Without ``groups`` stations are treated as independent and
    exchangeable across the whole scope: units whose support and turnout
    happen to move together make the test liberal on clean elections
    (``docs/calibration.md``).  The behaviour is kept, but is not evidence.

    Calibration on real data: grouped by district it holds its size on clean
    twins of the Russian files, but rejects an honestly counted election
    (Canada 2011 by riding; ``docs/calibration.md``): it is
    registered as descriptive, grouped or not.

    What the slope can and cannot show.  A within-group slope above the
    share is what added ballots for the leader predict, but also what
    legitimate mobilisation predicts (a local favourite raising turnout
    among his own voters).  A small p-value is a pattern to explain, not
    proof of fraud.  A slope *below* the share, common in clean elections,
    is not flagged by the default one-sided test.

    Examples
    --------
    >>> from audit.simulate import clean_election, ballot_stuffing
    >>> clean = clean_election(3000, rng=1)
    >>> args = lambda t: (t.data.registered.to_numpy(int),
    ...                   t.data.ballots_cast.to_numpy(int), t.data.leader.to_numpy(int))
    >>> regions = clean.data.region.to_numpy()
    >>> res = sobyanin_sukhovolsky(*args(clean), groups=regions)
    >>> bool(res.details["ci_low"] < res.expected < res.details["ci_high"])
    True
    >>> stuffed = ballot_stuffing(clean, share=0.2, amount=0.1, rng=2)
    >>> res2 = sobyanin_sukhovolsky(*args(stuffed), groups=regions)
    >>> bool(res2.statistic > res2.expected and res2.pvalue < 0.01)
    True

    In the clean election the within-region slope matches the leader's
    share; after stuffing each extra ballot counts for the leader and the
    slope rises.
    """
    a = _check(registered=registered, ballots_cast=ballots_cast, leader=leader)
    if alternative not in ("two-sided", "greater", "less"):
        raise ValueError(f"alternative must be 'two-sided', 'greater' or 'less', "
                         f"got {alternative!r}")
    if not (isinstance(confidence, float) and 0 < confidence < 1):
        raise ValueError(f"confidence must be a float in (0, 1), got {confidence!r}")
    if variance not in ("cluster", "station"):
        raise ValueError(f"variance must be 'cluster' or 'station', got {variance!r}")
    reg, cast, lead, codes, details, excluded = _clean_pairs(a, groups)
    _enough("sobyanin_sukhovolsky", len(reg), 10)
    x, y = cast / reg, lead / reg
    _not_constant("sobyanin_sukhovolsky", x, "turnout")
    s = lead / cast
    one = np.ones_like(x)
    xc = _centre(x, one, codes)
    sxx = float(xc @ xc)
    if sxx == 0:
        raise NotApplicable("sobyanin_sukhovolsky: turnout does not vary within groups")
    slope = float(xc @ y) / sxx
    yc = _centre(y, one, codes)
    resid = yc - slope * xc
    intercept = float(y.mean() - slope * x.mean())
    se_b = float(np.sqrt(((xc / sxx) ** 2 * resid ** 2).sum()))
    overall = float(lead.sum() / cast.sum())
    if codes is None:
        c = cast / cast.sum()
        s_ref = np.full_like(s, overall)
        share = overall
    else:
        sxx_g = np.bincount(codes, weights=xc ** 2)
        cast_g = np.bincount(codes, weights=cast)
        lead_g = np.bincount(codes, weights=lead)
        c = (sxx_g / sxx)[codes] * cast / cast_g[codes]
        s_ref = (lead_g / cast_g)[codes]
        share = float(((sxx_g / sxx) * lead_g / cast_g).sum())
    coef = xc * x / sxx - c
    terms = coef * (s - s_ref)
    if codes is None or variance == "station":
        se_d = float(np.sqrt((terms ** 2).sum()))
    else:
        # D = sum_g D_g with E D_g = 0 in every group under the null: the
        # sum of the squared group terms is unbiased for var D whatever the
        # dependence inside a group (no residual degrees of freedom lost)
        d_g = np.bincount(codes, weights=terms)
        se_d = float(np.sqrt((d_g ** 2).sum()))
    if se_d == 0:
        raise NotApplicable("sobyanin_sukhovolsky: every station has its group's "
                            "leader share; the slope's null variance is zero")
    z = (slope - share) / se_d
    n_groups = 1 if codes is None else int(codes.max()) + 1
    sizes = None if codes is None else np.bincount(codes)
    informative = n_groups if codes is None else int((sizes > 1).sum())
    if codes is not None and variance == "cluster":
        if informative < 2:
            raise NotApplicable("sobyanin_sukhovolsky: the cluster-robust variance "
                                "needs at least two groups with two or more stations")
        ref = stats.t(informative - 1)
        details.update(df=informative - 1)
    else:
        ref = stats.norm
    p = {"two-sided": 2 * ref.sf(abs(z)), "greater": ref.sf(z),
         "less": ref.cdf(z)}[alternative]
    zc = stats.norm.ppf(0.5 + confidence / 2)
    details.update(intercept=intercept, se=se_b, ci_low=slope - zc * se_b,
                   ci_high=slope + zc * se_b, z=float(z), se_null=se_d,
                   excess_slope=slope - share, overall_share=overall,
                   n_groups=n_groups,
                   singleton_groups=0 if codes is None else int((sizes == 1).sum()),
                   informative_groups=informative)
    return TestResult(
        test="sobyanin_sukhovolsky", statistic=slope, pvalue=float(p), n=len(x),
        expected=share,
        null="slope of leader votes per voter on turnout equals the leader's share"
             + (" within groups (stations exchangeable within each group)"
                if codes is not None else
                " (stations assumed exchangeable across the whole scope)"),
        params={"alternative": alternative, "confidence": confidence,
                "groups": codes is not None,
                "variance": variance if codes is not None else "station"},
        details=details, excluded=excluded)
