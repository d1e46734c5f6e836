"""Timeline checks: monotone turnout, implied lists by day, partial counts."""

import numpy as np
import pytest

from audit.referenda.checks import timeline
from audit.referenda.checks.base import CONSISTENT, INCONCLUSIVE, INCONSISTENT


def _one(findings, region):
    (f,) = [f for f in findings if f.region == region]
    return f


def _turnouts(region, values, **kw):
    return [dict(region=region, quantity="turnout", stage=stage, value=v, resolution="0.01",
                 unit="percent", scope="unstated" if stage != "final" else "total", **kw)
            for stage, v in values.items()]


def test_turnout_monotonic_accepts_rising_and_finds_a_fall(make_evidence):
    up = make_evidence(_turnouts("LPR", {"day1": "20.00", "day2": "40.00", "final": "90.00"}))
    f = _one(timeline.turnout_monotonic(up), "LPR")
    assert f.verdict == CONSISTENT and f.numbers["largest_gain"] == pytest.approx(50)
    down = make_evidence(_turnouts("LPR", {"day1": "20.00", "day2": "40.00", "day3": "39.00"}))
    f = _one(timeline.turnout_monotonic(down), "LPR")
    assert f.verdict == INCONSISTENT and "day2 40% -> day3 39%" in f.explanation


def test_lower_bounds_do_not_count_as_falls(make_evidence):
    rows = _turnouts("LPR", {"day1": "20.00", "day3": "50.00"})
    rows.append(dict(region="LPR", quantity="turnout", stage="day2", value=51, resolution=1,
                     bound="lower", unit="percent", scope="unstated"))
    f = _one(timeline.turnout_monotonic(make_evidence(rows)), "LPR")
    # 'more than 51' on day 2 then 50.00 on day 3 is a certain fall
    assert f.verdict == INCONSISTENT
    rows[-1]["value"] = 49
    f = _one(timeline.turnout_monotonic(make_evidence(rows)), "LPR")
    assert f.verdict == CONSISTENT


def _daily(region, pairs, scope="unstated"):
    rows = []
    for stage, (p, t) in pairs.items():
        rows.append(dict(region=region, quantity="participants", stage=stage, value=p,
                         scope=scope if stage != "final" else "total"))
        rows.append(dict(region=region, quantity="turnout", stage=stage, value=t,
                         resolution="0.01", unit="percent",
                         scope="unstated" if stage != "final" else "total"))
    return rows


def test_implied_list_growth_within_the_announced_growth(make_evidence):
    # lists: 1000 on day 2, 1100 at the end; 100 added, about 100 announced
    rows = _daily("DPR", {"day2": (500, "50.00"), "final": (990, "90.00")})
    rows.append(dict(region="DPR", quantity="voter_list_growth", value=100,
                     bound="approximate", resolution=10))
    f = _one(timeline.electorate_by_day(make_evidence(rows)), "DPR")
    assert f.verdict == CONSISTENT
    rows[-1]["value"] = 20     # announced growth far smaller than implied
    f = _one(timeline.electorate_by_day(make_evidence(rows)), "DPR")
    assert f.verdict == INCONSISTENT


def test_one_fitting_reading_of_an_unstated_scope_is_enough(make_evidence):
    # Day figures in the territory imply a list of 1000 -> 1050 (+50, announced ~50);
    # the headline total reading implies 1000 -> 1500 and does not fit.
    rows = _daily("DPR", {"day2": (500, "50.00")})
    rows += [dict(region="DPR", quantity="participants", stage="day4", value=945,
                  scope="in_territory"),
             dict(region="DPR", quantity="participants", stage="day4", value=1350, scope="total"),
             dict(region="DPR", quantity="turnout", stage="day4", value="90.00",
                  resolution="0.01", unit="percent", scope="unstated"),
             dict(region="DPR", quantity="voter_list_growth", value=50, bound="approximate",
                  resolution=10)]
    f = _one(timeline.electorate_by_day(make_evidence(rows)), "DPR")
    assert f.verdict == CONSISTENT
    assert f.numbers["readings"] == {"in_territory": CONSISTENT, "total": INCONSISTENT}


def test_small_shrinks_are_tolerated_large_ones_are_not(make_evidence):
    small = _daily("DPR", {"day1": (300, "30.00"), "day2": (497, "50.00")})  # 1000 -> 994
    f = _one(timeline.electorate_by_day(make_evidence(small)), "DPR")
    assert f.verdict == INCONCLUSIVE and "within the 1%" in f.explanation
    large = _daily("DPR", {"day1": (300, "30.00"), "day2": (450, "50.00")})  # 1000 -> 900
    f = _one(timeline.electorate_by_day(make_evidence(large)), "DPR")
    assert f.verdict == INCONSISTENT


