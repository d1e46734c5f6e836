"""Excel (``.xlsx``) workbooks as raw tables, with the sheet's own row numbers.

Which sheet
    The only worksheet holding data; or the one named by ``sheet=``.  A
    workbook with several non-empty sheets and no ``sheet=`` is refused with
    one line listing them (a wrong guess would audit the wrong table).

Which rows are the header (the rule)
    1. Rows with fewer than two filled cells at the top (a title, a note, a
       blank row) are skipped and listed in ``source["skipped_rows"]``.
    2. The header starts at the first row in which at least half of the
       table's columns are filled - counting every cell a merged range
       covers as filled with its value -, no fewer than the next non-empty
       row less one (so a short note such as "Source: CEC" is not taken for
       the header), and at least half the filled cells are text (names such
       as ``2019`` may be numbers).
    3. The header extends downwards over (a) rows that a merged cell of the
       header reaches (a name merged vertically over two rows) and (b) a
       row of text sub-names below a merged cell spanning several columns
       (a group name such as "Votes" over "Candidate A", "Candidate B").
    4. A column's name is its header cells from top to bottom, each value
       taken once, joined by " / ": ``"Votes / Candidate A"``.  Line breaks
       inside a cell become spaces.

    ``source["header_rows"]`` lists the header's Excel row numbers.

Values
    Cached results of formulas are read (``data_only``): a workbook saved
    by a program that does not store them (some generators) reads as empty
    cells.  Numbers stay numbers; text is left to the count parser
    (:mod:`audit.tables.numbers`).  Fully empty rows between data rows are
    listed as excluded ("blank row"); empty rows at the end are ignored.
"""

from __future__ import annotations

import io
import math
import warnings
from datetime import date, datetime, time

import pandas as pd

from ..core.errors import InputError
from .text import closest, one_line

_MAX_HEADER_SEARCH = 50
_MAX_HEADER_ROWS = 4


def _filled(v) -> bool:
    return v is not None and not (isinstance(v, str) and not v.strip())


def _name(v) -> str:
    if isinstance(v, float) and v.is_integer():
        v = int(v)
    if isinstance(v, (datetime, date, time)):
        v = v.isoformat()
    return " ".join(str(v).split())


def _load(raw: bytes, file):
    import openpyxl

    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # openpyxl warns about styles etc.
            return openpyxl.load_workbook(io.BytesIO(raw), data_only=True)
    except Exception as exc:  # zip, XML and openpyxl errors of damaged files
        raise InputError(f"not a readable .xlsx workbook (damaged or truncated?): "
                         f"{type(exc).__name__}: {one_line(exc, 120)}", file=file) from None


def _pick_sheet(wb, sheet, file):
    sheets = [ws for ws in wb.worksheets if hasattr(ws, "iter_rows")]
    names = [ws.title for ws in sheets]
    if sheet is not None:
        if str(sheet) in names:
            return wb[str(sheet)]
        near = closest(str(sheet), names)
        hint = f"; closest: {near!r}" if near else ""
        raise InputError(f"no sheet {sheet!r} in the workbook{hint}; sheets are: "
                         + ", ".join(names), file=file)
    with_data = [ws for ws in sheets
                 if any(_filled(v) for row in ws.iter_rows(values_only=True) for v in row)]
    if not with_data:
        raise InputError("the file is empty: no sheet of the workbook holds data",
                         file=file)
    if len(with_data) > 1:
        raise InputError("the workbook has several sheets with data: "
                         + ", ".join(repr(ws.title) for ws in with_data)
                         + "; choose one with sheet=NAME", file=file)
    return with_data[0]


