"""Aggregate plausibility checks for region totals.

:func:`run_checks` runs every check on the bundled evidence and returns an
:class:`Audit`: one tidy table of findings (one row per comparison, with
the rows of evidence it rests on) and one table of claim verdicts.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import pandas as pd

from . import arithmetic, baselines, claims, timeline
from .base import VERDICT_MEANING, VERDICTS, Finding, findings_frame

CHECKS = {
    "share_recomputation": arithmetic.share_recomputation,
    "components_sum": arithmetic.components_sum,
    "implied_electorate": arithmetic.implied_electorate,
    "scope_composition": arithmetic.scope_composition,
    "grim": arithmetic.grim_check,
    "majority_from_counts": arithmetic.majority_from_counts,
    "turnout_monotonic": timeline.turnout_monotonic,
    "electorate_by_day": timeline.electorate_by_day,
    "partial_vs_final": timeline.partial_vs_final,
    "partial_counts": timeline.partial_counts,
    "subunit_range": timeline.subunit_range,
    "electorate_capacity": baselines.electorate_capacity,
    "present_population": baselines.present_population,
    "support_vs_baselines": baselines.support_vs_baselines,
    "compare_with_other_votes": baselines.compare_with_other_votes,
    "turnout_level": baselines.turnout_level,
}
FAMILY = {
    "share_recomputation": "arithmetic", "components_sum": "arithmetic",
    "implied_electorate": "arithmetic", "scope_composition": "arithmetic", "grim": "arithmetic",
    "majority_from_counts": "arithmetic", "participants_within_capacity": "arithmetic",
    "turnout_monotonic": "timeline", "electorate_by_day": "timeline",
    "partial_vs_final": "timeline", "partial_counts": "timeline", "subunit_range": "timeline",
    "electorate_capacity": "baselines", "present_population": "baselines",
    "support_vs_baselines": "baselines",
    "compare_with_other_votes": "baselines", "turnout_level": "baselines",
    "support_range": "claims", "area_share": "claims", "voting_dates": "claims",
}


@dataclass
class Audit:
    findings: pd.DataFrame
    claims: pd.DataFrame
    objects: list[Finding] = field(repr=False, default_factory=list)
    params: dict = field(default_factory=dict)

    def count(self, verdict: str, family: str | None = None) -> int:
        f = self.findings
        if family is not None:
            f = f[f["family"] == family]
        return int((f["verdict"] == verdict).sum())


def run_checks(ev, *, approx_rel: float = 0.10, max_swing: float = 25.0,
               alpha: float = 0.05) -> Audit:
    """Run every aggregate check and evaluate the claims."""
    options = {"share_recomputation": {"approx_rel": approx_rel},
               "components_sum": {"approx_rel": approx_rel},
               "implied_electorate": {"approx_rel": approx_rel},
               "electorate_by_day": {"approx_rel": approx_rel},
               "partial_vs_final": {"alpha": alpha},
               "support_vs_baselines": {"max_swing": max_swing}}
    by_check: dict[str, list[Finding]] = {}
    for name, func in CHECKS.items():
        for f in func(ev, **options.get(name, {})):
            by_check.setdefault(f.check, []).append(f)
    claim_table, claim_findings = claims.evaluate_claims(ev, by_check)
    objects = [f for fs in by_check.values() for f in fs] + claim_findings
    table = findings_frame(objects)
    table.insert(1, "family", table["check"].map(FAMILY))
    return Audit(findings=table, claims=claim_table, objects=objects,
                 params={"approx_rel": approx_rel, "max_swing": max_swing, "alpha": alpha})


__all__ = ["Audit", "CHECKS", "VERDICTS", "VERDICT_MEANING", "run_checks"]
