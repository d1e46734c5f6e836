"""``audit run`` and ``audit tests`` through :func:`audit.cli.main.main`."""

from __future__ import annotations

import csv
import json
import os
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import audit.stations.forensics  # noqa: F401  (real tests register before the toys swap in)
import audit.stations.registry
from audit.tables import datasets
from audit.cli.main import main
from audit.stations.registry import register
from audit.stations.result import TestResult

DATA = Path(__file__).parent / "data" / "stations"
SHARED = Path(os.environ.get("AUDIT_DATA_DIR", "/work/shared/datasets"))


@pytest.fixture
def toys(monkeypatch):
    reg: dict = {}
    monkeypatch.setattr(audit.stations.registry, "REGISTRY", reg)
    monkeypatch.setattr(audit.stations.registry, "load_plugins", lambda: [])

    @register("toy_share", family="toy", min_units=2)
    def toy_share(ballots_cast, leader, *, rng=None):
        """Leader share with a uniform p-value."""
        rng = np.random.default_rng(rng)
        return TestResult("toy_share", statistic=leader.sum() / ballots_cast.sum(),
                          pvalue=float(rng.uniform()), n=len(leader),
                          details={"leader_total": int(leader.sum())},
                          table=pd.DataFrame({"digit": [0, 1, 2], "observed": [5, 3, 2],
                                              "expected": [4.0, 3.0, 3.0]}))

    @register("toy_turnout", family="turnout", min_units=5)
    def toy_turnout(registered, ballots_issued, *, rng=None):
        """Needs five stations."""
        return TestResult("toy_turnout", statistic=0.0, pvalue=0.5, n=len(registered))

    return reg


def run(*args):
    return main(["run", *map(str, args)])


def test_run_writes_every_output(toys, tmp_path, capsys):
    out = tmp_path / "out"
    code = run(DATA / "other_country.csv", "--format", "canonical", "--mapping",
               DATA / "other_country_mapping.yaml", "--leader", "ann", "--out", out,
               "--by", "region", "--seed", 5)
    assert code == 0
    printed = capsys.readouterr().out
    assert "3 stations kept" in printed and "leader: Ann Smith" in printed
    records = json.loads((out / "results.json").read_text(encoding="utf-8"))["results"]
    assert {"test", "scope", "statistic", "pvalue", "n", "details"} <= set(records[0])
    assert [(r["test"], r["scope"]) for r in records] == [
        ("toy_share", "national"), ("toy_turnout", "national"),
        ("toy_share", "region=East"), ("toy_turnout", "region=East"),
        ("toy_share", "region=West"), ("toy_turnout", "region=West")]
    national = records[0]
    assert national["statistic"] == pytest.approx((300 + 260 + 200) / 1500)
    assert national["details"]["leader_total"] == 760
    assert records[1]["status"] == "not applicable" and records[1]["pvalue"] is None
    assert records[4]["status"] == "not applicable"          # West has 1 station
    with open(out / "results.csv", encoding="utf-8") as fh:
        rows = list(csv.DictReader(fh))
    assert len(rows) == 6 and json.loads(rows[0]["details"])["leader_total"] == 760
    assert (out / "excluded.csv").read_text().startswith("source_row,reason")
    # each finding names its station as the file does, not only its row
    assert (out / "findings.csv").read_text().startswith(
        "source_row,region,station,check,detail")
    source = json.loads((out / "source.json").read_text(encoding="utf-8"))
    assert source["leader"] == "Ann Smith" and source["seed"] == 5
    prov = json.loads((out / "results.json").read_text(encoding="utf-8"))["provenance"]
    assert prov["seed"] == 5 and prov["parameters"]["leader"] == "Ann Smith"
    assert [i["path"] for i in prov["inputs"]] == [
        str(DATA / "other_country.csv"), str(DATA / "other_country_mapping.yaml")]
    assert source["provenance"] == prov
    manifest = json.loads((out / "manifest.json").read_text(encoding="utf-8"))
    assert {f["path"] for f in manifest["files"]} >= {
        "results.json", "results.csv", "excluded.csv", "findings.csv", "source.json",
        "figures/evidence.svg", "figures/toy_share.png"}
    for name in ("evidence", "toy_share"):
        for ext in ("svg", "pdf", "png"):
            assert (out / "figures" / f"{name}.{ext}").stat().st_size > 0


