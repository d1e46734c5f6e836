"""Bookkeeping shared by the readers: rows set aside with their reasons,
impossible-but-reported figures and repeated stations, and the final
:class:`~audit.tables.station_table.StationTable`.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from ..core.versions import READER_VERSION
from .numbers import summarise_styles
from .station_table import COUNTS, HIERARCHY, StationTable


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
