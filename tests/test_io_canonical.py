"""Reader for canonical tables and mapped tables (format ``canonical``)."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

from audit.core.errors import InputError
from audit.tables.readers import read
from audit.tables.readers.canonical import load_mapping, read_canonical

DATA = Path(__file__).parent / "data" / "stations"


def test_canonical_csv_semicolons():
    t = read(DATA / "canonical.csv", "canonical")
    assert t.source["delimiter"] == ";"
    assert t.options == ["Alpha", "Beta"]
    assert t.hierarchy == ["region", "district", "station"]
    assert t.data.index.tolist() == [2, 3, 4]
    assert t.excluded.source_row.tolist() == [5]
    assert t.findings[["source_row", "check"]].values.tolist() == \
        [[4, "issued_exceeds_registered"]]
    assert t.data["registered"].sum() == 2700


def test_parquet_roundtrip(tmp_path):
    t = read(DATA / "canonical.csv", "canonical")
    p = tmp_path / "t.parquet"
    t.data.reset_index(drop=True).to_parquet(p)
    t2 = read_canonical(p)
    assert t2.source["encoding"] == "parquet"
    pd.testing.assert_frame_equal(t2.data.reset_index(drop=True),
                                  t.data.reset_index(drop=True))


def test_yaml_mapping_sums_lists():
    t = read(DATA / "other_country.csv", "canonical",
             mapping=DATA / "other_country_mapping.yaml")
    assert t.options == ["Ann Smith", "Bob Jones"]
    assert t.hierarchy == ["region", "station"]
    assert t.data["ballots_issued"].tolist() == [600, 500, 400]
    assert t.data["invalid"].tolist() == [12, 10, 4]
    assert len(t.findings) == 0


def test_dict_mapping_with_explicit_options():
    t = read_canonical(DATA / "other_country.csv",
                       mapping={"station": "Precinct", "ballots_cast": "In boxes",
                                "options": ["Ann Smith"]})
    assert t.options == ["Ann Smith"]
    assert t.data["registered"].isna().all()


def test_unmapped_text_column_is_an_error():
    with pytest.raises(InputError, match=r"row 2, column 'Province': expected a "
                                         r"non-negative whole number, found 'East'"):
        read_canonical(DATA / "other_country.csv", mapping={"station": "Precinct"})


@pytest.mark.parametrize("mapping, message", [
    ({"station": "Nope"}, "names column 'Nope', which the file lacks"),
    ({"station": "Precinct", "turnout": "x"}, "unknown mapping key"),
    ({"station": ["Precinct"]}, "must name one column"),
    ({"region": "Province"}, "no 'station' column"),
    (["station"], "must be a dict"),
])
def test_mapping_errors(mapping, message):
    with pytest.raises(InputError, match=message):
        read_canonical(DATA / "other_country.csv", mapping=mapping)


def test_mapping_only_for_canonical():
    with pytest.raises(InputError, match="applies to format 'canonical'"):
        read(DATA / "canonical.csv", "ru-cik", mapping={"station": "station"})


def test_bad_yaml(tmp_path):
    p = tmp_path / "m.yaml"
    p.write_text("station: [unclosed\n")
    with pytest.raises(InputError, match="not valid YAML"):
        load_mapping(p)


def test_missing_file_and_unknown_format(tmp_path):
    with pytest.raises(InputError, match="file not found"):
        read(tmp_path / "none.csv", "canonical")
    with pytest.raises(InputError, match="unknown format 'xls'"):
        read(tmp_path / "none.csv", "xls")


def test_repeated_column_names(tmp_path):
    p = tmp_path / "d.csv"
    p.write_text("station,A,A\n1,2,3\n")
    with pytest.raises(InputError, match=r"d.csv, row 1: column names must be unique; "
                                         r"repeated: A"):
        read_canonical(p)


def test_ragged_row(tmp_path):
    p = tmp_path / "r.csv"
    p.write_text("station,A,B\n1,2,3\n2,3,4,5,6\n")
    with pytest.raises(InputError, match=r"r.csv, row 3: expected 3 fields as in the "
                                         r"header, found 5"):
        read_canonical(p)


def test_bom_and_tabs(tmp_path):
    p = tmp_path / "b.tsv"
    p.write_bytes("\ufeffstation\tA\tB\n1\t2\t3\n".encode("utf-8"))
    t = read_canonical(p)
    assert t.source["encoding"] == "utf-8-sig" and t.source["delimiter"] == "\t"
    assert t.options == ["A", "B"]


def test_mapping_may_name_the_sheet(tmp_path):
    import openpyxl

    wb = openpyxl.Workbook()
    wb.active.append(["x", "y"])
    wb.active.append([1, 2])
    ws = wb.create_sheet("Stations")
    ws.append(["Precinct", "A", "B"])
    ws.append(["7", 3, 4])
    p = tmp_path / "w.xlsx"
    wb.save(p)
    m = tmp_path / "m.yaml"
    m.write_text("sheet: Stations\nstation: Precinct\n")
    t = read(p, "canonical", mapping=m)
    assert t.source["sheet"] == "Stations" and t.options == ["A", "B"]
    assert t.data.index.tolist() == [2]


def test_ballots_cast_from_the_options_added_up(tmp_path):
    f = tmp_path / "actas.csv"
    f.write_text("Acta,State,A,B,Other\n"
                 "1,X,10,5,1\n"
                 "2,X,7,,2\n"          # an option empty at a station adds nothing
                 "3,Y,,,\n"            # no votes at all: no total, left out as empty
                 "4,Y,0,0,0\n", encoding="utf-8")
    t = read_canonical(f, mapping={"region": "State", "station": "Acta",
                                   "ballots_cast": "options"})
    assert t.options == ["A", "B", "Other"]
    assert t.data.set_index("station")["ballots_cast"].to_dict() == {"1": 16, "2": 9, "4": 0}
    assert t.source["ballots_cast_from_options"] is True
    assert "3" in set(t.excluded["station"].astype(str))
    # without it the file has no ballots cast
    plain = read_canonical(f, mapping={"region": "State", "station": "Acta"})
    assert plain.data["ballots_cast"].isna().all()
    assert "ballots_cast_from_options" not in plain.source


def test_a_column_named_options_is_read_as_written(tmp_path):
    f = tmp_path / "t.csv"
    f.write_text("station,options,A,B\n1,30,10,5\n2,40,20,6\n", encoding="utf-8")
    t = read_canonical(f, mapping={"station": "station", "ballots_cast": "options"})
    assert t.data["ballots_cast"].tolist() == [30, 40]
    assert t.options == ["A", "B"]
    assert "ballots_cast_from_options" not in t.source