def test_same_seed_same_results(toys, tmp_path, capsys):
    args = [DATA / "canonical.csv", "--format", "canonical", "--no-figures", "--seed", 9]
    run(*args, "--out", tmp_path / "a")
    run(*args, "--out", tmp_path / "b")
    assert (tmp_path / "a" / "results.json").read_bytes() == \
        (tmp_path / "b" / "results.json").read_bytes()
    excluded = pd.read_csv(tmp_path / "a" / "excluded.csv")
    assert excluded["source_row"].tolist() == [5]
    findings = pd.read_csv(tmp_path / "a" / "findings.csv")
    assert findings["check"].tolist() == ["issued_exceeds_registered"]
    assert findings[["region", "district", "station"]].values.tolist() == [["South", "S1", 3]]


@pytest.mark.parametrize("leader, message", [
    ("a", "--leader 'a' matches several options: Alpha, Beta"),
    ("zed", "--leader 'zed' matches no option; options are: Alpha, Beta"),
])
def test_leader_errors_are_one_line(toys, tmp_path, capsys, leader, message):
    code = run(DATA / "canonical.csv", "--format", "canonical", "--leader", leader,
               "--out", tmp_path)
    err = capsys.readouterr().err
    assert code == 2
    assert err == f"audit: error: {message}\n"


def test_input_errors_are_one_line(toys, tmp_path, capsys):
    assert run(tmp_path / "none.csv", "--format", "canonical", "--out", tmp_path) == 2
    assert "no such file, and not a registered dataset" in capsys.readouterr().err
    # no --format: told from the columns, or one line listing the formats
    assert run(DATA / "other_country.csv", "--out", tmp_path) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "cannot tell the format" in err and "ru-cik" in err
    assert run(DATA / "canonical.csv", "--format", "ru-cik", "--out", tmp_path) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "not an ru-cik table" in err
    assert run(DATA / "canonical.csv", "--format", "canonical", "--tests", "nope",
               "--out", tmp_path) == 2
    assert "unknown test(s) nope" in capsys.readouterr().err
    assert run(DATA / "canonical.csv", "--format", "canonical", "--keep-electronic",
               "--out", tmp_path) == 2
    assert "--keep-electronic applies only to --format ru-cik" in capsys.readouterr().err


def test_reader_options(toys, tmp_path, capsys):
    code = run(DATA / "ru_cik_2018.csv", "--format", "ru-cik", "--keep-electronic",
               "--out", tmp_path, "--no-figures", "--leader", "Путин")
    assert code == 0
    source = json.loads((tmp_path / "source.json").read_text(encoding="utf-8"))
    assert source["electronic"] == "keep" and source["ballots_cast_from"] == \
        "portable + stationary boxes"
    findings = pd.read_csv(tmp_path / "findings.csv")
    assert findings["source_row"].tolist() == [5, 5]
    assert set(findings["station"]) == {"УИК №4"}


@pytest.mark.skipif(not (SHARED / "ua-cvk").exists(), reason="shared datasets missing")
def test_registered_dataset_name(toys, tmp_path, capsys, monkeypatch):
    monkeypatch.setenv("AUDIT_DATA_DIR", str(SHARED))
    monkeypatch.setattr(datasets, "DEFAULT_DIR", tmp_path / "home-cache")
    code = run("ua-cvk/president_election_2019_1_by_vd_en.csv", "--leader", "zelensky",
               "--out", tmp_path, "--no-figures")
    assert code == 0
    source = json.loads((tmp_path / "source.json").read_text(encoding="utf-8"))
    assert source["format"] == "ua-cvk" and source["leader"] == "Zelensky Volodymyr"
    records = json.loads((tmp_path / "results.json").read_text(encoding="utf-8"))["results"]
    assert records[0]["n"] == 29_695
    # toy_turnout needs registered voters, which the Ukrainian files lack.
    assert records[1]["reason"] == ("toy_turnout needs registered, ballots_issued, "
                                    "which the data lack")


