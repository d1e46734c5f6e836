"""Tests of the calibration harness (audit.stations.calibration.simulated)."""

import numpy as np
import pandas as pd
import pytest
from scipy import stats

import audit.stations.forensics  # noqa: F401
from audit.stations.calibration import simulated as cal
from audit.core.errors import NotApplicable
from audit.stations.registry import REGISTRY, TestSpec
from audit.stations.result import TestResult
from audit.stations.simulate import clean_election


def _spec(name, func, needs, min_units=1):
    return TestSpec(name=name, func=func, family="dummy", needs=needs,
                    min_units=min_units, null="", description="")


def uniform_p(registered, *, rng=None):
    """A valid test by construction: p uniform on (0, 1) from rng."""
    rng = np.random.default_rng(rng)
    return TestResult("dummy_uniform", statistic=float(len(registered)),
                      pvalue=float(rng.random()), n=len(registered))


def always_reject(registered, leader, *, rng=None):
    return TestResult("dummy_reject", statistic=1.0, pvalue=0.001, n=len(registered))


def refuses(votes, *, rng=None):
    raise NotApplicable("never applies")


def crashes(ballots_cast, *, rng=None):
    raise RuntimeError("boom")


def leader_excess(registered, ballots_cast, leader, *, rng=None):
    """Rejects when the leader's share of ballots exceeds 52%."""
    share = leader.sum() / ballots_cast.sum()
    return TestResult("dummy_power", statistic=share, pvalue=0.01 if share > 0.52 else 0.5,
                      n=len(leader))


@pytest.fixture
def dummies(monkeypatch):
    for name, func, needs in [("dummy_uniform", uniform_p, ("registered",)),
                              ("dummy_reject", always_reject, ("registered", "leader")),
                              ("dummy_refuses", refuses, ("votes",)),
                              ("dummy_crashes", crashes, ("ballots_cast",)),
                              ("dummy_power", leader_excess,
                               ("registered", "ballots_cast", "leader"))]:
        monkeypatch.setitem(REGISTRY, name, _spec(name, func, needs))
    cal.election.cache_clear()
    cal._clean.cache_clear()
    yield


# ------------------------------------------------------------ call_test
def test_call_test_feeds_roles():
    seen = {}

    def probe(registered, ballots_issued, ballots_cast, invalid, leader, votes, *, rng=None):
        seen.update(registered=registered, issued=ballots_issued, cast=ballots_cast,
                    invalid=invalid, leader=leader, votes=votes)
        return TestResult("probe", 0.0, 0.5, len(registered))

    t = clean_election(50, rng=1)
    spec = _spec("probe", probe, ("registered", "ballots_issued", "ballots_cast",
                                  "invalid", "leader", "votes"))
    cal.call_test(spec, t, leader="other1", rng=0)
    np.testing.assert_array_equal(seen["registered"], t.data.registered.to_numpy(int))
    np.testing.assert_array_equal(seen["leader"], t.data.other1.to_numpy(int))
    assert seen["votes"].shape == (50, 3)
    np.testing.assert_array_equal(seen["votes"][:, 2], t.data.other2.to_numpy(int))
    assert seen["registered"].dtype == np.int64


def test_call_test_drops_missing_rows_and_refuses():
    t = clean_election(30, rng=2)
    t.data.loc[:4, "registered"] = pd.NA
    spec = _spec("dummy", uniform_p, ("registered",), min_units=20)
    assert cal.call_test(spec, t, rng=0).statistic == 25
    spec = _spec("dummy", uniform_p, ("registered",), min_units=26)
    with pytest.raises(NotApplicable, match="at least 26"):
        cal.call_test(spec, t, rng=0)
    t.data["ballots_issued"] = pd.array([pd.NA] * 30, dtype="Int64")
    need = _spec("dummy", lambda ballots_issued, *, rng=None: None, ("ballots_issued",))
    with pytest.raises(NotApplicable, match="ballots_issued"):
        cal.call_test(need, t)


def test_call_test_rejects_unknown_name():
    with pytest.raises(ValueError, match="no registered test"):
        cal.call_test("no_such_test", clean_election(10, rng=0))


# ------------------------------------------------------------ seeds and tasks
def test_run_task_is_pure_and_order_free(dummies):
    tasks = cal.make_tasks(["dummy_uniform", "dummy_reject"], ["clean", "stuffing"],
                           n_sim=3, n_stations=200, root_seed=5)
    assert len(tasks) == 2 * 2 * 3
    fwd = pd.DataFrame([cal.run_task(t) for t in tasks]).drop(columns="seconds")
    cal.election.cache_clear()
    cal._clean.cache_clear()
    back = pd.DataFrame([cal.run_task(t) for t in reversed(tasks)]).drop(columns="seconds")
    back = back.iloc[::-1].reset_index(drop=True)
    pd.testing.assert_frame_equal(fwd, back)
    # different simulations and scenarios get different streams
    p = fwd[fwd.test == "dummy_uniform"].pvalue
    assert p.nunique() == len(p)


