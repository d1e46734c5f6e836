"""Tests of audit.stations.forensics.digits."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest

from audit.core.errors import NotApplicable
from audit.stations.forensics import digits as D
from audit.stations.registry import REGISTRY
from audit.stations.result import TestResult

ALL_VOTES_TESTS = [D.first_digit, D.second_digit_mean, D.second_digit,
                   D.last_digit, D.count_05, D.last_two_repeat,
                   D.last_two_adjacent]


def _second_digit_law():
    """Benford second-digit law written out independently (Hill 1995)."""
    return np.array([sum(math.log10(1 + 1 / (10 * k + d)) for k in range(1, 10))
                     for d in range(10)])


def _clean_counts(rng, size, low=300, high=5000, share=0.45):
    return rng.binomial(rng.integers(low, high, size=size), share)


# --------------------------------------------------------------------------
# the digit laws
# --------------------------------------------------------------------------

def test_first_digit_law_matches_powers_of_two():
    # Leading digits of 2^k are Benford-distributed (log10 2 is irrational).
    firsts = np.array([int(str(2 ** k)[0]) for k in range(1, 5001)])
    share = np.bincount(firsts, minlength=10)[1:] / firsts.size
    assert np.allclose(share, D.benford_first(), atol=0.003)
    assert D.benford_first()[0] == pytest.approx(0.30103, abs=1e-5)


def test_benford_sample_passes_first_digit_test():
    powers = [2 ** k for k in range(1, 3001)]
    # Python ints beyond int64: keep the first 15 digits (same leading digit)
    counts = np.array([int(str(x)[:15]) for x in powers], dtype=np.int64)
    res = D.first_digit(counts)
    assert res.pvalue > 0.5            # powers of 2 are *more* even than random
    table = res.table
    assert table["observed"].sum() == 3000
    assert np.allclose(table["expected_share"], np.log10(1 + 1 / np.arange(1, 10)))


def test_second_digit_mean_is_4187_and_law_matches():
    # Mebane (2006): the Benford second-digit mean is 4.187.
    law = _second_digit_law()
    assert np.allclose(D.benford_second(), law, atol=1e-12)
    res = D.second_digit_mean(np.arange(10, 100))
    assert res.expected == pytest.approx(4.187, abs=5e-4)


def test_second_digit_mean_of_log_uniform_sample():
    rng = np.random.default_rng(1)
    counts = np.floor(10 ** rng.uniform(1, 7, size=100_000))
    res = D.second_digit_mean(counts)
    law = _second_digit_law()
    var = np.dot(np.arange(10) ** 2, law) - np.dot(np.arange(10), law) ** 2
    se = math.sqrt(var / res.n)
    assert res.details["se"] == pytest.approx(se)
    assert abs(res.statistic - 4.187) < 3 * se + 5e-4
    assert res.pvalue > 0.001


def test_second_digit_mean_exact_law_matches_simulation():
    rng = np.random.default_rng(2)
    law = _second_digit_law()
    n = 60
    # a sample with mean second digit 3.3: P(|S - n mu| >= dev) by simulation
    counts = np.array([10 + d for d in rng.choice(10, size=n, p=law)])
    counts[:15] = 10                                   # pull the mean down
    res = D.second_digit_mean(counts)
    assert res.details["pvalue_method"] == "exact"
    sums = rng.choice(10, size=(200_000, n), p=law).sum(axis=1)
    mu = np.dot(np.arange(10), law)
    dev = abs((counts % 10).sum() - n * mu)
    mc = np.mean(np.abs(sums - n * mu) >= dev - 1e-9)
    assert res.pvalue == pytest.approx(mc, rel=0.1, abs=5e-4)


def test_beber_scacco_pair_probabilities():
    pairs = [(a, b) for a in range(10) for b in range(10)]
    repeats = sum(a == b for a, b in pairs) / 100
    adjacent = sum((a - b) % 10 in (1, 9) for a, b in pairs) / 100
    counts = np.arange(100, 1100)          # every pair ten times
    assert D.last_two_repeat(counts).expected == repeats == 0.1
    assert D.last_two_adjacent(counts).expected == adjacent == 0.2
    assert D.last_two_repeat(counts).statistic == 0.1
    assert D.last_two_adjacent(counts).statistic == 0.2
    assert D.last_two_adjacent(counts, alternative="two-sided").pvalue == pytest.approx(1.0)
    # one-sided by default (invented numbers have too many adjacent pairs):
    # exactly the expected share is the middle of the law
    assert 0.4 < D.last_two_adjacent(counts).pvalue < 0.6


# --------------------------------------------------------------------------
# calibration on clean counts and power against planted patterns
# --------------------------------------------------------------------------

@pytest.mark.parametrize("test", [
    D.last_digit, D.count_05,
    # the pair tests share the machinery of count_05 (slower to run: make test-all)
    pytest.param(D.last_two_repeat, marks=pytest.mark.slow),
    pytest.param(D.last_two_adjacent, marks=pytest.mark.slow)])
def test_uniform_last_digits_flagged_at_nominal_rate(test):
    rng = np.random.default_rng(3)
    pvalues = np.array([test(_clean_counts(rng, 400)).pvalue
                        for _ in range(200)])
    # 200 draws at a true 5% rate: 99.9% of the time between 1 and 23
    assert 1 <= np.sum(pvalues < 0.05) <= 23
    assert np.all((pvalues >= 0) & (pvalues <= 1))


def test_second_digit_tests_calibrated_on_benford_counts():
    rng = np.random.default_rng(4)
    p_mean, p_chi = [], []
    for _ in range(150):
        counts = np.floor(10 ** rng.uniform(1, 6, size=500))
        p_mean.append(D.second_digit_mean(counts).pvalue)
        p_chi.append(D.second_digit(counts).pvalue)
    for p in (np.array(p_mean), np.array(p_chi)):
        assert np.sum(p < 0.05) <= 18


def test_planted_round_counts_are_detected():
    rng = np.random.default_rng(5)
    counts = _clean_counts(rng, 3000)
    counts[:300] = np.round(counts[:300], -1)
    assert D.count_05(counts, alternative="greater").pvalue < 1e-8
    assert D.last_digit(counts).pvalue < 1e-8
    assert D.last_digit(counts).table.set_index("digit").loc[0, "observed"] > 500


def test_percent_05_rounds_half_up_and_detects_round_shares():
    # 200 ballots: 25 votes = 12.5% -> 13 (no); 29 votes = 14.5% -> 15 (yes)
    cast = np.full(60, 200)
    assert D.percent_05(cast, np.full(60, 25), min_ballots=100).statistic == 0
    assert D.percent_05(cast, np.full(60, 29), min_ballots=100).statistic == 1
    rng = np.random.default_rng(6)
    cast = rng.integers(300, 3000, size=2000)
    leader = rng.binomial(cast, rng.uniform(0.2, 0.8, size=2000))
    assert D.percent_05(cast, leader).pvalue > 0.001
    leader[:300] = np.round(0.70 * cast[:300])
    assert D.percent_05(cast, leader, alternative="greater").pvalue < 1e-10


# --------------------------------------------------------------------------
# refusals, small samples, inputs
# --------------------------------------------------------------------------

@pytest.mark.parametrize("test, small", [(D.last_digit, 99), (D.count_05, 50),
                                         (D.second_digit_mean, 9),
                                         (D.last_two_adjacent, 99)])
def test_counts_too_small_are_refused(test, small):
    with pytest.raises(NotApplicable, match="needs at least 50"):
        test(np.full(1000, small))


def test_small_samples_use_simulated_multinomial_law():
    rng = np.random.default_rng(7)
    counts = _clean_counts(rng, 40)           # 4 expected per digit (< 5)
    a = D.last_digit(counts, min_units=20, n_resamples=2000, rng=1)
    b = D.last_digit(counts, min_units=20, n_resamples=2000, rng=1)
    assert a.details["pvalue_method"] == "multinomial simulation"
    assert a.pvalue == b.pvalue and 1 / 2001 <= a.pvalue <= 1


def test_votes_matrix_with_missing_values_is_pooled():
    rng = np.random.default_rng(8)
    matrix = pd.DataFrame({"A": _clean_counts(rng, 300),
                           "B": _clean_counts(rng, 300)}).astype("Int64")
    matrix.iloc[0, 1] = pd.NA
    res = D.last_digit(matrix)
    # the documented rule: a count is used when its expected count (its
    # station's total times its option's overall share) is at least 100, and
    # it is neither 0 nor the whole station; the missing one is not used
    v = matrix.to_numpy(dtype=float, na_value=np.nan)
    total = np.nansum(v, axis=1, keepdims=True)
    share = np.nansum(v, axis=0) / np.nansum(v)
    used = np.isfinite(v) & (total * share >= 100) & (v > 0) & (v < total)
    assert res.n == int(used.sum()) and not used[0, 1]
    assert D.last_digit(v).n == res.n
    zero = v.copy()
    zero[0, 1] = 0                  # a count of 0 is left out like a missing one
    assert D.last_digit(zero).statistic == pytest.approx(res.statistic)


@pytest.mark.parametrize("test", ALL_VOTES_TESTS)
def test_result_contract(test):
    rng = np.random.default_rng(9)
    res = test(_clean_counts(rng, 500), rng=0)
    assert isinstance(res, TestResult) and 0 <= res.pvalue <= 1
    assert res.test == test.spec.name and res.n > 0
    assert {"observed", "expected"} <= set(res.table.columns)
    assert res.table["observed"].sum() == res.n
    assert res.table["expected"].sum() == pytest.approx(res.n)
    assert res.to_frame().shape[0] == 1


@pytest.mark.parametrize("test", ALL_VOTES_TESTS)
def test_bad_votes_are_rejected(test):
    with pytest.raises(ValueError, match="votes must be non-negative"):
        test(np.array([120, -3] * 50))
    with pytest.raises(ValueError, match="votes must hold whole numbers"):
        test(np.array([120.5] * 100))
    with pytest.raises(TypeError, match="votes must be an array"):
        test("123")


def test_bad_options_are_rejected():
    counts = np.arange(100, 400)
    with pytest.raises(ValueError, match="alternative must be"):
        D.count_05(counts, alternative="bigger")
    with pytest.raises(ValueError, match="min_count must be a non-negative"):
        D.last_digit(counts, min_count=-1)
    with pytest.raises(ValueError, match="n_resamples must be a positive"):
        D.first_digit(counts, n_resamples=0)
    with pytest.raises(ValueError, match="same length"):
        D.percent_05(np.full(100, 500), np.full(99, 200))
    # more leader votes than ballots: impossible stations are left out and
    # counted; with none left the test refuses
    with pytest.raises(NotApplicable, match="0 left"):
        D.percent_05(np.full(100, 500), np.full(100, 600))
    cast = np.full(100, 500)
    lead = np.r_[np.full(10, 600), np.full(90, 250)]
    res = D.percent_05(cast, lead)
    assert res.n == 90 and res.details["excluded_leader_over_ballots"] == 10


def test_all_registered_with_roles():
    for test in ALL_VOTES_TESTS:
        assert REGISTRY[test.spec.name].needs == ("votes",)
        assert REGISTRY[test.spec.name].family == "digits"
    assert REGISTRY["percent_05"].needs == ("ballots_cast", "leader")


def test_percent_05_lists_excluded_stations_at_their_positions():
    cast = np.full(100, 500.0)
    lead = np.full(100, 250.0)
    lead[7] = 600                    # more leader votes than ballots
    cast[2] = 40                     # too few ballots
    lead[5] = np.nan                 # missing
    res = D.percent_05(cast, lead)
    listed = dict(zip(res.excluded["position"], res.excluded["reason"]))
    assert listed == {2: "fewer than 100 ballots cast", 5: "missing count",
                      7: "more leader votes than ballots"}
    assert len(res.excluded) == res.details["excluded"] == 3
    assert res.details["excluded_leader_over_ballots"] == 1
    # pooled digit tests work on counts, not stations: nothing to list
    assert D.last_digit(np.arange(100, 400)).excluded is None


# --------------------------------------------------------------------------
# the binomial per-count null
# --------------------------------------------------------------------------

from audit.stations.forensics import _digit_law as L  # noqa: E402


def _truncated_draws(rng, n, p, t, size):
    """``size`` draws of Binomial(n, p) kept only if >= t (rejection)."""
    out = np.empty(0, np.int64)
    while out.size < size:
        x = rng.binomial(n, p, size=2 * size)
        out = np.r_[out, x[x >= t]]
    return out[:size]


@pytest.mark.parametrize("n, c, t", [(140, 100, 100), (2000, 130, 100),
                                     (900, 450, 100), (60, 30, 0)])
def test_residue_law_matches_monte_carlo(n, c, t):
    rng = np.random.default_rng(10)
    x = _truncated_draws(rng, n, c / n, t, 200_000)
    exact = L.residue_probabilities([n], [c / n], t, 10, np.eye(10))[0]
    mc = np.bincount(x % 10, minlength=10) / x.size
    se = np.sqrt(exact * (1 - exact) / x.size)
    assert np.all(np.abs(mc - exact) < 5 * se + 1e-12)
    pairs = L.residue_probabilities([n], [c / n], t, 100, L_pair_sets())[0]
    u, tens = x % 10, (x // 10) % 10
    mc_pairs = [np.mean(u == tens), np.mean((abs(u - tens) == 1) | (abs(u - tens) == 9))]
    assert np.allclose(mc_pairs, pairs, atol=5 * np.sqrt(0.25 / x.size))


def L_pair_sets():
    r = np.arange(100)
    gap = np.abs(r % 10 - r // 10)
    return np.vstack([gap == 0, (gap == 1) | (gap == 9)]).astype(float)


@pytest.mark.parametrize("position, n, c, t", [(1, 400, 180, 1), (1, 40, 12, 1),
                                               (2, 800, 95, 10), (2, 300, 150, 100)])
def test_leading_digit_law_matches_monte_carlo(position, n, c, t):
    rng = np.random.default_rng(11)
    x = _truncated_draws(rng, n, c / n, t, 200_000)
    exact = L.leading_digit_probabilities([n], [c / n], t, position)[0]
    digits = np.array([int(str(v)[position - 1]) for v in x])
    mc = np.bincount(digits, minlength=10)[(1 if position == 1 else 0):] / x.size
    se = np.sqrt(exact * (1 - exact) / x.size)
    assert np.all(np.abs(mc - exact) < 5 * se + 1e-12)


def test_percent_05_law_matches_monte_carlo():
    rng = np.random.default_rng(12)
    cast = np.array([150, 333, 1200])
    lead = np.array([75, 101, 640])
    res = D.percent_05(np.repeat(cast, 20), np.repeat(lead, 20), min_units=50)
    for cst, ld in zip(cast, lead):
        x = rng.binomial(cst, ld / cst, size=200_000)
        pct = (200 * x + cst) // (2 * cst)
        mc = np.mean(pct % 5 == 0)
        from audit.stations.forensics.integer_percentages import integer_probabilities
        exact = integer_probabilities([cst], [ld], window=1.0, period=5.0)[0]
        assert abs(mc - exact) < 5 * np.sqrt(exact * (1 - exact) / x.size)
    assert res.params["null"] == "binomial"


def _clean_matrix(rng, stations, sizes=(300, 3000), k=3):
    """Multinomial station counts: each station's own shares around common
    option shares (a clean election)."""
    size = rng.integers(*sizes, size=stations)
    shares = rng.dirichlet(np.r_[30.0, 15.0, 5.0, np.full(k - 3, 3.0)][:k],
                           size=stations)
    return rng.multinomial(size, shares)


@pytest.mark.parametrize("test", [
    D.last_digit, D.count_05,
    # the pair tests share the machinery of count_05 (slower to run: make test-all)
    pytest.param(D.last_two_repeat, marks=pytest.mark.slow),
    pytest.param(D.last_two_adjacent, marks=pytest.mark.slow)])
def test_binomial_null_holds_its_size_on_clean_matrices(test):
    # small stations and a small party: the classical null's weak spots
    rng = np.random.default_rng(13)
    pvalues = np.array([test(_clean_matrix(rng, 300, sizes=(100, 900))).pvalue
                        for _ in range(200)])
    # 200 draws at a true 5% rate: 99.9% of the time between 1 and 23
    assert np.sum(pvalues < 0.05) <= 23


def test_classical_null_fails_where_the_binomial_null_holds():
    # counts just above min_count: low last digits are over-represented
    rng = np.random.default_rng(14)
    size = rng.integers(200, 260, size=20000)
    a = rng.binomial(size, 0.45)
    votes = np.c_[a, size - a]
    assert D.last_digit(votes, null="uniform").pvalue < 1e-4
    assert D.last_digit(votes).pvalue > 0.001


def test_injected_round_endings_and_invented_digits_are_detected():
    rng = np.random.default_rng(15)
    votes = _clean_matrix(rng, 2000)
    rounded = votes.copy()
    rounded[:200, 0] = np.round(rounded[:200, 0], -1)
    assert D.count_05(rounded, alternative="greater").pvalue < 1e-8
    assert D.last_digit(rounded).pvalue < 1e-8
    invented = votes.copy()
    # a person writing last digits: 7 and 3 favoured, 0 avoided
    pick = rng.choice(10, size=1500, p=[0.02, 0.1, 0.1, 0.2, 0.08, 0.05,
                                        0.1, 0.2, 0.08, 0.07])
    invented[:1500, 0] = invented[:1500, 0] // 10 * 10 + pick
    assert D.last_digit(invented).pvalue < 1e-6
    adjacent = votes.copy()
    adjacent[:300, 0] = adjacent[:300, 0] // 100 * 100 + 34
    assert D.last_two_adjacent(adjacent, alternative="greater").pvalue < 1e-8


def test_null_is_recorded_and_one_dimensional_input_falls_back():
    rng = np.random.default_rng(16)
    votes = _clean_matrix(rng, 500)
    res = D.last_digit(votes)
    assert res.params["null"] == "binomial" and "null_note" not in res.details
    flat = D.last_digit(votes.ravel())
    assert flat.params["null"] == "uniform"
    assert "one-dimensional" in flat.details["null_note"]
    assert flat.pvalue == D.last_digit(votes, null="uniform").pvalue
    assert D.first_digit(votes.ravel()).params["null"] == "benford"
    with pytest.raises(ValueError, match="null must be 'binomial' or 'uniform'"):
        D.count_05(votes, null="benford")


def test_one_option_fixes_every_count():
    with pytest.raises(NotApplicable, match="0 left"):
        D.last_digit(np.arange(100, 400)[:, None])


def test_binomial_null_table_and_missing_counts():
    rng = np.random.default_rng(17)
    votes = _clean_matrix(rng, 400).astype(float)
    votes[3, 1] = np.nan
    res = D.last_digit(votes)
    assert res.table["expected"].sum() == pytest.approx(res.n)
    # the missing count is skipped; its station's total is the others' sum
    filled = votes.copy()
    filled[3, 1] = 0
    assert D.last_digit(filled).pvalue == pytest.approx(res.pvalue)


# ------------------------------------------------------------ turnout digits
def _turnout_data(rng, n=2000):
    reg = rng.integers(150, 3000, size=n)
    cast = rng.binomial(reg, rng.uniform(0.3, 0.9, size=n))
    return reg, cast


@pytest.mark.parametrize("test", [D.turnout_percent_05, D.turnout_last_digit])
def test_turnout_digit_tests_hold_their_size_on_binomial_turnout(test):
    rejections = sum(test(*_turnout_data(np.random.default_rng(100 + k)), rng=k).pvalue
                     <= 0.05 for k in range(120))
    # 120 clean data sets at alpha 0.05: a binomial 99.9% interval is 0..16
    assert rejections <= 16


def test_turnout_percent_05_sees_turnout_written_to_targets():
    reg, cast = _turnout_data(np.random.default_rng(1))
    assert D.turnout_percent_05(reg, cast).pvalue > 0.001
    cast[:200] = np.round(0.7 * reg[:200]).astype(int)     # turnout written to 70%
    res = D.turnout_percent_05(reg, cast, alternative="greater")
    assert res.pvalue < 1e-8 and res.details["hits"] > res.details["expected_hits"] + 100


def test_turnout_last_digit_sees_rounded_ballots_and_counts_exclusions():
    reg, cast = _turnout_data(np.random.default_rng(2))
    cast = cast.astype(float)
    cast[0] = np.nan                      # missing
    cast[1] = reg[1] + 5                  # impossible: kept by the reader, left out here
    cast[2] = 0                           # degenerate law
    res = D.turnout_last_digit(reg, cast)
    reasons = res.excluded.set_index("position")["reason"]
    assert reasons[0] == "missing count"
    assert reasons[1] == "more ballots than registered voters"
    assert reasons[2] == "no ballots, or every registered voter"
    assert res.details["excluded_cast_over_registered"] == 1
    assert res.details["excluded"] == len(res.excluded)
    assert res.n == len(reg) - len(res.excluded)
    rounded = cast.copy()
    rounded[3:300] = np.round(rounded[3:300], -1)
    assert D.turnout_last_digit(reg, rounded).pvalue < 1e-6


def test_turnout_percent_05_classical_null_is_a_fifth():
    reg, cast = _turnout_data(np.random.default_rng(3))
    res = D.turnout_percent_05(reg, cast, null="uniform")
    assert res.expected == pytest.approx(0.2)
    assert res.params["null"] == "uniform" and res.params["min_registered"] == 100
