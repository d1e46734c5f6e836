"""`audit report FILE`: the observer's own-election report.

The fast loop builds one small report (a simulated election with rounded
percentages written as a canonical CSV, four tests) and checks what the
page must hold; the reports on real files (Czech 2018, Crimea and
Sevastopol 2024), their timing and the byte-for-byte repeat are slow.
"""

import hashlib
import os
import re
import time
from pathlib import Path

import pandas as pd
import pytest

from audit.cli.main import main
from audit.reporting.report import build_own_report
from audit.stations.simulate import clean_election, round_percentages

DATA = Path(os.environ.get("AUDIT_DATA_DIR", ""))
CZECH = DATA / "clean" / "czech_pres2018_r1_pet1.csv"
RUSSIA_2024 = DATA / "ru-cik" / "2024.csv.zip"
CRIMEA = "Республика Крым,город Севастополь"
QUICK_TESTS = "integer_percentages,last_digit,turnout_leader_correlation,excess_votes"


@pytest.fixture(scope="module")
def station_file(tmp_path_factory):
    table = round_percentages(clean_election(600, rng=5, n_regions=3), share=0.15, rng=6)
    path = tmp_path_factory.mktemp("input") / "my election.csv"
    table.data.to_csv(path, index=False)
    return path


@pytest.fixture(scope="module")
def quick(station_file, tmp_path_factory):
    out = tmp_path_factory.mktemp("own")
    page = build_own_report(str(station_file), format="canonical", tests=QUICK_TESTS, out=out)
    return page


def _text(page: Path) -> str:
    s = page.read_text(encoding="utf-8")
    s = re.sub(r"<style.*?</style>", " ", s, flags=re.S)
    s = re.sub(r"<[^>]+>", " ", s)
    return re.sub(r"\s+", " ", s)


def test_the_page_holds_every_section(quick):
    text = _text(quick)
    for heading in ("1. The data", "2. The tests", "Evidence tests", "Descriptive tests",
                    "3. Estimates", "4. Where to look", "5. Figures",
                    "6. What this does and does not show"):
        assert heading in text, heading
    assert "my election.csv" in text
    assert "not proof of fraud" in text
    page = quick.read_text(encoding="utf-8")
    assert "<script" not in page
    assert 'data-mime-type="application/vnd.jupyter.stderr"' not in page
    assert "Traceback" not in page
    for img in re.findall(r"<img[^>]*>", page):
        assert re.search(r'alt="[^"]{20,}"', img), img


def test_verdicts_follow_the_battery_rule(quick):
    """Every run's verdict word comes from its Holm-adjusted p and the level."""
    rows = pd.read_csv(quick.parent / "tables" / "battery.csv")
    ran = rows[rows["status"] == "ok"]
    ip = ran[ran["test"] == "integer_percentages"].iloc[0]
    assert ip["class"] == "evidence"
    # 15% of the stations were rounded: the evidence test must reject
    assert ip["verdict"] == "rejects a clean count"
    corr = ran[ran["test"] == "turnout_leader_correlation"].iloc[0]
    assert corr["class"] == "descriptive"
    assert corr["verdict"] in ("no departure found",
                               "departs from its model (descriptive, not evidence)")
    text = _text(quick)
    assert "1 of the 2 evidence tests that ran nationally rejects a clean count" in text


def test_where_to_look_rows_add_up(quick):
    t = pd.read_csv(quick.parent / "tables" / "where_to_look.csv")
    national = t[t["level"] == "national"].iloc[0]
    for level in ("region", "district"):
        part = t[t["level"] == level]
        assert part["integer_observed"].sum() == national["integer_observed"]
        assert part["integer_expected"].sum() == pytest.approx(national["integer_expected"])
    stations = pd.read_csv(quick.parent / "tables" / "where_stations.csv")
    assert len(stations) and stations["station"].notna().all()


def test_provenance_names_the_file_and_its_hash(quick, station_file):
    import json

    prov = json.loads((quick.parent / "provenance.json").read_text(encoding="utf-8"))
    digest = hashlib.sha256(station_file.read_bytes()).hexdigest()
    assert any(rec.get("sha256") == digest for rec in prov["inputs"])
    assert prov["parameters"]["FORMAT"] == "canonical"


