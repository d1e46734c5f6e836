"""The real-data calibration: tasks, runs on twins, summaries, the page kept
row by row, ``audit calibrate``, and the committed table checked against the
evidence classes declared at ``@register``."""

from __future__ import annotations

import dataclasses

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from audit.stations.calibration import real as cr
from audit.stations import catalogue, registry
from audit.stations.calibration.page import Store, merge, write_page
from audit.stations.simulate import clean_election

ROOT = Path(__file__).resolve().parent.parent
PAGE = ROOT / "docs" / "calibration.md"
FAST = ("last_digit", "integer_percentages", "turnout_leader_correlation", "count_05")


@pytest.fixture
def small_sources(monkeypatch):
    """Twins and 'real' elections drawn from small simulated tables instead of
    the large public files."""
    tables = {"sim/a": clean_election(1500, rng=1), "sim/b": clean_election(1200, rng=2)}
    monkeypatch.setattr(cr, "_load", lambda name: tables[name])
    cr._twin_model.cache_clear()
    yield tables
    cr._twin_model.cache_clear()


def test_tasks_pair_scenarios_and_refuse_unknown_ones():
    tasks = cr.corpus_tasks(FAST, sources=("x",), real=["r"], n_twins=3, n_power=2)
    kinds = [(t.kind, t.scenario, t.sim) for t in tasks]
    assert kinds[0] == ("real", "clean", 0)
    assert sum(k[1] == "clean" and k[0] == "twin" for k in kinds) == 3
    assert sum(k[1] == "rounding" for k in kinds) == 2
    assert all(t.tests == FAST for t in tasks)
    with pytest.raises(ValueError, match="unknown 'nope'"):
        cr.corpus_tasks(scenarios=["nope"])


def test_twin_runs_are_reproducible_and_labelled(small_sources):
    task = cr.CorpusTask("sim/a", "twin", "clean", 0, tests=FAST)
    rows = cr.run_corpus_task(task)
    again = cr.run_corpus_task(task)
    df, df2 = pd.DataFrame(rows), pd.DataFrame(again)
    pd.testing.assert_frame_equal(df.drop(columns="seconds"), df2.drop(columns="seconds"))
    assert set(df.name) == set(FAST)
    assert (df.status == "ok").all(), df.reason.tolist()
    # the battery's run of a test with a groups option is its [groups] variant
    corr = df[df.name == "turnout_leader_correlation"].iloc[0]
    spec = registry.REGISTRY["turnout_leader_correlation"]
    if any("groups" in v.options for v in spec.variants):
        assert corr.test == "turnout_leader_correlation[groups]"
    assert (df.injected == 0).all()
    # another twin differs
    other = pd.DataFrame(cr.run_corpus_task(cr.CorpusTask("sim/a", "twin", "clean", 1,
                                                          tests=FAST)))
    assert not np.array_equal(df.pvalue.to_numpy(), other.pvalue.to_numpy())


def test_a_slow_test_runs_on_its_declared_number_of_twins_only(small_sources, monkeypatch):
    spec = registry.REGISTRY["last_digit"]
    monkeypatch.setitem(registry.REGISTRY, "last_digit",
                        dataclasses.replace(spec, max_twins=1))
    tests = ("last_digit", "count_05")

    def names(kind, sim):
        task = cr.CorpusTask("sim/a", kind, "clean", sim, tests=tests)
        return {r["name"] for r in cr.run_corpus_task(task)}

    assert names("twin", 0) == set(tests)
    assert names("twin", 1) == {"count_05"}          # beyond its one twin
    assert names("real", 0) == set(tests)            # real elections always run


def test_rounded_twins_record_what_was_injected(small_sources):
    rows = pd.DataFrame(cr.run_corpus_task(
        cr.CorpusTask("sim/a", "twin", "rounding", 0, tests=("integer_percentages",))))
    r = rows.iloc[0]
    assert r.status == "ok" and 0 < r.injected <= 0.02 * 1500
    assert np.isfinite(r.excess) and r.sd > 0 and 0 < r.null_share < 0.3
    clean = cr.table_of(cr.CorpusTask("sim/a", "twin", "clean", 0))
    rigged = cr.table_of(cr.CorpusTask("sim/a", "twin", "rounding", 0))
    assert clean.data["registered"].equals(rigged.data["registered"])   # paired


