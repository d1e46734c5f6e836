"""Digit tests on vote counts.

Counts produced by many voters acting independently have regular digits:
first and second digits close to Benford's law, last digits close to
uniform once counts run into the hundreds.  Numbers written down by people
tend to break these regularities (round endings, favourite digits, too few
repeated and too many adjacent digit pairs).

Each function is one registered test.  Tests on all options take ``votes``
(a stations x options matrix, or any array of counts, flattened); the
percentage test takes ``ballots_cast`` and ``leader``.  A digit test whose
law does not hold for small counts refuses them (``min_count``) and raises
:class:`~audit.errors.NotApplicable` when too few counts are left.  Missing
values (NaN) are skipped: a count by the count tests, a station by the
percentage test (counted in its ``details["excluded"]``).

A digit anomaly is evidence to explain, not proof of fraud: Benford-type
laws hold only approximately for election counts (Mebane 2006; Deckert,
Myagkov & Ordeshook 2011).
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from scipy import stats

from ..errors import NotApplicable
from ..registry import register
from ..result import TestResult, exclusion_table, simulated_pvalue

__all__ = ["first_digit", "second_digit_mean", "second_digit", "last_digit",
           "count_05", "percent_05", "last_two_repeat", "last_two_adjacent",
           "benford_first", "benford_second"]


# --------------------------------------------------------------------------
# digit laws
# --------------------------------------------------------------------------

def benford_first() -> np.ndarray:
    """Benford's first-digit law, ``P(D1 = d) = log10(1 + 1/d)``, d = 1..9."""
    d = np.arange(1, 10)
    return np.log10(1 + 1 / d)


def benford_second() -> np.ndarray:
    """Benford's second-digit law, d = 0..9.

    ``P(D2 = d) = sum_{k=1}^{9} log10(1 + 1/(10 k + d))`` (Hill 1995).
    Its mean is 4.187 (Mebane 2006).
    """
    k = np.arange(1, 10)[:, None]
    d = np.arange(10)[None, :]
    return np.log10(1 + 1 / (10 * k + d)).sum(axis=0)


# --------------------------------------------------------------------------
# input handling
# --------------------------------------------------------------------------

def _counts(x, name: str) -> np.ndarray:
    """All finite values of ``x`` (1-D or 2-D) as int64 counts."""
    if isinstance(x, (str, bytes, dict)) or np.isscalar(x):
        raise TypeError(f"{name} must be an array of counts, "
                        f"got {type(x).__name__}")
    if isinstance(x, pd.DataFrame):
        frame = x.apply(pd.to_numeric, errors="raise")
        arr = frame.to_numpy(dtype=float, na_value=np.nan)
    else:
        if np.ndim(x) not in (1, 2):
            raise ValueError(f"{name} must be one- or two-dimensional, got "
                             f"shape {np.shape(x)}")
        try:
            if np.ndim(x) == 1:
                arr = pd.to_numeric(pd.Series(x), errors="raise").to_numpy(
                    dtype=float, na_value=np.nan)
            else:
                arr = pd.DataFrame(np.asarray(x, dtype=object)).apply(
                    pd.to_numeric, errors="raise").to_numpy(
                        dtype=float, na_value=np.nan)
        except (TypeError, ValueError) as exc:
            raise TypeError(f"{name} must hold numbers: {exc}") from None
    arr = arr.ravel()
    if np.isinf(arr).any():
        raise ValueError(f"{name} contains infinite values")
    arr = arr[np.isfinite(arr)]
    if (arr < 0).any():
        raise ValueError(f"{name} must be non-negative, found {arr[arr < 0][0]:g}")
    if (arr != np.round(arr)).any():
        bad = arr[arr != np.round(arr)][0]
        raise ValueError(f"{name} must hold whole numbers, found {bad:g}")
    return arr.astype(np.int64)


