"""Reader for Elections Canada's poll-by-poll results (``ca-pollbypoll``).

Elections Canada publishes one CSV file per riding (electoral district),
``pollbypoll_bureauparbureauNNNNN.csv``, Latin-1, comma-separated, with
bilingual headers: riding number and name, polling station number and name,
one column per candidate (named by the candidate, without party), then
"Rejected Ballots", "Total Votes" and "Electors".

Options are ranks, not parties.  Candidates differ in every riding and the
files do not name their party, so each riding's candidates are ranked by
their riding total (over the polls kept; ties in file order) and the
options are ``rank1``, ``rank2``, ... up to the largest number of
candidates in any riding read.  ``rank1`` is the riding's winner, which is
what a leader-based test needs; ``source["candidates"]`` maps each riding to
its candidates' names in rank order.

A riding with fewer candidates than the largest has no candidate at the
higher ranks.  By default (``absent="na"``) those cells are ``<NA>``: a
zero would claim that a candidate got no votes, and the extra zeros would
bias digit and vote-share tests.  Beware that a test needing every option
column (the battery's ``votes`` role) keeps only the stations complete in
all of them, i.e. the ridings with the most candidates; ``absent="zero"``
writes 0 instead, for such tests (digit tests with a minimum count of 10
or more ignore those zeros anyway).

=================  =========================================================
canonical column   source
=================  =========================================================
``region``         province or territory, from the first two digits of the
                   riding number (:data:`PROVINCES`)
``district``       riding number
``station``        riding + "/" + polling station number without spaces
                   ("24001/12A", "24001/1-1"); the special-voting-rules
                   rows, which have no number, are "24001/Group 1" and
                   "24001/Group 2"
``registered``     Electors; blank, so ``<NA>``, for advance, mobile and
                   special polls, which have no list of their own
``ballots_issued`` ``<NA>`` (not reported)
``ballots_cast``   Total Votes (candidates' votes + rejected ballots)
``invalid``        Rejected Ballots
=================  =========================================================

Rows excluded, with their reason: void polls ("Void/Supprimé": no votes
taken there); polls merged into another ("Merged with No. 501/Fusionné
avec le nº 501", or "Combined with No. ..."): their votes are in that
poll's row; polls whose electors "voted by special ballot in Group 2"
(a few remote mobile polls): their votes are in the riding's Group 2 row.
Any other text in a vote cell is an error naming the file, row and column.  Kept and listed as
findings: polls with more votes than electors (``cast_exceeds_registered``),
which are real under same-day registration.

``source_row`` must identify a row across several files: it is the riding
number × 10,000 + the row number within that riding's file (header = row 1),
so row 5 of riding 10001 is 100010005.
"""

from __future__ import annotations

import csv
import hashlib
import re
from pathlib import Path

import numpy as np
import pandas as pd

from ...core.errors import InputError
from ..assemble import assemble, empty_excluded, excluded_frame
from ..numbers import to_counts

#: First two digits of a riding number -> province or territory.
PROVINCES = {"10": "NL", "11": "PE", "12": "NS", "13": "NB", "24": "QC", "35": "ON",
             "46": "MB", "47": "SK", "48": "AB", "59": "BC", "60": "YT", "61": "NT",
             "62": "NU"}
ROW_STRIDE = 10_000
_FIRST = ("Electoral District Number", "Electoral District Name",
          "Polling Station Number", "Polling Station Name")
_LAST = ("Rejected Ballots", "Total Votes", "Electors")
_VOID = re.compile(r"^\s*void\b", re.IGNORECASE)
_SPECIAL = re.compile(r"^\s*electors voted by special ballot in (group \d+)", re.IGNORECASE)
_MERGED = re.compile(r"^\s*(?:merged|combined) with (?:no\.?\s*)?([^/]+?)\s*(?:/|$)",
                     re.IGNORECASE)


def _english(name: str) -> str:
    return str(name).split("/")[0].strip()


