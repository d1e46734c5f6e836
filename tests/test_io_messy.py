"""Messy and hostile input through the readers: each rule of the issue
"Hardening" (input part) with a hand-built file and the expected outcome.

The corpus (tests/corpus, tests/test_corpus.py) runs one file per rule
through the command line; these tests check the details at the API level:
row numbers, detected styles, the header rule of workbooks, the sheet
choice, what is listed as excluded and how duplicates are described.
"""

from __future__ import annotations

import gzip
import io
import zipfile

import pandas as pd
import pytest

from audit.core.errors import InputError
from audit.tables.readers import read
from audit.tables.readers.canonical import read_canonical
from audit.tables.readers.ru_cik import read_ru_cik

HEADER = ["region", "district", "station", "registered", "ballots_issued",
          "ballots_cast", "invalid", "Alpha", "Beta"]
ROWS = [["North", "N1", "1", 1000, 600, 600, 10, 300, 290],
        ["North", "N1", "2", 1200, 700, 700, 5, 400, 295],
        ["South", "S1", "3", 800, 500, 500, 0, 250, 250]]
CSV = "\n".join([",".join(HEADER)] + [",".join(map(str, r)) for r in ROWS]) + "\n"


def put(tmp_path, name, data):
    p = tmp_path / name
    p.write_bytes(data if isinstance(data, bytes) else data.encode("utf-8"))
    return p


def workbook(tmp_path, build, name="t.xlsx"):
    import openpyxl

    wb = openpyxl.Workbook()
    build(wb)
    p = tmp_path / name
    wb.save(p)
    return p


# ------------------------------------------------------------------ Excel

def test_xlsx_title_rows_and_excel_row_numbers(tmp_path):
    def build(wb):
        ws = wb.active
        ws.append(["Results by station"])
        ws.append(["Provisional, not certified"])
        ws.append(HEADER)
        ws.append(ROWS[0])
        ws.append(ROWS[1][:7] + ["unknown", 295])

    p = workbook(tmp_path, build)
    with pytest.raises(InputError) as err:
        read(p, "canonical")
    # Row 5 of the sheet, as Excel shows it (two title rows, header on row 3).
    assert (err.value.row, err.value.column) == (5, "Alpha")
    assert "found 'unknown'" in str(err.value)


def test_xlsx_source_records_sheet_and_header(tmp_path):
    def build(wb):
        ws = wb.active
        ws.title = "Stations"
        ws.append(["Title"])
        ws.merge_cells("A1:I1")
        ws.append(HEADER)
        for r in ROWS:
            ws.append(r)

    t = read(workbook(tmp_path, build), "canonical")
    assert t.source["file_format"] == "xlsx"
    assert t.source["sheet"] == "Stations"
    assert t.source["header_rows"] == [2] and t.source["skipped_rows"] == [1]
    assert t.data.index.tolist() == [3, 4, 5]
    assert t.data["registered"].tolist() == [1000, 1200, 800]
    assert t.data["station"].tolist() == ["1", "2", "3"]


def test_xlsx_group_header_without_vertical_merges(tmp_path):
    def build(wb):
        ws = wb.active
        ws.append(HEADER[:7] + ["Votes for", None])
        ws.append([None] * 7 + ["Alpha\nparty", "Beta"])
        ws.merge_cells("H1:I1")
        for r in ROWS:
            ws.append(r)

    t = read(workbook(tmp_path, build), "canonical")
    assert t.options == ["Votes for / Alpha party", "Votes for / Beta"]
    assert t.source["header_rows"] == [1, 2]
    assert t.data.index.tolist() == [3, 4, 5]


def test_xlsx_numeric_station_ids_and_text_counts(tmp_path):
    def build(wb):
        ws = wb.active
        ws.append(HEADER)
        for r in ROWS:
            ws.append(r[:2] + [int(r[2])] + [f"{v:,}".replace(",", " ") for v in r[3:]])

    t = read(workbook(tmp_path, build), "canonical")
    assert t.data["station"].tolist() == ["1", "2", "3"]
    assert t.data["registered"].tolist() == [1000, 1200, 800]
    assert t.source["thousands"] == " "


