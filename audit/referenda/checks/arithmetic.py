"""Arithmetic consistency of the announced figures.

Each check recomputes a figure from other figures of the same announcer and
asks whether the intervals implied by the stated precision overlap.
"""

from __future__ import annotations

import itertools
import math

import numpy as np

from .base import (CONSISTENT, INCONSISTENT, NOT_CHECKABLE, APPROX_REL, VERIFICATION, Finding,
                   Interval, interval, pct, verification_of)

SHARE_BASES = {
    # share quantity -> (numerator quantity, description of the base)
    "yes_share": "yes",
    "yes_share_of_valid": "yes",
    "no_share": "no",
}


def _rows(ev, region, quantity, stage="final", scope="total"):
    """Announcement rows; reports of the same figure (same value, precision,
    stage and scope) are merged into one row whose id joins theirs with '+'
    and whose verification is the most secure of theirs.

    Figures marked ``derived`` (computed from other figures, not announced)
    are left out: a derived figure scored against the figures it was
    derived from would agree by construction.
    """
    rows = ev.announced(region, quantity, stage, scope)
    if "verification" in rows:
        rows = rows[rows["verification"] != "derived"]
    out = []
    for _, group in rows.groupby(["stage", "scope", "value", "resolution", "bound"], sort=False):
        row = group.iloc[0].copy()
        row["id"] = "+".join(group["id"])
        row["verification"] = min((verification_of(r) for _, r in group.iterrows()),
                                  key=VERIFICATION.index)
        out.append(row)
    return out


def _precise(*rows) -> bool:
    """Figures stated exactly (no 'about', no 'more than', counts to the unit)."""
    return all(r["bound"] == "exact" and (r["unit"] == "percent" or float(r["resolution"]) <= 1)
               for r in rows)


def _bases(ev, region, numerator_row, approx_rel):
    """Candidate denominators for a share: (name, interval, evidence ids, precise).

    A base known only roughly ('about', 'more than') would let almost any
    share match: such bases are reported but never used to call a share
    consistent.
    """
    out = []
    for p in _rows(ev, region, "participants"):
        out.append(("ballots cast (participants)", interval(p, approx_rel=approx_rel), [p["id"]],
                    _precise(p)))
        for inv in _rows(ev, region, "invalid"):
            out.append(("valid ballots (participants - invalid)",
                        interval(p, approx_rel=approx_rel) - interval(inv, approx_rel=approx_rel),
                        [p["id"], inv["id"]], _precise(p, inv)))
    other = "no" if numerator_row["quantity"] == "yes" else "yes"
    for o in _rows(ev, region, other):
        out.append(("valid ballots (yes + no)",
                    interval(numerator_row, approx_rel=approx_rel) + interval(o, approx_rel=approx_rel),
                    [o["id"]], _precise(numerator_row, o)))
    for vl in _rows(ev, region, "voter_list", stage=None):
        out.append((f"voter list ({vl['stage']})", interval(vl, approx_rel=approx_rel), [vl["id"]],
                    _precise(vl)))
    for p in _rows(ev, region, "participants"):
        for t in _rows(ev, region, "turnout"):
            out.append((f"voter list implied by turnout {t['value']:g}%",
                        interval(p) / pct(interval(t)), [p["id"], t["id"]], _precise(p, t)))
    return out


