"""The 2022 checks run on the other votes held in the same four regions, 2014-2024.

The separatist authorities held votes in 2014 and 2018, and the Russian
authorities regional elections in September 2023 and a presidential
election in March 2024. Their region totals are rows of
``comparison_votes.csv`` (category ``organisers_vote``); the cumulative
turnout announced while the 2023 and 2024 votes ran is
``other_votes/turnout_by_day.csv`` (``Evidence.timelines``). The checks are
the ones the 2022 figures get, where these figures allow them:

* arithmetic (own figures): counts that must add up (yes + no + invalid =
  participants), shares recomputed from counts on every base, turnout
  recomputed from participants and a voter list;
* timeline (own figures): cumulative turnout must not fall from one
  announcement to the next;
* baselines: the voter list implied by participants and turnout against
  the most adults the whole oblast can have had (2021-2022 population
  estimate times the highest voting-age share), for votes held after that
  estimate only (earlier votes had a larger population to draw on).

A figure stated without decimals ('75%') may have been meant as 'about':
when it fails at its last digit but holds as an 'about' figure, the verdict
is inconclusive. Evidence items name the table and row
(``comparison_votes:<row>``, ``turnout_by_day:<row>``) so each finding's
verification status can be traced.
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd

from .base import (APPROX_REL, BASELINE, CONSISTENT, IMPLAUSIBLE, INCONCLUSIVE, INCONSISTENT,
                   OWN, VERIFICATION, Finding, Interval, interval, verification_of)
from .baselines import _recent_population, adult_share_range

_RANK = {"high": 0, "medium": 1, "low": 2}
COMPARABLE_SCOPES = {"total", "unstated"}
STAGE_ORDER = {"early": 0, "main_day": 1, "close": 2, "final": 3}


def organisers_votes(ev) -> pd.DataFrame:
    """Rows of the organisers' other votes in the four regions (row labels kept)."""
    c = ev.comparisons
    return c[(c["category"] == "organisers_vote") & c["region"].isin(ev.region_codes)]


def _decimals(x: float) -> int:
    text = f"{float(x):.10g}"
    return len(text.split(".")[1]) if "." in text else 0


def _pct_interval(low: float, high: float) -> Interval:
    """A stated percentage (or range) as the interval its last digit allows."""
    half = 0.5 * 10.0 ** -max(_decimals(low), _decimals(high))
    return Interval(low - half, high + half)


def _about(low: float, high: float, approx_rel: float) -> Interval:
    return Interval(low * (1 - approx_rel), high * (1 + approx_rel))


def _label(r) -> str:
    return f"{r['vote']} {r['date'].year}"


def _is(x) -> bool:
    return x is not None and not (isinstance(x, float) and math.isnan(x)) and not pd.isna(x)


def counts_add_up(ev) -> list[Finding]:
    """Yes + no + invalid against the participants, where all four are published."""
    out = []
    for i, r in organisers_votes(ev).iterrows():
        if not all(_is(r[k]) for k in ("participants", "yes_votes", "no_votes", "invalid")):
            continue
        total = float(r["yes_votes"]) + float(r["no_votes"]) + float(r["invalid"])
        p = float(r["participants"])
        verdict = CONSISTENT if total == p else INCONSISTENT
        out.append(Finding(
            "counts_add_up_other_votes", r["region"], f"{_label(r)}: yes + no + invalid",
            verdict, total, p, p, "ballots", (f"comparison_votes:{i}",),
            f"{_label(r)}: {r['yes_votes']:,.0f} + {r['no_votes']:,.0f} + {r['invalid']:,.0f} "
            f"= {total:,.0f} against {p:,.0f} participants (difference {total - p:+,.0f})",
            kind=OWN))
    return out


