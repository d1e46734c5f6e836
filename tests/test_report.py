"""The main job: the case-study report is built offline, complete and stable."""

import hashlib
import re
from pathlib import Path

import pandas as pd
import pytest

from audit.referenda.checks import run_checks
from audit.reporting.report import CHECK_FIGURES, build_reports


@pytest.fixture(scope="module")
def report(tmp_path_factory, request):
    # every figure is checked for text over text or over the data as it is saved
    mp = pytest.MonkeyPatch()
    mp.setenv(CHECK_FIGURES, "1")
    request.addfinalizer(mp.undo)
    out = tmp_path_factory.mktemp("reports")
    written = build_reports(out=out, stations="no")
    return written["referenda-2022"]


def test_a_figure_with_overlapping_text_stops_the_report(tmp_path, monkeypatch):
    import matplotlib.figure

    from audit.reporting.report import Outputs

    monkeypatch.setenv(CHECK_FIGURES, "1")
    fig = matplotlib.figure.Figure()
    ax = fig.add_subplot()
    ax.text(0.5, 0.5, "hello")
    ax.text(0.5, 0.5, "world")
    out = Outputs(tmp_path, provenance={"inputs": [], "seed": None})
    with pytest.raises(ValueError, match="overlaps"):
        out.figure(fig, "clash", "two labels on one spot")


def _digest(folder: Path) -> dict:
    return {p.relative_to(folder).as_posix(): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted(folder.rglob("*")) if p.is_file()}


def test_report_has_page_figures_and_tables(report):
    page = (report / "index.html").read_text(encoding="utf-8")
    images = re.findall(r'<img[^>]*\ssrc="([^"]+)"', page)
    assert len(images) >= 5
    for src in images:
        stem = (report / src).with_suffix("")
        for ext in (".svg", ".pdf", ".png"):
            assert stem.with_suffix(ext).stat().st_size > 1000, stem.with_suffix(ext)
    for name in ("findings", "claims", "announcements", "verification", "versions"):
        assert (report / "tables" / f"{name}.csv").exists()
    assert "<script" not in page            # nothing fetched from the network
    assert 'data-mime-type="application/vnd.jupyter.stderr"' not in page   # no errors or warnings


def test_report_tables_are_the_audit(report, evidence):
    findings = pd.read_csv(report / "tables" / "findings.csv")
    expected = run_checks(evidence).findings
    assert len(findings) == len(expected)
    assert (findings["verdict"].value_counts() == expected["verdict"].value_counts()).all()


def test_narrative_numbers_come_from_the_audit(report, evidence):
    page = (report / "index.html").read_text(encoding="utf-8")
    n = len(run_checks(evidence).findings)
    assert f"<strong>{n} comparisons</strong>" in page
    assert f"<strong>{len(evidence.announcements)} announced figures</strong>" in page


@pytest.mark.slow  # byte-stable outputs: test_outputs.py and test_plots_export.py in the fast loop
def test_same_inputs_give_the_same_bytes(report, tmp_path):
    again = build_reports(out=tmp_path, stations="no")["referenda-2022"]
    first, second = _digest(report), _digest(again)
    assert first.keys() == second.keys()
    # every file, versions table, provenance and manifest included: the page
    # embeds the output folder nowhere, so it is stable too
    differing = [k for k in first if first[k] != second[k]]
    assert differing == []


def test_provenance_and_manifest(report):
    import json

    from audit.referenda.bundle import DATAPACKAGE, ROOT

    prov = json.loads((report / "provenance.json").read_text(encoding="utf-8"))
    inputs = {rec["path"]: rec for rec in prov["inputs"]}
    resources = json.loads(DATAPACKAGE.read_text(encoding="utf-8"))["resources"]
    for res in resources:       # each bundled table, hashed here independently
        rec = inputs[f"data/{res['path']}"]
        data = (ROOT / "data" / res["path"]).read_bytes()
        assert rec["sha256"] == hashlib.sha256(data).hexdigest() and rec["bytes"] == len(data)
    nb = inputs["notebooks/01-referenda-2022.py"]
    assert nb["sha256"] == hashlib.sha256(
        (ROOT / "notebooks" / "01-referenda-2022.py").read_bytes()).hexdigest()
    assert "data/datapackage.json" in inputs and "seeds/claims.yaml" in inputs
    assert prov["parameters"]["APPROX_REL"] == 0.10 and "OUTPUT_DIR" not in prov["parameters"]
    assert {"vote-audit", "python", "numpy", "pandas", "scipy", "matplotlib"} <= \
        set(prov["software"])
    manifest = json.loads((report / "manifest.json").read_text(encoding="utf-8"))
    assert manifest["provenance"] == prov
    listed = {f["path"]: f["sha256"] for f in manifest["files"]}
    on_disk = {k: v for k, v in _digest(report).items() if k != "manifest.json"}
    assert listed == on_disk
    # every figure carries the provenance in its metadata
    svg = (report / "figures" / "findings_overview.svg").read_text(encoding="utf-8")
    assert inputs["data/referenda_2022/announcements.csv"]["sha256"] in svg