def share_recomputation(ev, *, approx_rel: float = APPROX_REL) -> list[Finding]:
    """Recompute every announced share from the announced counts.

    For each announced share (yes, yes of valid, no) and each announced count
    of its numerator, the share is recomputed on every candidate base
    (participants, valid ballots, voter list). Consistent when some base
    reproduces the share within its stated rounding; the finding names it.
    Inconsistent when none does; the finding gives the numerator the share
    would need and the base the count would need.
    """
    findings = []
    for region in ev.region_codes:
        for share_q, num_q in SHARE_BASES.items():
            for s, n in itertools.product(_rows(ev, region, share_q), _rows(ev, region, num_q)):
                s_iv, n_iv = pct(interval(s)), interval(n, approx_rel=approx_rel)
                bases = _bases(ev, region, n, approx_rel)
                if share_q == "yes_share_of_valid":
                    bases = [b for b in bases if b[0].startswith("valid")]
                if not bases:
                    continue
                matches, tried = [], []
                for name, b_iv, ids, precise in bases:
                    recomputed = n_iv / b_iv
                    tried.append((name, recomputed, ids))
                    if precise and recomputed.overlaps(s_iv):
                        matches.append((name, recomputed, ids))
                primary = tried[0]
                needed_num = b_iv_needed = None
                if matches:
                    name, rec, ids = matches[0]
                    verdict = CONSISTENT
                    text = (f"{n['value']:,.0f} {num_q} / {name} = {100 * rec.mid:.3f}%, "
                            f"which rounds to the announced {s['value']:.{_dec(s)}f}%")
                else:
                    name, rec, ids = primary
                    verdict = INCONSISTENT
                    base_mid = bases[0][1].mid
                    needed_num = s_iv.scale(base_mid)
                    b_iv_needed = Interval(n_iv.low / s_iv.high, n_iv.high / s_iv.low)
                    alts = "; ".join(f"{t[0]}: {100 * t[1].mid:.2f}%" for t in tried[1:])
                    ids = tuple(i for t in tried for i in t[2])
                    text = (f"{n['value']:,.0f} {num_q} / {name} = {100 * rec.mid:.2f}%, not the "
                            f"announced {s['value']:.{_dec(s)}f}% (gap {100 * (rec.mid - s_iv.mid):+.2f} "
                            f"points). The announced share would need {needed_num.fmt()} {num_q} votes, "
                            f"or a base of {b_iv_needed.fmt()}"
                            + (f". Other bases give {alts}" if alts else "") + ".")
                findings.append(Finding(
                    check="share_recomputation", region=region,
                    subject=f"{share_q} {s['value']:g}% vs {num_q} count {n['value']:,.0f}",
                    verdict=verdict, value=100 * rec.mid,
                    expected_low=100 * s_iv.low, expected_high=100 * s_iv.high, unit="percent",
                    evidence=tuple(dict.fromkeys((s["id"], n["id"], *ids))), explanation=text,
                    numbers={"base": name,
                             "recomputed_low": 100 * rec.low, "recomputed_high": 100 * rec.high,
                             "needed_numerator": None if needed_num is None else needed_num.mid,
                             "needed_base": None if b_iv_needed is None else b_iv_needed.mid}))
    return findings


def _dec(row) -> int:
    res = float(row["resolution"])
    return max(0, -int(math.floor(math.log10(res)))) if res < 1 else 0


def components_sum(ev, *, approx_rel: float = APPROX_REL) -> list[Finding]:
    """Yes + no + invalid against participants.

    With all four counts published the sum must equal participants. With
    invalid (or no) missing, the implied remainder must not be negative; it
    is reported with its share so a reader can judge it.
    """
    findings = []
    for region in ev.region_codes:
        parts, yeses = _rows(ev, region, "participants"), _rows(ev, region, "yes")
        nos, invs = _rows(ev, region, "no") or [None], _rows(ev, region, "invalid") or [None]
        for p, y, no, inv in itertools.product(parts, yeses, nos, invs):
            p_iv, y_iv = interval(p), interval(y)
            known = y_iv
            ids = [p["id"], y["id"]]
            missing = []
            for q, row in (("no", no), ("invalid", inv)):
                if row is None:
                    missing.append(q)
                else:
                    known = known + interval(row)
                    ids.append(row["id"])
            rest = p_iv - known
            if not missing:
                ok = rest.low <= 0 <= rest.high
                verdict = CONSISTENT if ok else INCONSISTENT
                text = (f"yes + no + invalid = {known.mid:,.0f} against {p['value']:,.0f} "
                        f"participants (difference {rest.mid:+,.0f})")
                subject = "yes + no + invalid = participants"
            else:
                verdict = CONSISTENT if rest.high >= 0 else INCONSISTENT
                share = 100 * rest.mid / p_iv.mid
                text = (f"participants - announced counts leaves {rest.mid:,.0f} "
                        f"({share:.2f}% of participants) for {' + '.join(missing)}"
                        + ("" if verdict == CONSISTENT else ": a negative remainder"))
                subject = f"implied {' + '.join(missing)}"
            findings.append(Finding(
                check="components_sum", region=region, subject=subject, verdict=verdict,
                value=rest.mid, expected_low=0.0,
                expected_high=0.0 if not missing else p_iv.high, unit="persons",
                evidence=tuple(ids), explanation=text,
                numbers={"remainder": rest.mid, "missing": missing}))
    return findings


