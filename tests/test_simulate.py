"""Tests of audit.stations.simulate: clean elections and fraud models."""

import numpy as np
import pandas as pd
import pytest

from audit.tables.station_table import StationTable
from audit.stations.simulate import (ballot_stuffing, clean_election, klimek_fraud,
                            round_percentages, station_sizes)


def arr(table, col):
    return table.data[col].to_numpy(dtype=np.int64)


def assert_consistent(t):
    d = t.data
    reg, iss, cast, inv = (arr(t, c) for c in
                           ("registered", "ballots_issued", "ballots_cast", "invalid"))
    opts = d[t.options].to_numpy(dtype=np.int64)
    assert (opts >= 0).all() and (inv >= 0).all()
    assert (cast <= iss).all() and (iss <= reg).all()
    assert (inv <= cast).all()
    np.testing.assert_array_equal(opts.sum(axis=1), cast - inv)


@pytest.fixture(scope="module")
def clean():
    return clean_election(3000, rng=11)


def test_clean_shape_and_invariants(clean):
    assert isinstance(clean, StationTable)
    assert list(clean.data.columns) == ["region", "district", "station", "registered",
                                        "ballots_issued", "ballots_cast", "invalid",
                                        "leader", "other1", "other2"]
    assert clean.options == ["leader", "other1", "other2"]
    assert all(str(clean.data[c].dtype) == "Int64" for c in
               ("registered", "ballots_issued", "ballots_cast", "invalid", "leader"))
    assert_consistent(clean)
    assert not clean.source["altered"].any()
    assert clean.data.station.is_unique


def test_clean_sizes_are_realistic(clean):
    reg = arr(clean, "registered")
    assert reg.min() >= 20 and reg.max() <= 3500
    assert 800 < np.median(reg) < 1500
    assert (reg < 300).mean() > 0.05            # some small rural stations


def test_clean_regions_are_heterogeneous_and_rates_follow_settings():
    t = clean_election(6000, rng=2, n_regions=30, turnout_mean=0.6, leader_mean=0.45)
    d = t.data
    turnout = d.groupby("region").apply(
        lambda g: g.ballots_issued.sum() / g.registered.sum(), include_groups=False)
    assert turnout.std() > 0.04                 # regions differ
    # mean of 30 regional Beta means: 0.6 +- a few standard errors (sd 0.096/sqrt(30))
    assert abs(turnout.mean() - 0.6) < 0.06
    share = d.leader.sum() / (d.ballots_cast - d.invalid).sum()
    assert abs(share - 0.45) < 0.08
    inv = d.invalid.sum() / d.ballots_cast.sum()
    assert 0.01 < inv < 0.02


def test_clean_counts_are_binomial_given_rates():
    # with one region and fixed sizes, station turnout varies binomially around
    # the station's true rate: standardised residuals have unit variance
    t = clean_election(4000, rng=3, n_regions=1, sizes=np.full(4000, 1000))
    rate = t.source["true_turnout"]
    iss = arr(t, "ballots_issued")
    z = (iss - 1000 * rate) / np.sqrt(1000 * rate * (1 - rate))
    assert abs(z.mean()) < 0.1
    assert 0.9 < z.var() < 1.1


def test_clean_is_reproducible(clean):
    again = clean_election(3000, rng=11)
    pd.testing.assert_frame_equal(clean.data, again.data)
    other = clean_election(3000, rng=12)
    assert not clean.data.equals(other.data)


def test_station_sizes_reproducible():
    np.testing.assert_array_equal(station_sizes(100, rng=1), station_sizes(100, rng=1))


@pytest.mark.parametrize("kwargs, match", [
    ({"n_stations": 0}, "n_stations"),
    ({"n_stations": 2.5}, "n_stations"),
    ({"options": ["a"]}, "options"),
    ({"turnout_mean": 1.5}, "turnout_mean"),
])
def test_clean_rejects_bad_arguments(kwargs, match):
    kwargs = {"n_stations": 10, **kwargs}
    n = kwargs.pop("n_stations")
    with pytest.raises((ValueError, TypeError), match=match):
        clean_election(n, **kwargs)


def test_klimek_incremental(clean):
    t = klimek_fraud(clean, f_incremental=0.3, rng=5)
    alt = t.source["altered"]
    assert 0.25 < alt.mean() < 0.35
    assert_consistent(t)
    # untouched stations are identical
    pd.testing.assert_frame_equal(t.data[~alt], clean.data[~alt])
    # the input is not modified
    assert not clean.source["altered"].any()
    # every added or moved vote went to the leader
    gain = arr(t, "leader") - arr(clean, "leader")
    added = arr(t, "ballots_cast") - arr(clean, "ballots_cast")
    lost = (clean.data[["other1", "other2"]].to_numpy(int)
            - t.data[["other1", "other2"]].to_numpy(int)).sum(axis=1)
    np.testing.assert_array_equal(gain, added + lost)
    assert (gain[alt] > 0).all()
    # mean fraction of non-voters added is about x_mean
    nonvoters = arr(clean, "registered") - arr(clean, "ballots_issued")
    frac = added[alt] / np.maximum(nonvoters[alt], 1)
    assert abs(frac.mean() - 0.3) < 0.03
    assert t.source["fraud"][0]["model"] == "klimek"


