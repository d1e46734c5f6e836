"""Reader for Russian CEC station files (format ``ru-cik``).

Counts checked against the data README of dkobak/elections (mirrored in
/work/shared/datasets/README.md): 2020 has 96,765 stations and 107,999,611
registered voters; 2021 96,325 stations and 109,204,662 registered; 2024
94,214 rows of which the 2,268 stations of the four annexed regions are empty.
"""

from __future__ import annotations

import io
import os
import zipfile
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from audit.core.errors import InputError
from audit.tables.readers import read
from audit.tables.readers.ru_cik import match_columns, read_ru_cik

DATA = Path(__file__).parent / "data" / "stations"
SHARED = Path(os.environ.get("AUDIT_DATA_DIR", "/work/shared/datasets"))
needs_data = pytest.mark.skipif(not (SHARED / "ru-cik" / "2020.csv.zip").exists(),
                                reason="AUDIT_DATA_DIR does not hold the ru-cik files")

# Headers as published for other elections of the same source.
H2020 = ["name", "region", "tik", "uik",
         "Число участников голосования, включенных в список участников голосования "
         "на момент окончания голосования",
         "Число бюллетеней, выданных участникам голосования",
         "Число бюллетеней, содержащихся в ящиках для голосования",
         "Число недействительных бюллетеней", "ДА", "НЕТ", "url"]
H2024 = ["region", "tik", "uik", "Число избирателей, включенных в список избирателей",
         "Число избирательных бюллетеней, полученных участковой избирательной комиссией",
         "Число избирательных бюллетеней, выданных избирателям, проголосовавшим досрочно",
         "Число избирательных бюллетеней, выданных в помещении для голосования в день "
         "голосования",
         "Число избирательных бюллетеней, выданных вне помещения для голосования в день "
         "голосования",
         "Число погашенных избирательных бюллетеней",
         "Число избирательных бюллетеней в переносных ящиках для голосования",
         "Число бюллетеней в стационарных ящиках для голосования",
         "Число недействительных избирательных бюллетеней",
         "Число действительных избирательных бюллетеней",
         "Число утраченных избирательных бюллетеней",
         "Число избирательных бюллетеней, не учтенных при получении",
         "Даванков Владислав Андреевич", "Путин Владимир Владимирович"]
# An older layout (2000s): absentee certificates, no box lines, "against all".
HOLD = ["region", "tik", "uik", "Число избирателей, внесенных в список избирателей",
        "Число избирательных бюллетеней, выданных избирателям в помещении",
        "Число избирательных бюллетеней, выданных избирателям вне помещения",
        "Число открепительных удостоверений, выданных избирателям",
        "Число недействительных избирательных бюллетеней",
        "Число действительных избирательных бюллетеней",
        "Иванов Иван", "Петров Петр", "Против всех"]


def write(tmp_path, header, rows, name="t.csv", **kw):
    df = pd.DataFrame(rows, columns=header)
    path = tmp_path / name
    df.to_csv(path, index=False, **kw)
    return path


def test_matching_2020_header():
    m = match_columns(H2020)
    assert m["registered"] == H2020[4]
    assert m["issued"] == [H2020[5]]
    assert m["cast"] == [H2020[6]] and m["cast_rule"] == "ballots in boxes"
    assert m["invalid"] == H2020[7]
    assert m["options"] == ["ДА", "НЕТ"]
    assert (m["region"], m["district"], m["station"]) == ("region", "tik", "uik")


def test_matching_2024_header_sums_three_issued_lines():
    m = match_columns(H2024)
    assert m["issued"] == H2024[5:8]
    assert m["cast"] == [H2024[9], H2024[10]]
    assert m["invalid"] == H2024[11] and m["valid"] == H2024[12]
    assert m["options"] == H2024[15:]


def test_matching_older_layout_uses_valid_plus_invalid():
    m = match_columns(HOLD)
    assert m["registered"] == HOLD[3]
    assert m["issued"] == HOLD[4:6]          # certificates are not ballots
    assert m["cast_rule"] == "valid + invalid"
    assert m["cast"] == [HOLD[8], HOLD[7]]
    assert m["options"] == ["Иванов Иван", "Петров Петр", "Против всех"]


