"""Last-digit tests: the last digit of vote counts and of ballots cast, and
counts or percentages ending in 0 or 5 (Beber and Scacco 2012;
Kobak, Shpilkin and Pshenichnikov 2016 for the percentages).
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd

from ...registry import register
from ...result import TestResult, exclusion_table
from .._digit_law import residue_probabilities
from .._validation import as_counts
from .._poisson_binomial import count_result
from ..integer_percentages import integer_probabilities
from ._common import (_binomial_result, _check_null, _check_options, _chisquare, _details,
                      _digit_table, _enough, _generalised_chisquare, _params, _pool)


LAST_NULL = ("the last digit of each count is that of a binomial redraw of "
             "the count (its station's total, its own share) given that the "
             "redraw is at least 1, as every count tested is; counts whose "
             "expected count is at least min_count")

LAST_CLASSICAL = "last digits of the counts are uniform on 0-9"


@register("last_digit", family="digits", min_units=50, null=LAST_NULL,
          leaves_out=("missing",),
          evidence=True)
def last_digit(votes, *, min_count=100, min_units=50, null="binomial",
               n_resamples=10000, rng=None):
    """Uniformity of the last digit of vote counts.

    Parameters
    ----------
    votes : array_like
        Vote counts (stations x options, pooled).
    min_count : int, default 100
        Under the binomial null, counts whose expected count (station total
        times the option's overall share) is below this are left out; under
        the classical null, counts below it.  The last digit of small counts
        is not uniform (a count of 7 has last digit 7 for sure); Beber &
        Scacco (2012, Sec. 2) show near-uniformity once counts have three
        digits.
    min_units : int, default 50
        Fewer usable counts than this raises NotApplicable.
    n_resamples : int, default 10000
        Multinomial simulations used when some expected count is below 5.
    rng : None, int or numpy.random.Generator
        Seed for those simulations.

    Returns
    -------
    TestResult
        ``statistic`` is the chi-square statistic (the generalised one
        under the binomial null; degrees of freedom in ``details["df"]``);
        ``table`` holds observed and expected counts per digit.

    Notes
    -----
    Binomial null: count :math:`i` has law :math:`P_i(d) = P(X_i \\equiv d
    \\bmod 10)` with :math:`X_i \\sim \\mathrm{Bin}(n_i, c_i / n_i)`, computed
    exactly from the characteristic function; with :math:`E = \\sum_i P_i`
    and :math:`\\Sigma = \\sum_i (\\mathrm{diag}\\,P_i - P_i P_i^\\top)`, the
    statistic is :math:`(O - E)^\\top \\Sigma^{+} (O - E)`, chi-square with
    the rank of :math:`\\Sigma` degrees of freedom.  Classical null:
    :math:`X^2 = \\sum_{d=0}^{9} (O_d - n/10)^2 / (n/10)`, chi-square with 9
    degrees of freedom (Beber & Scacco 2012, Sec. 3).

    References
    ----------
    Beber, B. and Scacco, A. (2012). What the numbers say: a digit-based
    test for election fraud. *Political Analysis* 20(2), 211-234.

    Examples
    --------
    Binomial vote counts in the hundreds have uniform last digits:

    >>> rng = np.random.default_rng(3)
    >>> counts = rng.binomial(rng.integers(500, 3000, size=3000), 0.4)
    >>> bool(last_digit(counts).pvalue > 0.01)
    True

    If a tenth of them were rounded to a multiple of ten, zeros pile up:

    >>> counts[:300] = np.round(counts[:300], -1)
    >>> bool(last_digit(counts).pvalue < 1e-6)
    True
    """
    _check_options(min_count=min_count, min_units=min_units,
                   n_resamples=n_resamples)
    _check_null(null, "uniform")
    c, law, used, note = _pool(votes, min_count, null, "uniform", "last_digit",
                               min_units)
    observed = np.bincount(c % 10, minlength=10)
    if law is None:
        probs = np.full(10, 0.1)
        stat, pval, how = _chisquare(observed, probs, n_resamples, rng)
        df, null_text = 9, LAST_CLASSICAL
    else:
        per_count = residue_probabilities(law[0], law[1], law[2], 10,
                                          np.eye(10))
        stat, pval, how, df = _generalised_chisquare(observed, per_count,
                                                     n_resamples, rng)
        probs = per_count.sum(axis=0) / c.size
        null_text = LAST_NULL
    return TestResult(test="last_digit", statistic=stat, pvalue=pval,
                      n=int(c.size), expected=float(df), null=null_text,
                      params=_params(used, min_count=min_count,
                                     min_units=min_units,
                                     n_resamples=n_resamples),
                      details=_details(note, pvalue_method=how, df=df),
                      table=_digit_table(observed, probs, np.arange(10)))


C05_NULL = ("each count ends in 0 or 5 with the probability that a binomial "
            "redraw of it (its station's total, its own share), given that the "
            "redraw is at least 1, does; counts whose expected count is at "
            "least min_count")

C05_CLASSICAL = "a count ends in 0 or 5 with probability 0.2"


@register("count_05", family="digits", min_units=50, null=C05_NULL,
          leaves_out=("missing",),
          evidence=True)
def count_05(votes, *, min_count=100, min_units=50, alternative="greater",
             null="binomial", rng=None):
    """Share of vote counts ending in 0 or 5 (Mebane's C05s).

    Parameters
    ----------
    votes : array_like
        Vote counts (stations x options, pooled).
    min_count : int, default 100
        Counts below this are left out (their last digit is not uniform).
    min_units : int, default 50
        Fewer usable counts than this raises NotApplicable.
    alternative : {"greater", "two-sided", "less"}
        Direction of the test.  Default ``"greater"``: only an excess of
        round endings, the direction of numbers written to round values,
        counts (Beber and Scacco 2012).
    rng : None
        Unused (exact test); kept for the registry.

    Returns
    -------
    TestResult
        ``statistic`` is the share ending in 0 or 5, ``expected`` 0.2;
        ``details`` has the number of such counts and a 95% interval.

    Notes
    -----
    With uniform last digits the number *H* of the *n* counts ending in 0
    or 5 is :math:`\\mathrm{Bin}(n, 0.2)`; the p-value is the exact
    binomial tail (Mebane 2006; Kalinin & Mebane 2011 call the share C05s).

    References
    ----------
    Kalinin, K. and Mebane, W. R. (2011). Understanding electoral frauds
    through evolution of Russian federalism. Annual Meeting of the Midwest
    Political Science Association.

    Examples
    --------
    >>> rng = np.random.default_rng(4)
    >>> counts = rng.binomial(rng.integers(500, 3000, size=2000), 0.5)
    >>> res = count_05(counts)
    >>> bool(abs(res.statistic - 0.2) < 0.03 and res.pvalue > 0.01)
    True
    """
    _check_options(min_count=min_count, min_units=min_units,
                   alternative=alternative)
    _check_null(null, "uniform")
    c, law, used, note = _pool(votes, min_count, null, "uniform", "count_05",
                               min_units)
    hits = int(np.sum(c % 5 == 0))
    params = _params(used, min_count=min_count, min_units=min_units,
                     alternative=alternative)
    labels = ["ends in 0 or 5", "other"]
    if law is None:
        return _binomial_result("count_05", hits, c.size, 0.2, alternative,
                                C05_CLASSICAL, params, _details(note), labels)
    ends = np.zeros((1, 10))
    ends[0, [0, 5]] = 1
    probs = residue_probabilities(law[0], law[1], law[2], 10, ends)[:, 0]
    return count_result("count_05", hits, probs, alternative,
                                    C05_NULL, params, _details(note), labels)


P05_NULL = ("each station's rounded leader percentage ends in 0 or 5 with "
            "the probability that a binomial redraw of the leader's votes "
            "(ballots cast, the station's own share) has")

P05_CLASSICAL = ("the leader's rounded percentage ends in 0 or 5 with "
                 "probability 0.2")


@register("percent_05", family="digits", min_units=50, null=P05_NULL,
          leaves_out=("missing", "leader_over_cast"),
          evidence=True)
def percent_05(ballots_cast, leader, *, min_ballots=100, min_units=50,
               alternative="greater", null="binomial", rng=None):
    """Share of stations whose leader percentage ends in 0 or 5 (P05s).

    Parameters
    ----------
    ballots_cast, leader : array_like of int
        Ballots cast and the leader's votes, one value per station.
        Stations where either is missing (NaN), or with more leader votes
        than ballots cast (an impossible figure), are left out and counted
        in ``details["excluded"]`` (the impossible ones also in
        ``details["excluded_leader_over_ballots"]``).
    min_ballots : int, default 100
        Stations with fewer ballots cast are left out: with few ballots
        only a handful of percentages can occur at all.
    min_units : int, default 50
        Fewer usable stations than this raises NotApplicable.
    alternative : {"greater", "two-sided", "less"}
        Direction of the test.  Default ``"greater"``: only an excess of
        percentages ending in 0 or 5, the direction of results written to
        round targets, counts.
    rng : None
        Unused (exact test); kept for the registry.

    Returns
    -------
    TestResult
        ``statistic`` is the share of stations whose percentage, rounded to
        a whole number, ends in 0 or 5; ``expected`` is 0.2.

    Notes
    -----
    The percentage :math:`100 L / C` is rounded half up to a whole number
    with integer arithmetic.  If its last digit is uniform, the number of
    stations ending in 0 or 5 is :math:`\\mathrm{Bin}(n, 0.2)` (Kalinin &
    Mebane 2011, P05s).  The uniformity assumption needs percentages spread
    over many points; with a tightly clustered leader share the expected
    share can differ from 0.2 even in a clean election.

    References
    ----------
    Kalinin, K. and Mebane, W. R. (2011). Understanding electoral frauds
    through evolution of Russian federalism.

    Examples
    --------
    >>> rng = np.random.default_rng(5)
    >>> cast = rng.integers(300, 3000, size=3000)
    >>> leader = rng.binomial(cast, rng.uniform(0.2, 0.8, size=3000))
    >>> bool(percent_05(cast, leader).pvalue > 0.01)
    True
    """
    return _percent_05("percent_05", ballots_cast, leader, ("ballots_cast", "leader"),
                       min_ballots, min_units, alternative, null,
                       ("ballots cast", "more leader votes than ballots",
                        "excluded_leader_over_ballots"), P05_NULL, P05_CLASSICAL,
                       {"min_ballots": min_ballots})


def _percent_05(test, whole, part, names, min_whole, min_units, alternative, null,
                words, null_text, classical_text, extra_params, max_share=None,
                share_name="share"):
    """Stations whose percentage ``100 part / whole`` rounds to a multiple of
    5, against the per-station binomial law (``percent_05`` and
    ``turnout_percent_05``).  ``words`` = (what ``whole`` counts, the reason
    for ``part > whole``, its details key); stations whose ``part / whole``
    is above ``max_share`` (when given) are left out."""
    _check_options(min_count=min_whole, min_units=min_units, alternative=alternative)
    _check_null(null, "uniform")
    if max_share is not None and not (isinstance(max_share, (int, float))
                                      and not isinstance(max_share, bool)
                                      and 0 < max_share <= 1):
        raise ValueError(f"max_share must be a number in (0, 1] or None, got {max_share!r}")
    whole_name, part_name = names
    n_all = as_counts(whole_name, whole, missing="keep")
    k_all = as_counts(part_name, part, missing="keep")
    if n_all.size != k_all.size:
        raise ValueError(f"{whole_name} and {part_name} must have the same length, "
                         f"got {n_all.size} and {k_all.size}")
    what, over_reason, over_key = words
    missing = ~(np.isfinite(n_all) & np.isfinite(k_all))
    ok = ~missing & (n_all >= max(min_whole, 1))
    small = ~missing & ~ok
    # a part above the whole is impossible (a finding of the reader): such
    # stations have no percentage to test and are counted, not used
    over = ok & (k_all > n_all)
    ok &= ~over
    reasons = {"missing count": missing, f"fewer than {max(min_whole, 1)} {what}": small,
               over_reason: over}
    if max_share is not None:
        high = ok & (k_all > max_share * n_all)
        ok &= ~high
        reasons[f"{share_name} above {100 * max_share:g}%"] = high
    # one row per station left out (their total is details["excluded"])
    excluded = exclusion_table(reasons)
    c = n_all[ok].astype(np.int64)
    v = k_all[ok].astype(np.int64)
    _enough(c, test, min_units, f"stations with >= {min_whole} {what}")
    pct = (200 * v + c) // (2 * c)          # round half up of 100 v / c
    hits = int(np.sum(pct % 5 == 0))
    params = _params(null, **extra_params, min_units=min_units, alternative=alternative)
    details = {"excluded": int((~ok).sum()), over_key: int(over.sum())}
    if max_share is not None:
        details["excluded_above_max_share"] = int(high.sum())
    labels = ["ends in 0 or 5", "other"]
    if null == "uniform":
        return _binomial_result(test, hits, c.size, 0.2, alternative,
                                classical_text, params, details, labels,
                                excluded=excluded)
    # 100 X / C rounds half up to a multiple of 5 exactly when it lies in
    # [5m - 0.5, 5m + 0.5): integer_percentages' window 1, period 5
    probs = integer_probabilities(c, v, window=1.0, period=5.0)
    return count_result(test, hits, probs, alternative, null_text,
                                    params, details, labels, excluded=excluded)


TP05_NULL = ("each station's rounded turnout percentage ends in 0 or 5 with the "
             "probability that a binomial redraw of its ballots cast (registered "
             "voters, the station's own turnout) has; stations at or below "
             "max_share turnout")

TP05_CLASSICAL = "the rounded turnout percentage ends in 0 or 5 with probability 0.2"


@register("turnout_percent_05", family="digits", min_units=50, null=TP05_NULL,
          leaves_out=("missing", "cast_over_registered"),
          evidence=True)
def turnout_percent_05(registered, ballots_cast, *, min_registered=100, max_share=0.99,
                       min_units=50, alternative="greater", null="binomial", rng=None):
    """Share of stations whose turnout percentage ends in 0 or 5.

    The turnout counterpart of :func:`percent_05`: turnout reported to
    targets such as 70%, 75% or 80% piles up at multiples of five.

    Parameters
    ----------
    registered, ballots_cast : array_like of int
        Registered voters and ballots cast, one value per station.
        Stations where either is missing (NaN), or with more ballots than
        registered voters (an impossible figure, kept by the reader as a
        finding), are left out and counted in ``details["excluded"]`` (the
        impossible ones also in ``details["excluded_cast_over_registered"]``).
    min_registered : int, default 100
        Stations with fewer registered voters are left out: with few voters
        only a handful of percentages can occur at all.
    max_share : float, default 0.99
        Stations whose turnout is above this are left out, as in the
        integer-percentage test (Kobak et al. 2016): near 100% a round
        value is forced, and the binomial law of a station at 100% is a
        point, a hit by construction.  Kept, such stations make the test
        conservative on clean twins of the Russian files, where many
        stations report (nearly) full turnout (the false-alarm rates are in
        ``docs/calibration.md``).  ``None`` keeps every station.
    min_units : int, default 50
        Fewer usable stations than this raises NotApplicable.
    alternative : {"greater", "two-sided", "less"}
        Direction of the test.  Default ``"greater"``: the direction of
        turnout written to round targets.
    null : {"binomial", "uniform"}
        ``"binomial"``: each station's own law (see Notes); ``"uniform"``:
        probability 0.2 for every station.
    rng : None
        Unused (exact test); kept for the registry.

    Returns
    -------
    TestResult
        ``statistic`` is the share of stations whose turnout percentage,
        rounded half up to a whole number, ends in 0 or 5; ``expected`` the
        share the null expects.

    Notes
    -----
    Station :math:`i` has :math:`C_i` ballots cast of :math:`N_i` registered.
    Under the null its hit probability is
    :math:`q_i = P(100 X / N_i \\in [5m - 1/2, 5m + 1/2)` for some integer
    :math:`m)` with :math:`X \\sim \\mathrm{Bin}(N_i, C_i / N_i)`, computed
    exactly as the integer-percentage test computes its own (Kobak,
    Shpilkin and Pshenichnikov 2016), and the number of hits is
    Poisson-binomial with these probabilities.  The classical version (Kalinin
    and Mebane 2011, P05s, applied there to vote shares) uses
    :math:`q_i = 0.2`.

    Calibration: registered as evidence; its false-alarm rate on the honestly
    counted elections and clean twins is in ``docs/calibration.md``.

    References
    ----------
    Kalinin, K. and Mebane, W. R. (2011). Understanding electoral frauds
    through evolution of Russian federalism.
    Kobak, D., Shpilkin, S. and Pshenichnikov, M. S. (2016). Integer
    percentages as electoral falsification fingerprints. *Annals of Applied
    Statistics* 10(1), 54-73.

    Examples
    --------
    >>> rng = np.random.default_rng(5)
    >>> reg = rng.integers(300, 3000, size=3000)
    >>> cast = rng.binomial(reg, rng.uniform(0.4, 0.8, size=3000))
    >>> bool(turnout_percent_05(reg, cast).pvalue > 0.01)
    True

    Now a tenth of the stations report turnout written to 75%:

    >>> cast[:300] = np.round(0.75 * reg[:300]).astype(int)
    >>> bool(turnout_percent_05(reg, cast, alternative="greater").pvalue < 1e-6)
    True
    """
    return _percent_05("turnout_percent_05", registered, ballots_cast,
                       ("registered", "ballots_cast"), min_registered, min_units,
                       alternative, null,
                       ("registered voters", "more ballots than registered voters",
                        "excluded_cast_over_registered"), TP05_NULL, TP05_CLASSICAL,
                       {"min_registered": min_registered, "max_share": max_share},
                       max_share=max_share, share_name="turnout")


TLAST_NULL = ("the last digit of each station's ballots cast is that of a binomial "
              "redraw (registered voters, the station's own turnout); stations "
              "whose expected count is at least min_count")

TLAST_CLASSICAL = "last digits of the ballots cast are uniform on 0-9"


@register("turnout_last_digit", family="digits", min_units=50, null=TLAST_NULL,
          leaves_out=("missing", "cast_over_registered"),
          evidence=True)
def turnout_last_digit(registered, ballots_cast, *, min_count=100, min_units=50,
                       null="binomial", n_resamples=10000, rng=None):
    """Uniformity of the last digit of the ballots cast at each station.

    The turnout counterpart of :func:`last_digit`: a count of ballots written
    down rather than counted leaves favourite last digits.

    Parameters
    ----------
    registered, ballots_cast : array_like of int
        Registered voters and ballots cast, one value per station.  Stations
        where either is missing (NaN), with more ballots than registered
        voters (an impossible figure, kept by the reader as a finding), or
        whose ballots are 0 or all the registered voters (a degenerate law:
        the last digit is fixed) are left out and counted in ``details``.
    min_count : int, default 100
        Under the binomial null, stations whose expected count (registered
        voters times the overall turnout of the stations given) is below
        this are left out; under the classical null, counts below it.
    min_units : int, default 50
        Fewer usable stations than this raises NotApplicable.
    null : {"binomial", "uniform"}
    n_resamples : int, default 10000
        Simulations used when some expected count is below 5.
    rng : None, int or numpy.random.Generator
        Seed for those simulations.

    Returns
    -------
    TestResult
        ``statistic`` is the chi-square statistic (generalised under the
        binomial null; degrees of freedom in ``details["df"]``); ``table``
        holds observed and expected counts per digit.

    Notes
    -----
    As :func:`last_digit`, with count :math:`C_i` and law
    :math:`X_i \\sim \\mathrm{Bin}(N_i, C_i / N_i)`.  Stations are chosen by
    their expected count :math:`N_i \\bar t`, with :math:`\\bar t` the
    overall turnout, not by the count itself, which would favour low last
    digits just above the threshold.

    Calibration: registered as evidence; its false-alarm rate on the honestly
    counted elections and clean twins is in ``docs/calibration.md``.

    References
    ----------
    Beber, B. and Scacco, A. (2012). What the numbers say: a digit-based
    test for election fraud. *Political Analysis* 20(2), 211-234.

    Examples
    --------
    >>> rng = np.random.default_rng(3)
    >>> reg = rng.integers(500, 3000, size=3000)
    >>> cast = rng.binomial(reg, 0.6)
    >>> bool(turnout_last_digit(reg, cast).pvalue > 0.01)
    True

    Ballots rounded to tens at a tenth of the stations leave too many zeros:

    >>> cast[:300] = np.round(cast[:300], -1)
    >>> bool(turnout_last_digit(reg, cast).pvalue < 1e-6)
    True
    """
    _check_options(min_count=min_count, min_units=min_units, n_resamples=n_resamples)
    _check_null(null, "uniform")
    n_all = as_counts("registered", registered, missing="keep")
    c_all = as_counts("ballots_cast", ballots_cast, missing="keep")
    if n_all.size != c_all.size:
        raise ValueError(f"registered and ballots_cast must have the same length, "
                         f"got {n_all.size} and {c_all.size}")
    missing = ~(np.isfinite(n_all) & np.isfinite(c_all))
    over = ~missing & (c_all > n_all)
    ok = ~missing & ~over
    if null == "binomial":
        turnout = (math.fsum(c_all[ok]) / math.fsum(n_all[ok])
                   if ok.any() and math.fsum(n_all[ok]) > 0 else 0.0)
        small = ok & (n_all * turnout < min_count)
        fixed = ok & ~small & ((c_all == 0) | (c_all == n_all))
    else:
        small = ok & (c_all < min_count)
        fixed = np.zeros_like(ok)
    ok &= ~small & ~fixed
    excluded = exclusion_table({
        "missing count": missing,
        "more ballots than registered voters": over,
        f"expected ballots below {min_count}" if null == "binomial"
        else f"fewer than {min_count} ballots": small,
        "no ballots, or every registered voter": fixed})
    c = c_all[ok].astype(np.int64)
    n = n_all[ok].astype(np.int64)
    _enough(c, "turnout_last_digit", min_units, "stations")
    observed = np.bincount(c % 10, minlength=10)
    details = {"excluded": int((~ok).sum()),
               "excluded_cast_over_registered": int(over.sum())}
    if null == "uniform":
        probs = np.full(10, 0.1)
        stat, pval, how = _chisquare(observed, probs, n_resamples, rng)
        df, null_text = 9, TLAST_CLASSICAL
    else:
        per_count = residue_probabilities(n, c / n, 0, 10, np.eye(10))
        stat, pval, how, df = _generalised_chisquare(observed, per_count,
                                                     n_resamples, rng)
        probs = per_count.sum(axis=0) / c.size
        null_text = TLAST_NULL
    return TestResult(test="turnout_last_digit", statistic=stat, pvalue=pval,
                      n=int(c.size), expected=float(df), null=null_text,
                      params=_params(null, min_count=min_count, min_units=min_units,
                                     n_resamples=n_resamples),
                      details={**details, "pvalue_method": how, "df": df},
                      table=_digit_table(observed, probs, np.arange(10)),
                      excluded=excluded)