def test_klimek_extreme_hits_full_turnout_and_share(clean):
    t = klimek_fraud(clean, f_extreme=0.05, rng=6)
    d = t.data[t.source["altered"]]
    assert (d.ballots_issued / d.registered).median() > 0.97
    assert (d.leader / (d.ballots_cast - d.invalid)).median() > 0.97
    assert_consistent(t)


def test_klimek_zero_share_changes_nothing(clean):
    t = klimek_fraud(clean, rng=1)
    pd.testing.assert_frame_equal(t.data, clean.data)
    assert not t.source["altered"].any()


def test_stuffing(clean):
    t = ballot_stuffing(clean, share=0.2, amount=0.1, rng=7)
    alt = t.source["altered"]
    assert_consistent(t)
    assert 0.15 < alt.mean() < 0.25
    extra = arr(t, "leader") - arr(clean, "leader")
    np.testing.assert_array_equal(extra, arr(t, "ballots_cast") - arr(clean, "ballots_cast"))
    np.testing.assert_array_equal(extra, arr(t, "ballots_issued") - arr(clean, "ballots_issued"))
    assert (extra[~alt] == 0).all() and (extra[alt] > 0).all()
    pd.testing.assert_frame_equal(t.data[["other1", "other2", "invalid"]],
                                  clean.data[["other1", "other2", "invalid"]])


def test_stacked_models_accumulate_altered(clean):
    a = ballot_stuffing(clean, share=0.1, rng=1)
    b = round_percentages(a, share=0.1, rng=2)
    assert len(b.source["fraud"]) == 2
    assert (b.source["altered"] >= a.source["altered"]).all()


def test_rounding_turnout_and_share(clean):
    t = round_percentages(clean, share=0.3, target="both", rng=8)
    alt = t.source["altered"]
    assert_consistent(t)
    assert 0.25 < alt.mean() < 0.35
    d = t.data[alt]
    reg = d.registered.to_numpy(float)
    cast = d.ballots_cast.to_numpy(float)
    tp = 100 * d.ballots_issued.to_numpy(float) / reg
    sp = 100 * d.leader.to_numpy(float) / cast
    # a station of N voters lands within 50/N points of a whole percent
    assert (np.abs(tp - np.round(tp)) <= 50 / reg + 1e-9).all()
    assert (np.abs(sp - np.round(sp)) <= 50 / cast + 1e-9).all()
    pd.testing.assert_frame_equal(t.data[~alt], clean.data[~alt])


def test_rounding_to_multiples_of_five(clean):
    t = round_percentages(clean, share=1.0, target="turnout", step=5, rng=9)
    d = t.data[t.data.registered >= 1000]
    pct = 100 * d.ballots_issued / d.registered
    assert ((pct / 5 - (pct / 5).round()).abs() * 5 <= 0.05).mean() > 0.95


@pytest.mark.parametrize("func, kwargs, match", [
    (klimek_fraud, {"f_incremental": 1.2}, "f_incremental"),
    (klimek_fraud, {"f_incremental": 0.6, "f_extreme": 0.6}, "exceed"),
    (ballot_stuffing, {"share": -0.1}, "share"),
    (round_percentages, {"target": "votes"}, "target"),
    (round_percentages, {"step": 0}, "step"),
])
def test_fraud_rejects_bad_arguments(clean, func, kwargs, match):
    with pytest.raises((ValueError, TypeError), match=match):
        func(clean, **kwargs)


def test_fraud_rejects_non_table():
    with pytest.raises(TypeError, match="StationTable"):
        ballot_stuffing(pd.DataFrame())


def test_a_second_kind_of_station_differs_as_asked_and_only_when_asked():
    plain = clean_election(3000, rng=21)
    same = clean_election(3000, rng=21, kind_share=0.0, kind_turnout_shift=2.0)
    pd.testing.assert_frame_equal(plain.data, same.data)        # nothing drawn for it
    assert "kind" not in plain.data
    t = clean_election(3000, rng=21, kind_share=0.3, kind_turnout_shift=1.0,
                       kind_leader_shift=-1.0)
    d = t.data
    kind = d["kind"].to_numpy() == 1
    assert 0.25 < kind.mean() < 0.35
    turnout = d.ballots_cast.to_numpy(float) / d.registered.to_numpy(float)
    share = d.leader.to_numpy(float) / d.ballots_cast.to_numpy(float)
    assert turnout[kind].mean() > turnout[~kind].mean() + 0.1
    assert share[kind].mean() < share[~kind].mean() - 0.1
    with pytest.raises(ValueError, match="kind_share must lie in"):
        clean_election(100, rng=1, kind_share=1.5)
