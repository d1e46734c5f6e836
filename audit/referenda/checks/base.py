"""Shared pieces of the aggregate checks: findings, verdicts, intervals.

An announced figure stands for an interval of true values: ``exact`` figures
for ``value +- resolution / 2`` (the rounding of the figure as stated),
``lower`` bounds ('more than') for ``[value - resolution / 2, inf)``, and
``approximate`` figures ('about') for ``value +- max(resolution / 2,
approx_rel * value)``. Checks compare intervals, so a verdict of
"inconsistent" means no choice of true values within every stated precision
makes the figures agree.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

import pandas as pd

CONSISTENT = "consistent"
INCONSISTENT = "inconsistent"        # the announcer's own figures cannot all be true
IMPLAUSIBLE = "implausible"          # outside what independent baselines allow
UNUSUAL = "unusual"                  # outside a comparison range, not impossible
INCONCLUSIVE = "inconclusive"        # ran, but the evidence cannot decide
NOT_CHECKABLE = "not checkable"      # the figures needed are missing

VERDICTS = (INCONSISTENT, IMPLAUSIBLE, UNUSUAL, INCONCLUSIVE, CONSISTENT, NOT_CHECKABLE)

# What a finding compares a figure with. The verdicts a finding may take
# depend on it, and each verdict has one rule, applied the same way everywhere.
OWN = "own figures"          # the announcer's other figures
BASELINE = "baseline"        # a bound set by independent figures (populations, votes)
COMPARISON = "comparison"    # the range of comparable figures, which bounds nothing
KINDS = (OWN, BASELINE, COMPARISON)

VERDICT_RULES = {
    CONSISTENT: "the figure lies inside the interval it is compared with (the range the "
                "announcer's other figures allow at their stated precision, a baseline bound, "
                "or the range of the comparison figures)",
    INCONSISTENT: "the announcer's own figures: no choice of true values within every "
                  "figure's stated precision makes them agree, so they cannot all be true",
    IMPLAUSIBLE: "the figure lies beyond a bound set by independent baselines (for example "
                 "more voters than the adults who could be on the list, or a share further "
                 "above every independent measure than the set swing)",
    UNUSUAL: "the figure lies outside the range of the comparison figures (other votes, or "
             "a rough estimate) although no baseline excludes it",
    INCONCLUSIVE: "the check ran, but the readings it must allow or its probability cannot "
                  "decide between consistent and inconsistent",
    NOT_CHECKABLE: "a figure the check needs is missing",
}
VERDICT_MEANING = VERDICT_RULES
ALLOWED = {
    OWN: {CONSISTENT, INCONSISTENT, INCONCLUSIVE, NOT_CHECKABLE},
    BASELINE: {CONSISTENT, IMPLAUSIBLE, NOT_CHECKABLE},
    COMPARISON: {CONSISTENT, UNUSUAL, NOT_CHECKABLE},
}

# Verification of a figure against stored public pages, most secure first.
VERIFICATION = ("confirmed", "single source", "not checked", "not found", "derived")
UNCHECKED = "not checked"


def verification_of(row) -> str:
    """A row's verification status (an empty cell counts as 'not checked')."""
    v = row.get("verification") if hasattr(row, "get") else None
    return v if isinstance(v, str) and v in VERIFICATION else UNCHECKED


def rule_holds(row) -> tuple[bool, str]:
    """Does a findings-table row's verdict follow its printed rule?

    The verdict must be one its kind allows; a finding against a baseline or
    a comparison range is consistent exactly when its value lies inside
    ``[expected_low, expected_high]``, implausible or unusual exactly when
    it lies outside, and not checkable exactly when there is no value.
    Returns ``(holds, reason)``.
    """
    kind, verdict = row["kind"], row["verdict"]
    if kind not in ALLOWED:
        return False, f"unknown kind {kind!r}"
    if verdict not in ALLOWED[kind]:
        return False, f"verdict {verdict!r} is not one a {kind} finding can take"
    if kind == OWN:
        return True, "own-figures verdict"
    value, lo, hi = (float(row[k]) for k in ("value", "expected_low", "expected_high"))
    if verdict == NOT_CHECKABLE:
        return bool(math.isnan(value)), "not checkable needs no value"
    if math.isnan(value) or math.isnan(lo) or math.isnan(hi):
        return False, "a judged finding needs a value and its interval"
    inside = lo <= value <= hi
    if verdict == CONSISTENT:
        return inside, "consistent means inside the interval"
    return not inside, f"{verdict} means outside the interval"