def test_xlsx_sheet_choice(tmp_path):
    def build(wb):
        ws = wb.active
        ws.title = "Summary"
        ws.append(["a", "b"])
        ws.append([1, 2])
        ws = wb.create_sheet("Stations")
        ws.append(HEADER)
        for r in ROWS:
            ws.append(r)
        wb.create_sheet("Empty")

    p = workbook(tmp_path, build)
    with pytest.raises(InputError, match=r"several sheets with data: 'Summary', "
                                         r"'Stations'; choose one with sheet=NAME"):
        read(p, "canonical")
    assert len(read(p, "canonical", sheet="Stations").data) == 3
    assert len(read_canonical(p, mapping={"sheet": "Stations"}).data) == 3
    with pytest.raises(InputError, match=r"no sheet 'Station' in the workbook; closest: "
                                         r"'Stations'"):
        read(p, "canonical", sheet="Station")


def test_sheet_option_only_for_workbooks(tmp_path):
    with pytest.raises(InputError, match="applies to .xlsx workbooks only"):
        read(put(tmp_path, "t.csv", CSV), "canonical", sheet="x")


def test_xlsx_empty_and_unnamed(tmp_path):
    p = workbook(tmp_path, lambda wb: None)
    with pytest.raises(InputError, match="no sheet of the workbook holds data"):
        read(p, "canonical")

    def build(wb):
        ws = wb.active
        ws.append(HEADER + [None])
        for r in ROWS:
            ws.append(r + [7])

    with pytest.raises(InputError, match=r"row 1: column 10 holds values but has no name"):
        read(workbook(tmp_path, build, "u.xlsx"), "canonical")


def test_ru_cik_reads_xlsx(tmp_path):
    header = ["region", "tik", "uik", "Число избирателей, включенных в список избирателей",
              "Число бюллетеней, содержащихся в ящиках для голосования",
              "Число недействительных бюллетеней", "ДА", "НЕТ"]

    def build(wb):
        ws = wb.active
        ws.append(header)
        ws.append(["R", "T", "УИК №1", 1000, 700, 5, 600, 95])

    t = read_ru_cik(workbook(tmp_path, build))
    assert t.data["ballots_cast"].tolist() == [700]
    assert t.source["file_format"] == "xlsx"


# ------------------------------------------------------------------ numbers

@pytest.mark.parametrize("sep, cells, thousands, decimal", [
    (";", ["1 000", "1 200", "800"], " ", None),
    (";", ["1\u00a0000", "1\u00a0200", "800"], " ", None),
    (";", ["1,000", "1,200", "800"], ",", None),
    (",", ['"1,000"', '"1,200"', "800"], ",", None),
    (";", ["1.000", "1.200", "800"], ".", None),
    (",", ["1.000", "1.200", "800"], ".", None),     # read as float by the parser
    (";", ["1.000,0", "1.200,0", "800,0"], ".", ","),
    (";", ["1 000,00", "1 200,00", "800,00"], " ", ","),
    (",", ["1000.0", "1200.0", "800.0"], None, None),  # float column: plain numbers
])
def test_number_styles_detected_and_recorded(tmp_path, sep, cells, thousands, decimal):
    lines = [sep.join(["station", "registered", "A", "B"])]
    for i, c in enumerate(cells):
        lines.append(sep.join([str(i + 1), c, "1", "2"]))
    t = read(put(tmp_path, "n.csv", "\n".join(lines) + "\n"), "canonical")
    assert t.data["registered"].tolist() == [1000, 1200, 800]
    assert (t.source["thousands"], t.source["decimal"]) == (thousands, decimal)
    if thousands or decimal:
        assert t.source["number_styles"]["registered"] == {"thousands": thousands,
                                                          "decimal": decimal}


@pytest.mark.parametrize("cell, shown", [
    ("12,5", "'12,5'"), ("1.5", "'1.5'"), ("n.a.", "'n.a.'"), ("1e3", "'1e3'"),
    ("99999999999999999999", "'99999999999999999999'"), ("1.23457E+06", "'1.23457E+06'"),
])
def test_count_cells_that_are_not_whole_numbers(tmp_path, cell, shown):
    text = f"station;registered;A;B\n1;100;1;2\n2;{cell};1;2\n"
    with pytest.raises(InputError) as err:
        read(put(tmp_path, "n.csv", text), "canonical")
    e = err.value
    assert (e.row, e.column) == (3, "registered")
    assert e.message.startswith("expected a non-negative whole number")
    assert shown in e.message or "1e+20" in e.message


