"""Tests of audit.stations.forensics.integer_percentages.

The published numbers come from Kobak, Shpilkin & Pshenichnikov's analyses
of the Russian polling-station files (dkobak/elections, reproduced in
/work/shared/datasets/README.md): excess of integer stations 2020 about
3,675 (3,611 with turnout from ballots cast), 2021 about 1,310, 2024 about
2,931, Monte Carlo SD about 115.
"""

from __future__ import annotations

import functools
import os
import warnings
from fractions import Fraction
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from scipy import stats

from audit.core.errors import NotApplicable
from audit.stations.forensics.integer_percentages import (
    integer_percentages, integer_probabilities)
from audit.stations.forensics._poisson_binomial import poisson_binomial_sf
from audit.stations.registry import REGISTRY
from audit.stations.result import TestResult

DATA = Path(os.environ.get("AUDIT_DATA_DIR", "/work/shared/datasets")) / "ru-cik"
LEADERS = {2020: "ДА", 2021: "ЕДИНАЯ РОССИЯ", 2024: "Путин"}


# --------------------------------------------------------------------------
# helpers
# --------------------------------------------------------------------------

@functools.lru_cache(maxsize=None)
def _read_raw(year: int) -> dict:
    frame = pd.read_csv(DATA / f"{year}.csv.zip")
    cols = list(frame.columns)

    def pick(*parts, exclude=()):
        return [c for c in cols if any(p in c for p in parts)
                and not any(x in c for x in exclude)]

    reg = pick("Число избирателей, включенных", "Число избирателей, внесенных",
               "Число участников голосования, включенных")
    issued = pick("бюллетеней, выданных")
    if year == 2020:
        cast = pick("Число бюллетеней, содержащихся")
    else:
        cast = pick("действительных", exclude=("отметок",))
    leader = pick(LEADERS[year])
    assert len(reg) == 1 and len(leader) == 1 and issued and cast

    def total(names):
        sub = frame[names].astype(float)
        return sub.sum(axis=1).where(sub.notna().all(axis=1)).to_numpy()

    return {"registered": frame[reg[0]].to_numpy(float),
            "ballots_issued": total(issued), "ballots_cast": total(cast),
            "leader": frame[leader[0]].to_numpy(float)}


def _load_raw(year: int) -> dict:
    """Read a dkobak/elections file with pandas, columns by Russian words."""
    return dict(_read_raw(year))


@functools.lru_cache(maxsize=None)
def _read(year: int) -> dict:
    try:   # the package reader is written in parallel; fall back if broken
        from audit.tables.readers import read
        table = read(DATA / f"{year}.csv.zip", format="ru-cik")
    except Exception as exc:  # noqa: BLE001
        warnings.warn(f"audit.tables.readers unusable ({exc!r}); reading with pandas")
        return _read_raw(year)
    data = table.data
    return {"registered": data["registered"],
            "ballots_issued": data["ballots_issued"],
            "ballots_cast": data["ballots_cast"],
            "leader": data[table.leader_column(LEADERS[year])]}


def _load(year: int) -> dict:
    """Prefer the package reader when it exists; fall back to pandas."""
    return dict(_read(year))


def _clean_election(rng, n=1500, low=150, high=3000):
    registered = rng.integers(low, high, size=n)
    turnout = np.clip(rng.normal(0.6, 0.1, size=n), 0.2, 0.95)
    issued = rng.binomial(registered, turnout)
    share = np.clip(rng.normal(0.5, 0.12, size=n), 0.05, 0.95)
    leader = rng.binomial(issued, share)
    return registered, issued, issued.copy(), leader


