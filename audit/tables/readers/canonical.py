"""Reader for tables already in canonical shape, or mapped onto it.

Without a mapping the file must use the canonical names (``region``,
``district``, ``station``, ``registered``, ``ballots_issued``,
``ballots_cast``, ``invalid``); every other column is an option.  Missing
hierarchy and count columns are allowed (counts become ``<NA>``), but
``station`` is required.

A mapping (a dict, or a YAML file holding one) names the source column for
each canonical column; a list means "add these columns up"::

    region: Oblast
    district: Okrug
    station: Precinct
    registered: Voters on the list
    ballots_issued: [Issued early, Issued on the day]
    ballots_cast: Ballots in boxes
    invalid: Invalid ballots
    options: [Candidate A, Candidate B]   # default: every unmapped column
    ignore: [Comment]                     # unmapped columns that are not options
    sheet: Results                        # .xlsx only: which worksheet

A file that gives only the options' votes (no ballots cast) can map
``ballots_cast: options``: the options added up, station by station (the
valid votes), stand for the ballots cast, so that the leader's share is of
the valid votes (unless the file has a column named ``options``, which is
then read as written).

Without a mapping, column names are matched to the canonical names
ignoring case, spaces and hyphens (``"Ballots cast"`` is ``ballots_cast``).
A column whose name is close to a canonical name that the file lacks
(``registred``) is refused, naming the canonical name, rather than read as
an option.  Every error names the closest column the file does have.

The file may be CSV (any encoding, delimiter and number style the readers
detect, plain, zipped or gzipped), ``.xlsx`` or Parquet; see
:mod:`audit.tables.containers` and :mod:`audit.tables.excel`.
"""

from __future__ import annotations

import difflib
import re
from pathlib import Path

import numpy as np
import pandas as pd

from ..station_table import COUNTS, HIERARCHY
from ...core.errors import InputError
from ..assemble import assemble, excluded_frame
from ..containers import read_table
from ..numbers import to_counts
from ..text import closest, missing_column, one_line

_KEYS = set(HIERARCHY) | set(COUNTS) | {"options", "ignore", "sheet"}
_KEY_ORDER = list(HIERARCHY) + list(COUNTS) + ["options", "ignore", "sheet"]
#: How alike (difflib ratio) a column name must be to a missing canonical
#: name to be refused as a probable misspelling.
NEAR_MISS = 0.85
#: ``ballots_cast: options`` in a mapping: the options added up.
OPTIONS_SUM = "options"


def load_mapping(mapping) -> dict:
    """A mapping dict from a dict or a YAML file; checks its keys and values."""
    if mapping is None:
        return {}
    where = None
    if isinstance(mapping, (str, Path)):
        import yaml

        where = Path(mapping)
        if not where.exists():
            raise InputError("mapping file not found", file=where)
        try:
            mapping = yaml.safe_load(where.read_text(encoding="utf-8"))
        except UnicodeDecodeError:
            raise InputError("a mapping file must be UTF-8 text", file=where) from None
        except yaml.YAMLError as exc:
            raise InputError(f"not valid YAML: {one_line(exc, 160)}", file=where) from None
    if not isinstance(mapping, dict):
        raise InputError("a column mapping must be a dict of canonical name -> "
                         f"source column, got {type(mapping).__name__}", file=where)
    unknown = sorted(set(map(str, mapping)) - _KEYS)
    if unknown:
        near = closest(unknown[0], _KEY_ORDER)
        hint = f" (did you mean {near!r}?)" if near else ""
        raise InputError(f"unknown mapping key(s) {', '.join(map(repr, unknown))}{hint}; "
                         "expected " + ", ".join(_KEY_ORDER), file=where)
    out = {}
    for key, value in mapping.items():
        if value is None:
            continue
        if key == "sheet":
            if not isinstance(value, (str, int)):
                raise InputError(f"mapping 'sheet' must name one worksheet, got {value!r}",
                                 file=where)
            out[key] = str(value)
            continue
        if key in HIERARCHY and not isinstance(value, str):
            raise InputError(f"mapping {key!r} must name one column, got {value!r}",
                             file=where)
        if isinstance(value, str):
            value = value if key in HIERARCHY else [value]
        elif not (isinstance(value, list) and all(isinstance(v, str) for v in value)):
            raise InputError(f"mapping {key!r} must be a column name or a list of "
                             f"column names, got {value!r}", file=where)
        out[key] = value
    return out


def _norm(name: str) -> str:
    return re.sub(r"[\s\-]+", "_", str(name).strip().casefold())


def _default_mapping(cols: list[str], path) -> dict:
    """Canonical names found in the header (case, spaces and hyphens ignored)."""
    canon = list(HIERARCHY) + list(COUNTS)
    found = {}
    for c in cols:
        n = _norm(c)
        if n in canon:
            if n in found:
                raise InputError(f"columns {found[n]!r} and {c!r} both mean {n!r}",
                                 file=path, row=1)
            found[n] = c
    for c in cols:
        n = _norm(c)
        if n in canon:
            continue
        for k in canon:
            if k not in found and difflib.SequenceMatcher(None, n, k).ratio() >= NEAR_MISS:
                raise InputError(f"column {c!r} looks like a misspelt {k!r}: rename it, or "
                                 "give a mapping to read it as an option", file=path,
                                 row=1, column=c)
    return {k: (c if k in HIERARCHY else [c]) for k, c in found.items()}


