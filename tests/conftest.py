"""Shared fixtures. Tests read public datasets from ../shared/datasets unless
AUDIT_DATA_DIR says otherwise, so nothing is downloaded."""

from __future__ import annotations

import csv
import json
import os
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
os.environ.setdefault("AUDIT_DATA_DIR", str((ROOT.parent / "shared" / "datasets").resolve()))

ANNOUNCEMENT_DEFAULTS = {
    "stage": "final", "scope": "total", "resolution": "1", "bound": "exact", "unit": "persons",
    "counted_pct": "", "counted_basis": "", "as_of": "2022-09-28", "announcer": "test",
    "source_url": "https://example.org/a", "confidence": "medium", "note": "",
}


def _schema(name):
    desc = json.loads((ROOT / "data" / "datapackage.json").read_text())
    return next(r for r in desc["resources"] if r["name"] == name)["schema"]


def _write(path, rows, fields):
    with open(path, "w", newline="", encoding="utf-8") as f:
        w = csv.DictWriter(f, [fl["name"] for fl in fields], lineterminator="\n")
        w.writeheader()
        for r in rows:
            w.writerow({k: r.get(k, "") for k in w.fieldnames})


@pytest.fixture
def make_evidence(tmp_path):
    """Build an Evidence object from a few rows, typed by the real schemas.

    ``announcements`` rows need region, quantity and value; the rest default.
    Baselines, sub-units and comparisons default to none.
    """
    from audit.tables.datapackage import parse_table
    from audit.referenda.bundle import Evidence, load_evidence

    real = load_evidence()

    def build(announcements, *, subunits=(), baselines=None, comparisons=None, claims=()):
        rows = []
        for i, r in enumerate(announcements, start=1):
            row = {**ANNOUNCEMENT_DEFAULTS, **{k: str(v) for k, v in r.items()}}
            if row["unit"] == "persons" and row["quantity"] in ("turnout", "yes_share",
                                                                 "no_share", "yes_share_of_valid"):
                row["unit"] = "percent"
            row.setdefault("id", "")
            if not row["id"]:
                row["id"] = f"{row['region']}.{row['quantity']}.{row['stage']}.{i}"
            rows.append(row)
        tables = {}
        for name, data in (("announcements_2022", rows), ("subunits_2022", list(subunits))):
            fields = _schema(name)["fields"]
            path = tmp_path / f"{name}.csv"
            _write(path, data, fields)
            tables[name] = parse_table(path, _schema(name))
        return Evidence(
            announcements=tables["announcements_2022"], subunits=tables["subunits_2022"],
            comparisons=real.comparisons.iloc[0:0] if comparisons is None else comparisons,
            baselines=real.baselines.iloc[0:0] if baselines is None else baselines,
            regions=real.regions, verification=real.verification.iloc[0:0],
            claims=list(claims), sources={})

    return build


@pytest.fixture(scope="session")
def evidence():
    from audit.referenda.bundle import load_evidence

    return load_evidence()
