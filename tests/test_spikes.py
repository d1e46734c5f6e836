"""Tests of audit.stations.forensics.spikes (Rozenas' resampled kernel density test).

The default method (``"rkd"``): its pieces checked by hand (kernel density,
binomial windows, the envelope estimate), the mixture null against known
laws, size on clean simulated elections (a small calibration loop),
recovery of a planted share of stations at exact round shares, and the 2020
Russian vote, whose spikes at round "yes" shares (75%, 80%, ..., 95%) are
visible in every published plot of those data (e.g. Kobak, Shpilkin and
Pshenichnikov's figures in dkobak/elections). The exact method
(``method="exact"``) keeps its own checks: the exact null by hand and
against explicit resampling, size and recovery.
"""

from __future__ import annotations

import functools
import math

import numpy as np
import pandas as pd
import pytest

from audit.core.errors import NotApplicable
from audit.stations.forensics.spikes import mixture, null
from audit.stations.forensics.spikes import (
    SpikeResult,
    beta_prior,
    coarse_shares,
    fit_beta_binomial_mixture,
    hit_probability,
    spikes,
)
from audit.stations.registry import REGISTRY
from audit.stations.simulate import clean_election


def _clean(n=3000, seed=0, low=1000, high=3000):
    g = np.random.default_rng(seed)
    size = g.integers(low, high, n)
    return size, g.binomial(size, g.beta(12, 8, n))


def _round_some(size, lead, frac, seed=1, to=0.1):
    g = np.random.default_rng(seed)
    fixed = g.random(size.size) < frac
    out = lead.copy()
    out[fixed] = np.round(np.round(lead[fixed] / size[fixed] / to) * to * size[fixed])
    return out, fixed


def _simulated(n_stations, seed):
    data = clean_election(n_stations, rng=seed).data
    return data["ballots_cast"].to_numpy(), data["leader"].to_numpy()