@pytest.mark.parametrize("argv, message", [
    (["report", "", "--out", "X"], "FILE is empty"),
    (["report", "nope.csv", "--format", "canonical", "--out", "X"], "no such file"),
    (["report", "--format", "cz-volby"], "--format applies only with a FILE"),
    (["report", "ru-cik/2020.csv.zip", "--format", "cz-volby", "--out", "X"],
     "has format 'ru-cik'"),
    (["report", "ru-cik/2020.csv.zip", "--lang", "fr", "--out", "X"], "--lang 'fr'"),
    (["report", "ru-cik/2020.csv.zip", "--by", "street", "--out", "X"], "BY must be"),
    (["report", "ru-cik/2020.csv.zip", "--tests", "nope", "--out", "X"], "unknown test"),
    (["report", "ru-cik/2020.csv.zip"], "--out is required"),
    (["report", "-p", "FILE=x.csv", "--out", "X"], "audit report FILE"),
])
def test_empty_or_bad_parameters_give_one_line(argv, message, capsys, tmp_path):
    argv = [str(tmp_path / a) if a == "X" else a for a in argv]
    code = main(argv)
    err = capsys.readouterr().err.strip()
    assert code == 2
    assert err.startswith("audit: error: ") and "\n" not in err
    assert message in err
    assert "StopIteration" not in err and "Traceback" not in err


def test_a_file_whose_format_cannot_be_told_is_one_line(tmp_path, capsys):
    odd = tmp_path / "odd.csv"
    odd.write_text("place,people,papers\nA,100,50\n", encoding="utf-8")
    code = main(["report", str(odd), "--out", str(tmp_path / "r2")])
    err = capsys.readouterr().err.strip()
    assert code == 2 and "\n" not in err and "cannot tell the format" in err
    assert "--format" in err


def test_the_format_is_told_from_the_file_as_audit_run_does(station_file, tmp_path):
    from audit.reporting.own import check_parameters

    assert check_parameters(str(station_file), "")["format"] == "canonical"
    mapping = tmp_path / "m.yaml"
    mapping.write_text("registered: people\n", encoding="utf-8")
    assert check_parameters(str(station_file), "", mapping=str(mapping))["format"] == \
        "canonical"
    assert check_parameters(str(station_file), "ca-pollbypoll")["format"] == "ca-pollbypoll"


@pytest.mark.slow  # starts a kernel (about 5 s); the checks made before it are fast above
def test_a_bad_region_found_in_the_notebook_is_one_line(station_file, tmp_path, capsys):
    """Errors found only once the file is read (a region it lacks) come back
    from the notebook as the same one line."""
    code = main(["report", str(station_file), "--format", "canonical", "--region", "Atlantis",
                 "--out", str(tmp_path / "r")])
    err = capsys.readouterr().err.strip()
    assert code == 2 and "\n" not in err
    assert "REGION 'Atlantis' is not in the file" in err


def _digest(folder: Path) -> dict:
    return {p.relative_to(folder).as_posix(): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted(folder.rglob("*")) if p.is_file()}


@pytest.mark.slow  # a second full notebook run
def test_same_inputs_and_seed_give_the_same_bytes(quick, station_file, tmp_path):
    again = build_own_report(str(station_file), format="canonical", tests=QUICK_TESTS,
                             out=tmp_path / "again")
    assert _digest(quick.parent) == _digest(again.parent)


@pytest.mark.slow
@pytest.mark.skipif(not CZECH.is_file(), reason="Czech 2018 file not in AUDIT_DATA_DIR")
def test_czech_2018_report(tmp_path, capsys):
    """The acceptance run (its time is printed, with -s, not asserted: the
    machine is shared)."""
    start = time.perf_counter()
    assert main(["report", str(CZECH), "--format", "cz-volby", "--out", str(tmp_path)]) == 0
    seconds = time.perf_counter() - start
    print(f"czech 2018 report: {seconds:.1f} s")
    text = _text(tmp_path / "index.html")
    assert "14,866" in text                       # stations kept
    # an honestly counted election: no evidence test rejects
    rows = pd.read_csv(tmp_path / "tables" / "battery.csv")
    ev = rows[(rows["class"] == "evidence") & (rows["scope"] == "national")]
    assert (ev["verdict"] != "rejects a clean count").all()


