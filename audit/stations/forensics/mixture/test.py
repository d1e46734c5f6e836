"""Per-station fraud estimates from a finite-mixture model (after eforensics).

Mebane's *eforensics* model says each polling station is clean, sees
*incremental* fraud (some abstainers' ballots are manufactured for the
leader and some opponents' votes are stolen for him) or *extreme* fraud
(nearly all of them are), and estimates, station by station, the
probability of each class and the manufactured and stolen votes.  The
original is Bayesian and fitted by MCMC; this module fits a model of the
same class by EM on the logit scale, with district centres and spreads
read from the data so that differences between districts are not taken
for fraud, and gets intervals and a p-value from a parametric bootstrap.
The computational core is :mod:`audit.stations.forensics.mixture.model`.
"""

from __future__ import annotations

from concurrent.futures import ProcessPoolExecutor, ThreadPoolExecutor
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from ....core.errors import NotApplicable
from ....core.threads import single_threaded_blas, worker_threads
from ...registry import GROUPS, Calibration, Variant, register
from ...result import TestResult, exclusion_table, simulated_pvalue
from .._validation import (LEADER_OVER, NO_BALLOTS, NO_REGISTERED, OVER_100, as_counts,
                           pair_screen, reason)
from .._order import canonical_order
from . import model as mm

__all__ = ["MixtureResult", "mixture", "mixture_table"]

_NULL = ("no fraud component: every station is clean, its turnout and leader "
         "logits normal (with a wider normal part for the tails) around its "
         "district's centre (parametric bootstrap of the likelihood ratio)")


@dataclass(frozen=True)
class MixtureResult(TestResult):
    """:class:`~audit.result.TestResult` plus the bootstrap replicates.

    ``table`` has one row per station used: ``position`` (index into the
    arrays given), ``group`` and ``station`` labels when given,
    ``registered``, ``ballots_cast``, ``leader``, ``p_clean``,
    ``p_incremental``, ``p_extreme``, ``p_fraud`` (the last two classes
    together), ``manufactured`` and ``stolen`` (expected votes), with
    standard errors ``manufactured_se`` and ``stolen_se`` (spread of the
    posterior over the fraud grid).  The sums of ``manufactured`` and
    ``stolen`` are the national totals of ``details``.
    """

    bootstrap: pd.DataFrame | None = field(default=None, repr=False, compare=False)
    null_statistics: np.ndarray | None = field(default=None, repr=False, compare=False)

    def confidence_interval(self, which: str = "fraud") -> tuple[float, float]:
        """Interval of ``which``: a class share (``'fraud'``,
        ``'incremental'``, ``'extreme'``) or a vote total
        (``'manufactured'``, ``'stolen'``, ``'votes'``: their sum)."""
        keys = {"fraud": "share_fraud", "incremental": "share_incremental",
                "extreme": "share_extreme", "manufactured": "manufactured",
                "stolen": "stolen", "votes": "fraud_votes"}
        if which not in keys:
            raise ValueError(f"which must be one of {', '.join(keys)}, got {which!r}")
        k = keys[which]
        return (self.details[f"{k}_ci_low"], self.details[f"{k}_ci_high"])

    def by_group(self) -> pd.DataFrame:
        """Per-group (district) sums of the per-station table: stations,
        expected fraudulent stations, manufactured and stolen votes, sorted
        by the expected fraudulent votes."""
        t = self.table
        if t is None or "group" not in t.columns:
            raise ValueError("the result has no group labels (call with groups=...)")
        out = t.groupby("group", sort=False).agg(
            stations=("position", "size"), fraud_stations=("p_fraud", "sum"),
            manufactured=("manufactured", "sum"), stolen=("stolen", "sum"),
            leader=("leader", "sum"))
        out["fraud_votes"] = out["manufactured"] + out["stolen"]
        return out.sort_values("fraud_votes", ascending=False)