def _check_options(*, min_count=None, min_units=None, alternative=None,
                   n_resamples=None):
    if min_count is not None and (not isinstance(min_count, (int, np.integer))
                                  or min_count < 0):
        raise ValueError(f"min_count must be a non-negative integer, "
                         f"got {min_count!r}")
    if min_units is not None and (not isinstance(min_units, (int, np.integer))
                                  or min_units < 1):
        raise ValueError(f"min_units must be a positive integer, "
                         f"got {min_units!r}")
    if alternative is not None and alternative not in ("two-sided", "greater",
                                                       "less"):
        raise ValueError("alternative must be 'two-sided', 'greater' or "
                         f"'less', got {alternative!r}")
    if n_resamples is not None and (not isinstance(n_resamples, (int, np.integer))
                                    or n_resamples < 1):
        raise ValueError(f"n_resamples must be a positive integer, "
                         f"got {n_resamples!r}")


def _enough(values, test, min_units, what):
    if values.size < min_units:
        raise NotApplicable(f"{test} needs at least {min_units} {what}; "
                            f"{values.size} left")


def _first_digit(c):
    """Leading digit of positive integers (exact, no logarithms)."""
    c = c.copy()
    while (c >= 10).any():
        big = c >= 10
        c[big] //= 10
    return c


def _second_digit(c):
    """Second digit of integers >= 10."""
    c = c.copy()
    while (c >= 100).any():
        big = c >= 100
        c[big] //= 10
    return c % 10


def _digit_table(observed_counts, probs, digits):
    n = observed_counts.sum()
    return pd.DataFrame({"digit": digits, "observed": observed_counts.astype(int),
                         "expected": n * probs,
                         "observed_share": observed_counts / n,
                         "expected_share": probs})


def _chisquare(observed, probs, n_resamples, rng):
    """Pearson chi-square against ``probs``.

    The chi-square law is used when every expected count is at least 5;
    otherwise the p-value is simulated from the multinomial law itself.
    """
    n = observed.sum()
    expected = n * probs
    stat = float(np.sum((observed - expected) ** 2 / expected))
    if expected.min() >= 5:
        return stat, float(stats.chi2.sf(stat, probs.size - 1)), "chi-square"
    gen = np.random.default_rng(rng)
    sims = gen.multinomial(n, probs, size=n_resamples)
    sim_stats = np.sum((sims - expected) ** 2 / expected, axis=1)
    k = int(np.sum(sim_stats >= stat - 1e-9))
    return stat, simulated_pvalue(k, n_resamples), "multinomial simulation"


def _binomial_result(test, hits, n, p0, alternative, null, params, details,
                     labels, excluded=None):
    # ``excluded`` lists stations left out, one row each: only percent_05
    # works station by station.  The pooled digit tests (first_digit,
    # second_digit*, last_digit, count_05, last_two_*) work on a pool of
    # counts, not on stations, so they list nothing (``excluded`` is None).
    res = stats.binomtest(int(hits), int(n), p0, alternative=alternative)
    table = pd.DataFrame({"category": labels,
                          "observed": [int(hits), int(n - hits)],
                          "expected": [n * p0, n * (1 - p0)],
                          "observed_share": [hits / n, 1 - hits / n],
                          "expected_share": [p0, 1 - p0]})
    ci = res.proportion_ci(confidence_level=0.95)
    details = {**details, "hits": int(hits), "share": hits / n,
               "ci_low": float(ci.low), "ci_high": float(ci.high)}
    return TestResult(test=test, statistic=float(hits / n),
                      pvalue=float(res.pvalue), n=int(n), expected=float(p0),
                      null=null, params=params, details=details, table=table,
                      excluded=excluded)


# --------------------------------------------------------------------------
# first digit
# --------------------------------------------------------------------------

FIRST_NULL = "first digits of the counts follow Benford's law"