def read_xlsx(raw: bytes, *, file, sheet=None) -> tuple[pd.DataFrame, dict]:
    """A worksheet as a DataFrame of raw cells indexed by Excel row number.

    Parameters
    ----------
    raw : bytes
        The ``.xlsx`` file.
    file : path-like
        For messages.
    sheet : str, optional
        Worksheet name (default: the only sheet with data).

    Returns
    -------
    frame : DataFrame
    info : dict
        ``file_format`` ("xlsx"), ``sheet``, ``header_rows``, ``skipped_rows``.
    """
    wb = _load(raw, file)
    ws = _pick_sheet(wb, sheet, file)
    rows = [list(r) for r in ws.iter_rows(min_row=1, min_col=1, values_only=True)]
    width = max((max((j + 1 for j, v in enumerate(r) if _filled(v)), default=0)
                 for r in rows), default=0)
    if width == 0:
        raise InputError(f"the file is empty: sheet {ws.title!r} holds no data", file=file)
    rows = [(r + [None] * width)[:width] for r in rows]
    merges = [(m.min_row - 1, m.max_row - 1, m.min_col - 1, min(m.max_col, width) - 1)
              for m in ws.merged_cells.ranges if m.min_col - 1 < width]

    def spread(i):
        """Row ``i`` with merged ranges filled with their top-left value."""
        row = list(rows[i])
        for r0, r1, c0, c1 in merges:
            if r0 <= i <= r1:
                v = rows[r0][c0] if r0 < len(rows) else None
                for c in range(c0, c1 + 1):
                    row[c] = v
        return row

    skipped = []
    head = None
    for i in range(min(len(rows), _MAX_HEADER_SEARCH)):
        raw_filled = [v for v in rows[i] if _filled(v)]
        if len(raw_filled) < 2:
            skipped.append(i + 1)
            continue
        cells = [v for v in spread(i) if _filled(v)]
        texts = sum(isinstance(v, str) for v in cells)
        below = next((sum(_filled(v) for v in spread(k)) for k in range(i + 1, len(rows))
                      if any(_filled(v) for v in rows[k])), 0)
        if len(cells) >= max(2, math.ceil(width / 2), below - 1) and \
                texts * 2 >= len(cells):
            head = i
            break
        skipped.append(i + 1)
    if head is None:
        raise InputError(f"no header row found in sheet {ws.title!r}: expected a row of "
                         f"column names in the first {_MAX_HEADER_SEARCH} rows", file=file)
    end = head
    while end - head + 1 < _MAX_HEADER_ROWS and end + 1 < len(rows):
        reach = max((r1 for r0, r1, c0, c1 in merges if head <= r0 <= end), default=end)
        if reach > end:
            end = min(reach, head + _MAX_HEADER_ROWS - 1)
            continue
        below = rows[end + 1]
        groups = [(c0, c1) for r0, r1, c0, c1 in merges
                  if r0 <= end <= r1 and r0 >= head and c1 > c0]
        if groups and all(not _filled(v) or isinstance(v, str) for v in below) and \
                any(_filled(below[c]) for c0, c1 in groups for c in range(c0, c1 + 1)):
            end += 1
            continue
        break
    skipped = [r for r in skipped if r <= head]
    block = [spread(i) for i in range(head, end + 1)]
    names = []
    for j in range(width):
        parts = []
        for row in block:
            v = row[j]
            if _filled(v):
                part = _name(v)
                if part not in parts:
                    parts.append(part)
        names.append(" / ".join(parts))
    body = rows[end + 1:]
    index = pd.RangeIndex(end + 2, end + 2 + len(body), name="source_row")
    columns = {}
    for j in range(width):
        col = [r[j] for r in body]
        present = [v for v in col if v is not None]
        if present and all(isinstance(v, (int, float)) and not isinstance(v, bool)
                           for v in present):
            columns[j] = pd.to_numeric(pd.Series(col, dtype="object"), errors="coerce")
        else:
            columns[j] = pd.Series(col, dtype="object")
    df = pd.DataFrame({j: s.to_numpy() for j, s in columns.items()}, index=index)
    df.columns = names
    info = {"file_format": "xlsx", "encoding": None, "delimiter": None,
            "sheet": ws.title, "header_rows": list(range(head + 1, end + 2)),
            "skipped_rows": skipped}
    return df, info