@pytest.mark.slow
@pytest.mark.skipif(not RUSSIA_2024.is_file(), reason="Russian 2024 file not in AUDIT_DATA_DIR")
def test_crimea_and_sevastopol_report(tmp_path):
    start = time.perf_counter()
    page = build_own_report(str(RUSSIA_2024), format="ru-cik", region=CRIMEA, out=tmp_path)
    print(f"crimea 2024 report: {time.perf_counter() - start:.1f} s")
    t = pd.read_csv(tmp_path / "tables" / "where_to_look.csv")
    assert set(t.loc[t["level"] == "region", "region"]) == set(CRIMEA.split(","))
    assert "Республика Крым" in page.read_text(encoding="utf-8")


@pytest.mark.slow  # a second report run
def test_by_region_adds_the_unit_runs(station_file, tmp_path):
    page = build_own_report(str(station_file), format="canonical", tests=QUICK_TESTS,
                            by="region", out=tmp_path)
    rows = pd.read_csv(tmp_path / "tables" / "battery.csv")
    regions = set(pd.read_csv(station_file)["region"])
    assert {f"region={r}" for r in regions} <= set(rows["scope"])
    assert "Runs within each region that reject" in _text(page)


@pytest.mark.slow  # starts a kernel
@pytest.mark.parametrize("value, message", [
    ("", "RUSSIA is empty"),
    ("/data/my-file.csv:Yes", "is not a registered dataset"),
    ("ru-cik/2020.csv.zip", "needs its leader"),
])
def test_station_notebook_parameters_give_one_line(value, message, tmp_path):
    """The bundled station notebook: an empty or bad dataset parameter is one
    line naming it, not a StopIteration from deep inside."""
    from audit.core.errors import InputError
    from audit.reporting.report import NOTEBOOK_DIR, run_notebook

    with pytest.raises(InputError, match=message) as err:
        run_notebook(NOTEBOOK_DIR / "02-station-forensics.py", tmp_path, {"RUSSIA": value})
    assert "\n" not in str(err.value) and "StopIteration" not in str(err.value)


def test_findings_are_listed_with_the_station_as_the_file_names_it():
    from audit.reporting.own import findings_summary, findings_with_ids
    from audit.tables.station_table import StationTable

    data = pd.DataFrame({"region": ["A", "A", "B"], "station": ["7", "8", "9"],
                         "registered": [100, 100, 100]}, index=[4, 5, 9])
    findings = pd.DataFrame({"source_row": [9, 4, 9],
                             "check": ["turnout_over_100", "votes_exceed_cast",
                                       "votes_exceed_cast"],
                             "detail": ["x", "y", "z"]})
    t = StationTable(data=data, options=[], findings=findings)
    listed = findings_with_ids(t)
    assert listed["station"].tolist() == ["7", "9", "9"]
    assert listed["region"].tolist() == ["A", "B", "B"]
    counts = findings_summary(t)
    assert counts.iloc[0].tolist() == ["votes_exceed_cast", 2]


def _rows(*runs):
    cols = ["class", "test", "scope", "status", "reject_holm", "Holm p", "pvalue"]
    return pd.DataFrame([dict(zip(cols, r)) for r in runs], columns=cols)


def test_closing_text_is_written_from_the_results():
    from audit.reporting.own import closing_text

    none_ran = closing_text(_rows(("evidence", "a", "national", "not applicable", False, "",
                                   float("nan"))), alpha=0.05)
    assert "No evidence test could run" in none_ran
    clean = closing_text(_rows(("evidence", "a", "national", "ok", False, "0.4", 0.2),
                               ("descriptive", "d", "national", "ok", True, "< 1e-300", 0.0)),
                         alpha=0.05)
    assert "The one evidence test that ran nationally does not reject" in clean
    assert "1 descriptive test departs" in clean and "no evidence" in clean
    hit = closing_text(_rows(("evidence", "a", "national", "ok", True, "< 0.002", 0.001),
                             ("evidence", "b", "national", "ok", False, "0.9", 0.5),
                             ("evidence", "a", "region=X", "ok", True, "0.01", 0.001)),
                       alpha=0.01, findings=3)
    assert "1 of the 2 evidence tests that ran nationally rejects" in hit
    assert "a (Holm-adjusted p < 0.002)" in hit and "0.01 level" in hit
    assert "region=X" in hit and "3 impossible figures" in hit
    for text in (none_ran, clean, hit):
        assert "not proof of fraud" in text


