"""The announcement timeline: daily turnout, implied lists, partial counts.

Voting ran for five days; days 1-4 were home and yard visits, day 5 the
stations. Cumulative turnout after day N is announced with stage ``dayN``.
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
from scipy import stats

from .arithmetic import _rows, latest_participants
from .base import (CONSISTENT, INCONCLUSIVE, INCONSISTENT, NOT_CHECKABLE, APPROX_REL,
                   Finding, Interval, interval, pct)

STAGES = ("day1", "day2", "day3", "day4", "final")
READINGS = ("in_territory", "total")


def turnout_series(ev, region):
    """(stage, row) pairs of announced cumulative turnout in voting order.

    Daily turnouts whose scope is unstated and final totals are taken as one
    series, since each is the organisers' headline figure for that day.
    """
    out = []
    for stage in STAGES:
        for row in _rows(ev, region, "turnout", stage, ("total", "unstated")):
            out.append((stage, row))
    return out


def turnout_monotonic(ev) -> list[Finding]:
    """Cumulative turnout must not fall from one announcement to the next.

    A fall is certain only when the highest value a later figure allows is
    below the lowest an earlier one allows; 'more than' figures count by
    their lower end.
    """
    findings = []
    for region in ev.region_codes:
        series = turnout_series(ev, region)
        if len(series) < 2:
            findings.append(Finding("turnout_monotonic", region, "cumulative turnout by day",
                                    NOT_CHECKABLE, np.nan, np.nan, np.nan, "percent", (),
                                    "fewer than two cumulative turnouts announced"))
            continue
        falls, gains = [], []
        for i, (s1, r1) in enumerate(series):
            for s2, r2 in series[i + 1:]:
                if STAGES.index(s2) <= STAGES.index(s1):
                    continue
                if interval(r2).high < interval(r1).low:
                    falls.append(f"{s1} {r1['value']:g}% -> {s2} {r2['value']:g}%")
        for (s1, r1), (s2, r2) in zip(series, series[1:]):
            if s1 != s2 and r1["bound"] == "exact" and r2["bound"] == "exact":
                gains.append((s2, float(r2["value"]) - float(r1["value"])))
        largest = max(gains, key=lambda x: x[1]) if gains else (None, np.nan)
        verdict = INCONSISTENT if falls else CONSISTENT
        text = ("turnout falls: " + "; ".join(falls)) if falls else (
            "turnout never falls; " + ", ".join(f"{s} {r['value']:g}%" for s, r in series))
        if largest[0]:
            text += f"; largest one-day gain {largest[1]:.2f} points (to {largest[0]})"
        findings.append(Finding(
            "turnout_monotonic", region, "cumulative turnout by day", verdict,
            float(series[-1][1]["value"]), np.nan, np.nan, "percent",
            tuple(r["id"] for _, r in series), text,
            numbers={"largest_gain": largest[1], "largest_gain_stage": largest[0]}))
    return findings


def implied_lists(ev, region, reading):
    """Voter lists implied by (participants, turnout) pairs under one reading.

    ``reading`` is ``in_territory`` or ``total``: a pair is used when each
    figure's scope is that reading or unstated. Returns (stage, Interval,
    participants row, turnout row) in voting order.
    """
    scopes = (reading, "unstated")
    out = []
    for stage in STAGES:
        for p in _rows(ev, region, "participants", stage, scopes):
            for t in _rows(ev, region, "turnout", stage, scopes):
                out.append((stage, interval(p) / pct(interval(t)), p, t))
    return out


def _judge_reading(ev, region, implied, growth_rows, approx_rel, shrink_tol):
    """Verdict and text for one reading's series of implied lists."""
    rank = {"high": 0, "medium": 1, "low": 2}
    last_stage = implied[-1][0]
    last = min((x for x in implied if x[0] == last_stage),
               key=lambda x: (rank[x[2]["confidence"]], rank[x[3]["confidence"]]))
    steps = ", ".join(f"{s}: {iv.fmt()}" for s, iv, _, _ in implied)
    finite = [x for x in implied if math.isfinite(x[1].high) and x[0] != last_stage]
    shrinks = []
    for a, b in zip(implied, implied[1:]):
        if a[0] != b[0] and b[1].high < a[1].low:
            shrinks.append((a[0], b[0], a[1].low - b[1].high, (a[1].low - b[1].high) / a[1].low))
    big = [x for x in shrinks if x[3] > shrink_tol]
    shrink_text = "; ".join(f"from {a} to {b} by at least {d:,.0f} ({r:.1%})"
                            for a, b, d, r in shrinks)
    if not finite:
        earlier = [x for x in implied if x[0] != last_stage]
        worst_lb = max(earlier, key=lambda x: x[1].low)
        ok = worst_lb[1].low <= last[1].high * (1 + shrink_tol)
        return (CONSISTENT if ok else INCONSISTENT,
                f"implied list {steps}; earlier figures give only lower bounds, "
                + ("which the final list respects" if ok else "above the final list"), None)
    first = finite[0]
    growth = last[1] - first[1]
    if growth_rows:
        g = growth_rows[0]
        allowed = interval(g, approx_rel=approx_rel)
        ok = growth.low <= allowed.high and not big
        text = (f"implied list {steps}; growth {first[0]} to {last[0]} of {growth.fmt()} "
                f"against an announced growth of about {g['value']:,.0f} (at most {allowed.high:,.0f})")
        if growth.low > allowed.high:
            text += f": {growth.mid - g['value']:,.0f} more than announced"
    else:
        ok = growth.high >= -shrink_tol * first[1].low and not big
        text = f"implied list {steps}; change {first[0]} to {last[0]}: {growth.fmt()}"
    if shrinks:
        text += ("; the list shrinks " + shrink_text
                 + (f" (more than the {shrink_tol:.0%} that corrections to a list could explain)"
                    if big else f" (within the {shrink_tol:.0%} that list corrections could explain)"))
    if ok and not growth_rows:
        return INCONCLUSIVE, text + "; no growth was announced to compare", growth
    return (CONSISTENT if ok else INCONSISTENT), text, growth