@register("first_digit", family="digits", min_units=50, null=FIRST_NULL)
def first_digit(votes, *, min_count=1, min_units=50, n_resamples=10000,
                rng=None):
    """First-digit (Benford) test on vote counts.

    Parameters
    ----------
    votes : array_like
        Vote counts, one row per station and one column per option (or any
        array; all values are pooled).  Missing values are skipped.
    min_count : int, default 1
        Counts below this are left out (zeros have no first digit).
    min_units : int, default 50
        Fewer usable counts than this raises NotApplicable.
    n_resamples : int, default 10000
        Multinomial simulations used when some expected count is below 5.
    rng : None, int or numpy.random.Generator
        Seed for those simulations.

    Returns
    -------
    TestResult
        ``statistic`` is Pearson's chi-square, ``expected`` its null mean
        (8 degrees of freedom); ``table`` holds observed and expected counts
        per digit.

    Notes
    -----
    Under the null the first digit ``D1`` of each count is independent with

    .. math:: P(D_1 = d) = \\log_{10}(1 + 1/d), \\quad d = 1, \\dots, 9,

    and :math:`X^2 = \\sum_d (O_d - E_d)^2 / E_d` is referred to the
    chi-square law with 8 degrees of freedom (to the multinomial law
    itself, by simulation, when some :math:`E_d < 5`).  Counts spanning
    less than an order of magnitude cannot follow Benford's law, which is
    why the first digit is a weak test for polling-station counts
    (Mebane 2006, Sec. 2).

    Calibration: station counts do not follow Benford's first-digit law, so on clean
    simulated elections it rejects almost always; it is kept for comparison with published
    work, not as evidence (``docs/calibration.md``; the battery's evidence table repeats
    this in its ``calibration`` column).

    References
    ----------
    Benford, F. (1938). The law of anomalous numbers. *Proceedings of the
    American Philosophical Society* 78(4), 551-572.

    Mebane, W. R. (2006). Election forensics: vote counts and Benford's law.
    Summer meeting of the Political Methodology Society.

    Examples
    --------
    Counts spread evenly on a log scale over four decades follow Benford:

    >>> rng = np.random.default_rng(0)
    >>> counts = np.floor(10 ** rng.uniform(1, 5, size=5000))
    >>> bool(first_digit(counts).pvalue > 0.01)
    True

    Counts that all lie between 100 and 999 uniformly do not: every first
    digit is equally common, and the test says so.

    >>> bool(first_digit(rng.integers(100, 1000, size=5000)).pvalue < 1e-10)
    True
    """
    _check_options(min_count=min_count, min_units=min_units,
                   n_resamples=n_resamples)
    c = _counts(votes, "votes")
    c = c[c >= max(min_count, 1)]
    _enough(c, "first_digit", min_units, f"counts >= {max(min_count, 1)}")
    probs = benford_first()
    observed = np.bincount(_first_digit(c), minlength=10)[1:]
    stat, pval, how = _chisquare(observed, probs, n_resamples, rng)
    table = _digit_table(observed, probs, np.arange(1, 10))
    details = {"pvalue_method": how, "mean_digit": float(_first_digit(c).mean()),
               "expected_mean_digit": float(np.dot(np.arange(1, 10), probs))}
    return TestResult(test="first_digit", statistic=stat, pvalue=pval,
                      n=int(c.size), expected=8.0, null=FIRST_NULL,
                      params=dict(min_count=min_count, min_units=min_units,
                                  n_resamples=n_resamples),
                      details=details, table=table)


# --------------------------------------------------------------------------
# second digit
# --------------------------------------------------------------------------

SECOND_NULL = "second digits of the counts follow Benford's second-digit law"


def _exact_sum_pvalue(n, probs, observed_sum):
    """Two-sided p-value of the sum of ``n`` iid digits with law ``probs``.

    The exact law of the sum is the n-fold convolution of ``probs``,
    computed with one FFT power; the p-value adds the probability of every
    sum at least as far from the mean as the observed one.  Tails below
    1e-10, where FFT rounding dominates, fall back to the normal law.
    """
    values = np.arange(probs.size)
    mu = float(np.dot(values, probs))
    var = float(np.dot(values ** 2, probs) - mu ** 2)
    dev = abs(observed_sum - n * mu)
    z = dev / np.sqrt(n * var)
    size = (probs.size - 1) * n + 1
    if size <= 2_000_000:
        nfft = 1 << int(np.ceil(np.log2(size)))
        f = np.fft.rfft(probs, n=nfft)
        pmf = np.fft.irfft(f ** n, n=nfft)[:size]
        np.clip(pmf, 0, None, out=pmf)
        pmf /= pmf.sum()
        sums = np.arange(size)
        p = float(pmf[np.abs(sums - n * mu) >= dev - 1e-9].sum())
        if p >= 1e-10:
            return min(p, 1.0), "exact"
    return float(2 * stats.norm.sf(z)), "normal"


