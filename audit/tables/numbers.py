"""Whole numbers written with thousands separators or decimal marks.

Count columns must hold non-negative whole numbers.  Files written by
spreadsheets in different locales spell them in several ways; the readers
accept, per column:

* plain digits: ``1234``;
* digit groups separated by a space, a no-break space (U+00A0) or a narrow
  no-break space (U+202F): ``1 234``;
* digit groups separated by a comma or a full stop: ``1,234`` / ``1.234``;
* a decimal part that is zero: ``1234.0``, ``1234,0``, ``1 234,00``,
  ``1.234,0``.

Which mark is the thousands separator is decided for the whole column, by
one rule (the ambiguity of ``1,234`` - one thousand two hundred and
thirty-four, or one point two three four - is resolved the same way for
every value of the column):

1. A value holding both ``,`` and ``.`` fixes them: the mark written last
   is the decimal mark (``1.234,5``: comma decimal), the other separates
   thousands.
2. Otherwise a mark is a thousands separator when *every* value of the
   column that contains it has groups of exactly three digits after each
   occurrence and one to three digits before the first (``1,234`` and
   ``12,345,678`` but not ``12,5`` or ``1234,000``); else it is the decimal
   mark.
3. Spaces only ever separate thousands, in groups of three.

An empty cell, or a cell holding only one of the usual markers of a
missing value (:data:`MISSING_MARKERS`: ``NA``, ``N/A``, ``NaN``, ``NULL``,
``None``, ``#N/A``, as statistics packages and spreadsheets write them), is
a missing count, kept as ``<NA>``: the tests that need that count leave the
station out and say so. A dash is not taken for missing (some tables write
it for zero), nor is any other text.

A column using the same mark both ways, or using ``,`` and ``.`` both as
decimal marks, is an error.  After the separators are removed the value must
be whole: ``12,5`` in a count column is an error naming the file, row and
column.  What was detected is recorded per column (``thousands``,
``decimal``) and summarised in ``StationTable.source``.
"""

from __future__ import annotations

import re

import numpy as np
import pandas as pd

from ..core.errors import InputError

#: Counts above this cannot be represented exactly as float64 and are
#: certainly not vote counts.
MAX_COUNT = 2 ** 53

_SPACES = re.compile(r"[\s\u00a0\u202f\u2007]+")
#: Cell texts read as a missing count (whole cell, case as listed).
MISSING_MARKERS = ("NA", "N/A", "n/a", "NaN", "nan", "NULL", "null", "None", "#N/A")
_PLAIN = r"\+?\d+"


def _grouped(mark: str, decimal: str | None) -> str:
    m = re.escape(mark)
    tail = rf"(?:{re.escape(decimal)}\d+)?" if decimal else ""
    return rf"\+?\d{{1,3}}(?:{m}\d{{3}})+{tail}"


def bad_value(original: pd.Series, mask, file, column, *, why: str = "") -> None:
    """Raise :class:`InputError` for the first True cell of ``mask``."""
    mask = np.asarray(mask, dtype=bool)
    if not mask.any():
        return
    i = int(np.flatnonzero(mask)[0])
    row = original.index[i]
    value = original.iloc[i]
    value = value.item() if hasattr(value, "item") else value
    shown = str(value)
    if len(shown) > 40:
        shown = shown[:37] + "..."
    raise InputError(f"expected a non-negative whole number, found {shown!r}{why}",
                     file=file, row=int(row), column=column)


def detect_style(text: pd.Series) -> tuple[str | None, str | None, str | None]:
    """Thousands separator and decimal mark of a column of number texts.

    Parameters
    ----------
    text : Series of str
        Non-empty cells, spaces already normalised to one ASCII space.

    Returns
    -------
    thousands, decimal : str or None
    problem : str or None
        Why no consistent reading exists (the caller names the first value).

    Examples
    --------
    >>> import pandas as pd
    >>> detect_style(pd.Series(["1,234", "12", "5,000"]))[:2]
    (',', None)
    >>> detect_style(pd.Series(["1.234,0", "17,0"]))[:2]
    ('.', ',')
    >>> detect_style(pd.Series(["12,5", "1,234"]))[:2]
    (None, ',')
    """
    has = {m: text.str.contains(m, regex=False) for m in (",", ".", " ")}
    thousands: set[str] = set()
    decimal: set[str] = set()
    both = has[","] & has["."]
    if both.any():
        pair = text[both]
        comma_last = pair.str.rfind(",") > pair.str.rfind(".")
        if comma_last.all():
            thousands.add(".")
            decimal.add(",")
        elif (~comma_last).all():
            thousands.add(",")
            decimal.add(".")
        else:
            return None, None, "both ',' and '.' used as decimal mark"
    for mark, other in ((",", "."), (".", ",")):
        if mark in thousands or mark in decimal or not has[mark].any():
            continue
        vals = text[has[mark]].str.replace(" ", "", regex=False)
        dec = other if other in decimal else None
        if vals.str.fullmatch(_grouped(mark, dec)).all():
            thousands.add(mark)
        else:
            decimal.add(mark)
    if has[" "].any():
        thousands.add(" ")
    if len(decimal) > 1:
        return None, None, "both ',' and '.' used as decimal mark"
    if len(thousands - {" "}) > 1:
        return None, None, "both ',' and '.' used as thousands separator"
    t = "".join(sorted(thousands)) or None
    d = next(iter(decimal), None)
    return t, d, None