def _load(file: Path):
    """Raw cells of one riding file, read as Latin-1.

    Some rows of advance polls stop before the last field (Electors, empty
    there): 1 row of riding 24032 and 4 of riding 47002 in 2011.  Such a
    row, one field short, is padded with that empty field and its row
    number recorded in ``padded_rows``; any other ragged row is still an
    error (:func:`audit.tables.containers.read_table`'s rule).
    """
    from ...core.outputs import sha256_of
    from ..containers import finish_table, read_file
    from ..delimited import read_delimited

    raw = read_file(file)       # refused before reading when above the size limit
    if not raw.strip():
        raise InputError("the file is empty", file=file)
    text = raw.decode("latin-1")
    lines = text.splitlines(keepends=True)
    width = len(next(csv.reader([lines[0]])))
    padded = []
    for i, line in enumerate(lines[1:], start=1):
        body = line.rstrip("\r\n")
        if not body.strip():
            continue
        try:
            n = len(next(csv.reader([body])))
        except csv.Error:
            continue
        if n == width - 1:
            lines[i] = body + "," + line[len(body):]
            padded.append(i + 1)
    df, info = read_delimited("".join(lines).encode("utf-8"), file)
    source = {"path": str(file), "sha256": sha256_of(file), **info,
              "encoding": "latin-1"}
    df, blank = finish_table(df, source, file)
    source["padded_rows"] = padded
    return df, source, blank


def _files(path: Path) -> list[Path]:
    if not path.exists():
        raise InputError("file or folder not found", file=path)
    if path.is_file():
        return [path]
    files = sorted(p for p in path.iterdir()
                   if p.is_file() and p.suffix.lower() == ".csv")
    if not files:
        raise InputError("the folder holds no .csv riding files", file=path)
    return files


def manifest_text(files) -> str:
    """``sha256  name`` lines (sorted by name) of ``files``, as ``sha256sum`` writes."""
    lines = []
    for f in sorted(files, key=lambda p: p.name):
        lines.append(f"{hashlib.sha256(Path(f).read_bytes()).hexdigest()}  {f.name}\n")
    return "".join(lines)


def _read_riding(file: Path):
    raw, source, blank = _load(file)
    cols = list(raw.columns)
    eng = [_english(c) for c in cols]
    hrow = source.get("header_rows", [1])[-1]
    if len(cols) < 8 or tuple(eng[:4]) != _FIRST or tuple(eng[-3:]) != _LAST:
        raise InputError("not a poll-by-poll file: expected the columns "
                         f"{', '.join(_FIRST)}, the candidates, then {', '.join(_LAST)}",
                         file=file, row=hrow)
    cand = cols[4:-3]
    riding_no = to_counts(raw[cols[0]], file=file, column=cols[0])
    if riding_no.isna().any() or riding_no.nunique() != 1:
        raise InputError("expected one riding number on every row", file=file,
                         column=cols[0])
    riding = str(int(riding_no.iloc[0]))

    first = raw[cand[0]].astype("string").str.strip()
    is_text = ~first.fillna("").str.fullmatch(r"\d*").to_numpy(dtype=bool)
    text = first.fillna("")
    void = is_text & text.str.contains(_VOID).to_numpy(dtype=bool)
    merged_into = text.str.extract(_MERGED)[0]
    merged = is_text & merged_into.notna().to_numpy(dtype=bool)
    special_group = text.str.extract(_SPECIAL)[0]
    special = is_text & special_group.notna().to_numpy(dtype=bool)
    odd = is_text & ~void & ~merged & ~special
    if odd.any():
        i = int(np.flatnonzero(odd)[0])
        raise InputError(f"expected votes, 'Void' or 'Merged with No. ...', found "
                         f"{str(text.iloc[i])[:40]!r}", file=file,
                         row=int(raw.index[i]), column=cand[0])
    status = void | merged | special
    notes: dict = {}
    num = {c: to_counts(raw[c].where(~status), file=file, column=c, notes=notes)
           for c in cand + cols[-3:]}

    number = raw[cols[2]].astype("string").str.replace(r"\s+", "", regex=True) \
        .replace("", pd.NA)
    name = raw[cols[3]].astype("string").map(
        lambda s: _english(s) if isinstance(s, str) else s)
    label = number.fillna(name)
    if label.isna().any():
        i = int(np.flatnonzero(label.isna().to_numpy())[0])
        raise InputError("a poll with neither a number nor a name", file=file,
                         row=int(raw.index[i]), column=cols[2])

    index = pd.Index(int(riding) * ROW_STRIDE + raw.index.to_numpy(dtype="int64"),
                     name="source_row")
    data = pd.DataFrame(index=index)
    data["region"] = PROVINCES.get(riding[:2], riding[:2])
    data["district"] = riding
    data["station"] = (riding + "/" + label).to_numpy()
    data["registered"] = num[cols[-1]].to_numpy()
    data["ballots_issued"] = pd.array([pd.NA] * len(raw), dtype="Int64")
    data["ballots_cast"] = num[cols[-2]].to_numpy()
    data["invalid"] = num[cols[-3]].to_numpy()

    keep = ~status
    totals = np.array([int(num[c][keep].fillna(0).sum()) for c in cand])
    order = sorted(range(len(cand)), key=lambda i: (-totals[i], i))
    for r, i in enumerate(order, start=1):
        data[f"rank{r}"] = num[cand[i]].to_numpy()
    names = [cand[i] for i in order]

    reasons = merged_into.map(
        lambda x: f"merged with poll {str(x).strip()} (its votes are counted in that "
                  "poll's row)" if isinstance(x, str) else "")
    excluded = [excluded_frame(data, void, "void poll (Void/Supprimé): no votes "
                                           "were taken there")]
    for group in sorted(set(special_group[special])):
        excluded.append(excluded_frame(
            data, special & (special_group == group).to_numpy(),
            f"electors voted by special ballot (counted in the riding's "
            f"{group.capitalize()} row)"))
    for reason in sorted(set(reasons[merged])):
        excluded.append(excluded_frame(data, merged & (reasons == reason).to_numpy(),
                                       reason))
    for b in blank:
        b = b.copy()
        b["source_row"] = int(riding) * ROW_STRIDE + b["source_row"]
        excluded.append(b)
    info = {"riding": riding, "candidates": names, "sha256": source["sha256"],
            "notes": notes, "padded_rows": source["padded_rows"],
            "blank_rows": source.get("blank_rows", 0)}
    return data.loc[keep], excluded, info


