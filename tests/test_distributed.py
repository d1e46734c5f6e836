"""Scale-out on Dask gives the same tables as one process.

The cluster tests start a real local Dask cluster (two single-threaded
worker processes) once for the module.  The reference tables are computed
here in this process by ``calibrate`` and ``run_battery`` themselves, with
the seeds written out by hand where a seed is derived (the sweep).
"""

from __future__ import annotations

import os
import warnings

import numpy as np
import pandas as pd
import pytest

pytest.importorskip("dask.distributed",
                    reason='dask.distributed not installed (pip install "dask[distributed]")')

import audit.stations.registry  # noqa: E402
from audit.stations.battery import p_adjust_bh, run_battery  # noqa: E402
from audit.stations.calibration.simulated import calibrate  # noqa: E402
from audit.tables.station_table import StationTable  # noqa: E402
from audit.stations.distributed import (assemble_battery, battery_on_dask,  # noqa: E402
                               calibrate_on_dask, cluster, dask_mapper, plan_battery,
                               run_battery_task, sweep_on_dask)
from audit.core.errors import NotApplicable  # noqa: E402
from audit.stations.registry import register  # noqa: E402
from audit.stations.result import TestResult  # noqa: E402
from audit.stations.simulate import clean_election  # noqa: E402

CAL_TESTS = ["turnout_leader_correlation", "last_digit", "integer_percentages"]
CAL_OPTIONS = dict(scenarios=["clean", "stuffing"], n_sim=10, n_stations=500, root_seed=7)
# Fast registered tests, two of which take region labels nationally.
BATTERY_TESTS = ["turnout_leader_correlation", "sobyanin_sukhovolsky", "last_digit",
                 "second_digit_mean", "integer_percentages", "turnout_dip",
                 "excess_votes", "count_05"]


@pytest.fixture(scope="module")
def dask_cluster():
    from dask.distributed import Client, LocalCluster

    local = LocalCluster(n_workers=2, threads_per_worker=1, processes=True,
                         dashboard_address=None)
    client = Client(local)
    try:
        yield local, client
    finally:
        client.close()
        local.close()


@pytest.fixture(scope="module")
def client(dask_cluster):
    return dask_cluster[1]


def assert_same_results(got, want):
    assert len(got) == len(want)
    for a, b in zip(got, want):
        assert (a is None) == (b is None)
        if a is None:
            continue
        assert (a.test, a.n) == (b.test, b.n)
        np.testing.assert_array_equal([a.statistic, a.pvalue], [b.statistic, b.pvalue])
        if b.table is not None:
            pd.testing.assert_frame_equal(a.table, b.table)


# ------------------------------------------------------------------ on the cluster


def test_mapper_keeps_order_and_runs_on_workers(client):
    out = dask_mapper(client, batch_size=2)(lambda x: (x * x, os.getpid()), range(7))
    assert [v for v, _ in out] == [x * x for x in range(7)]
    pids = {pid for _, pid in out}
    assert os.getpid() not in pids and len(pids) >= 1
    assert dask_mapper(client)(abs, []) == []


@pytest.mark.slow  # the battery on Dask and dask_mapper stay fast
def test_calibration_identical_on_dask(client):
    want = calibrate(CAL_TESTS, **CAL_OPTIONS)
    got = calibrate_on_dask(CAL_TESTS, address=client, **CAL_OPTIONS)
    # Run in reversed order, one task at a time: order must not matter.
    backwards = calibrate(CAL_TESTS, **CAL_OPTIONS, mapper=lambda f, ts: dask_mapper(
        client, batch_size=1)(f, list(ts)[::-1])[::-1])
    assert len(want.rows) == 3 * 2 * 10
    assert (want.rows.status == "ok").all()
    assert want.rows.pvalue.nunique() > 30        # real, varying p-values
    for rep in (got, backwards):
        pd.testing.assert_frame_equal(rep.rows.drop(columns="seconds"),
                                      want.rows.drop(columns="seconds"))
        pd.testing.assert_frame_equal(rep.summary.drop(columns="seconds"),
                                      want.summary.drop(columns="seconds"))
    assert got.settings["dask_threads"] == 2


