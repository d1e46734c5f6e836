"""Baseline checks: voting-age share, capacity, people present, support."""

import pandas as pd
import pytest

from audit.referenda.checks import baselines
from audit.referenda.checks.base import CONSISTENT, IMPLAUSIBLE, NOT_CHECKABLE, UNUSUAL


def _base(unit, region, quantity, value, date="2021-01-01", uom="persons"):
    return {"unit": unit, "region": region, "quantity": quantity, "value": float(value),
            "unit_of_measure": uom, "reference_date": pd.Timestamp(date),
            "source_url": "https://example.org", "confidence": "medium", "note": ""}


def _frame(rows):
    return pd.DataFrame(rows)


AGE = [_base("Ukraine", None, "under_18_share", 18, uom="percent"),
       _base("Ukraine", None, "population_aged_0_17", 7459000),
       _base("Ukraine", None, "population_total_for_age_share", 41588000)]


def _one(findings, region, subject=None):
    (f,) = [f for f in findings if f.region == region
            and (subject is None or subject in f.subject)]
    return f


WHOLE, HELD = "whole oblast", "part held"


def test_adult_share_from_published_age_figures(make_evidence):
    ev = make_evidence([], baselines=_frame(AGE))
    rng, basis = baselines.adult_share_range(ev, "LPR")
    # 100 - 18 +- 0.5, and 1 - 7,459,000 / 41,588,000 = 82.06%
    assert rng.low == pytest.approx(81.5) and rng.high == pytest.approx(82.5)
    assert len(basis) == 2
    capped = make_evidence([], baselines=_frame(
        AGE + [_base("Donetsk oblast", "DPR", "under_16_share", 11.9, uom="percent")]))
    assert baselines.adult_share_range(capped, "DPR")[0].high == pytest.approx(88.1)
    # an oblast without its own figure gets the most generous cap known
    assert baselines.adult_share_range(capped, "LPR")[0].high == pytest.approx(88.1)


def _capacity_case(make_evidence, participants, turnout, population, held=None):
    rows = [dict(region="LPR", quantity="participants", value=participants),
            dict(region="LPR", quantity="turnout", value=turnout, resolution="0.01",
                 unit="percent")]
    b = AGE + [_base("Luhansk oblast", "LPR", "population_estimate", population)]
    if held is not None:
        b.append(_base("Luhansk oblast", "LPR", "share_territory_russian_controlled", held,
                       uom="percent"))
    return make_evidence(rows, baselines=_frame(b))


def test_capacity_verdicts(make_evidence):
    # adults of the whole oblast: 1,000,000 x 81.5-82.5% = 815,000-825,000
    ok = _capacity_case(make_evidence, 700000, "90.00", 1000000)
    assert _one(baselines.electorate_capacity(ok), "LPR", WHOLE).verdict == CONSISTENT
    # without a held share the part-held comparison cannot be made
    assert _one(baselines.electorate_capacity(ok), "LPR", HELD).verdict == NOT_CHECKABLE
    over = _capacity_case(make_evidence, 810000, "90.00", 1000000)   # list 900,000
    assert _one(baselines.electorate_capacity(over), "LPR", WHOLE).verdict == IMPLAUSIBLE
    part = _capacity_case(make_evidence, 450000, "90.00", 1000000, held=50)   # 500,000 > 412,500
    fs = baselines.electorate_capacity(part)
    assert _one(fs, "LPR", WHOLE).verdict == CONSISTENT
    assert _one(fs, "LPR", HELD).verdict == UNUSUAL
    # the value tested is the lowest list the stated precision allows
    assert _one(fs, "LPR", HELD).value == pytest.approx(449999.5 / 0.90005)


def test_capacity_needs_age_figures(make_evidence):
    ev = make_evidence([dict(region="LPR", quantity="participants", value=1)],
                       baselines=_frame([_base("Luhansk oblast", "LPR", "population_estimate", 9)]))
    assert {f.verdict for f in baselines.electorate_capacity(ev)
            if f.region == "LPR"} == {NOT_CHECKABLE}


