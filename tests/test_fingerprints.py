"""Tests of audit.stations.forensics.fingerprints (Klimek et al. 2012 fraud model).

The fit is checked on elections simulated with known f_i and f_e (the
truth must fall in the reported intervals, the p-value must separate clean
from fraudulent elections), the fraud arithmetic by hand, and the 2020
Russian vote as a smoke test (its fingerprint has the ridge towards 100%
turnout and 100% "yes" that the paper shows for Russia 2011 and 2012).
"""

from __future__ import annotations

import functools
import os
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from audit.core.errors import NotApplicable
from audit.stations.forensics.fingerprints import (
    FingerprintResult, fingerprint, fingerprint_histogram, simulate_klimek)
from audit.stations.forensics.fingerprints.model import _apply_fraud, _summaries
from audit.stations.forensics.fingerprints.test import _tail_pvalue
from audit.stations.registry import REGISTRY

DATA = Path(os.environ.get("AUDIT_DATA_DIR", "/work/shared/datasets")) / "ru-cik"
FAIR = [0.55, 0.07, 0.55, 0.07]


def _election(f_i, f_e, n=2000, seed=1, fair=FAIR):
    reg = np.random.default_rng(100 + seed).integers(500, 2000, n)
    sim = simulate_klimek(reg, fair, f_i, f_e, theta=0.2, rng=seed)
    return sim.registered, sim.ballots_cast, sim.leader


def test_registered():
    spec = REGISTRY["fingerprint"]
    assert spec.needs == ("registered", "ballots_cast", "leader")
    assert spec.family == "fingerprint"


def test_histogram_by_hand():
    h = fingerprint_histogram([0.1, 0.1, 0.95, 1.0], [0.2, 0.7, 0.99, 1.0], bins=2)
    np.testing.assert_array_equal(h, [[1, 1], [0, 2]])


def test_fraud_arithmetic_by_hand():
    # 1000 on the list, 500 voted, 300 for the leader; x = 0.5, alpha = 2:
    # half of the 500 non-voters stuffed (250), a quarter of the 200 others
    # moved (50): turnout 750, leader 300 + 250 + 50 = 600
    t, w = _apply_fraud(np.array([1000.0]), np.array([500.0]), np.array([300.0]),
                        np.array([0.5]), 2.0)
    assert t[0] == 750 and w[0] == 600


def test_simulation_matches_its_parameters():
    reg = np.full(20000, 1000)
    clean = simulate_klimek(reg, FAIR, 0.0, 0.0, rng=0)
    a = clean.ballots_cast / clean.registered
    v = clean.leader / clean.ballots_cast
    assert a.mean() == pytest.approx(0.55, abs=0.003)
    assert a.std() == pytest.approx(0.07, abs=0.003)
    assert v.mean() == pytest.approx(0.55, abs=0.003)
    assert (clean.fraud == "none").all()
    mixed = simulate_klimek(reg, FAIR, 0.3, 0.1, rng=0)
    assert (mixed.fraud == "incremental").mean() == pytest.approx(0.3, abs=0.015)
    assert (mixed.fraud == "extreme").mean() == pytest.approx(0.1, abs=0.01)
    ext = mixed[mixed.fraud == "extreme"]
    assert (ext.ballots_cast / ext.registered).mean() > 0.9
    assert (ext.leader / ext.ballots_cast).mean() > 0.9
    assert (mixed.ballots_cast <= mixed.registered).all()
    assert (mixed.leader <= mixed.ballots_cast).all()


