"""Reader for the Ukrainian 2019 station files (format ``ua-cvk``)."""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from audit.core.errors import InputError
from audit.tables.readers import read
from audit.tables.readers.ua_cvk import DISTRICT_OBLAST, oblast_of_district, read_ua_cvk

DATA = Path(__file__).parent / "data" / "stations"
SHARED = Path(os.environ.get("AUDIT_DATA_DIR", "/work/shared/datasets")) / "ua-cvk"
PRES = SHARED / "president_election_2019_1_by_vd_en.csv"
PARL = SHARED / "parliament_election_2019_by_vd_en.csv"
needs_data = pytest.mark.skipif(not PRES.exists(), reason="ua-cvk files not available")


def test_readme_ranges():
    # The four ranges given in the datasets README.
    for lo, hi, name in ((41, 61, "Donetsk"), (74, 82, "Zaporizhzhia"),
                         (104, 114, "Luhansk"), (182, 186, "Kherson")):
        assert set(oblast_of_district(np.arange(lo, hi + 1))) == {name}
    assert oblast_of_district([40])[0] == "Dnipropetrovsk"
    assert oblast_of_district([999, 0]).tolist() == ["district 999", "district 0"]
    # The ranges tile 1..225 without gaps or overlaps.
    covered = np.concatenate([np.arange(lo, hi + 1) for lo, hi, _, _ in DISTRICT_OBLAST])
    assert np.array_equal(np.sort(covered), np.arange(1, 226))


def test_fixture_mapping():
    t = read(DATA / "ua_cvk_president.csv", "ua-cvk")
    d = t.data
    assert t.options == ["Boyko Yuriy", "Zelensky Volodymyr", "Poroshenko Petro",
                         "Other candidates"]
    assert d["registered"].isna().all() and d["ballots_issued"].isna().all()
    assert d.loc[2, ["ballots_cast", "invalid"]].tolist() == [1121, 20]
    assert d.loc[2, ["region", "district", "station"]].tolist() == ["Vinnytsia", "11", "050130"]
    assert d.loc[4, "region"] == "Donetsk"
    assert d.loc[6, "region"] == "district 999"
    # The all-zero station is excluded; the one whose votes + spoiled (101)
    # exceed president_voters (100) is kept and listed.
    assert t.excluded.to_dict("list")["source_row"] == [5]
    assert t.findings[["source_row", "check"]].values.tolist() == [[6, "votes_exceed_cast"]]
    assert t.source["voters_meaning"].startswith("ballots cast")


def test_bad_value(tmp_path):
    p = tmp_path / "u.csv"
    p.write_text("polling_station_number,president_voters,A,B,district_number\n"
                 "1,10,5,5,11\n2,10,x,5,11\n")
    with pytest.raises(InputError, match=r"u.csv, row 3, column 'A': expected a "
                                         r"non-negative whole number, found 'x'"):
        read_ua_cvk(p)


def test_missing_district_column(tmp_path):
    p = tmp_path / "u.csv"
    p.write_text("polling_station_number,president_voters,A,B\n1,10,5,5\n")
    with pytest.raises(InputError, match="no 'district_number' column"):
        read_ua_cvk(p)


@needs_data
def test_president_voters_is_ballots_cast():
    raw = pd.read_csv(PRES)
    t = read_ua_cvk(PRES)
    assert len(t.data) == len(raw) == 29_695
    assert len(t.excluded) == 0
    votes = t.data[t.options].sum(axis=1)
    resid = t.data["ballots_cast"] - votes - t.data["invalid"]
    # president_voters = candidates + spoiled ballots on 29,618 stations;
    # it is never below the candidates' votes alone.
    assert int((resid == 0).sum()) == 29_618
    assert int((t.data["ballots_cast"] < votes).sum()) == 0
    assert int(t.data["ballots_cast"].sum()) == int(raw["president_voters"].sum())
    assert len(t.options) == 10


@needs_data
def test_parliament_voters_is_valid_votes():
    t = read_ua_cvk(PARL)
    raw = pd.read_csv(PARL)
    opts = [c for c in raw.columns if c not in
            ("polling_station_number", "parliament_voters", "district_number")]
    assert (raw[opts].sum(axis=1) == raw["parliament_voters"]).all()
    assert t.data["ballots_cast"].isna().all() and t.data["invalid"].isna().all()
    assert len(t.data) + len(t.excluded) == len(raw)
    assert t.excluded.reason.str.startswith("every figure is zero").all()
    t2 = read_ua_cvk(PARL, valid_as_cast=True)
    assert int(t2.data["ballots_cast"].sum()) == int(raw["parliament_voters"].sum())


@needs_data
@pytest.mark.parametrize("path", [PRES, PARL], ids=["president", "parliament"])
def test_district_oblast_agrees_with_station_numbers(path):
    # The first two digits of a six-digit station number are the oblast's
    # KOATUU code: an independent check of the district -> oblast table.
    t = read_ua_cvk(path)
    code = {name: k for _, _, name, k in DISTRICT_OBLAST}
    prefix = t.data["station"].str[:2].astype(int)
    expected = t.data["region"].map(code)
    assert expected.notna().all()
    assert (prefix == expected).all()


def test_missing_column_names_the_closest(tmp_path):
    p = tmp_path / "u.csv"
    p.write_text("polling_station_no,president_voters,A,B,district_number\n1,10,5,5,11\n")
    with pytest.raises(InputError, match=r"u.csv, row 1: not a ua-cvk table: no "
                                         r"'polling_station_number' column; closest "
                                         r"column: 'polling_station_no'"):
        read_ua_cvk(p)


def test_blank_rows_and_source(tmp_path):
    p = tmp_path / "u.csv"
    p.write_text("polling_station_number;president_voters;A;B;Spoiled bulletins;"
                 "district_number\n50130;1 121;600;501;20;11\n\n50131;900;450;440;10;11\n")
    t = read_ua_cvk(p)
    assert t.data["ballots_cast"].tolist() == [1121, 900]
    assert t.excluded[["source_row", "reason"]].values.tolist() == \
        [[3, "blank row: every cell is empty"]]
    assert t.source["thousands"] == " " and t.source["delimiter"] == ";"