@pytest.mark.parametrize("first", [0, 1])
def test_a_word_in_a_decimal_comma_column_is_named_as_it_is(tmp_path, first):
    # "n.a." has a dot, the column's numbers a decimal comma: the word is the
    # bad cell, not a mix of decimal marks blamed on another row
    cells = ["0,0", "n.a."] if first else ["n.a.", "0,0"]
    text = (f"station,registered,A,B\n1,\"{cells[0]}\",1,2\n2,\"{cells[1]}\",1,2\n")
    with pytest.raises(InputError) as err:
        read(put(tmp_path, "n.csv", text), "canonical")
    e = err.value
    assert (e.row, e.column) == (3 if first else 2, "registered")
    assert e.message == "expected a non-negative whole number, found 'n.a.'"


def test_na_words_are_not_missing_values(tmp_path):
    # "NA" is a region name here (pandas would read it as missing).
    t = read(put(tmp_path, "n.csv", "region,station,A,B\nNA,1,3,4\nNULL,2,5,6\n"),
             "canonical")
    assert t.data["region"].tolist() == ["NA", "NULL"]


def test_missing_value_markers_in_count_columns_are_missing_counts(tmp_path):
    # statistics packages write "NA", spreadsheets "#N/A": a missing count,
    # kept as <NA> (the station stays; the tests that need the count say so)
    t = read(put(tmp_path, "m.csv", "station,registered,ballots_cast,A,B\n"
                                    "1,1000,NA,300,290\n2,1200,#N/A,n/a,295\n"
                                    "3,800,500,250,NULL\n"), "canonical")
    d = t.data
    assert d["ballots_cast"].isna().tolist() == [True, True, False]
    assert d["A"].isna().tolist() == [False, True, False]
    assert d["B"].isna().tolist() == [False, False, True]
    assert len(d) == 3
    # a dash (zero in some tables) and other words stay errors
    for cell in ("-", "none given"):
        with pytest.raises(InputError) as err:
            read(put(tmp_path, "d.csv", f"station,registered,A\n1,{cell},3\n"), "canonical")
        assert err.value.column == "registered"


# ------------------------------------------------------------------ structure

def test_blank_rows_listed_trailing_ignored(tmp_path):
    lines = CSV.splitlines()
    text = "\n".join(lines[:2] + ["", ",,,,,,,,", "  "] + lines[2:]) + "\n\n\n"
    t = read(put(tmp_path, "b.csv", text), "canonical")
    assert t.data.index.tolist() == [2, 6, 7]
    blank = t.excluded[t.excluded.reason.str.startswith("blank row")]
    assert blank.source_row.tolist() == [3, 4, 5]
    assert t.source["blank_rows"] == 3 and t.source["trailing_blank_rows"] == 2


def test_leading_blank_lines_keep_row_numbers(tmp_path):
    text = "\n\n" + CSV.replace("400,295", "x,295")
    with pytest.raises(InputError, match=r"row 5, column 'Alpha'"):
        read(put(tmp_path, "b.csv", text), "canonical")


def test_short_row_after_a_quoted_newline(tmp_path):
    text = ('station,name,A,B\n1,"two\nlines",3,4\n2,plain,5,6\n3,cut\n')
    with pytest.raises(InputError, match=r"row 4: expected 4 fields as in the header, "
                                         r"found 2"):
        read(put(tmp_path, "q.csv", text), "canonical", mapping={
            "station": "station", "ignore": ["name"]})


def test_trailing_empty_field_is_not_a_short_row(tmp_path):
    t = read(put(tmp_path, "e.csv", "station,A,B\n1,3,4\n2,5,\n"), "canonical")
    assert t.data["B"].isna().tolist() == [False, True]


def test_every_row_one_field_too_many(tmp_path):
    with pytest.raises(InputError, match=r"row 2: expected 3 fields as in the header, "
                                         r"found 4"):
        read(put(tmp_path, "x.csv", "station,A,B\n1,2,3,4\n5,6,7,8\n"), "canonical")


