"""Hartigan's dip test of unimodality (Hartigan and Hartigan 1985) and the
dip test of station turnout.
"""

from __future__ import annotations

import numpy as np

from ...registry import GROUPS, register
from ...result import TestResult, simulated_pvalue
from ._common import (_check, _check_rng_option, _enough, _not_constant, _turnout,
                      _within_group_logit)


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
          leaves_out=("leader_over_cast", "cast_over_registered"),
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