def test_seeds_do_not_depend_on_which_tests_run(dummies):
    one = cal.run_task(cal.Task("dummy_uniform", "clean", 2, root_seed=9, n_stations=100))
    cal.make_tasks(None, None, n_sim=1)
    two = cal.run_task(cal.Task("dummy_uniform", "clean", 2, root_seed=9, n_stations=100))
    assert one["pvalue"] == two["pvalue"]
    other = cal.run_task(cal.Task("dummy_uniform", "clean", 2, root_seed=10, n_stations=100))
    assert other["pvalue"] != one["pvalue"]


def test_fraud_scenarios_are_paired_with_clean():
    clean = cal.election("clean", 0, 3, 300)
    stuffed = cal.election("stuffing", 0, 3, 300)
    alt = stuffed.source["altered"]
    pd.testing.assert_frame_equal(stuffed.data[~alt], clean.data[~alt])
    assert alt.any()


def test_make_tasks_validates():
    with pytest.raises(ValueError, match="no registered test"):
        cal.make_tasks(["nope"])
    with pytest.raises(ValueError, match="unknown"):
        cal.make_tasks(None, ["volcano"])
    with pytest.raises(ValueError, match="n_sim"):
        cal.make_tasks(None, n_sim=0)


def test_max_sims_caps_a_test(dummies):
    tasks = cal.make_tasks(["dummy_uniform", "dummy_reject"], ["clean"], n_sim=5,
                           max_sims={"dummy_reject": 2})
    assert sum(t.test == "dummy_reject" for t in tasks) == 2
    assert sum(t.test == "dummy_uniform" for t in tasks) == 5


# ------------------------------------------------------------ flags
def test_size_flag_uses_exact_interval():
    k, n = 22, 200
    flag, lo, hi = cal.size_flag(k, n)
    # Clopper-Pearson from beta quantiles
    assert lo == pytest.approx(stats.beta.ppf(0.025, k, n - k + 1))
    assert hi == pytest.approx(stats.beta.ppf(0.975, k + 1, n - k))
    assert flag is None
    assert cal.size_flag(30, 200)[0] == "liberal"      # CI low ~0.104 > 0.075
    assert cal.size_flag(0, 200)[0] == "conservative"  # CI high ~0.018 < 0.025
    assert cal.size_flag(0, 50)[0] is None             # too few runs to tell


def test_calibrate_end_to_end(dummies, tmp_path):
    rep = cal.calibrate(["dummy_uniform", "dummy_reject", "dummy_refuses",
                         "dummy_crashes", "dummy_power"],
                        scenarios=["clean", "klimek_extreme"], n_sim=120, n_sim_power=30,
                        n_stations=300, root_seed=4)
    s = rep.summary.set_index(["test", "scenario"])
    uni = s.loc[("dummy_uniform", "clean")]
    assert uni.n_pvalue == 120 and uni.flag == ""
    assert uni.ci_low <= 0.05 <= uni.ci_high
    assert s.loc[("dummy_reject", "clean")].flag == "liberal"
    assert s.loc[("dummy_reject", "klimek_extreme")].rate == 1.0
    assert s.loc[("dummy_refuses", "clean")].n_not_applicable == 120
    assert s.loc[("dummy_crashes", "clean")].n_error == 120
    assert "boom" in s.loc[("dummy_crashes", "clean")].first_reason
    # paired power: the leader's share rises under extreme fraud
    assert s.loc[("dummy_power", "klimek_extreme")].n_run == 30
    text = cal.write_markdown(rep, tmp_path / "cal.md")
    assert (tmp_path / "cal.md").read_text() == text
    assert "--seed 4" in text and "300 stations" in text
    assert "| `dummy_reject` |" in text and "liberal" in text
    assert "never applies" in text


def test_mapper_gives_same_table(dummies):
    a = cal.calibrate(["dummy_uniform"], scenarios=["clean"], n_sim=10,
                      n_stations=100, root_seed=2)
    b = cal.calibrate(["dummy_uniform"], scenarios=["clean"], n_sim=10,
                      n_stations=100, root_seed=2,
                      mapper=lambda f, tasks: [f(t) for t in reversed(list(tasks))])
    pd.testing.assert_frame_equal(a.rows.drop(columns="seconds"),
                                  b.rows.drop(columns="seconds"))