def _validate(registered, ballots_cast, leader, groups, ids, n_boot, n_null,
              null_iter, max_iter, prior_stations, confidence, min_stations):
    reg = as_counts("registered", registered, missing="keep")
    cast = as_counts("ballots_cast", ballots_cast, reg.size, missing="keep")
    lead = as_counts("leader", leader, reg.size, missing="keep")
    for name, lab in (("groups", groups), ("ids", ids)):
        if lab is not None and np.shape(lab) != (reg.size,):
            raise ValueError(f"{name} must have one label per station ({reg.size}), "
                             f"got shape {np.shape(lab)}")
    for name, val, low in (("n_boot", n_boot, 0), ("n_null", n_null, 0),
                           ("null_iter", null_iter, 1), ("max_iter", max_iter, 1),
                           ("min_stations", min_stations, 10)):
        if int(val) != val or val < low:
            raise ValueError(f"{name} must be an integer >= {low}, got {val!r}")
    if not prior_stations >= 0:
        raise ValueError(f"prior_stations must be >= 0, got {prior_stations!r}")
    if not 0 < confidence < 1:
        raise ValueError(f"confidence must be in (0, 1), got {confidence!r}")
    return reg, cast, lead


def _covariates(covariates, size):
    """Names and (stations, p) float matrix of ``covariates`` (None: none).

    Accepts a DataFrame, a mapping of names to arrays, a 1-d array (one
    covariate) or a 2-d array (columns ``x1``, ``x2``, ...).  Missing
    values are kept as nan (the station is left out); anything that is not
    a number is an error naming the covariate."""
    if covariates is None:
        return [], None
    if isinstance(covariates, pd.DataFrame):
        items = [(str(c), covariates[c]) for c in covariates.columns]
    elif isinstance(covariates, dict):
        items = [(str(k), v) for k, v in covariates.items()]
    else:
        arr = np.asarray(covariates)
        if arr.ndim == 1:
            items = [("covariate", arr)]
        elif arr.ndim == 2:
            items = [(f"x{j + 1}", arr[:, j]) for j in range(arr.shape[1])]
        else:
            raise ValueError(f"covariates must be 1-d or 2-d, got shape {arr.shape}")
    if not items:
        return [], None
    cols = []
    for name, values in items:
        try:
            col = pd.to_numeric(pd.Series(np.asarray(values, dtype=object)),
                                errors="raise").to_numpy(dtype=float)
        except (TypeError, ValueError):
            raise ValueError(f"covariate {name!r} holds values that are not numbers") from None
        if col.shape != (size,):
            raise ValueError(f"covariate {name!r} must have one value per station ({size}), "
                             f"got shape {col.shape}")
        if np.isinf(col).any():
            raise ValueError(f"covariate {name!r} holds infinite values")
        cols.append(col)
    return [n for n, _ in items], np.column_stack(cols)


def _design(cov, names):
    """The design ``[1, standardised covariates]`` of the stations kept and
    each covariate's mean and standard deviation there."""
    if cov is None:
        return None, []
    mean, sd = cov.mean(axis=0), cov.std(axis=0)
    flat = [n for n, s_ in zip(names, sd) if not s_ > 0]
    if flat:
        raise ValueError(f"covariate {flat[0]!r} does not vary across the stations kept")
    return np.column_stack([np.ones(cov.shape[0]), (cov - mean) / sd]), list(zip(mean, sd))


def _summary(data, params, cls):
    """Class shares, manufactured and stolen totals of one fit."""
    probs, made, stolen = mm.posterior(data, params, cls)
    shares = mm.class_shares(params, cls)
    return shares, probs, made, stolen


_WHY_NATIONAL = (
    "called without districts the clean centre is national, so regions that differ "
    "legitimately are read as fraud: simulated clean elections of several regions "
    "reject far above alpha (the size check of tests/test_registry_contract.py); the "
    "battery passes the districts (mixture[groups])")
