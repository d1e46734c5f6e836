"""Tests of audit.stations.forensics.distributions."""

import numpy as np
import pytest
from scipy import stats
from scipy.optimize import linprog

from audit.core.errors import NotApplicable
from audit.stations.forensics.distributions import (
    dip_pvalue, dip_statistic, leader_share_kurtosis,
    leader_share_skewness, sobyanin_sukhovolsky, turnout_dip,
    turnout_kurtosis, turnout_leader_correlation, turnout_skewness)
from audit.stations.forensics.distributions.dip import _DIP_TABLE
from audit.stations.simulate import ballot_stuffing, clean_election, klimek_fraud


def cols(table, *names):
    return [table.data[c].to_numpy(dtype=np.int64) for c in names]


# ------------------------------------------------------------ dip: exact reference
def lp_dip(x):
    """Dip by brute force: for every candidate mode, a linear programme finds
    the smallest sup distance between the ECDF and a CDF that is convex left
    of the mode, concave right of it (a jump at the mode allowed), linear
    between data points.  Independent of the GCM/LCM algorithm under test."""
    v, cnt = np.unique(np.asarray(x, float), return_counts=True)
    n, K = cnt.sum(), len(v)
    if K == 1:
        return 0.0
    c = np.r_[0, np.cumsum(cnt)].astype(float)   # ECDF counts: left limit c[k], value c[k+1]
    best = np.inf
    for M in range(K):
        nv = K + 2                               # g_0..g_{K-1}, left limit at mode, eps
        gm, e = K, K + 1
        A, b = [], []

        def band(var, lo, hi):
            r = np.zeros(nv); r[var] = -1; r[e] = -1; A.append(r); b.append(-lo)
            r = np.zeros(nv); r[var] = 1; r[e] = -1; A.append(r); b.append(hi)

        for k in range(K):
            if k == M:
                band(gm, c[k], c[k])
                band(k, c[k + 1], c[k + 1])
                r = np.zeros(nv); r[gm] = 1; r[k] = -1; A.append(r); b.append(0)
            else:                                 # continuous: near both c[k] and c[k+1]
                band(k, c[k + 1], c[k])

        def slopes(points):
            rows = []
            for (xa, ia), (xb, ib) in zip(points[:-1], points[1:]):
                r = np.zeros(nv); r[ib] += 1 / (xb - xa); r[ia] -= 1 / (xb - xa)
                rows.append(r)
            return rows

        left = slopes([(v[k], k) for k in range(M)] + [(v[M], gm)])
        right = slopes([(v[M], M)] + [(v[k], k) for k in range(M + 1, K)])
        for s1, s2 in zip(left[:-1], left[1:]):
            A.append(s1 - s2); b.append(0)
        for s1, s2 in zip(right[:-1], right[1:]):
            A.append(s2 - s1); b.append(0)
        if left:
            A.append(-left[0]); b.append(0)
        if right:
            A.append(-right[-1]); b.append(0)
        obj = np.zeros(nv); obj[e] = 1
        res = linprog(obj, A_ub=np.array(A), b_ub=np.array(b),
                      bounds=[(0, n)] * (K + 1) + [(0, None)], method="highs")
        if res.status == 0:
            best = min(best, res.fun)
    return best / n