def test_recovers_planted_fraud():
    res = fingerprint(*_election(0.3, 0.08), n_boot=12, n_null=12, rng=2)
    assert isinstance(res, FingerprintResult)
    lo, hi = res.confidence_interval("f_i")
    assert lo <= 0.3 <= hi
    lo, hi = res.confidence_interval("f_e")
    assert lo <= 0.08 <= hi
    # the tail p-value goes below the floor 1 / (n_null + 1) of the count
    assert res.details["pvalue_simulated"] == pytest.approx(1 / 13)
    assert res.pvalue < 1 / 13
    assert res.statistic == res.details["f_i"] + res.details["f_e"]
    # the point estimate of extreme fraud, over several seeds (one fit can
    # be a grid step or two off: the fit's own simulation is noisy)
    f_e = [fingerprint(*_election(0.3, 0.08), n_boot=0, n_null=0, rng=s).details["f_e"]
           for s in range(5)]
    assert abs(np.median(f_e) - 0.08) <= 0.01
    assert max(abs(x - 0.08) for x in f_e) <= 0.03


def test_clean_election_is_not_flagged():
    res = fingerprint(*_election(0.0, 0.0, seed=3), n_boot=12, n_null=12, rng=2)
    assert res.pvalue > 0.1
    assert res.details["f_e"] <= 0.01
    assert res.details["f_e_ci_high"] <= 0.02
    assert res.details["f_i_ci_low"] == 0.0


def test_extreme_fraud_alone():
    res = fingerprint(*_election(0.0, 0.1, seed=4), n_boot=0, n_null=0, rng=1)
    assert abs(res.details["f_e"] - 0.1) <= 0.02
    assert np.isnan(res.pvalue)
    # the observed fingerprint has the stations at (100%, 100%) that the
    # fair model cannot produce and the fitted model does
    t = res.table
    corner = (t.turnout_lo >= 0.9) & (t.share_lo >= 0.9)
    assert t.loc[corner, "observed"].sum() > 0.05 * res.n
    assert t.loc[corner, "fair"].sum() < 0.01 * res.n
    assert t.loc[corner, "fitted"].sum() == pytest.approx(
        t.loc[corner, "observed"].sum(), rel=0.3)


def test_table_and_objective():
    reg, cast, lead = _election(0.1, 0.02, n=600, seed=5)
    res = fingerprint(reg, cast, lead, bins=20, n_boot=0, n_null=0, rng=0)
    t = res.table
    assert len(t) == 400
    assert t["observed"].sum() == res.n == 600
    assert t["fair"].sum() == pytest.approx(600, rel=0.02)
    obj = res.objective
    best = obj.loc[obj["chi2"].idxmin()]
    assert (best["f_i"], best["f_e"]) == (res.details["f_i"], res.details["f_e"])


def test_groups_absorb_regional_differences():
    # two clean regions with different typical turnout and share
    r1 = _election(0.0, 0.0, n=1200, seed=6, fair=[0.4, 0.05, 0.45, 0.05])
    r2 = _election(0.0, 0.0, n=1200, seed=7, fair=[0.75, 0.05, 0.75, 0.05])
    data = [np.r_[x, y] for x, y in zip(r1, r2, strict=True)]
    groups = np.repeat(["north", "south"], 1200)
    pooled = fingerprint(*data, n_boot=0, n_null=0, rng=0)
    grouped = fingerprint(*data, groups=groups, n_boot=0, n_null=0, rng=0)
    assert grouped.details["groups"] == 2
    assert grouped.details["delta_chi2"] < pooled.details["delta_chi2"]
    assert grouped.statistic < pooled.statistic


def test_group_summaries_match_a_direct_computation():
    # mode of the 5-bin moving sum of a 100-bin histogram, and the RMS
    # distance to it of the values below it, computed the plain way
    g = np.random.default_rng(0)
    for trial in range(40):
        n, k = int(g.integers(50, 3000)), int(g.integers(1, 6))
        x = np.clip(g.normal(g.uniform(0.2, 0.8), g.uniform(0.02, 0.2), n), 0, 1)
        codes = g.integers(0, k, n)
        mode, sd = _summaries(x, codes, k)
        for grp in range(k + 1):
            sel = x if grp == k else x[codes == grp]
            hist = np.histogram(sel, bins=100, range=(0, 1))[0]
            smooth = np.convolve(hist, np.ones(5, int), mode="same")
            m = (np.argmax(smooth) + 0.5) / 100
            assert mode[grp] == pytest.approx(m, abs=1e-12)
            below = sel[sel < m]
            want = (np.sqrt(np.mean((below - m) ** 2)) if below.size >= 5
                    else sel.std() if sel.size else 0.0)
            assert sd[grp] == pytest.approx(max(want, 0.005), rel=1e-9, abs=1e-12)