APPROX_REL = 0.10   # default relative tolerance of figures stated as 'about'


@dataclass(frozen=True)
class Interval:
    low: float
    high: float

    def __post_init__(self):
        if self.low > self.high:
            raise ValueError(f"empty interval [{self.low}, {self.high}]")

    @property
    def mid(self) -> float:
        if math.isinf(self.high):
            return self.low
        return (self.low + self.high) / 2

    def overlaps(self, other: "Interval") -> bool:
        return self.low <= other.high and other.low <= self.high

    def __truediv__(self, other: "Interval") -> "Interval":
        if other.low <= 0:
            raise ZeroDivisionError("denominator interval reaches zero")
        return Interval(self.low / other.high,
                        math.inf if math.isinf(self.high) else self.high / other.low)

    def __add__(self, other: "Interval") -> "Interval":
        return Interval(self.low + other.low, self.high + other.high)

    def __sub__(self, other: "Interval") -> "Interval":
        return Interval(self.low - other.high, self.high - other.low)

    def scale(self, k: float) -> "Interval":
        a, b = self.low * k, self.high * k
        return Interval(min(a, b), max(a, b))

    def fmt(self, digits: int = 0) -> str:
        hi = "inf" if math.isinf(self.high) else f"{self.high:,.{digits}f}"
        if self.low == self.high:
            return f"{self.low:,.{digits}f}"
        return f"[{self.low:,.{digits}f}, {hi}]"


def interval(row, *, approx_rel: float = APPROX_REL) -> Interval:
    """True-value interval of one announcement row (percent stay percent)."""
    value, half = float(row["value"]), float(row["resolution"]) / 2
    bound = row["bound"]
    if bound == "exact":
        return Interval(value - half, value + half)
    if bound == "lower":
        return Interval(value - half, math.inf)
    if bound == "upper":
        return Interval(0.0, value + half)
    if bound == "approximate":
        d = max(half, approx_rel * value)
        return Interval(value - d, value + d)
    raise ValueError(f"unknown bound {bound!r} in row {row.get('id')}")


def pct(iv: Interval) -> Interval:
    """Percent interval -> fraction interval."""
    return iv.scale(0.01)


@dataclass(frozen=True)
class Finding:
    """One comparison a reader can redo by hand.

    ``value`` is what the check computed, ``expected`` the interval the
    announced or baseline figure allows; ``evidence`` lists the row ids used.
    """

    check: str
    region: str
    subject: str
    verdict: str
    value: float
    expected_low: float
    expected_high: float
    unit: str
    evidence: tuple[str, ...]
    explanation: str
    numbers: dict[str, Any] = field(default_factory=dict)
    kind: str = OWN

    def __post_init__(self):
        if self.verdict not in VERDICTS:
            raise ValueError(f"unknown verdict {self.verdict!r}")
        if self.kind not in KINDS:
            raise ValueError(f"unknown kind {self.kind!r}")

    def as_row(self) -> dict:
        return {"check": self.check, "region": self.region, "subject": self.subject,
                "kind": self.kind, "verdict": self.verdict, "value": self.value,
                "expected_low": self.expected_low, "expected_high": self.expected_high,
                "unit": self.unit, "evidence": "; ".join(self.evidence),
                "explanation": self.explanation}


def findings_frame(findings) -> pd.DataFrame:
    cols = ["check", "region", "subject", "kind", "verdict", "value", "expected_low",
            "expected_high", "unit", "evidence", "explanation"]
    return pd.DataFrame([f.as_row() for f in findings], columns=cols)


def worst(verdicts) -> str:
    """The most serious verdict of several (order of :data:`VERDICTS`)."""
    verdicts = list(verdicts)
    for v in VERDICTS:
        if v in verdicts:
            return v
    return NOT_CHECKABLE
