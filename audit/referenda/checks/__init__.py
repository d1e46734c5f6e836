"""Aggregate plausibility checks for region totals.

:func:`run_checks` runs every check on the bundled evidence and returns an
:class:`Audit`: one tidy table of plausibility findings (one row per
comparison, with the rows of evidence it rests on and their verification
status), the claims' verdicts and the tests behind them.
:func:`sensitivity` reruns the checks with fewer or other versions of the
figures and says which findings survive.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field

import pandas as pd

from . import arithmetic
from . import baselines
from . import claims
from . import crossvote
from . import crossvote_shares
from . import timeline
from .base import (IMPLAUSIBLE, INCONSISTENT, UNUSUAL, VERDICT_MEANING, VERDICT_RULES,
                   VERDICTS, VERIFICATION, Finding, findings_frame, rule_holds, verification_of)

CHECKS = {
    "share_recomputation": arithmetic.share_recomputation,
    "components_sum": arithmetic.components_sum,
    "implied_electorate": arithmetic.implied_electorate,
    "scope_composition": arithmetic.scope_composition,
    "grim": arithmetic.grim_check,
    "turnout_monotonic": timeline.turnout_monotonic,
    "electorate_by_day": timeline.electorate_by_day,
    "partial_vs_final": timeline.partial_vs_final,
    "partial_counts": timeline.partial_counts,
    "subunit_range": timeline.subunit_range,
    "electorate_capacity": baselines.electorate_capacity,
    "present_population": baselines.present_population,
    "support_vs_baselines": baselines.support_vs_baselines,
    "compare_with_other_votes": baselines.compare_with_other_votes,
    # the same checks on the other votes held in the same regions, 2014-2024
    "counts_add_up_other_votes": crossvote.counts_add_up,
    "share_recomputed_other_votes": crossvote.share_recomputed,
    "turnout_recomputed_other_votes": crossvote.turnout_recomputed,
    "turnout_monotonic_other_votes": crossvote.turnout_monotonic,
    "implied_list_other_votes": crossvote.implied_list_vs_adults,
    "shares_add_up_other_votes": crossvote_shares.shares_add_up,
    "votes_match_shares_other_votes": crossvote_shares.votes_match_shares,
    "partial_to_final_other_votes": crossvote_shares.partial_to_final,
}
FAMILY = {
    "share_recomputation": "arithmetic", "components_sum": "arithmetic",
    "implied_electorate": "arithmetic", "scope_composition": "arithmetic", "grim": "arithmetic",
    "participants_within_capacity": "arithmetic",
    "turnout_monotonic": "timeline", "electorate_by_day": "timeline",
    "partial_vs_final": "timeline", "partial_counts": "timeline", "subunit_range": "timeline",
    "electorate_capacity": "baselines", "present_population": "baselines",
    "support_vs_baselines": "baselines", "compare_with_other_votes": "baselines",
    "counts_add_up_other_votes": "across votes", "share_recomputed_other_votes": "across votes",
    "turnout_recomputed_other_votes": "across votes",
    "turnout_monotonic_other_votes": "across votes", "implied_list_other_votes": "across votes",
    "shares_add_up_other_votes": "across votes", "votes_match_shares_other_votes": "across votes",
    "partial_to_final_other_votes": "across votes",
}
SERIOUS = (INCONSISTENT, IMPLAUSIBLE)
NOTABLE = (INCONSISTENT, IMPLAUSIBLE, UNUSUAL)
KEY = ["check", "region", "subject"]


@dataclass
class Audit:
    findings: pd.DataFrame
    claims: pd.DataFrame
    claim_tests: pd.DataFrame = field(default_factory=pd.DataFrame)
    objects: list[Finding] = field(repr=False, default_factory=list)
    params: dict = field(default_factory=dict)

    def count(self, verdict: str, family: str | None = None) -> int:
        f = self.findings
        if family is not None:
            f = f[f["family"] == family]
        return int((f["verdict"] == verdict).sum())


def _statuses(ev, region: str, evidence: str) -> str:
    """Verification statuses of the figures a finding rests on.

    Announced figures give their status ('confirmed', 'not checked', ...);
    baselines, named ``baseline:<quantity>``, give 'baseline <status>' for
    each status among that quantity's rows for the region (or the national
    rows the checks fall back on).
    """
    status = {i: verification_of(r) for i, r in
              zip(ev.announcements["id"], ev.announcements.to_dict("records"))}
    found, base = set(), set()
    b = ev.baselines
    other = {"comparison_votes": ev.comparisons, "turnout_by_day": ev.timelines,
             "shares_by_option": ev.options}
    for item in filter(None, (e.strip() for e in evidence.split(";"))):
        table, _, row = item.partition(":")
        if table in other and other[table] is not None and row.isdigit():
            if int(row) in other[table].index:
                found.add(verification_of(other[table].loc[int(row)]))
            continue
        if item.startswith("baseline:") and len(b):
            q = item.removeprefix("baseline:")
            rows = b[(b["quantity"] == q) & (b["region"] == region)]
            if rows.empty:
                rows = b[(b["quantity"] == q) & (b["unit"] == "Ukraine")]
            base |= {verification_of(r) for r in rows.to_dict("records")}
            continue
        ids = [i for i in item.split("+") if i in status]
        if ids:
            found.add(min((status[i] for i in ids), key=VERIFICATION.index))
    out = sorted(found, key=VERIFICATION.index) + [
        f"baseline {s}" for s in sorted(base, key=VERIFICATION.index)]
    return "; ".join(out) or "no figure with a status"


def run_checks(ev, *, approx_rel: float = 0.10, max_swing: float = 25.0,
               alpha: float = 0.05) -> Audit:
    """Run every aggregate check and evaluate the claims."""
    options = {"share_recomputation": {"approx_rel": approx_rel},
               "components_sum": {"approx_rel": approx_rel},
               "implied_electorate": {"approx_rel": approx_rel},
               "electorate_by_day": {"approx_rel": approx_rel},
               "present_population": {"approx_rel": approx_rel},
               "partial_vs_final": {"alpha": alpha},
               "support_vs_baselines": {"max_swing": max_swing},
               "share_recomputed_other_votes": {"approx_rel": approx_rel},
               "turnout_recomputed_other_votes": {"approx_rel": approx_rel},
               "turnout_monotonic_other_votes": {"approx_rel": approx_rel}}
    objects: list[Finding] = []
    for name, func in CHECKS.items():
        objects.extend(func(ev, **options.get(name, {})))
    table = findings_frame(objects)
    table.insert(0, "finding_id", [f"F{i:03d}" for i in range(1, len(table) + 1)])
    table.insert(2, "family", table["check"].map(FAMILY))
    table.insert(table.columns.get_loc("evidence") + 1, "rests_on",
                 [_statuses(ev, r, e) for r, e in zip(table["region"], table["evidence"])])
    claim_table, claim_tests = claims.evaluate_claims(ev, table)
    return Audit(findings=table, claims=claim_table, claim_tests=claim_tests, objects=objects,
                 params={"approx_rel": approx_rel, "max_swing": max_swing, "alpha": alpha})


def _without(ev, statuses) -> object:
    """The evidence without the announced figures of the given statuses; the
    other votes checked across votes (the organisers' votes in the four
    regions, their turnout by day and their shares by option) lose theirs too. Their row labels are
    kept, so findings still name the rows they rest on."""
    a = ev.announcements
    keep = ~a.apply(lambda r: verification_of(r) in statuses, axis=1)
    c = ev.comparisons
    drop = c.index.isin(crossvote.organisers_votes(ev).index) & c.apply(
        lambda r: verification_of(r) in statuses, axis=1).to_numpy(dtype=bool)
    t = ev.timelines
    if t is not None and len(t):
        t = t[~t.apply(lambda r: verification_of(r) in statuses, axis=1)]
    o = ev.options
    if o is not None and len(o):
        o = o[~o.apply(lambda r: verification_of(r) in statuses, axis=1)]
    return dataclasses.replace(ev, announcements=a[keep].reset_index(drop=True),
                               comparisons=c[~drop], timelines=t, options=o)


def _alternatives(ev) -> object:
    """The evidence with every figure reported in several versions replaced
    by its other versions (the version the checks prefer is dropped)."""
    a = ev.announcements
    drop = []
    for _, g in a.groupby(["region", "quantity", "stage", "scope"], sort=False):
        if g["value"].nunique() < 2:
            continue
        best = baselines._best([r for _, r in g.iterrows()])
        drop += list(g.index[g["value"] == best["value"]])
    return dataclasses.replace(ev, announcements=a.drop(index=drop).reset_index(drop=True))


def _confirmed_baselines(ev) -> object:
    """The evidence with only the baselines confirmed on a stored page."""
    b = ev.baselines
    keep = b.apply(lambda r: verification_of(r) == "confirmed", axis=1) if len(b) else []
    return dataclasses.replace(ev, baselines=b[keep].reset_index(drop=True) if len(b) else b)


SCENARIOS = {
    "all figures": lambda ev: ev,
    "without figures not found": lambda ev: _without(ev, {"not found", "derived"}),
    "without single-source and unchecked figures": lambda ev: _without(
        ev, {"not found", "derived", "single source"}),
    "confirmed figures only": lambda ev: _without(
        ev, {"not found", "derived", "single source", "not checked"}),
    "confirmed figures and baselines only": lambda ev: _confirmed_baselines(_without(
        ev, {"not found", "derived", "single source", "not checked"})),
    "alternative versions": _alternatives,
}
CONFIRMED_ONLY = "confirmed figures only"


def _summarise(findings: pd.DataFrame) -> pd.Series:
    """Per (check, region, subject): the most serious verdict and how many rows."""
    def one(g):
        v = next(x for x in VERDICTS if x in set(g))
        return v if len(g) == 1 else f"{v} ({(g == v).sum()} of {len(g)})"
    return findings.groupby(KEY, sort=False)["verdict"].agg(one)


def sensitivity(ev, **options) -> pd.DataFrame:
    """Each finding's verdict as figures are dropped or swapped for other versions.

    One row per (check, region, subject) that is inconsistent, implausible
    or unusual in at least one scenario; one column per scenario of
    :data:`SCENARIOS` ('absent' when the finding cannot be formed without
    the dropped figures). ``survives`` is true when the finding keeps an
    inconsistent or implausible verdict in the confirmed-only run.
    """
    cols = {}
    for name, make in SCENARIOS.items():
        cols[name] = _summarise(run_checks(make(ev), **options).findings)
    table = pd.DataFrame(cols).fillna("absent")
    head = table.map(lambda v: v.split(" (")[0])
    keep = head.isin(NOTABLE).any(axis=1)
    table, head = table[keep], head[keep]
    table["survives"] = head[CONFIRMED_ONLY].isin(SERIOUS) & head["all figures"].isin(SERIOUS)
    table["changes"] = head.nunique(axis=1) > 1
    return table.reset_index(names=KEY)


__all__ = ["Audit", "CHECKS", "SCENARIOS", "VERDICTS", "VERDICT_MEANING", "VERDICT_RULES",
           "rule_holds", "run_checks", "sensitivity"]
