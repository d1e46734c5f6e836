"""Tests of the finite-mixture fraud model (audit/forensics/mixture.py) and
of the stuffing / switching split of the excess votes
(audit/forensics/excess_split.py)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from audit.core.errors import NotApplicable
from audit.stations.forensics.mixture import model as mm
from audit.stations.forensics.excess_votes import excess_split
from audit.stations.forensics.excess_votes import excess_votes
from audit.stations.forensics.mixture import mixture, mixture_table
from audit.stations.registry import REGISTRY
from audit.stations.simulate import ballot_stuffing, clean_election

FAST = dict(n_boot=4, n_null=4, null_iter=10, max_iter=60)


@pytest.fixture(scope="module")
def clean():
    return clean_election(1500, rng=11)


@pytest.fixture(scope="module")
def stuffed(clean):
    return ballot_stuffing(clean, share=0.15, amount=0.25, rng=12)


def _run(table, **kw):
    d = table.data
    return mixture(d.registered, d.ballots_cast, d.leader, groups=d.region,
                   **{**FAST, **kw})


def test_registered_as_descriptive_model_test():
    spec = REGISTRY["mixture"]
    assert spec.family == "model"
    assert spec.evidence is False
    assert spec.needs == ("registered", "ballots_cast", "leader")


def test_same_seed_same_numbers(clean):
    a, b = _run(clean, rng=3), _run(clean, rng=3)
    assert a.details == b.details
    assert a.pvalue == b.pvalue
    pd.testing.assert_frame_equal(a.table, b.table)


def test_the_refits_give_the_same_numbers_in_processes_threads_or_in_line(stuffed, monkeypatch):
    from audit.stations.forensics.mixture import test as mt

    monkeypatch.setenv("VOTE_AUDIT_THREADS", "1")
    inline = _run(stuffed, rng=4)
    monkeypatch.setenv("VOTE_AUDIT_THREADS", "2")
    forked = _run(stuffed, rng=4)                   # forked processes (Linux)
    monkeypatch.setattr("multiprocessing.get_all_start_methods", lambda: ["spawn"])
    threaded = _run(stuffed, rng=4)                 # no fork: threads
    for other in (forked, threaded):
        assert other.statistic == inline.statistic and other.pvalue == inline.pvalue
        pd.testing.assert_frame_equal(other.bootstrap, inline.bootstrap)
        np.testing.assert_array_equal(other.null_statistics, inline.null_statistics)
        assert other.details == inline.details
    assert not mt._REFIT                            # nothing left behind


def test_station_estimates_add_up_to_the_totals(stuffed):
    res = _run(stuffed, rng=1)
    t = res.table
    assert np.isclose(t["manufactured"].sum(), res.details["manufactured"])
    assert np.isclose(t["stolen"].sum(), res.details["stolen"])
    probs = t[["p_clean", "p_incremental", "p_extreme"]].sum(axis=1)
    assert np.allclose(probs, 1.0)
    assert np.allclose(t["p_fraud"], t["p_incremental"] + t["p_extreme"])
    assert (t[["manufactured_se", "stolen_se"]] >= 0).all().all()
    # district ranking is available from the same table
    groups = res.by_group()
    assert np.isclose(groups["fraud_votes"].sum(), res.details["fraud_votes"])


def test_recovers_injected_stuffing(clean, stuffed):
    res = _run(stuffed, rng=2, n_null=9)
    altered = np.asarray(stuffed.source["altered"], bool)
    made = float((stuffed.data.ballots_cast - clean.data.ballots_cast).sum())
    assert res.pvalue <= 0.1                      # 1/(9 + 1): no null refit as large
    assert res.details["manufactured"] > res.details["stolen"]
    # the stuffed stations rank first
    p = res.table["p_fraud"].to_numpy()
    assert p[altered].mean() > 5 * p[~altered].mean()
    # the estimate is of the planted order of magnitude (it misses the
    # smallest additions, which look clean)
    assert 0.3 * made < res.details["manufactured"] < 1.5 * made


def test_clean_election_has_little_fraud(clean):
    res = _run(clean, rng=4)
    assert res.statistic < 0.03
    assert res.details["share_fraud_ci_low"] <= 0.01


@pytest.mark.slow
def test_recovery_on_data_simulated_from_the_model():
    """Known truth drawn from the model itself: 8% incremental fraud."""
    g = np.random.default_rng(5)
    n = g.integers(300, 2500, 4000).astype(float)
    codes = np.repeat(np.arange(40), 100)
    grid = mm.fraud_grid()
    w = np.zeros(grid[0].size)
    w[0] = 0.92
    pick = np.flatnonzero((grid[0] == 0.35) & (grid[1] == 0.1))[0]
    w[pick] = 0.08
    data = mm.Data(n=n, feat=None, z0=None, logj=None, dvar=None, made=None,
                   stolen=None, cx=np.repeat(g.normal(0.2, 0.3, 40), 100),
                   cy=np.repeat(g.normal(0.4, 0.3, 40), 100), sx=np.ones(4000),
                   sy=np.ones(4000), X=np.ones((4000, 1)))
    p = mm.Params(weights=w, beta=np.zeros((1, 2)), sigma=np.array([[0.1, 0.02], [0.02, 0.08]]),
                  q=0.02, u=0.0)
    v, lead, made, stolen, _ = mm.simulate(n, data, p, grid, g)
    res = mixture(n, v, lead, groups=codes, n_boot=9, n_null=4, null_iter=15, rng=6)
    assert abs(res.statistic - 0.08) < 0.03
    lo, hi = res.confidence_interval("manufactured")
    assert lo < made.sum() * 1.1 and hi > made.sum() * 0.9
    assert res.details["corr"] > 0


def test_refuses_too_few_stations():
    with pytest.raises(NotApplicable, match="at least 100 stations"):
        mixture([1000] * 50, [600] * 50, [300] * 50)


def test_refuses_when_every_station_is_empty():
    with pytest.raises(NotApplicable, match="got 0"):
        mixture([0] * 200, [0] * 200, [0] * 200)


def test_missing_and_empty_stations_are_excluded_and_counted(clean):
    d = clean.data
    reg = d.registered.to_numpy(float)
    cast = d.ballots_cast.to_numpy(float)
    reg[:3] = np.nan
    reg[3:5] = 0
    res = mixture(reg, cast, d.leader, **FAST, rng=0)
    assert res.details["excluded_stations"] == 5
    assert res.excluded["reason"].value_counts().to_dict() == {
        "missing count or group": 3, "no registered voters or no ballots cast": 2}
    assert not set(res.table["position"]) & set(range(5))


@pytest.mark.parametrize("bad, match", [
    ({"registered": [-1] + [10] * 199}, "registered must be non-negative"),
    ({"leader": [1.5] + [1] * 199}, "whole numbers"),
    ({"n_boot": -1}, "n_boot must be an integer"),
    ({"confidence": 1.5}, "confidence must be in"),
    ({"groups": ["a"] * 3}, "one label per station"),
])
def test_bad_input_is_a_clear_error(bad, match):
    args = {"registered": [10] * 200, "ballots_cast": [5] * 200, "leader": [2] * 200}
    opts = {k: v for k, v in bad.items() if k not in args}
    args.update({k: v for k, v in bad.items() if k in args})
    with pytest.raises((ValueError, TypeError), match=match):
        mixture(args["registered"], args["ballots_cast"], args["leader"], **opts)


def test_mixture_table_labels_stations(clean):
    res = mixture_table(clean, **FAST, rng=0)
    assert res.table["station"].str.count(" / ").eq(2).all()
    assert res.details["groups"] >= 2


def test_excess_split_adds_up_to_shpilkin_excess():
    g = np.random.default_rng(3)
    reg = g.integers(500, 2000, 2000)
    cast = g.binomial(reg, np.clip(g.normal(0.5, 0.06, 2000), 0.05, 0.95))
    lead = g.binomial(cast, 0.55)
    add = np.where(np.arange(2000) >= 1800, (0.8 * reg - cast).clip(0).astype(int), 0)
    votes = np.c_[lead + add, cast - lead]
    res = excess_split(reg, cast + add, lead + add, votes, side="above")
    ev = excess_votes(reg, cast + add, lead + add, votes, n_boot=0)
    assert np.isclose(res.excess, ev.statistic)
    r = res.leader_share_at_peak / (1 - res.leader_share_at_peak)
    t = res.table
    assert np.allclose(t["excess"], t["stuffed"] + (1 + r) * t["switched"])
    assert res.stuffed > 0 and res.stuffed_se > 0 and res.switched_se > 0
    assert (t.loc[~t["above_peak"], ["stuffed", "switched"]] == 0).all().all()
    with pytest.raises(ValueError, match="side must be"):
        excess_split(reg, cast, lead, votes, side="below")


# ------------------------------------------------------------ covariates
def _two_kinds(seed, n=2500, stuffed_share=0.0):
    """A clean election whose 30% 'rural' stations (column ``kind``) turn out
    more and vote more for the leader, legitimately (+1.0 and +0.8 on the
    logit scale); optionally ballots stuffed for the leader in a share of
    the stations.  Returns the table, the counts, districts, the kind, the
    stuffed stations and the number of stuffed ballots."""
    t = clean_election(n, rng=seed, kind_share=0.3, kind_turnout_shift=1.0,
                       kind_leader_shift=0.8)
    clean_cast = t.data.ballots_cast.to_numpy(float)
    if stuffed_share:
        t = ballot_stuffing(t, share=stuffed_share, amount=0.15, rng=seed + 100)
    d = t.data
    cast = d.ballots_cast.to_numpy(float)
    return (t, d.registered.to_numpy(float), cast, d.leader.to_numpy(float),
            d.district.to_numpy(), d.kind.to_numpy(float), t.source["altered"],
            int((cast - clean_cast).sum()))


def _auc(score, label):
    from scipy.stats import mannwhitneyu
    label = np.asarray(label, bool)
    u = mannwhitneyu(score[label], score[~label]).statistic
    return u / (label.sum() * (~label).sum())


def test_a_covariate_keeps_a_legitimate_difference_out_of_the_fraud():
    _, reg, cast, lead, d, rural, _, _ = _two_kinds(1)
    opts = dict(groups=d, n_boot=0, n_null=4, rng=1)
    plain = mixture(reg, cast, lead, **opts)
    with_cov = mixture(reg, cast, lead, covariates={"rural": rural}, **opts)
    # without it, the rural stations are the "fraud"; with it, they are not
    assert _auc(plain.table.p_fraud.to_numpy(), rural) > 0.95
    assert _auc(with_cov.table.p_fraud.to_numpy(), rural) < 0.8
    assert with_cov.details["lr"] < plain.details["lr"] / 5
    # the fitted shifts point the way the rural stations differ
    assert with_cov.details["covariate_rural_turnout"] > 0.2
    assert with_cov.details["covariate_rural_leader"] > 0.2
    assert with_cov.params["covariates"] == ["rural"]


def test_a_covariate_sharpens_the_stuffed_stations():
    _, reg, cast, lead, d, rural, stuffed, injected = _two_kinds(2, stuffed_share=0.08)
    opts = dict(groups=d, n_boot=0, n_null=4, rng=1)
    plain = mixture(reg, cast, lead, **opts)
    with_cov = mixture(reg, cast, lead, covariates=pd.DataFrame({"rural": rural}), **opts)
    auc_plain = _auc(plain.table.p_fraud.to_numpy(), stuffed)
    auc_cov = _auc(with_cov.table.p_fraud.to_numpy(), stuffed)
    # stuffed amounts are drawn at random, many too small to tell from
    # clean scatter, so the ranking is imperfect; the covariate improves it
    assert auc_cov > 0.75 and auc_cov > auc_plain + 0.05
    # the rural stations no longer count as manufactured votes
    assert plain.details["manufactured"] > 3 * injected
    assert 0.4 * injected < with_cov.details["manufactured"] < 2 * injected


def test_a_station_without_its_covariate_is_left_out_with_its_reason():
    _, reg, cast, lead, d, rural, _, _ = _two_kinds(3, n=400)
    rural[[5, 17]] = np.nan
    res = mixture(reg, cast, lead, groups=d, covariates=rural, n_boot=0, n_null=0, rng=0)
    assert res.n == 398 and res.params["covariates"] == ["covariate"]
    gone = res.excluded[res.excluded.reason == "missing covariate"]
    assert gone.position.tolist() == [5, 17]


@pytest.mark.parametrize("cov, match", [
    ({"size": np.ones(400)}, "'size' does not vary"),
    ({"kind": ["a"] * 400}, "'kind' holds values that are not numbers"),
    ({"short": np.arange(399.0)}, "'short' must have one value per station"),
    ({"wild": np.r_[np.inf, np.arange(399.0)]}, "'wild' holds infinite values"),
])
def test_bad_covariates_are_clear_errors(cov, match):
    _, reg, cast, lead, d, _, _, _ = _two_kinds(4, n=400)
    with pytest.raises(ValueError, match=match):
        mixture(reg, cast, lead, groups=d, covariates=cov, n_boot=0, n_null=0)


def test_mixture_table_takes_covariates_by_column_name():
    table = _two_kinds(5, n=600)[0]
    res = mixture_table(table, covariates=["kind"], **FAST, rng=0)
    assert res.details["covariate_kind_turnout"] > 0
    with pytest.raises(ValueError, match="'nope' is not a column"):
        mixture_table(table, covariates="nope", **FAST)