def share_recomputed(ev, *, approx_rel: float = APPROX_REL) -> list[Finding]:
    """The stated leading share recomputed from counts on every base."""
    out = []
    for i, r in organisers_votes(ev).iterrows():
        if not _is(r["yes_votes"]) or not _is(r["yes_pct_low"]):
            continue
        y = float(r["yes_votes"])
        bases = {}
        if _is(r["participants"]):
            bases["participants"] = float(r["participants"])
            if _is(r["invalid"]):
                bases["participants - invalid"] = float(r["participants"]) - float(r["invalid"])
        if _is(r["no_votes"]):
            bases["yes + no"] = y + float(r["no_votes"])
        if not bases:
            continue
        stated = _pct_interval(float(r["yes_pct_low"]), float(r["yes_pct_high"]))
        shares = {k: 100 * y / b for k, b in bases.items()}
        hits = [k for k, v in shares.items() if stated.low <= v <= stated.high]
        about = _about(float(r["yes_pct_low"]), float(r["yes_pct_high"]), approx_rel)
        loose = [k for k, v in shares.items() if about.low <= v <= about.high]
        if hits:
            verdict = CONSISTENT
        elif loose and max(_decimals(r["yes_pct_low"]), _decimals(r["yes_pct_high"])) == 0:
            verdict = INCONCLUSIVE
        else:
            verdict = INCONSISTENT
        best = min(shares.values(), key=lambda v: abs(v - stated.mid))
        out.append(Finding(
            "share_recomputed_other_votes", r["region"], f"{_label(r)}: leading share",
            verdict, best, stated.low, stated.high, "percent", (f"comparison_votes:{i}",),
            f"{_label(r)}: stated {r['yes_pct_high']:g}%; recomputed "
            + ", ".join(f"{v:.2f}% of {k}" for k, v in shares.items())
            + ("" if verdict != INCONCLUSIVE else
               "; only an 'about' reading of the whole-number figure fits"),
            kind=OWN))
    return out


def turnout_recomputed(ev, *, approx_rel: float = APPROX_REL) -> list[Finding]:
    """Participants / voter list against the stated turnout, where both counts exist."""
    out = []
    for i, r in organisers_votes(ev).iterrows():
        if not (_is(r["participants"]) and _is(r["registered"]) and _is(r["turnout_pct_low"])):
            continue
        v = 100 * float(r["participants"]) / float(r["registered"])
        stated = _pct_interval(float(r["turnout_pct_low"]), float(r["turnout_pct_high"]))
        about = _about(float(r["turnout_pct_low"]), float(r["turnout_pct_high"]), approx_rel)
        whole = max(_decimals(r["turnout_pct_low"]), _decimals(r["turnout_pct_high"])) == 0
        if stated.low <= v <= stated.high:
            verdict = CONSISTENT
        elif whole and about.low <= v <= about.high:
            verdict = INCONCLUSIVE
        else:
            verdict = INCONSISTENT
        out.append(Finding(
            "turnout_recomputed_other_votes", r["region"], f"{_label(r)}: turnout",
            verdict, v, stated.low, stated.high, "percent", (f"comparison_votes:{i}",),
            f"{_label(r)}: {r['participants']:,.0f} participants of {r['registered']:,.0f} on "
            f"the list = {v:.2f}% against a stated {r['turnout_pct_high']:g}%"
            + ("; only an 'about' reading of the whole-number figure fits"
               if verdict == INCONCLUSIVE else ""), kind=OWN))
    return out


def _best(rows: pd.DataFrame):
    """The best-verified, then most confident, version of one announcement."""
    key = rows.apply(lambda r: (VERIFICATION.index(verification_of(r)), _RANK[r["confidence"]]),
                     axis=1)
    return rows.loc[key.sort_values(kind="stable").index[0]]


def turnout_points(ev) -> pd.DataFrame:
    """One row per (vote, region, moment): the version the checks use, in time order.

    Only scopes that cover the same stations (``total`` or ``unstated``) are
    kept; turnout counted on a subset of stations is a different quantity.
    A figure stated during the last day without an hour (stage ``close``)
    comes before the final figure of that day, not in its place.
    """
    t = ev.timelines
    if t is None or t.empty:
        return pd.DataFrame(columns=["vote", "region", "as_of", "hour", "row", "versions"])
    t = t[t["scope"].isin(COMPARABLE_SCOPES) & t["region"].isin(ev.region_codes)].copy()
    t["moment"] = t["as_of"].dt.strftime("%Y-%m-%d") + " " + t["hour"].fillna("24:00")
    t["stage_order"] = t["stage"].map(STAGE_ORDER).fillna(len(STAGE_ORDER)).astype(int)
    rows = []
    for (vote, region, moment, _), g in t.groupby(["vote", "region", "moment", "stage_order"],
                                                  sort=True):
        b = _best(g)
        rows.append({**b.to_dict(), "row": b.name, "versions": len(g)})
    return pd.DataFrame(rows)


