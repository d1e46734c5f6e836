"""Arithmetic checks: intervals, recomputed shares, sums, implied lists, GRIM."""

import math

import pytest

from audit.referenda.checks import arithmetic
from audit.referenda.checks.base import (CONSISTENT, INCONSISTENT, Interval, interval, worst)


def _row(value, resolution, bound):
    return {"value": value, "resolution": resolution, "bound": bound}


def test_interval_semantics():
    iv = interval(_row(99.23, 0.01, "exact"))
    assert iv.low == pytest.approx(99.225) and iv.high == pytest.approx(99.235)
    lo = interval(_row(370000, 1000, "lower"))
    assert lo.low == 369500 and math.isinf(lo.high)
    ap = interval(_row(500000, 100000, "approximate"), approx_rel=0.10)
    assert (ap.low, ap.high) == (450000, 550000)
    with pytest.raises(ValueError):
        interval(_row(1, 1, "roughly"))


def test_interval_arithmetic():
    a, b = Interval(10, 12), Interval(2, 4)
    assert (a / b).low == 2.5 and (a / b).high == 6
    assert (a - b).low == 6 and (a - b).high == 10
    assert (a + b).low == 12
    with pytest.raises(ZeroDivisionError):
        a / Interval(0, 1)
    with pytest.raises(ValueError):
        Interval(2, 1)


def test_worst_orders_by_seriousness():
    assert worst(["consistent", "inconsistent", "implausible"]) == "inconsistent"
    assert worst(["consistent", "unusual"]) == "unusual"
    assert worst([]) == "not checkable"


@pytest.mark.parametrize("pct, res, n, possible, informative", [
    (33.3, 0.1, 3, True, True),      # 1/3
    (50.0, 0.1, 3, False, True),     # 1/3 or 2/3, never 1/2
    (66.7, 0.1, 3, True, True),
    (14.3, 0.1, 7, True, True),      # 1/7 = 14.2857
    (14.0, 0.1, 7, False, True),
    (99.23, 0.01, 2131207, True, False),
])
def test_grim_hand_computed_cases(pct, res, n, possible, informative):
    g = arithmetic.grim(pct, res, n)
    assert g["possible"] is possible and g["informative"] is informative


def test_grim_agrees_with_brute_force():
    for n in range(1, 60):
        reachable = {round(100 * k / n, 1) for k in range(n + 1)}
        for tenth in range(0, 1001, 7):
            p = tenth / 10
            brute = any(abs(100 * k / n - p) <= 0.05 + 1e-12 for k in range(n + 1))
            assert arithmetic.grim(p, 0.1, n)["possible"] == brute, (p, n)
        assert all(arithmetic.grim(p, 0.1, n)["possible"] for p in reachable)


def test_grim_rejects_bad_denominators():
    with pytest.raises(ValueError, match="denominator"):
        arithmetic.grim(50, 0.1, 0)


def _share_case(yes, participants, share, **extra):
    rows = [dict(region="DPR", quantity="participants", value=participants),
            dict(region="DPR", quantity="yes", value=yes, unit="votes"),
            dict(region="DPR", quantity="yes_share", value=share,
                 resolution="0.01", unit="percent")]
    return rows + [dict(region="DPR", **e) for e in extra.get("more", [])]


def test_share_recomputation_accepts_a_matching_share(make_evidence):
    ev = make_evidence(_share_case(900, 1000, "90.00"))
    (f,) = arithmetic.share_recomputation(ev)
    assert f.verdict == CONSISTENT and f.numbers["base"].startswith("ballots cast")


def test_share_recomputation_finds_a_planted_mismatch(make_evidence):
    # 900 of 1000 is 90.00%, not 93.00%; no other base reproduces it
    ev = make_evidence(_share_case(900, 1000, "93.00"))
    (f,) = arithmetic.share_recomputation(ev)
    assert f.verdict == INCONSISTENT
    assert f.value == pytest.approx(90.0)
    assert f.numbers["needed_numerator"] == pytest.approx(930, abs=1)


def test_share_on_valid_ballots_is_recognised(make_evidence):
    # 900 yes, 50 no, 50 invalid: 900 / 950 = 94.74% of valid ballots
    ev = make_evidence(_share_case(900, 1000, "94.74", more=[
        dict(quantity="no", value=50, unit="votes")]))
    (f,) = arithmetic.share_recomputation(ev)
    assert f.verdict == CONSISTENT and "valid" in f.numbers["base"]


