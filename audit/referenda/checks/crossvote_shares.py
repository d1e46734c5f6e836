"""Checks across votes on whole sets of shares: every option of one announcement.

``other_votes/shares_by_option.csv`` (``Evidence.options``) holds, for the
DPR and LPR votes of 11 November 2018 and the 2023 and 2024 votes in the
four regions, every share announced at one moment of the count: each
candidate or list, and the invalid share where given.
Rows of one announcement share a ``set_id``. Three pieces of arithmetic
apply, all on the announcer's own figures (kind ``own figures``):

* the shares of one set must not add up to more than 100% (each share
  allowed its stated rounding); a set that names every option and the
  invalid share (``complete``) must add up to 100% within that rounding;
* where votes are published, one ballot total must fit every option's
  votes and share at once (and the invalid share, for a complete set);
* a share announced after a fraction ``c`` of the ballots was processed
  and the final share ``F`` leave ``(F - c s) / (1 - c)`` for the ballots
  still to count, which must lie between 0 and 100% (the identity of
  :func:`audit.referenda.checks.timeline.partial_counts`, per option).

Evidence items name the rows (``shares_by_option:<row>``) so each finding's
verification status can be traced.
"""

from __future__ import annotations

import pandas as pd

from ...core.errors import InputError
from .base import CONSISTENT, INCONSISTENT, OWN, VERIFICATION, Finding, Interval, verification_of

_RANK = {"high": 0, "medium": 1, "low": 2}
_EPS = 1e-9


SET_FIELDS = ("vote", "region", "date", "as_of", "counted_pct", "counted_basis", "stage",
              "complete")
TABLE = "data/other_votes/shares_by_option.csv"


def option_sets(ev) -> list[tuple[str, pd.DataFrame]]:
    """(set_id, rows) for every announced set in the four regions, in file order.

    Raises :class:`InputError` naming the row and column when the rows of
    one set disagree on what the set is (vote, moment, share counted, ...),
    or name one option twice.
    """
    o = ev.options
    if o is None or o.empty:
        return []
    for sid, g in o.groupby("set_id", sort=False):
        for col in SET_FIELDS:
            if g[col].nunique(dropna=False) > 1:
                bad = g.index[g[col] != g[col].iloc[0]][0]
                raise InputError(f"set {sid!r}: {col} differs from the set's first row",
                                 file=TABLE, row=int(bad) + 2, column=col)
        dup = g["option"].duplicated()
        if dup.any():
            raise InputError(f"set {sid!r}: option {g['option'][dup].iloc[0]!r} named twice",
                             file=TABLE, row=int(g.index[dup][0]) + 2, column="option")
    o = o[o["region"].isin(ev.region_codes)]
    return list(o.groupby("set_id", sort=False))


def _share(r) -> Interval:
    half = float(r["resolution"]) / 2
    return Interval(max(float(r["share"]) - half, 0.0), float(r["share"]) + half)


def _evidence(*groups) -> tuple[str, ...]:
    return tuple(f"shares_by_option:{i}" for g in groups for i in g.index)


def _head(g) -> str:
    r = g.iloc[0]
    when = "final" if r["stage"] == "final" and float(r["counted_pct"]) == 100 else \
        f"after {float(r['counted_pct']):g}% of {r['counted_basis']}"
    return f"{r['vote']} {r['date'].year} ({when}, {r['as_of'].date().isoformat()})"


def _listing(g) -> str:
    return ", ".join(f"{o} {s:g}%" for o, s in zip(g["option"], g["share"]))


def shares_add_up(ev) -> list[Finding]:
    """The shares of one announced set against 100% (sets of two options or more)."""
    out = []
    for _, g in option_sets(ev):
        if len(g) < 2:
            continue
        low = sum(_share(r).low for _, r in g.iterrows())
        high = sum(_share(r).high for _, r in g.iterrows())
        total = float(g["share"].sum())
        complete = bool(g["complete"].iloc[0])
        if low > 100 + _EPS:
            verdict, why = INCONSISTENT, f"more than 100% even at the low end of their rounding " \
                                         f"({low:.2f}%)"
        elif complete and high < 100 - _EPS:
            verdict, why = INCONSISTENT, f"the set names every option and the invalid share, yet " \
                                         f"reaches at most {high:.2f}%"
        else:
            verdict = CONSISTENT
            why = ("within rounding of 100%" if complete else
                   "no more than 100% (the set does not name every option and the invalid share, "
                   "so it may fall short)")
        out.append(Finding(
            "shares_add_up_other_votes", g["region"].iloc[0], f"{_head(g)}: shares add up",
            verdict, total, 100.0 if complete else 0.0, 100.0, "percent", _evidence(g),
            f"{_head(g)}: {_listing(g)} add up to {total:.2f}%: {why}", kind=OWN))
    return out


