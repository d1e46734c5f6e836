"""Announced figures against independent baselines and other votes.

Baselines are carried as ranges: where several sources or several
reference dates give a figure, the lowest and highest values bound it, so
the uncertainty shows in every verdict.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from .arithmetic import _rows
from .base import (APPROX_REL, BASELINE, COMPARISON, CONSISTENT, IMPLAUSIBLE, NOT_CHECKABLE,
                   UNUSUAL, VERIFICATION, Finding, Interval, interval, verification_of)

# quantity -> (label, what it measures, territory it covers)
POLITICAL_PROXIES = {
    "support_joining_russia_poll": (
        "support for joining Russia, KIIS poll, April 2014", "support for joining Russia",
        "whole oblast"),
    "pro_russian_runoff_2010": (
        "Yanukovych in the 2010 presidential run-off", "vote for the pro-Russian candidate",
        "whole oblast"),
    "pro_russian_party_2012": (
        "Party of Regions, 2012 parliamentary list vote", "vote for a pro-Russian party",
        "whole oblast"),
    "pro_russian_vote_share": (
        "Opposition Platform - For Life, 2019 parliamentary vote",
        "vote for a pro-Russian party",
        "parts under Ukrainian control only (no vote was held in the parts held since 2014)"),
}
DEMOGRAPHIC_CONTEXT = ("ethnic_russian_share", "russian_native_language_share")
_RANK = {"high": 0, "medium": 1, "low": 2}


def _best(rows):
    """The most reliable of several reports: the best verified, then the most
    confident, then the first."""
    return min(rows, key=lambda r: (VERIFICATION.index(verification_of(r)),
                                    _RANK[r["confidence"]])) if rows else None


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

    Two findings per region, each an interval test:

    * whole oblast (a baseline): population estimate (2021-2022) x
      voting-age share, each a range over sources. It counts the whole
      oblast, areas never occupied included, and everyone who has left since
      the estimate, so a list above it is implausible.
    * part held (a comparison): the same times the share of territory held,
      a rough area-proportional estimate (population is not spread like
      area), so a list above it is only unusual.

    The value tested is the lowest list the stated precision allows.
    Participants voting in Russia are counted, since they came from the
    same oblast.
    """
    findings = []
    subj_whole = "implied list vs adults in the whole oblast"
    subj_held = "implied list vs area-proportional estimate of adults in the part held"
    for region in ev.region_codes:
        pop, _ = _recent_population(ev, region)
        adult, adult_basis = adult_share_range(ev, region)
        held, _ = baseline_range(ev, region, "share_territory_russian_controlled",
                                 fallback_unit=None)
        p = _best(_rows(ev, region, "participants"))
        t = _best(_rows(ev, region, "turnout"))
        if pop is None or adult is None or p is None or t is None:
            why = ("no 2021-2022 population estimate or no basis for a voting-age share"
                   if pop is None or adult is None else "no final participants or turnout")
            for subj, kind in ((subj_whole, BASELINE), (subj_held, COMPARISON)):
                findings.append(Finding("electorate_capacity", region, subj, NOT_CHECKABLE,
                                        np.nan, np.nan, np.nan, "persons", (), why, kind=kind))
            continue
        whole = Interval(pop.low * adult.low / 100, pop.high * adult.high / 100)
        ids = ("baseline:population_estimate", "baseline:under_18_share",
               "baseline:under_16_share")
        implied = interval(p) / interval(t).scale(0.01)
        lead = (f"the lowest list that {p['value']:,.0f} participants at {t['value']:g}% allow "
                f"is {implied.low:,.0f}")
        verdict = IMPLAUSIBLE if implied.low > whole.high else CONSISTENT
        findings.append(Finding(
            "electorate_capacity", region, subj_whole, verdict, implied.low, 0.0, whole.high,
            "persons", (p["id"], t["id"]) + ids,
            f"{lead}, {implied.low / whole.high:.0%} of the most adults the whole oblast can have "
            f"had ({whole.high:,.0f}: population {pop.fmt()} x adult share "
            f"{adult.low:.1f}-{adult.high:.1f}%)",
            numbers={"whole_low": whole.low, "whole_high": whole.high,
                     "adult_basis": adult_basis}, kind=BASELINE))
        if held is None:
            findings.append(Finding("electorate_capacity", region, subj_held, NOT_CHECKABLE,
                                    np.nan, np.nan, np.nan, "persons", (),
                                    "no share of territory held", kind=COMPARISON))
            continue
        occ = Interval(whole.low * held.low / 100, whole.high * held.high / 100)
        verdict = UNUSUAL if implied.low > occ.high else CONSISTENT
        findings.append(Finding(
            "electorate_capacity", region, subj_held, verdict, implied.low, 0.0, occ.high,
            "persons", (p["id"], t["id"]) + ids + ("baseline:share_territory_russian_controlled",),
            f"{lead}, {implied.low / occ.high:.0%} of the highest area-proportional estimate of "
            f"adults in the part held ({occ.fmt()}; {held.low:g}-{held.high:g}% of the area)",
            numbers={"held_low": occ.low, "held_high": occ.high}, kind=COMPARISON))
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


