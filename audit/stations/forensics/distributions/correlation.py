"""Correlation of station turnout with the leader's share, weighted and
optionally within groups (districts or regions).
"""

from __future__ import annotations

import numpy as np
from .._lazy import stats

from ....core.errors import NotApplicable
from ....core.threads import single_threaded_blas
from ...registry import GROUPS, register
from ...result import TestResult, simulated_pvalue
from ._common import (_centre, _check, _check_rng_option, _clean_pairs, _enough,
                      _not_constant)


def _weighted_r(t, s, w, codes=None):
    tc, sc = _centre(t, w, codes), _centre(s, w, codes)
    return float((w * tc * sc).sum() / np.sqrt((w * tc ** 2).sum() * (w * sc ** 2).sum()))


@register("turnout_leader_correlation", family="distribution", min_units=10, cost=10,
          leaves_out=("leader_over_cast", "cast_over_registered"),
          null="leader share does not rise with turnout across stations",
          evidence=False, flag="liberal",
          why="without districts, stations are not exchangeable across a "
              "country of different regions; with them it still rejects honest "
              "elections: Canada 2011 grouped by riding (docs/calibration.md), "
              "and more strongly in ridings won by a wide margin, so not an "
              "artefact of picking each riding's winner: within a district the "
              "leader's voters can simply turn out more",
          variants={"groups": {"groups": GROUPS}})