def electorate_by_day(ev, *, approx_rel: float = APPROX_REL,
                      shrink_tol: float = 0.01) -> list[Finding]:
    """The voter list implied by each day's (participants, turnout) pair.

    A list may grow during the vote only through supplementary lists, and
    shrink only by corrections (a shrink under ``shrink_tol``, 1% by
    default, is reported but accepted). Where the announcer stated the
    growth, the implied growth must fit within it.

    Many daily figures do not say whether they cover stations in Russia.
    Every reading (in the territory, total) whose scopes fit is judged; the
    figures are called inconsistent only when no reading makes them agree.
    """
    findings = []
    for region in ev.region_codes:
        growth_rows = _rows(ev, region, "voter_list_growth", None, None)
        judged = []
        for reading in READINGS:
            implied = implied_lists(ev, region, reading)
            if len({s for s, *_ in implied}) < 2:
                continue
            verdict, text, growth = _judge_reading(ev, region, implied, growth_rows,
                                                   approx_rel, shrink_tol)
            ids = tuple(dict.fromkeys(x for _, _, p, t in implied for x in (p["id"], t["id"])))
            judged.append((reading, verdict, text, growth, ids))
        if not judged:
            findings.append(Finding("electorate_by_day", region, "implied voter list by day",
                                    NOT_CHECKABLE, np.nan, np.nan, np.nan, "persons", (),
                                    "fewer than two days with both participants and turnout"))
            continue
        verdicts = [v for _, v, *_ in judged]
        if CONSISTENT in verdicts:
            verdict = CONSISTENT
        elif all(v == INCONSISTENT for v in verdicts):
            verdict = INCONSISTENT
        else:
            verdict = INCONCLUSIVE
        text = " || ".join(f"reading '{r.replace('_', ' ')}' ({v}): {t}" for r, v, t, _, _ in judged)
        if verdict == CONSISTENT and INCONSISTENT in verdicts:
            text += " || the figures agree only under the reading marked consistent"
        main = next(j for j in judged if j[1] == verdict) if verdict in verdicts else judged[0]
        growth = main[3]
        ids = tuple(dict.fromkeys(i for j in judged for i in j[4]))
        ids += tuple(g["id"] for g in growth_rows)
        findings.append(Finding(
            "electorate_by_day", region, "implied voter list by day", verdict,
            np.nan if growth is None else growth.mid, 0.0,
            interval(growth_rows[0], approx_rel=approx_rel).high if growth_rows else np.nan,
            "persons", ids, text, numbers={"readings": {r: v for r, v, *_ in judged}}))
    return findings