def read_ca_pollbypoll(path, *, absent: str = "na"):
    """Read Elections Canada poll-by-poll files (a folder, or one riding's file).

    Parameters
    ----------
    path : path-like
        A folder of ``pollbypoll_bureauparbureauNNNNN.csv`` files (every
        ``.csv`` file in it is read, in name order) or a single such file.
    absent : {"na", "zero"}, default "na"
        The value of ``rankK`` in a riding with fewer than K candidates
        (see the module docstring).

    Returns
    -------
    StationTable
        Options ``rank1`` .. ``rankK``; ``source["candidates"]`` maps each
        riding number to its candidates' names by rank, ``source["files"]``
        counts the files read.

    Examples
    --------
    >>> from audit import datasets
    >>> t = datasets.load("clean/canada_fed2011_pollbypoll")    # doctest: +SKIP
    >>> t.options[:2]                                           # doctest: +SKIP
    ['rank1', 'rank2']
    """
    if absent not in ("na", "zero"):
        raise InputError(f"absent must be 'na' or 'zero', got {absent!r}")
    path = Path(path)
    files = _files(path)
    frames, excluded, candidates, styles, padded = [], [], {}, {}, {}
    for f in files:
        data, exc, info = _read_riding(f)
        if info["riding"] in candidates:
            raise InputError(f"riding {info['riding']} appears in two files",
                             file=f)
        frames.append(data)
        excluded.extend(exc)
        candidates[info["riding"]] = info["candidates"]
        if info["padded_rows"]:
            padded[info["riding"]] = info["padded_rows"]
        styles.update({f"{info['riding']}: {k}": v for k, v in info["notes"].items()})
    k = max(len(v) for v in candidates.values())
    options = [f"rank{r}" for r in range(1, k + 1)]
    columns = ["region", "district", "station", "registered", "ballots_issued",
               "ballots_cast", "invalid"] + options
    data = pd.concat([d.reindex(columns=columns) for d in frames])
    for c in columns[3:]:
        data[c] = data[c].astype("Int64")
        if c in options and absent == "zero":
            data[c] = data[c].fillna(0)
    for c in columns[:3]:
        data[c] = data[c].astype("string")
    excluded = [e for e in excluded if len(e)] or [empty_excluded()]
    if path.is_dir():
        digest = hashlib.sha256(manifest_text(files).encode()).hexdigest()
    else:
        digest = hashlib.sha256(path.read_bytes()).hexdigest()
    source = {"path": str(path), "sha256": digest,
              "sha256_of": "the sha256sum manifest of the files" if path.is_dir()
              else "the file",
              "files": len(files), "file_format": "csv", "encoding": "latin-1",
              "delimiter": ",", "format": "ca-pollbypoll", "absent": absent,
              "ranks": k, "candidates": candidates,
              "padded_rows": padded,
              "ridings_by_candidates": {str(n): sum(len(v) == n for v in
                                                    candidates.values())
                                        for n in sorted({len(v) for v in
                                                         candidates.values()})},
              "rows": int(len(data) + sum(len(e) for e in excluded)),
              "matched": {"registered": "Electors", "ballots_cast": "Total Votes",
                          "invalid": "Rejected Ballots",
                          "district": "Electoral District Number",
                          "station": "Polling Station Number (or Name)"}}
    return assemble(data, options, excluded, source, notes=styles)