def implied_electorate(ev, *, approx_rel: float = APPROX_REL) -> list[Finding]:
    """The voter list implied by participants / turnout, against every announced list.

    Also checks that participants do not exceed an announced list or the
    number of ballots printed, each taken with its stated precision.
    """
    findings = []
    for region in ev.region_codes:
        for scope in ("total", "in_territory", "outside"):
            finals = [(p, t) for p in _rows(ev, region, "participants", "final", scope)
                      for t in _rows(ev, region, "turnout", "final", scope)]
            lists = _rows(ev, region, "voter_list", None, scope)
            for p, t in finals:
                implied = interval(p) / pct(interval(t))
                for vl in lists:
                    vl_iv = interval(vl, approx_rel=approx_rel)
                    ok = implied.overlaps(vl_iv)
                    findings.append(Finding(
                        check="implied_electorate", region=region,
                        subject=f"participants / turnout vs announced voter list ({vl['stage']})",
                        verdict=CONSISTENT if ok else INCONSISTENT, value=implied.mid,
                        expected_low=vl_iv.low, expected_high=vl_iv.high, unit="persons",
                        evidence=(p["id"], t["id"], vl["id"]),
                        explanation=(f"{p['value']:,.0f} participants at {t['value']:g}% turnout "
                                     f"imply a list of {implied.fmt()}; the announced list was "
                                     f"{vl['value']:,.0f} ({vl['bound']}, allowing {vl_iv.fmt()})"
                                     + ("" if ok else f": {100 * (implied.mid / vl_iv.mid - 1):+.0f}%")),
                        numbers={"implied_low": implied.low, "implied_high": implied.high}))
            for p in _rows(ev, region, "participants", "final", scope):
                p_iv = interval(p)
                caps = [(vl, "announced voter list") for vl in lists]
                for cap, what in caps:
                    c_iv = interval(cap, approx_rel=approx_rel)
                    ok = p_iv.low <= c_iv.high
                    findings.append(Finding(
                        check="participants_within_capacity", region=region,
                        subject=f"participants vs {what}",
                        verdict=CONSISTENT if ok else INCONSISTENT, value=p_iv.mid,
                        expected_low=0.0, expected_high=c_iv.high, unit="persons",
                        evidence=(p["id"], cap["id"]),
                        explanation=(f"{p['value']:,.0f} participants against {what} of "
                                     f"{cap['value']:,.0f} (at most {c_iv.high:,.0f} allowing "
                                     f"for '{cap['bound']}')"
                                     + ("" if ok else f": {p_iv.mid / cap['value']:.0%} of it")),
                        numbers={"ratio": p_iv.mid / float(cap["value"])}))
        findings.extend(_ballots_printed(ev, region, approx_rel))
    return findings


def latest_participants(ev, region, scope):
    """The latest announced participant count of ``scope`` (final if any)."""
    for stage in ("final", "day5_midday", "day4", "day3", "day2", "day1"):
        rows = _rows(ev, region, "participants", stage, scope)
        if rows:
            return rows[0]
    return None


