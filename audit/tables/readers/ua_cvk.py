"""Reader for the Ukrainian 2019 station files (``ua-cvk``).

Files from ``RomanKyrychenko/ukrainian_elections`` (scraped from the Central
Election Commission of Ukraine): ``polling_station_number``, one column per
candidate or party, ``district_number`` (single-member district) and:

``president_voters`` (presidential first round)
    Ballots cast.  On 29,618 of 29,695 stations it equals the candidates'
    votes plus ``Spoiled bulletins`` exactly (the rest differ by -1 to +7), so
    it counts every ballot found in the boxes, valid or not.  Mapped to
    ``ballots_cast``.
``Spoiled bulletins``
    Invalid ballots.  Mapped to ``invalid``.
``parliament_voters`` (parliament, party list)
    Equal to the sum of the party columns on every station, i.e. the valid
    party-list votes, not the ballots cast (invalid ballots are not in the
    file).  Not mapped by default, so ``ballots_cast`` and ``invalid`` are
    ``<NA>``; ``valid_as_cast=True`` uses it as ``ballots_cast`` (shares
    then become shares of valid votes).

Neither file has registered voters or ballots issued: those columns are
``<NA>``.  ``region`` is the oblast of the district (the Central Election
Commission's district scheme, :data:`DISTRICT_OBLAST`), ``district`` the
district number, ``station`` the six-digit station number (its first two
digits are the oblast's KOATUU code, which the tests cross-check against the
district scheme).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from ...core.errors import InputError
from ..assemble import assemble, excluded_frame
from ..containers import read_table
from ..numbers import to_counts
from ..text import closest

# Single-member districts by oblast (inclusive ranges), with the oblast's
# KOATUU code (first two digits of its polling-station numbers).
DISTRICT_OBLAST = (
    (1, 10, "Crimea", 1), (11, 18, "Vinnytsia", 5), (19, 23, "Volyn", 7),
    (24, 40, "Dnipropetrovsk", 12), (41, 61, "Donetsk", 14), (62, 67, "Zhytomyr", 18),
    (68, 73, "Zakarpattia", 21), (74, 82, "Zaporizhzhia", 23),
    (83, 89, "Ivano-Frankivsk", 26), (90, 98, "Kyiv oblast", 32),
    (99, 103, "Kirovohrad", 35), (104, 114, "Luhansk", 44), (115, 126, "Lviv", 46),
    (127, 132, "Mykolaiv", 48), (133, 143, "Odesa", 51), (144, 151, "Poltava", 53),
    (152, 156, "Rivne", 56), (157, 162, "Sumy", 59), (163, 167, "Ternopil", 61),
    (168, 181, "Kharkiv", 63), (182, 186, "Kherson", 65), (187, 193, "Khmelnytskyi", 68),
    (194, 200, "Cherkasy", 71), (201, 204, "Chernivtsi", 73), (205, 210, "Chernihiv", 74),
    (211, 223, "Kyiv city", 80), (224, 225, "Sevastopol", 85),
)

_STATION = "polling_station_number"
_DISTRICT = "district_number"
_INVALID = "spoiled bulletins"


def oblast_of_district(numbers) -> np.ndarray:
    """Oblast name of each district number ("district N" when unknown)."""
    numbers = np.asarray(numbers)
    out = np.array([f"district {n}" for n in numbers], dtype=object)
    for lo, hi, name, _ in DISTRICT_OBLAST:
        out[(numbers >= lo) & (numbers <= hi)] = name
    return out


def read_ua_cvk(path, *, valid_as_cast: bool = False, sheet=None):
    """Read a Ukrainian 2019 station file into a StationTable.

    Parameters
    ----------
    path : path-like
        ``president_election_2019_1_by_vd_en.csv`` or
        ``parliament_election_2019_by_vd_en.csv`` (or a file shaped alike).
    valid_as_cast : bool, default False
        Parliament file only: use ``parliament_voters`` (valid votes) as
        ``ballots_cast``.
    sheet : str, optional
        Worksheet, for an ``.xlsx`` file with several.

    Returns
    -------
    StationTable
        ``registered`` and ``ballots_issued`` are ``<NA>`` throughout.

    Examples
    --------
    >>> from audit import datasets
    >>> t = read_ua_cvk(datasets.fetch(
    ...     "ua-cvk/president_election_2019_1_by_vd_en.csv"))  # doctest: +SKIP
    >>> t.data["registered"].isna().all()                      # doctest: +SKIP
    True
    """
    raw, source, blank = read_table(path, sheet=sheet)
    hrow = source.get("header_rows", [1])[-1]
    cols = list(raw.columns)
    low = {c.lower(): c for c in cols}
    for need in (_STATION, _DISTRICT):
        if need not in low:
            near = closest(need, cols)
            hint = f"; closest column: {near!r}" if near else ""
            raise InputError(f"not a ua-cvk table: no {need!r} column{hint}", file=path,
                             row=hrow)
    voters = [c for c in cols if c.lower().endswith("_voters")]
    if len(voters) != 1:
        near = closest("president_voters", cols) if not voters else None
        hint = f"; closest column: {near!r}" if near else ""
        raise InputError("not a ua-cvk table: expected one '<election>_voters' column, "
                         f"found {len(voters)}{hint}", file=path, row=hrow)
    voters = voters[0]
    invalid = low.get(_INVALID)
    meta = {low[_STATION], low[_DISTRICT], voters, invalid}
    options = [c for c in cols if c not in meta]
    if not options:
        raise InputError("not a ua-cvk table: no candidate or party columns", file=path,
                         row=hrow)

    notes: dict = {}
    station_no = to_counts(raw[low[_STATION]], file=path, column=low[_STATION])
    district_no = to_counts(raw[low[_DISTRICT]], file=path, column=low[_DISTRICT])
    for col, s in ((low[_STATION], station_no), (low[_DISTRICT], district_no)):
        if s.isna().any():
            i = int(np.flatnonzero(s.isna().to_numpy())[0])
            raise InputError("expected a number, found an empty cell", file=path,
                             row=int(raw.index[i]), column=col)
    counts = {c: to_counts(raw[c], file=path, column=c, notes=notes)
              for c in [voters] + options
              + ([invalid] if invalid else [])}

    data = pd.DataFrame(index=raw.index)
    dn = district_no.to_numpy(dtype="int64")
    data["region"] = pd.array(oblast_of_district(dn), dtype="string")
    data["district"] = pd.array(dn.astype(str), dtype="string")
    data["station"] = pd.array([f"{n:06d}" for n in station_no.to_numpy(dtype="int64")],
                               dtype="string")
    na = pd.array([pd.NA] * len(raw), dtype="Int64")
    data["registered"] = na
    data["ballots_issued"] = na
    election = voters[: -len("_voters")].lower()
    if election == "parliament" or invalid is None:
        meaning = "valid votes (sum of the option columns)"
        data["ballots_cast"] = counts[voters] if valid_as_cast else na
        data["invalid"] = counts[invalid] if invalid else na
    else:
        meaning = "ballots cast (option votes + invalid)"
        data["ballots_cast"] = counts[voters]
        data["invalid"] = counts[invalid]
    for c in options:
        data[c] = counts[c]

    values = pd.DataFrame(counts).to_numpy(dtype="float64", na_value=np.nan)
    all_empty = np.isnan(values).all(axis=1)
    all_zero = ~all_empty & (np.nan_to_num(values) == 0).all(axis=1)
    excluded = blank + [
        excluded_frame(data, all_empty, "no results: every count is empty"),
        excluded_frame(data, all_zero, "every figure is zero (no ballots, no votes)"),
    ]
    source.update({"format": "ua-cvk", "election": election,
                   "voters_column": voters, "voters_meaning": meaning,
                   "valid_as_cast": bool(valid_as_cast),
                   "matched": {"ballots_cast": voters if data["ballots_cast"].notna().any()
                               else None, "invalid": invalid,
                               "district": low[_DISTRICT], "station": low[_STATION]}})
    return assemble(data, options, excluded, source, drop_rows=all_empty | all_zero,
                    notes=notes)
