"""Leading-digit tests: the first digit, the second digit and its mean
(Benford's laws as the classical null; Mebane 2006).

They are descriptive: the first and second digits of honest counts are
fixed by where each station's expected count sits (``docs/calibration.md``).
"""

from __future__ import annotations

import numpy as np
from .._lazy import stats

from ...registry import register
from ...result import TestResult
from .._digit_law import leading_digit_probabilities
from .._exact_law import iid_sum_pmf
from ._common import (_check_null, _check_options, _chisquare, _details, _digit_table,
                      _enough, _generalised_chisquare, _params, _pool)


#: Why the leading-digit tests are descriptive (measured in docs/calibration.md).
_LEADING_WHY = ("the first and second digits of a count are fixed by where its "
                "station's expected count sits, not by chance: neither Benford's "
                "laws nor a per-count binomial law fits honest counts: the first "
                "digit rejects every clean election, 2BL Canada and most clean twins "
                "of the 2021 and 2024 files (docs/calibration.md)")


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


def _leading(c, law, t, test, min_units):
    """Counts with a digit at the position a leading-digit test reads
    (``c >= t``: 1 for the first digit, 10 for the second), and their laws
    truncated at the same point: a count without that digit has no place in
    either."""
    if law is None:
        return c, law
    keep = c >= t
    c = c[keep]
    _enough(c, test, min_units, f"counts of at least {t}")
    return c, (law[0][keep], law[1][keep], t)


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


FIRST_NULL = ("the first digit of each count is that of a binomial redraw "
              "of the count (its station's total, its own share), kept "
              "only if at least min_count")

FIRST_CLASSICAL = "first digits of the counts follow Benford's law"


@register("first_digit", family="digits", min_units=50, null=FIRST_NULL, cost=3,
          leaves_out=("missing",),
          evidence=False, flag="liberal", why=_LEADING_WHY)
def first_digit(votes, *, min_count=1, min_units=50, null="binomial",
                n_resamples=10000, rng=None):
    """First-digit test on vote counts, against each count's binomial law.

    Parameters
    ----------
    votes : array_like
        Vote counts, one row per station and one column per option; the row
        total is the station's binomial size.  Missing values are skipped.
        A 1-D array is a pool of counts without totals: the Benford null is
        used (``details["null_note"]`` says so).
    min_count : int, default 1
        Counts below this are left out (zeros have no first digit); the
        null draws are conditioned on the same selection.
    min_units : int, default 50
        Fewer usable counts than this raises NotApplicable.
    null : {"binomial", "benford"}
        ``"benford"`` is the classical test (Pearson's chi-square against
        Benford's law).
    n_resamples : int, default 10000
        Simulations of the null used when some expected count is below 5.
    rng : None, int or numpy.random.Generator
        Seed for those simulations.

    Returns
    -------
    TestResult
        ``statistic`` is the generalised chi-square (Pearson's under the
        Benford null), ``expected`` its degrees of freedom;
        ``table`` holds observed and expected counts per digit.

    Notes
    -----
    Under the binomial null count *i* (option votes :math:`c_i` at a
    station with :math:`n_i` votes) has first-digit law

    .. math:: P_{id} = P(D_1(X) = d \\mid X \\ge t), \\quad
              X \\sim \\mathrm{Bin}(n_i, c_i / n_i),

    the binomial probabilities summed over :math:`[d 10^j, (d+1) 10^j)`.
    With :math:`E = \\sum_i P_i` and
    :math:`\\Sigma = \\sum_i (\\mathrm{diag}\\,P_i - P_i P_i^T)`,
    :math:`T = (O - E)^T \\Sigma^+ (O - E)` is referred to
    :math:`\\chi^2_{\\mathrm{rank}\\,\\Sigma}`.  The Benford null uses
    :math:`P(D_1 = d) = \\log_{10}(1 + 1/d)` (Benford 1938), which counts
    spanning about one order of magnitude do not follow (Mebane 2006,
    Sec. 2).

    Calibration: even against each count's binomial law, the plug-in share
    ``c / n`` makes the test only approximately calibrated; see
    ``docs/calibration.md``.

    References
    ----------
    Benford, F. (1938). The law of anomalous numbers. *Proceedings of the
    American Philosophical Society* 78(4), 551-572.

    Mebane, W. R. (2006). Election forensics: vote counts and Benford's law.
    Summer meeting of the Political Methodology Society.

    The per-count resampled null follows the idea of the ElectionForensics.jl
    package; here its law is computed exactly.

    Examples
    --------
    Two parties share stations of 200 to 900 voters, counted honestly:

    >>> rng = np.random.default_rng(0)
    >>> size = rng.integers(200, 900, size=3000)
    >>> a = rng.binomial(size, 0.55)
    >>> votes = np.c_[a, size - a]
    >>> bool(first_digit(votes, null="benford").pvalue < 1e-10)
    True
    >>> bool(first_digit(votes).pvalue < 1e-3)
    True

    Both nulls reject these clean counts.  A first digit is fixed by where
    a station's expected count sits, so no simple law of it holds for honest
    counts: the test is registered as descriptive and never counted as
    evidence.
    """
    _check_options(min_count=min_count, min_units=min_units,
                   n_resamples=n_resamples)
    _check_null(null, "benford")
    t = max(min_count, 1)
    c, law, used, note = _pool(votes, t, null, "benford", "first_digit",
                               min_units)
    c, law = _leading(c, law, 1, "first_digit", min_units)
    observed = np.bincount(_first_digit(c), minlength=10)[1:]
    params = _params(used, min_count=min_count, min_units=min_units,
                     n_resamples=n_resamples)
    mean_digit = float(_first_digit(c).mean())
    if law is None:
        probs = benford_first()
        stat, pval, how = _chisquare(observed, probs, n_resamples, rng)
        df, null_text = 8, FIRST_CLASSICAL
    else:
        per_count = leading_digit_probabilities(law[0], law[1], law[2], 1)
        stat, pval, how, df = _generalised_chisquare(observed, per_count,
                                                     n_resamples, rng)
        probs = per_count.sum(axis=0) / c.size
        null_text = FIRST_NULL
    table = _digit_table(observed, probs, np.arange(1, 10))
    details = _details(note, pvalue_method=how, df=df, mean_digit=mean_digit,
                       expected_mean_digit=float(np.dot(np.arange(1, 10), probs)))
    return TestResult(test="first_digit", statistic=stat, pvalue=pval,
                      n=int(c.size), expected=float(df), null=null_text,
                      params=params, details=details, table=table)