def test_tests_lists_registry(toys, capsys):
    assert main(["tests"]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert lines[0].split() == ["test", "family", "class", "min_units", "needs"]
    # the toys declare no evidence class: descriptive until calibrated
    assert lines[1].split() == ["toy_share", "toy", "descriptive", "2", "ballots_cast,",
                                "leader"]
    assert lines[2].split() == ["toy_turnout", "turnout", "descriptive", "5",
                                "registered,", "ballots_issued"]
    assert main(["tests", "-v"]) == 0
    assert "audit calibrate --tests toy_share" in capsys.readouterr().out


@pytest.mark.parametrize("command", [["run"], ["tests"]])
def test_help(command, capsys):
    with pytest.raises(SystemExit) as exit_:
        main([*command, "--help"])
    assert exit_.value.code == 0
    assert f"usage: audit {command[0]}" in capsys.readouterr().out


@pytest.mark.slow
@pytest.mark.skipif(not (SHARED / "ru-cik" / "2024.csv.zip").exists(),
                    reason="shared datasets missing")
def test_real_battery_on_2024(tmp_path, capsys, monkeypatch):
    """Integer-percentage excess on 2024, published by Kobak, Shpilkin and
    Pshenichnikov (dkobak/elections, analysis/2024) as about 2,931 stations
    with a simulation standard deviation of about 115."""
    if "integer_percentages" not in audit.stations.registry.REGISTRY:
        pytest.skip("integer_percentages is not registered yet")
    monkeypatch.setenv("AUDIT_DATA_DIR", str(SHARED))
    monkeypatch.setattr(datasets, "DEFAULT_DIR", tmp_path / "home-cache")
    code = run("ru-cik/2024.csv.zip", "--leader", "Путин", "--tests",
               "integer_percentages", "--out", tmp_path, "--no-figures")
    assert code == 0
    rec = json.loads((tmp_path / "results.json").read_text(encoding="utf-8"))["results"][0]
    assert rec["status"] == "ok"
    excess = rec["statistic"] - rec["details"]["expected"]
    assert abs(excess - 2_931) < 3 * 115


def test_sheet_option_picks_a_worksheet(tmp_path, capsys):
    # the corpus workbook with two sheets of data is refused without --sheet
    book = Path(__file__).parent / "corpus" / "error_xlsx_two_sheets.xlsx"
    common = ["run", str(book), "--format", "canonical", "--tests", "turnout_dip",
              "--no-figures"]
    assert main(common + ["--out", str(tmp_path / "a")]) == 2
    assert "several sheets" in capsys.readouterr().err
    assert main(common + ["--sheet", "Results", "--out", str(tmp_path / "b")]) == 0
    source = json.loads((tmp_path / "b" / "source.json").read_text(encoding="utf-8"))
    assert source["sheet"] == "Results"
    assert main(["run", "ru-cik/2020.csv.zip", "--sheet", "x", "--out",
                 str(tmp_path / "c")]) == 2
    assert "--sheet applies to a workbook" in capsys.readouterr().err


def _leaves_out_run(tmp_path):
    # 30 stations without ballots issued: the battery cannot pass them to
    # the integer test; 5 tiny stations fall below its min_registered
    from audit.stations.simulate import clean_election

    data = clean_election(600, rng=3).data.copy()
    data["ballots_issued"] = data["ballots_issued"].astype("Int64")
    data.loc[data.index[:30], "ballots_issued"] = pd.NA
    data.loc[data.index[30:35], "registered"] = 50
    data.loc[data.index[30:35], ["ballots_issued", "ballots_cast", "invalid"]] = 0
    for c in ("leader", "other"):
        if c in data:
            data.loc[data.index[30:35], c] = 0
    path = tmp_path / "t.csv"
    data.to_csv(path, index=False)
    assert main(["run", str(path), "--format", "canonical", "--leader", "leader",
                 "--tests", "integer_percentages", "--no-figures",
                 "--out", str(tmp_path / "o")]) == 0
    return data


def test_stations_a_test_leaves_out_are_counted_by_reason(tmp_path):
    _leaves_out_run(tmp_path)
    table = pd.read_csv(tmp_path / "o" / "test_exclusions.csv")
    got = dict(zip(table["reason"], table["stations"]))
    assert got["missing needed column"] == 30
    assert got["no ballots"] == 5
    assert set(table["test"]) == {"integer_percentages"}


def test_stations_a_test_leaves_out_are_listed_one_by_one(tmp_path):
    data = _leaves_out_run(tmp_path)
    listed = pd.read_csv(tmp_path / "o" / "excluded_by_test.csv")
    assert list(listed.columns) == ["test", "source_row", "reason"]
    assert set(listed["test"]) == {"integer_percentages"}
    # source rows are line numbers of the input file (header on line 1), so
    # data row i sits on line i + 2
    missing = listed.loc[listed["reason"] == "missing ballots_issued", "source_row"]
    assert missing.tolist() == list(range(2, 32))
    empty = listed.loc[listed["reason"] == "no ballots cast", "source_row"]
    assert empty.tolist() == list(range(32, 37))
    # the other reason: stations of the simulation below 100 registered
    small = listed.loc[listed["reason"] == "fewer than 100 registered", "source_row"]
    tiny = (data["registered"] < 100) & (data["ballots_cast"] > 0) \
        & data["ballots_issued"].notna()
    assert sorted(small - 2) == np.flatnonzero(tiny.to_numpy()).tolist()
    assert listed["source_row"].is_monotonic_increasing
    counts = pd.read_csv(tmp_path / "o" / "test_exclusions.csv")
    assert len(listed) == counts["stations"].sum()
    manifest = json.loads((tmp_path / "o" / "manifest.json").read_text(encoding="utf-8"))
    assert "excluded_by_test.csv" in {f["path"] for f in manifest["files"]}


def test_run_says_how_many_stations_have_a_missing_total(toys, tmp_path, capsys):
    # an empty cell and an "NA" cell are missing totals: the stations are kept,
    # the summary counts them, and the tests that need the count list them
    rows = ["region,station,registered,ballots_issued,A,B"]
    rows += [f"R{i % 2},{i},{1000 + i},{600 + i},{300 + i},{200}" for i in range(8)]
    rows[2] = "R1,1,1001,NA,301,200"
    rows[5] = "R0,4,,604,304,200"
    path = tmp_path / "gaps.csv"
    path.write_text("\n".join(rows) + "\n", encoding="utf-8")
    out = tmp_path / "out"
    assert run(path, "--format", "canonical", "--out", out, "--no-figures") == 0
    printed = capsys.readouterr().out
    assert "8 stations kept, 0 rows excluded" in printed
    assert "2 stations kept with a missing total" in printed
    left = pd.read_csv(out / "excluded_by_test.csv")
    turnout = left[left["test"] == "toy_turnout"]
    assert sorted(turnout["reason"].str.startswith("missing").tolist()) == [True, True]


def test_run_without_missing_totals_prints_no_such_line(toys, tmp_path, capsys):
    out = tmp_path / "out"
    assert run(DATA / "other_country.csv", "--format", "canonical", "--mapping",
               DATA / "other_country_mapping.yaml", "--out", out, "--no-figures") == 0
    assert "missing total" not in capsys.readouterr().out


def test_run_says_when_a_test_reads_one_column_in_the_place_of_another(tmp_path, capsys):
    # a file with no ballots issued at all: the integer test reads the ballots cast
    from audit.stations.simulate import clean_election

    data = clean_election(600, rng=3).data.drop(columns=["ballots_issued"])
    path = tmp_path / "t.csv"
    data.to_csv(path, index=False)
    assert main(["run", str(path), "--format", "canonical", "--leader", "leader",
                 "--tests", "integer_percentages,last_digit", "--no-figures",
                 "--out", str(tmp_path / "o")]) == 0
    out = capsys.readouterr().out
    assert ("integer_percentages: the file has no ballots issued; ballots cast read in "
            "their place") in out
    assert "last_digit: the file has no" not in out
    import json

    rows = json.loads((tmp_path / "o" / "results.json").read_text())["results"]
    got = {r["test"]: r["details"].get("read_as") for r in rows}
    assert got == {"integer_percentages": {"ballots_issued": "ballots_cast"},
                   "last_digit": None}
