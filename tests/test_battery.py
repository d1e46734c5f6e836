"""The battery: feeding tests by role, scopes, seeds and p-value adjustment.

The registered tests here are toys defined in this file, registered into a
temporary registry that is thrown away after each test.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
import scipy.stats

import audit.stations.forensics  # noqa: F401  (real tests register before the toys swap in)
import audit.stations.registry
from audit.stations.battery import COLUMNS, p_adjust_bh, p_adjust_holm, run_battery
from audit.tables.station_table import StationTable
from audit.core.errors import InputError, NotApplicable
from audit.stations.registry import register
from audit.stations.result import TestResult

# --------------------------------------------------------------- adjustments


def test_bh_hand_example():
    # sorted 0.005, 0.01, 0.03, 0.04 -> 4p/i = 0.02, 0.02, 0.04, 0.04
    got = p_adjust_bh([0.01, 0.04, 0.03, 0.005])
    np.testing.assert_allclose(got, [0.02, 0.04, 0.04, 0.02])


def test_bh_matches_the_formula_in_exact_arithmetic():
    """The adjusted p-values against min_{j >= i} min(1, m p_(j) / j) computed
    with fractions (to the last bit of a float, give or take one rounding)."""
    from fractions import Fraction

    rng = np.random.default_rng(13)
    for m in (1, 2, 7, 40):
        p = rng.uniform(size=m) ** 3
        p[: m // 3] = p[-1]                                   # ties
        order = np.argsort(p)
        exact = [Fraction(float(p[order[i]])) * m / (i + 1) for i in range(m)]
        want = np.empty(m)
        for i in range(m):
            want[order[i]] = float(min(min(exact[i:]), Fraction(1)))
        np.testing.assert_allclose(p_adjust_bh(p), want, rtol=4e-16, atol=0)


def test_bh_rejections_in_the_papers_example():
    """Benjamini & Hochberg (1995), Sec. 4: of the 15 p-values of their
    example, the procedure at q = 0.05 rejects the four smallest."""
    p = [0.0201, 0.0001, 0.0004, 0.0019, 0.0095, 0.0278, 0.0298, 0.0344, 0.0459,
         0.3240, 0.4262, 0.5719, 0.6528, 0.7590, 1.0000]
    rejected = np.flatnonzero(p_adjust_bh(p) <= 0.05)
    assert sorted(np.asarray(p)[rejected].tolist()) == [0.0001, 0.0004, 0.0019, 0.0095]


def test_holm_hand_example():
    # sorted 0.005, 0.01, 0.03, 0.04 -> (m-i+1)p = 0.02, 0.03, 0.06, 0.04;
    # running maximum 0.02, 0.03, 0.06, 0.06
    got = p_adjust_holm([0.01, 0.04, 0.03, 0.005])
    np.testing.assert_allclose(got, [0.03, 0.06, 0.06, 0.02])


def test_adjustments_cap_ties_and_nan():
    np.testing.assert_allclose(p_adjust_bh([0.5, 0.9]), [0.9, 0.9])
    np.testing.assert_allclose(p_adjust_holm([0.5, 0.9]), [1.0, 1.0])
    np.testing.assert_allclose(p_adjust_bh([0.02, 0.02]), [0.02, 0.02])
    np.testing.assert_allclose(p_adjust_holm([0.02, 0.02]), [0.04, 0.04])
    # NaN rows are not counted in m and stay NaN.
    np.testing.assert_allclose(p_adjust_bh([np.nan, 0.01, 0.02]), [np.nan, 0.02, 0.02])
    np.testing.assert_allclose(p_adjust_holm([np.nan, 0.01, 0.02]), [np.nan, 0.02, 0.02])
    assert np.isnan(p_adjust_bh([np.nan])).all() and p_adjust_holm([]).size == 0


def test_bh_agrees_with_scipy():
    p = np.random.default_rng(1).uniform(size=200) ** 3
    np.testing.assert_allclose(p_adjust_bh(p), scipy.stats.false_discovery_control(p))


def test_adjustment_rejects_bad_pvalues():
    with pytest.raises(ValueError, match=r"pvalues must lie in \[0, 1\], got 1.5"):
        p_adjust_bh([0.1, 1.5])


# -------------------------------------------------------------- toy registry

@pytest.fixture
def toys(monkeypatch):
    reg: dict = {}
    monkeypatch.setattr(audit.stations.registry, "REGISTRY", reg)
    monkeypatch.setattr(audit.stations.registry, "load_plugins", lambda: [])
    calls = []

    @register("toy_share", family="toy", min_units=3)
    def toy_share(ballots_cast, leader, *, rng=None):
        """Leader share; the p-value is one uniform draw (to trace seeds)."""
        rng = np.random.default_rng(rng)
        calls.append(("toy_share", len(leader)))
        return TestResult("toy_share", statistic=leader.sum() / ballots_cast.sum(),
                          pvalue=float(rng.uniform()), n=len(leader),
                          details={"leader_total": int(leader.sum())},
                          table=pd.DataFrame({"x": [1, 2], "observed": [3, 4],
                                              "expected": [3.5, 3.5]}))

    @register("toy_turnout", family="toy")
    def toy_turnout(registered, ballots_issued, *, rng=None):
        """Refuses small electorates."""
        if registered.sum() < 2000:
            raise NotApplicable("fewer than 2,000 registered voters")
        return TestResult("toy_turnout", statistic=ballots_issued.sum() / registered.sum(),
                          pvalue=0.001, n=len(registered))

    @register("toy_votes", family="descriptive")
    def toy_votes(votes, *, rng=None):
        """Number of options (no p-value)."""
        return TestResult("toy_votes", statistic=votes.shape[1], pvalue=float("nan"),
                          n=votes.shape[0])

    @register("toy_broken", family="toy")
    def toy_broken(invalid, *, rng=None):
        """Always fails."""
        return 1 / 0

    return reg, calls


def make_table(registered=True):
    d = pd.DataFrame({
        "region": ["A", "A", "A", "B", "B"],
        "station": ["1", "2", "3", "4", "5"],
        "registered": pd.array([1000, 900, 800, 500, 400], dtype="Int64"),
        "ballots_issued": pd.array([600, 500, 400, 300, 200], dtype="Int64"),
        "ballots_cast": pd.array([600, 500, 400, 300, 200], dtype="Int64"),
        "invalid": pd.array([6, 5, 4, 3, 2], dtype="Int64"),
        "Ann": pd.array([300, 250, 200, 100, 150], dtype="Int64"),
        "Bob": pd.array([294, 245, 196, 197, 48], dtype="Int64"),
    }, index=pd.RangeIndex(2, 7, name="source_row"))
    if not registered:
        d["registered"] = pd.array([pd.NA] * 5, dtype="Int64")
    return StationTable(data=d, options=["Ann", "Bob"])


def test_national_and_by_region(toys):
    reg, _ = toys
    with pytest.warns(RuntimeWarning, match="toy_broken.*ZeroDivisionError"):
        ev, results = run_battery(make_table(), leader="ann", by="region", rng=7)
    assert list(ev.columns) == list(COLUMNS)
    assert len(ev) == len(results) == 4 * 3
    assert ev["scope"].tolist()[:4] == ["national"] * 4
    assert ev["scope"].tolist()[4:] == ["region=A"] * 4 + ["region=B"] * 4
    row = ev.set_index(["test", "scope"])
    assert row.loc[("toy_share", "national"), "statistic"] == pytest.approx(1000 / 2000)
    assert row.loc[("toy_share", "national"), "details"] == {"expected": None,
                                                             "leader_total": 1000}
    # min_units: region B has 2 stations, toy_share needs 3.
    b = row.loc[("toy_share", "region=B")]
    assert b["status"] == "not applicable" and "at least 3 stations" in b["reason"]
    assert b["n"] == 2
    # NotApplicable raised by the test is recorded with its reason.
    t = row.loc[("toy_turnout", "region=B")]
    assert (t["status"], t["reason"]) == ("not applicable",
                                          "fewer than 2,000 registered voters")
    assert row.loc[("toy_turnout", "region=A"), "status"] == "ok"
    assert row.loc[("toy_votes", "national"), "statistic"] == 2
    assert row.loc[("toy_broken", "national"), "status"] == "error"
    assert results[3] is None and isinstance(results[0], TestResult)


def test_a_test_kept_out_of_the_default_set_runs_only_when_named(toys):
    reg, calls = toys

    @register("toy_slow_model", family="toy", default=False)
    def toy_slow_model(ballots_cast, *, rng=None):
        """A slow model: out of the default set."""
        calls.append(("toy_slow_model", len(ballots_cast)))
        return TestResult("toy_slow_model", statistic=1.0, pvalue=0.5, n=len(ballots_cast))

    default = run_battery(make_table()).evidence
    assert "toy_slow_model" not in set(default["test"])
    assert "toy_share" in set(default["test"])
    named = run_battery(make_table(), tests=["toy_slow_model", "toy_share"]).evidence
    assert set(named["test"]) == {"toy_slow_model", "toy_share"}
    assert ("toy_slow_model", 5) in calls


def test_missing_role_is_recorded_not_dropped(toys):
    ev, _ = run_battery(make_table(registered=False), tests=["toy_turnout", "toy_share"])
    r = ev.set_index("test").loc["toy_turnout"]
    assert r["status"] == "not applicable"
    assert r["reason"] == "toy_turnout needs registered, which the data lack"
    assert ev.set_index("test").loc["toy_share", "status"] == "ok"


def test_adjustment_over_whole_table(toys):
    ev, _ = run_battery(make_table(), tests="toy_share,toy_turnout,toy_votes",
                        by="region", rng=3)
    ok = ev["status"].eq("ok") & ev["pvalue"].notna()
    np.testing.assert_allclose(ev.loc[ok, "p_bh"], p_adjust_bh(ev.loc[ok, "pvalue"]))
    np.testing.assert_allclose(ev.loc[ok, "p_holm"], p_adjust_holm(ev.loc[ok, "pvalue"]))
    assert ev.loc[~ok, "p_bh"].isna().all()
    assert (ev["reject_bh"] == (ev["p_bh"] <= 0.05)).all()


def test_seeds_spawned_in_task_order(toys):
    ev, _ = run_battery(make_table(), tests=["toy_share", "toy_turnout"], by="region",
                        rng=11)
    children = np.random.SeedSequence(11).spawn(6)
    # toy_share is task 0 (national) and task 2 (region A).
    assert ev.loc[0, "pvalue"] == np.random.default_rng(children[0]).uniform()
    assert ev.loc[2, "pvalue"] == np.random.default_rng(children[2]).uniform()
    again, _ = run_battery(make_table(), tests=["toy_share", "toy_turnout"], by="region",
                           rng=11)
    pd.testing.assert_frame_equal(ev, again)
    national_only, _ = run_battery(make_table(), tests=["toy_share", "toy_turnout"],
                                   rng=11)
    assert national_only.loc[0, "pvalue"] == ev.loc[0, "pvalue"]
    seq = np.random.SeedSequence(11)
    seq.spawn(3)  # an already-used SeedSequence gives the same answer
    same, _ = run_battery(make_table(), tests=["toy_share"], rng=seq)
    assert same.loc[0, "pvalue"] == ev.loc[0, "pvalue"]
    other, _ = run_battery(make_table(), tests=["toy_share"], rng=12)
    assert other.loc[0, "pvalue"] != ev.loc[0, "pvalue"]


def test_leader_defaults_to_most_votes(toys):
    b = run_battery(make_table(), tests=["toy_share"])
    assert b.leader == "Ann"          # 1,000 votes against Bob's 980
    assert b.evidence.loc[0, "statistic"] == pytest.approx(0.5)


def test_rows_with_missing_counts_are_left_out_per_test(toys):
    _, calls = toys
    t = make_table()
    t.data.loc[3, "Ann"] = pd.NA
    ev, _ = run_battery(t, leader="Ann", tests=["toy_share", "toy_turnout"])
    assert calls == [("toy_share", 4)]
    assert ev.set_index("test").loc["toy_turnout", "n"] == 5


@pytest.mark.parametrize("kwargs, error, message", [
    ({"tests": ["nope"]}, InputError, "unknown test"),
    ({"by": "district"}, InputError, "by='district' is not a hierarchy column"),
    ({"by": "Ann"}, InputError, "is not a hierarchy column"),
    ({"alpha": 1.5}, ValueError, "alpha must lie in"),
    ({"rng": "seed"}, TypeError, "rng must be None, an int"),
    ({"rng": -1}, ValueError, "rng must be a non-negative"),
    ({"leader": "Zed"}, InputError, "matches no option"),
])
def test_bad_arguments(toys, kwargs, error, message):
    with pytest.raises(error, match=message):
        run_battery(make_table(), **kwargs)


def test_not_a_table():
    with pytest.raises(TypeError, match="table must be a StationTable"):
        run_battery(pd.DataFrame())


# ------------------------------------------------------------------ figures

def test_plots_draw_the_given_numbers(toys):
    import matplotlib.pyplot as plt

    from audit.plots.battery import plot_evidence, plot_result_table

    b = run_battery(make_table(), leader="Ann", tests=["toy_share", "toy_votes"], rng=1)
    ax = plot_evidence(b.evidence, alpha=0.05)
    bars = [p.get_width() for p in ax.patches]
    p = b.evidence["p_holm"].iloc[0]
    assert bars[0] == pytest.approx(-np.log10(p))          # toy_share, Holm-adjusted
    # toys declare no evidence class: descriptive, and labelled so
    assert "Toy votes (no p-value) [descriptive]" in [t.get_text()
                                                      for t in ax.get_yticklabels()]
    ax = plot_result_table(b.results[0])
    assert [r.get_height() for r in ax.patches] == [3, 4]  # observed column as bars
    # the title names the test in words and never shows the unadjusted p-value
    n = b.results[0].n
    assert ax.get_title(loc="left") == f"Toy share (n = {n})"
    ax = plot_result_table(b.results[0], p_adjusted=0.0)
    assert ax.get_title(loc="left") == f"Toy share (Holm-adjusted p < 0.001, n = {n})"
    plt.close("all")


def test_plot_layouts():
    import matplotlib.pyplot as plt

    from audit.plots.battery import plot_result_table

    grouped = pd.DataFrame({"quantity": ["turnout"] * 3 + ["leader"] * 3,
                            "center": [1.0, 2.0, 3.0] * 2,
                            "observed": [5, 9, 4, 2, 3, 8],
                            "expected": [5.0, 5.0, 5.0, 4.0, 4.0, 4.0]})
    ax = plot_result_table(TestResult("g", 1.0, 0.5, 10, table=grouped))
    labels = [line.get_label() for line in ax.get_lines()]
    assert labels == ["turnout: Observed", "turnout: Expected under the test's null",
                      "leader: Observed", "leader: Expected under the test's null"]
    assert list(ax.get_lines()[2].get_ydata()) == [2, 3, 8]
    grid = pd.DataFrame({"turnout_lo": [0.0, 0.5, 0.0, 0.5], "turnout_hi": [0.5, 1, 0.5, 1],
                         "share_lo": [0.0, 0.0, 0.5, 0.5], "share_hi": [0.5, 0.5, 1, 1],
                         "observed": [1, 2, 3, 4]})
    ax = plot_result_table(TestResult("f", 1.0, float("nan"), 10, table=grid))
    mesh = ax.collections[0]
    assert mesh.get_array().ravel().tolist() == [1, 2, 3, 4]
    assert "p = " not in ax.get_title(loc="left")
    assert (ax.get_xlabel(), ax.get_ylabel()) == ("Turnout (%)", "Leader's share (%)")
    with pytest.raises(ValueError, match="has no table"):
        plot_result_table(TestResult("none", 1.0, 0.5, 10))
    plt.close("all")


def test_district_labels_reach_tests_that_take_them_and_classes_are_reported():
    from audit.stations.simulate import clean_election

    table = clean_election(1500, rng=3)
    ev, res = run_battery(table, leader="leader", rng=1,
                          tests=["turnout_leader_correlation", "first_digit",
                                 "integer_percentages"])
    by = ev.set_index("test")
    corr = res[list(ev["test"]).index("turnout_leader_correlation")]
    # the district labels reach the test; its class (descriptive: Canada 2011
    # rejects it within ridings) and the reason are in the row
    assert corr.params["groups"] is True
    assert by.loc["turnout_leader_correlation", "label"].startswith(
        "turnout_leader_correlation[groups]")
    assert not by.loc["turnout_leader_correlation", "evidence"]
    assert by.loc["turnout_leader_correlation", "calibration"].startswith("descriptive")
    assert by.loc["first_digit", "calibration"].startswith("descriptive (liberal)")
    assert by.loc["integer_percentages", "evidence"]
    assert by.loc["integer_percentages", "calibration"] == ""


def test_within_a_region_the_districts_are_the_groups():
    from audit.stations.simulate import clean_election

    table = clean_election(1500, rng=3)
    ev, res = run_battery(table, leader="leader", rng=1, by="region",
                          tests=["turnout_leader_correlation"])
    within = ev[ev["level"] == "region"]
    # within a region the finest level left is the district
    assert within["label"].str.contains(r"\[groups\] \(district\)").all()
    assert within["calibration"].str.startswith("descriptive").all()


# ------------------------------------------------------ stations left out


def test_stations_left_out_are_listed_by_source_row(monkeypatch):
    import pickle

    from audit.stations.battery import excluded_stations
    from audit.stations.result import exclusion_table

    monkeypatch.setattr(audit.stations.registry, "REGISTRY", {})
    monkeypatch.setattr(audit.stations.registry, "load_plugins", lambda: [])

    @register("toy_small", family="toy", min_units=1)
    def toy_small(ballots_cast, leader, *, rng=None):
        """Leaves out the stations where the leader has fewer than 250 votes."""
        small = leader < 250
        return TestResult("toy_small", statistic=float(leader[~small].sum()),
                          pvalue=0.5, n=int((~small).sum()),
                          details={"excluded_small": int(small.sum())},
                          excluded=exclusion_table({"leader below 250": small}))

    @register("toy_plain", family="toy", min_units=1)
    def toy_plain(leader, *, rng=None):
        """Lists nothing."""
        return TestResult("toy_plain", statistic=float(leader.sum()), pvalue=0.5,
                          n=len(leader))

    table = make_table()
    table.data.loc[3, "ballots_cast"] = pd.NA     # second row: not complete
    battery = run_battery(table, leader="Ann", by="region", rng=0)
    got = excluded_stations(battery)
    # complete rows 2, 4, 5, 6 reach toy_small as positions 0..3; its
    # positions 1..3 (leader 200, 100, 150) are source rows 4, 5, 6
    assert got[["test", "source_row", "reason"]].values.tolist() == [
        ["toy_small", 3, "missing ballots_cast"],
        ["toy_small", 4, "leader below 250"],
        ["toy_small", 5, "leader below 250"],
        ["toy_small", 6, "leader below 250"]]
    assert set(got["scope"]) == {"national"}
    every = excluded_stations(battery, scope=None)
    assert every.loc[every["scope"] == "region=A", "source_row"].tolist() == [3, 4]
    counts = battery.evidence.set_index(["test", "scope"]).loc[
        ("toy_small", "national"), "details"]
    assert counts == {"expected": None, "excluded_small": 3,
                      "excluded_missing_needed_column": 1}
    # the listing travels with the result (e.g. from a Dask worker)
    result = battery.results[0]
    assert pickle.loads(pickle.dumps(result)).excluded.equals(result.excluded)
    assert battery.results[1].excluded.empty    # toy_plain: nothing left out


# ------------------------------------------------------- forked processes

def _same_battery(a, b):
    pd.testing.assert_frame_equal(a.evidence.drop(columns="details"),
                                  b.evidence.drop(columns="details"))
    assert a.evidence["details"].tolist() == b.evidence["details"].tolist()
    for ra, rb in zip(a.results, b.results):
        assert (ra is None) == (rb is None)
        if ra is not None and getattr(ra, "table", None) is not None:
            pd.testing.assert_frame_equal(ra.table, rb.table)
            pd.testing.assert_frame_equal(ra.excluded, rb.excluded)


def test_the_battery_on_two_processes_gives_the_same_table():
    from audit.stations.simulate import ballot_stuffing, clean_election

    table = ballot_stuffing(clean_election(1500, rng=11, n_regions=3), share=0.05, rng=12)
    # threaded tests (spikes' resamples) run on one thread in the processes
    tests = ["integer_percentages", "last_digit", "spikes", "turnout_leader_correlation",
             "turnout_skewness", "first_digit"]
    one = run_battery(table, tests=tests, by="region", rng=5, processes=1)
    two = run_battery(table, tests=tests, by="region", rng=5, processes=2)
    assert len(one.evidence) == 4 * len(tests)
    _same_battery(one, two)


def test_battery_processes_by_default_and_from_the_environment(monkeypatch):
    from audit.stations import battery
    from audit.stations.simulate import clean_election

    small = battery.plan_battery(clean_election(300, rng=1), tests=["last_digit"])
    monkeypatch.delenv(battery.PROCESSES_ENV, raising=False)
    assert battery.battery_processes(small) == 1          # too few stations to pay off
    monkeypatch.setattr(battery, "PARALLEL_MIN_STATIONS", 100)
    from audit.core.threads import usable_cores

    assert battery.battery_processes(small) == usable_cores()
    monkeypatch.setenv(battery.PROCESSES_ENV, "3")
    assert battery.battery_processes(small) == 3
    monkeypatch.setenv(battery.PROCESSES_ENV, "many")
    with pytest.raises(InputError, match="VOTE_AUDIT_PROCESSES must be a whole number"):
        battery.battery_processes(small)


def test_inside_a_worker_process_the_battery_stays_on_one_process():
    import multiprocessing

    from audit.stations import battery
    from audit.stations.simulate import clean_election

    plan = battery.plan_battery(clean_election(300, rng=1), tests=["last_digit"])

    def inside(queue):
        battery.PARALLEL_MIN_STATIONS = 1
        queue.put(battery.battery_processes(plan))

    ctx = multiprocessing.get_context("fork")
    queue = ctx.Queue()
    proc = ctx.Process(target=inside, args=(queue,))
    proc.start()
    got = queue.get(timeout=60)
    proc.join()
    assert got == 1


def test_a_result_that_cannot_be_sent_back_is_computed_in_the_process(toys):
    reg, _ = toys

    @register("toy_unpicklable", family="toy")
    def toy_unpicklable(ballots_cast, *, rng=None):
        """A result holding a local function (it cannot be pickled)."""
        def local():
            return None
        return TestResult("toy_unpicklable", statistic=1.0, pvalue=0.5,
                          n=len(ballots_cast),
                          table=pd.DataFrame({"observed": [1], "f": [local]}))

    tests = ["toy_share", "toy_unpicklable"]
    two = run_battery(make_table(), tests=tests, by="region", rng=3, processes=2)
    one = run_battery(make_table(), tests=tests, by="region", rng=3, processes=1)
    pd.testing.assert_frame_equal(one.evidence.drop(columns=["details"]),
                                  two.evidence.drop(columns=["details"]))
    assert (two.evidence["status"] == "ok").sum() >= 4
    assert callable(two.results[1].table["f"].iloc[0])


def test_costs_are_declared_positive():
    from audit.stations.registry import REGISTRY as real

    assert all(spec.cost > 0 for spec in real.values())
    assert real["fingerprint"].cost > real["last_digit"].cost
    with pytest.raises(ValueError, match="cost must be a positive number"):
        register("toy_free", family="toy", cost=0)(lambda ballots_cast, *, rng=None: None)


# --- stand-ins: a role read from another column when the file has none -----

def _without_issued(table):
    import dataclasses

    data = table.data.copy()
    data["ballots_issued"] = pd.array([pd.NA] * len(data), dtype="Int64")
    return dataclasses.replace(table, data=data)


def test_integer_test_reads_ballots_cast_where_a_file_has_no_ballots_issued():
    from audit.stations.forensics.integer_percentages import integer_percentages
    from audit.stations.simulate import clean_election

    table = _without_issued(clean_election(800, rng=4))
    battery = run_battery(table, tests=["integer_percentages"], rng=2, processes=1)
    row = battery.evidence.iloc[0]
    assert row["status"] == "ok"
    assert row["details"]["read_as"] == {"ballots_issued": "ballots_cast"}
    assert battery.results[0].details["read_as"] == {"ballots_issued": "ballots_cast"}
    # the same numbers as the test called with the ballots cast as its turnout
    d = table.data
    lead = table.leader_column(None)
    direct = integer_percentages(d.registered.to_numpy(int), d.ballots_cast.to_numpy(int),
                                 d.ballots_cast.to_numpy(int), d[lead].to_numpy(int),
                                 rng=np.random.default_rng(0))
    assert row["statistic"] == direct.statistic
    assert row["pvalue"] == pytest.approx(direct.pvalue, rel=1e-12)


def test_a_stand_in_is_not_used_where_the_file_has_the_column():
    from audit.stations.simulate import clean_election

    battery = run_battery(clean_election(800, rng=4), tests=["integer_percentages"],
                          rng=2, processes=1)
    assert "read_as" not in battery.evidence.iloc[0]["details"]


def test_no_stand_in_no_run():
    import dataclasses

    from audit.stations.simulate import clean_election

    table = _without_issued(clean_election(300, rng=4))
    data = table.data.copy()
    data["ballots_cast"] = pd.array([pd.NA] * len(data), dtype="Int64")
    battery = run_battery(dataclasses.replace(table, data=data),
                          tests=["integer_percentages"], rng=2, processes=1)
    row = battery.evidence.iloc[0]
    assert row["status"] == "not applicable"
    assert "ballots_issued" in row["reason"] and "ballots_cast" in row["reason"]


@pytest.mark.parametrize("stand_ins", [{"ballots_issued": "ballots_issued"},
                                       {"invalid": "ballots_cast"},
                                       {"ballots_issued": "turnout"}])
def test_bad_stand_ins_are_refused_at_register(stand_ins):
    with pytest.raises(ValueError, match="stand_ins"):
        @register("toy_bad_stand_in", family="digits", stand_ins=stand_ins)
        def toy(registered, ballots_issued, *, rng=None):  # pragma: no cover
            return None