def test_regional_battery_identical_on_dask(client):
    table = clean_election(2000, rng=0)
    want = run_battery(table, tests=BATTERY_TESTS, by="region", rng=3)
    got = battery_on_dask(table, tests=BATTERY_TESTS, by="region", rng=3, address=client)
    pd.testing.assert_frame_equal(got.evidence, want.evidence)
    assert_same_results(got.results, want.results)
    assert got.leader == want.leader == "leader"
    ev = got.evidence
    n_regions = table.data["region"].nunique()
    assert len(ev) == len(BATTERY_TESTS) * (1 + n_regions)
    assert (ev.status == "ok").sum() > len(ev) // 2
    # The adjustment is over the whole table, not within each region, with
    # the evidence and the descriptive rows as two families.
    for cls in (True, False):
        rows = ev[ev.evidence == cls]
        np.testing.assert_array_equal(rows.p_bh, p_adjust_bh(rows.pvalue))
    national = ev.set_index(["test", "scope"]).loc[("turnout_leader_correlation",
                                                    "national"), "details"]
    # nationally the groups are the districts (named with their region)
    assert national["n_groups"] == len(table.data[["region", "district"]].drop_duplicates())


def test_sweep_by_scheduler_address_identical(dask_cluster):
    local, _ = dask_cluster
    tables = {"a": clean_election(600, rng=1), "b": clean_election(600, rng=2)}
    tests = ["last_digit", "turnout_leader_correlation", "integer_percentages"]
    got = sweep_on_dask(tables, tests=tests, by="region", rng=11,
                        address=local.scheduler_address)
    children = np.random.SeedSequence(11).spawn(2)
    assert list(got) == ["a", "b"]
    for (name, table), seed in zip(tables.items(), children):
        want = run_battery(table, tests=tests, by="region", rng=seed)
        pd.testing.assert_frame_equal(got[name].evidence, want.evidence)
        assert_same_results(got[name].results, want.results)
    assert not got["a"].evidence.pvalue.equals(got["b"].evidence.pvalue)


# ------------------------------------------------------------------ in process


@pytest.fixture
def toys(monkeypatch):
    monkeypatch.setattr(audit.stations.registry, "REGISTRY", {})
    monkeypatch.setattr(audit.stations.registry, "load_plugins", lambda: [])

    @register("toy_uniform", family="toy", min_units=3)
    def toy_uniform(ballots_cast, leader, *, rng=None):
        """Leader share; the p-value is one uniform draw (traces the seed)."""
        return TestResult("toy_uniform", statistic=leader.sum() / ballots_cast.sum(),
                          pvalue=float(np.random.default_rng(rng).uniform()),
                          n=len(leader))

    @register("toy_refuses", family="toy")
    def toy_refuses(registered, *, rng=None):
        """Refuses small electorates."""
        if registered.sum() < 2000:
            raise NotApplicable("fewer than 2,000 registered voters")
        return TestResult("toy_refuses", statistic=1.0, pvalue=0.001, n=len(registered))

    @register("toy_broken", family="toy")
    def toy_broken(invalid, *, rng=None):
        """Always fails."""
        return 1 / 0


def toy_table():
    d = pd.DataFrame({
        "region": ["A", "A", "A", "B", "B", "C", "C", "C"],
        "district": ["a1", "a1", "a2", "b1", "b1", "c1", "c2", "c2"],
        "station": [str(i) for i in range(8)],
        "registered": pd.array([1000, 900, 800, 500, 400, 700, 600, 900], dtype="Int64"),
        "ballots_issued": pd.array([600, 500, 400, 300, 200, 400, 300, 500], dtype="Int64"),
        "ballots_cast": pd.array([600, 500, 400, 300, 200, 400, 300, 500], dtype="Int64"),
        "invalid": pd.array([6, 5, 4, 3, 2, 4, 3, 5], dtype="Int64"),
        "Ann": pd.array([300, 250, 200, 100, 150, 200, 100, 300], dtype="Int64"),
        "Bob": pd.array([294, 245, 196, 197, 48, 196, 197, 195], dtype="Int64"),
    })
    return StationTable(data=d, options=["Ann", "Bob"])