def turnout_monotonic(ev, *, approx_rel: float = APPROX_REL) -> list[Finding]:
    """Cumulative turnout of the 2023 and 2024 votes must not fall between announcements."""
    pts = turnout_points(ev)
    out = []
    if pts.empty:
        return out
    for (vote, region), g in pts.groupby(["vote", "region"], sort=False):
        g = g.sort_values(["moment", "stage_order"], kind="stable")
        recs = g.to_dict("records")
        for a, b in zip(recs, recs[1:]):
            ia, ib = interval(a, approx_rel=approx_rel), interval(b, approx_rel=approx_rel)
            verdict = INCONSISTENT if ib.high < ia.low else CONSISTENT
            out.append(Finding(
                "turnout_monotonic_other_votes", region,
                f"{vote}: turnout {a['moment']} -> {b['moment']}", verdict,
                float(b["value"]), ia.low, math.inf, "percent",
                (f"turnout_by_day:{a['row']}", f"turnout_by_day:{b['row']}"),
                f"{vote}: {a['value']:g}% ({a['moment']}, {a['stage']}) then {b['value']:g}% "
                f"({b['moment']}, {b['stage']})", kind=OWN))
    return out


def most_adults(ev, region) -> float:
    """The most adults the whole oblast can have had in 2021-2022 (NaN if unknown)."""
    pop, _ = _recent_population(ev, region)
    adult, _ = adult_share_range(ev, region)
    return np.nan if pop is None or adult is None else pop.high * adult.high / 100


def implied_list_vs_adults(ev) -> list[Finding]:
    """The voter list implied by a later vote against the adults the oblast could have.

    Participants are the announced count, or the leading votes divided by the
    leading share (its stated precision allowed for); the list tested is the
    lowest that participants / turnout allows. Only votes after 2021 are
    judged: the population bound is a 2021-2022 estimate.
    """
    out = []
    for i, r in organisers_votes(ev).iterrows():
        if r["date"].year < 2022 or not _is(r["turnout_pct_low"]):
            continue
        turnout = _pct_interval(float(r["turnout_pct_low"]), float(r["turnout_pct_high"]))
        if _is(r["participants"]):
            p = Interval(float(r["participants"]), float(r["participants"]))
            how = f"{r['participants']:,.0f} participants"
        elif _is(r["yes_votes"]) and _is(r["yes_pct_low"]):
            share = _pct_interval(float(r["yes_pct_low"]), float(r["yes_pct_high"]))
            y = float(r["yes_votes"])
            p = Interval(100 * y / share.high, 100 * y / share.low)
            how = f"{y:,.0f} leading votes / {r['yes_pct_high']:g}%"
        else:
            continue
        lst = Interval(100 * p.low / turnout.high, 100 * p.high / turnout.low)
        bound = most_adults(ev, r["region"])
        if math.isnan(bound):
            continue
        verdict = CONSISTENT if lst.low <= bound else IMPLAUSIBLE
        out.append(Finding(
            "implied_list_other_votes", r["region"],
            f"{_label(r)}: implied list vs adults in the whole oblast", verdict, lst.low, 0.0,
            bound, "persons",
            (f"comparison_votes:{i}", "baseline:population_estimate",
             "baseline:under_18_share"),
            f"{_label(r)}: {how} at {r['turnout_pct_high']:g}% turnout imply a list of "
            f"{lst.low:,.0f}-{lst.high:,.0f}, against at most {bound:,.0f} adults in the "
            "whole oblast in 2021-2022", kind=BASELINE))
    return out
