"""Shared pieces of the readers: opening files, checking counts, bookkeeping.

Row numbers follow the spreadsheet convention of :class:`audit.errors.InputError`:
the header is row 1, so the first data row is row 2.  Every reader keeps the
source row number as the index (named ``source_row``) of the table it
returns, so an excluded row or a finding can be traced back to the file.
"""

from __future__ import annotations

import csv
import io
import zipfile
from pathlib import Path

import numpy as np
import pandas as pd

from ..canonical import COUNTS, HIERARCHY, StationTable
from ..datapackage import sha256_of
from ..errors import InputError

#: Bumped whenever a reader changes what it returns for the same bytes.
READER_VERSION = 1

_ENCODINGS = ("utf-8-sig", "cp1251", "latin-1")
_DELIMITERS = ",;\t|"


def read_bytes(path) -> tuple[bytes, str]:
    """Bytes of a CSV file, or of the single CSV inside a zip archive.

    Returns
    -------
    raw : bytes
    member : str
        Name of the archive member read ("" for a plain file).
    """
    path = Path(path)
    if not path.exists():
        raise InputError("file not found", file=path)
    if zipfile.is_zipfile(path):
        with zipfile.ZipFile(path) as zf:
            names = [n for n in zf.namelist()
                     if not n.endswith("/") and not n.startswith("__MACOSX")]
            csvs = [n for n in names if n.lower().endswith((".csv", ".txt", ".tsv"))]
            pick = csvs if csvs else names
            if len(pick) != 1:
                raise InputError(
                    f"expected one CSV file inside the zip archive, found "
                    f"{len(pick)}: {', '.join(pick) or 'none'}", file=path)
            return zf.read(pick[0]), pick[0]
    return path.read_bytes(), ""


def detect_encoding(raw: bytes, *, file=None) -> str:
    """First of UTF-8 (with or without BOM), cp1251, latin-1 that decodes."""
    for enc in _ENCODINGS:
        try:
            raw.decode(enc)
        except UnicodeDecodeError:
            continue
        return "utf-8" if enc == "utf-8-sig" and not raw.startswith(b"\xef\xbb\xbf") else enc
    raise InputError("cannot decode the file as UTF-8, cp1251 or latin-1",
                     file=file)  # pragma: no cover (latin-1 decodes anything)


def detect_delimiter(text_head: str, *, file=None) -> str:
    """Delimiter of a CSV file from its first lines (comma, semicolon, tab, bar)."""
    lines = [ln for ln in text_head.splitlines()[:20] if ln.strip()]
    if not lines:
        raise InputError("the file is empty", file=file)
    sample = "\n".join(lines)
    try:
        return csv.Sniffer().sniff(sample, delimiters=_DELIMITERS).delimiter
    except csv.Error:
        # Fall back to the candidate that appears most often in the header.
        counts = {d: lines[0].count(d) for d in _DELIMITERS}
        best = max(counts, key=counts.get)
        return best if counts[best] else ","


def read_csv_table(path) -> tuple[pd.DataFrame, dict]:
    """Read a delimited text file (plain or zipped) into a DataFrame.

    Encoding and delimiter are detected and returned in the provenance dict,
    together with the file's sha256.  All columns are read with pandas'
    type inference; count columns are checked later by :func:`to_counts`.
    """
    path = Path(path)
    raw, member = read_bytes(path)
    encoding = detect_encoding(raw, file=path)
    head = raw[:65536].decode(encoding, errors="ignore")
    delimiter = detect_delimiter(head, file=path)
    try:
        df = pd.read_csv(io.BytesIO(raw), sep=delimiter,
                         encoding="utf-8-sig" if encoding == "utf-8" else encoding,
                         low_memory=False, skipinitialspace=True)
    except (pd.errors.ParserError, ValueError) as exc:
        raise InputError(f"not a readable {delimiter!r}-delimited table: {exc}",
                         file=path) from None
    if df.shape[1] < 2:
        raise InputError(f"expected a table with several columns, found "
                         f"{df.shape[1]} (delimiter {delimiter!r})", file=path)
    header = next(csv.reader(io.StringIO(head.lstrip("\ufeff")), delimiter=delimiter), [])
    header = [h.strip() for h in header]
    dupes = sorted({h for h in header if header.count(h) > 1})
    if dupes:
        raise InputError(f"column names must be unique; repeated: {', '.join(dupes)}",
                         file=path, row=1)
    df.columns = [str(c).strip() for c in df.columns]
    df.index = pd.RangeIndex(2, len(df) + 2, name="source_row")
    source = {"path": str(path), "sha256": sha256_of(path), "member": member,
              "encoding": encoding, "delimiter": delimiter, "rows": int(len(df))}
    return df, source


