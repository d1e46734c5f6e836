"""Tables behind the figures of the 2022 case study.

Each function turns the evidence (and the audit's findings) into one tidy
table that a plot function draws and the report exports as CSV. All the
arithmetic lives here or in :mod:`audit.referenda.checks`; plots only draw.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from .checks.arithmetic import _rows
from .checks.base import interval, verification_of
from .checks.baselines import (_best, _recent_population, adult_share_range,
                               support_proxies)
from .checks.timeline import READINGS, STAGES, implied_lists

DAY_NUMBER = {"day1": 1, "day2": 2, "day3": 3, "day4": 4, "final": 5}


def announced_summary(ev) -> pd.DataFrame:
    """Final announced figures per region (most reliable report of each)."""
    rows = []
    for region in ev.region_codes:
        row = {"region": region}
        for q in ("participants", "turnout", "yes", "yes_share", "no", "invalid"):
            r = _best(_rows(ev, region, q))
            row[q] = np.nan if r is None else float(r["value"])
            row[f"{q}_source"] = "" if r is None else r["source_url"]
        rows.append(row)
    return pd.DataFrame(rows)


def turnout_timeline(ev) -> pd.DataFrame:
    """Cumulative announced turnout by voting day (day 5 = final).

    Where a day has several versions, the one the checks use (best
    verified, then most confident) comes first and ``used`` marks it, so a
    chart that keeps the first version of each day shows the same figure
    as the tables.
    """
    rows = []
    for region in ev.region_codes:
        for stage in STAGES:
            versions = _rows(ev, region, "turnout", stage, ("total", "unstated"))
            best = _best(versions)
            for r in sorted(versions, key=lambda r: r["id"] != best["id"]):
                rows.append({"region": region, "day": DAY_NUMBER[stage], "stage": stage,
                             "turnout": float(r["value"]), "bound": r["bound"],
                             "confidence": r["confidence"],
                             "verification": verification_of(r), "used": r["id"] == best["id"],
                             "id": r["id"]})
    return pd.DataFrame(rows)


def versions_table(ev) -> pd.DataFrame:
    """Figures published in more than one version, with the one the checks use.

    One row per version of every (region, quantity, stage, scope) whose
    reports disagree.
    """
    a = ev.announcements
    rows = []
    for (region, q, stage, scope), g in a.groupby(["region", "quantity", "stage", "scope"],
                                                  sort=False):
        if g["value"].nunique() < 2:
            continue
        versions = _rows(ev, region, q, stage, scope)
        best = _best(versions)
        for _, r in g.iterrows():
            rows.append({"region": region, "quantity": q, "stage": stage, "scope": scope,
                         "value": float(r["value"]), "verification": verification_of(r),
                         "confidence": r["confidence"],
                         "used": best is not None and float(r["value"]) == float(best["value"]),
                         "source_url": r["source_url"], "id": r["id"]})
    return pd.DataFrame(rows, columns=["region", "quantity", "stage", "scope", "value",
                                       "verification", "confidence", "used", "source_url", "id"])


def implied_electorate_table(ev) -> pd.DataFrame:
    """Voter lists implied by every (participants, turnout) pair, with comparisons.

    ``kind`` is ``implied`` (participants / turnout, with the interval the
    stated precision allows; ``reading`` says which stations the pair is
    taken to cover), ``announced list``, ``adults (whole oblast)``
    (population estimate x voting-age share, as a range) or ``people
    present (all ages)`` (estimates of the population present).
    """
    rows = []
    for region in ev.region_codes:
        seen = set()
        for reading in READINGS:
            for stage, iv, p, t in implied_lists(ev, region, reading):
                key = (p["id"], t["id"])
                if key in seen:
                    continue
                seen.add(key)
                scope = p["scope"] if p["scope"] != "unstated" else t["scope"]
                rows.append({"region": region, "kind": "implied", "stage": stage,
                             "reading": scope, "day": DAY_NUMBER[stage],
                             "value": iv.mid if np.isfinite(iv.high) else iv.low,
                             "low": iv.low, "high": iv.high, "ids": f"{p['id']}; {t['id']}"})
        for r in _rows(ev, region, "voter_list", None, None):
            iv = interval(r)
            rows.append({"region": region, "kind": "announced list", "stage": r["stage"],
                         "reading": r["scope"], "day": np.nan, "value": float(r["value"]),
                         "low": iv.low, "high": iv.high, "ids": r["id"]})
        pop, _ = _recent_population(ev, region)
        adult, _ = adult_share_range(ev, region)
        if pop is not None and adult is not None:
            lo, hi = pop.low * adult.low / 100, pop.high * adult.high / 100
            rows.append({"region": region, "kind": "adults (whole oblast)", "stage": "baseline",
                         "reading": "", "day": np.nan, "value": (lo + hi) / 2, "low": lo,
                         "high": hi, "ids": "baseline:population_estimate; baseline:under_18_share"})
        est = ev.baseline(region, "population_present_estimate")
        if not est.empty:
            rows.append({"region": region, "kind": "people present (all ages)",
                         "stage": "baseline", "reading": "", "day": np.nan,
                         "value": float(est["value"].mean()), "low": float(est["value"].min()),
                         "high": float(est["value"].max()),
                         "ids": "baseline:population_present_estimate"})
    return pd.DataFrame(rows)


def support_baseline_table(ev) -> pd.DataFrame:
    """Announced yes share beside the independent measures, per region."""
    rows = []
    for region in ev.region_codes:
        s = _best(_rows(ev, region, "yes_share"))
        if s is not None:
            rows.append({"region": region, "measure": "announced yes share (2022)",
                         "kind": "announced", "low": float(s["value"]),
                         "high": float(s["value"])})
        for y in _rows(ev, region, "yes")[:1]:
            for p in _rows(ev, region, "participants")[:1]:
                v = 100 * float(y["value"]) / float(p["value"])
                rows.append({"region": region, "measure": "yes / participants (2022 counts)",
                             "kind": "recomputed", "low": v, "high": v})
        for prox in support_proxies(ev, region):
            tag = "" if prox["territory"] == "whole oblast" else " [Ukrainian-held parts only]"
            rows.append({"region": region, "measure": prox["label"] + tag, "kind": prox["kind"],
                         "measures": prox["measures"], "territory": prox["territory"],
                         "low": prox["low"], "high": prox["high"]})
    return pd.DataFrame(rows)


def other_votes_table(ev) -> pd.DataFrame:
    """Turnout and yes share of the comparison votes and of the 2022 votes."""
    c = ev.comparisons.copy()
    c = c[c["category"].isin(["free_referendum", "organisers_vote"])]
    out = pd.DataFrame({
        "label": c["vote"] + " - " + c["unit"], "category": c["category"],
        "date": c["date"].dt.date.astype(str),
        "turnout": (c["turnout_pct_low"] + c["turnout_pct_high"]) / 2,
        "yes": (c["yes_pct_low"] + c["yes_pct_high"]) / 2})
    summary = announced_summary(ev)
    now = pd.DataFrame({"label": "2022 vote - " + summary["region"], "category": "2022 announced",
                        "date": "2022-09-27", "turnout": summary["turnout"],
                        "yes": summary["yes_share"]})
    return pd.concat([out, now], ignore_index=True).dropna(subset=["turnout", "yes"])


def lopsided_free_votes(ev, *, above: float = 90.0) -> pd.DataFrame:
    """Free referendums in the record with yes or turnout above ``above`` percent."""
    c = ev.comparisons
    c = c[(c["category"] == "free_referendum")
          & ((c["yes_pct_high"] > above) | (c["turnout_pct_high"] > above))]
    out = pd.DataFrame({
        "vote": c["vote"], "unit": c["unit"], "year": c["date"].dt.year,
        "turnout_low": c["turnout_pct_low"], "turnout_high": c["turnout_pct_high"],
        "yes_low": c["yes_pct_low"], "yes_high": c["yes_pct_high"], "yes_basis": c["yes_basis"],
        "source_url": c["source_url"], "confidence": c["confidence"],
        "verification": [verification_of(r) for r in c.to_dict("records")]})
    return out.sort_values("year").reset_index(drop=True)


def cross_vote_table(ev) -> pd.DataFrame:
    """The same four territories across the votes the record holds, 2014-2024.

    One row per vote and region: the announced turnout and leading share
    (yes in a referendum, the winner in an election), counts where
    published, each with its source and confidence (and, for 2022, the
    verification status). The same arithmetic as in 2022 is applied where
    the figures allow: participants implied by a winner's votes and share,
    and the voter list implied by participants and turnout. These are
    descriptive: no verdict is given across votes of different kinds.
    """
    rows = []
    c = ev.comparisons
    c = c[(c["category"] == "organisers_vote") & c["region"].isin(ev.region_codes)]
    for _, r in c.iterrows():
        rows.append({"region": r["region"], "date": r["date"].date().isoformat(),
                     "vote": r["vote"], "turnout_low": r["turnout_pct_low"],
                     "turnout_high": r["turnout_pct_high"], "share_low": r["yes_pct_low"],
                     "share_high": r["yes_pct_high"], "share_of": r["yes_basis"],
                     "participants": r["participants"], "leading_votes": r["yes_votes"],
                     "source_url": r["source_url"], "confidence": r["confidence"],
                     "verification": verification_of(r)})
    for region in ev.region_codes:
        t, s = _best(_rows(ev, region, "turnout")), _best(_rows(ev, region, "yes_share"))
        p, y = _best(_rows(ev, region, "participants")), _best(_rows(ev, region, "yes"))
        if t is None and s is None:
            continue
        rows.append({"region": region, "date": "2022-09-27",
                     "vote": "annexation 'referendum' (announced)",
                     "turnout_low": np.nan if t is None else float(t["value"]),
                     "turnout_high": np.nan if t is None else float(t["value"]),
                     "share_low": np.nan if s is None else float(s["value"]),
                     "share_high": np.nan if s is None else float(s["value"]),
                     "share_of": "ballots", "participants": np.nan if p is None else float(p["value"]),
                     "leading_votes": np.nan if y is None else float(y["value"]),
                     "source_url": "; ".join(x["source_url"] for x in (t, s) if x is not None),
                     "confidence": "; ".join(x["confidence"] for x in (t, s) if x is not None),
                     "verification": "; ".join(verification_of(x) for x in (t, s, p, y)
                                               if x is not None)})
    out = pd.DataFrame(rows)
    for col in ("participants", "leading_votes", "turnout_low", "turnout_high", "share_low",
                "share_high"):
        out[col] = pd.to_numeric(out[col], errors="coerce").astype(float)
    share = (out["share_low"] + out["share_high"]) / 2
    turnout = (out["turnout_low"] + out["turnout_high"]) / 2
    implied_p = out["leading_votes"] / (share / 100)
    out["participants_used"] = out["participants"].fillna(implied_p)
    out["participants_basis"] = np.where(out["participants"].notna(), "announced",
                                         np.where(implied_p.notna(), "votes / share", ""))
    out["implied_list"] = out["participants_used"] / (turnout / 100)
    # the 2022 baseline arithmetic: the most adults the whole oblast can have had (2021-2022
    # population estimate x the highest voting-age share), the bound of electorate_capacity
    most = {}
    for region in ev.region_codes:
        pop, _ = _recent_population(ev, region)
        adult, _ = adult_share_range(ev, region)
        most[region] = np.nan if pop is None or adult is None else pop.high * adult.high / 100
    out["most_adults_whole_oblast"] = out["region"].map(most)
    out["implied_list_share_of_most_adults"] = out["implied_list"] / out["most_adults_whole_oblast"]
    order = {r: i for i, r in enumerate(ev.region_codes)}
    out = out.sort_values(["region", "date"], key=lambda s: s.map(order) if s.name == "region"
                          else s).reset_index(drop=True)
    return out


def fmt_range(low: float, high: float) -> str:
    """'98.4%' for a single value, '93.93-98.5%' for a range."""
    return f"{low:g}%" if low == high else f"{low:g}-{high:g}%"


# --- the same territories across votes: turnout during the vote, support by vote -----------

CLOSE_2022 = pd.Timestamp("2022-09-27")


def turnout_curves(ev) -> pd.DataFrame:
    """Cumulative turnout during each multi-day vote, on one time axis.

    ``days_to_close`` is 0 at the end of the last voting day (a figure
    stated at noon of that day is -0.5); the 2022 days 1-5 are -4..0.
    One row per announcement the checks use (for 2022 the version marked
    ``used``; for 2023-2024 the best-verified version at each moment, over
    stations in and outside the region, see
    :func:`audit.referenda.checks.crossvote.turnout_points`).
    """
    from .checks.crossvote import turnout_points

    cols = ["vote", "region", "year", "days_to_close", "turnout", "bound", "stage",
            "verification", "confidence", "source_url"]
    rows = []
    t22 = turnout_timeline(ev)
    if len(t22):
        a = ev.announcements.set_index("id")
        for r in t22[t22["used"]].itertuples():
            rows.append({"vote": "annexation 'referendum' 2022", "region": r.region,
                         "year": 2022, "days_to_close": float(r.day - 5), "turnout": r.turnout,
                         "bound": r.bound, "stage": r.stage, "verification": r.verification,
                         "confidence": r.confidence, "source_url": a.loc[r.id, "source_url"]})
    for r in turnout_points(ev).to_dict("records"):
        hour = r["hour"] if isinstance(r["hour"], str) and r["hour"] else "24:00"
        hh, mm = (int(x) for x in hour.split(":"))
        days = (r["as_of"] - r["close_date"]).days + (hh + mm / 60) / 24 - 1
        rows.append({"vote": r["vote"], "region": r["region"], "year": r["as_of"].year,
                     "days_to_close": round(days, 4), "turnout": float(r["value"]),
                     "bound": r["bound"], "stage": r["stage"],
                     "verification": verification_of(r), "confidence": r["confidence"],
                     "source_url": r["source_url"]})
    out = pd.DataFrame(rows, columns=cols)
    order = {r: i for i, r in enumerate(ev.region_codes)}
    return out.sort_values(["region", "year", "days_to_close"], kind="stable",
                           key=lambda s: s.map(order) if s.name == "region" else s
                           ).reset_index(drop=True)


def support_by_vote(ev) -> pd.DataFrame:
    """Leading share (yes, or the winner) vote by vote in each region, 2014-2024.

    The rows of :func:`cross_vote_table` that state a share, with their
    source, confidence and verification; ``kind`` says whether the vote was
    a referendum or an election (a winner's share is not a yes share).
    """
    t = cross_vote_table(ev).dropna(subset=["share_high"]).copy()
    t["year"] = t["date"].str[:4].astype(int)
    t["kind"] = np.where(t["vote"].str.contains("referendum", case=False), "referendum",
                         "election")
    return t[["region", "date", "year", "vote", "kind", "share_low", "share_high", "share_of",
              "source_url", "confidence", "verification"]].reset_index(drop=True)


# --- the same four regions in 2022, 2023 and 2024, one row per region and vote ------------

LATER_VOTES = ((2022, "annexation 'referendum'"), (2023, "Russian regional elections"),
               (2024, "Russian presidential election"))
_BOUND_WORD = {"exact": "", "lower": "more than ", "upper": "at most ", "approximate": "about "}


def _pick(rows: list):
    """Best verified, then most confident; ties go to the row listed first."""
    return _best(rows) if rows else None


def _figure(prefix: str, r, value, bound="exact", stage="final") -> dict:
    if r is None:
        return {f"{prefix}": np.nan, f"{prefix}_as_stated": "not found on a stored page",
                f"{prefix}_stage": "", f"{prefix}_source": "", f"{prefix}_confidence": "",
                f"{prefix}_verification": "not found"}
    return {f"{prefix}": float(value), f"{prefix}_as_stated": f"{_BOUND_WORD[bound]}{value:g}%",
            f"{prefix}_stage": stage, f"{prefix}_source": r["source_url"],
            f"{prefix}_confidence": r["confidence"], f"{prefix}_verification": verification_of(r)}


def cross_vote_summary(ev) -> pd.DataFrame:
    """Turnout and leading share in each region for 2022, 2023 and 2024, with sources.

    One row per region and vote. 2022: the announced final figures the
    checks use. 2023 and 2024: the final turnout of
    ``other_votes/turnout_by_day.csv`` (the last figure of the series, over
    stations in and outside the region), else a turnout row of
    ``comparison_votes.csv``; the leading share from ``comparison_votes.csv``.
    Each figure keeps its URL, confidence and verification; a figure found
    on no stored page says so. ``other_versions`` lists the other values
    reported for the same figure. ``participants`` and ``implied_list`` are
    derived (leading votes / share, participants / turnout), never announced.
    """
    from .checks.crossvote import organisers_votes, turnout_points

    pts = turnout_points(ev)
    org = organisers_votes(ev)
    rows = []
    for region in ev.region_codes:
        for year, vote in LATER_VOTES:
            row = {"region": region, "year": year, "vote": vote}
            others: list[str] = []
            if year == 2022:
                t, s = _pick(_rows(ev, region, "turnout")), _pick(_rows(ev, region, "yes_share"))
                row |= _figure("turnout", t, None if t is None else float(t["value"]),
                               "exact" if t is None else t["bound"])
                row |= _figure("share", s, None if s is None else float(s["value"]),
                               "exact" if s is None else s["bound"])
                p = _pick(_rows(ev, region, "participants"))
                for q, chosen in (("turnout", t), ("yes_share", s)):
                    others += [f"{q} {v:g}%" for v in ev.announced(region, q, "final")["value"]
                               if chosen is not None and v != float(chosen["value"])]
                row["participants"] = np.nan if p is None else float(p["value"])
                row["participants_basis"] = "" if p is None else "announced"
            else:
                o = org[org["date"].dt.year == year]
                o = o[o["region"] == region]
                fin = pts[(pts["region"] == region) & (pts["stage"] == "final")
                          & (pts["close_date"].dt.year == year)] if len(pts) else pts
                if len(fin):
                    t = fin.iloc[-1]
                    row |= _figure("turnout", t, float(t["value"]), t["bound"], "final")
                else:
                    tc = _pick([r for _, r in o.dropna(subset=["turnout_pct_high"]).iterrows()])
                    row |= _figure("turnout", tc, None if tc is None else tc["turnout_pct_high"],
                                   stage="stated")
                sc = _pick([r for _, r in o.dropna(subset=["yes_pct_high"]).iterrows()])
                row |= _figure("share", sc, None if sc is None else sc["yes_pct_high"])
                seen_t, seen_s = {row["turnout"]}, {row["share"]}
                tl = ev.timelines
                if tl is not None and len(tl):
                    tl = tl[(tl["region"] == region) & (tl["close_date"].dt.year == year)
                            & (tl["stage"] == "final")]
                    others += [f"turnout {v:g}%" for v in tl["value"] if v not in seen_t]
                others += [f"turnout {v:g}%" for v in o["turnout_pct_high"].dropna()
                           if v not in seen_t]
                others += [f"share {v:g}%" for v in o["yes_pct_high"].dropna() if v not in seen_s]
                y = o.dropna(subset=["yes_votes", "yes_pct_high"])
                if len(y) and not np.isnan(row["share"]):
                    r = y.iloc[0]
                    row["participants"] = float(r["yes_votes"]) / (float(r["yes_pct_high"]) / 100)
                    row["participants_basis"] = "derived: leading votes / share"
                else:
                    row["participants"], row["participants_basis"] = np.nan, ""
            row["other_versions"] = "; ".join(dict.fromkeys(others))
            row["implied_list"] = row["participants"] / (row["turnout"] / 100) \
                if not np.isnan(row["turnout"]) else np.nan
            rows.append(row)
    return pd.DataFrame(rows)