def test_2018_fixture_counts_and_findings():
    t = read(DATA / "ru_cik_2018.csv", "ru-cik")
    d = t.data
    assert t.options[0] == "Бабурин Сергей Николаевич" and len(t.options) == 8
    assert "url" not in d.columns
    # Row 1 by hand: issued 0 + 900 + 50, cast 50 + 900.
    assert d.loc[2, ["registered", "ballots_issued", "ballots_cast", "invalid"]].tolist() \
        == [1500, 950, 950, 10]
    assert d.loc[3, "ballots_issued"] == 800
    assert list(d.columns[:3]) == ["region", "district", "station"]
    # Station 4 (file row 5) issued 1,250 to 1,200 voters and its votes plus
    # invalid ballots (1,255) exceed the 1,250 ballots cast: kept and listed.
    assert 5 in d.index
    f = t.findings
    assert set(f.loc[f.source_row == 5, "check"]) == {"issued_exceeds_registered",
                                                      "votes_exceed_cast"}
    assert set(f.source_row) == {5}
    assert t.source["encoding"] == "utf-8" and t.source["delimiter"] == ","
    assert t.source["ballots_cast_from"] == "portable + stationary boxes"


def test_2020_style_with_cp1251_semicolons_in_zip(tmp_path):
    rows = [["x", "Регион", "1 ТИК", "УИК №1", 1000, 700, 700, 5, 600, 95, "u"],
            ["x", "Регион", "1 ТИК", "УИК №2", 500, 300, 290, 0, 200, 90, "u"]]
    buf = io.StringIO()
    pd.DataFrame(rows, columns=H2020).to_csv(buf, index=False, sep=";")
    z = tmp_path / "2020.csv.zip"
    with zipfile.ZipFile(z, "w") as zf:
        zf.writestr("2020.csv", buf.getvalue().encode("cp1251"))
    t = read_ru_cik(z)
    assert t.source["encoding"] == "cp1251"
    assert t.source["delimiter"] == ";"
    assert t.source["member"] == "2020.csv"
    assert t.data["ballots_cast"].tolist() == [700, 290]
    assert t.options == ["ДА", "НЕТ"]


def test_older_layout_reads(tmp_path):
    p = write(tmp_path, HOLD, [["R", "T", "1", 1000, 500, 20, 3, 10, 510, 300, 200, 10]])
    t = read_ru_cik(p)
    assert t.data.loc[2, ["ballots_issued", "ballots_cast", "invalid"]].tolist() == \
        [520, 520, 10]


def test_exclusions_empty_electronic_and_zero(tmp_path):
    empty = ["R", "T", "УИК №9"] + [None] * (len(H2024) - 3)
    ok = ["R", "T", "УИК №1", 1000, 1000, 0, 500, 20, 480, 20, 500, 5, 515, 0, 0, 100, 415]
    # Remote e-voting named as such (2021 style: no station number) ...
    named = ["R", "Дистанционное электронное голосование", None, 30000, 28000, 0, 28000,
             0, 0, 0, 27000, 0, 27000, 0, 0, 5000, 22000]
    # ... and unnamed, recognised by its size, no portable box and no invalid ballot.
    unnamed = ["город Москва", "район Сокол", "УИК №5003", 137036, 131930, 0, 131930, 0,
               0, 0, 120000, 0, 120000, 0, 0, 20000, 100000]
    zero = ["R", "T", "УИК №7"] + [0] * (len(H2024) - 3)
    p = write(tmp_path, H2024, [ok, empty, named, unnamed, zero])
    t = read_ru_cik(p)
    assert t.data.index.tolist() == [2]
    reasons = dict(zip(t.excluded.source_row, t.excluded.reason))
    assert reasons[3].startswith("no results published")
    assert reasons[4].startswith("remote electronic voting")
    assert reasons[5].startswith("remote electronic voting")
    assert reasons[6].startswith("every figure is zero")
    assert t.excluded.loc[t.excluded.source_row == 5, "station"].item() == "УИК №5003"
    kept = read_ru_cik(p, electronic="keep")
    assert kept.data.index.tolist() == [2, 4, 5]
    with pytest.raises(ValueError, match="electronic must be"):
        read_ru_cik(p, electronic="drop")


@pytest.mark.parametrize("bad, shown", [("12a", "'12a'"), ("-3", "'-3'"), ("2.5", "'2.5'")])
def test_bad_value_names_file_row_and_column(tmp_path, bad, shown):
    rows = [["x", "R", "T", "УИК №1", 1000, 700, 700, 5, 600, 95, "u"],
            ["x", "R", "T", "УИК №2", 1000, 700, 700, bad, 600, 95, "u"]]
    p = write(tmp_path, H2020, rows)
    with pytest.raises(InputError) as err:
        read_ru_cik(p)
    msg = str(err.value)
    assert str(p) in msg and "row 3" in msg
    assert "column 'Число недействительных бюллетеней'" in msg
    assert "non-negative whole number" in msg and shown in msg


