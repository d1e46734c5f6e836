"""Delimited text: encoding, delimiter, header row and ragged rows.

Text in UTF-8 (with or without BOM), Windows-1251 or latin-1, with comma,
semicolon, tab or bar delimiters; the cells are parsed later, column by
column (:mod:`audit.tables.numbers` for thousands separators and decimal
marks).  Rows with more or fewer fields than the header and unterminated
quotes are refused with the row they occur on.
"""

from __future__ import annotations

import csv
import io
import re

import numpy as np
import pandas as pd

from ..core.errors import InputError
from .sniff import check_text
from .text import one_line


_ENCODINGS = ("utf-8-sig", "cp1251", "latin-1")
_DELIMITERS = ",;\t|"


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


def read_delimited(raw: bytes, path) -> tuple[pd.DataFrame, dict]:
    """Cells of a delimited text file (bytes ``raw`` read from ``path``), as text or
    numbers, indexed by source row, and what was detected (encoding, delimiter,
    header row)."""
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