VOTE_END = pd.Timestamp("2022-09-27")


def present_population(ev, *, approx_rel: float = APPROX_REL) -> list[Finding]:
    """Participants voting in the territory against the people estimated to be there.

    Estimates of the population present in the occupied part (all ages,
    children included) are compared with the participants who voted there
    (total minus the most that can have voted at stations outside). The
    estimates are rounded statements ('about 300 thousand'), so each is read
    as +-``approx_rel`` and the comparison uses the top of the highest.

    Only an estimate dated before or during the vote bounds who could vote
    (a baseline: above it is implausible). An estimate dated after the vote
    may miss people who left since; it is a comparison (above it is
    unusual). The estimates come from one side of the conflict; the
    explanation names them.
    """
    findings = []
    subject = "participants in the territory vs people present"
    for region in ev.region_codes:
        est = ev.baseline(region, "population_present_estimate")
        p = _best(_rows(ev, region, "participants"))
        if est.empty or p is None:
            findings.append(Finding(
                "present_population", region, subject, NOT_CHECKABLE, np.nan, np.nan, np.nan,
                "persons", (), "no estimate of the population present" if est.empty
                else "no participant count", kind=BASELINE))
            continue
        out_high, out_ids = _outside_participants_high(ev, region)
        if out_high is None:
            findings.append(Finding(
                "present_population", region, subject, NOT_CHECKABLE, np.nan, np.nan, np.nan,
                "persons", (p["id"],), "no count of participants at stations outside the "
                "territory, so how many voted inside it is unknown", kind=BASELINE))
            continue
        inside = interval(p).low - out_high
        top = est.loc[est["value"].idxmax()]
        cap = float(top["value"]) * (1 + approx_rel)
        after = top["reference_date"] > VOTE_END
        kind = COMPARISON if after else BASELINE
        above = inside > cap
        verdict = (UNUSUAL if after else IMPLAUSIBLE) if above else CONSISTENT
        text = (f"at least {inside:,.0f} voted in the territory ({p['value']:,.0f} participants"
                f" minus at most {out_high:,.0f} at stations outside), {inside / cap:.0%} of "
                f"{cap:,.0f}, the top of "
                f"the highest estimate of people present of all ages ('about' "
                f"{top['value']:,.0f}, read as +-{approx_rel:.0%}; {top['reference_date']:%d %b %Y}, "
                f"{top['source_url']})"
                + (". The estimate is dated after the vote, so people who left since are "
                   "missing from it: it compares, it does not bound" if after else ""))
        findings.append(Finding(
            "present_population", region, subject, verdict, inside, 0.0, cap, "persons",
            (p["id"], *out_ids, "baseline:population_present_estimate"), text,
            numbers={"outside_high": out_high, "estimate_after_vote": bool(after)}, kind=kind))
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
    for q, (label, measures, territory) in POLITICAL_PROXIES.items():
        rng, rows = baseline_range(ev, region, q, fallback_unit=None)
        if rng is not None:
            out.append({"proxy": q, "label": label, "measures": measures, "territory": territory,
                        "low": rng.low, "high": rng.high, "kind": "political",
                        "date": str(rows["reference_date"].max().date())})
    no91, row = _independence_no_share(ev, region)
    if no91 is not None:
        out.append({"proxy": "independence_no_1991",
                    "label": "vote against Ukrainian independence, 1991",
                    "measures": "opposition to leaving the USSR (not support for Russia)",
                    "territory": "whole oblast", "low": no91.low, "high": no91.high,
                    "kind": "political", "date": "1991-12-01"})
    for q in DEMOGRAPHIC_CONTEXT:
        rng, rows = baseline_range(ev, region, q, fallback_unit=None)
        if rng is not None:
            out.append({"proxy": q, "label": q.replace("_", " "),
                        "measures": "ethnicity or language (context, not a vote)",
                        "territory": "whole oblast", "low": rng.low, "high": rng.high,
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
                "no announced share or no independent political measure", kind=BASELINE))
            continue
        top = max(proxies, key=lambda p: p["high"])
        swing = float(s["value"]) - top["high"]
        verdict = IMPLAUSIBLE if swing > max_swing else CONSISTENT
        text = (f"announced {s['value']:g}% against at most {top['high']:.1f}% ({top['label']}: "
                f"{top['measures']}, {top['territory']}); "
                f"a swing of {swing:.1f} points beyond the most generous measure "
                f"(threshold {max_swing:g}); others: "
                + ", ".join(f"{p['label']} {p['high']:.1f}% ({p['territory']})" for p in proxies
                            if p is not top))
        missing = [label for q, (label, _, _) in POLITICAL_PROXIES.items()
                   if q not in {p["proxy"] for p in proxies}]
        if verdict == IMPLAUSIBLE:
            text += (f". It would be consistent if an independent measure reached "
                     f"{float(s['value']) - max_swing:.1f}%"
                     + ("; not in the record for this region: " + ", ".join(missing)
                        if missing else ""))
        findings.append(Finding(
            "support_vs_baselines", region, "yes share vs independent measures", verdict,
            float(s["value"]), 0.0, top["high"] + max_swing, "percent",
            (s["id"],) + tuple(f"baseline:{p['proxy']}" for p in proxies), text,
            numbers={"swing": swing, "max_swing": max_swing, "top_proxy": top["proxy"]},
            kind=BASELINE))
    return findings