@pytest.mark.parametrize("seed", range(40))
def test_dip_matches_linear_programme(seed):
    rng = np.random.default_rng(seed)
    n = int(rng.integers(4, 22))
    kind = seed % 4
    if kind == 0:
        x = rng.normal(size=n)
    elif kind == 1:
        x = np.r_[rng.normal(-2, 1, n // 2), rng.normal(2, 1, n - n // 2)]
    elif kind == 2:
        x = rng.integers(0, 6, n).astype(float)       # many ties
    else:
        x = rng.exponential(size=n)
    assert dip_statistic(x) == pytest.approx(lp_dip(x), abs=1e-9)


def test_dip_known_values():
    # two equal point masses: the largest possible dip, 1/4
    assert dip_statistic([0.0] * 10 + [1.0] * 10) == pytest.approx(0.25)
    # a single value is unimodal
    assert dip_statistic([3.0] * 7) == 0.0
    # evenly spaced points: the ECDF steps around a straight line, dip 1/(2n)
    assert dip_statistic(np.arange(50.0)) == pytest.approx(1 / 100)
    # order does not matter
    rng = np.random.default_rng(0)
    x = rng.normal(size=200)
    assert dip_statistic(x) == dip_statistic(x[::-1])


def test_dip_separates_bimodal_from_unimodal():
    rng = np.random.default_rng(1)
    uni = rng.normal(size=1000)
    bi = np.r_[rng.normal(-2.5, 1, 500), rng.normal(2.5, 1, 500)]
    assert dip_pvalue(dip_statistic(uni), 1000) > 0.2
    assert dip_pvalue(dip_statistic(bi), 1000) < 0.01


def test_dip_table_pvalues_are_uniform_under_the_null():
    # size at an untabulated n (interpolated between 50 and 75), fresh seed
    rng = np.random.default_rng(2024)
    p = np.array([dip_pvalue(dip_statistic(rng.uniform(size=60)), 60) for _ in range(600)])
    for a in (0.05, 0.2, 0.5):
        lo, hi = stats.binomtest(int((p <= a).sum()), 600).proportion_ci(0.99)
        assert lo <= a <= hi, (a, (p <= a).mean())


def test_dip_table_agrees_with_simulation():
    rng = np.random.default_rng(7)
    x = np.r_[rng.normal(0, 1, 150), rng.normal(2.4, 1, 150)]
    d = dip_statistic(x)
    p_table = dip_pvalue(d, 300)
    p_sim = dip_pvalue(d, 300, method="simulate", n_resamples=400, rng=8)
    assert abs(p_table - p_sim) < 0.05
    # and the table itself is monotone in probability for every n
    for row in _DIP_TABLE.values():
        assert np.all(np.diff(row[1:]) >= 0)


def test_turnout_dip_detects_extreme_fraud_cluster():
    rng = np.random.default_rng(5)
    reg = rng.integers(500, 2000, 3000)
    cast = rng.binomial(reg, np.clip(rng.normal(0.5, 0.07, 3000), 0, 1))
    res = turnout_dip(reg, cast)
    assert res.pvalue > 0.05
    cast2 = cast.copy()
    cast2[:600] = rng.binomial(reg[:600], 0.97)
    res2 = turnout_dip(reg, cast2)
    assert res2.pvalue < 0.01 and res2.statistic > res.statistic
    assert res2.params["method"] == "table"


# ------------------------------------------------------------ moments
def test_moment_statistics_match_formulas():
    t = clean_election(1500, rng=4)
    reg, cast, lead = cols(t, "registered", "ballots_cast", "leader")
    x = cast / reg
    m = x - x.mean()
    g1 = (m ** 3).mean() / (m ** 2).mean() ** 1.5
    g2 = (m ** 4).mean() / (m ** 2).mean() ** 2 - 3
    assert turnout_skewness(reg, cast).statistic == pytest.approx(g1)
    assert turnout_kurtosis(reg, cast).statistic == pytest.approx(g2)
    s = lead / cast
    ms = s - s.mean()
    assert leader_share_skewness(cast, lead).statistic == pytest.approx(
        (ms ** 3).mean() / (ms ** 2).mean() ** 1.5)
    assert leader_share_kurtosis(cast, lead).statistic == pytest.approx(
        (ms ** 4).mean() / (ms ** 2).mean() ** 2 - 3)


def test_moment_tests_hold_size_on_normal_rates():
    # the normal-theory null holds when rates are normal and samples large:
    # rejection rate of the skewness test near 5% over 300 samples
    rng = np.random.default_rng(9)
    rej = 0
    for _ in range(300):
        reg = np.full(500, 10 ** 6)
        cast = np.rint(reg * rng.normal(0.6, 0.05, 500)).astype(int)
        rej += turnout_skewness(reg, cast).pvalue <= 0.05
    lo, hi = stats.binomtest(int(rej), 300).proportion_ci(0.99)
    assert lo <= 0.05 <= hi


def test_moments_exclude_impossible_stations_and_count_them():
    rng = np.random.default_rng(1)
    reg = rng.integers(100, 1000, 100)
    cast = rng.binomial(reg, 0.6)
    reg[0] = 0
    cast[1] = reg[1] + 5
    res = turnout_skewness(reg, cast)
    assert res.n == 98
    assert res.details["excluded_no_registered"] == 1
    assert res.details["excluded_over_100pct"] == 1


# ------------------------------------------------------------ correlation
def test_correlation_matches_weighted_pearson():
    t = clean_election(800, rng=3)
    reg, cast, lead = cols(t, "registered", "ballots_cast", "leader")
    x, s = cast / reg, lead / cast
    cov = np.cov(x, s, aweights=reg)
    r_w = cov[0, 1] / np.sqrt(cov[0, 0] * cov[1, 1])
    assert turnout_leader_correlation(reg, cast, lead, rng=0).statistic == pytest.approx(r_w)
    r = turnout_leader_correlation(reg, cast, lead, weights="none", method="fisher")
    assert r.statistic == pytest.approx(np.corrcoef(x, s)[0, 1])
    # unweighted Fisher z equals atanh(r) sqrt(n - 3)
    assert r.details["z"] == pytest.approx(np.arctanh(r.statistic) * np.sqrt(800 - 3))


def test_correlation_permutation_and_fisher_agree_and_hold_size():
    # homogeneous electorate (one region): stations are exchangeable
    rng = np.random.default_rng(12)
    rej_perm = rej_fish = 0
    for i in range(120):
        t = clean_election(300, rng=rng, n_regions=1)
        reg, cast, lead = cols(t, "registered", "ballots_cast", "leader")
        # every permutation: the agreement below needs the precise p-value
        pp = turnout_leader_correlation(reg, cast, lead, n_resamples=199,
                                        n_exceed=None, rng=i).pvalue
        pf = turnout_leader_correlation(reg, cast, lead, method="fisher").pvalue
        rej_perm += pp <= 0.05
        rej_fish += pf <= 0.05
        assert abs(pp - pf) < 0.15
    for rej in (rej_perm, rej_fish):
        lo, hi = stats.binomtest(int(rej), 120).proportion_ci(0.99)
        assert lo <= 0.05 <= hi


def test_correlation_sees_stuffing():
    t = ballot_stuffing(clean_election(2000, rng=1, n_regions=1), share=0.2,
                        amount=0.1, rng=2)
    reg, cast, lead = cols(t, "registered", "ballots_cast", "leader")
    res = turnout_leader_correlation(reg, cast, lead, alternative="greater",
                                     n_resamples=199, rng=3)
    assert res.statistic > 0.1 and res.pvalue == pytest.approx(1 / 200)


def test_correlation_sequential_pvalue_stops_at_the_hit():
    # a clean election: the 20th permuted correlation at least as extreme
    # as the observed one comes early, and p = 20 / (its position); the
    # same permutations run to the end count at least 20 hits up to there
    t = clean_election(600, rng=2, n_regions=1)
    args = cols(t, "registered", "ballots_cast", "leader")
    seq = turnout_leader_correlation(*args, n_resamples=999, rng=7)
    full = turnout_leader_correlation(*args, n_resamples=999, n_exceed=None, rng=7)
    d = seq.details
    assert d["stopped_early"] and d["exceedances"] == 20
    assert seq.pvalue == pytest.approx(20 / d["permutations"])
    assert full.details["permutations"] == 999 and not full.details["stopped_early"]
    assert full.pvalue == pytest.approx((full.details["exceedances"] + 1) / 1000)
    # both estimate the same p-value
    assert abs(seq.pvalue - full.pvalue) < 4 * np.sqrt(full.pvalue / 20)
    # a strong signal never reaches 20 hits: all permutations, (k + 1) / (n + 1)
    stuffed = ballot_stuffing(clean_election(1000, rng=1, n_regions=1), share=0.2,
                              amount=0.1, rng=2)
    res = turnout_leader_correlation(*cols(stuffed, "registered", "ballots_cast", "leader"),
                                     n_resamples=299, rng=3)
    assert res.details["permutations"] == 299 and res.pvalue == pytest.approx(1 / 300)


@pytest.mark.slow  # size by simulation; the permutation/Fisher size check stays fast
def test_correlation_sequential_pvalue_holds_its_size():
    # Besag-Clifford p-values are valid: P(p <= a) <= a under the null
    rng = np.random.default_rng(21)
    ps = []
    for i in range(300):
        t = clean_election(150, rng=rng, n_regions=1)
        args = cols(t, "registered", "ballots_cast", "leader")
        ps.append(turnout_leader_correlation(*args, n_resamples=499, n_exceed=10,
                                             rng=i).pvalue)
    ps = np.array(ps)
    for a in (0.05, 0.1, 0.25, 0.5):
        lo, hi = stats.binomtest(int((ps <= a).sum()), ps.size).proportion_ci(0.995)
        assert lo <= a <= hi, (a, (ps <= a).mean())


def test_correlation_same_rng_same_answer():
    t = clean_election(500, rng=1)
    args = cols(t, "registered", "ballots_cast", "leader")
    a = turnout_leader_correlation(*args, n_resamples=99, rng=5)
    b = turnout_leader_correlation(*args, n_resamples=99, rng=5)
    assert a == b


# ------------------------------------------------------------ Sobyanin-Sukhovolsky
def test_sobyanin_slope_matches_least_squares():
    t = clean_election(1000, rng=6)
    reg, cast, lead = cols(t, "registered", "ballots_cast", "leader")
    res = sobyanin_sukhovolsky(reg, cast, lead)
    slope, intercept = np.polyfit(cast / reg, lead / reg, 1)
    assert res.statistic == pytest.approx(slope)
    assert res.details["intercept"] == pytest.approx(intercept)
    assert res.expected == pytest.approx(lead.sum() / cast.sum())


@pytest.mark.slow  # size by simulation
def test_sobyanin_holds_size_on_homogeneous_clean_elections():
    rng = np.random.default_rng(31)
    p = []
    for _ in range(300):
        t = clean_election(400, rng=rng, n_regions=1)
        p.append(sobyanin_sukhovolsky(*cols(t, "registered", "ballots_cast", "leader"),
                                      alternative="two-sided").pvalue)
    rej = int((np.array(p) <= 0.05).sum())
    lo, hi = stats.binomtest(rej, 300).proportion_ci(0.99)
    assert lo <= 0.05 <= hi


def test_sobyanin_sees_stuffing_and_slope_tends_to_one():
    clean = clean_election(3000, rng=8, n_regions=1)
    heavy = klimek_fraud(clean, f_extreme=0.2, rng=9)
    res = sobyanin_sukhovolsky(*cols(heavy, "registered", "ballots_cast", "leader"))
    assert res.pvalue < 1e-6
    assert res.statistic > res.expected + 0.2
    assert res.details["ci_low"] < res.statistic < res.details["ci_high"]


# ------------------------------------------------------------ validation
ALL = [
    (turnout_skewness, 2), (turnout_kurtosis, 2), (leader_share_skewness, 2),
    (leader_share_kurtosis, 2), (turnout_dip, 2), (turnout_leader_correlation, 3),
    (sobyanin_sukhovolsky, 3),
]


def _args(k, n=200, seed=0):
    rng = np.random.default_rng(seed)
    reg = rng.integers(200, 2000, n)
    cast = rng.binomial(reg, 0.6)
    lead = rng.binomial(cast, 0.5)
    return [reg, cast, lead][:k] if k == 3 else ([reg, cast] if k == 2 else None)


@pytest.mark.parametrize("func, k", ALL)
def test_validation(func, k):
    args = _args(k)
    if func in (leader_share_skewness, leader_share_kurtosis):
        args = [args[1], _args(3)[2]]
    bad = [a.copy() for a in args]
    bad[0][3] = -1
    with pytest.raises(ValueError, match="non-negative"):
        func(*bad)
    with pytest.raises(ValueError, match="same length"):
        func(args[0][:-1], *args[1:])
    with pytest.raises(TypeError):
        func("abc", *args[1:])
    nan = [a.astype(float) for a in args]
    nan[1][0] = np.nan
    with pytest.raises(ValueError, match="missing"):
        func(*nan)
    with pytest.raises(NotApplicable, match="at least"):
        func(*[a[:5] for a in args])


def test_constant_turnout_is_not_applicable():
    reg = np.full(50, 1000)
    with pytest.raises(NotApplicable, match="same turnout"):
        turnout_dip(reg, np.full(50, 600))


def test_option_validation():
    reg, cast, lead = _args(3)
    with pytest.raises(ValueError, match="method"):
        turnout_leader_correlation(reg, cast, lead, method="spearman")
    with pytest.raises(ValueError, match="alternative"):
        sobyanin_sukhovolsky(reg, cast, lead, alternative="bigger")
    with pytest.raises(ValueError, match="method"):
        turnout_dip(reg, cast, method="bootstrap")
    with pytest.raises(ValueError, match="n_resamples"):
        turnout_leader_correlation(reg, cast, lead, n_resamples=0)


# ------------------------------------------------------------ groups (regions)
def test_groups_remove_regional_confounding():
    # two regions: one with high turnout and high support, one low/low;
    # within each region rates are independent, so the grouped tests must
    # not reject while the pooled ones do
    rng = np.random.default_rng(40)
    n = 2000
    g = np.repeat(["A", "B"], n // 2)
    reg = rng.integers(500, 1500, n)
    tr = np.where(g == "A", 0.75, 0.45) + rng.normal(0, 0.03, n)
    sh = np.where(g == "A", 0.65, 0.40) + rng.normal(0, 0.05, n)
    cast = rng.binomial(reg, tr)
    lead = rng.binomial(cast, sh)
    pooled = turnout_leader_correlation(reg, cast, lead, n_resamples=199, rng=1)
    within = turnout_leader_correlation(reg, cast, lead, groups=g, n_resamples=199, rng=1)
    assert pooled.pvalue <= 0.01 and pooled.statistic > 0.5
    assert within.pvalue > 0.01 and abs(within.statistic) < 0.1
    assert within.details["n_groups"] == 2
    # within-group r equals the correlation of group-centred rates
    t, s = cast / reg, lead / cast
    tc = t - np.array([np.average(t[g == k], weights=reg[g == k]) for k in g])
    sc = s - np.array([np.average(s[g == k], weights=reg[g == k]) for k in g])
    r = np.sum(reg * tc * sc) / np.sqrt(np.sum(reg * tc ** 2) * np.sum(reg * sc ** 2))
    assert within.statistic == pytest.approx(r)
    ss_pooled = sobyanin_sukhovolsky(reg, cast, lead)
    ss_within = sobyanin_sukhovolsky(reg, cast, lead, groups=g)
    assert ss_pooled.pvalue < 1e-6
    assert ss_within.pvalue > 0.01
    # the within slope is least squares with one intercept per region
    X = np.column_stack([cast / reg, g == "A", g == "B"]).astype(float)
    beta = np.linalg.lstsq(X, lead / reg, rcond=None)[0]
    assert ss_within.statistic == pytest.approx(beta[0])


@pytest.mark.slow  # size by simulation; the correlation's size check stays fast
def test_grouped_tests_hold_size_on_heterogeneous_clean_elections():
    rng = np.random.default_rng(77)
    pc, ps = [], []
    for i in range(150):
        t = clean_election(1000, rng=rng, n_regions=15)
        args = cols(t, "registered", "ballots_cast", "leader")
        g = t.data.region.to_numpy()
        pc.append(turnout_leader_correlation(*args, groups=g, method="fisher").pvalue)
        ps.append(sobyanin_sukhovolsky(*args, groups=g, alternative="two-sided").pvalue)
    for p in (pc, ps):
        rej = int((np.array(p) <= 0.05).sum())
        lo, hi = stats.binomtest(rej, 150).proportion_ci(0.99)
        assert lo <= 0.05 <= hi, rej


def test_groups_validation():
    reg, cast, lead = _args(3)
    with pytest.raises(ValueError, match="groups"):
        turnout_leader_correlation(reg, cast, lead, groups=["a"] * 5)
    with pytest.raises(ValueError, match="groups"):
        sobyanin_sukhovolsky(reg, cast, lead, groups=np.array([None] * len(reg)))


def test_excluded_stations_are_listed_at_their_positions():
    # the correlation and regression sort stations into a canonical order:
    # the listing must still point at the positions given
    rng = np.random.default_rng(1)
    reg = rng.integers(100, 1000, 100)
    cast = rng.binomial(reg, 0.6)
    lead = rng.binomial(cast, 0.5)
    reg[0] = 0
    cast[1] = reg[1] + 5
    cast[4] = 0
    lead[4] = 0
    lead[7] = cast[7] + 1
    pos = lambda res, reason: res.excluded.loc[res.excluded["reason"] == reason,
                                               "position"].tolist()
    for f in (turnout_skewness, turnout_kurtosis, turnout_dip):
        res = f(reg, cast)
        assert pos(res, "no registered voters") == [0]
        assert pos(res, "turnout above 100%") == [1]
        assert len(res.excluded) == (res.details["excluded_no_registered"]
                                     + res.details["excluded_over_100pct"])
    for f in (leader_share_skewness, leader_share_kurtosis):
        res = f(cast, lead)
        assert pos(res, "no ballots cast") == [4]
        assert pos(res, "more leader votes than ballots") == [7]
        assert res.details["excluded_no_ballots"] == 1
        assert res.details["excluded_leader_over_ballots"] == 1
    groups = np.where(np.arange(100) < 50, "a", "b")
    for f in (turnout_leader_correlation, sobyanin_sukhovolsky):
        for g in (None, groups):
            kw = {"groups": g} if g is not None else {}
            if f is turnout_leader_correlation:
                kw.update(n_resamples=19, rng=0)
            res = f(reg, cast, lead, **kw)
            assert pos(res, "no registered voters or no ballots cast") == [0, 4]
            assert pos(res, "turnout above 100% or more leader votes than "
                            "ballots") == [1, 7]
            assert res.details["excluded_no_ballots_or_voters"] == 2
            assert res.details["excluded_impossible"] == 2


# ------------------------------------------------------------ fast paths
def test_label_codes_and_canonical_order_match_numpy():
    """Group codes taken per run of equal labels equal numpy.unique's, and
    the packed-key sort orders stations as numpy.lexsort does (up to
    stations equal in every key)."""
    from audit.stations.forensics._order import canonical_order
    from audit.stations.forensics.distributions._common import _label_codes
    rng = np.random.default_rng(0)
    names = np.array(["b", "a", "Zeta", "ä", "a b", "10", "9"])
    for runs in (True, False):
        labels = names[rng.integers(0, len(names), 500)]
        if runs:
            labels = np.sort(labels)[::-1]
        assert np.array_equal(_label_codes(labels),
                              np.unique(labels, return_inverse=True)[1])
    assert len(_label_codes(names[:0])) == 0
    for high in (5, 3000, 2 ** 20):              # the last overflows 63 bits
        reg = rng.integers(0, high, 2000).astype(float)
        cast = rng.integers(0, high, 2000).astype(float)
        lead = rng.integers(0, 3, 2000).astype(float)
        codes = rng.integers(0, 4, 2000)
        for c in (None, codes):
            keys = (lead, cast, reg) if c is None else (lead, cast, reg, c)
            cols_ = np.c_[keys[::-1]]
            got = canonical_order([reg, cast, lead] if c is None else [c, reg, cast, lead])
            want = np.lexsort(keys)
            assert np.array_equal(cols_[got], cols_[want])


def test_group_codes_skip_labels_whose_stations_are_all_excluded():
    from audit.stations.forensics.distributions._common import _clean_pairs
    reg = np.array([10., 10, 0, 0, 10, 10])          # region "b" has no voters
    a = {"registered": reg, "ballots_cast": np.full(6, 5.), "leader": np.full(6, 2.)}
    for labels in (np.array(["c", "a", "b", "b", "c", "a"]),
                   np.array(["c", "a", "b", "b", "c", "a"], dtype=object)):
        codes = _clean_pairs(a, labels)[3]
        assert sorted(codes.tolist()) == [0, 0, 1, 1]


def test_grouped_correlation_ignores_label_order_and_runs():
    t = ballot_stuffing(clean_election(1500, rng=2), share=0.2, amount=0.1, rng=3)
    reg, cast, lead = cols(t, "registered", "ballots_cast", "leader")
    region = t.data.region.to_numpy().astype(str)
    perm = np.random.default_rng(1).permutation(len(reg))
    a = turnout_leader_correlation(reg, cast, lead, groups=region, n_resamples=99, rng=4)
    b = turnout_leader_correlation(reg[perm], cast[perm], lead[perm],
                                   groups=region[perm].astype(object),
                                   n_resamples=99, rng=4)
    assert (a.statistic, a.pvalue) == (b.statistic, b.pvalue)


# ------------------------------------------------------------ clustered clean elections
def clustered_election(seed, *, n_regions=10, mean_districts=25, rho=0.7,
                       singleton_share=0.2):
    """Region > district > station logit-normal election.  Turnout and
    support are independent within districts (each district has its own
    station spread) but correlated (rho) across districts and regions;
    a share of the districts are single stations.  Returns registered,
    cast, leader, region and district labels."""
    rng = np.random.default_rng(seed)
    cov = np.array([[1, rho], [rho, 1]])
    t_l, s_l, reg_l, dist_l = [], [], [], []
    for r in range(n_regions):
        ur = rng.multivariate_normal([0.3, 0.0], cov * 0.4 ** 2)
        for d in range(rng.poisson(mean_districts) + 1):
            ud = ur + rng.multivariate_normal([0, 0], cov * 0.3 ** 2)
            m = 1 if rng.random() < singleton_share else 2 + rng.geometric(1 / 6)
            sd_t, sd_s = rng.uniform(0.05, 0.4, 2)
            t_l.append(1 / (1 + np.exp(-(ud[0] + rng.normal(0, sd_t, m)))))
            s_l.append(1 / (1 + np.exp(-(ud[1] + rng.normal(0, sd_s, m)))))
            reg_l += [r] * m
            dist_l += [r * 1000 + d] * m
    t, s = np.concatenate(t_l), np.concatenate(s_l)
    reg = np.clip(np.rint(np.exp(rng.normal(np.log(900), 0.7, t.size))), 30, 4000)
    reg = reg.astype(np.int64)
    cast = rng.binomial(reg, t)
    return reg, cast, rng.binomial(cast, s), np.array(reg_l), np.array(dist_l)


@pytest.mark.slow
def test_district_groups_hold_size_on_clustered_clean_elections():
    # 200 clean elections with district effects correlated across districts:
    # grouped by district both tests hold their size (99% binomial interval
    # around the rejection rate covers 0.05); by region or without groups
    # the between-district correlation makes them reject almost always
    n = 200
    rej = {}
    for i in range(n):
        reg, cast, lead, region, district = clustered_election(1000 + i)
        for alt in ("greater", "two-sided"):
            p_c = turnout_leader_correlation(reg, cast, lead, groups=district,
                                             alternative=alt, rng=i).pvalue
            p_s = sobyanin_sukhovolsky(reg, cast, lead, groups=district,
                                       alternative=alt).pvalue
            rej[("corr", alt)] = rej.get(("corr", alt), 0) + (p_c <= 0.05)
            rej[("ss", alt)] = rej.get(("ss", alt), 0) + (p_s <= 0.05)
        if i < 20:
            for g in (None, region):
                rej["coarse"] = rej.get("coarse", 0) + (
                    turnout_leader_correlation(reg, cast, lead, groups=g,
                                               n_resamples=99, rng=i).pvalue <= 0.05)
                rej["coarse"] += sobyanin_sukhovolsky(reg, cast, lead, groups=g).pvalue <= 0.05
    for key in [("corr", "greater"), ("corr", "two-sided"), ("ss", "greater"),
                ("ss", "two-sided")]:
        lo, hi = stats.binomtest(int(rej[key]), n).proportion_ci(0.99)
        assert lo <= 0.05 <= hi, (key, rej[key])
    assert rej["coarse"] >= 0.9 * 80


def test_stuffing_is_seen_within_districts():
    reg, cast, lead, region, district = clustered_election(7)
    rng = np.random.default_rng(8)
    hit = rng.random(reg.size) < 0.2
    extra = np.where(hit, rng.binomial(reg - cast, 0.3), 0)
    cast2, lead2 = cast + extra, lead + extra
    c = turnout_leader_correlation(reg, cast2, lead2, groups=district, rng=1)
    s = sobyanin_sukhovolsky(reg, cast2, lead2, groups=district)
    assert c.statistic > 0 and c.pvalue <= 0.01
    assert s.statistic > s.expected and s.pvalue <= 0.01
    # the same election before stuffing is not flagged at 1%
    assert turnout_leader_correlation(reg, cast, lead, groups=district, rng=1).pvalue > 0.01


def test_one_sided_default_does_not_flag_a_negative_correlation():
    rng = np.random.default_rng(3)
    n = 1500
    reg = rng.integers(400, 1500, n)
    t = rng.uniform(0.3, 0.9, n)
    cast = rng.binomial(reg, t)
    lead = rng.binomial(cast, np.clip(0.9 - 0.8 * t, 0, 1))   # support falls with turnout
    c = turnout_leader_correlation(reg, cast, lead, rng=1)
    s = sobyanin_sukhovolsky(reg, cast, lead)
    assert c.params["alternative"] == "greater" == s.params["alternative"]
    assert c.statistic < -0.3 and c.pvalue > 0.5
    assert s.statistic < s.expected and s.pvalue > 0.5
    assert turnout_leader_correlation(reg, cast, lead, alternative="two-sided",
                                      n_resamples=199, rng=1).pvalue == pytest.approx(1 / 200)
    assert sobyanin_sukhovolsky(reg, cast, lead, alternative="two-sided").pvalue < 1e-6


def test_singleton_groups_contribute_nothing_and_are_counted():
    reg, cast, lead, region, district = clustered_election(5)
    sizes = np.bincount(np.unique(district, return_inverse=True)[1])
    single = np.isin(district, np.unique(district)[sizes == 1])
    assert single.sum() > 10
    # changing the counts of single-station districts changes neither test
    cast2, lead2 = cast.copy(), lead.copy()
    cast2[single] = reg[single]
    lead2[single] = cast2[single] // 2
    out = []
    for c_, l_ in ((cast, lead), (cast2, lead2)):
        c = turnout_leader_correlation(reg, c_, l_, groups=district, rng=2)
        s = sobyanin_sukhovolsky(reg, c_, l_, groups=district)
        out.append((c.statistic, c.pvalue, s.statistic, s.expected, s.pvalue))
    assert out[1] == pytest.approx(out[0])
    for res in (c, s):
        assert res.details["singleton_groups"] == int((sizes == 1).sum())
        assert res.details["informative_groups"] == int((sizes > 1).sum())
    assert s.details["df"] == int((sizes > 1).sum()) - 1
    # every group a singleton: no within-group variation
    with pytest.raises(NotApplicable):
        turnout_leader_correlation(reg, cast, lead, groups=np.arange(reg.size))
    with pytest.raises(NotApplicable):
        sobyanin_sukhovolsky(reg, cast, lead, groups=np.arange(reg.size))


def test_null_says_whether_stations_are_exchangeable_across_the_scope():
    reg, cast, lead, region, district = clustered_election(2)
    for f in (turnout_leader_correlation, sobyanin_sukhovolsky):
        assert "whole scope" in f(reg, cast, lead).null
        assert "within groups" in f(reg, cast, lead, groups=district).null


def test_sobyanin_variance_option():
    reg, cast, lead, region, district = clustered_election(4)
    a = sobyanin_sukhovolsky(reg, cast, lead, groups=district)
    b = sobyanin_sukhovolsky(reg, cast, lead, groups=district, variance="station")
    assert a.statistic == b.statistic and "df" not in b.details
    # the cluster variance is the sum of squared group contributions
    with pytest.raises(ValueError, match="variance"):
        sobyanin_sukhovolsky(reg, cast, lead, variance="hc3")


def test_dip_within_groups_removes_district_centres_and_drops_singletons():
    from audit.stations.forensics.distributions import turnout_dip

    rng = np.random.default_rng(11)
    reg = rng.integers(500, 2000, 2000)
    district = np.repeat(["low", "high"], 1000)
    rate = np.where(district == "high", 0.9, 0.5)
    cast = rng.binomial(reg, rate)
    # two kinds of district make turnout bimodal across the country ...
    assert turnout_dip(reg, cast).pvalue < 0.01
    # ... but around each district's own centre it is unimodal
    labels = district.astype(object)
    labels[0] = "alone"                     # a district of one station
    res = turnout_dip(reg, cast, groups=labels)
    assert res.pvalue > 0.5 and res.n == 1999
    assert res.details["singleton_groups"] == 1
    assert res.excluded.set_index("position").loc[0, "reason"] == "alone in its group"
    with pytest.raises(NotApplicable):
        turnout_dip(reg[:20], cast[:20], groups=np.arange(20))   # all alone
