"""Tables of the 2022 case study: the same territories across votes."""

import pytest

from audit.referenda import casestudy as cs


def test_cross_votes_hold_2022_2023_2024_for_every_region(evidence):
    t = cs.cross_vote_table(evidence)
    for region in evidence.region_codes:
        years = set(t[t["region"] == region]["date"].str[:4])
        assert {"2022", "2023", "2024"} <= years, region
    assert t["source_url"].str.startswith("http").all()
    assert t["confidence"].str.len().gt(0).all()


def test_cross_votes_apply_the_2022_arithmetic(evidence):
    t = cs.cross_vote_table(evidence)
    dpr24 = t[(t["region"] == "DPR") & (t["date"] == "2024-03-17")].iloc[0]
    # by hand: 1,705,786 / 0.9523 = 1,791,228 participants; / 0.8825 = 2,029,720 on the list
    assert dpr24["participants_basis"] == "votes / share"
    assert dpr24["participants_used"] == pytest.approx(1705786 / 0.9523)
    assert dpr24["implied_list"] == pytest.approx(1705786 / 0.9523 / 0.8825)
    dpr22 = t[(t["region"] == "DPR") & (t["date"] == "2022-09-27")].iloc[0]
    assert dpr22["participants_basis"] == "announced"
    assert dpr22["implied_list"] == pytest.approx(2131207 / 0.9751)


def test_lopsided_votes_and_ranges(evidence):
    lop = cs.lopsided_free_votes(evidence, above=97)
    assert (lop[["yes_high", "turnout_high"]].max(axis=1) > 97).all()
    assert cs.fmt_range(98.4, 98.4) == "98.4%" and cs.fmt_range(93.93, 98.5) == "93.93-98.5%"


def test_every_cross_vote_row_carries_its_verification(evidence):
    t = cs.cross_vote_table(evidence)
    assert t["verification"].str.len().gt(0).all()
    lop = cs.lopsided_free_votes(evidence)
    assert set(lop[lop["unit"].isin(["Southern Sudan", "Eritrea"])]["verification"]) == \
        {"confirmed"}


def test_turnout_curves_put_the_multi_day_votes_on_one_axis(evidence):
    c = cs.turnout_curves(evidence)
    assert (c["days_to_close"] <= 0).all()
    for region in evidence.region_codes:
        years = set(c[c["region"] == region]["year"])
        assert {2022, 2023} <= years, region
    # 2022: day 1 is four days before the close; 2024 LPR at noon of the last day is -0.5
    assert c[(c["year"] == 2022) & (c["stage"] == "day1")]["days_to_close"].eq(-4).all()
    lpr = c[(c["region"] == "LPR") & (c["year"] == 2024)]
    assert lpr.set_index("turnout").loc[80.21, "days_to_close"] == pytest.approx(-0.5)
    assert c["source_url"].str.startswith("http").all()
    assert c["verification"].str.len().gt(0).all()


def test_support_by_vote_says_what_each_share_is(evidence):
    s = cs.support_by_vote(evidence)
    assert set(s["kind"]) == {"referendum", "election"}
    assert (s[s["year"] == 2022]["kind"] == "referendum").all()
    assert (s[s["year"] == 2024]["kind"] == "election").all()
    assert s["source_url"].str.startswith("http").all()


def test_summary_has_every_region_and_vote_with_sources_or_says_not_found(evidence):
    s = cs.cross_vote_summary(evidence)
    assert len(s) == 4 * 3
    assert set(zip(s["region"], s["year"])) == {(r, y) for r in evidence.region_codes
                                                for y in (2022, 2023, 2024)}
    for q in ("turnout", "share"):
        found = s[s[q].notna()]
        assert found[f"{q}_source"].str.startswith("http").all()
        assert found[f"{q}_confidence"].isin(["high", "medium", "low"]).all()
        missing = s[s[q].isna()]
        assert (missing[f"{q}_as_stated"] == "not found on a stored page").all()
    # no stored page gives Zaporizhzhia's 2024 turnout (data/sources/verification.csv)
    z24 = s[(s["region"] == "Zaporizhzhia") & (s["year"] == 2024)].iloc[0]
    assert z24["turnout_verification"] == "not found" and z24["share"] == 92.95


def test_summary_takes_the_final_figure_and_keeps_its_bound(evidence):
    s = cs.cross_vote_summary(evidence).set_index(["region", "year"])
    # DPR 2023: the only final figure found is 'more than 76%' (TASS, RIA)
    assert s.loc[("DPR", 2023), "turnout_as_stated"] == "more than 76%"
    assert "turnout 74.1%" in s.loc[("DPR", 2023), "other_versions"]
    # Kherson 2024: the regional commission's final 83.87 (confirmed), not the 77 seen earlier
    assert s.loc[("Kherson", 2024), "turnout"] == 83.87
    assert "turnout 77%" in s.loc[("Kherson", 2024), "other_versions"]
    # derived, never announced: 1,705,786 / 0.9523 / 0.8825
    assert s.loc[("DPR", 2024), "participants_basis"].startswith("derived")
    assert s.loc[("DPR", 2024), "implied_list"] == pytest.approx(1705786 / 0.9523 / 0.8825)