def _vote_label(r) -> str:
    return f"{r['unit']} {r['date']:%Y}"


def compare_with_other_votes(ev) -> list[Finding]:
    """Announced turnout and yes share, each against the free referendums.

    Two comparisons per region, each an interval test: turnout against the
    lowest and highest turnout of the free referendums in the comparison
    set, and the yes share against their lowest and highest yes share.
    Outside that range is unusual (free votes do not bound a figure). The
    explanation names the free referendums nearest above and the
    organisers' own earlier votes.
    """
    c = ev.comparisons
    free = c[c["category"] == "free_referendum"]
    org = c[c["category"] == "organisers_vote"]
    findings = []
    for region in ev.region_codes:
        for q, label, col in (("turnout", "turnout", "turnout_pct"),
                              ("yes_share", "yes share", "yes_pct")):
            r = _best(_rows(ev, region, q))
            sub = free.dropna(subset=[f"{col}_high"])
            if r is None or sub.empty:
                findings.append(Finding(
                    "compare_with_other_votes", region, f"{label} vs free referendums",
                    NOT_CHECKABLE, np.nan, np.nan, np.nan, "percent", (),
                    "no announced figure or no free referendum", kind=COMPARISON))
                continue
            v = float(r["value"])
            lo, hi = float(sub[f"{col}_low"].min()), float(sub[f"{col}_high"].max())
            top = sub.sort_values(f"{col}_high", ascending=False)
            near = top[top[f"{col}_high"] >= v].tail(3)
            verdict = UNUSUAL if not lo <= v <= hi else CONSISTENT
            text = (f"announced {label} {v:g}% against {lo:g}-{hi:g}% in {len(sub)} free-referendum "
                    f"results; highest: " + ", ".join(
                        f"{_vote_label(x)} {x[f'{col}_high']:g}%" for _, x in top.head(3).iterrows()))
            if verdict == CONSISTENT and not near.empty:
                text += ("; free votes at or above it: " + ", ".join(
                    f"{_vote_label(x)} {x[f'{col}_high']:g}%" for _, x in near.iterrows()))
            o = org.dropna(subset=[f"{col}_high"])
            if not o.empty:
                text += (f"; the organisers' earlier votes ran {o[f'{col}_low'].min():g}-"
                         f"{o[f'{col}_high'].max():g}%")
            findings.append(Finding(
                "compare_with_other_votes", region, f"{label} vs free referendums", verdict,
                v, lo, hi, "percent", (r["id"],), text,
                numbers={"free_low": lo, "free_high": hi}, kind=COMPARISON))
    return findings