def test_a_rough_voter_list_never_makes_a_share_consistent(make_evidence):
    # 'about 1,000' on the list would let 900/1000 = 90% pass as 93% within +-10%
    ev = make_evidence(_share_case(900, 1000, "93.00", more=[
        dict(quantity="voter_list", stage="before", value=1000, bound="approximate",
             resolution=100)]))
    (f,) = arithmetic.share_recomputation(ev)
    assert f.verdict == INCONSISTENT


def test_components_sum(make_evidence):
    base = [dict(region="LPR", quantity="participants", value=1000),
            dict(region="LPR", quantity="yes", value=900, unit="votes"),
            dict(region="LPR", quantity="no", value=80, unit="votes")]
    ok = make_evidence(base + [dict(region="LPR", quantity="invalid", value=20, unit="ballots")])
    assert [f.verdict for f in arithmetic.components_sum(ok)] == [CONSISTENT]
    bad = make_evidence(base + [dict(region="LPR", quantity="invalid", value=30, unit="ballots")])
    assert [f.verdict for f in arithmetic.components_sum(bad)] == [INCONSISTENT]
    over = make_evidence([dict(region="LPR", quantity="participants", value=1000),
                          dict(region="LPR", quantity="yes", value=990, unit="votes"),
                          dict(region="LPR", quantity="no", value=20, unit="votes")])
    (f,) = arithmetic.components_sum(over)
    assert f.verdict == INCONSISTENT and f.value == pytest.approx(-10)


def test_implied_electorate_against_an_announced_list(make_evidence):
    rows = [dict(region="Kherson", quantity="participants", value=600),
            dict(region="Kherson", quantity="turnout", value="60.00", resolution="0.01",
                 unit="percent")]
    ok = make_evidence(rows + [dict(region="Kherson", quantity="voter_list", stage="before",
                                    value=1000)])
    assert {f.verdict for f in arithmetic.implied_electorate(ok)} == {CONSISTENT}
    bad = make_evidence(rows + [dict(region="Kherson", quantity="voter_list", stage="before",
                                     value=800, bound="approximate", resolution=100)])
    verdicts = {f.check: f.verdict for f in arithmetic.implied_electorate(bad)}
    assert verdicts["implied_electorate"] == INCONSISTENT        # 1000 vs 720-880
    assert verdicts["participants_within_capacity"] == CONSISTENT  # 600 <= 880


def test_scope_composition(make_evidence):
    rows = [dict(region="LPR", quantity="participants", scope="in_territory", value=700),
            dict(region="LPR", quantity="participants", scope="outside", value=300),
            dict(region="LPR", quantity="participants", value=1000),
            dict(region="LPR", quantity="turnout", scope="in_territory", value="70.0",
                 resolution="0.1", unit="percent"),
            dict(region="LPR", quantity="turnout", scope="outside", value="100.0",
                 resolution="0.1", unit="percent"),
            # lists 1000 + 300: total turnout 1000 / 1300 = 76.9%
            dict(region="LPR", quantity="turnout", value="76.9", resolution="0.1",
                 unit="percent")]
    assert {f.verdict for f in arithmetic.scope_composition(make_evidence(rows))} == {CONSISTENT}
    rows[-1]["value"] = "80.0"
    verdicts = [f.verdict for f in arithmetic.scope_composition(make_evidence(rows))]
    assert verdicts.count(INCONSISTENT) == 1


def test_real_data_zaporizhzhia_yes_count_contradicts_its_share(evidence):
    # by hand: 430,268 / 541,093 = 0.79518..., announced 93.11%
    found = [f for f in arithmetic.share_recomputation(evidence)
             if f.region == "Zaporizhzhia" and f.subject.startswith("yes_share")]
    assert found and all(f.verdict == INCONSISTENT for f in found)
    assert found[0].value == pytest.approx(100 * 430268 / 541093)


def test_real_data_lpr_derived_invalid_is_not_scored(evidence):
    # the bundled invalid count 9,750 equals 1,662,607 - 1,636,302 - 16,555 and was found on
    # no page: it is marked derived, so the check leaves it out and reports the remainder
    (f,) = [f for f in arithmetic.components_sum(evidence) if f.region == "LPR"]
    assert "LPR.invalid.final.1" not in f.evidence
    assert f.subject == "implied invalid"
    assert f.verdict == CONSISTENT and f.value == 1662607 - 1636302 - 16555