_WHY_GROUPS = (
    "its null refits are drawn from its own fitted clean law, which clean twins of the "
    "Russian files do not follow: on twins of one file its p-values crowd near 1, on "
    "another near 0, so the p-value has no fixed size on real files (docs/mixture.md, "
    "twenty twins per file); its p-value cannot go below 0.05 with 19 null refits; "
    "read its estimates with their intervals")


@register("mixture", family="model", min_units=100, null=_NULL, evidence=False, cost=300,
          leaves_out=("missing", "leader_over_cast", "cast_over_registered"),
          flag="liberal", why=_WHY_NATIONAL,
          variants={"groups": Variant("groups", {"groups": GROUPS},
                                      Calibration(evidence=False, why=_WHY_GROUPS))},
          calibration_options={"n_boot": 0, "n_null": 19}, max_sims=40, max_twins=1,
          default=False)
@single_threaded_blas
def mixture(registered, ballots_cast, leader, *, groups=None, ids=None, n_boot=29,
            n_null=19, null_iter=15, max_iter=300, prior_stations=2.0,
            confidence=0.95, min_stations=100, covariates=None, rng=None):
    """Finite-mixture estimates of fraud per station (eforensics class, EM fit).

    Parameters
    ----------
    registered, ballots_cast, leader : array_like of int, shape (n,)
        Voters on the list, ballots in the boxes and the leader's votes.
        Abstainers are ``registered - ballots_cast``; "others" are
        ``ballots_cast - leader`` (other options and invalid ballots).
    groups : array_like, shape (n,), optional
        District (or region) of each station.  The clean turnout and leader
        logits are centred on the group's median and scaled by its spread
        (both shrunk toward the national values), so that differences
        between districts are not taken for fraud.  Without groups the
        centre is national, and fraud shared by whole districts counts.
    ids : array_like, shape (n,), optional
        Station labels, copied into the per-station table.
    n_boot : int, default 29
        Parametric-bootstrap elections simulated from the fit and refitted
        (warm start, ``null_iter`` EM steps) for the intervals (0 to skip).
    n_null : int, default 19
        Elections simulated from the clean-only fit for the p-value (0 to
        skip: the p-value is then nan).
    null_iter : int, default 15
        EM steps of the fraud fit behind the likelihood-ratio statistic
        (the same for the data and the null refits) and of the bootstrap
        refits.
    max_iter : int, default 300
        Largest number of EM steps of the main fit (it stops when the
        log-likelihood gains less than 1e-6 per station).
    prior_stations : float, default 2.0
        Weight, in stations, of the national value when a group's centre is
        shrunk toward it (groups of a few stations get centres near the
        national one).  Spreads are shrunk with a weight of 10 stations.
    confidence : float, default 0.95
        Level of the intervals.
    min_stations : int, default 100
        Fewer usable stations raise :class:`~audit.errors.NotApplicable`.
    covariates : DataFrame, dict of arrays or array, optional
        Station covariates of the clean mean (station size, urban or rural,
        an ethnic share...): the clean turnout and leader residuals of a
        station are centred on ``mu + B x`` instead of ``mu``, with ``x``
        its covariates standardised over the stations kept, so that what a
        covariate explains is not taken for fraud.  A station with a
        missing covariate is left out (reason "missing covariate"); a
        covariate that is not numeric, infinite or constant is an error.
        The fitted shifts (per standard deviation of each covariate) are in
        ``details['covariate_<name>_turnout']`` and ``..._leader``.
    rng : None, int or numpy.random.Generator
        Seed; the same seed gives the same numbers.

    Returns
    -------
    MixtureResult
        ``statistic`` = estimated fraction of stations with fraud
        (incremental or extreme); ``pvalue`` = parametric-bootstrap p-value
        :math:`(k + 1)/(B + 1)` of the likelihood ratio against the
        clean-only model (``details['lr']``); ``expected`` = mean
        estimated fraction in the null refits.  ``details`` hold the class
        shares (``share_clean``, ``share_incremental``, ``share_extreme``,
        ``share_fraud``), national ``manufactured`` and ``stolen`` votes
        and their sum ``fraud_votes``, each with ``*_ci_low`` /
        ``*_ci_high``, ``fraud_votes_share`` (of the leader's votes), the
        clean parameters (``mu_*``, ``sd_*``, ``corr``, ``wide_share``),
        ``iterations``, ``groups`` and ``excluded_stations``.  ``table`` is
        the per-station table (see :class:`MixtureResult`).

    Notes
    -----
    Model.  Station :math:`i` has :math:`N_i` voters, :math:`A_i`
    abstainers, :math:`O_i` others' ballots and :math:`W_i` leader votes.
    Its clean logits :math:`x = \\log(V/A)` (turnout) and :math:`y =
    \\log(W/O)` (leader share of ballots), half a vote added to each count,
    are, after subtracting the district centre :math:`c_d` and dividing by
    the district's spread factor :math:`s_d`,

    .. math:: z_i \\sim (1 - q)\\,\\mathcal N(\\mu, \\Sigma + D_i)
              + q\\,\\mathcal N(\\mu, \\kappa(\\Sigma + D_i)),

    with a full :math:`2 \\times 2` covariance :math:`\\Sigma` (a clean
    turnout-support correlation is allowed), binomial noise
    :math:`D_i` (the logit variances :math:`1/(N\\tau(1-\\tau))` and
    :math:`1/(N\\tau\\lambda(1-\\lambda))` at the district centre) and a wide
    part of weight :math:`q` (:math:`\\kappa = 4`) for the heavier tails
    of real elections.  Fraud at :math:`(m, s)` turns :math:`A` into
    :math:`(1 - m)A`, :math:`O` into :math:`(1 - s)O` and adds
    :math:`mA + sO` to :math:`W` (manufactured votes from non-voters,
    stolen votes from opponents, as in eforensics and Klimek et al.).  The
    station's class is a point of a grid: clean :math:`(0, 0)`, incremental
    :math:`m \\in \\{0, .07, .18, .35, .6\\}`, :math:`s \\in \\{0, .1, .3\\}`,
    extreme :math:`m \\in \\{.98, .998, .9998\\}`, :math:`s \\in \\{0,
    .97\\}`, with weights estimated freely (a nonparametric mixing law of
    the fraud intensities).  The map from clean to observed counts is one
    to one, so the likelihood of a station at a grid point is the clean
    density of the inverted counts times the Jacobian :math:`W / W_0`.

    Fit.  EM with the binomial noise treated as measurement error (exact
    M-step for :math:`\\mu, \\Sigma`); grid points whose weight falls below
    1e-6 are dropped.  The clean-only fit starts from medians and MADs; the
    fraud fit from it with 2% incremental and 0.2% extreme weight.  Per
    station: posterior class probabilities and expected manufactured
    (:math:`m A_0`) and stolen (:math:`s O_0`) votes.

    Test and intervals.  :math:`LR = 2(\\ell_{fraud} - \\ell_{clean})`, the
    fraud fit taken after ``null_iter`` EM steps, is compared with its
    values on ``n_null`` elections simulated from the clean fit (every
    station keeps its size and district centre; the simulation redraws the
    counts and the refit re-estimates centres, spreads and all parameters).
    For the intervals ``n_boot`` elections are simulated from the fraud fit
    with known manufactured and stolen votes; the errors of the refits
    (estimate minus simulated truth) give a bias-corrected normal interval
    :math:`\\hat\\theta - \\bar e \\pm z\\,\\mathrm{sd}(e)`, clipped at 0;
    when the test does not reject at level ``1 - confidence`` the lower
    ends of the fraud shares and vote totals are set to 0 (the data do not
    exclude no fraud).

    Stations left out: a missing count or group, no registered voters or
    no ballots, turnout above 100% or more leader votes than ballots; they
    are counted in ``details['excluded_stations']`` and listed with their
    reason in ``excluded``, and the result is that of the other stations.

    Departures from eforensics: EM, not MCMC; covariates enter the clean
    mean only (not the fraud probabilities); fraud
    intensities on a grid instead of logit-normal laws; the clean law is a
    normal scale mixture on the logit scale around district centres rather
    than binomial-logit with a national mean; the wide clean part and the
    district centring make it slower to call fraud than the original.
    Fraud shared by all stations of a district moves the district's centre
    and is not counted (use ``groups=None`` to count it, at the price of
    false alarms where districts differ legitimately).

    Calibration: descriptive.  On twenty clean twins of each Russian file
    (the real-data calibration's own twins) the likelihood ratio sits below
    its null refits for 2020 and 2024 and above them for 2021, and the
    refits' ratios have heavier right tails than a normal law: the fitted
    clean law is not the law of real clean files, so the p-value's size
    depends on the file (docs/mixture.md, ``benchmarks/mixture_size.py``).

    References
    ----------
    .. [1] D. Ferrari, K. McAlister and W. R. Mebane Jr., "Developments in
       Positive Empirical Models of Election Frauds: Dimensions and
       Decisions", Summer Meeting of the Political Methodology Society, 2018
       (the eforensics model).
    .. [2] P. Klimek, Y. Yegorov, R. Hanel and S. Thurner, "Statistical
       detection of systematic election irregularities", PNAS 109(41), 2012.

    Examples
    --------
    A clean election of 3,000 stations in 30 districts, then ballots for the
    leader stuffed in 10% of them:

    >>> import numpy as np
    >>> from audit.simulate import clean_election, ballot_stuffing
    >>> c = ballot_stuffing(clean_election(3000, rng=0), share=0.1, amount=0.15, rng=1)
    >>> d = c.data
    >>> res = mixture(d.registered, d.ballots_cast, d.leader, groups=d.region,
    ...               n_boot=5, n_null=9, rng=2)
    >>> bool(res.pvalue <= 0.1), bool(res.details["manufactured"] > 0)
    (True, True)

    The fraud component is needed (no clean refit matches the likelihood
    gain) and it is made of manufactured votes, as the stuffing was.
    """
    reg, cast, lead = _validate(registered, ballots_cast, leader, groups, ids, n_boot,
                                n_null, null_iter, max_iter, prior_stations,
                                confidence, min_stations)
    cov_names, cov = _covariates(covariates, reg.size)
    gen = np.random.default_rng(rng)
    missing = ~(np.isfinite(reg) & np.isfinite(cast) & np.isfinite(lead))
    if groups is not None:
        g_arr = pd.Series(np.asarray(groups, dtype=object))
        missing |= g_arr.isna().to_numpy()
    no_cov = (np.isnan(cov).any(axis=1) & ~missing if cov is not None
              else np.zeros(reg.size, bool))
    empty, bad = (~missing & ~no_cov & mask for mask in pair_screen(reg, cast, lead))
    ok = ~(missing | no_cov | empty | bad)
    excluded = exclusion_table({
        "missing count or group": missing,
        "missing covariate": no_cov,
        reason(NO_REGISTERED, NO_BALLOTS): empty,
        reason(OVER_100, LEADER_OVER): bad})
    if ok.sum() < min_stations:
        raise NotApplicable(f"mixture needs at least {min_stations} stations with "
                            f"registered voters, ballots cast and complete counts, "
                            f"got {int(ok.sum())}")
    pos = np.flatnonzero(ok)
    n, v, w = reg[ok], cast[ok], lead[ok]
    if groups is not None:
        labels = np.asarray(groups, dtype=object)[ok].astype(str)
        uniq, codes = np.unique(labels, return_inverse=True)
        codes = codes.ravel()
    else:
        labels, uniq, codes = None, np.array(["all"]), np.zeros(n.size, np.int64)
    # canonical station order (group, registered, ballots, leader): the fit's
    # sums and the simulated elections, drawn station by station, then do not
    # depend on the order of the rows; stations that tie are identical to
    # the model.  The per-station table is put back in the order given.
    if cov is not None:
        cov = cov[ok]
    order = canonical_order([codes, n, v, w] + ([] if cov is None else list(cov.T)))
    pos, n, v, w, codes = pos[order], n[order], v[order], w[order], codes[order]
    if labels is not None:
        labels = labels[order]
    design, cov_scale = _design(None if cov is None else cov[order], cov_names)
    n_groups = int(uniq.size)
    grid = mm.fraud_grid()
    cls = grid[2]

    def prepared(vv, ww):
        return mm.prepare(n, vv, ww, codes, n_groups, float(prior_stations), grid,
                          X=design)

    def fit_pair(data, start=None):
        # the clean fit runs to convergence from robust starting values, or,
        # for an election simulated from a clean fit, from that fit (the same
        # maximum, reached in fewer steps)
        if start is None:
            start = mm.initial_clean(data, cls.size)
        clean, ll0, _ = mm.fit(data, start, fraud=False, max_iter=max_iter)
        rec = {"at": int(null_iter)}
        return clean, ll0, rec, mm.start_fraud(clean, cls, 0.02, 0.002)

    data = prepared(v, w)
    clean, ll0, rec, start = fit_pair(data)
    n_boot, n_null = int(n_boot), int(n_null)
    boot_root, null_root = np.random.SeedSequence(
        [int(x) for x in gen.integers(0, 2 ** 63, size=4)]).spawn(2)

    def refit(job):
        kind, seed, model = job
        g = np.random.default_rng(seed)
        vv, ww, mk, st, point = mm.simulate(n, data, model, grid, g)
        d = prepared(vv, ww)
        if kind == "boot":
            p, _, _ = mm.fit(d, model, max_iter=int(null_iter))
            sh, _, md, sl = _summary(d, p, cls)
            true = np.bincount(cls[point], minlength=3) / point.size
            return (sh[1], sh[2], md[0].sum(), sl[0].sum(),
                    true[1], true[2], float(mk.sum()), float(st.sum()))
        c, l0, r, s0 = fit_pair(d, clean)
        p, _, _ = mm.fit(d, s0, max_iter=int(null_iter), record=r)
        return (2 * (r["loglik"] - l0), float(1 - mm.class_shares(p, cls)[0]))

    null_jobs = [("null", s, clean) for s in null_root.spawn(n_null)]
    boot_seeds = boot_root.spawn(n_boot)
    workers = min(worker_threads(), n_null + n_boot)
    if workers <= 1:
        full, ll1, iters = mm.fit(data, start, max_iter=max_iter, record=rec)
        out_null = [refit(j) for j in null_jobs]
        out_boot = [refit(("boot", s, full)) for s in boot_seeds]
    else:
        # the null elections need only the clean fit: they run while this
        # process fits the fraud model; the bootstrap follows from that fit.
        # Forked processes where the platform has them (threads share one
        # interpreter and the memory bus, and did the same work at 3/4 of
        # the speed), else threads; the numbers are the same either way.
        ex = _refit_executor(workers, refit)
        try:
            pending = [ex.submit(_run_refit, j) for j in null_jobs]
            full, ll1, iters = mm.fit(data, start, max_iter=max_iter, record=rec)
            pending += [ex.submit(_run_refit, ("boot", s, full)) for s in boot_seeds]
            done = [f.result() for f in pending]
        finally:
            ex.shutdown(wait=True, cancel_futures=True)
            _REFIT.clear()
        out_null, out_boot = done[:n_null], done[n_null:]
    lr = 2 * (rec["loglik"] - ll0)
    shares, probs, made, stolen = _summary(data, full, cls)
    boot = np.array(out_boot, dtype=float).reshape(-1, 8)
    null = np.array(out_null, dtype=float).reshape(-1, 2)
    if null.size:
        pvalue = simulated_pvalue(int(np.sum(null[:, 0] >= lr)), null.shape[0])
        expected = float(null[:, 1].mean())
    else:
        pvalue = expected = float("nan")
    return _result(n=n, v=v, w=w, pos=pos, labels=labels, ids=ids, ok=ok, data=data,
                   ll0=ll0, ll1=ll1, full=full, clean=clean, shares=shares, probs=probs, made=made,
                   stolen=stolen, boot=boot, null=null, lr=lr, pvalue=pvalue,
                   expected=expected, iters=iters, n_groups=n_groups,
                   confidence=confidence, excluded=excluded, grid=grid,
                   params={"n_boot": n_boot, "n_null": n_null,
                           "null_iter": int(null_iter), "max_iter": int(max_iter),
                           "prior_stations": float(prior_stations),
                           "confidence": confidence, "min_stations": int(min_stations),
                           "grouped": groups is not None, "covariates": cov_names},
                   covariates=list(zip(cov_names, cov_scale)))


