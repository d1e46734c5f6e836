"""Reader for Russian Central Election Commission station files (``ru-cik``).

The files published in ``dkobak/elections`` (scraped from izbirkom.ru) hold
one row per precinct commission (УИК) with the hierarchy ``region`` /
``tik`` (territorial commission) / ``uik``, the protocol lines under their
Russian names, then one column per candidate, party or option, and usually a
``url``.  The wording of the protocol lines changes between elections, so
lines are matched by meaning, not by exact name:

=================  =========================================================
canonical column   protocol line(s)
=================  =========================================================
``registered``     "Число избирателей / участников голосования, включенных
                   (внесенных) в список ..."
``ballots_issued`` sum of every line with "бюллетеней, выданных" (early, in
                   the station, outside it; 2020 has a single line)
``ballots_cast``   "... в переносных ящиках" + "... в стационарных ящиках";
                   else "... содержащихся в ящиках" (2020); else valid +
                   invalid ("действительных" + "недействительных")
``invalid``        "Число недействительных ..."
options            every column after the last protocol line ("Число ..."),
                   except ``url``
=================  =========================================================

Rows excluded (each counted in ``StationTable.excluded`` with its reason):
rows where every figure is empty (results never released, e.g. the 2,268
stations of the four annexed Ukrainian regions in 2024); remote electronic
voting recorded as one pseudo-commission (2021); rows where every figure is
zero.
"""

from __future__ import annotations

import re

import numpy as np
import pandas as pd

from ...core.errors import InputError
from ..assemble import assemble, excluded_frame
from ..containers import read_table
from ..numbers import to_counts
from ..text import closest

_HIERARCHY_ALIASES = {
    "region": ("region", "регион", "субъект", "субъект рф"),
    "district": ("tik", "тик", "district"),
    "station": ("uik", "уик", "station"),
}
_META = {"url", "name", "level", "oik", "окруж", "ссылка"}

#: Remote electronic voting pseudo-commissions hold more voters than any
#: physical precinct (the law caps a precinct at 3,000 voters); together with
#: no ballots in portable boxes and no invalid ballots (electronic ballots
#: cannot be spoiled) this identifies them when their name does not.
ELECTRONIC_MIN_REGISTERED = 10_000
_ELECTRONIC_NAME = re.compile(r"электрон|дэг\b", re.IGNORECASE)


def _norm(name: str) -> str:
    s = str(name).lower().replace("ё", "е")
    s = re.sub(r"[\"'«»]", "", s)
    return re.sub(r"\s+", " ", s).strip()


_RULES = {
    "protocol": re.compile(r"^число\b"),
    "registered": re.compile(r"(включенных|внесенных) в списо?к"),
    "issued": re.compile(r"бюллетен\w*,? выданных"),
    "portable": re.compile(r"переносн\w* ящик"),
    "stationary": re.compile(r"стационарн\w* ящик"),
    "boxes": re.compile(r"содержащихся в ящиках"),
    "invalid": re.compile(r"недействительн"),
    "valid": re.compile(r"(^|\s)действительн"),
}


