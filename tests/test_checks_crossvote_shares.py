"""Whole sets of shares of the 2018 DPR/LPR votes: add up, fit the votes, fit the final."""

import dataclasses

import pandas as pd
import pytest

from audit.referenda.checks import SCENARIOS, _statuses, crossvote_shares
from audit.referenda.checks.base import CONSISTENT, INCONSISTENT


def _options(evidence, sets):
    """The real option table's columns and types, with these sets instead.

    ``sets`` maps a set id to (overrides of the set, [(option, share, votes), ...]).
    """
    base = {"vote": "test election", "region": "LPR", "date": "2018-11-11",
            "as_of": "2018-11-12", "counted_pct": 100.0, "counted_basis": "ballots",
            "stage": "final", "complete": True, "resolution": 0.1,
            "source_url": "https://example.org/s", "confidence": "medium",
            "verification": "confirmed", "note": ""}
    rows = [{**base, **over, "set_id": sid, "option": o, "share": s, "votes": v}
            for sid, (over, opts) in sets.items() for o, s, v in opts]
    t = pd.DataFrame(rows)
    for col in ("date", "as_of"):
        t[col] = pd.to_datetime(t[col])
    t["votes"] = t["votes"].astype("Int64")
    t["complete"] = t["complete"].astype("boolean")
    return t[list(evidence.options.columns)]


def _with(evidence, sets):
    return dataclasses.replace(evidence, options=_options(evidence, sets))


def _one(found, words):
    (f,) = [f for f in found if words in f.subject]
    return f


def test_the_2018_results_found_add_up(evidence):
    found = crossvote_shares.shares_add_up(evidence)
    assert {f.verdict for f in found} == {CONSISTENT}
    # a set of one share (LPR council after 31%: 75.2%) is not a sum to check
    assert not any("LPR People's Council election 2018 (after 31%" in f.subject for f in found)
    # LPR head, final (lug-info, 112.international): 68.3 + 16.55 + 7.95 + 5.9 + 1.3 = 100
    lpr = [f for f in found if f.region == "LPR" and "LPR head election 2018 (final" in f.subject]
    assert len(lpr) == 1 and lpr[0].value == pytest.approx(100.0)
    # DPR head after 97.52% (slovoidilo): 60.9 + 14.1 + 9.2 + 7.8 + 6.4 = 98.4, no invalid given
    (d,) = [f for f in found if "97.52%" in f.subject]
    assert d.value == pytest.approx(98.4) and d.expected_low == 0.0
    # DPR 2023 after all protocols (kommersant): 78.03 + 6.43 + 6.25 + 5.14 + 3.27 = 99.12
    (r23,) = [f for f in found if f.subject.startswith("Russian regional elections 2023 (final")
              and f.region == "DPR"]
    assert r23.value == pytest.approx(99.12)


def test_shares_over_100_or_a_complete_set_short_of_it_are_inconsistent(evidence):
    ev = _with(evidence, {
        "over": ({}, [("A", 70.4, None), ("B", 17.3, None), ("C", 8.0, None), ("D", 6.0, None),
                      ("invalid", 1.3, None)]),                                    # 103.0
        "short": ({"as_of": "2018-11-13"}, [("A", 60.0, None), ("B", 37.0, None),
                                            ("invalid", 1.0, None)]),              # 98.0, complete
        "partial": ({"as_of": "2018-11-14", "complete": False},
                    [("A", 60.0, None), ("B", 37.0, None)]),                        # 97.0, not all
        "rounding": ({"as_of": "2018-11-15"}, [("A", 50.1, None), ("B", 30.1, None),
                                               ("C", 10.0, None), ("D", 9.0, None),
                                               ("invalid", 1.0, None)]),           # 100.2
    })
    verdicts = [f.verdict for f in crossvote_shares.shares_add_up(ev)]
    # 100.2 with five shares of 0.1 rounding may be 99.95: it fits
    assert verdicts == [INCONSISTENT, INCONSISTENT, CONSISTENT, CONSISTENT]