def test_archives(tmp_path):
    gz = put(tmp_path, "t.csv.gz", gzip.compress(CSV.encode(), mtime=0))
    assert len(read(gz, "canonical").data) == 3
    with pytest.raises(InputError, match="damaged or truncated gzip file"):
        read(put(tmp_path, "cut.csv.gz", gz.read_bytes()[:-12]), "canonical")
    buf = io.BytesIO()
    xlsx = workbook(tmp_path, lambda wb: [wb.active.append(r) for r in [HEADER] + ROWS])
    with zipfile.ZipFile(buf, "w") as zf:
        zf.writestr("results.xlsx", xlsx.read_bytes())
    t = read(put(tmp_path, "x.zip", buf.getvalue()), "canonical")
    assert t.source["member"] == "results.xlsx" and t.source["file_format"] == "xlsx"


def test_utf16_text(tmp_path):
    t = read(put(tmp_path, "u.csv", CSV.replace(",", "\t").encode("utf-16")), "canonical")
    assert t.source["encoding"] == "utf-16" and len(t.data) == 3


@pytest.mark.parametrize("data, message", [
    (b"%PDF-1.4\n...", "the file is a PDF document"),
    (b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + bytes(64), "legacy Excel .xls"),
    ("<?xml version='1.0'?><a/>", "XML/markup"),
    ('{"a": 1}', "holds JSON"),
    ("just one line of prose without delimiters\n", "no delimiter"),
])
def test_not_a_table(tmp_path, data, message):
    with pytest.raises(InputError, match=message) as err:
        read(put(tmp_path, "f.csv", data), "canonical")
    assert "\n" not in str(err.value)


def test_docx_is_not_a_workbook(tmp_path):
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as zf:
        zf.writestr("[Content_Types].xml", "<Types/>")
        zf.writestr("word/document.xml", "<w:document/>")
    with pytest.raises(InputError, match="a Word document"):
        read(put(tmp_path, "f.xlsx", buf.getvalue()), "canonical")


def test_folder_is_not_a_file(tmp_path):
    with pytest.raises(InputError, match="is a folder"):
        read(tmp_path, "canonical")


# ------------------------------------------------------------------ columns

def test_canonical_names_ignore_case_and_spaces(tmp_path):
    text = CSV.replace("ballots_cast", "Ballots Cast").replace("region", "REGION")
    t = read(put(tmp_path, "c.csv", text), "canonical")
    assert t.options == ["Alpha", "Beta"]
    assert t.data["ballots_cast"].tolist() == [600, 700, 500]


def test_options_named_like_a_present_canonical_column_are_fine(tmp_path):
    # "Regions" is close to "region", but the file has "region" already.
    text = CSV.replace("Beta", "Regions")
    assert read(put(tmp_path, "c.csv", text), "canonical").options == ["Alpha", "Regions"]


def test_mapping_closest_names(tmp_path):
    p = put(tmp_path, "m.csv", CSV.replace("station", "Precinct"))
    with pytest.raises(InputError, match=r"row 1: mapping 'station' names column "
                                         r"'precinct ', which the file lacks; closest "
                                         r"column: 'Precinct'"):
        read_canonical(p, mapping={"station": "precinct "})
    with pytest.raises(InputError, match=r"unknown mapping key\(s\) 'Station' \(did you "
                                         r"mean 'station'\?\)"):
        read_canonical(p, mapping={"Station": "Precinct"})
    with pytest.raises(InputError, match=r"mapping 'ignore' names column 'Coment'"):
        read_canonical(p, mapping={"station": "Precinct", "ignore": ["Coment"]})


# ------------------------------------------------------------------ findings

def test_duplicates_identical_versus_conflicting(tmp_path):
    rows = ROWS + [ROWS[1], ROWS[1][:7] + [401, 294]]
    text = "\n".join([",".join(HEADER)] + [",".join(map(str, r)) for r in rows]) + "\n"
    t = read(put(tmp_path, "d.csv", text), "canonical")
    dup = t.findings[t.findings.check == "duplicate_station"].set_index("source_row")
    assert dup.index.tolist() == [3, 5, 6]
    assert dup.loc[3, "detail"] == (
        "station North / N1 / 2 repeated within its parents: identical figures in "
        "row(s) 5; conflicting figures in row(s) 6 (Alpha 400 vs 401; Beta 295 vs 294)")
    assert "identical figures in row(s) 3" in dup.loc[5, "detail"]
    assert dup.loc[6, "detail"].endswith("conflicting figures in row(s) 3, 5 "
                                         "(Alpha 401 vs 400; Beta 294 vs 295)")
    assert len(t.data) == 5  # every row kept
    assert t.source["findings_by_check"] == {"duplicate_station": 3}