def test_estimates_carry_their_intervals_and_say_when_one_leaves_out_the_value():
    from types import SimpleNamespace

    from audit.reporting.own import BIAS_NOTE, estimates_table
    from audit.stations.result import TestResult

    ev = pd.DataFrame({"test": ["excess_votes", "mixture"], "scope": "national",
                       "status": "ok"})
    excess = TestResult(test="excess_votes", statistic=1200.0, pvalue=float("nan"), n=500,
                        details={"excess_ci_low": 900.0, "excess_ci_high": 1500.0,
                                 "confidence": 0.95})
    mix = TestResult(test="mixture", statistic=0.04, pvalue=0.05, n=500, details={
        "share_fraud": 0.040, "share_fraud_ci_low": 0.043, "share_fraud_ci_high": 0.047,
        "fraud_votes": 449.0, "fraud_votes_ci_low": 400.0, "fraud_votes_ci_high": 500.0,
        "fraud_votes_share": 0.01, "confidence": 0.9})
    t = estimates_table(SimpleNamespace(evidence=ev, results=[excess, mix]))
    assert t["value"].tolist() == ["1,200", "4.0%", "449"]
    assert t["interval"].tolist() == ["95%: 900 to 1,500", "90%: 4.3% to 4.7%",
                                      "90%: 400 to 500"]
    notes = [BIAS_NOTE in m for m in t["what it means"]]
    assert notes == [False, True, False]


def test_stuffing_estimates_carry_their_intervals_and_the_share_of_ballots():
    from types import SimpleNamespace

    from audit.reporting.own import estimates_table
    from audit.stations.stuffing import StuffingScores

    scores = pd.DataFrame({"ballots_cast": [400, 600, pd.NA],
                           "stuffed_ballots": [30.0, 20.0, float("nan")]})
    st = StuffingScores(table=scores, share=0.02, iterations=5, amounts=(0.1,), wide=0.0,
                        share_interval=(0.01, 0.03), ballots_interval=(40.0, 60.0))
    empty = SimpleNamespace(evidence=pd.DataFrame(columns=["test", "scope", "status"]),
                            results=[])
    t = estimates_table(empty, stuffing=st)
    assert t["value"].tolist() == ["2.0%", "50"]
    assert t["interval"].tolist() == ["95%: 1.0% to 3.0%", "95%: 40 to 60"]
    # 50 ballots of 1,000 cast
    assert "5.0% of the ballots cast" in t["what it means"].iloc[1]
    assert len(estimates_table(empty)) == 0


def test_a_finding_says_which_column_was_read_in_the_place_of_a_missing_one():
    import dataclasses

    from audit.reporting.own import battery_rows, finding_sentence
    from audit.stations.battery import run_battery

    table = clean_election(600, rng=3)
    data = table.data.copy()
    data["ballots_issued"] = pd.array([pd.NA] * len(data), dtype="Int64")
    no_issued = dataclasses.replace(table, data=data)
    for t, said in ((no_issued, True), (table, False)):
        rows = battery_rows(run_battery(t, tests=["integer_percentages", "last_digit"],
                                        rng=0, processes=1))
        integer = rows[rows["test"] == "integer_percentages"].iloc[0]
        sentence = finding_sentence(integer, alpha=0.05)
        assert ("ballots cast read as ballots issued (the file has none)" in sentence) is said
        digits = rows[rows["test"] == "last_digit"].iloc[0]
        assert digits["read as"] == ""


def test_the_data_summary_says_when_ballots_cast_are_the_options_added_up(tmp_path):
    from audit.reporting.own import data_summary
    from audit.tables.readers.canonical import read_canonical

    f = tmp_path / "actas.csv"
    f.write_text("Acta,A,B\n1,10,5\n2,7,2\n", encoding="utf-8")
    summed = read_canonical(f, mapping={"station": "Acta", "ballots_cast": "options"})
    plain = read_canonical(f, mapping={"station": "Acta"})
    rows = dict(zip(*data_summary(summed, name="actas", leader="A").T.to_numpy()))
    assert rows["ballots cast"].startswith("the options added up")
    assert rows["total ballots_cast"] == "24"
    assert "ballots cast" not in set(data_summary(plain, name="actas", leader="A")["item"])