SECOND_NULL = ("the second digit of each count is that of a binomial redraw "
               "of the count (its station's total, its own share), kept "
               "only if at least min_count")

SECOND_CLASSICAL = "second digits of the counts follow Benford's second-digit law"


def _exact_sum_pvalue(n, probs, observed_sum):
    """Two-sided p-value of the sum of ``n`` iid digits with law ``probs``.

    The exact law of the sum is the n-fold convolution of ``probs``
    (:func:`.._exact_law.iid_sum_pmf`); the p-value adds the probability of every
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
        pmf = iid_sum_pmf(probs, n)
        sums = np.arange(size)
        p = float(pmf[np.abs(sums - n * mu) >= dev - 1e-9].sum())
        if p >= 1e-10:
            return min(p, 1.0), "exact"
    return float(2 * stats.norm.sf(z)), "normal"


@register("second_digit_mean", family="digits", min_units=50, null=SECOND_NULL, cost=3,
          leaves_out=("missing",),
          evidence=False, flag="liberal", why=_LEADING_WHY)
def second_digit_mean(votes, *, min_count=10, min_units=50,
                      null="binomial", rng=None):
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
    _check_null(null, "benford")
    t = max(min_count, 10)
    c, law, used, note = _pool(votes, t, null, "benford", "second_digit_mean",
                               min_units)
    c, law = _leading(c, law, 10, "second_digit_mean", min_units)
    digits = _second_digit(c)
    mean = float(digits.mean())
    d = np.arange(10)
    params = _params(used, min_count=min_count, min_units=min_units)
    if law is None:
        probs = benford_second()
        mu = float(np.dot(d, probs))
        var = float(np.dot(d ** 2, probs) - mu ** 2)
        se = np.sqrt(var / c.size)
        pval, how = _exact_sum_pvalue(int(c.size), probs, int(digits.sum()))
        null_text = SECOND_CLASSICAL
    else:
        per_count = leading_digit_probabilities(law[0], law[1], law[2], 2)
        mus = per_count @ d
        var_i = per_count @ d ** 2 - mus ** 2
        mu = float(mus.mean())
        var = float(var_i.mean())
        se = np.sqrt(var_i.sum()) / c.size
        z = (mean - mu) / se if se > 0 else 0.0
        pval, how = float(2 * stats.norm.sf(abs(z))), "normal"
        probs = per_count.sum(axis=0) / c.size
        null_text = SECOND_NULL
    table = _digit_table(np.bincount(digits, minlength=10), probs, d)
    details = _details(note, se=float(se),
                       z=(mean - mu) / se if se > 0 else 0.0,
                       null_sd=float(np.sqrt(var)), pvalue_method=how)
    return TestResult(test="second_digit_mean", statistic=mean, pvalue=pval,
                      n=int(c.size), expected=mu, null=null_text,
                      params=params, details=details, table=table)


@register("second_digit", family="digits", min_units=50, null=SECOND_NULL, cost=3,
          leaves_out=("missing",),
          evidence=False, flag="liberal", why=_LEADING_WHY)
def second_digit(votes, *, min_count=10, min_units=50, null="binomial",
                 n_resamples=10000, rng=None):
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
        ``statistic`` is the chi-square statistic (the generalised one
        under the binomial null; degrees of freedom in ``details["df"]``);
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
    _check_null(null, "benford")
    t = max(min_count, 10)
    c, law, used, note = _pool(votes, t, null, "benford", "second_digit",
                               min_units)
    c, law = _leading(c, law, 10, "second_digit", min_units)
    observed = np.bincount(_second_digit(c), minlength=10)
    if law is None:
        probs = benford_second()
        stat, pval, how = _chisquare(observed, probs, n_resamples, rng)
        df, null_text = 9, SECOND_CLASSICAL
    else:
        per_count = leading_digit_probabilities(law[0], law[1], law[2], 2)
        stat, pval, how, df = _generalised_chisquare(observed, per_count,
                                                     n_resamples, rng)
        probs = per_count.sum(axis=0) / c.size
        null_text = SECOND_NULL
    return TestResult(test="second_digit", statistic=stat, pvalue=pval,
                      n=int(c.size), expected=float(df), null=null_text,
                      params=_params(used, min_count=min_count,
                                     min_units=min_units,
                                     n_resamples=n_resamples),
                      details=_details(note, pvalue_method=how, df=df),
                      table=_digit_table(observed, probs, np.arange(10)))