def same_share_probability(final_share: float, resolution: float, participants: int,
                           counted_fraction: float, *, unit_shares=None,
                           n_grid: int = 21) -> dict:
    """Chance that a partial count shows the final share to the stated precision.

    Null: the partial count is a random part of the final ballots.

    Two designs are computed:

    * ``ballots``: the first ``n = f N`` ballots are a simple random sample
      of the ``N`` ballots. The partial yes count is hypergeometric given the
      final yes count ``Y``; the probability that ``X / n`` rounds to the
      final share is summed exactly from the hypergeometric law and averaged
      over final counts ``Y`` spread evenly over the final rounding cell.
      This is the most favourable case for a coincidence (smallest
      variance), so it bounds the probability from above.
    * ``units``: results arrive unit by unit (commissions), in random
      order, with the spread of the announced unit shares (``unit_shares``).
      The partial share is then approximately normal with variance
      ``s^2 (1 - f) / (f K)`` for ``K`` units of equal size; the probability
      of landing in the final rounding cell follows.

    Returns
    -------
    dict with ``p_ballots``, ``p_units`` (nan without unit shares), ``sd_ballots``
    and ``sd_units`` in percentage points.
    """
    if not 0 < counted_fraction < 1:
        raise ValueError(f"counted_fraction must lie in (0, 1), got {counted_fraction}")
    if participants < 2:
        raise ValueError(f"participants must be at least 2, got {participants}")
    N = int(participants)
    n = int(round(counted_fraction * N))
    half = resolution / 2
    cell = Interval((final_share - half) / 100, (final_share + half) / 100)
    ys = np.unique(np.round(np.linspace(cell.low * N, cell.high * N, n_grid)).astype(int))
    k_lo = math.ceil(cell.low * n - 1e-9)
    k_hi = math.floor(cell.high * n + 1e-9)
    probs = [stats.hypergeom(N, y, n).cdf(k_hi) - stats.hypergeom(N, y, n).cdf(k_lo - 1)
             for y in ys]
    p = cell.mid
    sd_b = math.sqrt(p * (1 - p) / n * (N - n) / (N - 1))
    out = {"p_ballots": float(np.mean(probs)), "sd_ballots": 100 * sd_b,
           "p_units": float("nan"), "sd_units": float("nan"), "n_counted": n}
    if unit_shares is not None and len(unit_shares) >= 2:
        s = np.std(np.asarray(unit_shares, float) / 100, ddof=1)
        K = len(unit_shares)
        sd_u = s * math.sqrt((1 - counted_fraction) / (counted_fraction * K))
        # final share uniform over its cell; partial ~ N(final, sd_u)
        grid = np.linspace(cell.low, cell.high, n_grid)
        pu = [stats.norm.cdf(cell.high, g, sd_u) - stats.norm.cdf(cell.low, g, sd_u) for g in grid]
        out.update(p_units=float(np.mean(pu)), sd_units=100 * sd_u, units=K)
    return out


def _final_for(ev, region, quantity, scope):
    """Final rows of ``quantity`` for a partial figure of ``scope``: same
    scope when announced, else the total (the explanation says so)."""
    rows = _rows(ev, region, quantity, "final", scope)
    return (rows, scope) if rows else (_rows(ev, region, quantity, "final", "total"), "total")


