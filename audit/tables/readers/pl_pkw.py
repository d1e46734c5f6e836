"""Reader for the Polish electoral commission's station files (``pl-pkw``).

The National Electoral Commission (PKW) publishes one row per polling
district (obwód) with its address, the protocol lines under their Polish
names, then one column per candidate after "Liczba głosów ważnych oddanych
łącznie na wszystkich kandydatów".  The file is ``;``-separated UTF-8 with a
BOM, usually inside a zip archive (e.g. ``wyniki_gl_na_kand_po_obwodach_csv.zip``
for the 2020 presidential election).

=================  =========================================================
canonical column   protocol line(s)
=================  =========================================================
``region``         "Województwo" (voivodeship); "abroad" for stations
                   abroad and "ships" for stations on ships (see below)
``district``       the gmina: its six-digit TERYT code and name,
                   ``"020101 m. Bolesławiec"`` (the finest administrative
                   unit above the station; Warsaw's boroughs are gminas here)
``station``        TERYT code + "/" + "Numer obwodu" (unique in the file)
``registered``     "Liczba wyborców uprawnionych do głosowania"
``ballots_issued`` "Liczba wyborców, którym wydano karty do głosowania"
                   (in person) + "Liczba kopert na kartę do głosowania
                   wrzuconych do urny" (postal votes put in the box)
``ballots_cast``   "Liczba kart wyjętych z urny" (cards taken from the box)
``invalid``        "Liczba kart nieważnych" (cards void as cards, e.g. not
                   stamped) + "Liczba głosów nieważnych" (valid cards with
                   an invalid vote)
options            every column after "Liczba głosów ważnych oddanych
                   łącznie na wszystkich kandydatów"
=================  =========================================================

Why ``invalid`` adds two lines: in the protocol, cards taken from the box =
invalid cards + valid cards, and valid cards = invalid votes + valid votes.
On every station of the 2020 first-round file both identities hold exactly,
so ballots cast = candidates' votes + ``invalid`` with ``invalid`` as above,
which is the canonical meaning (every ballot found in the box is either a
vote for an option or invalid).  Both lines are kept apart in
``source["invalid_parts"]`` (national sums), so a reader who wants only
invalid votes can subtract.

Stations abroad and on ships are filed by PKW under the voivodeship
"mazowieckie" (TERYT 149901 "zagranica" and 149801 "statki", counted in
Warsaw); they are kept, with region "abroad" / "ships" so that a regional
analysis does not mix them with Masovia ("Typ obszaru" is "zagranica" /
"statek").  Rows with no TERYT code and "-" in every count (four military
stations abroad in 2020: Iraq twice, Lebanon, Kosovo) carry no results and
are excluded with that reason.  Impossible figures (e.g. more cards in the
box than issued, 384 stations in 2020) are kept and listed as findings.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from ...core.errors import InputError
from ..assemble import assemble, excluded_frame
from ..containers import read_table
from ..numbers import to_counts
from ..text import missing_column

VOIVODESHIP = "Województwo"
TERYT = "Kod TERYT"
NUMBER = "Numer obwodu"
GMINA = "Gmina"
AREA = "Typ obszaru"
REGISTERED = "Liczba wyborców uprawnionych do głosowania"
ISSUED = "Liczba wyborców, którym wydano karty do głosowania"
POSTAL = "Liczba kopert na kartę do głosowania wrzuconych do urny"
CAST = "Liczba kart wyjętych z urny"
INVALID_CARDS = "Liczba kart nieważnych"
INVALID_VOTES = "Liczba głosów nieważnych"
VALID = "Liczba głosów ważnych oddanych łącznie na wszystkich kandydatów"
_COUNTS = (REGISTERED, ISSUED, POSTAL, CAST, INVALID_CARDS, INVALID_VOTES, VALID)
#: "Typ obszaru" values that get their own region instead of the voivodeship.
SPECIAL_AREAS = {"zagranica": "abroad", "statek": "ships"}
NO_RESULTS = ("no results in the file: no TERYT code and '-' in every count "
              "(station abroad whose figures PKW did not publish here)")


def _text(series: pd.Series) -> pd.Series:
    return series.astype("string").str.strip().replace("", pd.NA)


def read_pl_pkw(path, *, sheet=None):
    """Read a PKW station file (CSV, plain or zipped) into a StationTable.

    Parameters
    ----------
    path : path-like
        ``wyniki_gl_na_kand_po_obwodach_csv.zip`` or the CSV inside it.
    sheet : str, optional
        Worksheet, for an ``.xlsx`` copy with several.

    Returns
    -------
    StationTable
        Hierarchy ``region`` (voivodeship, "abroad" or "ships") /
        ``district`` (TERYT code and gmina name) / ``station`` (TERYT/number),
        the four counts (see the module docstring) and one column per
        candidate.  ``source["matched"]`` names the protocol lines used.

    Examples
    --------
    >>> from audit import datasets
    >>> t = datasets.load("clean/poland_pres2020_r1_obwody_csv.zip")  # doctest: +SKIP
    >>> len(t.data), len(t.excluded)                                 # doctest: +SKIP
    (27225, 4)
    """
    raw, source, blank = read_table(path, sheet=sheet)
    hrow = source.get("header_rows", [1])[-1]
    cols = list(raw.columns)
    for need in (VOIVODESHIP, TERYT, NUMBER, GMINA, AREA) + _COUNTS:
        if need not in cols:
            raise missing_column("not a pl-pkw table: no", need, cols, file=path, row=hrow)
    options = cols[cols.index(VALID) + 1:]
    if not options:
        raise InputError(f"not a pl-pkw table: no candidate columns after {VALID!r}",
                         file=path, row=hrow)

    # Rows with "-" in every count: results not in the file.
    figures = _COUNTS + tuple(options)
    dash = np.ones(len(raw), dtype=bool)
    for c in figures:
        dash &= raw[c].astype("string").str.strip().eq("-").fillna(False).to_numpy()
    teryt_num = to_counts(raw[TERYT].where(~dash), file=path, column=TERYT)
    number = to_counts(raw[NUMBER], file=path, column=NUMBER)
    for col, s in ((TERYT, teryt_num), (NUMBER, number)):
        gap = s.isna().to_numpy() & ~dash
        if gap.any():
            i = int(np.flatnonzero(gap)[0])
            raise InputError("expected a code, found an empty cell", file=path,
                             row=int(raw.index[i]), column=col)
    teryt = teryt_num.astype("string").str.zfill(6)

    notes: dict = {}
    num = {c: to_counts(raw[c].where(~dash), file=path, column=c, notes=notes)
           for c in figures}

    area = _text(raw[AREA])
    region = _text(raw[VOIVODESHIP])
    special = area.map(SPECIAL_AREAS).astype("string")
    region = special.fillna(region)
    data = pd.DataFrame(index=raw.index)
    data["region"] = region.fillna("abroad").where(~dash, "abroad")
    gmina = _text(raw[GMINA]).fillna("")
    data["district"] = (teryt + " " + gmina).str.strip().fillna("no TERYT code")
    data["station"] = teryt.fillna("abroad") + "/" + number.astype("string")
    data["registered"] = num[REGISTERED]
    data["ballots_issued"] = (num[ISSUED] + num[POSTAL]).astype("Int64")
    data["ballots_cast"] = num[CAST]
    data["invalid"] = (num[INVALID_CARDS] + num[INVALID_VOTES]).astype("Int64")
    for c in options:
        data[c] = num[c]

    excluded = blank + [excluded_frame(data, dash, NO_RESULTS)]
    keep = ~dash
    valid = num[VALID][keep]
    source.update({
        "format": "pl-pkw",
        "abroad_stations": int((area[keep] == "zagranica").sum()),
        "ship_stations": int((area[keep] == "statek").sum()),
        "invalid_parts": {INVALID_CARDS: int(num[INVALID_CARDS][keep].sum()),
                          INVALID_VOTES: int(num[INVALID_VOTES][keep].sum())},
        "valid_equals_options": bool(
            (pd.DataFrame({c: num[c] for c in options})[keep].sum(axis=1) == valid).all()),
        "matched": {"registered": REGISTERED, "ballots_issued": [ISSUED, POSTAL],
                    "ballots_cast": CAST, "invalid": [INVALID_CARDS, INVALID_VOTES],
                    "region": VOIVODESHIP, "district": [TERYT, GMINA],
                    "station": [TERYT, NUMBER]},
    })
    return assemble(data, options, excluded, source, drop_rows=dash, notes=notes)
