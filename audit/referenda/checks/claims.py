"""Verdicts for the claims ledger (``seeds/claims.yaml``).

A claim is judged in two steps, kept apart from the plausibility findings:

1. its **tests** compare what the claim says with the announced figures
   (does 87-99% describe the announced shares? were the announced turnouts
   high?); each test fits the claim or does not;
2. its **checks** are plausibility checks of the figures the claim rests
   on; their findings are listed, never re-labelled.

The verdict follows the first rule of :data:`CLAIM_RULES` that applies;
the rules are printed in the report.
"""

from __future__ import annotations

import datetime as dt

import numpy as np
import pandas as pd

from .arithmetic import _rows
from .base import (CONSISTENT, IMPLAUSIBLE, INCONSISTENT, NOT_CHECKABLE, Finding, Interval,
                   interval)
from .baselines import _best, baseline_range

NOT_CHECKABLE_CLAIM = "not checkable"
NOT_SUPPORTED = "not supported"
RESTS_ON_INCONSISTENT = "rests on inconsistent figures"
RESTS_ON_IMPLAUSIBLE = "rests on implausible figures"
SUPPORTED = "supported"
CLAIM_VERDICTS = (NOT_CHECKABLE_CLAIM, NOT_SUPPORTED, RESTS_ON_INCONSISTENT,
                  RESTS_ON_IMPLAUSIBLE, SUPPORTED)
CLAIM_RULES = {
    NOT_CHECKABLE_CLAIM: "the claim states nothing a number can test, or none of its tests "
                         "could run",
    NOT_SUPPORTED: "a test of the claim does not fit: the announced figures say something "
                   "other than the claim",
    RESTS_ON_INCONSISTENT: "every test fits the announced figures, but a plausibility check "
                           "of the figures the claim rests on finds them inconsistent (they "
                           "cannot all be true)",
    RESTS_ON_IMPLAUSIBLE: "every test fits, no check finds the figures inconsistent, but one "
                          "finds a figure implausible against independent baselines",
    SUPPORTED: "every test fits, and no check of the figures the claim rests on finds them "
               "inconsistent or implausible",
}
FITS, MISFITS, NOT_RUN = "fits the claim", "does not fit the claim", "could not run"
RESULT = {CONSISTENT: FITS, INCONSISTENT: MISFITS, NOT_CHECKABLE: NOT_RUN}


def _claim_interval(fig) -> Interval:
    res = float(fig.get("resolution", 1))
    return Interval(float(fig["low"]) - res / 2, float(fig["high"]) + res / 2)


def support_range(ev, claim) -> list[Finding]:
    """The claimed range of support against the announced yes shares.

    The claim states a range, so both ends must match it to its rounding:
    the lowest announced share must round to the claimed low end and the
    highest to the claimed high end. Shares recomputed from the counts are
    a matter for the plausibility check ``share_recomputation``, not for
    the claim.
    """
    fig = claim["figures"]
    allowed = _claim_interval(fig)
    shares = []
    for region in ev.region_codes:
        s = _best(_rows(ev, region, "yes_share"))
        if s is not None:
            shares.append((region, float(s["value"]), s["id"]))
    if not shares:
        return [Finding("support_range", "all", "claimed range vs announced shares",
                        NOT_CHECKABLE, np.nan, np.nan, np.nan, "percent", (), "no announced share")]
    lo, hi = min(v for _, v, _ in shares), max(v for _, v, _ in shares)
    ok = (allowed.low <= lo <= float(fig["low"]) + 0.5
          and float(fig["high"]) - 0.5 <= hi <= allowed.high)
    text = (f"announced shares run from {lo:.2f}% to {hi:.2f}% ("
            + ", ".join(f"{r} {v:.2f}%" for r, v, _ in shares)
            + f") against the claimed {fig['low']}-{fig['high']}%")
    return [Finding("support_range", "all", "claimed range vs announced shares",
                    CONSISTENT if ok else INCONSISTENT, lo, allowed.low, allowed.high, "percent",
                    tuple(i for _, _, i in shares), text, numbers={"low": lo, "high": hi})]


def turnout_high(ev, claim) -> list[Finding]:
    """'Turnout was high': each announced turnout against what the same voters did before.

    'High' is read as above the turnout of the region's most recent free
    vote in the comparison set (for all four regions the 2019 Ukrainian
    presidential election), a yardstick nobody chose for this test. The
    median of the free referendums is given for context only: it moves
    with the referendums one chooses to list. The test says whether the
    word describes the announced figure, not whether the figure is true.
    """
    c = ev.comparisons
    free = c[c["category"].isin(["free_referendum", "free_election"])].dropna(
        subset=["turnout_pct_high"])
    med = float(free[free["category"] == "free_referendum"]["turnout_pct_high"].median()) \
        if len(free) else float("nan")
    out = []
    for region in ev.region_codes:
        t = _best(_rows(ev, region, "turnout"))
        own = free[free["region"] == region].sort_values("date")
        if t is None or own.empty:
            out.append(Finding("turnout_high", region, "announced turnout is high",
                               NOT_CHECKABLE, np.nan, np.nan, np.nan, "percent", (),
                               "no announced turnout or no earlier free vote in the region"))
            continue
        last = own[own["date"] == own["date"].max()]
        ref = float(last["turnout_pct_high"].max())
        high = interval(t).low > ref
        out.append(Finding(
            "turnout_high", region, "announced turnout is high",
            CONSISTENT if high else INCONSISTENT, float(t["value"]), ref, 100.0, "percent",
            (t["id"],), f"announced {t['value']:g}% against {ref:g}% in the region's last free "
            f"vote ({last['vote'].iloc[0]}, {last['date'].iloc[0]:%Y}); for context, the free "
            f"referendums in the record have a median turnout of {med:.1f}%"))
    return out