@register("second_digit_mean", family="digits", min_units=50, null=SECOND_NULL)
def second_digit_mean(votes, *, min_count=10, min_units=50, rng=None):
    """Mean second digit of vote counts against Benford's 4.187 (2BL test).

    Parameters
    ----------
    votes : array_like
        Vote counts (stations x options, pooled).
    min_count : int, default 10
        Counts below 10 have no second digit; a larger value may be set.
    min_units : int, default 50
        Fewer usable counts than this raises NotApplicable.
    rng : None
        Unused (the null law is computed exactly); kept for the registry.

    Returns
    -------
    TestResult
        ``statistic`` is the mean second digit, ``expected`` 4.187;
        ``details`` has the standard error and z-score; ``table`` the
        observed and expected counts per digit.

    Notes
    -----
    Under Benford's second-digit law (Hill 1995)

    .. math:: q_d = \\sum_{k=1}^{9} \\log_{10}\\left(1 + \\frac{1}{10k + d}
              \\right), \\quad d = 0, \\dots, 9,

    the second digit has mean :math:`\\mu = \\sum_d d q_d = 4.187` and
    variance :math:`\\sigma^2 = \\sum_d d^2 q_d - \\mu^2 \\approx 8.254`.
    The sum of *n* independent second digits has the n-fold convolution of
    :math:`q` as its exact law; the two-sided p-value is the probability of
    a sum at least as far from :math:`n\\mu` as observed (Mebane 2006,
    Sec. 2, uses the same mean with a normal approximation).

    Calibration: its false-alarm rate on clean simulated elections is well above 5% (the
    4.187 mean is only approximate for binomial counts) (``docs/calibration.md``; the
    battery's evidence table repeats this in its ``calibration`` column).

    References
    ----------
    Mebane, W. R. (2006). Election forensics: vote counts and Benford's law.
    Summer meeting of the Political Methodology Society.

    Hill, T. P. (1995). A statistical derivation of the significant-digit
    law. *Statistical Science* 10(4), 354-363.

    Examples
    --------
    Counts spread over several decades on a log scale behave as Benford
    predicts, and the test has nothing to report:

    >>> rng = np.random.default_rng(2)
    >>> counts = np.floor(10 ** rng.uniform(1, 6, size=20000))
    >>> res = second_digit_mean(counts)
    >>> round(res.expected, 3), bool(res.pvalue > 0.01)
    (4.187, True)
    """
    _check_options(min_count=min_count, min_units=min_units)
    c = _counts(votes, "votes")
    c = c[c >= max(min_count, 10)]
    _enough(c, "second_digit_mean", min_units, f"counts >= {max(min_count, 10)}")
    probs = benford_second()
    digits = _second_digit(c)
    mu = float(np.dot(np.arange(10), probs))
    var = float(np.dot(np.arange(10) ** 2, probs) - mu ** 2)
    mean = float(digits.mean())
    se = np.sqrt(var / c.size)
    pval, how = _exact_sum_pvalue(int(c.size), probs, int(digits.sum()))
    table = _digit_table(np.bincount(digits, minlength=10), probs, np.arange(10))
    details = {"se": float(se), "z": (mean - mu) / se, "null_sd": np.sqrt(var),
               "pvalue_method": how}
    return TestResult(test="second_digit_mean", statistic=mean, pvalue=pval,
                      n=int(c.size), expected=mu, null=SECOND_NULL,
                      params=dict(min_count=min_count, min_units=min_units),
                      details=details, table=table)