def partial_vs_final(ev, *, alpha: float = 0.05) -> list[Finding]:
    """A partial share identical to the final one, to the stated precision.

    Partial shares that move before the final are what counting does; they
    are left to :func:`partial_counts`. An identical share is scored with
    :func:`same_share_probability`. The verdict rests on the design most
    favourable to coincidence: only if even that gives a probability below
    ``alpha`` is the identity called inconsistent with a random count;
    otherwise 'inconclusive', with both probabilities in the explanation.
    """
    findings = []
    for region in ev.region_codes:
        for pr in _rows(ev, region, "yes_share", "partial", None):
            if pd.isna(pr["counted_pct"]) or not 0 < float(pr["counted_pct"]) < 100:
                continue
            finals, fscope = _final_for(ev, region, "yes_share", pr["scope"])
            for fr in finals:
                if pr["value"] != fr["value"] or pr["resolution"] != fr["resolution"]:
                    continue
                parts = _rows(ev, region, "participants", "final", fscope)
                ids = (pr["id"], fr["id"])
                if not parts:
                    findings.append(Finding(
                        "partial_vs_final", region, "yes share partial = final", NOT_CHECKABLE,
                        float(pr["value"]), np.nan, np.nan, "percent", ids,
                        "identical partial and final shares, but no participant count"))
                    continue
                sub = ev.subunits
                units = sub[(sub["region"] == region) & (sub["quantity"] == "yes_share")
                            & (sub["stage"] == "final") & (sub["coverage"] == "complete")]["value"]
                res = same_share_probability(float(fr["value"]), float(fr["resolution"]),
                                             int(parts[0]["value"]), float(pr["counted_pct"]) / 100,
                                             unit_shares=units.to_numpy() if len(units) >= 2 else None)
                verdict = INCONSISTENT if res["p_ballots"] < alpha else INCONCLUSIVE
                text = (f"{pr['value']:g}% ({pr['scope'].replace('_', ' ')}) at "
                        f"{pr['counted_pct']:g}% of {pr['counted_basis'] or 'the count'} processed "
                        f"and {fr['value']:g}% final ({fscope}). If ballots were counted in random "
                        f"order the chance of the same two decimals is {res['p_ballots']:.3f} "
                        f"(sd {res['sd_ballots']:.3f} points)")
                if math.isfinite(res["p_units"]):
                    text += (f"; if results arrived commission by commission ({res['units']} "
                             f"commissions, spread of their announced shares) it is "
                             f"{res['p_units']:.4f} (sd {res['sd_units']:.2f} points)")
                findings.append(Finding(
                    "partial_vs_final", region, "yes share partial = final", verdict,
                    res["p_ballots"], alpha, 1.0, "probability",
                    ids + (parts[0]["id"],), text, numbers=res))
    return findings


def _outside_bound(ev, region, quantity):
    """(low, high) of a final share announced for stations outside, or None."""
    rows = _rows(ev, region, quantity, ("final", "partial"), "outside")
    if not rows:
        return None
    return min(interval(r).low for r in rows), max(interval(r).high for r in rows)


