"""Shared pieces of the readers: opening files, checking counts, bookkeeping.

Row numbers follow the spreadsheet convention of :class:`audit.errors.InputError`:
the header is row 1, so the first data row is row 2.  Every reader keeps the
source row number as the index (named ``source_row``) of the table it
returns, so an excluded row or a finding can be traced back to the file.
In a CSV file blank lines count as rows (as a spreadsheet shows them) and
a quoted field spanning several lines is one row; in an ``.xlsx`` workbook
the row numbers are the sheet's own.

What :func:`read_table` accepts, told apart by content, not by file name:

* delimited text in UTF-8 (with or without BOM), Windows-1251 or latin-1,
  with comma, semicolon, tab or bar delimiters (:mod:`audit.io.numbers`
  for thousands separators and decimal marks);
* ``.xlsx`` workbooks (:mod:`audit.io.excel`);
* Parquet files;
* any of these inside a zip archive holding one table, or gzip-compressed.

What it refuses, each with one line naming the file (and row and column
where there is one): empty files (0 bytes, only blank lines, a header and
no data), files that are not tables (images, PDF, HTML, JSON, binary data),
damaged or truncated archives, workbooks and Parquet files, rows with more
or fewer fields than the header, unterminated quotes, repeated column
names and unnamed columns holding values.  Blank rows between data rows are
not errors: they are listed in ``StationTable.excluded`` ("blank row").
"""

from __future__ import annotations

import csv
import gzip
import io
import re
import zipfile
import zlib
from pathlib import Path

import numpy as np
import pandas as pd

from ..canonical import COUNTS, HIERARCHY, StationTable
from ..datapackage import sha256_of
from ..errors import InputError
from .numbers import bad_value as _bad  # noqa: F401  (kept for older imports)
from .numbers import summarise_styles, to_counts  # noqa: F401  (re-exported)
from .sniff import check_text, kind_of

#: Bumped whenever a reader changes what it returns for the same bytes.
#: 2: blank rows listed as excluded, duplicate-station details say whether
#: the rows are identical, ``cast_exceeds_registered`` finding, new source keys.
READER_VERSION = 2

_ENCODINGS = ("utf-8-sig", "cp1251", "latin-1")
_DELIMITERS = ",;\t|"
_TABLE_SUFFIXES = (".csv", ".txt", ".tsv", ".xlsx", ".parquet", ".pq")
BLANK_ROW = "blank row: every cell is empty"


def one_line(text, limit: int = 300) -> str:
    """``text`` on one line (whitespace collapsed), at most ``limit`` characters."""
    s = re.sub(r"\s+", " ", str(text)).strip()
    return s if len(s) <= limit else s[: limit - 3] + "..."


def read_bytes(path) -> tuple[bytes, str]:
    """Bytes of a file, or of the single table inside a zip or gzip archive.

    Returns
    -------
    raw : bytes
    member : str
        Name of the archive member read ("" for a plain file).
    """
    path = Path(path)
    if not path.exists():
        raise InputError("file not found", file=path)
    if path.is_dir():
        raise InputError("is a folder, not a file", file=path)
    try:
        raw = path.read_bytes()
    except OSError as exc:
        raise InputError(f"cannot read the file: {one_line(exc.strerror or exc)}",
                         file=path) from None
    kind = kind_of(raw, file=path)
    if kind == "gzip":
        try:
            return gzip.decompress(raw), path.name.removesuffix(".gz")
        except (OSError, EOFError, zlib.error) as exc:
            raise InputError(f"damaged or truncated gzip file ({one_line(exc)})",
                             file=path) from None
    if kind == "zip" and not _is_xlsx(raw, path):
        return _zip_member(raw, path)
    return raw, ""


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
    try:
        data = zf.read(pick[0])
    except (zipfile.BadZipFile, zlib.error, EOFError, OSError, RuntimeError,
            NotImplementedError, ValueError) as exc:
        raise InputError(f"cannot read {pick[0]!r} from the zip archive (damaged or "
                         f"truncated?): {one_line(exc)}", file=path) from None
    if data[:2] == b"PK" and not _is_xlsx(data, path):
        raise InputError("a zip archive inside the zip archive; extract it first",
                         file=path)
    return data, pick[0]


