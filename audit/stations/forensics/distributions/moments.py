"""Skewness and kurtosis of station turnout and leader share (D'Agostino's
tests), descriptive: a normal-theory null does not fit the mixtures of
regions that real elections are.
"""

from __future__ import annotations

from ...registry import register
from ._common import _check, _moment_test, _share, _turnout


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
          leaves_out=("leader_over_cast", "cast_over_registered"),
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
    >>> from audit.stations.simulate import clean_election
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
          leaves_out=("leader_over_cast", "cast_over_registered"),
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
    >>> from audit.stations.simulate import clean_election, klimek_fraud
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
          leaves_out=("leader_over_cast", "cast_over_registered"),
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
          leaves_out=("leader_over_cast", "cast_over_registered"),
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