def _ballots_printed(ev, region, approx_rel):
    """Participants against ballots printed, for every reading of an unstated scope."""
    out = []
    for cap in _rows(ev, region, "ballots_printed", None, None):
        scopes = ["total", "in_territory"] if cap["scope"] == "unstated" else [cap["scope"]]
        c_iv = interval(cap, approx_rel=approx_rel)
        readings = []
        for sc in scopes:
            p = latest_participants(ev, region, sc)
            if p is not None:
                readings.append((sc, p, interval(p).low <= c_iv.high))
        if not readings:
            continue
        ok_any = any(ok for _, _, ok in readings)
        verdict = CONSISTENT if ok_any else INCONSISTENT
        text = "; ".join(
            f"{sc} participants ({p['stage']}) {p['value']:,.0f} against {cap['value']:,.0f} "
            f"ballots printed (at most {c_iv.high:,.0f}): {'fits' if ok else 'exceeds'}"
            for sc, p, ok in readings)
        if cap["scope"] == "unstated":
            text += ". The announcement does not say which stations the ballots were for"
            if ok_any and not all(ok for _, _, ok in readings):
                text += ", and the reading that fits is the one with the smaller count"
        out.append(Finding(
            "participants_within_capacity", region, "participants vs ballots printed", verdict,
            float(readings[0][1]["value"]), 0.0, c_iv.high, "persons",
            (cap["id"],) + tuple(p["id"] for _, p, _ in readings), text))
    return out


def scope_composition(ev) -> list[Finding]:
    """Parts (in the territory, in Russia) against the announced totals.

    Participants must add up; where both parts have a turnout, the total
    turnout they imply (sum of participants over sum of implied lists) must
    agree with the announced total turnout.
    """
    findings = []
    for region in ev.region_codes:
        stages = set(ev.announced(region, "participants", None, "in_territory")["stage"])
        for stage in sorted(stages):
            ins = _rows(ev, region, "participants", stage, "in_territory")
            outs = _rows(ev, region, "participants", stage, "outside")
            tots = _rows(ev, region, "participants", stage, "total")
            for i, o, t in itertools.product(ins, outs, tots):
                s = interval(i) + interval(o)
                ok = s.overlaps(interval(t))
                findings.append(Finding(
                    check="scope_composition", region=region,
                    subject=f"participants in territory + outside = total ({stage})",
                    verdict=CONSISTENT if ok else INCONSISTENT, value=s.mid,
                    expected_low=interval(t).low, expected_high=interval(t).high, unit="persons",
                    evidence=(i["id"], o["id"], t["id"]),
                    explanation=f"{i['value']:,.0f} + {o['value']:,.0f} = {s.mid:,.0f} against "
                                f"the announced total {t['value']:,.0f}"))
            t_in = _rows(ev, region, "turnout", stage, "in_territory")
            t_out = _rows(ev, region, "turnout", stage, "outside")
            t_tot = _rows(ev, region, "turnout", stage, "total")
            for i, o, ti, to, tt in itertools.product(ins, outs, t_in, t_out, t_tot):
                li = interval(i) / pct(interval(ti))
                lo = interval(o) / pct(interval(to))
                parts = interval(i) + interval(o)
                # turnout of the union lies between the bounds from the list intervals
                tot = Interval(parts.low / (li.high + lo.high), parts.high / (li.low + lo.low))
                ok = tot.overlaps(pct(interval(tt)))
                findings.append(Finding(
                    check="scope_composition", region=region,
                    subject=f"total turnout implied by its parts ({stage})",
                    verdict=CONSISTENT if ok else INCONSISTENT, value=100 * tot.mid,
                    expected_low=interval(tt).low, expected_high=interval(tt).high, unit="percent",
                    evidence=(i["id"], o["id"], ti["id"], to["id"], tt["id"]),
                    explanation=(f"lists of {li.mid:,.0f} (territory) and {lo.mid:,.0f} (outside) "
                                 f"give a total turnout of {100 * tot.low:.3f}-{100 * tot.high:.3f}% "
                                 f"against the announced {tt['value']:g}%")))
    return findings


