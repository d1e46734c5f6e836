"""The claims ledger and its computed verdicts."""

from pathlib import Path

import pytest

from audit.referenda.checks import run_checks
from audit.referenda.checks import claims
from audit.referenda.checks.base import CONSISTENT, IMPLAUSIBLE, INCONSISTENT, NOT_CHECKABLE
from audit.core.errors import InputError
from audit.referenda.bundle import load_claims

LEDGER = Path(__file__).resolve().parent.parent / "seeds" / "claims.yaml"


@pytest.mark.parametrize("tests, checks, expected", [
    ([CONSISTENT, INCONSISTENT], [CONSISTENT], claims.NOT_SUPPORTED),
    ([CONSISTENT], [CONSISTENT, INCONSISTENT, IMPLAUSIBLE], claims.RESTS_ON_INCONSISTENT),
    ([CONSISTENT], [CONSISTENT, IMPLAUSIBLE], claims.RESTS_ON_IMPLAUSIBLE),
    ([CONSISTENT, NOT_CHECKABLE], [CONSISTENT, NOT_CHECKABLE], claims.SUPPORTED),
    ([CONSISTENT], [], claims.SUPPORTED),
    ([NOT_CHECKABLE], [INCONSISTENT], claims.NOT_CHECKABLE_CLAIM),
    ([], [], claims.NOT_CHECKABLE_CLAIM),
])
def test_claim_verdict_follows_the_rules_in_order(tests, checks, expected):
    assert claims.claim_verdict(tests, checks) == expected
    assert expected in claims.CLAIM_RULES


def test_a_claim_matching_its_figures_is_never_called_contradicted():
    # the claim 87-99% and shares 87.05-99.23%: the claim describes the figures;
    # inconsistent figures underneath give 'rests on inconsistent figures'
    assert claims.claim_verdict([CONSISTENT], [INCONSISTENT]) == claims.RESTS_ON_INCONSISTENT


def test_ledger_is_valid_and_every_test_and_check_exists():
    from audit.referenda.checks import CHECKS, FAMILY

    ledger = load_claims(LEDGER)
    assert len({c["id"] for c in ledger}) == len(ledger)
    for c in ledger:
        for name in c["tests"]:
            assert name in claims.CLAIM_TESTS, name
        for name in c["checks"]:
            assert name in CHECKS or name in FAMILY, name


def test_every_claim_gets_a_computed_verdict(evidence):
    audit = run_checks(evidence)
    table = audit.claims
    assert list(table["claim_id"]) == [c["id"] for c in evidence.claims]
    assert table["verdict"].isin(claims.CLAIM_VERDICTS).all()
    qualitative = [c["id"] for c in evidence.claims if c["kind"] == "qualitative"]
    assert (table.set_index("claim_id").loc[qualitative, "verdict"]
            == claims.NOT_CHECKABLE_CLAIM).all()
    # claim tests stay out of the plausibility findings
    assert not set(audit.findings["check"]) & set(claims.CLAIM_TESTS)
    assert set(audit.claim_tests["test"]) <= set(claims.CLAIM_TESTS)


def test_claim_verdicts_follow_their_rules_on_the_real_data(evidence):
    audit = run_checks(evidence)
    for c, row in zip(evidence.claims, audit.claims.itertuples()):
        tests = audit.claim_tests[audit.claim_tests["claim_id"] == c["id"]]["result"]
        checks = audit.findings[audit.findings["check"].isin(c["checks"])]["verdict"]
        back = {claims.FITS: CONSISTENT, claims.MISFITS: INCONSISTENT,
                claims.NOT_RUN: NOT_CHECKABLE}
        assert row.verdict == claims.claim_verdict(
            [back[t] for t in tests], checks, qualitative=c["kind"] == "qualitative")
        # the basis names every decisive finding, none left out
        for fid in audit.findings[audit.findings["check"].isin(c["checks"])
                                  & audit.findings["verdict"].isin(
                                      [INCONSISTENT, IMPLAUSIBLE])]["finding_id"]:
            assert fid in row.basis