def _row(**kw):
    base = dict(source="s", kind="twin", scenario="clean", sim=0, test="t", name="t",
                battery=True, evidence=True, status="ok", statistic=0.0, pvalue=0.5,
                reason="", seconds=0.0, injected=0, excess=np.nan, sd=np.nan,
                null_share=np.nan)
    return {**base, **kw}


def test_summary_finds_evidence_tests_that_break_the_rules():
    rows = [_row(kind="real", source="clean/x", test="a", pvalue=1e-5),
            _row(kind="real", source="clean/x", test="b", pvalue=0.5),
            _row(kind="real", source="clean/x", test="d", evidence=False, pvalue=1e-9)]
    # test c rejects 30 of 40 clean twins; test b 1 of 40
    rows += [_row(sim=j, test="c", pvalue=0.01 if j < 30 else 0.5) for j in range(40)]
    rows += [_row(sim=j, test="b", pvalue=0.01 if j < 1 else 0.5) for j in range(40)]
    s = cr.summarize_corpus(pd.DataFrame(rows))
    probs = s["problems"]
    assert set(probs.test) == {"a", "c"}          # d is descriptive, b holds its size
    assert "clean real election" in probs.set_index("test").loc["a", "problem"]
    h = s["holm"]
    real = h[h.kind == "real"].iloc[0]
    assert real.any_reject and real.rejecting == "a"
    rate = s["rates"].set_index(["test", "source"]).loc[("c", "all")]
    assert rate.k == 30 and rate.n == 40 and rate.ci_low < 0.75 < rate.ci_high


def test_page_is_updated_one_test_at_a_time(tmp_path):
    page = tmp_path / "cal.md"
    first = pd.DataFrame([_row(test="a", sim=j) for j in range(3)]
                         + [_row(test="b", sim=j, pvalue=0.2) for j in range(3)])
    write_page(page, corpus_rows=first, settings={"corpus": {"root_seed": 1}})
    text = page.read_text()
    assert "`a`" in text and "`b`" in text and "Evidence classes declared" in text
    redo = pd.DataFrame([_row(test="b", sim=j, pvalue=0.01) for j in range(3)])
    write_page(page, corpus_rows=redo)
    _, stored, settings = Store(page).load()
    assert sorted(stored[stored.test == "a"].pvalue) == [0.5] * 3     # kept
    assert sorted(stored[stored.test == "b"].pvalue) == [0.01] * 3    # replaced
    assert settings["corpus"]["root_seed"] == 1
    assert merge(None, redo).equals(redo.reset_index(drop=True))
    # a rerun of some tests keeps the full run's settings and says so on the page
    write_page(page, corpus_rows=redo, settings={"corpus": {"root_seed": 1, "n_twins": 1}})
    settings = Store(page).load()[2]
    assert "n_twins" not in settings["corpus"] and settings["corpus"]["reruns"] == [["b"]]
    assert "Rows rerun after the full run above" in page.read_text()


def test_cli_calibrate_refuses_to_overwrite_and_runs_named_tests(tmp_path, monkeypatch,
                                                                  small_sources, capsys):
    from audit.cli.main import main

    page = tmp_path / "cal.md"
    monkeypatch.setattr(cr, "TWIN_SOURCES", ("sim/b",))
    argv = ["calibrate", "--part", "corpus", "--real", "sim/a", "--n-twins", "2",
            "--n-power", "1", "--out", str(page), "--no-progress", "--tests",
            "last_digit"]
    assert main(argv) == 0
    stored = Store(page).load()[1]
    assert set(stored.name) == {"last_digit"}
    assert set(stored.kind) == {"real", "twin"}
    assert len(stored) == 1 + 2 + 2 * 1
    assert main(argv[:-2]) == 2                   # all tests, table exists, no --overwrite
    assert "--overwrite" in capsys.readouterr().err
    assert main(["calibrate", "--tests", "no_such_test", "--out", str(page)]) == 2


# ------------------------------------------------------------ the committed table
@pytest.fixture(scope="module")
def committed():
    store = Store(PAGE)
    if not store.corpus_path.exists():
        pytest.skip("no committed real-data calibration rows")
    return cr.summarize_corpus(store.load()[1])


