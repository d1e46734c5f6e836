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
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from ..canonical import COUNTS, HIERARCHY
from ..errors import InputError
from ..datapackage import sha256_of
from ._common import assemble, excluded_frame, read_csv_table, to_counts

_KEYS = set(HIERARCHY) | set(COUNTS) | {"options", "ignore"}


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
        except yaml.YAMLError as exc:
            raise InputError(f"not valid YAML: {exc}", file=where) from None
    if not isinstance(mapping, dict):
        raise InputError("a column mapping must be a dict of canonical name -> "
                         f"source column, got {type(mapping).__name__}", file=where)
    unknown = sorted(set(map(str, mapping)) - _KEYS)
    if unknown:
        raise InputError(f"unknown mapping key(s) {', '.join(unknown)}; expected "
                         + ", ".join(list(HIERARCHY) + list(COUNTS) + ["options", "ignore"]),
                         file=where)
    out = {}
    for key, value in mapping.items():
        if value is None:
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


def _read_any(path):
    path = Path(path)
    if path.suffix.lower() in (".parquet", ".pq"):
        if not path.exists():
            raise InputError("file not found", file=path)
        try:
            df = pd.read_parquet(path)
        except Exception as exc:  # pyarrow raises several types
            raise InputError(f"not a readable Parquet file: {exc}", file=path) from None
        df.columns = [str(c) for c in df.columns]
        df = df.reset_index(drop=True)
        df.index = pd.RangeIndex(2, len(df) + 2, name="source_row")
        return df, {"path": str(path), "sha256": sha256_of(path), "member": "",
                    "encoding": "parquet", "delimiter": None, "rows": int(len(df))}
    return read_csv_table(path)


def read_canonical(path, *, mapping=None):
    """Read a canonical table (CSV or Parquet), optionally through a mapping.

    Parameters
    ----------
    path : path-like
        ``.csv`` (optionally zipped, any common delimiter) or ``.parquet``.
    mapping : dict or path-like, optional
        Canonical name -> source column(s); see the module docstring.

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
    raw, source = _read_any(path)
    cols = list(raw.columns)
    if not m:
        m = {k: (k if k in HIERARCHY else [k]) for k in list(HIERARCHY) + list(COUNTS)
             if k in cols}
    used = set()
    for key, value in m.items():
        for col in ([value] if isinstance(value, str) else value):
            if col not in cols:
                raise InputError(f"mapping {key!r} names column {col!r}, which the file "
                                 f"lacks; columns are: {', '.join(cols)}", file=path, row=1)
            if key != "options":
                used.add(col)
    if "station" not in m:
        raise InputError("no 'station' column (map one with mapping={'station': ...})",
                         file=path, row=1)
    options = m.get("options") or [c for c in cols if c not in used
                                   and c not in set(m.get("ignore", []))]
    clash = used.intersection(options)
    if clash:
        raise InputError(f"column(s) {', '.join(sorted(clash))} mapped both as options "
                         "and as hierarchy/counts", file=path, row=1)
    if not options:
        raise InputError("no option columns left after the mapping", file=path, row=1)

    data = pd.DataFrame(index=raw.index)
    for key in HIERARCHY:
        if key in m:
            data[key] = raw[m[key]].astype("string").str.strip()
    counted = {}
    for key in COUNTS:
        if key in m:
            parts = [to_counts(raw[c], file=path, column=c) for c in m[key]]
            frame = pd.concat(parts, axis=1)
            total = frame.to_numpy(dtype="float64", na_value=np.nan).sum(axis=1)
            arr = pd.array(np.nan_to_num(total).astype("int64"), dtype="Int64")
            arr[np.isnan(total)] = pd.NA
            data[key] = arr
            counted[key] = data[key]
        else:
            data[key] = pd.array([pd.NA] * len(raw), dtype="Int64")
    for c in options:
        data[c] = to_counts(raw[c], file=path, column=c)

    values = data[[*counted, *options]].to_numpy(dtype="float64", na_value=np.nan)
    all_empty = np.isnan(values).all(axis=1)
    no_station = data["station"].isna().to_numpy() & ~all_empty
    excluded = [
        excluded_frame(data, all_empty, "no results: every count and option is empty"),
        excluded_frame(data, no_station, "no station identifier"),
    ]
    source.update({"format": "canonical",
                   "mapping": {k: v for k, v in m.items()} if mapping is not None else None})
    return assemble(data, options, excluded, source, drop_rows=all_empty | no_station)