_BOOT_COLUMNS = ("share_incremental", "share_extreme", "manufactured", "stolen",
                 "true_incremental", "true_extreme", "true_manufactured", "true_stolen")


#: The refit function of the running fit, for the forked refit processes
#: (inherited through fork, never pickled; the jobs carry only a seed and
#: the model to simulate from).
_REFIT: dict = {}


def _run_refit(job):
    return _REFIT["refit"](job)


def _refit_executor(workers: int, refit):
    """An executor for the refits: forked processes that inherit ``refit``
    (and the prepared data it closes over), or threads where processes
    cannot be forked."""
    import multiprocessing

    _REFIT["refit"] = refit
    if "fork" in multiprocessing.get_all_start_methods():
        return ProcessPoolExecutor(workers, mp_context=multiprocessing.get_context("fork"))
    return ThreadPoolExecutor(workers)


def _interval(est, errors, confidence, zero_ok):
    """Bias-corrected normal interval from bootstrap errors, clipped at 0;
    the lower end is 0 when ``zero_ok`` (the test does not reject)."""
    if errors.size < 2:
        return (float("nan"), float("nan"))
    from scipy.stats import norm

    z = norm.ppf(0.5 + confidence / 2)
    centre = est - errors.mean()
    half = z * errors.std(ddof=1)
    lo, hi = max(centre - half, 0.0), max(centre + half, 0.0)
    if zero_ok:
        lo = 0.0
    return (float(lo), float(max(hi, est if zero_ok else hi)))