def to_counts(series: pd.Series, *, file, column: str) -> pd.Series:
    """Check that ``series`` holds non-negative whole numbers; return Int64.

    Empty cells become ``<NA>``.  The first bad cell raises
    :class:`InputError` naming the file, the row and the column.
    """
    s = series
    if pd.api.types.is_bool_dtype(s):
        _bad(s, s.notna(), file, column)
    if not pd.api.types.is_numeric_dtype(s):
        text = s.astype("string").str.replace("\u00a0", "", regex=False).str.strip()
        text = text.mask(text == "")
        num = pd.to_numeric(text, errors="coerce")
        _bad(s, text.notna() & num.isna(), file, column)
        s = num
    values = s.to_numpy(dtype="float64", na_value=np.nan)
    finite = np.isfinite(values)
    whole = (values >= 0) & (values == np.floor(values))
    bad = (~finite & ~np.isnan(values)) | (finite & ~whole)
    if bad.any():
        _bad(series, pd.Series(bad, index=series.index), file, column)
    out = pd.array(np.where(finite, values, 0).astype("int64"), dtype="Int64")
    out[~finite] = pd.NA
    return pd.Series(out, index=series.index, name=column)


def _bad(original: pd.Series, mask, file, column):
    mask = np.asarray(mask, dtype=bool)
    if mask.any():
        i = int(np.flatnonzero(mask)[0])
        row = original.index[i]
        value = original.iloc[i]
        value = value.item() if hasattr(value, "item") else value
        raise InputError(f"expected a non-negative whole number, found "
                         f"{str(value)!r}", file=file, row=int(row),
                         column=column)


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
        ballots issued > registered voters;
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


def find_duplicates(data: pd.DataFrame) -> pd.DataFrame:
    """Findings for station ids repeated within the same parents."""
    keys = [c for c in HIERARCHY if c in data.columns]
    if "station" not in keys:
        return pd.DataFrame(columns=["source_row", "check", "detail"])
    dup = data.duplicated(keys, keep=False).to_numpy()
    rows = data.loc[dup]
    return pd.DataFrame({
        "source_row": rows.index.to_numpy(dtype="int64"),
        "check": "duplicate_station",
        "detail": ["station id repeated within its parents: "
                   + " / ".join(str(v) for v in vals)
                   for vals in rows[keys].itertuples(index=False)]})


def assemble(data: pd.DataFrame, options: list[str], excluded: list[pd.DataFrame],
             source: dict, *, drop_rows=None) -> StationTable:
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
    findings = pd.concat([find_impossible(data, options), find_duplicates(data)],
                         ignore_index=True)
    findings = findings.sort_values(["source_row", "check"], kind="stable") \
        .reset_index(drop=True)
    # Same dtypes as after a Parquet round trip (text as str, rows as int64).
    exc = exc.astype({c: "str" for c in exc.columns if c != "source_row"})
    findings = findings.astype({"source_row": "int64", "check": "str", "detail": "str"})
    source = {**source, "reader_version": READER_VERSION,
              "stations": int(len(data)), "excluded": int(len(exc)),
              "findings": int(len(findings))}
    return StationTable(data=data, options=list(options), excluded=exc,
                        findings=findings, source=source)