def test_split_battery_reproduces_run_battery(toys):
    table = toy_table()
    kw = dict(leader="ann", by=["region", "district"], rng=5, alpha=0.1)
    with pytest.warns(RuntimeWarning, match="toy_broken.*ZeroDivisionError"):
        want = run_battery(table, **kw)
    plan = plan_battery(table, **kw)
    outputs = [run_battery_task(t, plan.parts[t.scope]) for t in reversed(plan.tasks)]
    with pytest.warns(RuntimeWarning, match="toy_broken.*ZeroDivisionError"):
        got = assemble_battery(plan, outputs[::-1])
    pd.testing.assert_frame_equal(got.evidence, want.evidence)
    assert_same_results(got.results, want.results)
    assert set(want.evidence.status) == {"ok", "not applicable", "error"}
    assert [t.index for t in plan.tasks] == list(range(len(want.evidence)))
    with pytest.raises(ValueError, match="outputs: expected 27 task outputs, got 26"):
        assemble_battery(plan, outputs[1:])


# ------------------------------------------------------------------ validation


def test_validation_before_any_cluster_starts():
    with pytest.raises(ValueError, match="n_workers must be a positive integer, got 0"):
        with cluster(n_workers=0):
            pass
    with pytest.raises(ValueError, match="n_workers applies only to a local cluster"):
        with cluster("tcp://127.0.0.1:1", n_workers=2):
            pass
    with pytest.raises(TypeError, match="address must be None, a scheduler address"):
        with cluster(8786):
            pass
    with pytest.raises(TypeError, match="client must be a dask.distributed.Client, got str"):
        dask_mapper("tcp://127.0.0.1:8786")
    with pytest.raises(TypeError, match="calibrate_on_dask\\(\\) sets jobs itself"):
        calibrate_on_dask(["last_digit"], jobs=2)
    table = clean_election(200, rng=0)
    with pytest.raises(TypeError, match="tables must be a mapping"):
        sweep_on_dask([table])
    with pytest.raises(ValueError, match="leader: no leader given for election 'b'"):
        sweep_on_dask({"a": table, "b": table}, leader={"a": "leader"})
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        with pytest.raises(TypeError, match="table must be a StationTable, got dict"):
            battery_on_dask({"a": 1})


def test_command_line_on_a_running_cluster_gives_the_same_results(dask_cluster, tmp_path):
    """`audit run --scheduler ADDRESS` against a cluster started outside the command."""
    import json

    from audit.cli.main import main
    from audit.stations.simulate import clean_election

    local, _ = dask_cluster
    path = tmp_path / "election.parquet"
    clean_election(1200, rng=5).data.to_parquet(path)
    common = ["run", str(path), "--format", "canonical", "--leader", "leader", "--by", "region",
              "--tests", "last_digit,turnout_leader_correlation", "--seed", "9", "--no-figures"]
    assert main(common + ["--out", str(tmp_path / "here")]) == 0
    assert main(common + ["--out", str(tmp_path / "there"),
                          "--scheduler", local.scheduler_address]) == 0
    here = json.loads((tmp_path / "here" / "results.json").read_text())["results"]
    there = json.loads((tmp_path / "there" / "results.json").read_text())["results"]
    assert here == there and len(here) > 2
    for name in ("results.csv", "test_exclusions.csv", "excluded_by_test.csv"):
        assert (tmp_path / "here" / name).read_bytes() == \
            (tmp_path / "there" / name).read_bytes(), name