def test_not_an_ru_cik_table(tmp_path):
    p = write(tmp_path, ["region", "uik", "A", "B"], [["R", "1", 3, 4]])
    with pytest.raises(InputError, match=r"row 1: not an ru-cik table: no protocol"):
        read_ru_cik(p)


def raw(year):
    return pd.read_csv(SHARED / "ru-cik" / f"{year}.csv.zip")


@needs_data
def test_2020_counts_match_readme():
    t = read(SHARED / "ru-cik" / "2020.csv.zip", "ru-cik")
    assert len(t.data) + len(t.excluded) == 96_765
    assert int(t.data["registered"].sum()) == 107_999_611
    # The only rows left out have no voters and no ballots at all.
    assert set(t.excluded.reason) == {"every figure is zero (no voters, no ballots)"}
    r = raw(2020)
    zero = (r.select_dtypes("number") == 0).all(axis=1)
    assert len(t.excluded) == int(zero.sum())
    assert int(t.data["ДА"].sum()) == int(r["ДА"].sum())
    assert int(t.data["ballots_cast"].sum()) == int(
        r["Число бюллетеней, содержащихся в ящиках для голосования"].sum())
    assert t.source["sha256"].startswith("1ec41f70")


@needs_data
def test_2021_electronic_pseudo_stations():
    path = SHARED / "ru-cik" / "2021.csv.zip"
    t = read_ru_cik(path)
    kept = read_ru_cik(path, electronic="keep")
    elec = t.excluded[t.excluded.reason.str.startswith("remote electronic")]
    # 18 commissions named "Дистанционное электронное голосование" plus
    # Moscow's 15 e-voting commissions (УИК №5001-5015).
    assert len(elec) == 33
    moscow = elec[elec.region == "город Москва"]
    assert sorted(moscow.station) == [f"УИК №{n}" for n in range(5001, 5016)]
    assert len(kept.data) + (len(kept.excluded)) == 96_325
    assert int(kept.data["registered"].sum()) == 109_204_662
    r = raw(2021)
    issued = r.filter(like="бюллетеней, выданных").sum(axis=1)
    assert int(kept.data["ballots_issued"].sum()) == int(issued.sum())
    assert len(t.options) == 14 and t.options[4].startswith("5. ")


@needs_data
def test_2024_empty_annexed_regions():
    t = read(SHARED / "ru-cik" / "2024.csv.zip", "ru-cik")
    assert len(t.data) + len(t.excluded) == 94_214
    assert len(t.excluded) == 2_268
    assert t.excluded.reason.str.startswith("no results published").all()
    assert set(t.excluded.region) == {"Донецкая Народная Республика",
                                      "Луганская Народная Республика",
                                      "Запорожская область", "Херсонская область"}
    d = t.data
    assert (d.region == "Республика Крым").sum() == 1_165
    assert (d.region == "город Севастополь").sum() == 188
    # Findings recomputed independently from the raw columns.
    r = raw(2024).dropna()
    cast = (r["Число избирательных бюллетеней в переносных ящиках для голосования"]
            + r["Число бюллетеней в стационарных ящиках для голосования"])
    issued = r.filter(like="выданных").sum(axis=1)
    over = set((r.index[cast > issued] + 2).tolist())
    assert over == set(t.findings.loc[t.findings.check == "cast_exceeds_issued",
                                      "source_row"])
    assert str(d["registered"].dtype) == "Int64"
    assert np.array_equal(d.index.to_numpy(), (r.index + 2).to_numpy())


def test_no_station_column_names_the_closest(tmp_path):
    header = ["region", "tik", "uik_number"] + H2020[4:8] + ["ДА", "НЕТ"]
    p = write(tmp_path, header, [["R", "T", "1", 1000, 700, 700, 5, 600, 95]])
    with pytest.raises(InputError, match=r"no 'uik' \(station\) column; closest column: "
                                         r"'uik_number'"):
        read_ru_cik(p)


def test_bad_electronic_option_is_an_input_error(tmp_path):
    p = write(tmp_path, H2020, [["x", "R", "T", "УИК №1", 1000, 700, 700, 5, 600, 95, "u"]])
    with pytest.raises(InputError, match="electronic must be 'exclude' or 'keep'"):
        read(p, "ru-cik", electronic="drop")
