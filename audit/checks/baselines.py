"""Announced figures against independent baselines and other votes.

Baselines are carried as ranges: where several sources or several
reference dates give a figure, the lowest and highest values bound it, so
the uncertainty shows in every verdict.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from .arithmetic import _rows
from .base import (CONSISTENT, IMPLAUSIBLE, NOT_CHECKABLE, UNUSUAL, Finding, Interval,
                   interval)

POLITICAL_PROXIES = {
    "support_joining_russia_poll": "support for joining Russia in an independent 2014 poll",
    "pro_russian_vote_share": "2019 vote for the main pro-Russian party",
}
DEMOGRAPHIC_CONTEXT = ("ethnic_russian_share", "russian_native_language_share")
_RANK = {"high": 0, "medium": 1, "low": 2}


def _best(rows):
    """The most reliable of several reports (first on ties)."""
    return min(rows, key=lambda r: _RANK[r["confidence"]]) if rows else None


def baseline_range(ev, region, quantity, *, fallback_unit="Ukraine"):
    """(Interval, rows) over every source of ``quantity`` for ``region``.

    Falls back on the national figure (``unit == fallback_unit``) when the
    region has none. Returns ``(None, empty)`` if there is no figure at all.
    """
    rows = ev.baseline(region, quantity)
    if rows.empty and fallback_unit:
        b = ev.baselines
        rows = b[(b["unit"] == fallback_unit) & (b["quantity"] == quantity)]
    if rows.empty:
        return None, rows
    return Interval(float(rows["value"].min()), float(rows["value"].max())), rows


def electorate_capacity(ev) -> list[Finding]:
    """Participants and implied voter list against the adults who could vote.

    Bounds (each a range over sources):

    * whole oblast: population estimate x voting-age share. An upper bound:
      it counts the whole oblast, including areas never occupied, and
      everyone who has left since the estimate.
    * occupied area: the same times the share of territory held, a rough
      proportional estimate (population is not spread like area).

    Verdict: implausible when even the lowest implied list exceeds the
    highest whole-oblast bound; unusual when it exceeds the highest
    occupied-area estimate; consistent otherwise. Participants voting in
    Russia are counted, since they came from the same oblast.
    """
    findings = []
    for region in ev.region_codes:
        pop, pop_rows = baseline_range(ev, region, "population_estimate", fallback_unit=None)
        adult, adult_rows = baseline_range(ev, region, "adult_share")
        held, held_rows = baseline_range(ev, region, "share_territory_russian_controlled",
                                         fallback_unit=None)
        if pop is None or adult is None:
            findings.append(Finding(
                "electorate_capacity", region, "implied list vs adults in the oblast",
                NOT_CHECKABLE, np.nan, np.nan, np.nan, "persons", (),
                "no population estimate or no voting-age share in the baselines"))
            continue
        whole = Interval(pop.low * adult.low / 100, pop.high * adult.high / 100)
        occ = None if held is None else Interval(whole.low * held.low / 100,
                                                 whole.high * held.high / 100)
        p = _best(_rows(ev, region, "participants"))
        t = _best(_rows(ev, region, "turnout"))
        ids = tuple(f"baseline:{q}" for q in ("population_estimate", "adult_share",
                                              "share_territory_russian_controlled"))
        if p is None or t is None:
            findings.append(Finding(
                "electorate_capacity", region, "implied list vs adults in the oblast",
                NOT_CHECKABLE, np.nan, whole.low, whole.high, "persons", ids,
                "no final participants or turnout announced"))
            continue
        implied = interval(p) / interval(t).scale(0.01)
        if implied.low > whole.high:
            verdict = IMPLAUSIBLE
        elif occ is not None and implied.low > occ.high:
            verdict = UNUSUAL
        else:
            verdict = CONSISTENT
        text = (f"implied list {implied.mid:,.0f} ({p['value']:,.0f} participants at "
                f"{t['value']:g}%) is {implied.mid / whole.high:.0%}-{implied.mid / whole.low:.0%} "
                f"of the voting-age population of the whole oblast ({whole.fmt()})")
        if occ is not None:
            text += (f" and {implied.mid / occ.high:.0%}-{implied.mid / occ.low:.0%} of an "
                     f"area-proportional estimate for the part held ({occ.fmt()})")
        text += (f"; participants alone are {p['value'] / whole.high:.0%}-"
                 f"{p['value'] / whole.low:.0%} of the whole oblast's adults")
        findings.append(Finding(
            "electorate_capacity", region, "implied list vs adults in the oblast", verdict,
            implied.mid, 0.0, whole.high, "persons", (p["id"], t["id"]) + ids, text,
            numbers={"whole_low": whole.low, "whole_high": whole.high,
                     "held_low": None if occ is None else occ.low,
                     "held_high": None if occ is None else occ.high,
                     "participants": float(p["value"])}))
    return findings


def _independence_no_share(ev, region):
    """Share voting against independence in 1991 (of ballots), as an interval."""
    c = ev.comparisons
    rows = c[(c["region"] == region) & c["vote"].str.startswith("Ukrainian independence")]
    if rows.empty:
        return None, None
    r = rows.iloc[0]
    if not pd.isna(r["no_votes"]) and not pd.isna(r["participants"]):
        v = 100 * float(r["no_votes"]) / float(r["participants"])
        return Interval(v, v), r
    # only the yes share: 'no' is at most the rest
    return Interval(0.0, 100 - float(r["yes_pct_low"])), r


def support_proxies(ev, region) -> list[dict]:
    """Independent measures of pro-Russian orientation for one region."""
    out = []
    for q, label in POLITICAL_PROXIES.items():
        rng, rows = baseline_range(ev, region, q, fallback_unit=None)
        if rng is not None:
            out.append({"proxy": q, "label": label, "low": rng.low, "high": rng.high,
                        "kind": "political", "date": str(rows["reference_date"].max().date())})
    no91, row = _independence_no_share(ev, region)
    if no91 is not None:
        out.append({"proxy": "independence_no_1991", "label": "1991 vote against Ukrainian independence",
                    "low": no91.low, "high": no91.high, "kind": "political", "date": "1991-12-01"})
    for q in DEMOGRAPHIC_CONTEXT:
        rng, rows = baseline_range(ev, region, q, fallback_unit=None)
        if rng is not None:
            out.append({"proxy": q, "label": q.replace("_", " "), "low": rng.low, "high": rng.high,
                        "kind": "demographic", "date": str(rows["reference_date"].max().date())})
    return out


def support_vs_baselines(ev, *, max_swing: float = 25.0) -> list[Finding]:
    """Announced yes share against independent political measures.

    The most generous political proxy (the highest of: 2014 poll support
    for joining Russia, 2019 pro-Russian party vote, 1991 vote against
    independence) gives the baseline. The swing needed to reach the
    announced share is reported; above ``max_swing`` points (a parameter,
    25 by default: a quarter of the electorate changing sides against every
    independent measure) the share is called implausible. Ethnic and
    linguistic shares are shown as context only: they are not votes.
    """
    findings = []
    for region in ev.region_codes:
        s = _best(_rows(ev, region, "yes_share"))
        proxies = [p for p in support_proxies(ev, region) if p["kind"] == "political"]
        if s is None or not proxies:
            findings.append(Finding(
                "support_vs_baselines", region, "yes share vs independent measures",
                NOT_CHECKABLE, np.nan, np.nan, np.nan, "percent", (),
                "no announced share or no independent political measure"))
            continue
        top = max(proxies, key=lambda p: p["high"])
        swing = float(s["value"]) - top["high"]
        verdict = IMPLAUSIBLE if swing > max_swing else CONSISTENT
        text = (f"announced {s['value']:g}% against at most {top['high']:.1f}% ({top['label']}); "
                f"a swing of {swing:.1f} points beyond the most generous measure"
                + ("" if verdict == CONSISTENT else f" (threshold {max_swing:g})")
                + "; others: " + ", ".join(f"{p['label']} {p['high']:.1f}%" for p in proxies
                                           if p is not top))
        findings.append(Finding(
            "support_vs_baselines", region, "yes share vs independent measures", verdict,
            float(s["value"]), 0.0, top["high"] + max_swing, "percent",
            (s["id"],) + tuple(f"baseline:{p['proxy']}" for p in proxies), text,
            numbers={"swing": swing, "max_swing": max_swing, "top_proxy": top["proxy"]}))
    return findings


def compare_with_other_votes(ev) -> list[Finding]:
    """Announced turnout and yes share against free referendums and the organisers' votes.

    Unusual when both exceed every free referendum in the comparison set;
    the explanation also says where they fall among the organisers' own
    earlier votes.
    """
    c = ev.comparisons
    free = c[c["category"] == "free_referendum"]
    org = c[c["category"] == "organisers_vote"]
    findings = []
    for region in ev.region_codes:
        s, t = _best(_rows(ev, region, "yes_share")), _best(_rows(ev, region, "turnout"))
        if s is None or t is None:
            continue
        ft, fy = free["turnout_pct_high"].max(), free["yes_pct_high"].max()
        above = float(t["value"]) > ft and float(s["value"]) > fy
        ot = org["turnout_pct_low"].min(), org["turnout_pct_high"].max()
        oy = org["yes_pct_low"].min(), org["yes_pct_high"].max()
        text = (f"turnout {t['value']:g}% and yes {s['value']:g}% against at most {ft:g}% and "
                f"{fy:g}% in {len(free)} free-referendum results; the organisers' earlier votes ran "
                f"{ot[0]:g}-{ot[1]:g}% turnout and {oy[0]:g}-{oy[1]:g}% support")
        findings.append(Finding(
            "compare_with_other_votes", region, "turnout and yes share vs other votes",
            UNUSUAL if above else CONSISTENT, float(s["value"]), 0.0, float(fy), "percent",
            (s["id"], t["id"]), text,
            numbers={"free_turnout_max": float(ft), "free_yes_max": float(fy)}))
    return findings


def turnout_level(ev) -> list[Finding]:
    """Is announced turnout 'high'? Above the median of the free referendums."""
    c = ev.comparisons
    free = c[c["category"] == "free_referendum"]["turnout_pct_high"].dropna()
    med = float(free.median())
    out = []
    for region in ev.region_codes:
        t = _best(_rows(ev, region, "turnout"))
        if t is None:
            continue
        high = float(t["value"]) > med
        out.append(Finding(
            "turnout_level", region, "announced turnout vs free referendums",
            CONSISTENT if high else UNUSUAL, float(t["value"]), med, 100.0, "percent", (t["id"],),
            f"announced {t['value']:g}% against a median of {med:.1f}% in {len(free)} "
            f"free-referendum results"))
    return out
