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
    (:mod:`audit.stations.forensics._digit_law`).  The expected digit frequencies are
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
It raises :class:`~audit.core.errors.NotApplicable` when too few counts are left.

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


# The tests register in this order (the order of the battery's rows).
from .leading import benford_first, benford_second, first_digit, second_digit, second_digit_mean
from .last import count_05, last_digit, percent_05, turnout_last_digit, turnout_percent_05
from .pairs import last_two_adjacent, last_two_repeat

__all__ = ["first_digit", "second_digit_mean", "second_digit", "last_digit",
           "count_05", "percent_05", "turnout_percent_05", "turnout_last_digit",
           "last_two_repeat", "last_two_adjacent",
           "benford_first", "benford_second"]
