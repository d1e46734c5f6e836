"""Digit tests on vote counts.

Numbers written down by people tend to break the regularities of counted
numbers (round endings, favourite digits, too few repeated and too many
adjacent digit pairs).  Each function is one registered test.  Tests on all
options take ``votes``, a stations x options matrix; the percentage test
takes ``ballots_cast`` and ``leader``.

The null (``null="binomial"``, the default)
    The classical laws (uniform last digits, Benford's first and second
    digits) are not the laws of honestly counted votes: a count whose
    binomial spread is small next to the digit period has no uniform last
    digit, keeping only counts ``>= min_count`` over-represents low last
    digits just above the threshold, and station counts spanning one order
    of magnitude do not follow Benford.  So the counts are chosen by their
    *expected* count, ``n * s >= min_count``, where ``n`` is the station's
    total (the row total of ``votes``) and ``s`` the option's share of all
    the votes given: a choice (nearly) independent of the count's own noise,
    which no rule on the count itself can be.  Each count ``c`` chosen is
    compared with its own law: the digit(s) of ``X ~ Binomial(n, c / n)``
    (for the first and second digits, conditioned on the digit existing:
    ``X >= 1`` or ``X >= 10``), computed exactly
    (:mod:`audit.forensics._digit_law`).  The expected digit frequencies are
    the sums of these per-count laws and the observed frequency vector has
    covariance ``sum_i (diag(P_i) - P_i P_i')`` (independent categorical
    draws); single counts (0/5 endings, repeated or adjacent pairs) are
    Poisson-binomial.  Options of one station are treated as independent
    binomials; their multinomial dependence changes each station's
    covariance, but averages out over stations whose totals end in every
    digit.

The classical null (``null="uniform"`` or ``"benford"``)
    The published tests (Beber and Scacco 2012; Mebane 2006), kept so that
    their numbers can be reproduced.  A one-dimensional ``votes`` (a pool of
    counts with no station totals) cannot carry the binomial null: the
    tests then use the classical null and say so in
    ``params["null"]`` and ``details["null_note"]``.

Under the classical null a test keeps the counts ``>= min_count``, as
published; under the binomial null those expected at ``min_count`` or more.
It raises :class:`~audit.errors.NotApplicable` when too few counts are left.

Calibration: on the honestly counted elections of the dataset registry and
on clean twins of the Russian station files, the last-digit tests (last
digit, 0/5 endings of counts and of percentages, repeated and adjacent
pairs) hold their size under the binomial null and are registered as
evidence; the first- and second-digit tests do not and are descriptive
(``docs/calibration.md``).  Missing
values (NaN) are skipped: a count by the count tests (its station's total
is then the sum of its other counts), a station by the percentage test
(counted in its ``details["excluded"]``).

A digit anomaly is evidence to explain, not proof of fraud.
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
from scipy import linalg, stats

from ..errors import NotApplicable
from ..registry import register
from ..result import TestResult, exclusion_table, simulated_pvalue
from ._digit_law import leading_digit_probabilities, residue_probabilities
from .integer_percentages import integer_probabilities, poisson_binomial_sf

__all__ = ["first_digit", "second_digit_mean", "second_digit", "last_digit",
           "count_05", "percent_05", "turnout_percent_05", "turnout_last_digit",
           "last_two_repeat", "last_two_adjacent",
           "benford_first", "benford_second"]


# --------------------------------------------------------------------------
# digit laws
# --------------------------------------------------------------------------

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


# --------------------------------------------------------------------------
# input handling
# --------------------------------------------------------------------------

def _count_array(x, name: str) -> np.ndarray:
    """``x`` (1-D or 2-D) as a float array of the same shape, NaN kept,
    after checking that every finite value is a non-negative whole number."""
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
    if np.isinf(arr).any():
        raise ValueError(f"{name} contains infinite values")
    fin = arr[np.isfinite(arr)]
    if (fin < 0).any():
        raise ValueError(f"{name} must be non-negative, found {fin[fin < 0][0]:g}")
    if (fin != np.round(fin)).any():
        bad = fin[fin != np.round(fin)][0]
        raise ValueError(f"{name} must hold whole numbers, found {bad:g}")
    return arr


def _counts(x, name: str) -> np.ndarray:
    """All finite values of ``x`` (1-D or 2-D) as int64 counts."""
    arr = _count_array(x, name).ravel()
    return arr[np.isfinite(arr)].astype(np.int64)


def _check_null(null, classical):
    if null not in ("binomial", classical):
        raise ValueError(f"null must be 'binomial' or '{classical}', "
                         f"got {null!r}")


def _pool(votes, threshold, null, classical, test, min_units):
    """The counts a test uses and, for the binomial null, their laws.

    Returns ``(c, law, null_used, note)``.  Under the classical null (or a
    1-D ``votes``, which has no station totals) ``c`` holds the counts
    ``>= threshold`` and ``law`` is None.  Under the binomial null a count
    is kept when its *expected* count ``n * s`` is at least ``threshold``,
    where ``n`` is its station's total and ``s`` its option's share of all
    the votes given; ``law`` is ``(n, c / n, 0)``: the binomial of each kept
    count, with no truncation (the third element is the truncation point
    the digit laws take).

    Selecting on the expected count rather than on the count itself keeps
    the selection (nearly) independent of the count's own noise: a rule
    ``c >= threshold`` favours low last digits wherever counts crowd just
    above the threshold, and no plug-in law can undo it, since the counts
    just above the threshold are there partly because their noise was
    upward.
    """
    arr = _count_array(votes, "votes")
    note = None
    if null == "binomial" and arr.ndim == 1:
        null, note = classical, ("votes is one-dimensional (no station "
                                 "totals), so the binomial null cannot be "
                                 f"built; the classical {classical} null "
                                 "is used")
    if arr.ndim == 1 or null != "binomial":
        flat = arr.ravel()
        c = flat[np.isfinite(flat)].astype(np.int64)
        c = c[c >= threshold]
        _enough(c, test, min_units, f"counts >= {threshold}")
        return c, None, null, note
    total = _stable_sum(np.where(np.isfinite(arr), arr, 0.0), axis=1)
    column = _stable_sum(np.where(np.isfinite(arr), arr, 0.0), axis=0)
    grand = float(column.sum())
    share = column / grand if grand > 0 else np.zeros_like(column)
    expected = total[:, None] * share[None, :]
    # a count of 0, or all of its station's votes, has a degenerate law
    # (its digits are fixed): it carries nothing and is left out
    keep = (np.isfinite(arr) & (expected >= threshold) & (arr > 0)
            & (arr < total[:, None]))
    c = arr[keep].astype(np.int64)
    _enough(c, test, min_units, f"counts expected at {threshold} or more")
    n = np.broadcast_to(total[:, None], arr.shape)[keep].astype(np.int64)
    p = np.divide(c, n, out=np.zeros(c.size), where=n > 0)
    return c, (n, p, 0), null, note


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


def _stable_sum(a, axis):
    """Sum that does not depend on the order of the other axis' entries
    (integer counts: exact in float64 up to 2**53)."""
    return np.add.reduce(a, axis=axis, dtype=np.float64)


def _params(null, **kw):
    return {**kw, "null": null}


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


#: Above this many counts a sparse digit table is pooled (Cochran's rule)
#: instead of simulated, so the simulation stays under a second.
_SIMULATE_MAX = 2000


def _generalised_chisquare(observed, probs, n_resamples, rng):
    """Quadratic form of observed minus expected digit counts.

    ``probs`` holds one digit law per count (rows).  The count vector is a
    sum of independent categorical draws, so it has mean ``E = sum_i P_i``
    and covariance ``S = sum_i (diag(P_i) - P_i P_i')``;
    ``T = (O - E)' S^+ (O - E)`` is referred to the chi-square law with
    ``rank(S)`` degrees of freedom.  Where some expected count is below 5,
    the law of ``T`` is simulated from the per-count laws themselves (up to
    ``_SIMULATE_MAX`` counts), or else the digits expected fewer than 5
    times are pooled into one category (with the next rarest digit too,
    while the pool is short of 5).

    Returns ``statistic, pvalue, method, df``.
    """
    expected = probs.sum(axis=0)
    simulate = expected.min() < 5 and probs.shape[0] <= _SIMULATE_MAX
    if expected.min() < 5 and not simulate:
        rare = expected < 5
        while expected[rare].sum() < 5 and not rare.all():
            rare[np.argmin(np.where(rare, np.inf, expected))] = True
        keep = ~rare
        probs = np.c_[probs[:, keep], probs[:, rare].sum(axis=1)]
        observed = np.r_[observed[keep], observed[rare].sum()]
        expected = probs.sum(axis=0)
    cov = np.diag(expected) - probs.T @ probs
    w, v = linalg.eigh(cov)
    good = w > max(w.max(initial=0) * 1e-10, 1e-8)
    df = int(good.sum())
    if df == 0:
        raise NotApplicable("the binomial null fixes every count kept (one "
                            "option, or one option taking every vote): "
                            "their digits carry no information")
    proj = v[:, good] / np.sqrt(w[good])

    def stat_of(obs):
        return np.sum(((obs - expected) @ proj) ** 2, axis=-1)

    stat = float(stat_of(observed))
    if not simulate:
        return stat, float(stats.chi2.sf(stat, df)), "chi-square", df
    gen = np.random.default_rng(rng)
    # counts in a canonical order (by their laws), so that the draws do not
    # depend on the order of the stations
    probs = probs[np.lexsort(probs.T[::-1])]
    cum = np.cumsum(probs, axis=1)
    cum[:, -1] = 1.0
    size = probs.shape[1]
    chunk = max(1, 2_000_000 // max(probs.shape[0] * size, 1))
    k = 0
    done = 0
    while done < n_resamples:
        b = min(chunk, n_resamples - done)
        u = gen.random((b, probs.shape[0]))
        digit = (u[:, :, None] > cum[None]).sum(axis=2)
        idx = digit + size * np.arange(b)[:, None]
        sims = np.bincount(idx.ravel(), minlength=b * size).reshape(b, size)
        k += int(np.sum(stat_of(sims) >= stat - 1e-9))
        done += b
    return stat, simulated_pvalue(k, n_resamples), "simulation of the null", df


def _poisson_binomial_pvalue(probs, hits, alternative):
    """Tail of ``H = sum_i B_i``, ``B_i ~ Bernoulli(probs_i)``, at ``hits``.

    Two-sided: twice the smaller tail, capped at 1.
    """
    n = probs.size
    upper, _, how_u = poisson_binomial_sf(probs, hits)
    if alternative == "greater":
        return upper, how_u
    lower, _, how_l = poisson_binomial_sf(1 - probs, n - hits)
    if alternative == "less":
        return lower, how_l
    how = how_u if upper <= lower else how_l
    return float(min(1.0, 2 * min(upper, lower))), how


def _poisson_binomial_result(test, hits, probs, alternative, null, params,
                             details, labels, excluded=None):
    """Result of a count test whose null hit probabilities vary by unit."""
    n = probs.size
    # exactly rounded sums: the same for any order of the stations
    mean = math.fsum(probs)
    pval, how = _poisson_binomial_pvalue(probs, int(hits), alternative)
    p0 = mean / n
    sd = math.sqrt(math.fsum(probs * (1 - probs)))
    table = pd.DataFrame({"category": labels,
                          "observed": [int(hits), int(n - hits)],
                          "expected": [mean, n - mean],
                          "observed_share": [hits / n, 1 - hits / n],
                          "expected_share": [p0, 1 - p0]})
    ci = stats.binomtest(int(hits), int(n)).proportion_ci(confidence_level=0.95)
    details = {**details, "hits": int(hits), "share": hits / n,
               "expected_hits": mean, "null_sd_hits": sd,
               "z": (hits - mean) / sd if sd > 0 else 0.0,
               "ci_low": float(ci.low), "ci_high": float(ci.high),
               "pvalue_method": f"Poisson-binomial ({how})"}
    return TestResult(test=test, statistic=float(hits / n), pvalue=float(pval),
                      n=int(n), expected=p0, null=null, params=params,
                      details=details, table=table, excluded=excluded)


def _details(note, **kw):
    return {**kw, **({"null_note": note} if note else {})}


# --------------------------------------------------------------------------
# first digit
# --------------------------------------------------------------------------

FIRST_NULL = ("the first digit of each count is that of a binomial redraw "
              "of the count (its station's total, its own share), kept "
              "only if at least min_count")
FIRST_CLASSICAL = "first digits of the counts follow Benford's law"


@register("first_digit", family="digits", min_units=50, null=FIRST_NULL,
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


# --------------------------------------------------------------------------
# second digit
# --------------------------------------------------------------------------

SECOND_NULL = ("the second digit of each count is that of a binomial redraw "
               "of the count (its station's total, its own share), kept "
               "only if at least min_count")
SECOND_CLASSICAL = "second digits of the counts follow Benford's second-digit law"


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


@register("second_digit_mean", family="digits", min_units=50, null=SECOND_NULL,
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


@register("second_digit", family="digits", min_units=50, null=SECOND_NULL,
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


# --------------------------------------------------------------------------
# last digits
# --------------------------------------------------------------------------

LAST_NULL = ("the last digit of each count is that of a binomial redraw of "
             "the count (its station's total, its own share); counts whose "
             "expected count is at least min_count")
LAST_CLASSICAL = "last digits of the counts are uniform on 0-9"


@register("last_digit", family="digits", min_units=50, null=LAST_NULL,
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
            "redraw of it (its station's total, its own share) does; counts "
            "whose expected count is at least min_count")
C05_CLASSICAL = "a count ends in 0 or 5 with probability 0.2"


@register("count_05", family="digits", min_units=50, null=C05_NULL,
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
    return _poisson_binomial_result("count_05", hits, probs, alternative,
                                    C05_NULL, params, _details(note), labels)


P05_NULL = ("each station's rounded leader percentage ends in 0 or 5 with "
            "the probability that a binomial redraw of the leader's votes "
            "(ballots cast, the station's own share) has")
P05_CLASSICAL = ("the leader's rounded percentage ends in 0 or 5 with "
                 "probability 0.2")


@register("percent_05", family="digits", min_units=50, null=P05_NULL,
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
                words, null_text, classical_text, extra_params):
    """Stations whose percentage ``100 part / whole`` rounds to a multiple of
    5, against the per-station binomial law (``percent_05`` and
    ``turnout_percent_05``).  ``words`` = (what ``whole`` counts, the reason
    for ``part > whole``, its details key)."""
    _check_options(min_count=min_whole, min_units=min_units, alternative=alternative)
    _check_null(null, "uniform")
    whole_name, part_name = names
    n_all = _counts_1d(whole, whole_name)
    k_all = _counts_1d(part, part_name)
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
    # one row per station left out (their total is details["excluded"])
    excluded = exclusion_table({
        "missing count": missing,
        f"fewer than {max(min_whole, 1)} {what}": small,
        over_reason: over})
    c = n_all[ok].astype(np.int64)
    v = k_all[ok].astype(np.int64)
    _enough(c, test, min_units, f"stations with >= {min_whole} {what}")
    pct = (200 * v + c) // (2 * c)          # round half up of 100 v / c
    hits = int(np.sum(pct % 5 == 0))
    params = _params(null, **extra_params, min_units=min_units, alternative=alternative)
    details = {"excluded": int((~ok).sum()), over_key: int(over.sum())}
    labels = ["ends in 0 or 5", "other"]
    if null == "uniform":
        return _binomial_result(test, hits, c.size, 0.2, alternative,
                                classical_text, params, details, labels,
                                excluded=excluded)
    # 100 X / C rounds half up to a multiple of 5 exactly when it lies in
    # [5m - 0.5, 5m + 0.5): integer_percentages' window 1, period 5
    probs = integer_probabilities(c, v, window=1.0, period=5.0)
    return _poisson_binomial_result(test, hits, probs, alternative, null_text,
                                    params, details, labels, excluded=excluded)


TP05_NULL = ("each station's rounded turnout percentage ends in 0 or 5 with the "
             "probability that a binomial redraw of its ballots cast (registered "
             "voters, the station's own turnout) has")
TP05_CLASSICAL = "the rounded turnout percentage ends in 0 or 5 with probability 0.2"


@register("turnout_percent_05", family="digits", min_units=50, null=TP05_NULL,
          evidence=True)
def turnout_percent_05(registered, ballots_cast, *, min_registered=100, min_units=50,
                       alternative="greater", null="binomial", rng=None):
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
                       {"min_registered": min_registered})


TLAST_NULL = ("the last digit of each station's ballots cast is that of a binomial "
              "redraw (registered voters, the station's own turnout); stations "
              "whose expected count is at least min_count")
TLAST_CLASSICAL = "last digits of the ballots cast are uniform on 0-9"


@register("turnout_last_digit", family="digits", min_units=50, null=TLAST_NULL,
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
    n_all = _counts_1d(registered, "registered")
    c_all = _counts_1d(ballots_cast, "ballots_cast")
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

REPEAT_NULL = ("each count's last two digits are equal with the probability "
               "that a binomial redraw of it (its station's total, its own "
               "share) has; counts whose expected count is at least min_count")
ADJACENT_NULL = ("each count's last two digits are adjacent (differ by 1, 0 "
                 "next to 9) with the probability that a binomial redraw of "
                 "it (its station's total, its own share) has; counts whose "
                 "expected count is at least min_count")
REPEAT_CLASSICAL = ("the last two digits of a count are independent and "
                    "uniform, so they are equal with probability 0.1")
ADJACENT_CLASSICAL = ("the last two digits of a count are independent and "
                      "uniform, so they are adjacent (differ by 1, 0 next to "
                      "9) with probability 0.2")


def _pair_sets():
    """Indicators over the residues 0..99 of repeated and adjacent pairs."""
    r = np.arange(100)
    units, tens = r % 10, r // 10
    gap = np.abs(units - tens)
    return np.vstack([units == tens, (gap == 1) | (gap == 9)]).astype(float)


def _pair_test(test, votes, min_count, min_units, alternative, null, which):
    _check_options(min_count=min_count, min_units=min_units,
                   alternative=alternative)
    _check_null(null, "uniform")
    c, law, used, note = _pool(votes, min_count, null, "uniform", test,
                               min_units)
    units, tens = c % 10, (c // 10) % 10
    gap = np.abs(units - tens)
    hit = (units == tens) if which == 0 else ((gap == 1) | (gap == 9))
    hits = int(hit.sum())
    params = _params(used, min_count=min_count, min_units=min_units,
                     alternative=alternative)
    labels = [["repeated", "other"], ["adjacent", "other"]][which]
    if law is None:
        return _binomial_result(
            test, hits, c.size, [0.1, 0.2][which], alternative,
            [REPEAT_CLASSICAL, ADJACENT_CLASSICAL][which], params,
            _details(note), labels)
    probs = residue_probabilities(law[0], law[1], law[2], 100,
                                  _pair_sets()[which:which + 1])[:, 0]
    return _poisson_binomial_result(
        test, hits, probs, alternative, [REPEAT_NULL, ADJACENT_NULL][which],
        params, _details(note), labels)


@register("last_two_repeat", family="digits", min_units=50, null=REPEAT_NULL,
          evidence=True)
def last_two_repeat(votes, *, min_count=100, min_units=50,
                    alternative="less", null="binomial", rng=None):
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
    alternative : {"less", "two-sided", "greater"}
        People inventing numbers repeat digits too rarely, so ``"less"`` (the
        default) is the one-sided alternative of Beber & Scacco (2012).
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
    return _pair_test("last_two_repeat", votes, min_count, min_units,
                      alternative, null, 0)


@register("last_two_adjacent", family="digits", min_units=50,
          evidence=True,
          null=ADJACENT_NULL)
def last_two_adjacent(votes, *, min_count=100, min_units=50,
                      alternative="greater", null="binomial", rng=None):
    """Share of counts whose last two digits are adjacent (Beber & Scacco).

    Parameters
    ----------
    votes : array_like
        Vote counts (stations x options, pooled).
    min_count : int, default 100
        Counts below this are left out.
    min_units : int, default 50
        Fewer usable counts than this raises NotApplicable.
    alternative : {"greater", "two-sided", "less"}
        People inventing numbers favour adjacent digits, so ``"greater"``
        (the default) is the one-sided alternative of Beber & Scacco (2012).
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
    return _pair_test("last_two_adjacent", votes, min_count, min_units,
                      alternative, null, 1)
