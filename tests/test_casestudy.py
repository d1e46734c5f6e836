"""Tables of the 2022 case study: the same territories across votes."""

import pytest

from audit import casestudy as cs


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


def test_annexed_stations_are_skipped_without_the_file_and_never_downloaded(
        tmp_path, monkeypatch):
    import urllib.request

    def no_network(*a, **k):
        raise AssertionError("the report must not download")

    monkeypatch.setenv("AUDIT_DATA_DIR", str(tmp_path))
    monkeypatch.setattr(urllib.request, "urlopen", no_network)
    run = cs.annexed_stations("ru-cik/2024.csv.zip", ["город Севастополь"], leader="Путин")
    assert not run.ran
    assert "ru-cik/2024.csv.zip" in run.skipped and "AUDIT_DATA_DIR" in run.skipped
    assert str(tmp_path) not in run.skipped     # no machine's path in the page
    assert not cs.annexed_stations("no/such.csv", ["x"], leader="y").ran


def test_crimea_and_sevastopol_stations(evidence):
    from audit import datasets

    if not datasets.available(["ru-cik/2024.csv.zip"]):
        pytest.skip("2024 station file not in the data folder")
    run = cs.annexed_stations("ru-cik/2024.csv.zip",
                              ["Республика Крым", "город Севастополь"], leader="Путин",
                              tests=["integer_percentages", "last_digit", "turnout_skewness"])
    summary = cs.station_summary(run).set_index("region")
    # station counts from the dataset's README: Crimea 1,165, Sevastopol 188
    assert summary.loc["Республика Крым", "stations"] == 1165
    assert summary.loc["город Севастополь", "stations"] == 188
    table = cs.station_evidence(run)
    assert set(table[table["test"] == "turnout_skewness"]["class"]) == {"descriptive"}
    assert set(table[table["test"] == "integer_percentages"]["class"]) == {"evidence"}
