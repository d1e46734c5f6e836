"""Verdicts for the claims ledger (``seeds/claims.yaml``).

Each claim names the checks that evaluate it. Claim-specific checks
(``support_range``, ``area_share``, ``voting_dates``) use the claim's own
figures; the others are the general checks, whose findings are attached.
The claim's verdict is computed from its findings, most serious first:

* contradicted by the announcer's own figures (any finding inconsistent),
* implausible against baselines (any finding implausible),
* consistent (at least one finding consistent),
* not checkable with numbers (a qualitative claim, or no finding).
"""

from __future__ import annotations

import datetime as dt

import numpy as np
import pandas as pd

from .arithmetic import _rows
from .base import (CONSISTENT, IMPLAUSIBLE, INCONSISTENT, NOT_CHECKABLE, Finding, Interval)
from .baselines import _best, baseline_range

CONTRADICTED = "contradicted by the announcer's own figures"
IMPLAUSIBLE_CLAIM = "implausible against baselines"
CONSISTENT_CLAIM = "consistent"
NOT_CHECKABLE_CLAIM = "not checkable with numbers"
CLAIM_VERDICTS = (CONTRADICTED, IMPLAUSIBLE_CLAIM, CONSISTENT_CLAIM, NOT_CHECKABLE_CLAIM)


def _claim_interval(fig) -> Interval:
    res = float(fig.get("resolution", 1))
    return Interval(float(fig["low"]) - res / 2, float(fig["high"]) + res / 2)


def support_range(ev, claim) -> list[Finding]:
    """The claimed range of support against the announced and recomputed shares."""
    fig = claim["figures"]
    allowed = _claim_interval(fig)
    shares, counts = [], []
    for region in ev.region_codes:
        s = _best(_rows(ev, region, "yes_share"))
        if s is not None:
            shares.append((region, float(s["value"]), s["id"]))
        for y in _rows(ev, region, "yes"):
            for p in _rows(ev, region, "participants"):
                counts.append((region, 100 * float(y["value"]) / float(p["value"]),
                               f"{y['id']}; {p['id']}"))
    out = []
    for label, vals in (("announced shares", shares), ("shares recomputed from counts", counts)):
        if not vals:
            continue
        lo, hi = min(v for _, v, _ in vals), max(v for _, v, _ in vals)
        # the claim states a range: both ends must match, to its rounding
        ok = allowed.low <= lo <= float(fig["low"]) + 0.5 and float(fig["high"]) - 0.5 <= hi <= allowed.high
        outside = [f"{r} {v:.2f}%" for r, v, _ in vals if not allowed.low <= v <= allowed.high]
        verdict = CONSISTENT if ok else INCONSISTENT
        text = (f"{label} run from {lo:.2f}% to {hi:.2f}% against the claimed "
                f"{fig['low']}-{fig['high']}%"
                + ("" if not outside else "; outside the claim: " + ", ".join(outside)))
        out.append(Finding("support_range", "all", f"claimed range vs {label}", verdict,
                           lo, allowed.low, allowed.high, "percent",
                           tuple(i for _, _, i in vals), text, numbers={"low": lo, "high": hi}))
    return out


def area_share(ev, claim) -> list[Finding]:
    """Share of Ukraine's area: the parts held, and the whole oblasts."""
    fig = claim["figures"]
    rel = 0.10 if fig.get("approximate") else 0.0
    allowed = Interval(fig["value"] * (1 - rel) - 0.5, fig["value"] * (1 + rel) + 0.5)
    total, _ = baseline_range(ev, None, "area", fallback_unit="Ukraine")
    if total is None:
        return [Finding("area_share", "all", "area share", NOT_CHECKABLE, np.nan, np.nan, np.nan,
                        "percent", (), "no area of Ukraine in the baselines")]
    whole, held, missing = 0.0, 0.0, []
    for region in ev.region_codes:
        a, _ = baseline_range(ev, region, "area", fallback_unit=None)
        h, _ = baseline_range(ev, region, "share_territory_russian_controlled", fallback_unit=None)
        if a is None or h is None:
            missing.append(region)
            continue
        whole += a.mid
        held += a.mid * h.mid / 100
    if missing:
        return [Finding("area_share", "all", "area share", NOT_CHECKABLE, np.nan, np.nan, np.nan,
                        "percent", (), "area or held share missing for " + ", ".join(missing))]
    out = []
    for label, val in (("parts held in September 2022", held), ("whole oblasts", whole)):
        share = 100 * val / total.mid
        ok = allowed.low <= share <= allowed.high
        out.append(Finding(
            "area_share", "all", f"area share: {label}", CONSISTENT if ok else INCONSISTENT,
            share, allowed.low, allowed.high, "percent", ("baseline:area",
                                                          "baseline:share_territory_russian_controlled"),
            f"{label}: {val:,.0f} of {total.mid:,.0f} km2 = {share:.1f}% against 'about "
            f"{fig['value']}%' (taken as {allowed.low:.1f}-{allowed.high:.1f}%)"))
    # the claim holds if either reading of 'the territories' fits
    if any(f.verdict == CONSISTENT for f in out):
        out = [f if f.verdict == CONSISTENT else Finding(**{**f.__dict__, "verdict": NOT_CHECKABLE,
               "explanation": f.explanation + " (the other reading fits)"}) for f in out]
    return out