@register("second_digit", family="digits", min_units=50, null=SECOND_NULL)
def second_digit(votes, *, min_count=10, min_units=50, n_resamples=10000,
                 rng=None):
    """Chi-square test of the whole second-digit distribution (2BL).

    Parameters
    ----------
    votes : array_like
        Vote counts (stations x options, pooled).
    min_count : int, default 10
        Counts below 10 have no second digit.
    min_units : int, default 50
        Fewer usable counts than this raises NotApplicable.
    n_resamples : int, default 10000
        Multinomial simulations used when some expected count is below 5.
    rng : None, int or numpy.random.Generator
        Seed for those simulations.

    Returns
    -------
    TestResult
        ``statistic`` is Pearson's chi-square (9 degrees of freedom);
        ``table`` holds observed and expected counts per digit.

    Notes
    -----
    :math:`X^2 = \\sum_{d=0}^{9} (O_d - n q_d)^2 / (n q_d)` with
    :math:`q_d` Benford's second-digit law (see :func:`second_digit_mean`),
    referred to the chi-square law with 9 degrees of freedom (Mebane 2006,
    Sec. 2).

    Calibration: its false-alarm rate on clean simulated elections is well above 5% (the
    second-digit law is only approximate for binomial counts) (``docs/calibration.md``; the
    battery's evidence table repeats this in its ``calibration`` column).

    References
    ----------
    Mebane, W. R. (2006). Election forensics: vote counts and Benford's law.

    Examples
    --------
    Second digits all equal to 5 would be a crude invention:

    >>> counts = np.array([150, 253, 1357, 45, 654] * 30)
    >>> bool(second_digit(counts).pvalue < 1e-10)
    True
    """
    _check_options(min_count=min_count, min_units=min_units,
                   n_resamples=n_resamples)
    c = _counts(votes, "votes")
    c = c[c >= max(min_count, 10)]
    _enough(c, "second_digit", min_units, f"counts >= {max(min_count, 10)}")
    probs = benford_second()
    observed = np.bincount(_second_digit(c), minlength=10)
    stat, pval, how = _chisquare(observed, probs, n_resamples, rng)
    return TestResult(test="second_digit", statistic=stat, pvalue=pval,
                      n=int(c.size), expected=9.0, null=SECOND_NULL,
                      params=dict(min_count=min_count, min_units=min_units,
                                  n_resamples=n_resamples),
                      details={"pvalue_method": how},
                      table=_digit_table(observed, probs, np.arange(10)))


# --------------------------------------------------------------------------
# last digits
# --------------------------------------------------------------------------

LAST_NULL = "last digits of the counts are uniform on 0-9"