def majority(ev, claim) -> list[Finding]:
    """'An overwhelming majority': announced shares and counts above the claimed floor."""
    floor = float(claim["figures"]["low"])
    out = []
    for region in ev.region_codes:
        s = _best(_rows(ev, region, "yes_share"))
        y, p = _best(_rows(ev, region, "yes")), _best(_rows(ev, region, "participants"))
        if s is None:
            out.append(Finding("majority", region, "announced yes share above the floor",
                               NOT_CHECKABLE, np.nan, np.nan, np.nan, "percent", (),
                               "no announced share"))
            continue
        text = f"announced {s['value']:g}% yes against a floor of {floor:g}%"
        ids = (s["id"],)
        ok = interval(s).low > floor
        if y is not None and p is not None:
            share = 100 * (interval(y) / interval(p)).low
            text += f"; the counts give at least {share:.2f}% ({y['value']:,.0f} of {p['value']:,.0f})"
            ids += (y["id"], p["id"])
            ok = ok and share > floor
        out.append(Finding("majority", region, "announced yes share above the floor",
                           CONSISTENT if ok else INCONSISTENT, float(s["value"]), floor, 100.0,
                           "percent", ids, text))
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


CLAIM_TESTS = {"support_range": support_range, "turnout_high": turnout_high,
               "majority": majority, "area_share": area_share, "voting_dates": voting_dates}
CLAIM_CHECKS = CLAIM_TESTS


def claim_verdict(test_verdicts, check_verdicts, *, qualitative: bool = False) -> str:
    """Apply :data:`CLAIM_RULES` in order to a claim's test and check verdicts."""
    tests = [v for v in test_verdicts if v != NOT_CHECKABLE]
    if qualitative or not tests:
        return NOT_CHECKABLE_CLAIM
    if INCONSISTENT in tests:
        return NOT_SUPPORTED
    checks = set(check_verdicts)
    if INCONSISTENT in checks:
        return RESTS_ON_INCONSISTENT
    if IMPLAUSIBLE in checks:
        return RESTS_ON_IMPLAUSIBLE
    return SUPPORTED


def evaluate_claims(ev, findings: pd.DataFrame) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Verdict of every claim and the table of its tests.

    ``findings`` is the plausibility findings table (with ``finding_id``);
    a claim's checks select its rows by check name. Returns ``(claims,
    claim_tests)``.
    """
    rows, tests = [], []
    for claim in ev.claims:
        own = []
        for name in claim["tests"]:
            if name not in CLAIM_TESTS:
                raise KeyError(f"claim {claim['id']} names an unknown test {name!r}")
            own.extend(CLAIM_TESTS[name](ev, claim))
        unknown = set(claim["checks"]) - set(findings["check"])
        if unknown:
            raise KeyError(f"claim {claim['id']} names checks with no findings: {sorted(unknown)}")
        related = findings[findings["check"].isin(claim["checks"])]
        verdict = claim_verdict([f.verdict for f in own], related["verdict"],
                                qualitative=claim["kind"] == "qualitative")
        for f in own:
            tests.append({"claim_id": claim["id"], "test": f.check, "region": f.region,
                          "subject": f.subject, "result": RESULT[f.verdict], "value": f.value,
                          "expected_low": f.expected_low, "expected_high": f.expected_high,
                          "unit": f.unit, "evidence": "; ".join(f.evidence),
                          "explanation": f.explanation})
        parts = [f"{RESULT[f.verdict]} ({f.check}, {f.region}): {f.explanation}" for f in own]
        for word in (INCONSISTENT, IMPLAUSIBLE):
            hit = related[related["verdict"] == word]
            if len(hit):
                parts.append(f"{len(hit)} of the {len(related)} findings of its checks are "
                             f"{word}: " + ", ".join(hit["finding_id"]))
        if len(related) and not any(related["verdict"].isin([INCONSISTENT, IMPLAUSIBLE])):
            parts.append(f"none of the {len(related)} findings of its checks is inconsistent "
                         "or implausible")
        rows.append({
            "claim_id": claim["id"], "claim": claim["claim"], "attribution": claim["attribution"],
            "tests": ", ".join(claim["tests"]) or "none",
            "checks": ", ".join(claim["checks"]) or "none", "verdict": verdict,
            "n_findings": len(related),
            "n_inconsistent": int((related["verdict"] == INCONSISTENT).sum()),
            "n_implausible": int((related["verdict"] == IMPLAUSIBLE).sum()),
            "basis": " | ".join(parts) or ("a statement without figures"
                                           if claim["kind"] == "qualitative"
                                           else "no test could run")})
    test_cols = ["claim_id", "test", "region", "subject", "result", "value", "expected_low",
                 "expected_high", "unit", "evidence", "explanation"]
    return pd.DataFrame(rows), pd.DataFrame(tests, columns=test_cols)