def match_columns(columns) -> dict:
    """Find the protocol lines, hierarchy and option columns by meaning.

    Parameters
    ----------
    columns : sequence of str
        Header of an ru-cik file.

    Returns
    -------
    dict
        ``region``, ``district``, ``station`` (column or None);
        ``registered``, ``invalid``, ``valid`` (column or None);
        ``issued`` (list); ``cast`` (list) and ``cast_rule`` (str);
        ``protocol`` (every protocol line); ``options`` (list).

    Examples
    --------
    >>> m = match_columns(["region", "tik", "uik",
    ...     "Число избирателей, включенных в список избирателей",
    ...     "Число избирательных бюллетеней, выданных в помещении для голосования",
    ...     "Число бюллетеней в стационарных ящиках для голосования",
    ...     "Число избирательных бюллетеней в переносных ящиках для голосования",
    ...     "Число недействительных избирательных бюллетеней", "Иванов", "Петров"])
    >>> m["options"], m["cast_rule"]
    (['Иванов', 'Петров'], 'portable + stationary boxes')
    """
    columns = list(columns)
    norm = {c: _norm(c) for c in columns}
    out: dict = {}
    for role, aliases in _HIERARCHY_ALIASES.items():
        hits = [c for c in columns if norm[c] in aliases]
        out[role] = hits[0] if hits else None

    protocol = [c for c in columns if _RULES["protocol"].search(norm[c])]
    out["protocol"] = protocol
    if not protocol:
        raise ValueError("no protocol lines (columns starting with 'Число ...') found")

    def pick(rule, *, exclude=None):
        hits = [c for c in protocol if _RULES[rule].search(norm[c])
                and not (exclude and _RULES[exclude].search(norm[c]))]
        return hits

    reg = [c for c in pick("registered") if "дополнительн" not in norm[c]]
    if len(reg) > 1:
        raise ValueError("several columns look like registered voters: " + "; ".join(reg))
    out["registered"] = reg[0] if reg else None
    out["issued"] = pick("issued")
    def ballots(cols):  # prefer lines about ballots over e.g. certificates
        return [c for c in cols if "бюллетен" in norm[c]] or cols

    inv = ballots(pick("invalid"))
    out["invalid"] = inv[0] if len(inv) == 1 else None
    if len(inv) > 1:
        raise ValueError("several columns look like invalid ballots: " + "; ".join(inv))
    val = ballots(pick("valid", exclude="invalid"))
    out["valid"] = val[0] if len(val) == 1 else None

    portable, stationary, boxes = pick("portable"), pick("stationary"), pick("boxes")
    boxes = [c for c in boxes if c not in portable and c not in stationary]
    if portable and stationary:
        out["cast"], out["cast_rule"] = portable + stationary, "portable + stationary boxes"
    elif len(boxes) == 1:
        out["cast"], out["cast_rule"] = boxes, "ballots in boxes"
    elif out["valid"] and out["invalid"]:
        out["cast"], out["cast_rule"] = [out["valid"], out["invalid"]], "valid + invalid"
    else:
        out["cast"], out["cast_rule"] = [], "not reported"

    last = max(columns.index(c) for c in protocol)
    hier = {out[r] for r in _HIERARCHY_ALIASES if out[r]}
    out["options"] = [c for c in columns[last + 1:]
                      if norm[c] not in _META and c not in hier]
    return out


def _rowsum(frame: pd.DataFrame) -> pd.Series:
    """Row sums that are ``<NA>`` when any part is missing."""
    if frame.shape[1] == 0:
        return pd.Series(pd.array([pd.NA] * len(frame), dtype="Int64"), index=frame.index)
    values = frame.to_numpy(dtype="float64", na_value=np.nan).sum(axis=1)
    out = pd.array(np.nan_to_num(values).astype("int64"), dtype="Int64")
    out[np.isnan(values)] = pd.NA
    return pd.Series(out, index=frame.index)


