"""Opening a table file, whatever its container: plain, zipped or gzipped
delimited text, an ``.xlsx`` workbook or Parquet.

Row numbers follow the spreadsheet convention of :class:`audit.core.errors.InputError`:
the header is row 1, so the first data row is row 2.  Every reader keeps the
source row number as the index (named ``source_row``) of the table it
returns, so an excluded row or a finding can be traced back to the file.
In a CSV file blank lines count as rows (as a spreadsheet shows them) and
a quoted field spanning several lines is one row; in an ``.xlsx`` workbook
the row numbers are the sheet's own.

What :func:`read_table` accepts, told apart by content, not by file name:

* delimited text in UTF-8 (with or without BOM), Windows-1251 or latin-1,
  with comma, semicolon, tab or bar delimiters (:mod:`audit.tables.delimited`);
* ``.xlsx`` workbooks (:mod:`audit.tables.excel`);
* Parquet files;
* any of these inside a zip archive holding one table, or gzip-compressed.

What it refuses, each with one line naming the file (and row and column
where there is one): empty files (0 bytes, only blank lines, a header and
no data), files that are not tables (images, PDF, HTML, JSON, binary data),
damaged or truncated archives, workbooks and Parquet files, files and
archives larger than the limits of :mod:`audit.tables.limits` (before
reading them), rows with more
or fewer fields than the header, unterminated quotes, repeated column
names and unnamed columns holding values.  Blank rows between data rows are
not errors: they are listed in ``StationTable.excluded`` ("blank row").
"""

from __future__ import annotations

import io
import re
import zipfile
import zlib
from pathlib import Path

import numpy as np
import pandas as pd

from ..core.errors import InputError
from ..core.outputs import sha256_of
from . import limits
from .delimited import read_delimited
from .excel import read_xlsx
from .sniff import kind_of
from .text import one_line

_TABLE_SUFFIXES = (".csv", ".txt", ".tsv", ".xlsx", ".parquet", ".pq")


BLANK_ROW = "blank row: every cell is empty"


def read_bytes(path) -> tuple[bytes, str]:
    """Bytes of a file, or of the single table inside a zip or gzip archive.

    Returns
    -------
    raw : bytes
    member : str
        Name of the archive member read ("" for a plain file).
    """
    path = Path(path)
    raw = read_file(path)
    kind = kind_of(raw, file=path)
    if kind == "gzip":
        return _gunzip(raw, path), path.name.removesuffix(".gz")
    if kind == "zip" and not _is_xlsx(raw, path):
        return _zip_member(raw, path)
    return raw, ""


def read_file(path) -> bytes:
    """The bytes of a file, refused before reading when it is larger than
    the limit of :mod:`audit.tables.limits`."""
    path = Path(path)
    if not path.exists():
        raise InputError("file not found", file=path)
    if path.is_dir():
        raise InputError("is a folder, not a file", file=path)
    try:
        limits.check_file(path, path.stat().st_size)
        return path.read_bytes()
    except OSError as exc:
        raise InputError(f"cannot read the file: {one_line(exc.strerror or exc)}",
                         file=path) from None


def _gunzip(raw: bytes, path) -> bytes:
    """Decompress a gzip file within the limits (see :func:`limits.gunzip`)."""
    what = f"{Path(path).name.removesuffix('.gz')!r} in the gzip file"
    try:
        return limits.gunzip(raw, path, what)
    except (OSError, EOFError, zlib.error) as exc:
        raise InputError(f"damaged or truncated gzip file ({one_line(exc)})",
                         file=path) from None


def _open_zip(raw: bytes, path) -> zipfile.ZipFile:
    try:
        return zipfile.ZipFile(io.BytesIO(raw))
    except (zipfile.BadZipFile, zipfile.LargeZipFile, OSError, ValueError,
            EOFError) as exc:
        what = ".xlsx workbook" if str(path).lower().endswith(".xlsx") else "zip archive"
        raise InputError(f"damaged or truncated {what}: {one_line(exc)}",
                         file=path) from None