def test_committed_table_covers_every_evidence_test(committed):
    runs = set(committed["rates"].test) | set(committed["real"].test)
    for label, (_, _, cal) in catalogue.calibration_labels().items():
        if cal.evidence:
            assert label in runs, f"{label} is declared evidence but was never calibrated"


def test_no_evidence_test_rejects_a_clean_election(committed):
    real = committed["real"]
    assert len(real.source.unique()) >= 3
    bad = real[real.evidence.astype(bool) & real.battery.astype(bool)
               & (real.p_holm <= 0.05)]
    assert bad.empty, bad[["source", "test", "pvalue", "p_holm"]].to_string()


def test_evidence_tests_hold_their_size_on_clean_twins(committed):
    """Every evidence test's false-alarm rate on the clean twins (pooled over
    the three files, at least 20 twins each) is within 0.02-0.08 up to
    sampling error: its 95% Clopper-Pearson interval meets that band."""
    rates = committed["rates"]
    clean = rates[(rates.scenario == "clean") & (rates.source == "all")
                  & rates.evidence.astype(bool)]
    assert len(clean) >= 8 and (clean.n >= 60).all()
    assert ((clean.ci_low <= 0.08) & (clean.ci_high >= 0.02)).all(), \
        clean[["test", "rate", "ci_low", "ci_high", "n"]].to_string()
    assert committed["problems"].empty, committed["problems"].to_string()


def test_the_battery_rarely_cries_wolf_on_clean_twins(committed):
    """The share of clean twins in which any evidence test rejects at Holm
    0.05 is at most 0.08."""
    h = committed["holm"]
    twins = h[(h.kind == "twin") & (h.scenario == "clean")]
    assert len(twins) >= 60 and twins.any_reject.mean() <= 0.08, \
        twins[twins.any_reject].to_string()


def test_evidence_tests_cover_digits_and_integer_percentages():
    """The evidence tests declared at @register: eight, in the digit and
    integer-percentage families.  (No distribution, spike or fraud-model
    test holds its size on the real-data corpus yet: they are descriptive,
    with their reasons, see docs/calibration.md.)"""
    labels = catalogue.calibration_labels()
    evidence = [label for label, (_, _, cal) in labels.items() if cal.evidence]
    fams = {registry.REGISTRY[labels[label][0]].family for label in evidence}
    assert len(evidence) >= 8, evidence
    assert {"digits", "integer-percentage"} <= fams, fams


def test_integer_test_keeps_its_power_on_rounded_twins(committed):
    ip = committed["integer"]
    assert len(ip) >= 20
    assert (ip.pvalue <= 0.05).mean() >= 0.95
    assert (ip.z.abs() <= 3).all(), ip[["source", "sim", "excess", "expected_excess",
                                        "sd"]].to_string()
    # stuffing: measured and shown on the page; no evidence test has the power
    # the issue asks for (see docs/calibration.md), so nothing is asserted here
    assert {"rounding", "stuffing"} <= set(committed["rates"].scenario)


def test_overwriting_one_part_keeps_the_other(tmp_path, monkeypatch, small_sources):
    from audit.stations.calibration import simulated as cal
    from audit.cli.main import main

    page = tmp_path / "cal.md"
    sim = cal.calibrate(["last_digit"], scenarios=["clean"], n_sim=2, n_stations=200)
    write_page(page, simulated_report=sim, settings={"simulated": sim.settings})
    before = Store(page).simulated_path.read_bytes()
    monkeypatch.setattr(cr, "TWIN_SOURCES", ("sim/b",))
    argv = ["calibrate", "--part", "corpus", "--real", "sim/a", "--n-twins", "1",
            "--n-power", "0", "--out", str(page), "--no-progress", "--overwrite",
            "--tests", "last_digit"]
    assert main(argv) == 0
    _, corpus_rows, settings = Store(page).load()
    assert Store(page).simulated_path.read_bytes() == before
    assert settings["simulated"]["n_sim"] == 2 and settings["corpus"]["n_twins"] == 1
    assert len(corpus_rows) == 2                  # one real election, one twin
