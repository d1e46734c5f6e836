"""Shared pieces of the digit tests: input checks, the pool of counts and
their per-count laws, and the chi-square and binomial results.
"""

from __future__ import annotations


import numpy as np
import pandas as pd
from .._lazy import linalg, stats

from ....core.errors import NotApplicable
from ...result import TestResult, simulated_pvalue
from .._validation import as_counts


def _counts(x, name: str) -> np.ndarray:
    """All finite values of ``x`` (1-D or 2-D) as int64 counts."""
    arr = as_counts(name, x, missing="keep", dims=(1, 2)).ravel()
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
    the votes given; ``law`` is ``(n, c / n, 1)``: the binomial of each kept
    count, truncated below 1 (the third element is the truncation point the
    digit laws take).  Counts of 0 are left out (a 0 has fixed digits and
    carries nothing), so the law they are tested against is that of a count
    given that it is at least 1.  Without the truncation the redraws of a
    small count put the mass of 0 (a last digit 0, the pair 00) where no
    kept count can be, which biases the tests wherever parties get a
    handful of votes, as small parties do in some districts of the 2021
    Russian file (the false-alarm rates are in ``docs/calibration.md``).

    Selecting on the expected count rather than on the count itself keeps
    the selection (nearly) independent of the count's own noise: a rule
    ``c >= threshold`` favours low last digits wherever counts crowd just
    above the threshold, and no plug-in law can undo it, since the counts
    just above the threshold are there partly because their noise was
    upward.
    """
    arr = as_counts("votes", votes, missing="keep", dims=(1, 2))
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
    return c, (n, p, 1), null, note


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


def _details(note, **kw):
    return {**kw, **({"null_note": note} if note else {})}