def test_people_present_minus_voters_outside(make_evidence):
    rows = [dict(region="Kherson", quantity="participants", value=600000),
            dict(region="Kherson", quantity="yes", scope="outside", value=32135, unit="votes"),
            dict(region="Kherson", quantity="yes_share", scope="outside", value="96.75",
                 resolution="0.01", unit="percent")]
    est = [_base("Kherson oblast (occupied part)", "Kherson", "population_present_estimate", v,
                 "2022-06-20") for v in (450000, 500000)]
    f = _one(baselines.present_population(make_evidence(rows, baselines=_frame(est))), "Kherson")
    # outside: at most 32,135.5 / 0.96745 = 33,217; inside at least 566,783, above
    # 550,000 ('about 500,000' read as +-10%)
    assert f.verdict == IMPLAUSIBLE and f.value == pytest.approx(599999.5 - 32135.5 / 0.96745)
    rows[0]["value"] = 520000
    f = _one(baselines.present_population(make_evidence(rows, baselines=_frame(est))), "Kherson")
    assert f.verdict == CONSISTENT


def test_support_against_the_most_generous_measure(make_evidence):
    rows = [dict(region="DPR", quantity="yes_share", value="60.00", resolution="0.01",
                 unit="percent")]
    b = _frame([_base("Donetsk oblast", "DPR", "pro_russian_vote_share", 43.47, uom="percent"),
                _base("Donetsk oblast", "DPR", "support_joining_russia_poll", 27.5,
                      uom="percent")])
    f = _one(baselines.support_vs_baselines(make_evidence(rows, baselines=b), max_swing=25),
             "DPR")
    assert f.verdict == CONSISTENT and f.numbers["swing"] == pytest.approx(16.53)
    rows[0]["value"] = "99.23"
    f = _one(baselines.support_vs_baselines(make_evidence(rows, baselines=b), max_swing=25),
             "DPR")
    assert f.verdict == IMPLAUSIBLE and f.numbers["top_proxy"] == "pro_russian_vote_share"


def test_people_present_estimate_after_the_vote_only_compares(make_evidence):
    rows = [dict(region="Kherson", quantity="participants", value=600000),
            dict(region="Kherson", quantity="participants", scope="outside", value=10000)]
    est = [_base("Kherson oblast (occupied part)", "Kherson", "population_present_estimate",
                 300000, "2022-12-07")]
    f = _one(baselines.present_population(make_evidence(rows, baselines=_frame(est))), "Kherson")
    assert f.verdict == UNUSUAL and f.kind == "comparison"
    assert f.expected_high == pytest.approx(330000)


def test_people_present_needs_the_count_outside(make_evidence):
    # without it, everyone would count as voting inside: not conservative
    rows = [dict(region="Kherson", quantity="participants", value=600000)]
    est = [_base("Kherson oblast (occupied part)", "Kherson", "population_present_estimate",
                 300000, "2022-06-20")]
    f = _one(baselines.present_population(make_evidence(rows, baselines=_frame(est))), "Kherson")
    assert f.verdict == NOT_CHECKABLE


def test_every_measure_says_what_it_measures_and_where(evidence):
    for region in evidence.region_codes:
        for p in baselines.support_proxies(evidence, region):
            assert p["measures"] and p["territory"], p
    proxies = {p["proxy"]: p for p in baselines.support_proxies(evidence, "DPR")}
    assert "Ukrainian-held" in proxies["pro_russian_vote_share"]["territory"] or \
        "Ukrainian control" in proxies["pro_russian_vote_share"]["territory"]
    assert {"pro_russian_runoff_2010", "pro_russian_party_2012"} <= set(proxies)


def test_comparison_with_free_votes_is_one_interval_per_figure(make_evidence, evidence):
    rows = [dict(region="LPR", quantity="turnout", value="93.00", resolution="0.01",
                 unit="percent"),
            dict(region="LPR", quantity="yes_share", value="99.99", resolution="0.01",
                 unit="percent")]
    fs = baselines.compare_with_other_votes(make_evidence(rows, comparisons=evidence.comparisons))
    turnout, yes = _one(fs, "LPR", "turnout"), _one(fs, "LPR", "yes share")
    free = evidence.comparisons[evidence.comparisons["category"] == "free_referendum"]
    assert turnout.expected_high == free["turnout_pct_high"].max()
    assert turnout.verdict == CONSISTENT       # inside the free-referendum range
    assert yes.verdict == UNUSUAL              # above every free referendum
    assert all(f.kind == "comparison" for f in fs)


def test_real_data_every_region_gets_a_capacity_verdict(evidence):
    verdicts = {f.region: f.verdict for f in baselines.electorate_capacity(evidence)
                if WHOLE in f.subject}
    assert set(verdicts) == {"DPR", "LPR", "Zaporizhzhia", "Kherson"}
    assert NOT_CHECKABLE not in verdicts.values()