def _result(*, n, v, w, pos, labels, ids, ok, data, ll0, ll1, full, clean, shares, probs, made,
            stolen, boot, null, lr, pvalue, expected, iters, n_groups, confidence,
            excluded, grid, params, covariates=()):
    made_mean, made_sd = made
    stolen_mean, stolen_sd = stolen
    zero_ok = not (pvalue <= 1 - confidence)
    est = {"share_incremental": float(shares[1]), "share_extreme": float(shares[2]),
           "share_fraud": float(shares[1] + shares[2]),
           "manufactured": float(made_mean.sum()), "stolen": float(stolen_mean.sum())}
    est["fraud_votes"] = est["manufactured"] + est["stolen"]
    details = {"share_clean": float(shares[0]), **est}
    if boot.shape[0]:
        b = pd.DataFrame(boot, columns=list(_BOOT_COLUMNS))
        errs = {"share_incremental": b.share_incremental - b.true_incremental,
                "share_extreme": b.share_extreme - b.true_extreme,
                "share_fraud": (b.share_incremental + b.share_extreme
                                - b.true_incremental - b.true_extreme),
                "manufactured": b.manufactured - b.true_manufactured,
                "stolen": b.stolen - b.true_stolen,
                "fraud_votes": (b.manufactured + b.stolen - b.true_manufactured
                                - b.true_stolen)}
    else:
        b, errs = None, {k: np.zeros(0) for k in est}
    for key, value in est.items():
        lo, hi = _interval(value, np.asarray(errs[key], float), confidence, zero_ok)
        details[f"{key}_ci_low"], details[f"{key}_ci_high"] = lo, hi
    total = float(w.sum())
    details["fraud_votes_share"] = est["fraud_votes"] / total if total else float("nan")
    sd = np.sqrt(np.diag(full.sigma))
    details.update({
        "lr": float(lr), "lr_converged": float(2 * (ll1 - ll0)), "pvalue_simulated": float(pvalue),
        "null_lr_mean": float(null[:, 0].mean()) if null.size else float("nan"),
        "mu_turnout": float(full.beta[0, 0]), "mu_leader": float(full.beta[0, 1]),
        "sd_turnout": float(sd[0]), "sd_leader": float(sd[1]),
        "corr": float(full.sigma[0, 1] / (sd[0] * sd[1])), "wide_share": float(full.q),
        "outlier_share": float(full.u),
        # clean-mean shift per standard deviation of each covariate, in the
        # district-scaled logit residuals (turnout, leader share)
        **{f"covariate_{name}_{axis}": float(full.beta[j + 1, k])
           for j, (name, _) in enumerate(covariates)
           for k, axis in enumerate(("turnout", "leader"))},
        **{f"covariate_{name}_{what}": float(val)
           for name, (mean, sd) in covariates
           for what, val in (("mean", mean), ("sd", sd))},
        "iterations": int(iters), "groups": int(n_groups) if labels is not None else 0,
        "excluded_stations": int((~ok).sum()), "leader_total": total,
        "confidence": confidence})
    table = pd.DataFrame({"position": pos})
    if labels is not None:
        table["group"] = labels
    if ids is not None:
        table["station"] = np.asarray(ids, dtype=object)[pos]
    table["registered"] = n.astype(np.int64)
    table["ballots_cast"] = v.astype(np.int64)
    table["leader"] = w.astype(np.int64)
    table["p_clean"] = probs[:, 0]
    table["p_incremental"] = probs[:, 1]
    table["p_extreme"] = probs[:, 2]
    table["p_fraud"] = probs[:, 1] + probs[:, 2]
    table["manufactured"] = made_mean
    table["manufactured_se"] = made_sd
    table["stolen"] = stolen_mean
    table["stolen_se"] = stolen_sd
    table = table.iloc[np.argsort(pos, kind="stable")].reset_index(drop=True)
    return MixtureResult(
        test="mixture", statistic=est["share_fraud"], pvalue=float(pvalue),
        n=int(n.size), expected=expected, null=_NULL, params=params, details=details,
        table=table, excluded=excluded, bootstrap=b,
        null_statistics=null[:, 0] if null.size else np.zeros(0))


