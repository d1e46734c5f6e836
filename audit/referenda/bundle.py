"""The bundled evidence for the 2022 case: loading and verification.

:func:`load_evidence` verifies every bundled table against
``data/datapackage.json`` (sha256, bytes, schema) and returns them together
with the claims ledger from ``seeds/claims.yaml``.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import pandas as pd
import yaml

from ..tables import datapackage
from ..core import resources
from ..core.errors import InputError

ROOT = resources.root()     # the checkout, or the copy inside an installed package
DATAPACKAGE = resources.path("data", "datapackage.json")
CLAIMS = resources.path("seeds", "claims.yaml")

CLAIM_KEYS = {"id", "claim", "attribution", "source", "kind", "figures", "tests", "checks"}
CLAIM_KINDS = {"quantitative", "qualitative"}


@dataclass(frozen=True)
class Evidence:
    """Every table the aggregate audit uses."""

    announcements: pd.DataFrame
    subunits: pd.DataFrame
    comparisons: pd.DataFrame
    baselines: pd.DataFrame
    regions: pd.DataFrame
    verification: pd.DataFrame
    claims: list[dict]
    sources: dict
    # cumulative turnout announced during the 2023 and 2024 votes in the same regions
    timelines: pd.DataFrame | None = None
    # shares of every option announced during and after the count of other votes (2018)
    options: pd.DataFrame | None = None

    @property
    def region_codes(self) -> list[str]:
        return list(self.regions["region"])

    def announced(self, region=None, quantity=None, stage=None, scope="total") -> pd.DataFrame:
        """Announcement rows matching every filter that is not ``None``."""
        a = self.announcements
        mask = pd.Series(True, index=a.index)
        for col, want in (("region", region), ("quantity", quantity),
                          ("stage", stage), ("scope", scope)):
            if want is not None:
                mask &= a[col].isin([want] if isinstance(want, str) else want)
        return a[mask]

    def baseline(self, region, quantity) -> pd.DataFrame:
        b = self.baselines
        return b[(b["region"] == region) & (b["quantity"] == quantity)]


def load_claims(path=CLAIMS) -> list[dict]:
    """Read and validate the claims ledger; errors name the file and claim."""
    path = Path(path)
    try:
        doc = yaml.safe_load(path.read_text(encoding="utf-8"))
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        raise InputError(f"not valid YAML ({getattr(exc, 'problem', exc)})", file=path,
                         row=None if mark is None else mark.line + 1) from None
    if not isinstance(doc, dict) or not isinstance(doc.get("claims"), list):
        raise InputError("expected a mapping with a 'claims' list", file=path)
    seen = set()
    for i, claim in enumerate(doc["claims"], start=1):
        where = f"claim {i}"
        if not isinstance(claim, dict):
            raise InputError(f"{where}: expected a mapping", file=path)
        missing = CLAIM_KEYS - set(claim)
        extra = set(claim) - CLAIM_KEYS
        if missing:
            raise InputError(f"{where}: missing key(s) {', '.join(sorted(missing))}", file=path,
                             column=sorted(missing)[0])
        if extra:
            raise InputError(f"{where}: unknown key(s) {', '.join(sorted(extra))}", file=path,
                             column=sorted(extra)[0])
        if claim["id"] in seen:
            raise InputError(f"{where}: duplicate id {claim['id']!r}", file=path, column="id")
        seen.add(claim["id"])
        if claim["kind"] not in CLAIM_KINDS:
            raise InputError(f"{where}: kind must be one of {sorted(CLAIM_KINDS)}", file=path,
                             column="kind")
        if claim["source"] not in doc.get("documents", {}):
            raise InputError(f"{where}: source {claim['source']!r} is not listed under documents",
                             file=path, column="source")
    return doc["claims"]


def load_evidence(datapackage_path=DATAPACKAGE, claims_path=CLAIMS) -> Evidence:
    """Verify and load the bundled evidence (hash and schema of every table)."""
    dp = Path(datapackage_path)
    desc = datapackage.load_descriptor(dp)
    tables = {name: datapackage.read_table(dp, name) for name in (
        "announcements_2022", "subunits_2022", "comparison_votes",
        "baselines_oblasts", "regions", "verification", "turnout_by_day_other_votes",
        "shares_by_option_other_votes")}
    sources = {r["name"]: {"path": r["path"], "sha256": r["hash"].removeprefix("sha256:"),
                           "title": r.get("title", "")} for r in desc["resources"]}
    return Evidence(announcements=tables["announcements_2022"],
                    subunits=tables["subunits_2022"],
                    verification=tables["verification"],
                    comparisons=tables["comparison_votes"],
                    baselines=tables["baselines_oblasts"],
                    regions=tables["regions"],
                    claims=load_claims(claims_path), sources=sources,
                    timelines=tables["turnout_by_day_other_votes"],
                    options=tables["shares_by_option_other_votes"])


def verify_package(datapackage_path=None) -> list[str]:
    """Check every resource; return one line per table (raises on the first failure)."""
    dp = Path(datapackage_path) if datapackage_path else DATAPACKAGE
    desc = datapackage.load_descriptor(dp)
    lines = []
    for res in desc["resources"]:
        table = datapackage.read_table(dp, res["name"])
        lines.append(f"ok  {res['path']}: {len(table)} rows, sha256 "
                     f"{res['hash'].removeprefix('sha256:')[:12]}..., schema valid")
    return lines
