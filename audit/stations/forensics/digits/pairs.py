"""Pairs of last two digits (Beber and Scacco 2012): repeated digits (``11``,
``22``) and adjacent digits (``12``, ``43``, ``90``) among counts with
more expected votes (``min_count``), each under an exact per-count
Poisson-binomial null.
"""

from __future__ import annotations

import numpy as np

from ...registry import register
from .._digit_law import residue_probabilities
from .._poisson_binomial import count_result
from ._common import (_binomial_result, _check_null, _check_options, _details, _params, _pool)


REPEAT_NULL = ("each count's last two digits are equal with the probability "
               "that a binomial redraw of it (its station's total, its own "
               "share), given that the redraw is at least 1, has; counts whose "
               "expected count is at least min_count")

ADJACENT_NULL = ("each count's last two digits are adjacent (differ by 1, 0 "
                 "next to 9) with the probability that a binomial redraw of "
                 "it (its station's total, its own share), given that the "
                 "redraw is at least 1, has; counts whose expected count is at "
                 "least min_count")

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
    return count_result(
        test, hits, probs, alternative, [REPEAT_NULL, ADJACENT_NULL][which],
        params, _details(note), labels)


@register("last_two_repeat", family="digits", min_units=50, null=REPEAT_NULL, cost=5,
          leaves_out=("missing",),
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


@register("last_two_adjacent", family="digits", min_units=50, cost=5,
          leaves_out=("missing",),
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