def test_impossible_figures_counted_in_source(tmp_path):
    rows = [r[:] for r in ROWS]
    rows[0][4:6] = [1100, 1100]      # issued and cast above registered (1000)
    rows[0][7] = 1000                 # votes 1000 + 290 + 10 > cast 1100
    text = "\n".join([",".join(HEADER)] + [",".join(map(str, r)) for r in rows]) + "\n"
    t = read(put(tmp_path, "i.csv", text), "canonical")
    assert t.source["findings_by_check"] == {"issued_exceeds_registered": 1,
                                             "votes_exceed_cast": 1}
    assert set(t.findings.source_row) == {2}


def test_cast_over_registered_only_without_issued(tmp_path):
    text = "station,registered,ballots_cast,A\n1,100,120,120\n2,100,90,90\n"
    t = read(put(tmp_path, "c.csv", text), "canonical")
    assert t.findings[["source_row", "check"]].values.tolist() == \
        [[2, "cast_exceeds_registered"]]
    text = "station,registered,ballots_issued,ballots_cast,A\n1,100,120,120,120\n"
    t = read(put(tmp_path, "d.csv", text), "canonical")
    assert t.findings.check.tolist() == ["issued_exceeds_registered"]


def test_parquet_source(tmp_path):
    p = tmp_path / "t.parquet"
    pd.DataFrame([r[:3] + r[3:] for r in ROWS], columns=HEADER).to_parquet(p)
    t = read(p, "canonical")
    assert t.source["file_format"] == "parquet"
    assert t.data.index.tolist() == [2, 3, 4]


def test_damaged_utf8_is_not_read_as_cp1251(tmp_path):
    text = "region,station,A,B\n" + "".join(f"Южная,{i},1,2\n" for i in range(20))
    raw = bytearray(text.encode("utf-8"))
    at = raw.index("Южная".encode("utf-8"), 200)
    raw[at + 1] = 0x20  # break one two-byte sequence
    with pytest.raises(InputError, match=r"row \d+: not valid UTF-8: byte 0x[0-9a-f]{2}"):
        read(put(tmp_path, "u.csv", bytes(raw)), "canonical")
    # Genuine Windows-1251 text is still read.
    t = read(put(tmp_path, "w.csv", text.encode("cp1251")), "canonical")
    assert t.source["encoding"] == "cp1251" and t.data["region"].iloc[0] == "Южная"


def test_reader_bug_is_one_line(tmp_path, monkeypatch):
    import audit.tables.readers as aio

    def broken(path, **kw):
        raise KeyError("surprise\nsecond line")

    monkeypatch.setitem(aio.FORMATS, "canonical", broken)
    with pytest.raises(InputError) as err:
        read(put(tmp_path, "t.csv", CSV), "canonical")
    assert "KeyError" in str(err.value) and "please report" in str(err.value)
    assert "\n" not in str(err.value)


def test_unknown_reader_option(tmp_path):
    with pytest.raises(InputError, match="format 'canonical' takes no option 'colour'"):
        read(put(tmp_path, "t.csv", CSV), "canonical", colour="red")


def test_trailing_delimiter_in_header_only(tmp_path):
    t = read(put(tmp_path, "h.csv", "station,A,B,\n1,3,4\n2,5,6\n"), "canonical")
    assert t.options == ["A", "B"] and t.source["dropped_empty_columns"] == 1
    with pytest.raises(InputError, match=r"row 3: expected 3 fields as in the header, "
                                         r"found 2"):
        read(put(tmp_path, "s.csv", "station,A,B,\n1,3,4\n2,5\n"), "canonical")


def test_xlsx_header_with_numeric_names_and_a_note_row(tmp_path):
    def build(wb):
        ws = wb.active
        ws.append(["Source:", "CEC", None, None])
        ws.append(["station", "registered", 2019, 2024])
        ws.append(["1", 100, 30, 40])

    t = read(workbook(tmp_path, build), "canonical")
    assert t.options == ["2019", "2024"]
    assert t.source["header_rows"] == [2] and t.source["skipped_rows"] == [1]
    assert t.data.loc[3, "registered"] == 100