def test_tables_are_spreadsheet_safe(report):
    import csv

    for path in sorted((report / "tables").glob("*.csv")):
        with open(path, encoding="utf-8", newline="") as fh:
            for row in csv.reader(fh):
                for cell in row:
                    if cell[:1] in ("=", "+", "-", "@", "\t", "\r"):
                        float(cell)      # only plain numbers may start so


def test_every_verdict_in_the_findings_table_follows_its_rule(report):
    from audit.referenda.checks.base import VERDICT_RULES, rule_holds

    findings = pd.read_csv(report / "tables" / "findings.csv")
    for row in findings.to_dict("records"):
        ok, why = rule_holds(row)
        assert ok, (row["finding_id"], row["check"], row["verdict"], why)
    page = (report / "index.html").read_text(encoding="utf-8")
    for verdict in VERDICT_RULES:          # every rule is printed on the page
        assert f"<strong>{verdict}</strong>" in page


def test_claims_have_their_own_verdicts_and_rules(report):
    from audit.referenda.checks.claims import CLAIM_RULES, CLAIM_TESTS, CLAIM_VERDICTS

    claims = pd.read_csv(report / "tables" / "claims.csv")
    assert claims["verdict"].isin(CLAIM_VERDICTS).all()
    findings = pd.read_csv(report / "tables" / "findings.csv")
    assert not set(findings["check"]) & set(CLAIM_TESTS)
    page = (report / "index.html").read_text(encoding="utf-8")
    for verdict in CLAIM_RULES:
        assert f"<strong>{verdict}</strong>" in page


def _section(page, start, end):
    return page[page.index(start):page.index(end, page.index(start))]


def test_headline_findings_are_the_survivors(report):
    sens = pd.read_csv(report / "tables" / "sensitivity.csv")
    page = (report / "index.html").read_text(encoding="utf-8")
    heads = _section(page, "Headline findings", "do not survive")
    items = re.findall(r"<li>(.*?)</li>", heads, flags=re.S)
    survivors = sens[sens["survives"]]
    assert len(items) == len(survivors)
    for r, item in zip(survivors.itertuples(), items):
        assert r.region in item and r.check in item


def test_free_referendums_named_where_2022_is_compared(report):
    other = pd.read_csv(report / "tables" / "lopsided_free_votes.csv")
    assert {"Southern Sudan", "Eritrea"} <= set(other["unit"])
    assert other["source_url"].str.startswith("http").all()
    page = (report / "index.html").read_text(encoding="utf-8")
    where = _section(page, "Free referendums with near-unanimous results", "The claims and")
    assert "Southern Sudan 2011" in where and "Eritrea 1993" in where


def test_the_page_ends_with_the_narrative(report):
    page = (report / "index.html").read_text(encoding="utf-8")
    outputs = re.findall(r"<pre[^>]*>(.*?)</pre>", page, flags=re.S)
    assert not any(o.strip() in ("False", "True", "None") for o in outputs)


def test_cross_vote_findings_are_in_the_findings_table_and_follow_the_rules(report):
    from audit.referenda.checks.base import rule_holds

    findings = pd.read_csv(report / "tables" / "findings.csv")
    across = findings[findings["family"] == "across votes"]
    assert len(across) > 0
    again = pd.read_csv(report / "tables" / "findings_across_votes.csv")
    assert list(again["finding_id"]) == list(across["finding_id"])
    for row in across.to_dict("records"):
        assert rule_holds(row)[0], row["finding_id"]
    cross = pd.read_csv(report / "tables" / "cross_votes.csv")
    for region in ("DPR", "LPR", "Zaporizhzhia", "Kherson"):
        years = set(cross[cross["region"] == region]["date"].str[:4])
        assert {"2022", "2023", "2024"} <= years, region
    assert cross["source_url"].str.startswith("http").all()
    assert cross["confidence"].notna().all() and cross["verification"].notna().all()
    for name in ("turnout_curves", "support_by_vote"):
        assert (report / "figures" / f"{name}.svg").exists()
        t = pd.read_csv(report / "tables" / f"{name}.csv")
        assert t["source_url"].str.startswith("http").all()


def test_crimea_and_sevastopol_section_runs_or_says_why_not(report):
    from audit.tables import datasets

    page = (report / "index.html").read_text(encoding="utf-8")
    section = _section(page, "Crimea and Sevastopol, March 2024", "Provenance and versions")
    if datasets.available(["ru-cik/2024.csv.zip"]):
        battery = pd.read_csv(report / "tables" / "stations_2024_battery.csv")
        assert set(battery["class"]) == {"evidence", "descriptive"}
        assert (report / "figures" / "stations_2024_integer_turnout.svg").exists()
        assert "What it does not show" in section
    else:
        assert "Skipped:" in section