def test_column_option_is_fed_from_the_table():
    got = {}

    def grouped(registered, *, groups=None, rng=None):
        got["groups"] = groups
        return TestResult("g", 0.0, 0.5, len(registered))

    t = clean_election(40, rng=3)
    t.data.loc[:1, "registered"] = pd.NA
    cal.call_test(_spec("g", grouped, ("registered",)), t, groups=cal.Column("region"))
    np.testing.assert_array_equal(got["groups"], t.data.region.to_numpy()[2:])
    with pytest.raises(NotApplicable, match="column 'county'"):
        cal.call_test(_spec("g", grouped, ("registered",)), t, groups=cal.Column("county"))


def test_variants_run_with_groups():
    labels = {t.test for t in cal.make_tasks(n_sim=1, scenarios=["clean"])}
    assert set(cal.VARIANTS) <= labels
    row = cal.run_task(cal.Task("sobyanin_sukhovolsky[groups]", "clean", 0,
                                root_seed=3, n_stations=600))
    assert row["status"] == "ok", row["reason"]
    plain = cal.run_task(cal.Task("sobyanin_sukhovolsky", "clean", 0, root_seed=3,
                                  n_stations=600))
    assert row["pvalue"] != plain["pvalue"]


def test_process_pool_gives_same_rows():
    kw = dict(scenarios=["clean", "stuffing"], n_sim=4, n_stations=200, root_seed=8)
    one = cal.calibrate(["turnout_skewness", "sobyanin_sukhovolsky"], **kw)
    two = cal.calibrate(["turnout_skewness", "sobyanin_sukhovolsky"], jobs=2, **kw)
    pd.testing.assert_frame_equal(one.rows.drop(columns="seconds"),
                                  two.rows.drop(columns="seconds"))


def test_command_line_and_rows_round_trip(tmp_path):
    from audit.stations.calibration.command import main

    md, rows = tmp_path / "cal.md", tmp_path / "rows.csv"
    base = ["--tests", "turnout_skewness", "sobyanin_sukhovolsky[groups]",
            "--scenarios", "clean", "stuffing", "--n-sim", "6", "--n-stations", "300",
            "--seed", "3"]
    assert main([*base, "--out", str(md), "--rows", str(rows)]) == 0
    text = md.read_text()
    assert "python -m audit.stations.calibration " + " ".join(base) in text
    assert "--rows" not in text
    md2 = tmp_path / "again.md"
    main([*base, "--out", str(md2), "--from-rows", str(rows)])
    table = lambda t: t[t.index("| test"):]
    assert table(md2.read_text()) == table(text)


def test_every_flagged_test_says_so_in_its_docstring():
    from audit.stations.calibration.simulated import DECLARED_FLAGS
    from audit.stations.registry import REGISTRY

    for label in DECLARED_FLAGS:
        doc = REGISTRY[label.split("[")[0]].func.__doc__ or ""
        assert "Calibration" in doc or "calibrat" in doc.lower(), label


def test_progress_bar_draws_and_leaves_results_unchanged():
    import io

    stream = io.StringIO()
    with_bar = cal.calibrate(["last_digit"], scenarios=["clean"], n_sim=6, n_stations=300,
                             root_seed=3, progress=stream)
    without = cal.calibrate(["last_digit"], scenarios=["clean"], n_sim=6, n_stations=300,
                            root_seed=3)
    text = stream.getvalue()
    assert "6/6 runs" in text and text.endswith("\n")
    cols = ["test", "scenario", "sim", "statistic", "pvalue"]
    pd.testing.assert_frame_equal(with_bar.rows[cols], without.rows[cols])


def test_a_test_registered_in_main_travels_with_its_task(monkeypatch):
    """A test defined in a notebook (module ``__main__``) cannot be imported
    by name on a worker: its task carries the spec, and a worker whose
    registry lacks it registers it before running."""
    from audit.stations import registry

    def notebook_test(registered, *, rng=None):
        return TestResult("notebook_test", float(len(registered)), 0.5, len(registered))

    notebook_test.__module__ = "__main__"
    spec = _spec("notebook_test", notebook_test, ("registered",))
    monkeypatch.setitem(registry.REGISTRY, "notebook_test", spec)
    task = cal.make_tasks(["notebook_test"], ["clean"], n_sim=1, n_stations=200)[0]
    assert task.spec is spec
    monkeypatch.delitem(registry.REGISTRY, "notebook_test")     # a fresh worker
    row = cal.run_task(task)
    assert row["status"] == "ok" and row["statistic"] == 200.0
    assert "notebook_test" in registry.REGISTRY
    del registry.REGISTRY["notebook_test"]
    # a test importable by name travels by name only
    assert cal.make_tasks(["last_digit"], ["clean"], n_sim=1)[0].spec is None