def grim(percent: float, resolution: float, denominator: int) -> dict:
    """Can a percentage stated to ``resolution`` arise from integer counts?

    GRIM-style test (granularity-related inconsistency of means): with an
    integer denominator ``N``, the possible percentages are ``100 k / N``.
    The stated value is possible when some integer ``k`` rounds to it.

    Returns the range of numerators that would round to it (empty when the
    figure is impossible) and whether the test is informative at all: when
    one unit moves the percentage by less than the resolution
    (``100 / N < resolution``) every stated value is possible.

    Examples
    --------
    >>> grim(33.3, 0.1, 3)["possible"]
    True
    >>> grim(50.0, 0.1, 3)["possible"]      # 1/3 or 2/3, never one half
    False
    """
    if denominator <= 0:
        raise ValueError(f"denominator must be positive, got {denominator}")
    if resolution <= 0:
        raise ValueError(f"resolution must be positive, got {resolution}")
    lo = (percent - resolution / 2) * denominator / 100
    hi = (percent + resolution / 2) * denominator / 100
    k_lo, k_hi = math.ceil(lo - 1e-9), math.floor(hi + 1e-9)
    return {"possible": bool(k_hi >= k_lo and k_hi >= 0 and k_lo <= denominator),
            "numerators": (k_lo, k_hi), "informative": 100 / denominator > resolution,
            "step_points": 100 / denominator}


def grim_check(ev) -> list[Finding]:
    """Apply :func:`grim` to every announced percentage with an exact integer base."""
    findings = []
    pairs = (("yes_share", "participants"), ("no_share", "participants"),
             ("turnout", "voter_list"))
    for region in ev.region_codes:
        for share_q, base_q in pairs:
            for scope in ("total", "in_territory", "outside"):
                for s in _rows(ev, region, share_q, None, scope):
                    for b in _rows(ev, region, base_q, None, scope):
                        if b["bound"] != "exact" or float(b["resolution"]) != 1:
                            continue
                        if b["stage"] != s["stage"] and not (base_q == "voter_list"
                                                             and b["stage"] in ("before", "day3")):
                            continue
                        g = grim(float(s["value"]), float(s["resolution"]), int(b["value"]))
                        if g["possible"] and not g["informative"]:
                            verdict = CONSISTENT
                            text = (f"{s['value']:g}% of {b['value']:,.0f}: one person moves the "
                                    f"share by {g['step_points']:.2g} points, finer than the stated "
                                    f"{s['resolution']:g}, so any value is possible (uninformative)")
                        else:
                            verdict = CONSISTENT if g["possible"] else INCONSISTENT
                            text = (f"{s['value']:g}% of {b['value']:,.0f} needs a count in "
                                    f"{g['numerators'][0]:,}-{g['numerators'][1]:,}")
                        findings.append(Finding(
                            check="grim", region=region,
                            subject=f"{share_q} ({s['stage']}) on {base_q} ({b['stage']})",
                            verdict=verdict, value=float(s["value"]),
                            expected_low=float(s["value"]) - float(s["resolution"]) / 2,
                            expected_high=float(s["value"]) + float(s["resolution"]) / 2,
                            unit="percent", evidence=(s["id"], b["id"]), explanation=text,
                            numbers={"informative": g["informative"]}))
    return findings


def majority_from_counts(ev) -> list[Finding]:
    """Yes votes over participants from the announced counts, per region."""
    findings = []
    for region in ev.region_codes:
        pairs = [(y, p) for y in _rows(ev, region, "yes") for p in _rows(ev, region, "participants")]
        if not pairs:
            findings.append(Finding("majority_from_counts", region, "yes / participants",
                                    NOT_CHECKABLE, np.nan, np.nan, np.nan, "percent", (),
                                    "no yes count or no participant count announced"))
            continue
        for y, p in pairs:
            share = interval(y) / interval(p)
            findings.append(Finding(
                "majority_from_counts", region, "yes / participants",
                CONSISTENT if share.low > 0.5 else INCONSISTENT, 100 * share.mid, 50.0, 100.0,
                "percent", (y["id"], p["id"]),
                f"{y['value']:,.0f} yes of {p['value']:,.0f} participants = {100 * share.mid:.2f}%"))
    return findings