def _is_xlsx(raw: bytes, path) -> bool:
    names = set(_open_zip(raw, path).namelist())
    if "[Content_Types].xml" in names:
        if "xl/workbook.xml" in names:
            return True
        what = ("a Word document" if "word/document.xml" in names else
                "a PowerPoint file" if "ppt/presentation.xml" in names else
                "an Office document that is not a workbook")
        raise InputError(f"not a table: the file is {what}", file=path)
    if "mimetype" in names and "content.xml" in names:
        raise InputError("not a table: the file is an OpenDocument file (.ods/.odt); "
                         "save it as .xlsx or CSV", file=path)
    return False


def _zip_member(raw: bytes, path) -> tuple[bytes, str]:
    zf = _open_zip(raw, path)
    names = [n for n in zf.namelist()
             if not n.endswith("/") and not n.startswith("__MACOSX")]
    tables = [n for n in names if n.lower().endswith(_TABLE_SUFFIXES)]
    pick = tables if tables else names
    if len(pick) != 1:
        raise InputError(
            f"expected one table (CSV, .xlsx or Parquet) inside the zip archive, found "
            f"{len(pick)}: {one_line(', '.join(pick) or 'none', 200)}", file=path)
    info = zf.getinfo(pick[0])
    what = f"{pick[0]!r} in the zip archive"
    compressed = min(info.compress_size, len(raw))    # a forged size cannot exceed the file
    limits.check_expansion(path, what, info.file_size, compressed)
    try:
        with zf.open(info) as stream:
            data = limits.read_stream(stream, path, what, compressed)
    except (zipfile.BadZipFile, zlib.error, EOFError, OSError, RuntimeError,
            NotImplementedError, ValueError) as exc:
        raise InputError(f"cannot read {pick[0]!r} from the zip archive (damaged or "
                         f"truncated?): {one_line(exc)}", file=path) from None
    if data[:2] == b"PK" and not _is_xlsx(data, path):
        raise InputError("a zip archive inside the zip archive; extract it first",
                         file=path)
    return data, pick[0]


def read_table(path, *, sheet=None) -> tuple[pd.DataFrame, dict, list[pd.DataFrame]]:
    """Read any supported table file into a DataFrame of raw cells.

    Parameters
    ----------
    path : path-like
    sheet : str, optional
        Worksheet of an ``.xlsx`` workbook (see :mod:`audit.tables.excel`).

    Returns
    -------
    frame : DataFrame
        One row per data row, indexed by the source row number
        (``source_row``); columns named as in the header.
    source : dict
        Provenance: path, sha256, member, ``file_format`` ("csv", "xlsx",
        "parquet"), encoding and delimiter (CSV), sheet and header rows
        (xlsx), rows read, blank rows.
    excluded : list of DataFrame
        Rows left out before any reader-specific rule (blank rows).
    """
    path = Path(path)
    raw, member = read_bytes(path)
    kind = kind_of(raw, file=path)
    if sheet is not None and kind != "zip":
        raise InputError(f"sheet={sheet!r} applies to .xlsx workbooks only", file=path)
    if kind == "parquet":
        limits.check_parquet(raw, path)
        df, info = _read_parquet(raw, path)
    elif kind == "zip":
        limits.check_zip_members(_open_zip(raw, path), path, ".xlsx workbook")
        df, info = read_xlsx(raw, file=path, sheet=sheet)
    elif kind == "utf-16":
        try:
            text = raw.decode("utf-16")
        except UnicodeDecodeError as exc:
            raise InputError(f"not valid UTF-16 text: {one_line(exc, 120)}",
                             file=path) from None
        df, info = read_delimited(text.encode("utf-8"), path)
        info["encoding"] = "utf-16"
    else:
        df, info = read_delimited(raw, path)
    source = {"path": str(path), "sha256": sha256_of(path), "member": member, **info}
    df, excluded = finish_table(df, source, path)
    return df, source, excluded