def read_canonical(path, *, mapping=None, sheet=None):
    """Read a canonical table (CSV, .xlsx or Parquet), optionally through a mapping.

    Parameters
    ----------
    path : path-like
        ``.csv`` (optionally zipped, any common delimiter), ``.xlsx`` or
        ``.parquet``; the kind is told from the content.
    mapping : dict or path-like, optional
        Canonical name -> source column(s); see the module docstring.
    sheet : str, optional
        Worksheet of an ``.xlsx`` file (also ``sheet:`` in the mapping).

    Returns
    -------
    StationTable

    Examples
    --------
    >>> import pandas as pd, tempfile, os
    >>> f = os.path.join(tempfile.mkdtemp(), "t.csv")
    >>> pd.DataFrame({"Precinct": ["1", "2"], "Voters": [100, 120],
    ...               "A": [40, 50], "B": [30, 20]}).to_csv(f, index=False)
    >>> t = read_canonical(f, mapping={"station": "Precinct", "ballots_cast": "Voters"})
    >>> t.options, int(t.data["ballots_cast"].sum())
    (['A', 'B'], 220)
    """
    m = load_mapping(mapping)
    mapped_sheet = m.pop("sheet", None)
    sheet = mapped_sheet if sheet is None else sheet
    raw, source, blank = read_table(path, sheet=sheet)
    cols = list(raw.columns)
    if not m:
        m = _default_mapping(cols, path)
    used = set()
    hrow = source.get("header_rows", [1])[-1]
    from_options = m.get("ballots_cast") == [OPTIONS_SUM] and OPTIONS_SUM not in cols
    for key, value in m.items():
        if key == "ballots_cast" and from_options:
            continue
        for col in ([value] if isinstance(value, str) else value):
            if col not in cols:
                raise missing_column(f"mapping {key!r} names", col, cols, file=path,
                                     row=hrow)
            if key != "options":
                used.add(col)
    if "station" not in m:
        near = closest("station", cols)
        hint = f"; closest column: {near!r}" if near else ""
        raise InputError("no 'station' column (map one with mapping={'station': ...})"
                         + hint, file=path, row=hrow)
    options = m.get("options") or [c for c in cols if c not in used
                                   and c not in set(m.get("ignore", []))]
    clash = used.intersection(options)
    if clash:
        raise InputError(f"column(s) {', '.join(sorted(clash))} mapped both as options "
                         "and as hierarchy/counts", file=path, row=hrow)
    if not options:
        raise InputError("no option columns left after the mapping", file=path, row=hrow)

    notes: dict = {}
    data = pd.DataFrame(index=raw.index)
    for key in HIERARCHY:
        if key in m:
            data[key] = _labels(raw[m[key]])
    counted = {}
    for key in COUNTS:
        if key == "ballots_cast" and from_options:
            data[key] = pd.array([pd.NA] * len(raw), dtype="Int64")   # added up below
            continue
        if key in m:
            parts = [to_counts(raw[c], file=path, column=c, notes=notes) for c in m[key]]
            frame = pd.concat(parts, axis=1)
            total = frame.to_numpy(dtype="float64", na_value=np.nan).sum(axis=1)
            arr = pd.array(np.nan_to_num(total).astype("int64"), dtype="Int64")
            arr[np.isnan(total)] = pd.NA
            data[key] = arr
            counted[key] = data[key]
        else:
            data[key] = pd.array([pd.NA] * len(raw), dtype="Int64")
    for c in options:
        data[c] = to_counts(raw[c], file=path, column=c, notes=notes)
    if from_options:
        # the valid votes: an option empty at a station adds nothing, a
        # station with every option empty has no total
        votes = data[options].to_numpy(dtype="float64", na_value=np.nan)
        total = np.nansum(votes, axis=1)
        cast = pd.array(total.astype("int64"), dtype="Int64")
        cast[np.isnan(votes).all(axis=1)] = pd.NA
        data["ballots_cast"] = cast
        counted["ballots_cast"] = data["ballots_cast"]

    values = data[[*counted, *options]].to_numpy(dtype="float64", na_value=np.nan)
    all_empty = np.isnan(values).all(axis=1)
    no_station = data["station"].isna().to_numpy() & ~all_empty
    excluded = blank + [
        excluded_frame(data, all_empty, "no results: every count and option is empty"),
        excluded_frame(data, no_station, "no station identifier"),
    ]
    source.update({"format": "canonical",
                   "mapping": {k: v for k, v in m.items()} if mapping is not None else None})
    if from_options:
        source["ballots_cast_from_options"] = True
    if sheet is not None:
        source["sheet"] = source.get("sheet", sheet)
    return assemble(data, options, excluded, source, drop_rows=all_empty | no_station,
                    notes=notes)


def _labels(s: pd.Series) -> pd.Series:
    """Identifier column as text; whole floats (from Excel or Parquet) without '.0'."""
    if s.dtype.kind == "f":
        whole = s.notna() & (s == np.floor(s))
        if whole.all() or (whole | s.isna()).all():
            s = s.astype("Int64")
    elif s.dtype == object:
        s = s.map(lambda v: str(int(v)) if isinstance(v, float) and v.is_integer()
                  else v)
    out = s.astype("string").str.strip()
    return out.mask(out == "")
