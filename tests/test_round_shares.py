"""Round shares against neighbouring counts: the exact band law, size on
smooth simulated elections, power on written results, refusals."""

import numpy as np
import pytest
from scipy import stats

from audit.core.errors import NotApplicable
from audit.stations.forensics.spikes.round import _bands, _round_chance, round_shares, round_turnout


def _election(seed, n_st=4000, lo=200, hi=2500):
    g = np.random.default_rng(seed)
    n = g.integers(lo, hi, n_st)
    # a lumpy share distribution: districts with their own centres
    centre = g.beta(8, 3, 40)[g.integers(0, 40, n_st)]
    p = np.clip(centre + g.normal(0, 0.04, n_st), 0.01, 0.99)
    return n, g.binomial(n, p)


def test_band_chance_is_the_beta_binomial_share_of_the_round_count():
    n = np.array([400.0, 1001.0, 2500.0])
    k = np.array([201.0, 667.0, 1874.0])
    foc = np.array([0.5, 2 / 3, 0.75])
    station, lo, hi, blo, bhi, col = _bands(n.astype(np.int64), k.astype(np.int64), foc, 0.0005)
    got = _round_chance(n[station], k[station], lo, hi, blo, bhi)
    for i, s in enumerate(station):
        law = stats.betabinom(int(n[s]), k[s] + 0.5, n[s] - k[s] + 0.5)
        band = law.pmf(np.arange(blo[i], bhi[i] + 1))
        inner = law.pmf(np.arange(lo[i], hi[i] + 1))
        assert got[i] == pytest.approx(inner.sum() / band.sum(), rel=1e-10)
    # 201 of 400 lies in the band 199..201 of 50%; 1874 of 2500 in 1871..1879 of 75%
    assert {(int(station[i]), int(col[i])) for i in range(len(station))} == {(0, 0), (1, 1), (2, 2)}


@pytest.mark.parametrize("test", [round_shares, round_turnout])
def test_size_on_smooth_elections(test):
    pvals = []
    for seed in range(60):
        n, k = _election(seed)
        pvals.append(test(n, k).pvalue)
    pvals = np.array(pvals)
    # 60 honest elections: a 5% test rejects at most 9 times with probability > 0.99
    assert (pvals < 0.05).sum() <= 9
    # and is not far too conservative: the p-values spread over (0, 1)
    assert 0.3 < np.median(pvals) < 0.7


def test_written_round_shares_are_found_and_located():
    n, k = _election(99)
    g = np.random.default_rng(5)
    fixed = g.random(n.size) < 0.03
    n[fixed] = 20 * np.round(n[fixed] / 20)
    k[fixed] = np.round(20 * k[fixed] / n[fixed]) * n[fixed] // 20
    res = round_shares(n, k)
    assert res.pvalue < 1e-6
    obs = np.array(res.details["focal_observed"])
    exp = np.array(res.details["focal_expected"])
    assert obs.sum() == res.details["hits"]
    assert exp.sum() == pytest.approx(res.details["expected_hits"])
    # the excess sits where the written shares were put
    shares = np.round(k[fixed] / n[fixed], 4)
    top = np.array(res.params["focal"])[np.argmax(obs - exp)]
    assert np.isclose(shares, top).any()


def test_impossible_and_small_stations_are_left_out_and_counted():
    n, k = _election(3)
    n = n.astype(float)
    k = k.astype(float)
    k[:5] = n[:5] + 1          # more leader votes than ballots
    n[5:8] = 50                # too small
    k[5:8] = 20
    k[8] = np.nan
    res = round_shares(n, k)
    assert res.details["excluded_over"] == 5
    assert res.details["excluded"] == 9
    assert sorted(res.excluded["reason"].value_counts().to_dict().items()) == sorted({
        "more leader votes than ballots": 5, "fewer than 200 ballots cast": 3,
        "missing count": 1}.items())


def test_refusals():
    n, k = _election(4, n_st=90)
    with pytest.raises(NotApplicable, match="round_shares needs at least 100 stations"):
        round_shares(n, k)
    n, k = _election(4, n_st=300)
    off = k / n
    # no count within a few votes of a coarse share: nothing to compare
    far = np.array([abs(x - np.round(x * 20) / 20) > 0.01 and abs(x - 1 / 3) > 0.01
                    and abs(x - 2 / 3) > 0.01 for x in off])
    with pytest.raises(NotApplicable, match="no station's count"):
        round_shares(n[far], k[far], min_units=50)
    with pytest.raises(ValueError, match="too close together"):
        round_shares(*_election(4, lo=50), min_ballots=50)
    with pytest.raises(ValueError, match="focal"):
        round_shares(*_election(4), focal=[0.5, 1.0])
