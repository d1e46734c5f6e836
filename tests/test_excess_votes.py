"""Tests of audit.stations.forensics.excess_votes (Shpilkin's method).

Published numbers for the 2020 all-Russian vote on the constitutional
amendments: Sergey Shpilkin ("Как Россия поменяла Конституцию голосами 29%
избирателей", Proekt, 3 July 2020; relayed by Znak and by bne IntelliNews,
Russia Country Report, August 2020, p. 8: "Shpilkin estimates than additional
22mn votes were injected into the count ... the true turnout was 42%")
found a clean cluster at about 42% turnout with about 65% "yes", and put
the anomalous votes at about 22 million.
"""

from __future__ import annotations

import functools
import os
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from audit.core.errors import NotApplicable
from audit.stations.forensics.excess_votes import ExcessVotesResult, excess_votes
from audit.stations.registry import REGISTRY

DATA = Path(os.environ.get("AUDIT_DATA_DIR", "/work/shared/datasets")) / "ru-cik"


def _clean(n=3000, seed=0, turnout=0.55, share=0.6):
    g = np.random.default_rng(seed)
    reg = g.integers(800, 1600, n)
    t = np.clip(g.normal(turnout, 0.06, n), 0.05, 0.95)
    cast = g.binomial(reg, t)
    lead = g.binomial(cast, share)
    return reg, cast, lead, cast - lead


def _stuff(reg, cast, lead, frac=0.15, to=0.9, seed=1):
    """Stuff a fraction of stations to ``to`` turnout, all for the leader."""
    g = np.random.default_rng(seed)
    cast, lead = cast.copy(), lead.copy()
    hit = g.random(reg.size) < frac
    extra = np.maximum(np.floor(to * reg[hit]) - cast[hit], 0).astype(int)
    cast[hit] += extra
    lead[hit] += extra
    return cast, lead, int(extra.sum())


def test_registered():
    spec = REGISTRY["excess_votes"]
    assert spec.needs == ("registered", "ballots_cast", "leader", "votes")
    assert spec.family == "excess-votes"


def test_hand_computed_example():
    # peak at 50%: leader 60, others 40 -> ratio 1.5.
    # station at 80%: others 40 -> clean leader 60, reported 120: excess 60.
    # station at 30% is below the peak and counts as reported.
    reg = np.array([200, 200, 200])
    cast = np.array([100, 160, 60])
    lead = np.array([60, 120, 30])
    others = cast - lead
    res = excess_votes(reg, cast, lead, np.c_[lead, others], peak_turnout=0.5,
                       window=0.02, n_boot=0, min_stations=1)
    assert res.statistic == pytest.approx(60.0)
    assert res.details["excess_share"] == pytest.approx(60 / 210)
    assert res.details["leader_share_at_peak"] == pytest.approx(0.6)
    assert res.details["stations_above_peak"] == 1
    assert np.isnan(res.pvalue)
    assert np.isnan(res.details["excess_ci_low"])


def test_recovers_planted_stuffing():
    reg, cast, lead, other = _clean()
    cast2, lead2, planted = _stuff(reg, cast, lead)
    res = excess_votes(reg, cast2, lead2, np.c_[lead2, other], n_boot=100, rng=3)
    assert isinstance(res, ExcessVotesResult)
    assert abs(res.statistic - planted) < 0.1 * planted
    lo, hi = res.confidence_interval()
    assert lo < planted < hi
    assert res.details["peak_turnout"] == pytest.approx(0.55, abs=0.03)
    assert res.details["leader_share_at_peak"] == pytest.approx(0.6, abs=0.02)


def test_clean_election_has_no_excess():
    reg, cast, lead, other = _clean(seed=5)
    res = excess_votes(reg, cast, lead, np.c_[lead, other], n_boot=100, rng=1)
    assert abs(res.details["excess_share"]) < 0.02
    lo, hi = res.confidence_interval()
    assert lo < 0 < hi


def test_lowest_mode_is_the_clean_peak():
    # two clusters of others' votes: 45% (clean) and 85% (stuffed regions
    # that keep their "no" votes); the clean one must be chosen
    a = _clean(2000, seed=2, turnout=0.45)
    b = _clean(2500, seed=3, turnout=0.85, share=0.8)
    reg, cast, lead, other = (np.r_[x, y] for x, y in zip(a, b, strict=True))
    res = excess_votes(reg, cast, lead, np.c_[lead, other], n_boot=0)
    assert res.details["peak_turnout"] == pytest.approx(0.45, abs=0.03)


def test_table_adds_up():
    reg, cast, lead, other = _clean(seed=7)
    cast2, lead2, _ = _stuff(reg, cast, lead)
    res = excess_votes(reg, cast2, lead2, np.c_[lead2, other], n_boot=0)
    t = res.table
    assert t["leader"].sum() == pytest.approx(lead2.sum())
    assert t["others"].sum() == pytest.approx(other.sum())
    assert t["leader"].sum() - t["leader_clean"].sum() == pytest.approx(res.statistic)
    assert t["stations"].sum() == res.n


def test_same_rng_same_answer():
    reg, cast, lead, other = _clean(seed=9)
    r1 = excess_votes(reg, cast, lead, np.c_[lead, other], n_boot=30, rng=4)
    r2 = excess_votes(reg, cast, lead, np.c_[lead, other], n_boot=30, rng=4)
    assert r1.to_dict() == r2.to_dict()
    np.testing.assert_array_equal(r1.replicates, r2.replicates)