def test_threads_do_not_change_the_answer(monkeypatch):
    data = _election(0.1, 0.05, n=400, seed=9)
    monkeypatch.setenv("VOTE_AUDIT_THREADS", "1")
    one = fingerprint(*data, n_boot=3, n_null=4, rng=11)
    monkeypatch.setenv("VOTE_AUDIT_THREADS", "3")
    three = fingerprint(*data, n_boot=3, n_null=4, rng=11)
    assert one.to_dict() == three.to_dict()
    pd.testing.assert_frame_equal(one.bootstrap, three.bootstrap)
    pd.testing.assert_frame_equal(one.null_statistics, three.null_statistics)
    assert one.null_statistics["delta_chi2"].nunique() > 1


def test_pvalue_does_not_depend_on_the_bootstrap():
    # the calibration harness skips the interval refits (n_boot=0)
    data = _election(0.05, 0.02, n=500, seed=10)
    with_ci = fingerprint(*data, n_boot=4, n_null=5, rng=12)
    without = fingerprint(*data, n_boot=0, n_null=5, rng=12)
    assert (without.statistic, without.pvalue) == (with_ci.statistic, with_ci.pvalue)
    pd.testing.assert_frame_equal(without.null_statistics, with_ci.null_statistics)
    assert np.isnan(without.details["f_i_ci_low"]) and len(with_ci.bootstrap) == 4


def test_same_rng_same_answer():
    data = _election(0.1, 0.05, n=300, seed=8)
    r1 = fingerprint(*data, n_boot=2, n_null=2, rng=5)
    r2 = fingerprint(*data, n_boot=2, n_null=2, rng=5)
    assert r1.to_dict() == r2.to_dict()
    pd.testing.assert_frame_equal(r1.table, r2.table)


def test_excluded_stations_are_counted():
    reg, cast, lead = (np.asarray(x).copy() for x in _election(0, 0, n=300))
    cast[:4] = 0
    res = fingerprint(reg, cast, lead, n_boot=0, n_null=0, rng=0)
    assert res.details["excluded_stations"] == 4
    assert res.n == 296


@pytest.mark.parametrize("kwargs, match", [
    ({"bins": 3}, "bins must be an integer in \\[5, 200\\]"),
    ({"step": 0.03}, "step must divide 1"),
    ({"theta_grid": [0.0]}, "theta_grid"),
    ({"groups": ["a", "b"]}, "groups must have one label per station"),
    ({"n_boot": -1}, "n_boot"),
    ({"confidence": 0}, "confidence"),
])
def test_bad_options(kwargs, match):
    with pytest.raises(ValueError, match=match):
        fingerprint(*_election(0, 0, n=200), **kwargs)


def test_bad_data():
    reg, cast, lead = _election(0, 0, n=200)
    with pytest.raises(ValueError, match="ballots_cast has 199 rows"):
        fingerprint(reg, cast[:-1], lead)
    with pytest.raises(ValueError, match="leader must be non-negative"):
        fingerprint(reg, cast, -lead)
    with pytest.raises(ValueError, match="registered has missing"):
        fingerprint(np.r_[np.nan, reg[1:]], cast, lead)


def test_not_applicable():
    with pytest.raises(NotApplicable, match="at least 100 stations"):
        fingerprint(*_election(0, 0, n=60))