def test_same_share_probability_matches_a_simulation():
    rng = np.random.default_rng(1)
    N, f, share = 100_000, 0.3, 93.11
    res = timeline.same_share_probability(share, 0.01, N, f)
    Y = round(share / 100 * N)
    n = res["n_counted"]
    draws = rng.hypergeometric(Y, N - Y, n, size=200_000)
    hits = np.mean(np.round(100 * draws / n, 2) == round(100 * Y / N, 2))
    # the exact value averages over final counts within the rounding cell (about
    # ten counts here); the simulation takes its middle one, so both are close
    assert res["p_ballots"] == pytest.approx(hits, abs=0.01)
    assert 0 < res["p_ballots"] < 0.2


def test_same_share_probability_units_and_validation():
    res = timeline.same_share_probability(93.11, 0.01, 541093, 0.2919,
                                          unit_shares=[96.78, 90.01, 94.1, 89.6])
    assert res["p_units"] < res["p_ballots"]
    # the normal law: a cell 0.01 wide, sd in points
    assert res["p_units"] == pytest.approx(0.01 / (np.sqrt(2 * np.pi) * res["sd_units"]), rel=0.02)
    with pytest.raises(ValueError, match="counted_fraction"):
        timeline.same_share_probability(93.11, 0.01, 1000, 1.2)


def _partial(region, q, value, counted, scope="in_territory", basis="ballots"):
    return dict(region=region, quantity=f"{q}_share", stage="partial", scope=scope,
                value=value, resolution="0.01", unit="percent", counted_pct=counted,
                counted_basis=basis)


def test_partial_share_that_needs_more_than_all_remaining_ballots(make_evidence):
    # 90% at half counted, 99.5% final: the other half would need 109%
    rows = [_partial("DPR", "yes", "90.00", "50.00", scope="total"),
            dict(region="DPR", quantity="yes_share", value="99.50", resolution="0.01",
                 unit="percent")]
    (f,) = timeline.partial_counts(make_evidence(rows))
    assert f.verdict == INCONSISTENT and f.value == pytest.approx(109, abs=0.1)
    rows[1]["value"] = "94.00"   # the rest then needs 98%: possible
    (f,) = timeline.partial_counts(make_evidence(rows))
    assert f.verdict == CONSISTENT


def test_in_territory_partial_uses_the_total_only_when_safe(make_evidence):
    rows = [_partial("DPR", "yes", "90.00", "50.00"),
            dict(region="DPR", quantity="yes_share", value="99.50", resolution="0.01",
                 unit="percent")]
    # no outside share known: the total cannot stand in for the territory
    assert timeline.partial_counts(make_evidence(rows)) == []
    safe = rows + [dict(region="DPR", quantity="yes_share", scope="outside", value="98.00",
                        resolution="0.01", unit="percent")]
    (f,) = timeline.partial_counts(make_evidence(safe))
    assert f.verdict == INCONSISTENT
    unsafe = rows + [dict(region="DPR", quantity="yes_share", scope="outside", value="99.90",
                          resolution="0.01", unit="percent")]
    assert timeline.partial_counts(make_evidence(unsafe)) == []


def test_partial_count_larger_than_the_final_count(make_evidence):
    # 1% 'no' at 80% of at least 100,000 ballots is >= 800 'no'; final says 500
    rows = [_partial("DPR", "no", "1.00", "80.00"),
            dict(region="DPR", quantity="participants", stage="day4", scope="in_territory",
                 value=100000),
            dict(region="DPR", quantity="no", value=500, unit="votes")]
    (f,) = timeline.partial_counts(make_evidence(rows))
    assert f.verdict == INCONSISTENT and f.value == pytest.approx(0.00995 * 0.79995 * 99999.5, rel=1e-6)
    rows[-1]["value"] = 900
    (f,) = timeline.partial_counts(make_evidence(rows))
    assert f.verdict == CONSISTENT


def test_subunit_range(make_evidence):
    subs = [dict(region="LPR", unit=u, quantity="turnout", stage="day4", value=v,
                 resolution="0.01", coverage=c, as_of="2022-09-26",
                 source_url="https://example.org", confidence="medium")
            for u, v, c in (("A", "87.62", "highest"), ("B", "75.96", "lowest"))]
    ok = make_evidence(_turnouts("LPR", {"day4": "83.61"}), subunits=subs)
    assert [f.verdict for f in timeline.subunit_range(ok)] == [CONSISTENT]
    bad = make_evidence(_turnouts("LPR", {"day4": "88.00"}), subunits=subs)
    assert [f.verdict for f in timeline.subunit_range(bad)] == [INCONSISTENT]


def test_real_data_dpr_no_votes_fall_after_a_partial_count(evidence):
    # by hand: 0.675% x 81.5% x 1,480,904.5 = 8,146.6 'no' votes counted by then,
    # against 4,938 in the final count
    found = [f for f in timeline.partial_counts(evidence)
             if f.region == "DPR" and f.subject.startswith("no votes")]
    worst = max(found, key=lambda f: f.value)
    assert worst.verdict == INCONSISTENT
    assert worst.value == pytest.approx(0.00675 * 0.81995 * 1480904.5, rel=1e-3)