def test_voting_dates_from_weekdays(make_evidence):
    rows = [dict(region="DPR", quantity="turnout", stage="day1", value="20.00", resolution="0.01",
                 unit="percent", scope="unstated", as_of="2022-09-23"),
            dict(region="DPR", quantity="turnout", stage="day4", value="80.00", resolution="0.01",
                 unit="percent", scope="unstated", as_of="2022-09-26")]
    claim = {"figures": {"start_weekday": "Friday", "end_weekday": "Tuesday",
                         "published": "2022-09-30"}}
    (f,) = claims.voting_dates(make_evidence(rows), claim)
    assert f.verdict == CONSISTENT and f.value == 5   # Fri 23 to Tue 27 September
    claim["figures"]["start_weekday"] = "Saturday"
    (f,) = claims.voting_dates(make_evidence(rows), claim)
    assert f.verdict == INCONSISTENT


def test_support_range_judges_the_announced_shares_only(make_evidence):
    rows = [dict(region="DPR", quantity="yes_share", value="95.00", resolution="0.01",
                 unit="percent"),
            dict(region="DPR", quantity="yes", value=800, unit="votes"),
            dict(region="DPR", quantity="participants", value=1000),
            dict(region="LPR", quantity="yes_share", value="87.00", resolution="0.01",
                 unit="percent")]
    claim = {"figures": {"low": 87, "high": 95, "resolution": 1}}
    (announced,) = claims.support_range(make_evidence(rows), claim)
    # 800 / 1000 = 80% is a matter for share_recomputation, not for the claim
    assert announced.verdict == CONSISTENT
    claim = {"figures": {"low": 80, "high": 95, "resolution": 1}}
    (announced,) = claims.support_range(make_evidence(rows), claim)
    assert announced.verdict == INCONSISTENT      # the lowest share is 87, not 80


def test_turnout_high_against_the_regions_last_free_vote(make_evidence, evidence):
    rows = [dict(region="DPR", quantity="turnout", value="97.51", resolution="0.01",
                 unit="percent"),
            dict(region="LPR", quantity="turnout", value="40.00", resolution="0.01",
                 unit="percent")]
    fs = claims.turnout_high(make_evidence(rows, comparisons=evidence.comparisons), {})
    verdict = {f.region: f for f in fs}
    assert verdict["DPR"].verdict == CONSISTENT and verdict["LPR"].verdict == INCONSISTENT
    assert verdict["Kherson"].verdict == NOT_CHECKABLE
    # the yardstick is the region's own last free vote (2019), not a curated median
    c = evidence.comparisons
    lpr = c[(c["region"] == "LPR") & c["category"].isin(["free_referendum", "free_election"])]
    last = lpr.dropna(subset=["turnout_pct_high"]).sort_values("date").iloc[-1]
    assert last["date"].year == 2019
    assert verdict["LPR"].expected_low == last["turnout_pct_high"]


@pytest.mark.parametrize("text, words", [
    ("claims: [", "not valid YAML"),
    ("documents: {}\nclaims:\n  - id: C1\n", "missing key"),
    ("documents: {d: {}}\nclaims:\n  - {id: C1, claim: a, attribution: b, source: d, kind: "
     "quantitative, figures: {}, tests: [], checks: []}\n  - {id: C1, claim: a, attribution: b, "
     "source: d, kind: quantitative, figures: {}, tests: [], checks: []}\n", "duplicate id"),
    ("documents: {d: {}}\nclaims:\n  - {id: C1, claim: a, attribution: b, source: x, kind: "
     "quantitative, figures: {}, tests: [], checks: []}\n", "not listed under documents"),
])
def test_bad_ledgers_give_one_line_errors(tmp_path, text, words):
    p = tmp_path / "claims.yaml"
    p.write_text(text)
    with pytest.raises(InputError, match=words) as err:
        load_claims(p)
    assert "claims.yaml" in str(err.value) and "\n" not in str(err.value)
