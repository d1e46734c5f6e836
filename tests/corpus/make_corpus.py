"""Regenerate the corpus of malformed and doctored results files.

Run from anywhere: ``python tests/corpus/make_corpus.py``.  Every file is
rebuilt byte for byte (fixed seeds, fixed zip and workbook timestamps), and
``MANIFEST.csv`` lists each file with the reader format, the command-line
options, what the command line must do (``error``: exit 2 and one line on
stderr; ``finding``: exit 0 and the match in the written findings /
excluded rows; ``ok``: exit 0 and the match in what the reader detected;
``flagged``: exit 0 and the named test rejected after Benjamini-Hochberg),
the regular expression to match and the rule exercised.
"""

from __future__ import annotations

import csv
import io
import zipfile
from datetime import datetime
from pathlib import Path

import numpy as np

HERE = Path(__file__).resolve().parent
OUT = HERE  # where main() writes (a test rebuilds into a temporary folder)
FIXED = datetime(2024, 1, 1, 0, 0, 0)
ZIP_TIME = (2024, 1, 1, 0, 0, 0)

HEADER = ["region", "district", "station", "registered", "ballots_issued",
          "ballots_cast", "invalid", "Alpha", "Beta"]
ROWS = [
    ["North", "N1", "1", 1000, 600, 600, 10, 300, 290],
    ["North", "N1", "2", 1200, 700, 700, 5, 400, 295],
    ["South", "S1", "3", 800, 500, 500, 0, 250, 250],
    ["South", "S2", "4", 1500, 1100, 1100, 20, 700, 380],
]
FAST = "--tests turnout_dip"

MANIFEST: list[dict] = []


def csv_text(header, rows, sep=",", fmt=str) -> str:
    buf = io.StringIO()
    w = csv.writer(buf, delimiter=sep, lineterminator="\n")
    w.writerow(header)
    for r in rows:
        w.writerow([fmt(v) if isinstance(v, int) else v for v in r])
    return buf.getvalue()


def add(name, data, fmt, expect, match, rule, options=FAST):
    path = OUT / name
    path.write_bytes(data if isinstance(data, bytes) else data.encode("utf-8"))
    MANIFEST.append({"file": name, "format": fmt, "options": options, "expect": expect,
                     "match": match, "rule": rule})


def zip_bytes(members: dict) -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as zf:
        for name, data in members.items():
            info = zipfile.ZipInfo(name, date_time=ZIP_TIME)
            info.compress_type = zipfile.ZIP_DEFLATED
            info.external_attr = 0o644 << 16
            zf.writestr(info, data)
    return buf.getvalue()


def xlsx_bytes(build) -> bytes:
    """A workbook built by ``build(wb)``, saved with fixed timestamps."""
    import openpyxl

    wb = openpyxl.Workbook()
    build(wb)
    wb.properties.created = FIXED
    wb.properties.modified = FIXED
    wb.properties.creator = "make_corpus"
    buf = io.BytesIO()
    wb.save(buf)
    # Re-pack with fixed member timestamps (openpyxl stamps the current time)
    # and a fixed modified date in docProps/core.xml.
    src = zipfile.ZipFile(io.BytesIO(buf.getvalue()))
    members = {}
    for info in src.infolist():
        data = src.read(info.filename)
        if info.filename == "docProps/core.xml":
            import re

            data = re.sub(rb"<dcterms:modified[^>]*>[^<]*</dcterms:modified>",
                          b'<dcterms:modified xsi:type="dcterms:W3CDTF">'
                          b"2024-01-01T00:00:00Z</dcterms:modified>", data)
        members[info.filename] = data
    return zip_bytes(members)


def parquet_bytes(header, rows) -> bytes:
    import pyarrow as pa
    import pyarrow.parquet as pq

    cols = {h: [r[i] for r in rows] for i, h in enumerate(header)}
    table = pa.table(cols)
    buf = io.BytesIO()
    pq.write_table(table, buf, compression="none")
    return buf.getvalue()