def detect_encoding(raw: bytes, *, file=None) -> str:
    """First of UTF-8 (with or without BOM), cp1251, latin-1 that decodes.

    A file that is mostly UTF-8 but holds a few invalid bytes (a damaged
    download, two files pasted together) is refused, naming the row, rather
    than silently read as Windows-1251 mojibake: it is recognised by its
    Cyrillic UTF-8 byte pairs (0xD0/0xD1 followed by 0x80-0xBF), which real
    Windows-1251 text almost never contains.
    """
    try:
        raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        high = sum(1 for _ in re.finditer(rb"[\x80-\xff]", raw[:1_000_000]))
        pairs = len(re.findall(rb"[\xd0\xd1][\x80-\xbf]", raw[:1_000_000]))
        if high and pairs * 2 >= 0.8 * high:
            row = raw[: exc.start].count(b"\n") + 1
            raise InputError(f"not valid UTF-8: byte 0x{raw[exc.start]:02x} at offset "
                             f"{exc.start} breaks the text's UTF-8 (damaged file?)",
                             file=file, row=row) from None
    else:
        return "utf-8-sig" if raw.startswith(b"\xef\xbb\xbf") else "utf-8"
    for enc in _ENCODINGS[1:]:
        try:
            raw.decode(enc)
        except UnicodeDecodeError:
            continue
        return enc
    raise InputError("cannot decode the file as UTF-8, cp1251 or latin-1",
                     file=file)  # pragma: no cover (latin-1 decodes anything)


def detect_delimiter(text_head: str, *, file=None) -> str:
    """Delimiter of a CSV file from its first lines (comma, semicolon, tab, bar)."""
    lines = [ln for ln in text_head.splitlines()[:20] if ln.strip()]
    if not lines:
        raise InputError("the file is empty (only blank lines)", file=file)
    sample = "\n".join(lines)
    try:
        return csv.Sniffer().sniff(sample, delimiters=_DELIMITERS).delimiter
    except csv.Error:
        # Fall back to the candidate that appears most often in the header.
        counts = {d: lines[0].count(d) for d in _DELIMITERS}
        best = max(counts, key=counts.get)
        return best if counts[best] else ","


# ---------------------------------------------------------------- tables

