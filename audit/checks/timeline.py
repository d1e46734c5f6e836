"""The announcement timeline: daily turnout, implied lists, partial counts.

Voting ran for five days; days 1-4 were home and yard visits, day 5 the
stations. Cumulative turnout after day N is announced with stage ``dayN``.
"""

from __future__ import annotations

import math

import numpy as np
from scipy import stats

from .arithmetic import _rows
from .base import (CONSISTENT, INCONCLUSIVE, INCONSISTENT, NOT_CHECKABLE, APPROX_REL,
                   Finding, Interval, interval, pct)

STAGES = ("day1", "day2", "day3", "day4", "final")


def turnout_series(ev, region, scope="total"):
    """(stage, row) pairs of announced cumulative turnout in voting order."""
    out = []
    for stage in STAGES:
        for row in _rows(ev, region, "turnout", stage, scope):
            out.append((stage, row))
    return out


def turnout_monotonic(ev) -> list[Finding]:
    """Cumulative turnout must not fall from one announcement to the next.

    A fall is certain only when the lowest value a later figure allows is
    below the highest an earlier one allows; 'more than' figures count by
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
        for (s1, r1), (s2, r2) in zip(series, series[1:]):
            i1, i2 = interval(r1), interval(r2)
            if s1 == s2:
                continue
            if i2.high < i1.low:
                falls.append(f"{s1} {r1['value']:g}% -> {s2} {r2['value']:g}%")
            gains.append((s2, r2["value"] - r1["value"], r1["bound"], r2["bound"]))
        exact_gains = [(s, g) for s, g, b1, b2 in gains if b1 == "exact" and b2 == "exact"]
        largest = max(exact_gains, key=lambda x: x[1]) if exact_gains else (None, np.nan)
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


def electorate_by_day(ev, *, approx_rel: float = APPROX_REL) -> list[Finding]:
    """The voter list implied by each day's (participants, turnout) pair.

    The list may grow during the vote only through supplementary lists.
    Where the announcer stated that growth, the implied growth between the
    first and the last pair must fit within it; otherwise the growth is
    reported and judged only if the list shrinks.
    """
    findings = []
    for region in ev.region_codes:
        implied = []
        for stage in STAGES:
            for p in _rows(ev, region, "participants", stage):
                for t in _rows(ev, region, "turnout", stage):
                    implied.append((stage, interval(p) / pct(interval(t)), p, t))
        if len(implied) < 2:
            findings.append(Finding("electorate_by_day", region, "implied voter list by day",
                                    NOT_CHECKABLE, np.nan, np.nan, np.nan, "persons", (),
                                    f"{len(implied)} day(s) with both participants and turnout"))
            continue
        # growth between the earliest figure with an upper bound and the final
        # figure; of several final reports the most reliable one is used
        rank = {"high": 0, "medium": 1, "low": 2}
        last_stage = implied[-1][0]
        last = min((x for x in implied if x[0] == last_stage),
                   key=lambda x: (rank[x[2]["confidence"]], rank[x[3]["confidence"]]))
        finite = [x for x in implied if math.isfinite(x[1].high) and x[0] != last_stage]
        steps = ", ".join(f"{s}: {iv.fmt()}" for s, iv, _, _ in implied)
        if not finite:
            earlier = [x for x in implied if x[0] != last_stage]
            worst_lb = max(earlier, key=lambda x: x[1].low)
            ok = worst_lb[1].low <= last[1].high
            findings.append(Finding(
                "electorate_by_day", region, "implied voter list by day",
                CONSISTENT if ok else INCONSISTENT, last[1].mid, worst_lb[1].low, np.nan,
                "persons", tuple(x for _, _, p, t in implied for x in (p["id"], t["id"])),
                f"implied list {steps}; earlier figures give only lower bounds, "
                + ("which the final list respects" if ok else "above the final list")))
            continue
        first = finite[0]
        growth = last[1] - first[1]
        shrinks = [f"{a[0]} to {b[0]} by at least {a[1].low - b[1].high:,.0f}"
                   for a, b in zip(implied, implied[1:])
                   if a[0] != b[0] and b[1].high < a[1].low]
        growth_rows = _rows(ev, region, "voter_list_growth", None)
        ids = tuple(x for _, _, p, t in implied for x in (p["id"], t["id"]))
        if growth_rows:
            g = growth_rows[0]
            allowed = interval(g, approx_rel=approx_rel)
            ok = growth.low <= allowed.high
            verdict = CONSISTENT if ok else INCONSISTENT
            text = (f"implied list {steps}; growth {first[0]} to {last[0]} of {growth.fmt()} "
                    f"against an announced growth of about {g['value']:,.0f} "
                    f"(at most {allowed.high:,.0f})")
            if not ok:
                text += (f": {growth.mid - g['value']:,.0f} more than announced, unless "
                         "the turnouts of different days were computed on different lists, "
                         "which the announcements do not say")
            ids = ids + (g["id"],)
            exp = (0.0, allowed.high)
            if shrinks:
                verdict = INCONSISTENT
                text += "; the implied list also shrinks from " + "; ".join(shrinks)
        else:
            shrink = growth.high < 0 or bool(shrinks)
            verdict = INCONSISTENT if shrink else INCONCLUSIVE
            text = (f"implied list {steps}; change {first[0]} to {last[0]}: {growth.fmt()}"
                    + ((" (the list shrinks: " + "; ".join(shrinks or ["overall"]) + ")") if shrink
                       else "; no growth was announced to compare"))
            exp = (0.0, np.nan)
        findings.append(Finding(
            "electorate_by_day", region, "implied voter list by day", verdict, growth.mid,
            exp[0], exp[1], "persons", ids, text,
            numbers={"implied": {s: iv.mid for s, iv, _, _ in implied},
                     "growth_low": growth.low, "growth_high": growth.high}))
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


def partial_vs_final(ev, *, alpha: float = 0.05) -> list[Finding]:
    """Partial results announced during the count against the final ones.

    A partial share that moves before the final is what counting does and is
    reported as consistent. A partial share identical to the final one to
    the stated precision is scored with :func:`same_share_probability`.
    The verdict rests on the design most favourable to coincidence: only if
    even that gives a probability below ``alpha`` is it called unlikely
    ('inconsistent' with a random count); otherwise 'inconclusive', with
    both probabilities in the explanation.
    """
    findings = []
    for region in ev.region_codes:
        for quantity in ("yes_share", "turnout"):
            partials = _rows(ev, region, quantity, "partial")
            finals = _rows(ev, region, quantity, "final")
            for pr in partials:
                for fr in finals:
                    if float(pr["counted_pct"]) >= 100:
                        continue
                    same = interval(pr).overlaps(interval(fr)) and pr["value"] == fr["value"]
                    ids = (pr["id"], fr["id"])
                    if not same:
                        findings.append(Finding(
                            "partial_vs_final", region, f"{quantity} partial vs final", CONSISTENT,
                            float(pr["value"]), float(fr["value"]), float(fr["value"]), "percent",
                            ids, f"{pr['value']:g}% at {pr['counted_pct']:g}% counted, "
                                 f"{fr['value']:g}% final: the figure moved as counting went on"))
                        continue
                    if quantity != "yes_share":
                        continue
                    parts = _rows(ev, region, "participants")
                    if not parts:
                        findings.append(Finding(
                            "partial_vs_final", region, f"{quantity} partial = final", NOT_CHECKABLE,
                            float(pr["value"]), np.nan, np.nan, "percent", ids,
                            "identical partial and final shares, but no participant count"))
                        continue
                    units = ev.commissions[ev.commissions["region"] == region]["yes_share_final"]
                    res = same_share_probability(float(fr["value"]), float(fr["resolution"]),
                                                 int(parts[0]["value"]), float(pr["counted_pct"]) / 100,
                                                 unit_shares=units.to_numpy() if len(units) else None)
                    verdict = INCONSISTENT if res["p_ballots"] < alpha else INCONCLUSIVE
                    text = (f"{pr['value']:g}% at {pr['counted_pct']:g}% counted and {fr['value']:g}% "
                            f"final. If ballots were counted in random order the chance of the "
                            f"same two decimals is {res['p_ballots']:.3f} (sd {res['sd_ballots']:.3f} "
                            f"points)")
                    if math.isfinite(res["p_units"]):
                        text += (f"; if results arrived commission by commission ({res['units']} "
                                 f"commissions, spread of their announced shares) it is "
                                 f"{res['p_units']:.4f} (sd {res['sd_units']:.2f} points)")
                    findings.append(Finding(
                        "partial_vs_final", region, f"{quantity} partial = final", verdict,
                        res["p_ballots"], alpha, 1.0, "probability",
                        ids + tuple(parts[0]["id"].split("+")[:1]), text, numbers=res))
    return findings


def commission_range(ev) -> list[Finding]:
    """A regional figure must lie within the range of its commissions' figures."""
    findings = []
    com = ev.commissions
    for region, group in com.groupby("region"):
        for col, quantity, stage in (("yes_share_final", "yes_share", "final"),
                                     ("turnout_day2", "turnout", "day2")):
            vals = group[col].dropna()
            if len(vals) < 2:
                continue
            lo, hi = vals.min() - 0.005, vals.max() + 0.005
            for r in _rows(ev, region, quantity, stage):
                ok = interval(r).overlaps(Interval(lo, hi))
                findings.append(Finding(
                    "commission_range", region, f"{quantity} ({stage}) within its commissions",
                    CONSISTENT if ok else INCONSISTENT, float(r["value"]), lo, hi, "percent",
                    (r["id"], f"commissions:{col}"),
                    f"regional {r['value']:g}% against commission figures from {vals.min():g}% "
                    f"to {vals.max():g}% ({len(vals)} commissions)"))
    return findings
