"""Tests of audit.stations.stuffing: the per-station stuffing score."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from audit.stations import simulate
from audit.stations.stuffing import (log_mixed_binomial, stuffing_log_ratio,
                                     stuffing_scores)
from audit.stations.twin import fit_twin


def test_binomial_mixture_matches_quadrature_and_is_a_probability_law():
    from scipy import integrate, stats
    from scipy.special import expit

    z, w = np.polynomial.hermite_e.hermegauss(20)
    # a narrow peak (large station, wide spread) and a broad one (small station)
    k = np.array([700.0, 1990.0, 3.0, 0.0])
    n = np.array([1000.0, 2000.0, 12.0, 40.0])
    c = np.array([0.5, 3.0, -1.0, 0.0])
    sd = np.array([0.6, 1.2, 0.3, 0.8])
    got = log_mixed_binomial(k, n, c, sd, z, w)
    for i in range(k.size):
        def f(t, i=i):
            return stats.binom.pmf(k[i], n[i], expit(c[i] + sd[i] * t)) * stats.norm.pdf(t)
        ref, _ = integrate.quad(f, -12, 12, limit=500, epsabs=0, epsrel=1e-11)
        assert got[i] == pytest.approx(np.log(ref), abs=1e-7)
    # over every count of a station the law sums to one; outside it, no mass
    kk = np.arange(0, 61, dtype=float)
    total = np.exp(log_mixed_binomial(kk, np.full(kk.size, 60.0), np.full(kk.size, 0.4),
                                      np.full(kk.size, 0.7), z, w)).sum()
    assert total == pytest.approx(1.0, abs=1e-10)
    assert np.isneginf(log_mixed_binomial(np.array([-1.0, 61.0]), np.array([60.0, 60.0]),
                                          np.zeros(2), np.ones(2), z, w)).all()


@pytest.fixture(scope="module")
def election():
    clean = simulate.clean_election(1500, rng=11, n_regions=5)
    rigged = simulate.ballot_stuffing(clean, share=0.08, amount=0.12, rng=12)
    return clean, rigged


def test_stuffed_stations_score_higher_and_the_share_is_near_the_truth(election):
    from scipy.stats import rankdata

    clean, rigged = election
    altered = np.asarray(rigged.source["altered"], bool)
    res = stuffing_scores(rigged)
    p = res.table["p_stuffed"].to_numpy()
    ranks = rankdata(p)
    k1, k0 = altered.sum(), (~altered).sum()
    auc = (ranks[altered].sum() - k1 * (k1 + 1) / 2) / (k1 * k0)
    # exponential amounts: many stations get a few ballots, indistinguishable
    # from clean ones, so neither the ranking nor the share can be complete
    assert auc > 0.75
    assert 0.3 * altered.mean() < res.share < 1.5 * altered.mean()
    # on the same election before stuffing, far fewer stations look stuffed
    before = stuffing_scores(clean)
    assert before.share < res.share / 3
    assert (before.table["p_stuffed"] > 0.9).sum() < (p > 0.9).sum() / 3


def test_added_ballots_are_near_the_truth_where_the_model_is_sure(election):
    clean, rigged = election
    altered = np.asarray(rigged.source["altered"], bool)
    added = (rigged.data["ballots_cast"].to_numpy(float)
             - clean.data["ballots_cast"].to_numpy(float))
    res = stuffing_scores(rigged)
    t = res.table
    sure = altered & (t["p_stuffed"].to_numpy() > 0.9)
    assert sure.sum() >= 10
    # given stuffed, the amount is the likelihood-weighted mean of AMOUNTS
    # (in ballots): within a factor of two of the truth at the sure stations
    ratio = t["ballots_if_stuffed"].to_numpy()[sure] / added[sure]
    assert 0.5 < np.median(ratio) < 2.0
    # expected ballots are p_stuffed times that, and add up to the total
    assert np.allclose(t["stuffed_ballots"], t["p_stuffed"] * t["ballots_if_stuffed"],
                       equal_nan=True)
    assert res.stuffed_ballots == pytest.approx(np.nansum(t["stuffed_ballots"]))
    # most of the stuffed ballots are found, and none where none were added
    lo, hi = res.ballots_interval
    assert lo <= added.sum() <= hi
    assert 0.5 * added.sum() < res.stuffed_ballots < 1.5 * added.sum()
    before = stuffing_scores(clean)
    assert before.ballots_interval[1] < 0.05 * added.sum()
    assert before.share < 1e-4 and before.share_interval[1] < 1e-4


def test_the_share_of_heavy_tails_is_chosen_by_likelihood(election):
    from audit.stations.stuffing import WIDE_GRID

    res = stuffing_scores(election[1], n_boot=0)
    assert list(res.profile) == list(WIDE_GRID)
    assert res.profile[res.wide] == max(res.profile.values())
    assert np.isnan(res.ballots_interval).all() and res.n_boot == 0
    fixed = stuffing_scores(election[1], wide=0.2, n_boot=0)
    assert list(fixed.profile) == [0.2] and fixed.wide == 0.2
    # heavy tails the election does not have take stuffed stations in: a
    # fixed share of them finds fewer stuffed ballots than the chosen one
    assert fixed.stuffed_ballots < res.stuffed_ballots


def test_a_refit_of_the_clean_law_without_the_stuffed_ballots_finds_more_of_them(election):
    from audit.stations.twin import fit_twin

    clean, rigged = election
    added = (rigged.data["ballots_cast"].to_numpy(float)
             - clean.data["ballots_cast"].to_numpy(float)).sum()
    once = stuffing_scores(rigged, refits=0, n_boot=0)
    twice = stuffing_scores(rigged, refits=1, n_boot=0)
    assert once.stuffed_ballots < twice.stuffed_ballots
    assert abs(twice.stuffed_ballots - added) < abs(once.stuffed_ballots - added)
    # a clean law given by the caller is used as it is
    model = fit_twin(rigged)
    given = stuffing_scores(rigged, model=model, refits=3, n_boot=0)
    pd.testing.assert_frame_equal(given.table, once.table)


def test_at_stations_at_their_registered_total_the_cap_bounds_the_ballots_added():
    # turnout near 93%: stuffing fills stations to their registered total,
    # so the ballots added are the non-voters' places, not the amount drawn
    clean = simulate.clean_election(1500, rng=31, n_regions=5, turnout_mean=0.93,
                                    turnout_region_concentration=200,
                                    turnout_station_concentration=300)
    rigged = simulate.ballot_stuffing(clean, share=0.08, amount=0.12, rng=32)
    d = rigged.data
    added = d["ballots_cast"].to_numpy(float) - clean.data["ballots_cast"].to_numpy(float)
    full = (d["ballots_cast"] >= d["registered"]).to_numpy() & np.asarray(
        rigged.source["altered"], bool)
    assert full.sum() >= 5
    res = stuffing_scores(rigged, n_boot=0)
    given = res.table["ballots_if_stuffed"].to_numpy()[full]
    # within 20% of the truth there; the amounts alone would say about 12%
    # of the registered voters, well above what fitted under the cap
    assert given.mean() == pytest.approx(added[full].mean(), rel=0.2)
    assert added[full].mean() < 0.8 * 0.12 * d["registered"].to_numpy(float)[full].mean()


def test_table_rows_follow_the_file_and_missing_counts_get_no_score(election):
    _, rigged = election
    data = rigged.data.copy()
    data.loc[data.index[3], "ballots_cast"] = pd.NA
    # an impossible figure (more ballots than voters) is a finding, not a score
    data.loc[data.index[5], "ballots_cast"] = data.loc[data.index[5], "registered"] + 5
    table = rigged.__class__(data=data, options=rigged.options, excluded=rigged.excluded,
                             findings=rigged.findings, source=rigged.source)
    res = stuffing_scores(table)
    t = res.table
    assert t["position"].tolist() == list(range(len(data)))
    assert t["station"].tolist() == data["station"].tolist()
    for row in (3, 5):
        assert np.isnan(t.loc[row, "p_stuffed"]) and np.isnan(t.loc[row, "log_ratio"])
    assert t["p_stuffed"].drop(index=[3, 5]).between(0, 1).all()
    assert res.amounts[0] > 0 and res.iterations >= 1


def test_an_amount_that_cannot_have_been_added_rules_stuffing_out(election):
    clean, _ = election
    model = fit_twin(clean)
    r = stuffing_log_ratio(model, clean, 0.5, nodes=10)
    d = clean.data
    s = np.round(0.5 * d["registered"].to_numpy(float))
    lead = d[clean.leader_column()].to_numpy(float)
    impossible = lead < s
    assert impossible.any()
    assert np.isneginf(r[impossible]).all()
    assert np.isfinite(r[~impossible]).all()


@pytest.mark.parametrize("options, message", [
    ({"amounts": (0.0,)}, "amounts"), ({"amounts": (1.5,)}, "amounts"),
    ({"amounts": ()}, "amounts"), ({"wide": 1.0}, "wide"), ({"wide": -0.1}, "wide"),
    ({"n_boot": -1}, "n_boot"), ({"level": 1.0}, "level"), ({"refits": -1}, "refits"),
    ({"copies": -2}, "copies"),
])
def test_bad_options_are_refused(election, options, message):
    with pytest.raises(ValueError, match=message):
        stuffing_scores(election[0], **options)


def test_a_table_without_ballots_cast_is_refused():
    t = simulate.clean_election(200, rng=1)
    data = t.data.drop(columns=["ballots_cast"])
    table = t.__class__(data=data, options=t.options, excluded=t.excluded,
                        findings=t.findings, source=t.source)
    with pytest.raises(ValueError, match="ballots_cast"):
        stuffing_scores(table)
    with pytest.raises(TypeError, match="StationTable"):
        stuffing_scores(t.data)
    data = t.data.copy()
    data["ballots_cast"] = data["registered"] + 1          # every station impossible
    table = t.__class__(data=data, options=t.options, excluded=t.excluded,
                        findings=t.findings, source=t.source)
    with pytest.raises(ValueError, match="got none"):
        stuffing_scores(table)
    # too few stations to fit a clean law and a share on
    few = t.__class__(data=t.data.iloc[:60], options=t.options, excluded=t.excluded,
                      findings=t.findings, source=t.source)
    with pytest.raises(ValueError, match="at least 100 stations .* got 60"):
        stuffing_scores(few)


def test_same_input_same_numbers(election):
    a = stuffing_scores(election[1])
    b = stuffing_scores(election[1])
    pd.testing.assert_frame_equal(a.table, b.table)
    assert a.share == b.share
    assert a.ballots_interval == b.ballots_interval


def test_the_figures_the_reports_quote_are_those_measured_in_the_docs():
    import re
    from pathlib import Path

    from audit.stations.stuffing import (FOUND_ON_TWINS, HONEST_BALLOT_SHARE,
                                         HONEST_STATION_SHARE)

    page = (Path(__file__).resolve().parent.parent / "docs" / "mixture.md").read_text(
        encoding="utf-8")

    def row(label):
        line = next(x for x in page.splitlines() if x.startswith(f"| {label} |"))
        return [c.strip() for c in line.strip("|").split("|")][1:]

    def number(cell):
        return float(cell.split()[0].replace(",", ""))

    honest = [row(name) for name in ("Canada 2011", "Czech Republic 2018", "Poland 2020")]
    shares = [number(r[2]) for r in honest]
    ballots = [number(r[5]) / number(r[6]) for r in honest]
    assert HONEST_STATION_SHARE == (min(shares), max(shares))
    assert HONEST_BALLOT_SHARE == (round(min(ballots), 4), round(max(ballots), 4))
    found = [float(re.match(r"[\d.]+", c).group()) for c in
             row("ballots found / added (mean; min, max)")]
    assert FOUND_ON_TWINS == (min(found), max(found))


def test_copies_correct_for_the_ballots_the_model_misses(election):
    clean, rigged = election
    added = float((rigged.data.ballots_cast - clean.data.ballots_cast).sum())
    plain = stuffing_scores(rigged)
    assert np.isnan(plain.corrected) and np.isnan(plain.ballots_range).all()
    assert plain.found_ratios == ()
    res = stuffing_scores(rigged, copies=8)
    assert len(res.found_ratios) == 8
    # the copies change no score, only the total's correction and range
    pd.testing.assert_frame_equal(res.table, plain.table)
    assert res.ballots_interval == plain.ballots_interval
    # many stations got a few ballots and look clean: the model finds too few,
    # and in copies drawn from its own fit it finds too few again, so the
    # corrected total is higher (here it overshoots: the copies' clean law,
    # fitted on stuffed data, is wider than the truth and hides more)
    assert res.stuffed_ballots < added
    assert np.mean(res.found_ratios) < 1 and res.corrected > res.stuffed_ballots
    lo, hi = res.ballots_range
    assert lo <= res.ballots_interval[0] and hi >= max(res.corrected, res.ballots_interval[1])
    assert lo <= added <= hi
    again = stuffing_scores(rigged, copies=8)
    assert again.found_ratios == res.found_ratios and again.ballots_range == res.ballots_range
