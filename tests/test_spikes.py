"""Tests of audit.forensics.spikes (Rozenas' resampled-density spike test).

The exact null (binomial window probabilities) is checked by hand and
against explicit binomial resampling; size on clean simulated elections and
recovery of a planted share of rounded stations; a smoke test on the 2020
Russian vote, whose spikes at round "yes" shares (75%, 80%, ..., 95%) are
visible in every published plot of those data (e.g. Kobak, Shpilkin and
Pshenichnikov's figures in dkobak/elections).
"""

from __future__ import annotations

import functools
import math
import os
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from audit.errors import NotApplicable
from audit.forensics.spikes import (
    SpikeResult, beta_prior, coarse_shares, hit_probability, spikes)
from audit.registry import REGISTRY

DATA = Path(os.environ.get("AUDIT_DATA_DIR", "/work/shared/datasets")) / "ru-cik"


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


def test_registered():
    spec = REGISTRY["spikes"]
    assert spec.needs == ("ballots_cast", "leader")
    assert spec.family == "spike"


def test_coarse_shares():
    f = coarse_shares()
    assert f.size == 21
    assert np.isclose(f, 1 / 3).any() and np.isclose(f, 2 / 3).any()
    assert np.isclose(f, 0.95).any() and not np.isclose(f, 1.0).any()


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
    res = spikes(size, lead, n_resamples=50, n_boot=10, halfwidth=0.002, rng=0)
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


def test_null_is_unbiased_when_the_beta_law_holds():
    # average over many clean elections of tiny stations: E[M] = E[sum q_i]
    diffs = []
    for seed in range(30):
        size, lead = _clean(1000, seed=100 + seed, low=2, high=30)
        res = spikes(size, lead, n_resamples=20, n_boot=10, rng=seed)
        diffs.append(res.details["observed_focal"] - res.details["expected_focal"])
    diffs = np.asarray(diffs)
    assert abs(diffs.mean()) < 3 * diffs.std() / np.sqrt(diffs.size) + 1


def test_clean_elections_are_not_flagged():
    pvals = []
    for seed in range(8):
        size, lead = _clean(1500, seed=seed)
        res = spikes(size, lead, n_resamples=200, n_boot=50, rng=seed)
        pvals.append(res.pvalue)
        assert res.details["ci_low"] < 0.01
    assert sum(p < 0.05 for p in pvals) <= 2
    assert np.mean(pvals) > 0.2


def test_small_stations_arithmetic_is_not_fraud():
    # tiny denominators make round shares common by arithmetic alone
    size, lead = _clean(3000, seed=4, low=2, high=15)
    res = spikes(size, lead, n_resamples=200, n_boot=50, rng=1)
    naive = 3000 * 21 * 2 * 0.0005  # what a smooth density of shares would give
    assert res.details["observed_focal"] > 20 * naive
    assert res.pvalue > 0.01


def test_recovers_planted_rounding():
    size, lead = _clean(4000, seed=6)
    lead2, fixed = _round_some(size, lead, 0.05)
    res = spikes(size, lead2, n_resamples=300, n_boot=300, rng=2)
    assert isinstance(res, SpikeResult)
    lo, hi = res.confidence_interval()
    assert lo < fixed.mean() < hi
    assert res.pvalue == pytest.approx(1 / 301)
    ft = res.focal_table.set_index("focal")
    # the planted excess sits at multiples of 10%, not at 1/3 or 0.45
    assert ft.loc[ft.index[np.isclose(ft.index, 0.6)], "excess"].iloc[0] > 20
    assert abs(ft.loc[ft.index[np.isclose(ft.index, 1 / 3)], "excess"].iloc[0]) < 5


def test_same_rng_same_answer():
    size, lead = _clean(800, seed=8)
    r1 = spikes(size, lead, n_resamples=100, n_boot=50, rng=3)
    r2 = spikes(size, lead, n_resamples=100, n_boot=50, rng=3)
    assert r1 == r2
    pd.testing.assert_frame_equal(r1.table, r2.table)


def test_table_is_the_observed_histogram():
    size, lead = _clean(500, seed=10)
    res = spikes(size, lead, n_resamples=20, n_boot=10, rng=0)
    assert res.table["observed"].sum() == 500
    assert res.table["resampled"].sum() == pytest.approx(500)


@pytest.mark.parametrize("kwargs, match", [
    ({"focal": [0.0, 0.5]}, "focal must be shares strictly between 0 and 1"),
    ({"focal": [0.5, 0.5005]}, "more than 2 \\* halfwidth apart"),
    ({"halfwidth": 0.0}, "halfwidth"),
    ({"n_resamples": 0}, "n_resamples"),
    ({"confidence": 0}, "confidence"),
])
def test_bad_options(kwargs, match):
    size, lead = _clean(200)
    with pytest.raises(ValueError, match=match):
        spikes(size, lead, **kwargs)


def test_bad_data():
    size, lead = _clean(200)
    with pytest.raises(ValueError, match="leader exceeds ballots_cast at rows \\[0\\]"):
        spikes(size, np.r_[size[0] + 1, lead[1:]])
    with pytest.raises(ValueError, match="leader has 199 rows"):
        spikes(size, lead[:-1])
    with pytest.raises(ValueError, match="non-negative whole numbers"):
        spikes(size, lead + 0.5)
    with pytest.raises(ValueError, match="missing or infinite"):
        spikes(np.r_[np.nan, size[1:]], lead)


def test_not_applicable():
    size, lead = _clean(50)
    with pytest.raises(NotApplicable, match="at least 100 stations"):
        spikes(size, lead)


@functools.lru_cache(maxsize=None)
def _russia_2020():
    path = DATA / "2020.csv.zip"
    if not path.exists():
        pytest.skip(f"{path} not available")
    frame = pd.read_csv(path)
    (cast,) = [c for c in frame.columns if "бюллетеней, содержащихся" in c]
    return frame[cast].to_numpy(float), frame["ДА"].to_numpy(float)


def test_russia_2020_has_spikes():
    cast, yes = _russia_2020()
    res = spikes(cast, yes, n_resamples=200, n_boot=100, rng=0)
    assert res.pvalue == pytest.approx(1 / 201)
    assert res.statistic > 0.005
    ft = res.focal_table
    high = ft[ft["focal"] >= 0.75]
    # every multiple of 5% from 75% to 95% stands out
    assert (high["excess"] > 100).all()
    assert res.details["excluded_stations"] == 11