def partial_counts(ev) -> list[Finding]:
    """Partial shares against the final count: votes already counted cannot vanish.

    For a partial share ``s`` announced when a fraction ``c`` of the count
    was processed, the final share ``F`` requires the rest of the ballots
    to carry the share ``(F - c s) / (1 - c)``, which must lie in [0, 100].
    The check takes the value least favourable to a contradiction within the
    stated precision of ``s``, ``c`` and ``F``. When the partial figure
    covers stations in the territory and the final one is the total, the
    total is used only if every share announced for stations outside lies on
    the side that makes the bound conservative (for 'yes', outside shares
    below the final total; for 'no', above it).

    A second form uses counts: the partial count is at least
    ``s * c * P``, where ``P`` is the smallest participant count the scope
    is known to have reached; the final count must not be smaller.

    The identity is exact for shares of ballots; where the share processed
    is a share of station protocols, ballots counted can differ from it and
    the explanation says so.
    """
    findings = []
    for region in ev.region_codes:
        for q in ("yes", "no"):
            for pr in _rows(ev, region, f"{q}_share", "partial", None):
                if pd.isna(pr["counted_pct"]) or pr["scope"] == "outside":
                    continue
                c = Interval(float(pr["counted_pct"]) / 100 - 0.00005,
                             min(float(pr["counted_pct"]) / 100 + 0.00005, 0.99999))
                if float(pr["resolution"]) >= 1:
                    c = Interval(float(pr["counted_pct"]) / 100 - 0.005,
                                 min(float(pr["counted_pct"]) / 100 + 0.005, 0.99999))
                s_iv = interval(pr)
                basis = pr["counted_basis"] if isinstance(pr["counted_basis"], str) else "unstated"
                caveat = "" if basis == "ballots" else (
                    f" (the share processed is a share of {basis if basis != 'unstated' else 'an unstated base'}, "
                    "so ballots counted may differ from it)")
                # shares form
                finals = _rows(ev, region, f"{q}_share", "final", pr["scope"])
                fscope = pr["scope"]
                if not finals and pr["scope"] == "in_territory":
                    outside = _outside_bound(ev, region, f"{q}_share")
                    cand = _rows(ev, region, f"{q}_share", "final", "total")
                    if cand and outside is not None:
                        f_iv = interval(cand[0])
                        safe = outside[1] < f_iv.low if q == "yes" else outside[0] > f_iv.high
                        if safe:
                            finals, fscope = cand, "total"
                for fr in finals:
                    f_iv = interval(fr)
                    rests = [(f_iv.low - cc * s_iv.high) / (1 - cc) for cc in (c.low, c.high)]
                    rests_hi = [(f_iv.high - cc * s_iv.low) / (1 - cc) for cc in (c.low, c.high)]
                    rest = Interval(min(rests), max(rests_hi))
                    ok = rest.low <= 100 and rest.high >= 0
                    findings.append(Finding(
                        "partial_counts", region, f"{q} share of the ballots left after a partial count",
                        CONSISTENT if ok else INCONSISTENT, rest.mid, 0.0, 100.0, "percent",
                        (pr["id"], fr["id"]),
                        f"{pr['value']:g}% {q} at {pr['counted_pct']:g}% processed "
                        f"({pr['scope'].replace('_', ' ')}) and {fr['value']:g}% final ({fscope}) "
                        f"need {rest.fmt(1)}% {q} among the remaining ballots"
                        + ("" if ok else ", outside 0-100%") + caveat))
                # counts form
                counts = _rows(ev, region, q, "final", ("total", pr["scope"]))
                b = latest_participants(ev, region, pr["scope"])
                for fc in counts:
                    if b is None:
                        continue
                    least = s_iv.low / 100 * c.low * interval(b).low
                    ok = least <= interval(fc).high
                    if ok and q == "yes":
                        continue  # the yes count form is never binding here; keep the table short
                    findings.append(Finding(
                        "partial_counts", region, f"{q} votes counted by a partial count vs final count",
                        CONSISTENT if ok else INCONSISTENT, least, 0.0, interval(fc).high, "votes",
                        (pr["id"], fc["id"], b["id"]),
                        f"{pr['value']:g}% {q} at {pr['counted_pct']:g}% processed of at least "
                        f"{interval(b).low:,.0f} participants ({b['scope'].replace('_', ' ')}, "
                        f"{b['stage']}) is at least {least:,.0f} {q} votes; the final {q} count "
                        f"({fc['scope']}) is {fc['value']:,.0f}"
                        + ("" if ok else ": fewer than were already counted") + caveat))
    return findings


def subunit_range(ev) -> list[Finding]:
    """A regional figure against the figures of its parts.

    With every part announced (coverage ``complete``), the regional figure,
    a weighted mean of the parts, must lie within their range. A part named
    as the highest (lowest) bounds the regional figure from above (below).
    """
    findings = []
    sub = ev.subunits
    for (region, quantity, stage), group in sub.groupby(["region", "quantity", "stage"]):
        regional = _rows(ev, region, quantity, stage, ("total", "unstated"))
        if not regional:
            continue
        complete = group[group["coverage"] == "complete"]
        lo, hi, basis = -np.inf, np.inf, []
        if len(complete) >= 2:
            lo, hi = complete["value"].min() - 0.005, complete["value"].max() + 0.005
            basis.append(f"all {len(complete)} parts from {complete['value'].min():g}% to "
                         f"{complete['value'].max():g}%")
        for cov, side in (("highest", "hi"), ("lowest", "lo")):
            rows = group[group["coverage"] == cov]
            for _, r in rows.iterrows():
                if side == "hi":
                    hi = min(hi, float(r["value"]) + float(r["resolution"]) / 2)
                else:
                    lo = max(lo, float(r["value"]) - float(r["resolution"]) / 2)
                basis.append(f"{cov} part {r['unit']} {r['value']:g}%")
        if not basis:
            continue
        for r in regional:
            ok = interval(r).overlaps(Interval(lo, hi))
            findings.append(Finding(
                "subunit_range", region, f"{quantity} ({stage}) within its parts",
                CONSISTENT if ok else INCONSISTENT, float(r["value"]), lo, hi, "percent",
                (r["id"], f"subunits:{region}:{quantity}:{stage}"),
                f"regional {r['value']:g}% against " + "; ".join(basis)))
    return findings
