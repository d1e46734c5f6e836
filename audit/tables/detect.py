"""Which reader fits a file? Told from its content (its header), not its name.

:func:`detect_format` reads the first rows of a file (the head of the table
inside a zip or gzip archive, the column names of a Parquet file, the first
rows of each sheet of a workbook) and matches them against what each reader
needs: the columns it cannot do without. Exactly one match is the answer;
none or several give one line listing what was found and the candidates, so
that the user can pass ``--format``.
"""

from __future__ import annotations

import csv
import gzip
import io
import zipfile
from pathlib import Path

from ..core.errors import InputError
from .sniff import check_text, kind_of
from .text import one_line

_HEAD_BYTES = 256 * 1024
_HEAD_ROWS = 30

# What each format cannot do without (see each reader).
_CZ = ("TYP_FORM", "OKRES", "OBEC", "OKRSEK", "KOLO", "VOL_SEZNAM", "PL_HL_CELK")
_PL = ("Województwo", "Kod TERYT", "Numer obwodu", "Gmina")
_UA = ("polling_station_number", "district_number")
_CA = "Electoral District Number"
_CANONICAL = ("station", "ballots_cast")


def _head_of_zip(raw: bytes) -> bytes:
    zf = zipfile.ZipFile(io.BytesIO(raw))
    if "xl/workbook.xml" in zf.namelist():
        return b""
    names = [n for n in zf.namelist() if not n.endswith("/") and not n.startswith("__MACOSX")]
    tables = [n for n in names if n.lower().endswith((".csv", ".txt", ".tsv", ".xlsx",
                                                       ".parquet"))] or names
    if len(tables) != 1:
        raise InputError(f"expected one table (CSV, .xlsx or Parquet) inside the zip "
                         f"archive, found {len(tables)}")
    with zf.open(tables[0]) as fh:
        return fh.read(_HEAD_BYTES)


def _rows(path: Path) -> list[list[str]]:
    """The first rows of the table in ``path``, as text cells."""
    raw = path.read_bytes()
    kind = kind_of(raw, file=path)
    if kind == "gzip":
        with gzip.GzipFile(fileobj=io.BytesIO(raw)) as fh:
            raw = fh.read(_HEAD_BYTES)
        kind = kind_of(raw, file=path)
    if kind == "zip":
        zf = zipfile.ZipFile(io.BytesIO(raw))
        if "xl/workbook.xml" in zf.namelist():
            return _xlsx_rows(raw)
        try:
            raw = _head_of_zip(raw)
        except InputError as exc:
            raise InputError(str(exc), file=path) from None
        if not raw:
            return []
        kind = kind_of(raw, file=path)
    if kind == "parquet":
        import pyarrow.parquet as pq

        return [list(pq.read_schema(io.BytesIO(raw)).names)]
    head = raw[:_HEAD_BYTES]
    if kind == "utf-16":
        text = head.decode("utf-16", errors="ignore")
    else:
        for enc in ("utf-8-sig", "cp1251"):
            try:
                text = head.decode(enc)
                break
            except UnicodeDecodeError as exc:
                if exc.start > len(head) - 4:          # cut inside a character
                    text = head[:exc.start].decode(enc)
                    break
        else:
            text = head.decode("latin-1")
    check_text(text, file=path)                # web pages, JSON, ... say so
    lines = text.splitlines()[:_HEAD_ROWS]
    sample = "\n".join(lines)
    counts = {d: sample.count(d) for d in (",", ";", "\t", "|")}
    delim = max(counts, key=counts.get)
    return [[c.strip() for c in row] for row in csv.reader(lines, delimiter=delim)]


def _xlsx_rows(raw: bytes) -> list[list[str]]:
    try:
        import openpyxl

        wb = openpyxl.load_workbook(io.BytesIO(raw), read_only=True, data_only=True)
    except Exception:
        return []
    rows = []
    for ws in wb.worksheets:
        for row in ws.iter_rows(max_row=_HEAD_ROWS, values_only=True):
            rows.append(["" if v is None else str(v).strip() for v in row])
    return rows


def candidates(path) -> list[str]:
    """Every reader whose required columns the file's first rows hold."""
    from .readers.ru_cik import match_columns

    path = Path(path)
    if path.is_dir():
        return ["ca-pollbypoll"]
    try:
        rows = _rows(path)
    except InputError:
        raise
    except Exception as exc:  # damaged archives, workbooks, Parquet files
        raise InputError(f"cannot open the file to tell its format ({one_line(exc, 160)}); "
                         f"is it damaged or truncated? --format names the reader, which "
                         f"says what is wrong", file=path) from None
    cells = {c for row in rows for c in row if c}
    lower = {c.lower() for c in cells}
    found = []
    if all(c in cells for c in _CZ):
        found.append("cz-volby")
    if all(c in cells for c in _PL):
        found.append("pl-pkw")
    if all(c in lower for c in _UA):
        found.append("ua-cvk")
    if any(c.startswith(_CA) for c in cells):
        found.append("ca-pollbypoll")
    for row in rows[:3]:
        try:
            m = match_columns([c for c in row if c])
        except ValueError:
            continue
        if m.get("station") and m.get("registered") and m.get("options"):
            found.append("ru-cik")
            break
    for row in rows[:3]:
        names = {c.lower() for c in row}
        if all(c in names for c in _CANONICAL):
            found.append("canonical")
            break
    return found


def detect_format(path, formats=None) -> str:
    """The one reader that fits ``path``; InputError (one line, listing the
    candidates) when none or several do.

    Examples
    --------
    >>> import tempfile, pathlib
    >>> with tempfile.TemporaryDirectory() as tmp:
    ...     f = pathlib.Path(tmp) / "x.csv"
    ...     _ = f.write_text("region,district,station,registered,ballots_cast,A\\n"
    ...                      "r,d,1,100,50,30\\n")
    ...     detect_format(f)
    'canonical'
    """
    names = sorted(formats) if formats is not None else None
    found = candidates(path)
    listing = ", ".join(names) if names else "see 'audit run --help'"
    if len(found) == 1:
        return found[0]
    if not found:
        raise InputError(f"cannot tell the format from the file's columns; give --format "
                         f"(one of {listing}), or --format canonical --mapping FILE.yaml "
                         f"for any other table", file=path)
    raise InputError(f"the columns fit several formats ({', '.join(found)}); give --format "
                     f"to choose", file=path)