_WEEKDAYS = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")


def voting_dates(ev, claim) -> list[Finding]:
    """Claimed first and last voting days against the announcement dates.

    Voting days are read from the daily turnout announcements: day 1 is the
    date of the day-1 figures; the last day is one day after the day-4
    figures (five days of voting).
    """
    fig = claim["figures"]
    a = ev.announcements
    d1 = a[a["stage"] == "day1"]["as_of"]
    d4 = a[a["stage"] == "day4"]["as_of"]
    if d1.empty or d4.empty:
        return [Finding("voting_dates", "all", "voting dates", NOT_CHECKABLE, np.nan, np.nan,
                        np.nan, "date", (), "no daily announcements")]
    start = d1.min().date()
    end = (d4.max() + pd.Timedelta(days=1)).date()
    published = fig["published"] if isinstance(fig["published"], dt.date) else \
        dt.date.fromisoformat(str(fig["published"]))

    def previous(weekday: str, before: dt.date) -> dt.date:
        k = _WEEKDAYS.index(weekday)
        d = before - dt.timedelta(days=1)
        while d.weekday() != k:
            d -= dt.timedelta(days=1)
        return d

    want_start = previous(fig["start_weekday"], published)
    want_end = previous(fig["end_weekday"], published)
    ok = want_start == start and want_end == end
    text = (f"announcements put voting on {start:%a %d %b} to {end:%a %d %b %Y}; the claim, "
            f"read from a report of {published:%a %d %b}, gives {want_start:%a %d %b} to "
            f"{want_end:%a %d %b}")
    return [Finding("voting_dates", "all", "first and last day of voting",
                    CONSISTENT if ok else INCONSISTENT, float((end - start).days + 1), 5.0, 5.0,
                    "days", tuple(a[a["stage"].isin(["day1", "day4"])]["id"]), text)]


CLAIM_CHECKS = {"support_range": support_range, "area_share": area_share,
                "voting_dates": voting_dates}


def claim_verdict(findings) -> str:
    verdicts = {f.verdict for f in findings}
    if INCONSISTENT in verdicts:
        return CONTRADICTED
    if IMPLAUSIBLE in verdicts:
        return IMPLAUSIBLE_CLAIM
    if CONSISTENT in verdicts:
        return CONSISTENT_CLAIM
    return NOT_CHECKABLE_CLAIM


def evaluate_claims(ev, general: dict[str, list[Finding]]) -> tuple[pd.DataFrame, list[Finding]]:
    """Verdict for every claim; ``general`` maps check name -> its findings."""
    rows, extra = [], []
    for claim in ev.claims:
        found = []
        for name in claim["checks"]:
            if name in CLAIM_CHECKS:
                fs = CLAIM_CHECKS[name](ev, claim)
                extra.extend(fs)
                found.extend(fs)
            elif name in general:
                found.extend(general[name])
            else:
                raise KeyError(f"claim {claim['id']} names an unknown check {name!r}")
        verdict = NOT_CHECKABLE_CLAIM if claim["kind"] == "qualitative" else claim_verdict(found)
        decisive = [f for f in found if f.verdict in (INCONSISTENT, IMPLAUSIBLE)]
        basis = decisive or [f for f in found if f.verdict == CONSISTENT]
        rows.append({
            "claim_id": claim["id"], "claim": claim["claim"], "attribution": claim["attribution"],
            "checks": ", ".join(claim["checks"]) or "none", "verdict": verdict,
            "n_findings": len(found),
            "n_inconsistent": sum(f.verdict == INCONSISTENT for f in found),
            "n_implausible": sum(f.verdict == IMPLAUSIBLE for f in found),
            "basis": " | ".join(f"{f.check} ({f.region}): {f.explanation}" for f in basis[:3])
                     or ("a statement without figures" if claim["kind"] == "qualitative"
                         else "no check could run")})
    return pd.DataFrame(rows), extra