def read_csv_table(path) -> tuple[pd.DataFrame, dict]:
    """Compatibility wrapper: :func:`read_table` without the excluded rows."""
    df, source, _ = read_table(path)
    return df, source


def _read_parquet(raw: bytes, path) -> tuple[pd.DataFrame, dict]:
    try:
        df = pd.read_parquet(io.BytesIO(raw))
    except Exception as exc:  # pyarrow raises several types for damaged files
        raise InputError(f"not a readable Parquet file (damaged or truncated?): "
                         f"{one_line(exc, 160)}", file=path) from None
    df.columns = [str(c) for c in df.columns]
    df = df.reset_index(drop=True)
    df.index = pd.RangeIndex(2, len(df) + 2, name="source_row")
    return df, {"file_format": "parquet", "encoding": "parquet", "delimiter": None}


def finish_table(df: pd.DataFrame, source: dict, path) -> tuple[pd.DataFrame, list]:
    """Clean names, drop unnamed empty columns, set blank rows aside."""
    names = [one_line(c) for c in df.columns]
    unnamed = [i for i, c in enumerate(names) if not c or re.fullmatch(r"Unnamed: \d+", c)]
    keep = []
    for i in range(len(names)):
        if i in unnamed:
            if df.iloc[:, i].notna().any() and not _blank_text(df.iloc[:, i]).all():
                raise InputError(f"column {i + 1} holds values but has no name in the "
                                 "header", file=path, row=source.get("header_rows",
                                                                     [1])[-1])
            continue
        keep.append(i)
    if len(keep) < len(names):
        df = df.iloc[:, keep]
        source["dropped_empty_columns"] = len(names) - len(keep)
    df.columns = [names[i] for i in keep]
    dupes = sorted({c for c in df.columns if list(df.columns).count(c) > 1})
    if dupes:
        raise InputError(f"column names must be unique; repeated: "
                         f"{one_line(', '.join(dupes), 200)}", file=path,
                         row=source.get("header_rows", [1])[-1])
    if df.shape[1] < 2:
        raise InputError(f"expected a table with several columns, found {df.shape[1]}",
                         file=path)
    blank = _blank_rows(df)
    excluded = []
    trailing = 0
    if blank.any():
        n = len(blank)
        while trailing < n and blank[n - 1 - trailing]:
            trailing += 1
        middle = blank.copy()
        middle[n - trailing:] = False
        if middle.any():
            excluded.append(pd.DataFrame({"source_row": df.index[middle].to_numpy("int64"),
                                          "reason": BLANK_ROW}))
        df = df.loc[~blank]
    source["rows"] = int(len(df))
    source["blank_rows"] = int(sum(len(e) for e in excluded))
    if trailing:
        source["trailing_blank_rows"] = int(trailing)
    if df.empty:
        raise InputError("the file has a header row but no data rows", file=path)
    return df, excluded


def _blank_text(s: pd.Series) -> pd.Series:
    if s.dtype.kind in "ifub":
        return s.isna()
    return s.isna() | s.astype("string").str.strip().fillna("").eq("")


def _blank_rows(df: pd.DataFrame) -> np.ndarray:
    """Rows whose every cell is empty or only whitespace (cheap when none)."""
    cand = np.ones(len(df), dtype=bool)
    texty = []
    for i in range(df.shape[1]):
        col = df.iloc[:, i]
        if col.dtype.kind in "ifub":
            cand &= col.isna().to_numpy()
        else:
            texty.append(i)
        if not cand.any():
            return cand
    for i in texty:
        sub = df.iloc[np.flatnonzero(cand), i]
        ok = _blank_text(sub).to_numpy(dtype=bool)
        cand[np.flatnonzero(cand)[~ok]] = False
        if not cand.any():
            break
    return cand
