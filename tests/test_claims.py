"""The claims ledger and its computed verdicts."""

from pathlib import Path

import pytest

from audit.checks import claims, run_checks
from audit.checks.base import CONSISTENT, IMPLAUSIBLE, INCONSISTENT, NOT_CHECKABLE, Finding
from audit.errors import InputError
from audit.evidence import load_claims

LEDGER = Path(__file__).resolve().parent.parent / "seeds" / "claims.yaml"


def _f(verdict):
    return Finding("x", "DPR", "s", verdict, 0.0, 0.0, 0.0, "percent", (), "")


@pytest.mark.parametrize("verdicts, expected", [
    ([CONSISTENT, INCONSISTENT, IMPLAUSIBLE], claims.CONTRADICTED),
    ([CONSISTENT, IMPLAUSIBLE], claims.IMPLAUSIBLE_CLAIM),
    ([CONSISTENT, NOT_CHECKABLE], claims.CONSISTENT_CLAIM),
    ([NOT_CHECKABLE], claims.NOT_CHECKABLE_CLAIM),
    ([], claims.NOT_CHECKABLE_CLAIM),
])
def test_claim_verdict_is_the_most_serious(verdicts, expected):
    assert claims.claim_verdict([_f(v) for v in verdicts]) == expected


def test_ledger_is_valid_and_every_check_exists():
    from audit.checks import CHECKS

    ledger = load_claims(LEDGER)
    assert len({c["id"] for c in ledger}) == len(ledger)
    for c in ledger:
        for name in c["checks"]:
            assert name in CHECKS or name in claims.CLAIM_CHECKS, name


def test_every_claim_gets_a_computed_verdict(evidence):
    table = run_checks(evidence).claims
    assert list(table["claim_id"]) == [c["id"] for c in evidence.claims]
    assert table["verdict"].isin(claims.CLAIM_VERDICTS).all()
    qualitative = [c["id"] for c in evidence.claims if c["kind"] == "qualitative"]
    assert (table.set_index("claim_id").loc[qualitative, "verdict"]
            == claims.NOT_CHECKABLE_CLAIM).all()


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


def test_support_range_uses_recomputed_shares(make_evidence):
    rows = [dict(region="DPR", quantity="yes_share", value="95.00", resolution="0.01",
                 unit="percent"),
            dict(region="DPR", quantity="yes", value=800, unit="votes"),
            dict(region="DPR", quantity="participants", value=1000),
            dict(region="LPR", quantity="yes_share", value="87.00", resolution="0.01",
                 unit="percent")]
    claim = {"figures": {"low": 87, "high": 95, "resolution": 1}}
    announced, recomputed = claims.support_range(make_evidence(rows), claim)
    assert announced.verdict == CONSISTENT
    assert recomputed.verdict == INCONSISTENT and "DPR 80.00%" in recomputed.explanation


@pytest.mark.parametrize("text, words", [
    ("claims: [", "not valid YAML"),
    ("documents: {}\nclaims:\n  - id: C1\n", "missing key"),
    ("documents: {d: {}}\nclaims:\n  - {id: C1, claim: a, attribution: b, source: d, kind: "
     "quantitative, figures: {}, checks: []}\n  - {id: C1, claim: a, attribution: b, source: d, "
     "kind: quantitative, figures: {}, checks: []}\n", "duplicate id"),
    ("documents: {d: {}}\nclaims:\n  - {id: C1, claim: a, attribution: b, source: x, kind: "
     "quantitative, figures: {}, checks: []}\n", "not listed under documents"),
])
def test_bad_ledgers_give_one_line_errors(tmp_path, text, words):
    p = tmp_path / "claims.yaml"
    p.write_text(text)
    with pytest.raises(InputError, match=words) as err:
        load_claims(p)
    assert "claims.yaml" in str(err.value) and "\n" not in str(err.value)