def test_lpr_votes_fit_one_ballot_total_by_hand(evidence):
    f = _one(crossvote_shares.votes_match_shares(evidence), "LPR head election 2018")
    assert f.verdict == CONSISTENT
    # Koval's 144,441 votes at 16.55% (+-0.005) give the tightest bounds
    assert f.value == pytest.approx(144441 / 0.16555)
    assert f.expected_high == pytest.approx(144441 / 0.16545)


def test_votes_that_fit_no_single_total_are_inconsistent(evidence):
    ev = _with(evidence, {"x": ({}, [("A", 68.3, 596230), ("B", 16.55, 144441),
                                     ("C", 7.95, 69396), ("D", 5.9, 60000),   # 51,500 published
                                     ("invalid", 1.3, None)])})
    (f,) = crossvote_shares.votes_match_shares(ev)
    assert f.verdict == INCONSISTENT and "no single total" in f.explanation


def test_dpr_2018_medvedev_cannot_fall_from_10_1_to_6_49_after_76_percent(evidence):
    f = _one(crossvote_shares.partial_to_final(evidence), "after 76%")
    assert f.verdict == INCONSISTENT and "Medvedev" in f.explanation
    # the most the remaining 24% of ballots can hold for him: (6.495 - 0.755 * 10.05) / 0.245
    assert f.value == pytest.approx((6.495 - 0.755 * 10.05) / 0.245)
    # the set is on one aggregator page only: it is not part of the confirmed-only run
    confirmed = SCENARIOS["confirmed figures only"](evidence)
    assert set(confirmed.options["verification"]) == {"confirmed"}
    assert not any("after 76%" in f.subject for f in crossvote_shares.partial_to_final(confirmed))
    # and the full run's rests_on names the status it rests on
    assert _statuses(evidence, "DPR", "; ".join(f.evidence)) == "confirmed; single source"


def test_a_share_that_can_still_be_reached_is_consistent_and_basis_is_named(evidence):
    ev = _with(evidence, {
        "p": ({"stage": "partial", "counted_pct": 50.0, "counted_basis": "protocols",
               "complete": False}, [("A", 70.0, None), ("B", 30.0, None)]),
        "f": ({"as_of": "2018-11-13"}, [("A", 40.0, None), ("B", 59.0, None),
                                        ("invalid", 1.0, None)]),
    })
    (f,) = crossvote_shares.partial_to_final(ev)
    # A: (40.05 - 0.5005 * 69.95) / 0.4995 = 10.09% of the rest, within 0-100
    assert f.verdict == CONSISTENT and "share of protocols" in f.explanation
    ev = _with(evidence, {
        "p": ({"stage": "partial", "counted_pct": 50.0, "complete": False},
              [("A", 90.0, None), ("B", 10.0, None)]),
        "f": ({"as_of": "2018-11-13"}, [("A", 40.0, None), ("B", 59.0, None),
                                        ("invalid", 1.0, None)]),
    })
    (f,) = crossvote_shares.partial_to_final(ev)
    assert f.verdict == INCONSISTENT           # A would need -10% of the rest


def test_evidence_without_option_table_gives_no_findings(evidence):
    ev = dataclasses.replace(evidence, options=None)
    assert crossvote_shares.shares_add_up(ev) == []
    assert crossvote_shares.partial_to_final(ev) == []


def test_a_set_whose_rows_disagree_names_row_and_column(evidence):
    from audit.core.errors import InputError

    o = _options(evidence, {"x": ({}, [("A", 60.0, None), ("B", 39.0, None)])})
    o.loc[1, "counted_pct"] = 90.0
    with pytest.raises(InputError, match=r"row 3.*counted_pct|counted_pct.*row 3"):
        crossvote_shares.option_sets(dataclasses.replace(evidence, options=o))
    o = _options(evidence, {"x": ({}, [("A", 60.0, None), ("A", 39.0, None)])})
    with pytest.raises(InputError, match="named twice"):
        crossvote_shares.option_sets(dataclasses.replace(evidence, options=o))
