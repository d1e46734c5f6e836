"""The 2022 checks run on the organisers' other votes in the same regions."""

import dataclasses

import pandas as pd
import pytest

from audit.referenda.checks import SCENARIOS, crossvote, run_checks
from audit.referenda.checks.base import (CONSISTENT, IMPLAUSIBLE, INCONCLUSIVE, INCONSISTENT, rule_holds)


def _timeline(evidence, rows):
    """The real timeline table's columns and types, with these rows instead."""
    base = {"vote": "test vote", "region": "LPR", "close_date": "2023-09-10", "hour": None,
            "stage": "early", "scope": "total", "resolution": 0.01, "bound": "exact",
            "source_url": "https://example.org/t", "confidence": "medium",
            "verification": "confirmed", "note": ""}
    t = pd.DataFrame([{**base, **r} for r in rows])
    for col in ("close_date", "as_of"):
        t[col] = pd.to_datetime(t[col])
    return t[list(evidence.timelines.columns)]


def test_luhansk_2014_counts_do_not_add_up(evidence):
    (f,) = [f for f in crossvote.counts_add_up(evidence) if f.region == "LPR"]
    # by hand: 1,298,084 + 51,276 + 10,600 = 1,359,960; 1,375,295 took part (0642.ua)
    assert f.verdict == INCONSISTENT
    assert f.value == 1359960 and f.expected_low == 1375295
    assert "-15,335" in f.explanation


def test_whole_number_turnout_that_fits_only_as_about_is_inconclusive(evidence):
    (f,) = [f for f in crossvote.turnout_recomputed(evidence) if f.region == "LPR"]
    # 1,375,295 / 1,807,739 = 76.08%, stated "75": not 74.5-75.5, but within 10% of 75
    assert f.value == pytest.approx(100 * 1375295 / 1807739)
    assert f.verdict == INCONCLUSIVE


def test_turnout_must_not_fall_within_one_scope(evidence):
    rows = [{"as_of": "2023-09-05", "value": 40.0},
            {"as_of": "2023-09-06", "value": 50.0, "scope": "in_territory"},   # not compared
            {"as_of": "2023-09-07", "value": 45.0},
            {"as_of": "2023-09-10", "hour": "12:00", "value": 44.0, "stage": "close"}]
    ev = dataclasses.replace(evidence, timelines=_timeline(evidence, rows))
    found = crossvote.turnout_monotonic(ev)
    assert [f.verdict for f in found] == [CONSISTENT, INCONSISTENT]
    assert "45% (2023-09-07 24:00, early) then 44% (2023-09-10 12:00, close)" in \
        found[1].explanation


def test_a_lower_bound_after_a_figure_is_no_fall(evidence):
    rows = [{"as_of": "2023-09-08", "value": 59.04},
            {"as_of": "2023-09-10", "value": 58, "resolution": 1, "bound": "lower"}]
    ev = dataclasses.replace(evidence, timelines=_timeline(evidence, rows))
    (f,) = crossvote.turnout_monotonic(ev)
    assert f.verdict == CONSISTENT          # 'more than 58' may be above 59.04


def test_dpr_2024_implied_list_by_hand(evidence):
    found = crossvote.implied_list_vs_adults(evidence)
    assert {f.region for f in found} == {"DPR"}      # the only later vote with counts
    (f,) = found
    # lowest list: 1,705,786 / 0.95235 / 0.88255 (the stated precision allowed for)
    assert f.value == pytest.approx(1705786 / 0.95235 / 0.88255)
    assert f.verdict == CONSISTENT and f.value < f.expected_high
    assert f.expected_high == pytest.approx(crossvote.most_adults(evidence, "DPR"))


def test_an_implied_list_above_the_adults_is_implausible(evidence):
    c = evidence.comparisons.copy()
    i = c.index[(c["region"] == "DPR") & (c["date"] == "2024-03-17")][0]
    c.loc[i, "yes_votes"] = 4_000_000
    (f,) = crossvote.implied_list_vs_adults(dataclasses.replace(evidence, comparisons=c))
    assert f.verdict == IMPLAUSIBLE


def test_every_cross_vote_finding_follows_its_rule_and_names_its_rows(evidence):
    f = run_checks(evidence).findings
    across = f[f["family"] == "across votes"]
    assert len(across) >= 10
    for row in across.to_dict("records"):
        ok, why = rule_holds(row)
        assert ok, (row["finding_id"], why)
        assert row["rests_on"] != "no figure with a status", row["finding_id"]


def test_confirmed_only_run_drops_unconfirmed_other_votes(evidence):
    ev = SCENARIOS["confirmed figures only"](evidence)
    assert set(ev.timelines["verification"]) == {"confirmed"}
    org = crossvote.organisers_votes(ev)
    assert set(org["verification"]) == {"confirmed"}
    # the free referendums are kept as in the full run
    free = evidence.comparisons["category"] == "free_referendum"
    assert free.sum() == (ev.comparisons["category"] == "free_referendum").sum()
    # row labels are kept, so findings still name their rows
    assert org.index.isin(evidence.comparisons.index).all()
