"""One vocabulary: every verdict follows its printed rule; findings carry the
verification of the figures they rest on; the sensitivity runs."""

import math

import pandas as pd
import pytest

from audit.referenda import casestudy as cs
from audit.referenda.checks import CONFIRMED_ONLY, SCENARIOS, run_checks, sensitivity
from audit.referenda.checks.base import (ALLOWED, BASELINE, COMPARISON, OWN, VERDICT_RULES, VERDICTS,
                               rule_holds)


@pytest.fixture(scope="module")
def audit(evidence):
    return run_checks(evidence)


def test_every_verdict_has_one_rule_and_every_kind_its_verdicts():
    assert set(VERDICT_RULES) == set(VERDICTS)
    assert set().union(*ALLOWED.values()) == set(VERDICTS)


def test_every_finding_follows_its_rule(audit):
    for row in audit.findings.to_dict("records"):
        ok, why = rule_holds(row)
        assert ok, (row["finding_id"], row["check"], row["verdict"], why)


@pytest.mark.parametrize("kind, verdict, value, low, high", [
    (COMPARISON, "unusual", 82.4, 63.7, 93.5),        # inside the range is not unusual
    (COMPARISON, "consistent", 93.11, 44.7, 90.66),   # outside the range is not consistent
    (BASELINE, "unusual", 1.0, 0.0, 0.5),             # baselines bound: implausible, not unusual
    (OWN, "implausible", 1.0, 0.0, 2.0),              # own figures are never 'implausible'
    (BASELINE, "not checkable", 1.0, math.nan, math.nan),
])
def test_rule_catches_the_misuses_of_the_old_page(kind, verdict, value, low, high):
    row = {"kind": kind, "verdict": verdict, "value": value, "expected_low": low,
           "expected_high": high}
    assert not rule_holds(row)[0]


def test_findings_can_be_told_apart(audit):
    f = audit.findings
    assert f["finding_id"].is_unique
    assert not f.duplicated(["check", "region", "subject", "evidence"]).any()


def test_findings_name_the_verification_they_rest_on(audit, evidence):
    f = audit.findings.set_index("finding_id")
    a = evidence.announcements.set_index("id")
    for fid, row in f.iterrows():
        ids = [i for e in row["evidence"].split("; ") for i in e.split("+") if i in a.index]
        want = {a.loc[i, "verification"] for i in ids}
        for status in want:
            # a merged report takes its best status, so each status named is one of the rows'
            assert status in row["rests_on"] or len(ids) > len(want), (fid, status)


def test_derived_figures_are_never_scored(audit, evidence):
    derived = set(evidence.announcements.loc[
        evidence.announcements["verification"] == "derived", "id"])
    assert derived                         # LPR invalid 9,750 is one
    used = {i for e in audit.findings["evidence"] for part in e.split("; ")
            for i in part.split("+")}
    assert not derived & used


@pytest.fixture(scope="module")
def sens(evidence):
    return sensitivity(evidence)


def test_confirmed_only_run_uses_confirmed_figures_only(evidence):
    ev = SCENARIOS[CONFIRMED_ONLY](evidence)
    assert set(ev.announcements["verification"]) == {"confirmed"}
    for rests in run_checks(ev).findings["rests_on"]:
        announced = [x for x in rests.split("; ") if not x.startswith("baseline")]
        assert set(announced) <= {"confirmed", "no figure with a status"}, rests


def test_confirmed_baselines_scenario_drops_the_unchecked_baselines(evidence):
    ev = SCENARIOS["confirmed figures and baselines only"](evidence)
    assert set(ev.baselines["verification"]) == {"confirmed"}
    assert len(ev.baselines) < len(evidence.baselines)


@pytest.mark.slow  # sensitivity() also runs in the report notebook (test_report.py)
def test_headline_findings_survive_the_confirmed_only_run(sens, evidence):
    head = sens[sens["survives"]]
    assert len(head)
    confirmed = run_checks(SCENARIOS[CONFIRMED_ONLY](evidence)).findings
    for r in head.itertuples():
        rows = confirmed[(confirmed["check"] == r.check) & (confirmed["region"] == r.region)
                         & (confirmed["subject"] == r.subject)]
        assert rows["verdict"].isin(["inconsistent", "implausible"]).any()


@pytest.mark.slow  # shares the slow sensitivity fixture
def test_a_finding_on_an_unfound_figure_is_no_headline(sens):
    # DPR yes 2,116,800 rests on one secondary site: its share finding must not survive
    row = sens[sens["subject"].str.contains("2,116,800")]
    assert len(row) == 1 and not row["survives"].iloc[0]
    assert row[CONFIRMED_ONLY].iloc[0] == "absent"


def test_chart_and_table_use_the_same_version(evidence):
    summary = cs.announced_summary(evidence).set_index("region")
    tl = cs.turnout_timeline(evidence)
    final = tl[tl["stage"] == "final"].drop_duplicates("region", keep="first")
    for r in final.itertuples():
        assert r.turnout == summary.loc[r.region, "turnout"], r.region
    assert summary.loc["Zaporizhzhia", "turnout"] == 82.4      # 85.40 was found on no page


def test_versions_table_names_every_disputed_figure(evidence):
    v = cs.versions_table(evidence)
    dpr = v[(v["region"] == "DPR") & (v["quantity"] == "yes")]
    assert set(dpr["value"]) == {2115800, 2116800}
    assert dpr.groupby(["region", "quantity", "stage", "scope"])["used"].sum().eq(1).all()
    assert {97.51, 97.15} <= set(v[(v["region"] == "DPR") & (v["quantity"] == "turnout")]["value"])


def test_comparison_set_holds_the_lopsided_free_votes(evidence):
    lop = cs.lopsided_free_votes(evidence)
    for unit in ("Southern Sudan", "Eritrea", "Iceland", "Norway", "East Timor"):
        row = lop[lop["unit"] == unit]
        assert len(row) == 1, unit
        assert row["source_url"].iloc[0].startswith("http")
    c = evidence.comparisons
    free = c[c["category"] == "free_referendum"]
    above = free[(free["yes_pct_high"] > 90) | (free["turnout_pct_high"] > 90)]
    assert len(lop) == len(above)