def mixture_table(table, *, leader: str | None = None, level: str | None = None,
                  covariates=None, **options) -> MixtureResult:
    """:func:`mixture` on a :class:`~audit.canonical.StationTable`, with the
    finest hierarchy level as groups (or ``level``) and the region /
    district / station labels as ``ids`` (``"region / district /
    station"``), so that a report can rank stations and districts.

    ``level=""`` fits without groups (a national centre).  ``covariates``
    names columns of the table to pass as :func:`mixture`'s covariates.
    """
    from ...binding import nested_labels
    from ...registry import finest_level

    data = table.data
    lead = table.leader_column(leader)
    if level is None:
        level = finest_level(data)
    groups = nested_labels(data, level) if level else None
    ids = nested_labels(data, "station") if "station" in data.columns else None

    def col(c):
        return data[c].to_numpy(dtype=float, na_value=np.nan)

    cov = None
    if covariates:
        names = [covariates] if isinstance(covariates, str) else list(covariates)
        unknown = [c for c in names if c not in data.columns]
        if unknown:
            raise ValueError(f"covariate {unknown[0]!r} is not a column of the table; "
                             "columns are: " + ", ".join(map(str, data.columns)))
        cov = data[names].reset_index(drop=True)
    return mixture(col("registered"), col("ballots_cast"), col(lead), groups=groups,
                   ids=ids, covariates=cov, **options)