def _brute_probability(n: int, p: float, window=0.1, period=1.0) -> float:
    """Sum of binomial pmf over every k whose exact percentage is round."""
    half = Fraction(str(window)) / 2
    per = Fraction(str(period))
    total = 0.0
    pmf = stats.binom.pmf(np.arange(n + 1), n, p)
    for k in range(n + 1):
        x = Fraction(100 * k, n) + half       # round iff (x mod P) < 2 * half
        if x - per * (x // per) < 2 * half:
            total += pmf[k]
    return total


def _poisson_binomial_by_recursion(p):
    """Exact pmf by the textbook one-at-a-time recursion (no FFT)."""
    pmf = np.array([1.0])
    for q in p:
        pmf = np.convolve(pmf, [1 - q, q])
    return pmf


# --------------------------------------------------------------------------
# published numbers
# --------------------------------------------------------------------------

needs_data = pytest.mark.skipif(not (DATA / "2020.csv.zip").exists(),
                                reason="ru-cik files not in AUDIT_DATA_DIR")


@needs_data
@pytest.mark.parametrize("year, published", [(2020, 3675), (2021, 1310),
                                             (2024, 2931)])
def test_reproduces_published_excess(year, published):
    # Kobak, Shpilkin & Pshenichnikov (dkobak/elections analyses): about
    # 3,675 / 1,310 / 2,931 stations in excess, SD about 115.  Their figure
    # is a 1,000-run Monte Carlo mean, itself uncertain by ~115/sqrt(1000).
    res = integer_percentages(**_load(year))
    d = res.details
    assert d["excess"] == pytest.approx(published, abs=25)
    assert d["sd"] == pytest.approx(115, abs=5)
    assert d["observed"] - d["expected"] == pytest.approx(d["excess"])
    assert res.pvalue < 1e-20 and d["log10_pvalue"] < -20


@needs_data
def test_reproduces_2020_with_turnout_from_ballots_cast():
    # Same source: about 3,611 when turnout uses ballots cast.
    data = _load_raw(2020)
    data["ballots_issued"] = data["ballots_cast"]
    res = integer_percentages(**data)
    assert res.details["excess"] == pytest.approx(3611, abs=25)


@needs_data
def test_raw_and_package_reader_agree_on_2024():
    a = integer_percentages(**_load_raw(2024)).details
    b = integer_percentages(**_load(2024)).details
    assert abs(a["excess"] - b["excess"]) < 10


# --------------------------------------------------------------------------
# exact law against independent computations
# --------------------------------------------------------------------------

@pytest.mark.parametrize("n, k", [(100, 37), (101, 50), (523, 400),
                                  (2000, 1001), (1234, 617), (4000, 3900)])
@pytest.mark.parametrize("window, period", [(0.1, 1.0), (0.1, 0.5),
                                            (0.2, 5.0), (0.1, 10.0)])
def test_station_probability_matches_brute_force(n, k, window, period):
    got = integer_probabilities([n], [k], window=window, period=period)[0]
    want = _brute_probability(n, k / n, window, period)
    assert got == pytest.approx(want, rel=1e-9, abs=1e-13)


def test_many_stations_at_once_match_brute_force():
    # stations of very different sizes and rates in one call: the windows
    # are visited by rank across stations, so mixing them must not matter
    rng = np.random.default_rng(11)
    n = np.concatenate([rng.integers(1, 60, 40), rng.integers(60, 5000, 40),
                        [1, 2, 7, 100, 100, 100, 20000]])
    k = np.minimum(np.floor(rng.uniform(0, 1.05, n.size) * n), n).astype(int)
    k[-3], k[-2] = 0, 100                      # rates exactly 0 and 1
    got = integer_probabilities(n, k)
    want = [_brute_probability(int(a), b / a) for a, b in zip(n, k)]
    np.testing.assert_allclose(got, want, rtol=1e-9, atol=1e-12)


def test_rates_of_zero_and_one_are_point_masses():
    # p = 0 or 1 redraws K = 0 or K = n for sure; 0% and 100% are round
    got = integer_probabilities([3, 250, 250], [0, 0, 250])
    np.testing.assert_array_equal(got, [1.0, 1.0, 1.0])


def test_log_factorials_fallback_matches_the_table(monkeypatch):
    from audit.stations.forensics import integer_percentages as ip

    n = np.array([150, 999, 3001, 12345])
    k = np.array([70, 600, 1500, 8000])
    table = integer_probabilities(n, k)
    monkeypatch.setattr(ip, "_TABLE_MAX", 10)   # forces gammaln per value
    np.testing.assert_allclose(integer_probabilities(n, k), table, rtol=1e-10)


def test_saddlepoint_for_very_many_stations_matches_exact(monkeypatch):
    # the path taken above _EXACT_MAX stations, checked against the exact
    # pmf on 200,000 stations, in the centre and far into both tails
    from audit.stations.forensics import _poisson_binomial as pb

    rng = np.random.default_rng(8)
    p = rng.uniform(0.02, 0.4, 200_000)
    mean, sd = p.sum(), np.sqrt(np.sum(p * (1 - p)))
    xs = [mean - 4 * sd, mean - sd, mean + 0.5, mean + 2 * sd, mean + 5 * sd]
    exact = [poisson_binomial_sf(p, x) for x in xs]
    monkeypatch.setattr(pb, "_EXACT_MAX", 1000)
    approx = [poisson_binomial_sf(p, x) for x in xs]
    for (pe, _, how_e), (pa, _, how_a) in zip(exact, approx):
        assert how_e == "exact" and how_a == "saddlepoint"
        assert pa == pytest.approx(pe, rel=2e-3, abs=1e-6)


def test_blocks_give_the_same_answer_as_one_pass(monkeypatch):
    from audit.stations.forensics import integer_percentages as ip

    rng = np.random.default_rng(4)
    reg = rng.integers(100, 3000, 5000)
    issued = rng.binomial(reg, 0.6)
    lead = rng.binomial(issued, 0.55)
    whole = integer_percentages(reg, issued, issued, lead)
    monkeypatch.setattr(ip, "_BLOCK", 777)
    blocks = integer_percentages(reg, issued, issued, lead)
    assert blocks.details["expected"] == pytest.approx(whole.details["expected"], rel=1e-12)
    assert blocks.pvalue == pytest.approx(whole.pvalue, rel=1e-9)
    pd.testing.assert_frame_equal(blocks.table, whole.table, rtol=1e-10)


def test_window_is_half_open():
    # 2000 voters: 999 -> 49.95% (round), 1001 -> 50.05% (not round)
    n = np.full(200, 2000)
    base = dict(registered=n, ballots_cast=n, leader=np.full(200, 777))
    res_in = integer_percentages(ballots_issued=np.full(200, 999), **base)
    res_out = integer_percentages(ballots_issued=np.full(200, 1001), **base)
    assert res_in.details["turnout_observed"] == 200
    assert res_out.details["turnout_observed"] == 0


def test_poisson_binomial_tail_matches_recursion():
    rng = np.random.default_rng(3)
    p = rng.uniform(0, 0.6, size=400)
    pmf = _poisson_binomial_by_recursion(p)
    mean, sd = p.sum(), np.sqrt(np.sum(p * (1 - p)))
    for z in (-2, 0, 1, 3, 5):
        x = int(np.ceil(mean + z * sd))
        got, _, how = poisson_binomial_sf(p, x)
        assert how == "exact"
        assert got == pytest.approx(pmf[x:].sum(), rel=1e-8, abs=1e-14)


def test_saddlepoint_tail_matches_recursion_far_out():
    # The recursion has no cancellation, so it is accurate even at 1e-40.
    rng = np.random.default_rng(4)
    p = rng.uniform(0, 0.4, size=300)
    pmf = _poisson_binomial_by_recursion(p)
    mean, sd = p.sum(), np.sqrt(np.sum(p * (1 - p)))
    for z in (8, 12, 16):
        x = int(np.ceil(mean + z * sd))
        got, log10p, how = poisson_binomial_sf(p, x)
        want = pmf[x:].sum()
        assert how == "saddlepoint"
        assert want < 1e-10
        assert got == pytest.approx(want, rel=0.02)
        assert log10p == pytest.approx(np.log10(want), abs=0.01)


def test_expected_count_and_sd_are_sums_over_stations():
    rng = np.random.default_rng(5)
    reg, iss, cast, lead = _clean_election(rng, n=120)
    reg[:20] = rng.integers(100, 130, size=20)    # small stations too
    iss[:20] = rng.binomial(reg[:20], 0.5)
    cast[:20], lead[:20] = iss[:20], rng.binomial(iss[:20], 0.4)
    res = integer_percentages(reg, iss, cast, lead)
    a = np.array([_brute_probability(int(n), k / n) for n, k in zip(reg, iss)])
    b = np.array([_brute_probability(int(n), k / n) for n, k in zip(cast, lead)])
    e = 1 - (1 - a) * (1 - b)
    assert res.details["expected"] == pytest.approx(e.sum(), rel=1e-9)
    assert res.details["sd"] == pytest.approx(np.sqrt(np.sum(e * (1 - e))),
                                              rel=1e-9)
    assert res.details["turnout_expected"] == pytest.approx(a.sum(), rel=1e-9)
    assert res.details["both_expected"] == pytest.approx(np.sum(a * b), rel=1e-9)
    assert res.details["either_voters_expected"] == pytest.approx(
        np.dot(reg, e), rel=1e-9)


# --------------------------------------------------------------------------
# exact against the published Monte Carlo procedure
# --------------------------------------------------------------------------

def test_exact_agrees_with_simulation():
    rng = np.random.default_rng(6)
    data = _clean_election(rng, n=2000)
    n_sim = 400
    exact = integer_percentages(*data).details
    sim = integer_percentages(*data, method="simulate", n_resamples=n_sim,
                              rng=7).details
    for cat in ("either", "turnout", "leader", "both"):
        se = exact[f"{cat}_sd"] / np.sqrt(n_sim)
        assert abs(sim[f"{cat}_expected"] - exact[f"{cat}_expected"]) < 4 * se
        # SD of a sample SD over 400 runs is about 3.5%
        assert sim[f"{cat}_sd"] == pytest.approx(exact[f"{cat}_sd"], rel=0.15)
    assert sim["observed"] == exact["observed"]


def test_simulation_is_reproducible_and_pvalue_never_zero():
    rng = np.random.default_rng(8)
    reg, iss, cast, lead = _clean_election(rng, n=400)
    iss[:100] = np.round(0.7 * reg[:100])
    cast = iss.copy()
    lead = np.minimum(lead, cast)
    a = integer_percentages(reg, iss, cast, lead, method="simulate",
                            n_resamples=50, rng=11)
    b = integer_percentages(reg, iss, cast, lead, method="simulate",
                            n_resamples=50, rng=11)
    assert a.pvalue == b.pvalue and a.details["expected"] == b.details["expected"]
    assert a.pvalue == pytest.approx(1 / 51)


@pytest.mark.slow  # size by simulation; the exact mean and SD stay fast
def test_clean_elections_are_flagged_at_about_the_nominal_rate():
    rng = np.random.default_rng(9)
    pvalues = []
    for _ in range(150):
        registered = rng.integers(150, 2500, size=300)
        issued = rng.binomial(registered, 0.62)
        leader = rng.binomial(issued, 0.48)
        pvalues.append(integer_percentages(registered, issued, issued,
                                           leader).pvalue)
    pvalues = np.array(pvalues)
    # 150 draws at a true 5% rate: 99.9% of the time at most 18 rejections
    assert np.sum(pvalues < 0.05) <= 18
    assert 0.35 < np.median(pvalues) < 0.65


def test_planted_round_percentages_are_detected():
    rng = np.random.default_rng(10)
    reg, iss, cast, lead = _clean_election(rng, n=1500, low=1000)
    # 300 stations report a leader share rounded to 65% (not always inside
    # the 0.1-point window: rounding to whole votes can miss it)
    lead[:300] = np.round(0.65 * cast[:300])
    res = integer_percentages(reg, iss, cast, lead)
    assert res.details["leader_excess"] > 150
    assert res.pvalue < 1e-20


# --------------------------------------------------------------------------
# options, exclusions, result contract
# --------------------------------------------------------------------------

def test_result_contract_and_table():
    rng = np.random.default_rng(12)
    res = integer_percentages(*_clean_election(rng, n=500))
    assert isinstance(res, TestResult)
    assert res.test == "integer_percentages" and 0 <= res.pvalue <= 1
    assert res.statistic == res.details["observed"]
    assert res.expected == pytest.approx(res.details["expected"])
    for key in ("observed", "expected", "excess", "sd", "turnout_only_observed",
                "leader_only_expected", "either_voters_sd"):
        assert key in res.details
    t = res.table
    assert set(t["quantity"]) == {"turnout", "leader"}
    rounds = t[t["is_round"]]
    assert np.allclose(rounds["center"] % 1.0, 0) and len(rounds) == 2 * 101
    turnout = rounds[rounds["quantity"] == "turnout"]
    assert turnout["observed"].sum() == res.details["turnout_observed"]
    assert turnout["expected"].sum() == pytest.approx(
        res.details["turnout_expected"])
    assert t["expected"][~t["is_round"]].isna().all()
    assert res.to_frame().shape[0] == 1 and res.to_dict()["n"] == res.n


def test_voter_weighting():
    rng = np.random.default_rng(13)
    data = _clean_election(rng, n=500)
    res = integer_percentages(*data, weight="voters")
    assert res.statistic == res.details["either_voters_observed"]
    assert res.expected == pytest.approx(res.details["either_voters_expected"])
    assert 0 < res.pvalue <= 1


def test_coarser_period_gives_fewer_round_values():
    rng = np.random.default_rng(14)
    data = _clean_election(rng, n=500)
    e1 = integer_percentages(*data).details["turnout_expected"]
    e5 = integer_percentages(*data, period=5.0).details["turnout_expected"]
    e05 = integer_percentages(*data, period=0.5).details["turnout_expected"]
    assert e5 == pytest.approx(e1 / 5, rel=0.2)
    assert e05 == pytest.approx(2 * e1, rel=0.1)


def test_exclusions_are_counted():
    rng = np.random.default_rng(15)
    reg, iss, cast, lead = (x.astype(float) for x in _clean_election(rng, n=300))
    reg[0] = 50                 # too small
    cast[1] = 0                 # no ballots
    lead[1] = 0
    iss[2] = reg[2]             # 100% turnout
    lead[3] = np.nan            # missing
    res = integer_percentages(reg, iss, cast, lead)
    d = res.details
    assert (d["excluded_small"], d["excluded_no_ballots"],
            d["excluded_high_share"], d["excluded_missing"]) == (1, 1, 1, 1)
    assert res.n == 296


def test_pandas_nullable_input_is_accepted():
    rng = np.random.default_rng(16)
    cols = [pd.Series(x, dtype="Int64") for x in _clean_election(rng, n=200)]
    cols[3].iloc[0] = pd.NA
    res = integer_percentages(*cols)
    assert res.details["excluded_missing"] == 1


def test_too_few_stations_is_not_applicable():
    rng = np.random.default_rng(17)
    with pytest.raises(NotApplicable, match="at least 100 stations"):
        integer_percentages(*_clean_election(rng, n=50))


@pytest.mark.parametrize("kwargs, match", [
    (dict(window=1.0), "window .* narrower than period"),
    (dict(window=-0.1), "window must be a positive number"),
    (dict(period=0), "period must be a positive number"),
    (dict(weight="votes"), "weight must be 'stations' or 'voters'"),
    (dict(method="fast"), "method must be 'exact' or 'simulate'"),
    (dict(max_share=1.5), "max_share must be in"),
    (dict(min_registered=0), "min_registered must be a positive integer"),
    (dict(n_resamples=0), "n_resamples must be a positive integer"),
])
def test_bad_options_are_rejected(kwargs, match):
    rng = np.random.default_rng(18)
    with pytest.raises(ValueError, match=match):
        integer_percentages(*_clean_election(rng, n=200), **kwargs)


def test_bad_data_are_rejected():
    reg = np.full(200, 500)
    ok = np.full(200, 300)
    with pytest.raises(ValueError, match="same length"):
        integer_percentages(reg, ok[:-1], ok, ok)
    with pytest.raises(ValueError, match="leader must be non-negative"):
        integer_percentages(reg, ok, ok, np.full(200, -1))
    with pytest.raises(ValueError, match="ballots_cast must hold whole numbers"):
        integer_percentages(reg, ok, np.full(200, 300.5), ok)
    with pytest.raises(TypeError, match="registered must be a one-dimensional"):
        integer_percentages("500", ok, ok, ok)
    with pytest.raises(TypeError, match="leader must hold numbers"):
        integer_percentages(reg, ok, ok, ["x"] * 200)


def test_is_registered():
    spec = REGISTRY["integer_percentages"]
    assert spec.needs == ("registered", "ballots_issued", "ballots_cast", "leader")
    assert spec.family == "integer-percentage" and spec.min_units == 100


def test_voter_weighted_tail_matches_simulation():
    from audit.stations.forensics._poisson_binomial import _saddlepoint_log_sf
    rng = np.random.default_rng(19)
    p = rng.uniform(0.05, 0.4, size=300)
    w = rng.integers(100, 3000, size=300).astype(float)
    mean, sd = np.dot(w, p), np.sqrt(np.sum(w * w * p * (1 - p)))
    x = mean + 2.5 * sd
    draws = (rng.random((20000, 300)) < p) @ w
    mc = np.mean(draws >= x)
    assert np.exp(_saddlepoint_log_sf(p, x, weights=w)) == pytest.approx(mc, rel=0.25)


def test_excluded_stations_are_listed_at_their_positions():
    rng = np.random.default_rng(15)
    reg, iss, cast, lead = (x.astype(float) for x in _clean_election(rng, n=300))
    reg[0] = 50                 # too small
    cast[1] = 0                 # no ballots
    lead[1] = 0
    lead[7] = cast[7] + 1       # more leader votes than ballots
    lead[3] = np.nan            # missing
    res = integer_percentages(reg, iss, cast, lead, method="simulate",
                              n_resamples=19, rng=0)
    listed = dict(zip(res.excluded["position"], res.excluded["reason"]))
    assert listed == {0: "fewer than 100 registered", 1: "no ballots cast",
                      3: "missing count", 7: "turnout or leader share above 99%"}
    d = res.details
    assert res.excluded["reason"].value_counts().sort_index().tolist() == [
        d["excluded_small"], d["excluded_missing"], d["excluded_no_ballots"],
        d["excluded_high_share"]]
    assert "excluded" not in res.to_dict() and "excluded" not in res.to_frame()