def read_table(path, *, sheet=None) -> tuple[pd.DataFrame, dict, list[pd.DataFrame]]:
    """Read any supported table file into a DataFrame of raw cells.

    Parameters
    ----------
    path : path-like
    sheet : str, optional
        Worksheet of an ``.xlsx`` workbook (see :mod:`audit.io.excel`).

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
        df, info = _read_parquet(raw, path)
    elif kind == "zip":
        from .excel import read_xlsx

        df, info = read_xlsx(raw, file=path, sheet=sheet)
    elif kind == "utf-16":
        try:
            text = raw.decode("utf-16")
        except UnicodeDecodeError as exc:
            raise InputError(f"not valid UTF-16 text: {one_line(exc, 120)}",
                             file=path) from None
        df, info = _read_delimited(text.encode("utf-8"), path)
        info["encoding"] = "utf-16"
    else:
        df, info = _read_delimited(raw, path)
    source = {"path": str(path), "sha256": sha256_of(path), "member": member, **info}
    df, excluded = _finish(df, source, path)
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


_FIELDS = re.compile(r"Expected (\d+) fields in line (\d+), saw (\d+)")
_EOF_QUOTE = re.compile(r"EOF inside string starting at row (\d+)")
_DOT_GROUP = re.compile(rb'\.\d{3}(?:[,;\t|\r\n"]|$)')
_EXPONENT = re.compile(rb"[eE][+-]?\d")


def _floats_need_text(raw: bytes) -> bool:
    """May a float column hide dot-grouped thousands or an exponent (1.2E+06)?"""
    if _DOT_GROUP.search(raw):
        return True
    for letter in (b"e", b"E"):  # usually rare: jump from one to the next
        i, seen = raw.find(letter), 0
        while i != -1:
            if _EXPONENT.match(raw, i):
                return True
            seen += 1
            if seen > 200:
                return _EXPONENT.search(raw, i) is not None
            i = raw.find(letter, i + 1)
    return False


def _read_delimited(raw: bytes, path) -> tuple[pd.DataFrame, dict]:
    encoding = detect_encoding(raw, file=path)
    head = raw[:65536].decode(encoding, errors="ignore")
    check_text(head, file=path)
    lines = head.lstrip("\ufeff").splitlines()
    skip = next(i for i, ln in enumerate(lines) if ln.strip())
    delimiter = detect_delimiter(head, file=path)
    try:
        header = next(csv.reader(io.StringIO(lines[skip]), delimiter=delimiter))
    except (csv.Error, StopIteration) as exc:
        raise InputError(f"cannot read the header row: {one_line(exc)}", file=path,
                         row=skip + 1) from None
    header = [one_line(h) for h in header]
    if len(header) < 2:
        raise InputError("not a table: no delimiter (comma, semicolon, tab or bar) in "
                         "the header row", file=path, row=skip + 1)
    pd_enc = "utf-8-sig" if encoding == "utf-8" else encoding
    kw = dict(sep=delimiter, encoding=pd_enc, low_memory=False, skipinitialspace=True,
              skip_blank_lines=False, skiprows=skip, keep_default_na=False,
              na_values=[""])
    try:
        df = pd.read_csv(io.BytesIO(raw), **kw)
    except pd.errors.EmptyDataError:
        raise InputError("the file is empty", file=path) from None
    except (pd.errors.ParserError, ValueError, csv.Error, OverflowError) as exc:
        msg = str(exc)
        m = _FIELDS.search(msg)
        if m:
            raise InputError(f"expected {m.group(1)} fields as in the header, found "
                             f"{m.group(3)}", file=path, row=int(m.group(2))) from None
        m = _EOF_QUOTE.search(msg)
        if m:
            raise InputError("a quoted field is never closed (the file may be "
                             "truncated)", file=path, row=int(m.group(1)) + 1) from None
        raise InputError(f"not a readable {delimiter!r}-delimited table: "
                         f"{one_line(msg, 160)}", file=path) from None
    if not (isinstance(df.index, pd.RangeIndex) and df.index.start == 0
            and df.index.step == 1):
        # pandas takes the surplus first field as an index when every data
        # row has more fields than the header.
        raise InputError(f"expected {len(header)} fields as in the header, found "
                         f"{len(header) + df.index.nlevels}", file=path, row=skip + 2)
    dupes = sorted({h for h in header if header.count(h) > 1 and h})
    if dupes:
        raise InputError(f"column names must be unique; repeated: "
                         f"{one_line(', '.join(dupes), 200)}", file=path, row=skip + 1)
    if len(header) == df.shape[1]:
        df.columns = header
    df.index = pd.RangeIndex(skip + 2, skip + 2 + len(df), name="source_row")
    # A column pandas read as float may hold dot-grouped thousands
    # ("1.234" in a decimal-comma file) or exponents ("1.23E+06", rounded):
    # re-read such columns as text, for the count parser to judge.
    floats = [i for i, t in enumerate(df.dtypes) if t.kind == "f"]
    if floats and _floats_need_text(raw):
        text = pd.read_csv(io.BytesIO(raw), usecols=floats, dtype=str, **kw)
        for i in floats:
            df.isetitem(i, text.iloc[:, floats.index(i)].to_numpy())
    # A header ending in empty names (a trailing delimiter) does not make
    # rows that stop at the last named column short.
    named = max((i + 1 for i, h in enumerate(header) if h), default=df.shape[1])
    _check_short_rows(df, raw, encoding, delimiter, skip, path,
                      min(named, df.shape[1]) or df.shape[1])
    return df, {"file_format": "csv", "encoding": encoding, "delimiter": delimiter,
                "header_rows": [skip + 1]}


def _check_short_rows(df, raw, encoding, delimiter, skip, path, width) -> None:
    """Refuse rows with fewer than ``width`` fields (pandas pads them)."""
    if df.empty:
        return
    cand = df.iloc[:, width - 1].isna().to_numpy()
    if not cand.any():
        return
    ends = np.flatnonzero(np.frombuffer(raw, dtype=np.uint8) == 10)
    starts = np.concatenate([[0], ends + 1])
    ends = np.concatenate([ends, [len(raw)]])
    if starts[-1] >= len(raw) or raw[starts[-1]:] == b"\r":
        starts, ends = starts[:-1], ends[:-1]  # nothing after the last newline
    rows = np.flatnonzero(cand)
    if len(starts) == skip + 1 + len(df):
        # One line per row: look at the candidate lines only.
        for i in rows:
            k = skip + 1 + i
            line = raw[starts[k]:ends[k]].decode(encoding, errors="replace").rstrip("\r")
            if not line.strip():
                continue
            try:
                n = len(next(csv.reader([line], delimiter=delimiter), []))
            except csv.Error:
                continue  # e.g. a quote opened here: pandas already parsed it
            if n < width:
                _short(path, skip + 2 + i, width, n)
        return
    text = raw.decode(encoding).lstrip("\ufeff")
    # Quoted fields span lines: count the fields of every record.
    try:
        records = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)
        counts = [len(r) for r in records]
    except csv.Error as exc:
        raise InputError(f"not a readable table: {one_line(exc)}", file=path) from None
    counts = counts[skip + 1:]
    for i in rows:
        if i < len(counts) and 0 < counts[i] < width:
            _short(path, skip + 2 + i, width, counts[i])


def _short(path, row, width, n):
    raise InputError(f"expected {width} fields as in the header, found {n} (a "
                     "truncated or ragged row)", file=path, row=int(row))


def _finish(df: pd.DataFrame, source: dict, path) -> tuple[pd.DataFrame, list]:
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


# ------------------------------------------------------------ columns

def closest(name: str, names, *, cutoff: float = 0.6) -> str | None:
    """The entry of ``names`` most like ``name`` (case-insensitive), or None."""
    import difflib

    names = [str(n) for n in names]
    low = {n.casefold(): n for n in names}
    hit = difflib.get_close_matches(str(name).casefold(), list(low), n=1, cutoff=cutoff)
    return low[hit[0]] if hit else None


def missing_column(what: str, name: str, columns, *, file, row=1) -> InputError:
    """Error for a column the file lacks, naming the closest one it has."""
    near = closest(name, columns)
    hint = (f"; closest column: {near!r}" if near else
            f"; columns are: {one_line(', '.join(map(str, columns)), 200)}")
    return InputError(f"{what} column {name!r}, which the file lacks{hint}",
                      file=file, row=row)


# ------------------------------------------------------------ findings

def empty_excluded() -> pd.DataFrame:
    return pd.DataFrame({"source_row": pd.Series(dtype="int64"),
                         "reason": pd.Series(dtype="object")})


def excluded_frame(data: pd.DataFrame, mask, reason: str) -> pd.DataFrame:
    """Rows of ``data`` under ``mask`` as excluded-rows records with ``reason``."""
    rows = data.loc[np.asarray(mask, dtype=bool)]
    out = pd.DataFrame({"source_row": rows.index.to_numpy(dtype="int64"),
                        "reason": reason})
    for col in HIERARCHY:
        if col in rows.columns:
            out[col] = rows[col].to_numpy()
    return out


def find_impossible(data: pd.DataFrame, options: list[str]) -> pd.DataFrame:
    """List impossible-but-reported figures, one row per station and check.

    Checks (each only where both sides are known):

    ``issued_exceeds_registered``
        ballots issued > registered voters (turnout over 100%);
    ``cast_exceeds_registered``
        ballots cast > registered voters, where ballots issued are not
        reported (otherwise one of the other two checks already fires);
    ``cast_exceeds_issued``
        ballots cast (found in boxes) > ballots issued;
    ``votes_exceed_cast``
        option votes + invalid ballots > ballots cast;
    ``invalid_exceeds_cast``
        invalid ballots > ballots cast.
    """
    parts = []
    total = data[options].sum(axis=1, min_count=1) if options else None

    def add(check, left, right, lname, rname):
        mask = (left > right).fillna(False).to_numpy(dtype=bool)
        if not mask.any():
            return
        lv = left[mask].astype("int64").to_numpy()
        rv = right[mask].astype("int64").to_numpy()
        detail = [f"{lname} {a} > {rname} {b}" for a, b in zip(lv, rv)]
        parts.append(pd.DataFrame({"source_row": data.index[mask].to_numpy(dtype="int64"),
                                   "check": check, "detail": detail}))

    add("issued_exceeds_registered", data["ballots_issued"], data["registered"],
        "ballots issued", "registered")
    no_issued = data["ballots_issued"].isna()
    if no_issued.any():
        add("cast_exceeds_registered", data["ballots_cast"].where(no_issued),
            data["registered"], "ballots cast", "registered")
    add("cast_exceeds_issued", data["ballots_cast"], data["ballots_issued"],
        "ballots cast", "ballots issued")
    if total is not None:
        valid_plus_invalid = total + data["invalid"].fillna(0)
        add("votes_exceed_cast", valid_plus_invalid, data["ballots_cast"],
            "option votes + invalid", "ballots cast")
    add("invalid_exceeds_cast", data["invalid"], data["ballots_cast"],
        "invalid", "ballots cast")
    if not parts:
        return pd.DataFrame({"source_row": pd.Series(dtype="int64"),
                             "check": pd.Series(dtype="object"),
                             "detail": pd.Series(dtype="object")})
    out = pd.concat(parts, ignore_index=True)
    return out.sort_values(["source_row", "check"], kind="stable").reset_index(drop=True)


def find_duplicates(data: pd.DataFrame, options=()) -> pd.DataFrame:
    """Findings for station ids repeated within the same parents.

    Every row of a repeated key is kept and gets one ``duplicate_station``
    finding naming the other row(s) and saying whether their figures are
    identical (the same row twice) or conflicting (with the first
    differing columns).
    """
    keys = [c for c in HIERARCHY if c in data.columns]
    empty = pd.DataFrame({"source_row": pd.Series(dtype="int64"),
                          "check": pd.Series(dtype="object"),
                          "detail": pd.Series(dtype="object")})
    if "station" not in keys:
        return empty
    dup = data.duplicated(keys, keep=False).to_numpy()
    if not dup.any():
        return empty
    rows = data.loc[dup]
    figures = [c for c in list(COUNTS) + list(options) if c in rows.columns]
    out_rows, details = [], []
    for key, group in rows.groupby(keys, sort=False, dropna=False):
        key = key if isinstance(key, tuple) else (key,)
        label = " / ".join("" if pd.isna(v) else str(v) for v in key)
        vals = {r: tuple(None if pd.isna(v) else int(v) for v in group.loc[r, figures])
                for r in group.index}
        for r in group.index:
            others = [o for o in group.index if o != r]
            same = [o for o in others if vals[o] == vals[r]]
            diff = [o for o in others if vals[o] != vals[r]]
            text = [f"station {label} repeated within its parents"]
            if same:
                text.append(f"identical figures in row(s) {', '.join(map(str, same))}")
            if diff:
                o = diff[0]
                cols = [c for c, a, b in zip(figures, vals[r], vals[o]) if a != b]
                shown = "; ".join(f"{c} {vals[r][figures.index(c)]} vs "
                                  f"{vals[o][figures.index(c)]}" for c in cols[:3])
                more = f" and {len(cols) - 3} more" if len(cols) > 3 else ""
                text.append(f"conflicting figures in row(s) {', '.join(map(str, diff))} "
                            f"({shown}{more})")
            out_rows.append(int(r))
            details.append(": ".join(text[:1]) + ": " + "; ".join(text[1:]))
    return pd.DataFrame({"source_row": np.array(out_rows, dtype="int64"),
                         "check": "duplicate_station", "detail": details})


def assemble(data: pd.DataFrame, options: list[str], excluded: list[pd.DataFrame],
             source: dict, *, drop_rows=None, notes: dict | None = None) -> StationTable:
    """Put the canonical columns in order, drop excluded rows, add findings."""
    if drop_rows is not None:
        data = data.loc[~np.asarray(drop_rows, dtype=bool)].copy()
    hier = [c for c in HIERARCHY if c in data.columns]
    for col in COUNTS:
        if col not in data.columns:
            data[col] = pd.array([pd.NA] * len(data), dtype="Int64")
    data = data[hier + list(COUNTS) + list(options)]
    frames = [e for e in excluded if len(e)]
    exc = (pd.concat(frames, ignore_index=True).sort_values("source_row", kind="stable")
           .reset_index(drop=True) if frames else empty_excluded())
    findings = pd.concat([find_impossible(data, options), find_duplicates(data, options)],
                         ignore_index=True)
    findings = findings.sort_values(["source_row", "check"], kind="stable") \
        .reset_index(drop=True)
    # Same dtypes as after a Parquet round trip (text as str, rows as int64).
    exc = exc.astype({c: "str" for c in exc.columns if c != "source_row"})
    findings = findings.astype({"source_row": "int64", "check": "str", "detail": "str"})
    source = {**source, **summarise_styles(notes or {}), "reader_version": READER_VERSION,
              "stations": int(len(data)), "excluded": int(len(exc)),
              "findings": int(len(findings)),
              "findings_by_check": {str(k): int(v) for k, v in
                                    findings["check"].value_counts().sort_index().items()}}
    return StationTable(data=data, options=list(options), excluded=exc,
                        findings=findings, source=source)