@functools.lru_cache(maxsize=None)
def _russia_2020():
    path = DATA / "2020.csv.zip"
    if not path.exists():
        pytest.skip(f"{path} not available")
    frame = pd.read_csv(path)

    def col(part):
        (name,) = [c for c in frame.columns if part in c]
        return frame[name].to_numpy(float)

    return (col("включенных в список"), col("бюллетеней, содержащихся"),
            frame["ДА"].to_numpy(float), frame["region"].to_numpy())


@pytest.mark.slow
def test_russia_2020_needs_fraud():
    reg, cast, yes, region = _russia_2020()
    res = fingerprint(reg, cast, yes, groups=region, n_boot=3, n_null=3, rng=0)
    assert res.details["groups"] > 80
    # the model needs both kinds of fraud; clean refits improve far less
    assert res.details["f_e"] >= 0.01
    assert res.statistic >= 0.3
    assert res.details["delta_chi2"] > 10 * res.null_statistics["delta_chi2"].max()
    assert res.details["pvalue_simulated"] == pytest.approx(1 / 4)
    assert res.pvalue < 0.01


def test_excluded_stations_are_listed_at_their_positions():
    reg, cast, lead = (np.asarray(x).copy() for x in _election(0, 0, n=300))
    cast[:4] = 0
    lead[:4] = 0
    lead[7] = cast[7] + 1
    res = fingerprint(reg, cast, lead, n_boot=0, n_null=0, rng=0)
    assert res.excluded["position"].tolist() == [0, 1, 2, 3, 7]
    assert len(res.excluded) == res.details["excluded_stations"] == 5
    assert res.excluded["reason"].str.contains("no ballots cast").all()


# ---------------------------------------------------------------- tail p-value
def test_tail_pvalue_is_exact_for_a_point_mass_and_scaled_chi2_1():
    # null refits: 0 with probability 0.4, else c * chi2(1); the observed
    # statistic from the same law.  F(1, k) is a pivot, so P(p <= a) <= a
    # (the factor (k + 1) / (B + 1) over-covers the point mass slightly)
    from scipy import stats
    g = np.random.default_rng(5)
    n, B = 20000, 19
    draws = np.where(g.random((n, B + 1)) < 0.4, 0.0,
                     7.0 * g.chisquare(1, (n, B + 1)))
    p = np.array([_tail_pvalue(d[0], d[1:]) for d in draws])
    for a in (0.05, 0.01, 0.002):
        lo, hi = stats.binomtest(int((p <= a).sum()), n).proportion_ci(0.999)
        assert lo <= a and hi >= 0.5 * a, (a, (p <= a).mean())
    assert _tail_pvalue(0.0, draws[0, 1:]) == 1.0
    assert _tail_pvalue(5.0, np.zeros(19)) == pytest.approx(1 / 20)


@pytest.mark.slow
def test_tail_pvalue_holds_size_on_clean_elections_at_calibration_settings():
    # 80 clean elections of 1,000 stations with regions, grouped by region,
    # with the harness's cheap settings (19 null refits): rejections at 0.05
    # within a 99% binomial interval, and none at 0.005
    from scipy import stats
    from audit.stations.simulate import clean_election
    # the calibration harness's settings (audit.stations.calibration.simulated)
    opts = {"n_null": 19, "n_boot": 0, "n_sim": 2, "n_correct": 1, "step": 0.02}
    p = []
    for i in range(80):
        d = clean_election(1000, rng=500 + i).data
        p.append(fingerprint(d.registered.to_numpy(int), d.ballots_cast.to_numpy(int),
                             d.leader.to_numpy(int), groups=d.region.to_numpy(),
                             rng=i, **opts).pvalue)
    p = np.array(p)
    print("fingerprint size", {a: float((p <= a).mean()) for a in (0.1, 0.05, 0.01)})
    lo, hi = stats.binomtest(int((p <= 0.05).sum()), p.size).proportion_ci(0.99)
    assert lo <= 0.05, (p <= 0.05).mean()
    assert (p <= 0.005).sum() <= 2
