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


def adult_share_range(ev, region) -> tuple[Interval | None, list[str]]:
    """Voting-age (18+) share of the population, as a range, with its basis.

    No source states the share directly, so it is derived from what was
    published: the national share of children (``under_18_share``, and
    ``population_aged_0_17`` over ``population_total_for_age_share``) gives
    the national adult share; an oblast's share of children under 16
    (``under_16_share``) caps that oblast's adult share from above, since
    under-18s are at least as many as under-16s. Oblasts without their own
    figure get the most generous cap known for any oblast, because the
    eastern oblasts are older than the national average.
    """
    b = ev.baselines
    nat = b[b["unit"] == "Ukraine"]
    values, basis = [], []
    for _, r in nat[nat["quantity"] == "under_18_share"].iterrows():
        values += [100 - float(r["value"]) - 0.5, 100 - float(r["value"]) + 0.5]
        basis.append(f"under-18 share {r['value']:g}% ({r['reference_date']:%Y})")
    kids = nat[nat["quantity"] == "population_aged_0_17"]
    tot = nat[nat["quantity"] == "population_total_for_age_share"]
    for (_, k), (_, t) in zip(kids.iterrows(), tot.iterrows()):
        values.append(100 * (1 - float(k["value"]) / float(t["value"])))
        basis.append(f"{k['value']:,.0f} aged 0-17 of {t['value']:,.0f}")
    if not values:
        return None, []
    low, high = min(values), max(values)
    caps = b[b["quantity"] == "under_16_share"]
    own = caps[caps["region"] == region]
    pool = own if not own.empty else caps
    for _, r in pool.iterrows():
        high = max(high, 100 - float(r["value"]))
        basis.append(f"under-16 share {r['value']:g}% in {r['unit']} caps the adult share at "
                     f"{100 - float(r['value']):.1f}%")
    return Interval(low, high), basis


def _recent_population(ev, region):
    rows = ev.baseline(region, "population_estimate")
    rows = rows[rows["reference_date"] >= pd.Timestamp("2021-01-01")]
    if rows.empty:
        return None, rows
    return Interval(float(rows["value"].min()), float(rows["value"].max())), rows


def electorate_capacity(ev) -> list[Finding]:
    """Implied voter list against the adults who could be on it.

    Bounds (each a range over sources):

    * whole oblast: population estimate (2021-2022) x voting-age share. An
      upper bound: it counts the whole oblast, areas never occupied included,
      and everyone who has left since the estimate.
    * part held: the same times the share of territory held, a rough
      proportional estimate (population is not spread like area).

    Verdict: implausible when even the lowest implied list exceeds the
    highest whole-oblast bound; unusual when it exceeds the highest
    part-held estimate; consistent otherwise. Participants voting in Russia
    are counted, since they came from the same oblast.
    """
    findings = []
    for region in ev.region_codes:
        pop, _ = _recent_population(ev, region)
        adult, adult_basis = adult_share_range(ev, region)
        held, _ = baseline_range(ev, region, "share_territory_russian_controlled",
                                 fallback_unit=None)
        if pop is None or adult is None:
            findings.append(Finding(
                "electorate_capacity", region, "implied list vs adults in the oblast",
                NOT_CHECKABLE, np.nan, np.nan, np.nan, "persons", (),
                "no 2021-2022 population estimate or no basis for a voting-age share"))
            continue
        whole = Interval(pop.low * adult.low / 100, pop.high * adult.high / 100)
        occ = None if held is None else Interval(whole.low * held.low / 100,
                                                 whole.high * held.high / 100)
        p = _best(_rows(ev, region, "participants"))
        t = _best(_rows(ev, region, "turnout"))
        ids = ("baseline:population_estimate", "baseline:under_18_share",
               "baseline:under_16_share", "baseline:share_territory_russian_controlled")
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
                f"of the voting-age population of the whole oblast ({whole.fmt()}: population "
                f"{pop.fmt()} x adult share {adult.low:.1f}-{adult.high:.1f}%)")
        if occ is not None:
            text += (f" and {implied.mid / occ.high:.0%}-{implied.mid / occ.low:.0%} of an "
                     f"area-proportional estimate for the part held ({occ.fmt()})")
        findings.append(Finding(
            "electorate_capacity", region, "implied list vs adults in the oblast", verdict,
            implied.mid, 0.0, whole.high, "persons", (p["id"], t["id"]) + ids, text,
            numbers={"whole_low": whole.low, "whole_high": whole.high,
                     "held_low": None if occ is None else occ.low,
                     "held_high": None if occ is None else occ.high,
                     "adult_basis": adult_basis}))
    return findings


def _outside_participants_high(ev, region):
    """Largest number of participants at stations outside, or None if unknown.

    From an announced count of participants outside, else from the outside
    yes count and yes share. A 'more than X thousand' count is read as
    fewer than X + 1 thousand.
    """
    rows = _rows(ev, region, "participants", "final", "outside")
    if rows:
        return interval(rows[0]).high, [rows[0]["id"]]
    ys = _rows(ev, region, "yes", "final", "outside")
    ss = _rows(ev, region, "yes_share", "final", "outside")
    if ys and ss:
        y = ys[0]
        y_high = float(y["value"]) + float(y["resolution"]) if y["bound"] == "lower" \
            else interval(y).high
        return y_high / (interval(ss[0]).low / 100), [y["id"], ss[0]["id"]]
    return None, []


def present_population(ev) -> list[Finding]:
    """Participants voting in the territory against the people estimated to be there.

    Estimates of the population present in the occupied part (all ages,
    children included) are compared with the participants who voted there
    (total minus the most that can have voted at stations outside). Since
    the estimate counts children and the comparison uses the highest
    estimate, exceeding it is called implausible. The estimates come from
    one side of the conflict and are dated; the explanation gives both.
    """
    findings = []
    for region in ev.region_codes:
        est = ev.baseline(region, "population_present_estimate")
        p = _best(_rows(ev, region, "participants"))
        if est.empty or p is None:
            findings.append(Finding(
                "present_population", region, "participants in the territory vs people present",
                NOT_CHECKABLE, np.nan, np.nan, np.nan, "persons", (),
                "no estimate of the population present" if est.empty else "no participant count"))
            continue
        out_high, out_ids = _outside_participants_high(ev, region)
        inside = interval(p).low - (out_high or 0.0)
        top = est.loc[est["value"].idxmax()]
        verdict = IMPLAUSIBLE if inside > float(top["value"]) else CONSISTENT
        text = (f"at least {inside:,.0f} voted in the territory ({p['value']:,.0f} participants"
                + (f" minus at most {out_high:,.0f} at stations outside" if out_high else
                   ", none known outside") + f"), {inside / float(top['value']):.0%} of the "
                f"highest estimate of people present of all ages ({top['value']:,.0f}, "
                f"{top['reference_date']:%d %b %Y}, {top['source_url']})")
        findings.append(Finding(
            "present_population", region, "participants in the territory vs people present",
            verdict, inside, 0.0, float(top["value"]), "persons",
            (p["id"], *out_ids, "baseline:population_present_estimate"), text,
            numbers={"outside_high": out_high}))
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
        refs = org[org["vote"].str.contains("referendum")]
        oy = refs["yes_pct_low"].min(), refs["yes_pct_high"].max()
        text = (f"turnout {t['value']:g}% and yes {s['value']:g}% against at most {ft:g}% and "
                f"{fy:g}% in {len(free)} free-referendum results; the organisers' earlier votes ran "
                f"{ot[0]:g}-{ot[1]:g}% turnout, and their referendums {oy[0]:g}-{oy[1]:g}% yes")
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