def test_excluded_stations_are_counted():
    reg, cast, lead, other = _clean(500, seed=11)
    reg = reg.copy()
    reg[:3] = 0
    res = excess_votes(reg, cast, lead, np.c_[lead, other], n_boot=0)
    assert res.details["excluded_stations"] == 3
    assert res.n == 497


@pytest.mark.parametrize("kwargs, match", [
    ({"peak": "median"}, "peak must be"),
    ({"bin_width": 0}, "bin_width"),
    ({"n_boot": -1}, "n_boot"),
    ({"confidence": 1.5}, "confidence"),
    ({"peak_turnout": 1.2}, "peak_turnout"),
])
def test_bad_options(kwargs, match):
    reg, cast, lead, other = _clean(200)
    with pytest.raises(ValueError, match=match):
        excess_votes(reg, cast, lead, np.c_[lead, other], **kwargs)


def test_bad_data():
    reg, cast, lead, other = _clean(200)
    with pytest.raises(ValueError, match="ballots_cast has 199 rows"):
        excess_votes(reg, cast[:-1], lead, np.c_[lead, other])
    with pytest.raises(ValueError, match="registered must be non-negative"):
        excess_votes(-reg, cast, lead, np.c_[lead, other])
    with pytest.raises(TypeError, match="leader must hold numbers"):
        excess_votes(reg, cast, np.array(["x"] * 200), np.c_[lead, other])


def test_not_applicable():
    reg, cast, lead, other = _clean(50)
    with pytest.raises(NotApplicable, match="at least 100 stations"):
        excess_votes(reg, cast, lead, np.c_[lead, other])
    with pytest.raises(NotApplicable, match="other than the leader"):
        excess_votes(*_clean(200)[:2], _clean(200)[1], _clean(200)[1])


@functools.lru_cache(maxsize=None)
def _russia_2020():
    path = DATA / "2020.csv.zip"
    if not path.exists():
        pytest.skip(f"{path} not available")
    frame = pd.read_csv(path)

    def col(part):
        (name,) = [c for c in frame.columns if part in c]
        return frame[name].to_numpy(float)

    reg = col("включенных в список")
    cast = col("бюллетеней, содержащихся")
    return reg, cast, frame["ДА"].to_numpy(float), frame[["ДА", "НЕТ"]].to_numpy(float)


def test_russia_2020_matches_shpilkin():
    reg, cast, yes, votes = _russia_2020()
    res = excess_votes(reg, cast, yes, votes, n_boot=50, rng=0)
    # Shpilkin: clean cluster near 42% turnout and 65% "yes"
    assert 0.40 <= res.details["peak_turnout"] <= 0.45
    assert 0.62 <= res.details["leader_share_at_peak"] <= 0.68
    # Shpilkin: about 22 million anomalous votes. Our figure counts the
    # "yes" votes above the peak ratio (not the extra turnout), on the
    # station file without electronic voting: the same order of magnitude.
    assert 15e6 < res.statistic < 35e6
    lo, hi = res.confidence_interval()
    assert lo < res.statistic < hi


def test_excluded_stations_are_listed_at_their_positions():
    reg, cast, lead, other = (x.copy() for x in _clean(500, seed=11))
    reg[:3] = 0
    cast[7] = reg[7] + 1             # turnout above 100%
    res = excess_votes(reg, cast, lead, np.c_[lead, other], n_boot=0)
    assert res.excluded["position"].tolist() == [0, 1, 2, 7]
    assert len(res.excluded) == res.details["excluded_stations"] == 4


@pytest.mark.parametrize("peak, peak_turnout", [("others", None), ("voters", None),
                                                ("others", 0.55)])
def test_bootstrap_replicates_equal_estimates_on_resampled_tables(peak, peak_turnout):
    """The bootstrap works on station multiplicities; each replicate must be
    the estimate recomputed from scratch on the resampled table (histogram
    by numpy.histogram, sums over the drawn rows), to the last bit."""
    reg, cast, lead, _ = _clean(800, seed=4)
    cast, lead, _ = _stuff(reg, cast, lead, frac=0.1, seed=5)
    n_boot = 12
    res = excess_votes(reg, cast, lead, np.c_[lead, cast - lead], peak=peak,
                       peak_turnout=peak_turnout, n_boot=n_boot, rng=7)
    # the function's canonical order, then the same draws of station positions
    order = np.lexsort((cast - lead, lead, cast, reg))
    r, c, l, o = (x[order].astype(float) for x in (reg, cast, lead, cast - lead))
    t = c / r
    edges = np.linspace(0, 1, 201)
    centres = (edges[:-1] + edges[1:]) / 2
    gen = np.random.default_rng(7)
    for b in range(n_boot):
        idx = gen.integers(0, len(t), len(t))
        ti, li, oi, ci = t[idx], l[idx], o[idx], c[idx]
        if peak_turnout is None:
            hist, _ = np.histogram(ti, bins=edges, weights=oi if peak == "others" else ci)
            hist = np.convolve(hist, np.ones(5) / 5, mode="same")
            h = np.where(centres <= 0.95, hist, -np.inf)
            left, right = np.r_[-np.inf, h[:-1]], np.r_[h[1:], -np.inf]
            local = (h > 0) & (h >= left) & (h >= right) & (h >= 0.5 * h.max())
            t0 = centres[np.flatnonzero(local)[0]]
        else:
            t0 = peak_turnout
        near = np.abs(ti - t0) <= 0.01
        ratio = li[near].sum() / oi[near].sum()
        above = ti > t0
        assert res.replicates[b] == np.sum(li[above] - ratio * oi[above])
