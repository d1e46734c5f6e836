"""Notebooks: stored as text, parameterised, and executed with small settings."""


import jupytext
import pandas as pd
import pytest

from audit.tables import datasets
from audit.reporting.report import NOTEBOOK_DIR, NOTEBOOKS, notebook_parameters, run_notebook

FILES = sorted(NOTEBOOK_DIR.glob("*.py"))


@pytest.mark.parametrize("path", FILES, ids=[p.name for p in FILES])
def test_notebook_shape(path):
    nb = jupytext.read(path)
    first = nb.cells[0]
    assert first.cell_type == "markdown" and first.source.startswith("# ")
    params = [c for c in nb.cells if "parameters" in c.metadata.get("tags", [])]
    assert len(params) == 1
    names = notebook_parameters(path)
    assert "OUTPUT_DIR" in names and all(k.isupper() for k in names)
    # every parameter carries a comment line above it
    lines = params[0].source.splitlines()
    for i, line in enumerate(lines):
        if "=" in line and not line.startswith("#"):
            assert lines[i - 1].startswith("#"), line
    assert "versions()" in nb.cells[-1].source


def test_every_notebook_is_registered():
    assert {p.name for p in FILES} == {nb.file for nb in NOTEBOOKS}


def test_adding_a_test_notebook_runs_with_small_parameters(tmp_path):
    from audit.stations.registry import REGISTRY

    run_notebook(NOTEBOOK_DIR / "03-adding-a-test.py", tmp_path, {"N_SIM": 20, "N_STATIONS": 400})
    table = pd.read_csv(tmp_path / "tables" / "calibration.csv")
    assert set(table["scenario"]) >= {"clean", "stuffing"}
    assert (table["n_run"] == 20).all()
    assert "seconds" not in table.columns     # timings would change the report's bytes
    declared = pd.read_csv(tmp_path / "tables" / "registered_test.csv").set_index("field")
    assert declared.loc["needs", "value"] == "ballots_cast"      # read from the registry
    assert declared.loc["class", "value"].startswith("descriptive")
    assert "ballots_end_in_zero" not in REGISTRY    # the notebook ran in its own kernel


@pytest.mark.skipif(not datasets.available(["ru-cik/2020.csv.zip", "ru-cik/2024.csv.zip",
                                            "ua-cvk/president_election_2019_1_by_vd_en.csv",
                                            "clean/poland_pres2020_r1_obwody_csv.zip",
                                            "clean/czech_pres2018_r1_pet1.csv"]),
                    reason="station datasets not in AUDIT_DATA_DIR")
def test_station_notebook_runs_with_small_parameters(tmp_path):
    run_notebook(NOTEBOOK_DIR / "02-station-forensics.py", tmp_path,
                 {"MAX_STATIONS": 2000, "TESTS": "integer_percentages,last_digit,turnout_dip"})
    ev = pd.read_csv(tmp_path / "tables" / "evidence.csv")
    desc = pd.read_csv(tmp_path / "tables" / "descriptive.csv")
    # the two classes are shown apart, as declared at @register
    assert set(ev["test"]) == {"integer_percentages", "last_digit"}
    assert set(desc["test"]) == {"turnout_dip"}
    evidence = pd.concat([ev, desc])
    crimea = evidence[evidence["data"].str.contains("Крым")]
    assert len(crimea) == 3
    # the honestly counted contrasts ran too, and the narrative names them in
    # words, each row keeping the registered dataset behind it
    assert {"clean/poland_pres2020_r1_obwody_csv.zip",
            "clean/czech_pres2018_r1_pet1.csv"} <= set(evidence["dataset"])
    czech = evidence[evidence["dataset"] == "clean/czech_pres2018_r1_pet1.csv"]
    assert set(czech["data"]) == {"Czech Republic 2018 presidential first round"}
    html = (tmp_path / "index.html").read_text(encoding="utf-8")
    assert "The contrasts, in plain words" in html
    assert "<strong>Czech Republic 2018 presidential first round</strong>" in html
    assert set(evidence.loc[evidence["data"].str.contains("Крым"), "dataset"]) == {
        "ru-cik/2024.csv.zip"}
    # the Ukrainian files have no registered voters: turnout tests refuse, with a reason
    ua = evidence[evidence["dataset"].str.startswith("ua-cvk")].set_index("test")
    assert ua.loc["integer_percentages", "status"] == "not applicable"
    assert "registered" in ua.loc["integer_percentages", "reason"]
    assert (tmp_path / "index.html").stat().st_size > 10_000
    # the fraud models: estimates with intervals per data set, refusals with reasons,
    # and the honestly counted contrasts as the yardstick in the narrative
    est = pd.read_csv(tmp_path / "tables" / "model_estimates.csv")
    stuffed = est[est["estimate"] == "stuffing model: ballots added"]
    assert {"Poland 2020 presidential first round",
            "Czech Republic 2018 presidential first round"} <= set(stuffed["data"])
    assert stuffed["interval"].str.startswith("95%: ").all()
    refused = pd.read_csv(tmp_path / "tables" / "model_refused.csv")
    ukraine = refused[refused["data"] == "Ukraine 2019 presidential first round"]
    assert set(ukraine["model"]) == {"mixture", "stuffing"}
    assert ukraine["reason"].str.contains("registered").all()
    assert "On the honestly counted contrasts it gives up to" in html