def votes_match_shares(ev) -> list[Finding]:
    """One ballot total must fit every published count and its share."""
    out = []
    for _, g in option_sets(ev):
        counted = g[g["votes"].notna()]
        fits = {}
        for _, r in counted.iterrows():
            s = _share(r)
            if s.low <= 0:
                continue
            fits[r["option"]] = Interval(100 * float(r["votes"]) / s.high,
                                         100 * float(r["votes"]) / s.low)
        valid = g[g["option"] != "invalid"]
        inv = g[g["option"] == "invalid"]
        if bool(g["complete"].iloc[0]) and len(inv) == 1 and valid["votes"].notna().all():
            total, s = float(valid["votes"].sum()), _share(inv.iloc[0])
            fits["valid votes + invalid share"] = Interval(100 * total / (100 - s.low),
                                                           100 * total / (100 - s.high))
        if len(fits) < 2:
            continue
        lo, hi = max(f.low for f in fits.values()), min(f.high for f in fits.values())
        verdict = CONSISTENT if lo <= hi else INCONSISTENT
        parts = "; ".join(f"{k} needs {v.low:,.0f}-{v.high:,.0f}" for k, v in fits.items())
        out.append(Finding(
            "votes_match_shares_other_votes", g["region"].iloc[0],
            f"{_head(g)}: votes against shares", verdict, lo, lo, hi, "ballots", _evidence(g),
            f"{_head(g)}: ballot total that fits each published count and its share: {parts}; "
            + (f"all fit {lo:,.0f}-{hi:,.0f} ballots" if verdict == CONSISTENT
               else "no single total fits them all"), kind=OWN))
    return out


def _set_rank(g) -> tuple:
    worst = max(VERIFICATION.index(verification_of(r)) for r in g.to_dict("records"))
    conf = max(_RANK[c] for c in g["confidence"])
    return worst, conf, -g["as_of"].max().value


def partial_to_final(ev) -> list[Finding]:
    """Each option's share during the count against its final share."""
    sets = option_sets(ev)
    out = []
    for _, g in sets:
        r0 = g.iloc[0]
        if r0["stage"] != "partial":
            continue
        finals = [f for _, f in sets if f["stage"].iloc[0] == "final"
                  and f["vote"].iloc[0] == r0["vote"] and f["region"].iloc[0] == r0["region"]
                  and f["date"].iloc[0] == r0["date"]]
        if not finals:
            continue
        final = min(finals, key=_set_rank)
        cp = float(r0["counted_pct"])
        digits = len(f"{cp:.10g}".split(".")[1]) if "." in f"{cp:.10g}" else 0
        half = 0.5 * 10.0 ** -digits
        c = Interval((cp - half) / 100, min(cp + half, 99.999) / 100)
        fshare = dict(zip(final["option"], (_share(r) for _, r in final.iterrows())))
        bad, highs = [], []
        for _, r in g.iterrows():
            if r["option"] not in fshare:
                continue
            s, f = _share(r), fshare[r["option"]]
            rest = Interval(min((f.low - cc * s.high) / (1 - cc) for cc in (c.low, c.high)),
                            max((f.high - cc * s.low) / (1 - cc) for cc in (c.low, c.high)))
            highs.append(rest.high)
            if rest.high < 0 or rest.low > 100:
                bad.append(f"{r['option']} {r['share']:g}% then {fshare[r['option']].mid:g}% "
                           f"final needs {rest.low:.1f} to {rest.high:.1f}% of the ballots still "
                           "to count")
        if not highs:
            continue
        basis = r0["counted_basis"]
        caveat = "" if basis == "ballots" else (
            f" (the share processed is a share of {basis}, so ballots counted may differ)")
        out.append(Finding(
            "partial_to_final_other_votes", r0["region"],
            f"{_head(g)}: shares during the count against the final", INCONSISTENT if bad
            else CONSISTENT, min(highs), 0.0, 100.0, "percent", _evidence(g, final),
            f"{_head(g)}: {_listing(g)}; final {_listing(final)} ({_head(final)}): "
            + ("; ".join(bad) + ", which no share can be" if bad
               else "every option's share of the ballots still to count lies within 0-100%")
            + caveat, kind=OWN))
    return out