def read_ru_cik(path, *, electronic: str = "exclude", sheet=None):
    """Read an ru-cik station file (CSV, plain or zipped; or .xlsx) into a StationTable.

    Parameters
    ----------
    path : path-like
        ``2020.csv.zip`` and the like from ``dkobak/elections``.
    electronic : {"exclude", "keep"}
        What to do with remote electronic voting recorded as one
        pseudo-commission: exclude it (default; its tens of thousands of
        voters are not a polling station) or keep it as a row.

    Returns
    -------
    StationTable
        Hierarchy ``region`` / ``district`` (ТИК) / ``station`` (УИК), the
        four counts and one column per option.  ``source["matched"]`` lists
        which source columns fed each count.

    Examples
    --------
    >>> from audit import datasets
    >>> t = read_ru_cik(datasets.fetch("ru-cik/2020.csv.zip"))  # doctest: +SKIP
    >>> len(t.data), int(t.data["registered"].sum())            # doctest: +SKIP
    (96765, 107999611)
    """
    if electronic not in ("exclude", "keep"):
        raise InputError(f"electronic must be 'exclude' or 'keep', got {electronic!r}")
    raw, source, blank = read_table(path, sheet=sheet)
    hrow = source.get("header_rows", [1])[-1]
    try:
        m = match_columns(raw.columns)
    except ValueError as exc:
        raise InputError(f"not an ru-cik table: {exc}", file=path, row=hrow) from None
    if m["station"] is None:
        free = [c for c in raw.columns if c not in (m["region"], m["district"])]
        near = next((c for c in free if re.search(r"uik|уик|station|участ", _norm(c))),
                    None) or closest("uik", free) or closest("уик", free)
        hint = f"; closest column: {near!r}" if near else ""
        raise InputError("not an ru-cik table: no 'uik' (station) column" + hint,
                         file=path, row=hrow)
    if not m["options"]:
        raise InputError("not an ru-cik table: no option columns after the protocol lines",
                         file=path, row=hrow)
    notes: dict = {}
    numeric = {c: to_counts(raw[c], file=path, column=c, notes=notes)
               for c in m["protocol"] + m["options"]}
    num = pd.DataFrame(numeric, index=raw.index)

    data = pd.DataFrame(index=raw.index)
    for role in ("region", "district", "station"):
        if m[role] is not None:
            data[role] = raw[m[role]].astype("string").str.strip()
    data["registered"] = num[m["registered"]] if m["registered"] else pd.NA
    data["ballots_issued"] = _rowsum(num[m["issued"]]) if m["issued"] else pd.NA
    data["ballots_cast"] = _rowsum(num[m["cast"]])
    data["invalid"] = num[m["invalid"]] if m["invalid"] else pd.NA
    for c in ("registered", "ballots_issued", "invalid"):
        data[c] = data[c].astype("Int64")
    for c in m["options"]:
        data[c] = num[c]

    values = num.to_numpy(dtype="float64", na_value=np.nan)
    all_empty = np.isnan(values).all(axis=1)
    all_zero = ~all_empty & (np.nan_to_num(values) == 0).all(axis=1)
    excluded = blank + [excluded_frame(
        data, all_empty, "no results published: every protocol line and option is empty")]
    drop = all_empty.copy()
    n_electronic = 0
    if electronic == "exclude":
        names = pd.Series(False, index=data.index)
        for role in ("district", "station"):
            if role in data:
                names |= data[role].str.contains(_ELECTRONIC_NAME, na=False)
        portable = (_rowsum(num[[c for c in m["cast"] if _RULES["portable"].search(_norm(c))]])
                    if m["cast_rule"] == "portable + stationary boxes" else None)
        signature = (data["registered"] > ELECTRONIC_MIN_REGISTERED) & (data["invalid"] == 0)
        if portable is not None:
            signature &= portable == 0
        else:
            signature &= False
        elec = (names | signature.fillna(False)).to_numpy(dtype=bool) & ~drop
        n_electronic = int(elec.sum())
        excluded.append(excluded_frame(
            data, elec, "remote electronic voting pseudo-station (not a polling station)"))
        drop |= elec
    zero = all_zero & ~drop
    excluded.append(excluded_frame(data, zero, "every figure is zero (no voters, no ballots)"))
    drop |= zero

    source.update({"format": "ru-cik", "electronic": electronic,
                   "electronic_excluded": n_electronic,
                   "ballots_cast_from": m["cast_rule"],
                   "matched": {"registered": m["registered"], "ballots_issued": m["issued"],
                               "ballots_cast": m["cast"], "invalid": m["invalid"],
                               "region": m["region"], "district": m["district"],
                               "station": m["station"]}})
    return assemble(data, m["options"], excluded, source, drop_rows=drop, notes=notes)