@register("last_digit", family="digits", min_units=50, null=LAST_NULL)
def last_digit(votes, *, min_count=100, min_units=50, n_resamples=10000,
               rng=None):
    """Uniformity of the last digit of vote counts.

    Parameters
    ----------
    votes : array_like
        Vote counts (stations x options, pooled).
    min_count : int, default 100
        Counts below this are left out: the last digit of small counts is
        not uniform (a count of 7 has last digit 7 for sure).  Beber & Scacco
        (2012, Sec. 2) show near-uniformity once counts have three digits.
    min_units : int, default 50
        Fewer usable counts than this raises NotApplicable.
    n_resamples : int, default 10000
        Multinomial simulations used when some expected count is below 5.
    rng : None, int or numpy.random.Generator
        Seed for those simulations.

    Returns
    -------
    TestResult
        ``statistic`` is Pearson's chi-square (9 degrees of freedom);
        ``table`` holds observed and expected counts per digit.

    Notes
    -----
    :math:`X^2 = \\sum_{d=0}^{9} (O_d - n/10)^2 / (n/10)`, referred to the
    chi-square law with 9 degrees of freedom (Beber & Scacco 2012, Sec. 3).

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
    c = _counts(votes, "votes")
    c = c[c >= min_count]
    _enough(c, "last_digit", min_units, f"counts >= {min_count}")
    probs = np.full(10, 0.1)
    observed = np.bincount(c % 10, minlength=10)
    stat, pval, how = _chisquare(observed, probs, n_resamples, rng)
    return TestResult(test="last_digit", statistic=stat, pvalue=pval,
                      n=int(c.size), expected=9.0, null=LAST_NULL,
                      params=dict(min_count=min_count, min_units=min_units,
                                  n_resamples=n_resamples),
                      details={"pvalue_method": how},
                      table=_digit_table(observed, probs, np.arange(10)))


C05_NULL = "a count ends in 0 or 5 with probability 0.2"


@register("count_05", family="digits", min_units=50, null=C05_NULL)
def count_05(votes, *, min_count=100, min_units=50, alternative="two-sided",
             rng=None):
    """Share of vote counts ending in 0 or 5 (Mebane's C05s).

    Parameters
    ----------
    votes : array_like
        Vote counts (stations x options, pooled).
    min_count : int, default 100
        Counts below this are left out (their last digit is not uniform).
    min_units : int, default 50
        Fewer usable counts than this raises NotApplicable.
    alternative : {"two-sided", "greater", "less"}
        Direction of the exact binomial test; "greater" looks only for an
        excess of round endings.
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
    c = _counts(votes, "votes")
    c = c[c >= min_count]
    _enough(c, "count_05", min_units, f"counts >= {min_count}")
    hits = int(np.sum(c % 5 == 0))
    return _binomial_result(
        "count_05", hits, c.size, 0.2, alternative, C05_NULL,
        dict(min_count=min_count, min_units=min_units, alternative=alternative),
        {}, ["ends in 0 or 5", "other"])


P05_NULL = "the leader's rounded percentage ends in 0 or 5 with probability 0.2"


@register("percent_05", family="digits", min_units=50, null=P05_NULL)
def percent_05(ballots_cast, leader, *, min_ballots=100, min_units=50,
               alternative="two-sided", rng=None):
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
    alternative : {"two-sided", "greater", "less"}
        Direction of the exact binomial test.
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
    _check_options(min_count=min_ballots, min_units=min_units,
                   alternative=alternative)
    cast = _counts_1d(ballots_cast, "ballots_cast")
    lead = _counts_1d(leader, "leader")
    if cast.size != lead.size:
        raise ValueError("ballots_cast and leader must have the same length, "
                         f"got {cast.size} and {lead.size}")
    missing = ~(np.isfinite(cast) & np.isfinite(lead))
    ok = ~missing & (cast >= max(min_ballots, 1))
    small = ~missing & ~ok
    # more leader votes than ballots is impossible (a finding of the reader):
    # such stations have no percentage to test and are counted, not used
    over = ok & (lead > cast)
    ok &= ~over
    # one row per station left out (their total is details["excluded"])
    excluded = exclusion_table({
        "missing count": missing,
        f"fewer than {max(min_ballots, 1)} ballots cast": small,
        "more leader votes than ballots": over})
    c = cast[ok].astype(np.int64)
    v = lead[ok].astype(np.int64)
    _enough(c, "percent_05", min_units, f"stations with >= {min_ballots} ballots")
    pct = (200 * v + c) // (2 * c)          # round half up of 100 v / c
    hits = int(np.sum(pct % 5 == 0))
    return _binomial_result(
        "percent_05", hits, c.size, 0.2, alternative, P05_NULL,
        dict(min_ballots=min_ballots, min_units=min_units,
             alternative=alternative),
        {"excluded": int((~ok).sum()),
         "excluded_leader_over_ballots": int(over.sum())},
        ["ends in 0 or 5", "other"], excluded=excluded)


def _counts_1d(x, name):
    """1-D float array (NaN kept) of non-negative whole numbers."""
    if isinstance(x, (str, bytes, dict)) or np.isscalar(x):
        raise TypeError(f"{name} must be an array of counts, "
                        f"got {type(x).__name__}")
    if np.ndim(x) != 1:
        raise ValueError(f"{name} must be one-dimensional, got shape "
                         f"{np.shape(x)}")
    try:
        arr = pd.to_numeric(pd.Series(x), errors="raise").to_numpy(
            dtype=float, na_value=np.nan)
    except (TypeError, ValueError) as exc:
        raise TypeError(f"{name} must hold numbers: {exc}") from None
    fin = arr[np.isfinite(arr)]
    if np.isinf(arr).any():
        raise ValueError(f"{name} contains infinite values")
    if (fin < 0).any():
        raise ValueError(f"{name} must be non-negative, found {fin[fin < 0][0]:g}")
    if (fin != np.round(fin)).any():
        raise ValueError(f"{name} must hold whole numbers, "
                         f"found {fin[fin != np.round(fin)][0]:g}")
    return arr


# --------------------------------------------------------------------------
# Beber & Scacco: pairs of last two digits
# --------------------------------------------------------------------------

REPEAT_NULL = ("the last two digits of a count are independent and uniform, "
               "so they are equal with probability 0.1")
ADJACENT_NULL = ("the last two digits of a count are independent and uniform, "
                 "so they are adjacent (differ by 1, 0 next to 9) with "
                 "probability 0.2")


def _last_two(votes, min_count, min_units, test):
    c = _counts(votes, "votes")
    c = c[c >= min_count]
    _enough(c, test, min_units, f"counts >= {min_count}")
    return c % 10, (c // 10) % 10, c.size


@register("last_two_repeat", family="digits", min_units=50, null=REPEAT_NULL)
def last_two_repeat(votes, *, min_count=100, min_units=50,
                    alternative="two-sided", rng=None):
    """Share of counts whose last two digits are equal (Beber & Scacco).

    Parameters
    ----------
    votes : array_like
        Vote counts (stations x options, pooled).
    min_count : int, default 100
        Counts below this are left out (Beber & Scacco 2012 use counts with
        at least three digits so that both digits are close to uniform).
    min_units : int, default 50
        Fewer usable counts than this raises NotApplicable.
    alternative : {"two-sided", "greater", "less"}
        People inventing numbers repeat digits too rarely, so "less" is the
        one-sided alternative of Beber & Scacco (2012).
    rng : None
        Unused (exact test); kept for the registry.

    Returns
    -------
    TestResult
        ``statistic`` is the share of repeated pairs (11, 22, ...),
        ``expected`` 0.1.

    Notes
    -----
    With independent uniform units and tens digits, 10 of the 100 pairs
    are repeats, so the number of repeats is :math:`\\mathrm{Bin}(n, 0.1)`
    (Beber & Scacco 2012, Sec. 2); the p-value is the exact binomial tail.

    References
    ----------
    Beber, B. and Scacco, A. (2012). What the numbers say: a digit-based
    test for election fraud. *Political Analysis* 20(2), 211-234.

    Examples
    --------
    >>> rng = np.random.default_rng(6)
    >>> counts = rng.integers(100, 5000, size=3000)
    >>> bool(last_two_repeat(counts).pvalue > 0.01)
    True
    """
    _check_options(min_count=min_count, min_units=min_units,
                   alternative=alternative)
    units, tens, n = _last_two(votes, min_count, min_units, "last_two_repeat")
    hits = int(np.sum(units == tens))
    return _binomial_result(
        "last_two_repeat", hits, n, 0.1, alternative, REPEAT_NULL,
        dict(min_count=min_count, min_units=min_units, alternative=alternative),
        {}, ["repeated", "other"])


@register("last_two_adjacent", family="digits", min_units=50,
          null=ADJACENT_NULL)
def last_two_adjacent(votes, *, min_count=100, min_units=50,
                      alternative="two-sided", rng=None):
    """Share of counts whose last two digits are adjacent (Beber & Scacco).

    Parameters
    ----------
    votes : array_like
        Vote counts (stations x options, pooled).
    min_count : int, default 100
        Counts below this are left out.
    min_units : int, default 50
        Fewer usable counts than this raises NotApplicable.
    alternative : {"two-sided", "greater", "less"}
        People inventing numbers favour adjacent digits, so "greater" is the
        one-sided alternative of Beber & Scacco (2012).
    rng : None
        Unused (exact test); kept for the registry.

    Returns
    -------
    TestResult
        ``statistic`` is the share of adjacent pairs, ``expected`` 0.2.

    Notes
    -----
    Two digits are adjacent when they differ by one, with 0 counted next to
    both 1 and 9 as on Beber & Scacco's digit circle (their 2009 analysis of
    Iran: 70% of pairs are neither adjacent nor repeated).  Twenty of the
    100 pairs are adjacent, so under independent uniform digits the number
    of adjacent pairs is :math:`\\mathrm{Bin}(n, 0.2)`.

    References
    ----------
    Beber, B. and Scacco, A. (2012). What the numbers say: a digit-based
    test for election fraud. *Political Analysis* 20(2), 211-234.

    Examples
    --------
    Invented counts ending in 12, 23, 34, ... are caught:

    >>> rng = np.random.default_rng(7)
    >>> counts = rng.integers(100, 5000, size=1000)
    >>> counts[:200] = counts[:200] // 100 * 100 + 23
    >>> bool(last_two_adjacent(counts).pvalue < 1e-10)
    True
    """
    _check_options(min_count=min_count, min_units=min_units,
                   alternative=alternative)
    units, tens, n = _last_two(votes, min_count, min_units, "last_two_adjacent")
    gap = np.abs(units - tens)
    hits = int(np.sum((gap == 1) | (gap == 9)))
    return _binomial_result(
        "last_two_adjacent", hits, n, 0.2, alternative, ADJACENT_NULL,
        dict(min_count=min_count, min_units=min_units, alternative=alternative),
        {}, ["adjacent", "other"])
