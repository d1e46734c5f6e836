"""Reader for the Czech statistics office's presidential files (``cz-volby``).

The Czech Statistical Office (ČSÚ, volby.cz) publishes presidential results
as the open-data table ``pet1``: ``;``-separated, Windows-1250, one row per
form.  Columns used:

=================  =========================================================
canonical column   source
=================  =========================================================
``region``         first two digits of ``OKRES`` (district code): the
                   statistics office's regional grouping of districts
                   (11 Prague, 21 Central Bohemia, ..., 81 Moravia-Silesia;
                   99 is the "district" of stations abroad)
``district``       ``OBEC``, the municipality code (the finest unit above
                   the station; for stations abroad a code per country)
``station``        ``OBEC`` + "/" + ``OKRSEK`` (the station number within
                   the municipality)
``registered``     ``VOL_SEZNAM`` (voters on the list)
``ballots_issued`` ``VYD_OBALKY`` (official envelopes issued)
``ballots_cast``   ``ODEVZ_OBAL`` (envelopes returned into the box)
``invalid``        ``ODEVZ_OBAL`` - ``PL_HL_CELK`` (returned envelopes that
                   did not hold a valid vote); ``<NA>`` where negative
options            ``HLASY_01`` .. ``HLASY_20`` (votes per candidate number),
                   minus the columns that are zero on every kept row
=================  =========================================================

Why ``invalid`` is a difference: the file has no invalid-ballot line.
``PL_HL_CELK`` is the valid votes: on every row of the 2018 first-round file
it equals the sum of ``HLASY_01`` .. ``HLASY_20``, and it is at most
``ODEVZ_OBAL`` on all but 3 rows, so the difference counts envelopes that
were empty or held an invalid ballot.  On the rows where valid votes exceed
returned envelopes (3 in 2018, each with ``CHYBA`` = 1, the office's error
flag) ``invalid`` is ``<NA>`` and the station appears among the findings
(``votes_exceed_cast``); ``source["invalid_unknown"]`` counts them.

Which rows are kept: ``TYP_FORM`` 1 (a polling-station form) of the round
asked for (``KOLO``).  Rows of other rounds and other form types are listed
in ``StationTable.excluded`` with their reason.  ``OPRAVA`` (corrected
protocol) and ``CHYBA`` (error flag) are not reasons to exclude; their
counts are in ``source``.  Candidate numbers in 2018: 7 is Miloš Zeman,
9 is Jiří Drahoš.
"""

from __future__ import annotations

import re

import numpy as np
import pandas as pd

from ...core.errors import InputError
from ..assemble import assemble, excluded_frame
from ..containers import read_table
from ..numbers import to_counts
from ..text import missing_column

_ID = ("TYP_FORM", "OKRES", "OBEC", "OKRSEK", "KOLO")
_COUNTS = ("VOL_SEZNAM", "VYD_OBALKY", "ODEVZ_OBAL", "PL_HL_CELK")
_OPTION = re.compile(r"HLASY_\d+")
STATION_FORM = 1


def _check_round(round) -> int:
    if isinstance(round, bool) or not isinstance(round, (int, np.integer)) or round < 1:
        raise InputError(f"round must be a positive whole number (1 or 2), got {round!r}")
    return int(round)