def parse_text_counts(series: pd.Series, *, file, column: str,
                      notes: dict | None = None) -> np.ndarray:
    """Float array (NaN for empty cells) of whole numbers written as text.

    Raises :class:`InputError` naming the first cell that is not a
    non-negative whole number under the column's detected style.
    """
    text = series.astype("string")
    text = text.str.replace(_SPACES, " ", regex=True).str.strip()
    text = text.mask((text == "") | text.isin(MISSING_MARKERS))
    present = text.notna().to_numpy()
    out = np.full(len(series), np.nan)
    if not present.any():
        return out
    vals = text[present]
    plain = vals.str.fullmatch(_PLAIN).to_numpy(dtype=bool)
    if plain.all():
        out[present] = pd.to_numeric(vals).to_numpy(dtype="float64")
        return out
    # a cell that is no number at all (letters, a minus, other signs) is named
    # as it is, before its dots or commas can confuse the column's style
    junk = ~vals.str.fullmatch(r"\+?[\d.,\s]+").to_numpy(dtype=bool)
    if junk.any():
        mask = present.copy()
        mask[present] = junk
        bad_value(series, mask, file, column)
    thousands, decimal, problem = detect_style(vals[~plain])
    if problem:
        bad_value(series, present & _marks(text), file, column,
                  why=f" ({problem} in this column)")
    seps = "".join(re.escape(t) for t in (thousands or ""))
    parts = [_grouped(t, decimal) for t in (thousands or "")]
    if decimal:
        parts.append(rf"\+?\d+(?:{re.escape(decimal)}\d+)?")
    parts.append(_PLAIN)
    ok = vals.str.fullmatch("|".join(f"(?:{p})" for p in parts)).to_numpy(dtype=bool)
    if not ok.all():
        mask = present.copy()
        mask[present] = ~ok
        bad_value(series, mask, file, column)
    clean = vals.str.replace(f"[{seps}]", "", regex=True) if seps else vals
    if decimal:
        clean = clean.str.replace(decimal, ".", regex=False)
    num = pd.to_numeric(clean, errors="coerce").to_numpy(dtype="float64")
    out[present] = num
    if notes is not None and (thousands or decimal):
        notes[column] = {"thousands": thousands, "decimal": decimal}
    return out


def _marks(text: pd.Series) -> np.ndarray:
    return text.str.contains(r"[,.]", regex=True).fillna(False).to_numpy(dtype=bool)


def to_counts(series: pd.Series, *, file, column: str, notes: dict | None = None
              ) -> pd.Series:
    """Check that ``series`` holds non-negative whole numbers; return Int64.

    Numbers already parsed (int or float columns) are checked as they are;
    text is read under the column's thousands/decimal style (see the module
    docstring), which is recorded in ``notes[column]`` when ``notes`` is
    given.  Empty cells and :data:`MISSING_MARKERS` become ``<NA>``.  The
    first bad cell raises
    :class:`InputError` naming the file, the row and the column.

    Examples
    --------
    >>> import pandas as pd
    >>> to_counts(pd.Series(["1 234", "2\\u00a0000", "", "NA"]), file="f.csv",
    ...           column="A").tolist()
    [1234, 2000, <NA>, <NA>]
    >>> try:
    ...     to_counts(pd.Series(["7", "12,5"], index=[2, 3]), file="f.csv", column="A")
    ... except ValueError as err:
    ...     print(err)
    f.csv, row 3, column 'A': expected a non-negative whole number, found '12,5'
    """
    s = series
    if pd.api.types.is_bool_dtype(s):
        bad_value(s, s.notna().to_numpy(), file, column)
    if pd.api.types.is_numeric_dtype(s):
        values = s.to_numpy(dtype="float64", na_value=np.nan)
    else:
        values = parse_text_counts(s, file=file, column=column, notes=notes)
    finite = np.isfinite(values)
    whole = (values >= 0) & (values == np.floor(values)) & (values <= MAX_COUNT)
    bad = (~finite & ~np.isnan(values)) | (finite & ~whole)
    if bad.any():
        bad_value(series, bad, file, column)
    out = pd.array(np.where(finite, values, 0).astype("int64"), dtype="Int64")
    out[~finite] = pd.NA
    return pd.Series(out, index=series.index, name=column)


def summarise_styles(notes: dict) -> dict:
    """``thousands`` / ``decimal`` for ``source``: one mark, or None.

    Several marks over different columns are listed, comma-separated
    (``"' ', ','"``); ``number_styles`` keeps the per-column detail.
    """
    def one(key):
        marks = sorted({v[key] for v in notes.values() if v[key]})
        return marks[0] if len(marks) == 1 else (", ".join(map(repr, marks)) or None)

    return {"thousands": one("thousands"), "decimal": one("decimal"),
            "number_styles": dict(notes) if notes else {}}