def _plant_exact(size, lead, frac, seed):
    """Make a share ``frac`` of stations report an exact multiple of 5%:
    ballots rounded to a multiple of 20, the leader's votes to the nearest
    multiple of 5% of them."""
    g = np.random.default_rng(seed)
    fixed = (g.random(size.size) < frac) & (size >= 20)
    n, w = size.copy(), lead.copy()
    n[fixed] = 20 * np.round(n[fixed] / 20)
    w[fixed] = np.minimum(np.round(20 * w[fixed] / n[fixed]) * n[fixed] // 20, n[fixed])
    return n, w, fixed


def test_registered():
    spec = REGISTRY["spikes"]
    assert spec.needs == ("ballots_cast", "leader")
    assert spec.family == "spike"


def test_coarse_shares():
    f = coarse_shares()
    assert f.size == 21
    assert np.isclose(f, 1 / 3).any() and np.isclose(f, 2 / 3).any()
    assert np.isclose(f, 0.95).any() and not np.isclose(f, 1.0).any()


# ------------------------------------------------------------ rkd: the pieces
def test_kernel_density_by_hand():
    # three shares, grid step 0.001, bandwidth 1e-4: the density at 0.5 is
    # (phi(0) + phi(0) + phi(3)) / (3 h), at 0.501 it gets phi(7) from 0.5003
    shares = np.array([[0.5, 0.5, 0.5003]])
    hist, kde = null._hist_and_kde(shares, 1001, 0.001, 1e-4)
    phi = lambda z: math.exp(-z * z / 2) / math.sqrt(2 * math.pi)
    assert kde[0, 500] == pytest.approx((2 * phi(0) + phi(3)) / (3 * 1e-4), rel=1e-9)
    assert kde[0, 501] < 1e-6 and kde[0, 499] < 1e-6
    assert hist[0, 500] == 3 and hist.sum() == 3
    # a wider kernel reaches the neighbours: bandwidth 0.001, by hand
    hist, kde = null._hist_and_kde(shares, 1001, 0.001, 1e-3)
    assert kde[0, 501] == pytest.approx((2 * phi(1) + phi(0.7)) / (3 * 1e-3), rel=1e-9)


def test_window_probabilities_by_hand():
    n = np.array([10.0, 7.0])
    p = np.array([0.3, 0.5])
    lo, hi = np.array([0.3, 0.45]), np.array([0.3, 0.55])
    got = null._window_probabilities(n, p, lo, hi, closed_hi=True)
    # P(Binomial(10, 0.3) = 3); 10 * [0.45, 0.55] = [4.5, 5.5] holds k = 5
    assert got[0, 0] == pytest.approx(math.comb(10, 3) * 0.3 ** 3 * 0.7 ** 7, rel=1e-10)
    assert got[0, 1] == pytest.approx(math.comb(10, 5) * 0.3 ** 5 * 0.7 ** 5, rel=1e-10)
    # 7 * [0.45, 0.55] = [3.15, 3.85]: no integer, an odd n never gives 1/2
    assert got[1, 1] == 0.0
    # a half-open bin [0.25, 0.35) of n = 10 holds k = 3 only
    got = null._window_probabilities(n[:1], p[:1], np.array([0.25]),
                                              np.array([0.35]), closed_hi=False)
    assert got[0, 0] == pytest.approx(math.comb(10, 3) * 0.3 ** 3 * 0.7 ** 7, rel=1e-10)


def test_envelope_estimate_by_hand():
    # three samples (row 0 observed), four bins; interior bins 1 and 2
    hist = np.array([[5, 9, 4, 5], [5, 3, 4, 5], [5, 5, 4, 5]], float)
    kde = np.array([[1, 9, 2, 1], [1, 2, 3, 1], [1, 4, 1, 1]], float)
    interior = np.array([False, True, True, False])
    d, counted = null._leave_one_out_rkd(hist, kde, interior)
    # observed: bin 1 density 9 > max(2, 4), excess 9 - (3 + 5) / 2 = 5;
    # bin 2 density 2 < 3, not counted
    assert d[0] == pytest.approx(5.0)
    assert counted[0].tolist() == [False, True, False, False]
    # resample 1: bin 2 density 3 > max(2, 1) but excess 4 - 4 = 0; bin 1 no
    assert d[1] == 0.0
    # resample 2: bin 1 density 4 < 9
    assert d[2] == 0.0


def test_mixture_recovers_two_groups():
    g = np.random.default_rng(0)
    n = g.integers(200, 800, 6000)
    first = g.random(6000) < 0.4
    p = np.where(first, g.beta(30, 70, 6000), g.beta(70, 30, 6000))
    mix = fit_beta_binomial_mixture(n, g.binomial(n, p), max_components=3)
    assert mix.weight.size == 2
    order = np.argsort(mix.a / (mix.a + mix.b))
    assert mix.weight[order] == pytest.approx([0.4, 0.6], abs=0.02)
    assert (mix.a + mix.b)[order] == pytest.approx([100, 100], rel=0.2)
    # one law is enough for one group
    p = g.beta(12, 8, 6000)
    mix = fit_beta_binomial_mixture(n, g.binomial(n, p), max_components=3)
    assert mix.weight.size == 1
    assert mix.a[0] / (mix.a[0] + mix.b[0]) == pytest.approx(0.6, abs=0.005)


# ------------------------------------------------------------ fast paths
# The fit sums over stations in a fixed order; checked against numpy's
# column sums on random inputs, to rounding.
def test_station_sums_agree_with_column_sums():
    g = np.random.default_rng(6)
    for k in (1, 2, 3, 5):
        x = g.random((7001, k)) * g.random((7001, 1)) * 1e3
        got = mixture._station_sums(np.ascontiguousarray(x.T))
        np.testing.assert_allclose(got, x.sum(axis=0), rtol=1e-13)


def _direct_mixture_fit(n, w, k):
    """The mixture likelihood written out station by station (betaln and
    scipy's logsumexp), maximised from the same start as the test's fit."""
    from scipy import optimize, special
    share = w / n
    edges = np.quantile(share, np.linspace(0, 1, k + 1))
    group = np.clip(np.searchsorted(edges, share, side="right") - 1, 0, k - 1)
    start = [beta_prior(n[group == j], w[group == j]) for j in range(k)]
    x0 = np.r_[np.log([s[0] for s in start]), np.log([s[1] for s in start]), np.zeros(k - 1)]

    def negloglik(x):
        a, b = np.exp(x[:k]), np.exp(x[k:2 * k])
        eta = np.r_[0.0, x[2 * k:]]
        logpi = eta - special.logsumexp(eta)
        comp = (special.betaln(w[:, None] + a, (n - w)[:, None] + b)
                - special.betaln(a, b)) + logpi
        total = special.logsumexp(comp, axis=1)
        resp = np.exp(comp - total[:, None])
        rsum = resp.sum(axis=0)
        d_ab = special.digamma(n[:, None] + a + b)
        grad_a = a * (np.sum(resp * (special.digamma(w[:, None] + a) - d_ab), axis=0)
                      - rsum * (special.digamma(a) - special.digamma(a + b)))
        grad_b = b * (np.sum(resp * (special.digamma((n - w)[:, None] + b) - d_ab), axis=0)
                      - rsum * (special.digamma(b) - special.digamma(a + b)))
        return -total.sum(), -np.r_[grad_a, grad_b, (rsum - n.size * np.exp(logpi))[1:]]

    bounds = [(-5.0, 12.0)] * (2 * k) + [(-20.0, 20.0)] * (k - 1)
    fit = optimize.minimize(negloglik, x0, jac=True, method="L-BFGS-B", bounds=bounds)
    return np.exp(fit.x[:2 * k]), -fit.fun


@pytest.mark.parametrize("seed", [0, 1])
def test_mixture_likelihood_shortcut_agrees_with_the_direct_formula(seed):
    # stations of 20 to 3,000 ballots (some below 172, where scipy's betaln
    # takes another route), shares from two beta laws
    g = np.random.default_rng(seed)
    n = g.integers(20, 3000, 2500).astype(float)
    p = np.where(g.random(2500) < 0.3, g.beta(20, 40, 2500), g.beta(30, 12, 2500))
    w = g.binomial(n.astype(np.int64), p).astype(float)
    for k in (1, 2, 3):
        mix, loglik = mixture._fit_components(n, w, k)
        shapes, want = _direct_mixture_fit(n, w, k)
        assert loglik == pytest.approx(want, rel=1e-12)
        assert np.r_[mix.a, mix.b] == pytest.approx(shapes, rel=1e-8)


def test_kernel_density_in_blocks_of_rows_agrees_with_all_at_once():
    g = np.random.default_rng(7)
    n = g.integers(1, 3000, 400)
    shares = g.binomial(n, g.random(400), size=(9, 400)) / n
    for bandwidth in (1e-4, 5e-4, 3e-3):
        whole = null._hist_and_kde(shares, 1001, 0.001, bandwidth, block=10 ** 9)
        for block in (1, 400, 1000):
            part = null._hist_and_kde(shares, 1001, 0.001, bandwidth, block=block)
            assert np.array_equal(part[0], whole[0]) and np.array_equal(part[1], whole[1])


# ------------------------------------------------------------ rkd: behaviour
def test_rkd_clean_elections_are_not_flagged():
    # small calibration loop: 24 clean simulated elections of 1,500 stations
    # (at most 4 rejections at 5%: P(more) = 0.6% for a calibrated test;
    # the mean p-value of 24 uniforms lies in (0.32, 0.68) with 99.8%)
    pvals, over = [], []
    for seed in range(24):
        size, lead = _simulated(1500, seed=400 + seed)
        res = spikes(size, lead, n_boot=100, rng=seed)
        pvals.append(res.pvalue)
        over.append(res.details["excess_over_null"])
        assert res.details["ci_low"] < 0.02
    assert sum(p < 0.05 for p in pvals) <= 4
    assert 0.32 < np.mean(pvals) < 0.68
    assert abs(np.mean(over)) < 0.005


def test_rkd_small_stations_arithmetic_is_not_fraud():
    # tiny denominators make round shares common by arithmetic alone
    size, lead = _clean(3000, seed=4, low=2, high=15)
    res = spikes(size, lead, rng=1)
    naive = 3000 * 21 * 2 * 0.0005  # what a smooth density of shares would give
    assert res.details["observed_focal"] > 20 * naive
    assert res.pvalue > 0.05
    assert abs(res.details["observed_focal"] - res.details["expected_focal"]) < 0.05 * naive * 20


def test_rkd_focal_expectation_matches_the_exact_method():
    # the two nulls differ (a fitted mixture and one latent draw per station
    # against one beta law averaged exactly) but must expect about as many
    # focal shares when a single beta law is true
    size, lead = _clean(3000, seed=13, low=2, high=60)
    rkd = spikes(size, lead, n_resamples=50, n_boot=10, rng=0)
    exact = spikes(size, lead, method="exact", n_boot=10, rng=0)
    assert rkd.details["n_components"] == 1
    assert rkd.details["expected_focal"] == pytest.approx(
        exact.details["expected_focal"], rel=0.05)


def test_rkd_recovers_planted_round_shares():
    size, lead = _simulated(3000, seed=5)
    size2, lead2, fixed = _plant_exact(size, lead, 0.03, seed=5)
    res = spikes(size2, lead2, rng=2)
    assert isinstance(res, SpikeResult)
    lo, hi = res.confidence_interval()
    assert lo < fixed.mean() < hi
    assert res.pvalue == pytest.approx(1 / 201)
    flagged = np.array(res.details["flagged_shares"])
    assert np.sum(np.isclose(flagged[:, None], np.arange(1, 20) * 0.05).any(axis=1)) >= 5
    ft = res.focal_table
    assert ft["excess"].sum() > 0.5 * fixed.sum()
    # the same stations before the planting: no excess
    before = spikes(size, lead, rng=2)
    assert before.pvalue > 0.05


def test_rkd_table():
    size, lead = _simulated(800, seed=11)
    res = spikes(size, lead, n_resamples=50, n_boot=20, rng=0)
    t = res.table
    assert len(t) == 1001
    assert t["observed"].sum() == res.n
    assert t["resampled"].sum() == pytest.approx(res.n)
    assert (t.loc[t["flagged"], "kde_observed"] > t.loc[t["flagged"], "kde_envelope"]).all()
    assert t["flagged"].sum() == res.details["n_flagged_bins"]
    assert res.details["excess_stations"] == pytest.approx(res.statistic * res.n)


# ------------------------------------------------------------ exact method
def test_hit_probability_by_hand():
    big = 1e7  # a + b so large that the beta-binomial is nearly the binomial
    # P(Binomial(10, 0.3) = 3), written out
    p3 = math.comb(10, 3) * 0.3 ** 3 * 0.7 ** 7
    got = hit_probability(np.array([10.0]), np.array([0.3 * big]),
                          np.array([0.7 * big]), np.array([0.3]), 0.001)
    assert got[0, 0] == pytest.approx(p3, rel=1e-4)
    # an odd denominator can never give exactly one half
    got = hit_probability(np.array([7.0]), np.array([5.0]), np.array([5.0]),
                          np.array([0.5]), 0.01)
    assert got[0, 0] == 0.0
    # a = b = 1: uniform on 0..10; a wide window collects k = 4, 5, 6
    got = hit_probability(np.array([10.0]), np.array([1.0]), np.array([1.0]),
                          np.array([0.5]), 0.1)
    assert got[0, 0] == pytest.approx(3 / 11, rel=1e-10)
    # Beta(2, 3) prior, n = 3: P(K = 1) = C(3,1) B(3, 5) / B(2, 3), by hand
    # B(3, 5) = 2! 4! / 7! = 1/105 and B(2, 3) = 1! 2! / 4! = 1/12
    got = hit_probability(np.array([3.0]), np.array([2.0]), np.array([3.0]),
                          np.array([1 / 3]), 0.001)
    assert got[0, 0] == pytest.approx(3 * 12 / 105, rel=1e-10)


def test_beta_prior_recovers_the_law_of_shares():
    g = np.random.default_rng(1)
    n = g.integers(50, 500, 40000)
    a, b = beta_prior(n, g.binomial(n, g.beta(12, 8, n.size)))
    assert a / (a + b) == pytest.approx(0.6, abs=0.005)
    assert a + b == pytest.approx(20, rel=0.1)


def test_exact_expectation_matches_resampling():
    size, lead = _clean(400, seed=2, low=5, high=300)
    res = spikes(size, lead, method="exact", n_boot=10,
                 halfwidth=0.002, rng=0)
    a, b = res.details["prior_a"], res.details["prior_b"]
    g = np.random.default_rng(9)
    focal = np.array(res.params["focal"])
    sims = []
    for _ in range(4000):
        s = g.binomial(size, g.beta(a + lead, b + size - lead)) / size
        sims.append(np.sum(np.min(np.abs(s[:, None] - focal[None, :]), axis=1)
                           <= 0.002 + 1e-12))
    sims = np.asarray(sims)
    se = sims.std() / np.sqrt(sims.size)
    assert abs(sims.mean() - res.details["expected_focal"]) < 4 * se


def test_exact_pvalue_is_the_tail_of_simulated_counts():
    # the p-value is P(M >= observed) for M a sum of Bernoulli(q_i): draw M
    # here from the test's own q_i (recomputed from its published pieces)
    size, lead = _clean(1200, seed=14, low=5, high=120)
    res = spikes(size, lead, method="exact", n_boot=0, halfwidth=0.002, rng=0)
    a, b = res.details["prior_a"], res.details["prior_b"]
    q_each = mixture.hit_probability(size, a + lead, b + size - lead,
                                           np.array(res.params["focal"]), 0.002)
    q = np.clip(q_each.sum(axis=1), 0, 1)
    assert q.sum() == pytest.approx(res.details["expected_focal"])
    m = np.random.default_rng(5).random((20000, q.size)) < q
    draws = m.sum(axis=1)
    tail = np.mean(draws >= res.details["observed_focal"])
    assert abs(tail - res.pvalue) < 4 * np.sqrt(res.pvalue * (1 - res.pvalue) / 20000) + 1e-4
    assert res.details["null_sd"] == pytest.approx(draws.std(), rel=0.03)


def test_exact_null_is_unbiased_when_the_beta_law_holds():
    # average over many clean elections of tiny stations: E[M] = E[sum q_i]
    diffs = []
    for seed in range(30):
        size, lead = _clean(1000, seed=100 + seed, low=2, high=30)
        res = spikes(size, lead, method="exact", n_boot=10, rng=seed)
        diffs.append(res.details["observed_focal"] - res.details["expected_focal"])
    diffs = np.asarray(diffs)
    assert abs(diffs.mean()) < 3 * diffs.std() / np.sqrt(diffs.size) + 1


def test_exact_clean_elections_are_not_flagged():
    pvals = []
    for seed in range(8):
        size, lead = _clean(1500, seed=seed)
        res = spikes(size, lead, method="exact", n_boot=50, rng=seed)
        pvals.append(res.pvalue)
        assert res.details["ci_low"] < 0.01
    assert sum(p < 0.05 for p in pvals) <= 2
    assert np.mean(pvals) > 0.2


def test_exact_recovers_planted_rounding():
    size, lead = _clean(4000, seed=6)
    lead2, fixed = _round_some(size, lead, 0.05)
    res = spikes(size, lead2, method="exact", n_boot=300, rng=2)
    lo, hi = res.confidence_interval()
    assert lo < fixed.mean() < hi
    assert res.pvalue < 1e-6 and res.details["log10_pvalue"] < -6
    ft = res.focal_table.set_index("focal")
    # the planted excess sits at multiples of 10%, not at 1/3 or 0.45
    assert ft.loc[ft.index[np.isclose(ft.index, 0.6)], "excess"].iloc[0] > 20
    assert abs(ft.loc[ft.index[np.isclose(ft.index, 1 / 3)], "excess"].iloc[0]) < 5


def test_exact_table_is_the_observed_histogram():
    size, lead = _clean(500, seed=10)
    res = spikes(size, lead, method="exact", n_boot=10, rng=0)
    assert res.table["observed"].sum() == 500
    assert res.table["resampled"].sum() == pytest.approx(500)
    assert res.null.startswith("each station's leader count")
    assert res.params["n_resamples"] is None and res.params["method"] == "exact"


# ------------------------------------------------------------ both methods
@pytest.mark.parametrize("method", ["rkd", "exact"])
def test_same_rng_same_answer(method):
    size, lead = _clean(800, seed=8)
    opts = {"n_resamples": 100} if method == "rkd" else {}
    r1 = spikes(size, lead, method=method, n_boot=50, rng=3, **opts)
    r2 = spikes(size, lead, method=method, n_boot=50, rng=3, **opts)
    assert r1 == r2
    pd.testing.assert_frame_equal(r1.table, r2.table)
    pd.testing.assert_frame_equal(r1.focal_table, r2.focal_table)
    r3 = spikes(size, lead, method=method, n_boot=50, rng=4, **opts)
    assert r3.details != r1.details


@pytest.mark.parametrize("method", ["rkd", "exact"])
def test_interval_draws_come_last(method):
    # the calibration harness skips the interval (n_boot=0): the statistic
    # and p-value must be those of a run with the interval
    size, lead = _clean(1500, seed=9)
    opts = {"n_resamples": 60} if method == "rkd" else {}
    with_ci = spikes(size, lead, method=method, n_boot=40, rng=6, **opts)
    without = spikes(size, lead, method=method, n_boot=0, rng=6, **opts)
    assert (without.statistic, without.pvalue) == (with_ci.statistic, with_ci.pvalue)
    assert np.isnan(without.details["ci_low"]) and np.isnan(without.details["ci_high"])
    assert with_ci.details["ci_low"] <= with_ci.details["ci_high"]


def test_threads_do_not_change_the_answer(monkeypatch):
    size, lead = _clean(3000, seed=13)
    monkeypatch.setenv("VOTE_AUDIT_THREADS", "1")
    one = spikes(size, lead, n_resamples=40, n_boot=20, rng=8)
    monkeypatch.setenv("VOTE_AUDIT_THREADS", "3")
    three = spikes(size, lead, n_resamples=40, n_boot=20, rng=8)
    assert one == three
    pd.testing.assert_frame_equal(one.table, three.table)


def test_default_resamples_depend_on_method():
    size, lead = _clean(300, seed=12)
    assert spikes(size, lead, n_boot=5, rng=0).params["n_resamples"] == 200
    assert spikes(size, lead, method="exact", n_boot=5, rng=0).params["n_resamples"] is None
    with pytest.raises(ValueError, match="n_resamples applies to method='rkd' only"):
        spikes(size, lead, method="exact", n_resamples=100)


@pytest.mark.parametrize("kwargs, match", [
    ({"focal": [0.0, 0.5]}, "focal must be shares strictly between 0 and 1"),
    ({"focal": [0.5, 0.5005]}, "more than 2 \\* halfwidth apart"),
    ({"halfwidth": 0.0}, "halfwidth"),
    ({"n_resamples": 0}, "n_resamples"),
    ({"n_resamples": 10}, "at least 19 for method='rkd'"),
    ({"n_boot": -1}, "n_boot must be a non-negative integer"),
    ({"confidence": 0}, "confidence"),
    ({"method": "kde"}, "method must be 'rkd' or 'exact', got 'kde'"),
    ({"bandwidth": 0}, "bandwidth"),
    ({"bin_width": 0.003}, "bin_width must divide 1"),
    ({"max_components": 0}, "max_components"),
])
def test_bad_options(kwargs, match):
    size, lead = _clean(200)
    with pytest.raises(ValueError, match=match):
        spikes(size, lead, **kwargs)


def test_bad_data():
    size, lead = _clean(200)
    with pytest.raises(ValueError, match="leader has 199 rows"):
        spikes(size, lead[:-1])
    with pytest.raises(ValueError, match="leader must hold whole numbers"):
        spikes(size, lead + 0.5)
    with pytest.raises(ValueError, match="missing or infinite"):
        spikes(np.r_[np.nan, size[1:]], lead)


@pytest.mark.parametrize("method", ["rkd", "exact"])
def test_impossible_station_is_left_out_and_counted(method):
    # more leader votes than ballots: the station is a finding of the
    # reader; the test leaves it out, counts it, and equals the run without it
    size, lead = _clean(200)
    bad = np.r_[size[0] + 1, lead[1:]]
    kw = {"method": method, "n_boot": 20, "rng": 3,
          **({"n_resamples": 39} if method == "rkd" else {})}
    res = spikes(size, bad, **kw)
    assert res.details["excluded_leader_over_ballots"] == 1
    assert res.details["excluded_stations"] == 1
    ref = spikes(size[1:], lead[1:], **kw)
    assert res.statistic == ref.statistic and res.pvalue == ref.pvalue


@pytest.mark.parametrize("method", ["rkd", "exact"])
def test_not_applicable(method):
    size, lead = _clean(50)
    with pytest.raises(NotApplicable, match="at least 100 stations"):
        spikes(size, lead, method=method)
    size, lead = _clean(150)
    with pytest.raises(NotApplicable, match="with >= 2000 ballots"):
        spikes(size, lead, method=method, min_ballots=2000)


# ------------------------------------------------------------ Russia 2020
@functools.cache
def _russia_2020():
    from audit.tables import datasets
    try:
        table = datasets.load("ru-cik/2020.csv.zip")
    except Exception as exc:  # noqa: BLE001  (no data here: skip, do not fail)
        pytest.skip(f"ru-cik/2020.csv.zip not available: {exc}")
    data = table.data
    return data["ballots_cast"].to_numpy(float), data["ДА"].to_numpy(float)


@pytest.mark.slow
def test_russia_2020_has_spikes():
    cast, yes = _russia_2020()
    res = spikes(cast, yes, rng=0)
    assert res.pvalue == pytest.approx(1 / 201)
    assert res.details["ci_low"] > 0.01          # over 1% of ~97,000 stations
    assert res.statistic > 10 * res.expected
    flagged = np.array(res.details["flagged_shares"])
    # every multiple of 5% from 75% to 95% is a spike above the envelope
    for share in (0.75, 0.8, 0.85, 0.9, 0.95):
        assert np.isclose(flagged, share).any(), share
    ft = res.focal_table
    high = ft[ft["focal"] >= 0.75]
    assert (high["excess"] > 100).all()
    # the low and middle round shares are not where the excess is
    assert ft.loc[ft["focal"] < 0.7, "excess"].sum() < 0.1 * high["excess"].sum()


@pytest.mark.slow
def test_russia_2020_exact_method_agrees():
    cast, yes = _russia_2020()
    res = spikes(cast, yes, method="exact", n_boot=100, rng=0)
    assert res.pvalue < 1e-100 and res.details["pvalue_method"] == "saddlepoint"
    assert res.statistic > 0.005
    high = res.focal_table[res.focal_table["focal"] >= 0.75]
    assert (high["excess"] > 100).all()


def test_excluded_stations_are_listed_at_their_positions():
    size, lead = _clean(200)
    size, lead = size.copy(), lead.copy()
    lead[7] = size[7] + 1            # more leader votes than ballots
    size[3] = lead[3] = 0            # no ballots
    res = spikes(size, lead, method="exact", n_boot=20, rng=3)
    listed = dict(zip(res.excluded["position"], res.excluded["reason"]))
    assert listed == {3: "no ballots cast", 7: "more leader votes than ballots"}
    assert len(res.excluded) == res.details["excluded_stations"] == 2
    assert (res.excluded["reason"] == "more leader votes than ballots").sum() == \
        res.details["excluded_leader_over_ballots"]