@single_threaded_blas
def turnout_leader_correlation(registered, ballots_cast, leader, *, weights="registered",
                               method="permutation", n_resamples=999, n_exceed=20,
                               alternative="greater", groups=None, rng=None):
    """Weighted correlation between station turnout and leader share.

    Parameters
    ----------
    registered, ballots_cast, leader : array of int
        Per station: registered voters, ballots cast, the leader's votes.
    weights : {"registered", "none"}
        Station weights of the Pearson correlation.
    method : {"permutation", "fisher"}
        Null distribution: permutations of the leader shares among stations
        (within groups if given; p-value ``(k + 1) / (n_resamples + 1)``),
        or Fisher's :math:`z = \\operatorname{atanh}(r) \\sqrt{n_\\text{eff} - G - 2}`
        with Kish's effective size :math:`n_\\text{eff} = (\\sum w)^2 / \\sum w^2`
        and :math:`G` groups (1 without groups).
    n_resamples : int
        Most permutations.
    n_exceed : int or None, default 20
        Stop permuting once this many permuted correlations are at least as
        extreme as the observed one, with the sequential p-value
        ``n_exceed / L`` after ``L`` permutations (Besag and Clifford 1991);
        ``None`` always runs ``n_resamples``.  Either way the p-value is
        valid (``P(p <= a) <= a`` under the null); stopping early only
        costs precision where the p-value is large.
    alternative : {"greater", "two-sided", "less"}
        ``"greater"`` (default): the leader does better where turnout is
        higher, the direction that ballot stuffing and the transfer of
        non-voters' ballots predict.  No fraud model predicts a negative
        correlation, which is common in clean elections (Poland 2020 and
        Czechia 2018 have within-municipality :math:`r` of -0.41 and
        -0.08); ``"two-sided"`` flags it too.
    groups : array of labels, optional
        Administrative unit of each station; pass the finest one in the
        file (district, territorial commission, municipality).  The
        correlation is then computed within groups (rates centred on their
        group's weighted means) and shares are permuted within groups only,
        so differences between units (urban and rural, ethnic areas) do
        not count as evidence.  A group of one station has centred rates
        0: it contributes nothing to :math:`r` nor to its permutations,
        and is counted in ``details["singleton_groups"]``.
        Without ``groups`` all stations are assumed exchangeable across
        the whole scope (see Notes).
    rng : seed or Generator, optional

    Returns
    -------
    TestResult
        ``statistic`` is the weighted correlation :math:`r`, expected 0;
        ``null`` says whether stations were taken as exchangeable
        within groups or across the whole scope; ``details`` hold
        ``n_groups``, ``singleton_groups`` and ``informative_groups``
        (groups of two or more stations).

    Notes
    -----
    .. math:: r = \\frac{\\sum_i w_i (t_i - \\bar t)(s_i - \\bar s)}
              {\\sqrt{\\sum_i w_i (t_i - \\bar t)^2 \\sum_i w_i (s_i - \\bar s)^2}}

    with turnout :math:`t_i = \\text{cast}_i / \\text{registered}_i`, share
    :math:`s_i = \\text{leader}_i / \\text{cast}_i` and weighted means (group
    means with ``groups``).  Stuffing and the transfer of non-voters'
    ballots raise both together (Myagkov, Ordeshook and Shakin 2009, "The
    Forensics of Election Fraud"; the fingerprints of Klimek et al. 2012).
    The sequential p-value is that of J. Besag and P. Clifford, "Sequential
    Monte Carlo p-values", Biometrika 78(2), 1991, 301-304.

    The permutations run in blocks of growing size (50, 100, 200, ... rows,
    at most about 2 million numbers), in the same order whatever the
    outcome, so a seed gives one answer.  Under the null (p uniform) stopping
    at ``h = n_exceed`` hits takes on average about
    :math:`h (1 + \\ln(B / h))` of the :math:`B` = ``n_resamples``
    permutations (98 of 999 with the defaults).

    Null and clustering.  With ``groups`` the null is that, within each
    group, the stations' leader shares are exchangeable given their
    turnout (e.g. station rates drawn independently around the group's
    centres).  Group effects of any size and any correlation between the
    groups' turnout and support are allowed: they are geography, not
    fraud.  On clean elections simulated with regions, districts and
    station heterogeneity (logit-normal; turnout and support independent
    within districts, correlated 0.7 across districts and regions; a fifth
    of the districts single stations), 200 datasets of about 1,700
    stations gave a rejection rate at 0.05 of 0.045 (``"greater"``) and
    0.035 (two-sided) with ``groups=district``, but 1.0 with
    ``groups=region`` or none: grouping at a coarser level than the one
    where turnout and support co-vary leaves that co-variation in the
    statistic.  Dependence *below* the level passed (e.g. urban and rural
    neighbourhoods of one municipality) makes the test liberal in the same
    way, so pass the finest level available.

    Without ``groups`` the null treats all stations in the scope as
    exchangeable.  A country is a mixture of units whose turnout and
    support differ; even when they are unrelated in law, their realised
    correlation across units is far from 0, and the test rejects on most
    clean simulated elections (``docs/calibration.md``).  This behaviour
    is kept (it is the classic station-level test) but is not evidence.

    Calibration on real data: with ``groups`` = districts it holds its size
    on clean twins of the Russian files, but an honestly counted election
    rejects it (Canada 2011 grouped by riding, where the leader is each
    riding's winner; ``docs/calibration.md``).  Dependence below
    the finest level in the file cannot be removed, so the test is
    registered as descriptive, grouped or not.

    What a correlation can and cannot show.  A positive within-group
    correlation is what stuffing predicts, but legitimate mobilisation
    predicts it too: a popular local candidate or an effective campaign
    raises turnout and support in the same stations.  A small p-value is
    evidence that needs explaining, not proof of fraud; the station-level
    follow-ups (fingerprint, spikes, integer percentages) and the ground
    facts decide between the explanations.

    Examples
    --------
    >>> from audit.stations.simulate import clean_election, ballot_stuffing
    >>> t = ballot_stuffing(clean_election(2000, rng=1), share=0.2, amount=0.1, rng=2)
    >>> d = t.data
    >>> res = turnout_leader_correlation(d.registered.to_numpy(int),
    ...     d.ballots_cast.to_numpy(int), d.leader.to_numpy(int),
    ...     groups=d.region.to_numpy(), rng=3)
    >>> bool(res.statistic > 0 and res.pvalue < 0.01)
    True

    Within regions, stuffed stations have both higher turnout and a higher
    leader share.
    """
    a = _check(registered=registered, ballots_cast=ballots_cast, leader=leader)
    if weights not in ("registered", "none"):
        raise ValueError(f"weights must be 'registered' or 'none', got {weights!r}")
    if method not in ("permutation", "fisher"):
        raise ValueError(f"method must be 'permutation' or 'fisher', got {method!r}")
    if alternative not in ("two-sided", "greater", "less"):
        raise ValueError(f"alternative must be 'two-sided', 'greater' or 'less', "
                         f"got {alternative!r}")
    _check_rng_option("n_resamples", n_resamples)
    if n_exceed is not None:
        _check_rng_option("n_exceed", n_exceed)
    reg, cast, lead, codes, details, excluded = _clean_pairs(a, groups)
    _enough("turnout_leader_correlation", len(reg), 10)
    t, s = cast / reg, lead / cast
    _not_constant("turnout_leader_correlation", t, "turnout")
    _not_constant("turnout_leader_correlation", s, "leader share")
    w = reg if weights == "registered" else np.ones_like(reg)
    tc = _centre(t, w, codes)
    if not (w * tc ** 2).sum() > 0 or not (w * _centre(s, w, codes) ** 2).sum() > 0:
        raise NotApplicable("turnout_leader_correlation: no variation within groups")
    r = _weighted_r(t, s, w, codes)
    n_groups = 1 if codes is None else int(codes.max()) + 1
    n_eff = float(w.sum() ** 2 / (w ** 2).sum())
    if method == "fisher":
        z = np.arctanh(np.clip(r, -1 + 1e-15, 1 - 1e-15)) * np.sqrt(max(n_eff - n_groups - 2, 1))
        p = {"two-sided": 2 * stats.norm.sf(abs(z)), "greater": stats.norm.sf(z),
             "less": stats.norm.cdf(z)}[alternative]
        details.update(z=float(z))
    else:
        rng = np.random.default_rng(rng)
        # work with the stations sorted by group, so that each group is one
        # block of columns whose shares are shuffled among themselves
        n = len(s)
        order = np.arange(n) if codes is None else np.argsort(codes, kind="stable")
        cs = np.zeros(n, np.int64) if codes is None else codes[order]
        starts = np.flatnonzero(np.r_[True, cs[1:] != cs[:-1]])
        blocks = list(zip(starts, np.r_[starts[1:], n]))
        w_s = w[order]
        wtc_s = (w * tc)[order]
        wsum_g = np.add.reduceat(w_s, starts)
        var_t = float((w * tc ** 2).sum())
        # shares re-centred on their (group) weighted mean
        sc_s = _centre(s, w, codes)[order]
        done = k = 0
        p = None
        chunk = max(1, min(n_resamples, 2_000_000 // n))
        # two buffers reused by every block of permutations (fresh arrays
        # of this size cost page faults each time)
        buf_s = np.empty((chunk, n))
        buf_t = np.empty((chunk, n))
        shuffled = [(lo, hi) for lo, hi in blocks if hi - lo > 1]
        eps = 1e-12
        size = 50
        while done < n_resamples:
            m = min(chunk, size, n_resamples - done)
            size *= 2
            S, T = buf_s[:m], buf_t[:m]
            S[...] = sc_s
            for lo, hi in shuffled:
                rng.permuted(S[:, lo:hi], axis=1, out=S[:, lo:hi])
            # turnout is centred within groups (sum of w * tc is 0 in each),
            # so the permuted shares' group means drop out of the numerator;
            # the denominator uses sum w (S - mean)^2 = sum w S^2 - sum W_g mean_g^2
            means = np.add.reduceat(np.multiply(S, w_s, out=T), starts, axis=1) / wsum_g
            var_s = np.multiply(S, S, out=T) @ w_s - (means * means) @ wsum_g
            null = (S @ wtc_s) / np.sqrt(var_t * var_s)
            hit = {"two-sided": np.abs(null) >= abs(r) - eps,
                   "greater": null >= r - eps, "less": null <= r + eps}[alternative]
            total = k + np.cumsum(hit)
            if n_exceed is not None and total[-1] >= n_exceed:
                at = int(np.argmax(total >= n_exceed))      # the n_exceed-th hit
                done += at + 1
                k = int(n_exceed)
                p = k / done
                break
            k, done = int(total[-1]), done + m
        if p is None:
            p = simulated_pvalue(k, n_resamples)
        details.update(permutations=done, exceedances=k, stopped_early=done < n_resamples)
    sizes = np.bincount(codes) if codes is not None else np.array([len(t)])
    details.update(n_eff=n_eff, n_groups=n_groups,
                   singleton_groups=int((sizes == 1).sum()),
                   informative_groups=int((sizes > 1).sum()))
    return TestResult(
        test="turnout_leader_correlation", statistic=r, pvalue=float(p), n=len(t),
        expected=0.0,
        null="leader share is unrelated to turnout"
             + (" within groups (stations exchangeable within each group)"
                if codes is not None else
                " (stations assumed exchangeable across the whole scope)"),
        params={"weights": weights, "method": method, "n_resamples": n_resamples,
                "n_exceed": n_exceed, "alternative": alternative,
                "groups": codes is not None},
        details=details, excluded=excluded)