def read_cz_volby(path, *, round: int = 1, sheet=None):
    """Read a ČSÚ ``pet1`` presidential file into a StationTable.

    Parameters
    ----------
    path : path-like
        ``pet1.csv`` (plain, zipped or gzip-compressed).
    round : int, default 1
        Which round (``KOLO``) to keep; the other round's rows are excluded
        with their reason.
    sheet : str, optional
        Worksheet, for an ``.xlsx`` copy with several.

    Returns
    -------
    StationTable
        Options ``HLASY_NN`` for the candidates with votes in that round;
        ``source["dropped_options"]`` lists the all-zero columns left out.

    Examples
    --------
    >>> from audit import datasets
    >>> t = datasets.load("clean/czech_pres2018_r1_pet1.csv")   # doctest: +SKIP
    >>> int(t.data["HLASY_07"].sum())                           # doctest: +SKIP
    1985547
    """
    round = _check_round(round)
    raw, source, blank = read_table(path, sheet=sheet)
    hrow = source.get("header_rows", [1])[-1]
    cols = list(raw.columns)
    for need in _ID + _COUNTS:
        if need not in cols:
            raise missing_column("not a cz-volby table: no", need, cols, file=path,
                                 row=hrow)
    options = [c for c in cols if _OPTION.fullmatch(c)]
    if not options:
        raise InputError("not a cz-volby table: no HLASY_NN (votes per candidate) "
                         "columns", file=path, row=hrow)

    ids = {c: to_counts(raw[c], file=path, column=c) for c in _ID}
    for c, s in ids.items():
        if s.isna().any():
            i = int(np.flatnonzero(s.isna().to_numpy())[0])
            raise InputError("expected a number, found an empty cell", file=path,
                             row=int(raw.index[i]), column=c)
    form = ids["TYP_FORM"].to_numpy(dtype="int64")
    kolo = ids["KOLO"].to_numpy(dtype="int64")
    other_form = form != STATION_FORM
    other_round = (kolo != round) & ~other_form
    keep = ~(other_form | other_round)
    if not keep.any():
        rounds = sorted(set(kolo[~other_form].tolist()))
        raise InputError(f"no polling-station rows (TYP_FORM 1) of round {round}; the "
                         f"file holds round(s) {', '.join(map(str, rounds)) or 'none'}",
                         file=path)

    notes: dict = {}
    num = {c: to_counts(raw[c], file=path, column=c, notes=notes)
           for c in _COUNTS + tuple(options)}
    okres = ids["OKRES"].astype("string").str.zfill(4)
    obec = ids["OBEC"].astype("string")
    data = pd.DataFrame(index=raw.index)
    data["region"] = okres.str[:2]
    data["district"] = obec
    data["station"] = obec + "/" + ids["OKRSEK"].astype("string")
    data["registered"] = num["VOL_SEZNAM"]
    data["ballots_issued"] = num["VYD_OBALKY"]
    data["ballots_cast"] = num["ODEVZ_OBAL"]
    diff = num["ODEVZ_OBAL"] - num["PL_HL_CELK"]
    data["invalid"] = diff.where(diff >= 0).astype("Int64")

    zero = [c for c in options if not (num[c][keep].fillna(0) != 0).any()]
    kept_options = [c for c in options if c not in zero]
    for c in kept_options:
        data[c] = num[c]

    excluded = blank + [
        excluded_frame(data, other_form, "not a polling-station row (TYP_FORM is not 1)"),
        excluded_frame(data, other_round, f"another round (KOLO is not {round})"),
    ]
    opts = pd.DataFrame({c: num[c] for c in options})[keep]
    source.update({
        "format": "cz-volby", "round": round,
        "encoding_note": "Windows-1250 in the original; only numeric columns are read",
        "dropped_options": zero,
        "invalid_unknown": int(data["invalid"][keep].isna().sum()),
        "valid_equals_options": bool((opts.sum(axis=1) == num["PL_HL_CELK"][keep]).all()),
        "corrected_rows": int((to_counts(raw["OPRAVA"], file=path, column="OPRAVA")[keep]
                               .fillna(0) != 0).sum()) if "OPRAVA" in cols else None,
        "error_flag_rows": int((to_counts(raw["CHYBA"], file=path, column="CHYBA")[keep]
                                .fillna(0) != 0).sum()) if "CHYBA" in cols else None,
        "matched": {"registered": "VOL_SEZNAM", "ballots_issued": "VYD_OBALKY",
                    "ballots_cast": "ODEVZ_OBAL", "invalid": "ODEVZ_OBAL - PL_HL_CELK",
                    "region": "OKRES[:2]", "district": "OBEC",
                    "station": ["OBEC", "OKRSEK"]},
    })
    return assemble(data, kept_options, excluded, source, drop_rows=~keep, notes=notes)