def main(folder: Path = HERE) -> None:
    global OUT
    OUT = Path(folder)
    MANIFEST.clear()
    for old in OUT.iterdir():
        if old.name not in ("make_corpus.py", "__pycache__") and old.is_file():
            old.unlink()
    base = csv_text(HEADER, ROWS)

    # ------------------------------------------------------------- accepted
    cyr = ["область", "округ", "участок", "registered", "ballots_issued", "ballots_cast",
           "invalid", "Иванов", "Петров"]
    rows = [["Северная", "Первый", "УИК №1", "1 000,0", "600,0", "600,0", "10,0", "300,0",
             "290,0"],
            ["Южная", "Второй", "УИК №2", "1 200,0", "700,0", "700,0", "5,0", "400,0",
             "295,0"]]
    text = csv_text(["region", "district", "station"] + cyr[3:], rows, sep=";")
    add("ok_cp1251_semicolon_decimal_comma.csv", text.encode("cp1251"), "canonical", "ok",
        r'"encoding": "cp1251".*"delimiter": ";".*"thousands": " ", "decimal": ","',
        "Windows-1251, semicolons, decimal commas and space-grouped thousands")
    add("ok_utf8_bom.csv", "\ufeff" + base, "canonical", "ok", r'"encoding": "utf-8-sig"',
        "UTF-8 with a byte-order mark")
    add("ok_tab.tsv", csv_text(HEADER, ROWS, sep="\t"), "canonical", "ok",
        r'"delimiter": "\\t"', "tab-delimited")
    add("ok_bar.csv", csv_text(HEADER, ROWS, sep="|"), "canonical", "ok",
        r'"delimiter": "\|"', "bar-delimited")
    add("ok_thousands_nbsp.csv",
        csv_text(HEADER, ROWS, sep=";", fmt=lambda v: f"{v:,}".replace(",", "\u00a0")),
        "canonical", "ok", r'"thousands": " "',
        "thousands separated by no-break spaces")
    add("ok_thousands_comma.csv", csv_text(HEADER, ROWS, sep=";", fmt=lambda v: f"{v:,}"),
        "canonical", "ok", r'"thousands": ","',
        "comma thousands separators in a semicolon file (groups of three: thousands)")
    add("ok_thousands_dot_decimal_comma.csv",
        csv_text(HEADER, ROWS, sep=";",
                 fmt=lambda v: f"{v:,}".replace(",", ".") + ",0"),
        "canonical", "ok", r'"thousands": "\.", "decimal": ","',
        "dot thousands with decimal comma (1.234,0)")
    add("ok_quoted_comma_thousands.csv",
        csv_text(HEADER, ROWS, fmt=lambda v: f"{v:,}"), "canonical", "ok",
        r'"delimiter": ",".*"thousands": ","',
        "quoted \"1,234\" in a comma-delimited file")
    add("ok_gzip.csv.gz", __import__("gzip").compress(base.encode(), mtime=0), "canonical",
        "ok", r'"file_format": "csv"', "gzip-compressed CSV")
    add("ok_zip_cp1251_ru_cik.csv.zip", zip_bytes({"2020.csv": csv_text(
        ["region", "tik", "uik",
         "Число участников голосования, включенных в список участников голосования",
         "Число бюллетеней, выданных участникам голосования",
         "Число бюллетеней, содержащихся в ящиках для голосования",
         "Число недействительных бюллетеней", "ДА", "НЕТ"],
        [["Регион", "1 ТИК", "УИК №1", 1000, 700, 700, 5, 600, 95],
         ["Регион", "1 ТИК", "УИК №2", 500, 300, 290, 0, 200, 90]],
        sep=";").encode("cp1251")}), "ru-cik", "ok",
        r'"member": "2020.csv".*"encoding": "cp1251".*"delimiter": ";"',
        "zipped Windows-1251 ru-cik file")

    def title_sheet(wb):
        ws = wb.active
        ws.title = "Results"
        ws.append(["Election results by station (provisional)"])
        ws.merge_cells("A1:I1")
        ws.append([])
        ws.append(HEADER)
        for r in ROWS:
            ws.append([int(v) if str(v).isdigit() and i > 2 else v for i, v in enumerate(r)])

    add("ok_xlsx_title_row.xlsx", xlsx_bytes(title_sheet), "canonical", "ok",
        r'"file_format": "xlsx".*"sheet": "Results", "header_rows": \[3\], '
        r'"skipped_rows": \[1, 2\]', "xlsx with a merged title row above the header")

    def merged_header(wb):
        ws = wb.active
        ws.title = "Protocol"
        ws.append(HEADER[:7] + ["Votes", None])
        ws.append([None] * 7 + ["Alpha", "Beta"])
        for c in "ABCDEFG":
            ws.merge_cells(f"{c}1:{c}2")
        ws.merge_cells("H1:I1")
        for r in ROWS:
            ws.append(r[:3] + [int(v) for v in r[3:]])

    add("ok_xlsx_merged_header.xlsx", xlsx_bytes(merged_header), "canonical", "ok",
        r'"header_rows": \[1, 2\].*"options": \["Votes / Alpha", "Votes / Beta"\]',
        "xlsx two-row header: merged group cell over sub-columns")
    add("ok_parquet.parquet", parquet_bytes(HEADER, ROWS), "canonical", "ok",
        r'"file_format": "parquet"', "Parquet")

    # ------------------------------------------------------------- refused
    add("error_empty.csv", b"", "canonical", "error", r"the file is empty \(0 bytes\)",
        "empty file (0 bytes)")
    add("error_blank_lines_only.csv", "\n\n  \n", "canonical", "error",
        r"the file is empty \(only blank lines\)", "only blank lines")
    add("error_header_only.csv", ",".join(HEADER) + "\n", "canonical", "error",
        r"header row but no data rows", "a header and no data")
    cut = base.rstrip("\n")
    add("error_truncated_row.csv", cut[: cut.rfind(",", 0, cut.rfind(",") - 8)], "canonical",
        "error", r"row 5: expected 9 fields as in the header, found \d",
        "truncated file: last row has fewer fields than the header")
    add("error_truncated_quote.csv", base + 'South,S2,"5', "canonical", "error",
        r"row 6: a quoted field is never closed", "truncated file inside a quoted field")
    add("error_too_many_fields.csv", base.replace("2,1200", "2,9,1200"), "canonical",
        "error", r"row 3: expected 9 fields as in the header, found 10",
        "a row with more fields than the header")
    add("error_unnamed_column.csv", base.replace("invalid,", "invalid,,").replace(
        ",5,", ",5,7,").replace(",10,", ",10,1,").replace(",0,", ",0,2,").replace(
        ",20,", ",20,3,"), "canonical", "error", r"column 8 holds values but has no name",
        "values under an empty column name")
    add("error_repeated_column.csv", base.replace("Beta", "Alpha"), "canonical", "error",
        r"row 1: column names must be unique; repeated: Alpha", "repeated column name")
    add("error_text_in_count.csv", base.replace("400,295", "abc,295"), "canonical",
        "error", r"row 3, column 'Alpha': expected a non-negative whole number, found 'abc'",
        "text in a count column")
    add("error_negative_count.csv", base.replace("250,250", "-5,250"), "canonical", "error",
        r"row 4, column 'Alpha': expected a non-negative whole number, found '-5'",
        "negative count")
    add("error_fraction_in_count.csv",
        csv_text(HEADER, ROWS, sep=";").replace("1200;700;700;5", "1200;700;700;12,5"),
        "canonical", "error",
        r"row 3, column 'invalid': expected a non-negative whole number, found '12,5'",
        "a decimal comma value that is not whole")
    add("error_misspelt_column.csv", base.replace("registered", "registred"), "canonical",
        "error", r"column 'registred'.*misspelt 'registered'",
        "unknown column close to a canonical name")
    add("error_no_station_column.csv", base.replace("station", "station_no"),
        "canonical", "error", r"no 'station' column.*closest column: 'station_no'",
        "missing required column, closest named")
    mapping_base = base.replace("station", "Precinct")
    add("error_mapping_missing_column.csv", mapping_base, "canonical", "error",
        r"mapping 'station' names column 'Precint', which the file lacks; closest column: "
        r"'Precinct'", "mapping names a missing column (typo)",
        options=f"--mapping {{here}}/error_mapping_missing_column.yaml {FAST}")
    add("error_mapping_missing_column.yaml", "station: Precint\n", "", "", "", "")
    MANIFEST.pop()
    add("error_mapping_unknown_key.csv", mapping_base, "canonical", "error",
        r"unknown mapping key\(s\) 'regsitered' \(did you mean 'registered'\?\)",
        "unknown mapping key, closest known",
        options=f"--mapping {{here}}/error_mapping_unknown_key.yaml {FAST}")
    add("error_mapping_unknown_key.yaml", "station: Precinct\nregsitered: registered\n",
        "", "", "", "")
    MANIFEST.pop()
    add("error_ru_cik_no_uik.csv", csv_text(
        ["region", "tik", "uik_no", "Число избирателей, включенных в список избирателей",
         "Число бюллетеней, содержащихся в ящиках для голосования",
         "Число недействительных бюллетеней", "ДА", "НЕТ"],
        [["R", "T", "1", 100, 50, 1, 30, 19]]), "ru-cik", "error",
        r"no 'uik' \(station\) column; closest column: 'uik_no'",
        "ru-cik file without a station column")
    add("error_ua_cvk_misspelt.csv",
        "polling_station_number,president_voters,A,B,distrct_number\n1,10,5,5,11\n",
        "ua-cvk", "error", r"no 'district_number' column; closest column: 'distrct_number'",
        "ua-cvk missing column, closest named")
    add("error_png_renamed.csv", b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR" + bytes(range(64)),
        "canonical", "error", r"not a table: the file is a PNG image",
        "an image renamed .csv")
    add("error_html_page.csv", "<!DOCTYPE html>\n<html><head><title>404 Not Found</title>"
        "</head><body><h1>Not Found</h1></body></html>\n", "canonical", "error",
        r"not a table: the file is an HTML page", "a web page saved as the data file")
    add("error_json.csv", '[{"station": "1", "registered": 1000}]\n', "canonical", "error",
        r"not a table: the file holds JSON", "JSON instead of a table")
    rng = np.random.default_rng(20240101)
    add("error_binary_junk.csv", rng.integers(0, 256, 300, dtype=np.uint8).tobytes(),
        "canonical", "error", r"not a table: the file holds binary data",
        "random bytes")
    add("error_legacy.xls", b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + bytes(120), "canonical",
        "error", r"legacy Excel \.xls", "legacy .xls workbook")
    whole_zip = zip_bytes({"results.csv": base * 3})
    add("error_truncated.zip", whole_zip[: len(whole_zip) // 2], "canonical", "error",
        r"damaged or truncated zip archive", "zip archive cut short")
    add("error_two_tables.zip", zip_bytes({"a.csv": base, "b.csv": base}), "canonical",
        "error", r"expected one table .* inside the zip archive, found 2",
        "zip archive holding two tables")
    whole_pq = parquet_bytes(HEADER, ROWS)
    add("error_truncated.parquet", whole_pq[: len(whole_pq) // 2], "canonical", "error",
        r"not a readable Parquet file \(damaged or truncated\?\)", "Parquet file cut short")
    whole_x = xlsx_bytes(title_sheet)
    add("error_truncated.xlsx", whole_x[: len(whole_x) * 2 // 3], "canonical", "error",
        r"damaged or truncated \.xlsx workbook", "xlsx workbook cut short")

    def two_sheets(wb):
        title_sheet(wb)
        ws = wb.create_sheet("Copy")
        ws.append(HEADER)
        ws.append(ROWS[0])

    add("error_xlsx_two_sheets.xlsx", xlsx_bytes(two_sheets), "canonical", "error",
        r"several sheets with data: 'Results', 'Copy'; choose one with sheet=",
        "workbook with several candidate sheets")

    # ------------------------------------------------------------- findings
    dup = ROWS + [ROWS[1]]
    add("finding_duplicate_identical.csv", csv_text(HEADER, dup), "canonical", "finding",
        r"duplicate_station.*identical figures in row\(s\) 6",
        "the same station row twice")
    dup = ROWS + [ROWS[1][:7] + [401, 294]]
    add("finding_duplicate_conflicting.csv", csv_text(HEADER, dup), "canonical", "finding",
        r"duplicate_station.*conflicting figures in row\(s\) 6 \(Alpha 400 vs 401",
        "one station twice with different figures")
    bad = [r[:] for r in ROWS]
    bad[2][4:6] = [900, 900]
    bad[2][7:9] = [500, 400]
    add("finding_turnout_over_100.csv", csv_text(HEADER, bad), "canonical", "finding",
        r"4,South,S1,3,issued_exceeds_registered,ballots issued 900 > registered 800",
        "turnout over 100%")
    no_issued = [h for h in HEADER if h != "ballots_issued"]
    rows = [r[:4] + r[5:] for r in bad]
    add("finding_cast_over_registered.csv", csv_text(no_issued, rows), "canonical",
        "finding", r"4,South,S1,3,cast_exceeds_registered,ballots cast 900 > registered 800",
        "turnout over 100% where ballots issued are not reported")
    bad = [r[:] for r in ROWS]
    bad[0][7] = 350
    add("finding_votes_above_ballots.csv", csv_text(HEADER, bad), "canonical", "finding",
        r"2,North,N1,1,votes_exceed_cast,option votes \+ invalid 650 > ballots cast 600",
        "votes above ballots cast")
    bad = [r[:] for r in ROWS]
    bad[3][5] = 1200
    bad[3][8] = 480
    add("finding_cast_above_issued.csv", csv_text(HEADER, bad), "canonical", "finding",
        r"5,South,S2,4,cast_exceeds_issued,ballots cast 1200 > ballots issued 1100",
        "more ballots cast than issued")
    lines = base.splitlines()
    add("finding_blank_rows.csv",
        "\n".join(lines[:3] + ["", ",,,,,,,,", "   "] + lines[3:]) + "\n\n",
        "canonical", "finding", r"4,blank row: every cell is empty",
        "blank rows between data rows are listed, not dropped silently")

    # ------------------------------------------------------------- doctored
    rng = np.random.default_rng(7)
    rows = []
    for i in range(300):
        cast = int(rng.integers(25, 75)) * 20
        share = int(rng.choice([55, 60, 65, 70, 75, 80]))
        leader = cast * share // 100
        reg = cast + int(rng.integers(50, 400))
        rows.append(["R", f"D{i % 7}", str(i + 1), reg, cast, cast, 0, leader, cast - leader])
    add("flagged_round_percentages.csv", csv_text(HEADER, rows), "canonical", "flagged",
        r"percent_05", "doctored: leader shares at multiples of 5 per cent "
        "(battery test percent_05 flags it)", options="--tests percent_05")

    with open(OUT / "MANIFEST.csv", "w", newline="", encoding="utf-8") as f:
        w = csv.DictWriter(f, ["file", "format", "options", "expect", "match", "rule"],
                           lineterminator="\n")
        w.writeheader()
        w.writerows(MANIFEST)


if __name__ == "__main__":
    main()
