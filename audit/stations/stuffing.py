"""Which stations look stuffed: a per-station score under each district's
own clean law.

A station stuffed with ``s`` ballots for the leader shows ``s`` more ballots
cast and ``s`` more leader votes than it would have; its other counts are
unchanged. Given a clean law for a station's counts, the likelihood ratio

.. math:: R_i = \\frac{\\frac{1}{|A|} \\sum_{a \\in A} f_i(c_i - s_a, \\ell_i - s_a)}
                   {f_i(c_i, \\ell_i)}, \\qquad s_a = \\operatorname{round}(a N_i),

over a set ``A`` of amounts (shares ``a`` of the registered voters
``N_i``) says how much better "stuffed by one of these amounts" explains the
station than "clean". Under a two-class model (a share ``pi`` of stations
stuffed) the posterior probability of stuffing is
``pi R / (pi R + 1 - pi)``, with ``pi`` fitted by EM. The ballots added
at a station, if it was stuffed, are the amounts weighted by their
likelihoods; times the posterior, they add up to the ballots the model
expects were stuffed, with a bootstrap interval (stations resampled, the
clean law held fixed).

The clean law is the clean-twin model of the file
(:func:`audit.stations.twin.fit_twin`): within each district, turnout, the
share of invalid ballots and the leader's share of the valid ballots are
logit-normal around the district's robust centre with its own robust spread,
and the counts binomial. Each of these rates is drawn, with chance ``wide``,
from a law of four times the variance (heavy tails), in both hypotheses, so
that a clean station far from its district is not read as stuffed merely
for being far. ``wide`` is chosen by likelihood from :data:`WIDE_GRID`: a
fixed share of heavy tails, where the file has none, absorbs part of the
stuffed stations.

What it is for, and what not: a ranking of stations to look at first (the
question observers ask), built from the file alone. On the mixture model's
validation twins of the Russian files (5% of stations stuffed by 10 points)
the ranking's AUC is within 0.02 of the best any method could reach with
the true model (``benchmarks/mixture_oracle.py``, ``docs/mixture.md``). It
is not a test: a real district is not exactly logit-normal, so on an
honestly counted election some stations still get a high score and ``pi``
comes out above zero (0.9% of stations in Canada 2011, 1% in Poland 2020,
none in the Czech Republic 2018; ``docs/mixture.md``). It also compares
each station with its own district only: ballots added alike across a whole
district are part of that district's clean law to it. A station that
stands out is one to check against its protocol, not a proven case of
fraud.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass

import numpy as np
import pandas as pd

from ..tables.station_table import StationTable
from .forensics._lazy import special
from .forensics._validation import pair_screen
from .twin import TwinModel, fit_twin

#: Amounts stuffed, as shares of the registered voters, that the score
#: averages over (the amount is unknown).
AMOUNTS = (0.02, 0.04, 0.06, 0.08, 0.10, 0.12, 0.15, 0.20, 0.30)
#: Variance factor of the wide (heavy-tailed) part of the clean law.
KAPPA = 4.0
#: Fewest scorable stations the model is fitted on (each district's clean law
#: and the share of stuffed stations are estimated from the file itself).
MIN_STATIONS = 100
#: What the model gave where the truth is known, as measured in
#: ``docs/mixture.md`` (``benchmarks/mixture_oracle.py --clean`` and
#: ``--variants score``); the reports quote them, and tests/test_stuffing.py
#: checks them against that page. Honestly counted elections: the share of
#: stations called stuffed and the ballots "added" over the ballots cast
#: (lowest, highest); stuffed twins: ballots found over ballots added (lowest,
#: highest mean of a file).
HONEST_STATION_SHARE = (0.0, 0.0103)
HONEST_BALLOT_SHARE = (0.0, 0.0013)
FOUND_ON_TWINS = (0.83, 0.92)
#: Shares of clean stations drawn wide that :func:`stuffing_scores` chooses
#: from by likelihood.
WIDE_GRID = (0.0, 0.01, 0.02, 0.05, 0.1, 0.2, 0.3)


def log_mixed_binomial(k, n, centre, sd, nodes, weights):
    """log P(K = k) for K ~ Binomial(n, expit(centre + sd * Z)), Z ~ N(0, 1);
    -inf where k is outside [0, n].

    Adaptive Gauss-Hermite quadrature: the integrand is a narrow peak (the
    binomial pins the rate down far more tightly than the normal law spreads
    it), so the nodes are centred on its mode and scaled by its curvature,
    station by station (``nodes`` and ``weights`` from
    ``numpy.polynomial.hermite_e.hermegauss``, for the weight
    ``exp(-u^2 / 2)``).
    """
    k = np.asarray(k, float)
    n = np.asarray(n, float)
    ok = (k >= 0) & (k <= n)
    ks, ns = np.where(ok, k, 0.0), np.where(ok, n, 0.0)

    def log_h(zz):
        # log of the integrand at points zz (stations x nodes), without the
        # binomial coefficient and the normal constant
        # k log(p) + (n - k) log(1 - p) with p = expit(x), log(1 - p) = log(p) - x
        x = centre[:, None] + sd[:, None] * zz
        return ns[:, None] * -np.logaddexp(0.0, -x) - (ns - ks)[:, None] * x - zz * zz / 2

    # the mode of the integrand, by Newton steps on its log, each station
    # until its own step is below 1e-10 (the rest are left where they are)
    z = np.zeros_like(ks)
    live = np.arange(ks.size)
    c_l, sd_l, k_l, n_l = centre, sd, ks, ns
    for _ in range(60):
        p = 1 / (1 + np.exp(-(c_l + sd_l * z[live])))
        grad = sd_l * (k_l - n_l * p) - z[live]
        curv = sd_l * sd_l * n_l * p * (1 - p) + 1
        step = np.clip(grad / curv, -2.0, 2.0)
        z[live] += step
        moving = np.abs(step) >= 1e-10
        if not moving.any():
            break
        if not moving.all():
            live, c_l, sd_l, k_l, n_l = (a[moving] for a in (live, c_l, sd_l, k_l, n_l))
    p = 1 / (1 + np.exp(-(centre + sd * z)))
    scale = 1 / np.sqrt(sd * sd * ns * p * (1 - p) + 1)
    u = z[:, None] + scale[:, None] * nodes[None, :]
    terms = log_h(u) + (nodes ** 2 / 2 + np.log(weights))[None, :]
    # log of the sum over the nodes, from the largest term (-inf where
    # every term is: a rate the law gives no chance)
    top = terms.max(axis=1)
    with np.errstate(invalid="ignore"):
        total = np.where(np.isfinite(top),
                         top + np.log(np.exp(terms - top[:, None]).sum(axis=1)), top)
    out = (special.gammaln(ns + 1) - special.gammaln(ks + 1) - special.gammaln(ns - ks + 1)
           + total + np.log(scale) - 0.5 * np.log(2 * np.pi))
    return np.where(ok, out, -np.inf)


def _rate_parts(k, n, centre, sd, z, w):
    """log P(k | n) under the logit-normal rate (core) and under the same law
    with KAPPA times the variance (wide): array (2, stations)."""
    return np.stack([log_mixed_binomial(k, n, centre, sd, z, w),
                     log_mixed_binomial(k, n, centre, sd * np.sqrt(KAPPA), z, w)])


def _mix(parts, wide):
    """Log likelihood of stations from per-rate (core, wide) parts (array
    rates x 2 x stations), each rate's law drawn wide with chance ``wide``."""
    if not wide:
        return parts[:, 0].sum(axis=0)
    with np.errstate(invalid="ignore"):
        return np.logaddexp(np.log1p(-wide) + parts[:, 0],
                            np.log(wide) + parts[:, 1]).sum(axis=0)


def _parts_rows(model, rows, reg, inv, c, l, z, w):
    """Per-rate (core, wide) log likelihoods of cast ``c`` and leader ``l`` at
    stations ``rows``: turnout, invalid share (when modelled), leader share."""
    g = model.group[rows]
    i = inv[rows]
    out = [_rate_parts(c, reg[rows], model.turnout.centre[g], model.turnout.sd[g], z, w)]
    if model.invalid is not None:
        out.append(_rate_parts(i, c, model.invalid.centre[g], model.invalid.sd[g], z, w))
    out.append(_rate_parts(l, c - i, model.support.centre[g], model.support.sd[g], z, w))
    return np.stack(out)


def _loglik_rows(model, rows, reg, inv, c, l, z, w, wide=0.0):
    """Clean log likelihood of cast ``c`` and leader ``l`` at stations ``rows``."""
    return _mix(_parts_rows(model, rows, reg, inv, c, l, z, w), wide)


def _counts(model, table):
    d = table.data
    reg = d["registered"].to_numpy(float, na_value=0)
    cast = d["ballots_cast"].to_numpy(float, na_value=0)
    lead = d[model.leader].to_numpy(float, na_value=0)
    if "invalid" in d.columns and model.invalid is not None:
        inv = d["invalid"].to_numpy(float, na_value=0)
    else:
        inv = np.zeros_like(cast)
    return reg, cast, lead, inv


def _capped_sums(model, counts, top, z, w, wides):
    """At the stations at their registered total, which may have been given
    any amount up to the cap: for every amount ``add`` = 1 .. ``top``
    (ballots, per station), the log of the summed likelihoods of the
    amounts 1 .. ``add``, and of those likelihoods times the amount.

    Returns ``(full, blocks)``: ``full`` the stations' positions; ``blocks``
    a list of ``(rows, acc, mean)`` over groups of stations of similar
    ``top`` (positions into ``full``, then arrays wide shares x stations x
    amounts, ``-inf`` past each station's ``top``). Every (station, amount)
    pair is scored in one vector pass per group; the cumulative sums are
    the running ``logaddexp`` a loop over the amounts would give.
    """
    reg, cast, lead, inv = counts
    full = np.flatnonzero((cast >= reg) & (top >= 1))
    blocks = []
    if not full.size:
        return full, blocks
    tops = top[full].astype(np.int64)
    # groups of stations whose largest amount is within a factor of 2, so
    # that padding every row to its group's largest costs at most 2x
    bucket = np.floor(np.log2(tops)).astype(np.int64)
    for b in np.unique(bucket):
        rows = np.flatnonzero(bucket == b)
        width = int(tops[rows].max())
        add = np.arange(1, width + 1)
        inside = add[None, :] <= tops[rows][:, None]          # stations x amounts
        st = np.broadcast_to(full[rows][:, None], inside.shape)[inside]
        ad = np.broadcast_to(add[None, :], inside.shape)[inside].astype(float)
        parts = _parts_rows(model, st, reg, inv, reg[st] - ad, lead[st] - ad, z, w)
        acc = np.full((len(wides),) + inside.shape, -np.inf)
        mean = np.full_like(acc, -np.inf)
        for j, q in enumerate(wides):
            ll = np.full(inside.shape, -np.inf)
            ll[inside] = _mix(parts, q)
            acc[j] = np.logaddexp.accumulate(ll, axis=1)
            mean[j] = np.logaddexp.accumulate(ll + np.log(add)[None, :], axis=1)
        blocks.append((rows, acc, mean))
    return full, blocks


def _stuffed_loglik(model, counts, points, z, w, wide, *, with_added=False, capped=None):
    """Log likelihood of each station's counts if ``round(points *
    registered)`` ballots (capped by the non-voters) had been added for the
    leader to clean counts from ``model``; ``wide`` a number, or a sequence
    of them (then one row per value). ``with_added``: also the ballots
    added, given that amount: the amount itself, or at a station at its
    registered total (where the cap may have cut it) the posterior mean of
    the ballots that fitted under the cap. ``capped``: the
    :func:`_capped_sums` of the same ``wide`` values for a largest amount
    at least this one (computed here when not given)."""
    many = np.ndim(wide) > 0
    wides = tuple(np.atleast_1d(wide).astype(float))
    reg, cast, lead, inv = counts
    s = np.round(points * reg)
    every = np.arange(reg.size)
    with np.errstate(invalid="ignore", divide="ignore"):
        parts = _parts_rows(model, every, reg, inv, cast - s, lead - s, z, w)
        stuffed = np.stack([_mix(parts, q) for q in wides])
        added = np.tile(np.minimum(s, lead), (len(wides), 1))
        # a station at its registered total may have been given any amount
        # from 1 to s (the cap: add = min(s, registered - clean cast))
        full, blocks = capped if capped is not None else _capped_sums(
            model, counts, s, z, w, wides)
        if full.size:
            acc = np.full((len(wides), full.size), -np.inf)
            mean = np.full_like(acc, -np.inf)
            for rows, b_acc, b_mean in blocks:
                stations = full[rows]
                take = s[stations].astype(np.int64)
                on = take >= 1
                idx = np.flatnonzero(on)
                acc[:, rows[idx]] = b_acc[:, idx, take[idx] - 1]
                mean[:, rows[idx]] = b_mean[:, idx, take[idx] - 1]
            stuffed[:, full] = np.where(s[full] >= 1, acc, stuffed[:, full])
            added[:, full] = np.where((s[full] >= 1) & np.isfinite(acc),
                                      np.exp(mean - acc), added[:, full])
    if with_added:
        return (stuffed, added) if many else (stuffed[0], added[0])
    return stuffed if many else stuffed[0]


def _ratio(clean, stuffed):
    with np.errstate(invalid="ignore"):
        return np.where(np.isfinite(clean), stuffed - clean, np.inf)


def stuffing_log_ratio(model: TwinModel, table: StationTable, points: float, *,
                       nodes: int = 10, wide: float = 0.0) -> np.ndarray:
    """log likelihood ratio, station by station, of "stuffed with
    ``round(points * registered)`` ballots for the leader (capped by the
    non-voters)" against "clean", under ``model``'s clean law.

    -inf where that amount cannot have been added (fewer leader votes or
    ballots than the amount); +inf where the clean law gives the station no
    chance at all. A station at its registered total may have been given any
    amount from 1 to the full one (the cap), and is scored with all of them.
    """
    z, w = np.polynomial.hermite_e.hermegauss(int(nodes))
    counts = _counts(model, table)
    reg, cast, lead, inv = counts
    clean = _loglik_rows(model, np.arange(reg.size), reg, inv, cast, lead, z, w, wide)
    return _ratio(clean, _stuffed_loglik(model, counts, points, z, w, wide))


@dataclass(frozen=True)
class StuffingScores:
    """Result of :func:`stuffing_scores`.

    ``table`` has one row per station of the table, in its order:
    ``position`` (row of ``StationTable.data``), the hierarchy labels and
    ``station`` as in the file, ``registered``, ``ballots_cast``,
    ``leader``, ``log_ratio`` (natural log of the likelihood ratio of
    "stuffed, by one of the amounts" (averaged over them) to "clean"; nan
    where the station has no registered voters, no ballots cast or no leader
    count, or reports more ballots than voters or more leader votes than
    ballots), ``p_stuffed`` (posterior probability of the stuffed class;
    nan where ``log_ratio`` is), ``ballots_if_stuffed`` (posterior mean of
    the ballots added, given that the station was stuffed) and
    ``stuffed_ballots`` (``p_stuffed`` times ``ballots_if_stuffed``: the
    ballots the model expects were added).

    ``share`` is the fitted share of stuffed stations and ``share_interval``
    its bootstrap interval; ``amounts`` the amounts (shares of the registered
    voters) averaged over; ``wide`` the chance of a rate's wide law, chosen
    by likelihood from ``profile`` (chance -> maximised log likelihood);
    ``ballots_interval`` the bootstrap
    interval of :attr:`stuffed_ballots` (``level``, ``n_boot`` resamples;
    nan without resamples); ``leader`` the leader's column.

    With ``copies`` (see :func:`stuffing_scores`), ``found_ratios`` holds
    the ballots found over the ballots added in each simulated copy,
    ``corrected`` the ballots found divided by their geometric mean, and
    ``ballots_range`` the range from the bootstrap interval's lower end
    (the stuffing the model sees) to the upper end of the corrected
    interval (with the stuffing it misses in copies like the election);
    nan without copies. ``model`` is the clean law the scores were computed
    under.
    """

    table: pd.DataFrame
    share: float
    iterations: int
    amounts: tuple
    wide: float
    profile: dict | None = None
    share_interval: tuple = (float("nan"), float("nan"))
    ballots_interval: tuple = (float("nan"), float("nan"))
    level: float = 0.95
    n_boot: int = 0
    leader: str = ""
    found_ratios: tuple = ()
    corrected: float = float("nan")
    ballots_range: tuple = (float("nan"), float("nan"))
    model: TwinModel | None = dataclasses.field(default=None, repr=False, compare=False)

    @property
    def stuffed_ballots(self) -> float:
        """Ballots the model expects were added, summed over the stations."""
        return float(np.nansum(self.table["stuffed_ballots"].to_numpy(float)))

    @property
    def ballot_share(self) -> float:
        """:attr:`stuffed_ballots` over the ballots cast in the table (nan
        without ballots)."""
        cast = float(self.table["ballots_cast"].fillna(0).astype(float).sum())
        return self.stuffed_ballots / cast if cast > 0 else float("nan")


def stuffing_scores(table: StationTable, *, leader: str | None = None,
                    model: TwinModel | None = None, amounts=AMOUNTS, wide=None,
                    nodes: int = 10, max_iter: int = 5000, tol: float = 1e-9,
                    n_boot: int = 100, level: float = 0.95, rng=0,
                    refits: int = 1, copies: int = 0) -> StuffingScores:
    """Per-station likelihood ratio and posterior probability of ballot
    stuffing, the share of stuffed stations and the ballots added (see the
    module docstring).

    Parameters
    ----------
    table : StationTable
        Needs registered voters, ballots cast and the leader's votes.
    leader : str, optional
        Leader option (default: most votes).
    model : TwinModel, optional
        The clean law; default :func:`~audit.stations.twin.fit_twin` of
        ``table`` (district centres and spreads estimated robustly from the
        file itself).
    amounts : sequence of float
        Shares of the registered voters that may have been stuffed; the
        stuffed class averages over them (the amount is unknown).
    wide : float, optional
        Share of each rate's clean law drawn with four times the variance
        (heavy tails, in both classes). Default: chosen by likelihood from
        :data:`WIDE_GRID`.
    nodes : int, default 10
        Quadrature points per station (adaptive: 10 and 40 give the same
        ranking to three decimals of the AUC on the validation twins).
    max_iter, tol
        EM for the share of stuffed stations (stops when the log likelihood
        gains less than ``tol`` per station).
    n_boot : int, default 100
        Poisson bootstrap resamples of the stations for the intervals of the
        share and of the ballots added (the clean law and the wide share held
        fixed; 0: no intervals).
    level : float, default 0.95
    rng : seed or Generator
    refits : int, default 1
        When the clean law is fitted from the file (no ``model``): how many
        times to refit it on the file with the expected stuffed ballots taken
        out, and score again. Stuffed stations widen the districts' spreads
        and hide one another; one refit brought the ballots found on a
        validation twin of the 2020 file from 0.78 to 0.83 of those added
        (``docs/mixture.md``).
    copies : int, default 0
        Simulated copies of the election, scored the same way, for the
        ballots the model misses (stuffing by small amounts looks clean, so
        the ballots found fall short of those added). Each copy draws clean
        counts from the fitted clean law, stuffs the fitted share of
        stations, each by an amount drawn from the stations' own posterior
        mean amounts (``ballots_if_stuffed`` over the registered, weighted
        by ``p_stuffed``), capped by the non-voters. The ratio of found to
        added in the copies corrects the total (``corrected``) and widens
        its range (``ballots_range``). Each copy costs a whole fit (about
        12 s on 96,000 stations on the project's machine); 0: none. What it
        gave on the validation twins: ``docs/mixture.md``.

    Raises
    ------
    ValueError
        No registered voters or no ballots cast in the table, fewer than
        :data:`MIN_STATIONS` stations to score, or bad options.

    Examples
    --------
    >>> from audit.stations import simulate
    >>> clean = simulate.clean_election(600, rng=5, n_regions=3)
    >>> rigged = simulate.ballot_stuffing(clean, share=0.1, amount=0.15, rng=2)
    >>> res = stuffing_scores(rigged, n_boot=0)
    >>> altered = rigged.source["altered"]
    >>> bool(res.table.p_stuffed[altered].mean() > 5 * res.table.p_stuffed[~altered].mean())
    True
    """
    if not isinstance(table, StationTable):
        raise TypeError(f"table must be a StationTable, got {type(table).__name__}")
    for col in ("registered", "ballots_cast"):
        if col not in table.data.columns or not table.data[col].notna().any():
            raise ValueError(f"stuffing_scores needs {col!r} counts")
    amounts = tuple(float(a) for a in np.atleast_1d(amounts))
    if not amounts or not all(0 < a < 1 for a in amounts):
        raise ValueError(f"amounts must be shares in (0, 1), got {amounts!r}")
    wides = WIDE_GRID if wide is None else (wide,)
    if not all(0 <= q < 1 for q in wides):
        raise ValueError(f"wide must be in [0, 1), got {wide!r}")
    if int(n_boot) < 0 or not 0 < level < 1:
        raise ValueError(f"n_boot must be >= 0 and level in (0, 1), got {n_boot!r}, {level!r}")
    if int(refits) < 0 or int(copies) < 0:
        raise ValueError(f"refits and copies must be >= 0, got {refits!r}, {copies!r}")
    options = dict(amounts=amounts, wides=wides, nodes=nodes, max_iter=max_iter, tol=tol,
                   n_boot=n_boot, level=level, rng=rng)
    if model is None:
        res = _scores(table, fit_twin(table, leader=leader), **options)
        for _ in range(int(refits)):
            res = _scores(table, fit_twin(_unstuffed(table, res), leader=res.leader),
                          **options)
    else:
        res = _scores(table, model, **options)
    if int(copies) > 0:
        res = _corrected(res, copies=int(copies), fixed=model,
                         again=dict(amounts=amounts, wide=wide, nodes=nodes,
                                    max_iter=max_iter, tol=tol, refits=refits), rng=rng)
    return res


def _amounts_seen(res):
    """The stations' posterior mean amounts (shares of their registered
    voters) and their weights (``p_stuffed``): the law the copies draw from."""
    t = res.table
    reg = t["registered"].to_numpy(float, na_value=np.nan)
    with np.errstate(invalid="ignore", divide="ignore"):
        amount = t["ballots_if_stuffed"].to_numpy(float, na_value=np.nan) / reg
    weight = t["p_stuffed"].to_numpy(float, na_value=np.nan)
    ok = np.isfinite(amount) & (amount > 0) & np.isfinite(weight) & (weight > 0)
    if not ok.any():
        return np.asarray(res.amounts, float), np.full(len(res.amounts), 1 / len(res.amounts))
    return amount[ok], weight[ok] / weight[ok].sum()


def _stuffed_copy(res, amounts, weights, gen):
    """One election drawn from the fitted model of ``res``: clean counts
    from its clean law, then, at a ``share`` of the stations with voters,
    an amount drawn from ``amounts`` (with ``weights``; capped by the
    non-voters) added to the ballots and to the leader. Returns the table
    and the ballots added."""
    copy = res.model.draw(rng=gen)
    data = copy.data
    reg = data["registered"].to_numpy(float, na_value=0)
    cast = data["ballots_cast"].to_numpy(float, na_value=0)
    picked = (gen.random(len(data)) < res.share) & (reg > 0)
    amount = amounts[gen.choice(amounts.size, len(data), p=weights)]
    add = np.where(picked, np.minimum(np.round(amount * reg), reg - cast), 0)
    add = np.maximum(add, 0).astype(np.int64)
    return _add_ballots(copy, res.leader, add), float(add.sum())


def _add_ballots(table, leader, add):
    """``table`` with ``add`` (one whole number per station, negative to take
    out) added to the ballots issued, cast and the leader's votes."""
    data = table.data.copy()
    for col in ("ballots_issued", "ballots_cast", leader):
        if col in data.columns:
            data[col] = data[col] + add
    return dataclasses.replace(table, data=data)


def _corrected(res, *, copies, fixed, again, rng):
    """``res`` with the copies' ratios, the corrected total and its range
    (see :class:`StuffingScores`)."""
    gen = np.random.default_rng(np.random.SeedSequence(
        [int(x) for x in np.random.default_rng(rng).integers(0, 2 ** 32, 2)] + [7]))
    ratios = []
    amounts, weights = _amounts_seen(res)
    for _ in range(copies):
        copy, added = _stuffed_copy(res, amounts, weights, gen)
        found = stuffing_scores(copy, leader=res.leader, model=fixed, n_boot=0,
                                **again).stuffed_ballots
        if added > 0 and found > 0:
            ratios.append(found / added)
    found = res.stuffed_ballots
    if len(ratios) < 2 or not found > 0:
        return dataclasses.replace(res, found_ratios=tuple(ratios))
    d = np.log(ratios)
    z = float(special.ndtri(0.5 + res.level / 2))
    spread = z * float(d.std(ddof=1))
    lo, hi = found * np.exp(-(d.mean() + spread)), found * np.exp(-(d.mean() - spread))
    seen = res.ballots_interval if np.isfinite(res.ballots_interval).all() else (found, found)
    return dataclasses.replace(
        res, found_ratios=tuple(float(r) for r in ratios),
        corrected=float(found * np.exp(-d.mean())),
        ballots_range=(float(min(seen[0], lo)), float(max(seen[1], hi))))


def _unstuffed(table, res):
    """``table`` with the ballots the model expects were stuffed (rounded)
    taken out of the ballots issued, cast and the leader's votes."""
    out = res.table["stuffed_ballots"].to_numpy(float)
    return _add_ballots(table, res.leader, -np.round(np.nan_to_num(out)).astype(np.int64))


def _scores(table, model, *, amounts, wides, nodes, max_iter, tol, n_boot, level, rng):
    d = table.data
    counts = _counts(model, table)
    reg, cast, lead, inv = counts
    # scored: stations with all three counts, voters and ballots, and possible
    # figures (turnout over 100% or more leader votes than ballots are
    # findings of the reader, impossible under either hypothesis)
    present = d[["registered", "ballots_cast", model.leader]].notna().all(axis=1).to_numpy()
    empty, impossible = pair_screen(reg, cast, lead)
    usable = present & ~empty & ~impossible
    if usable.sum() < MIN_STATIONS:
        raise ValueError(f"stuffing_scores needs at least {MIN_STATIONS} stations with "
                         "registered voters, ballots cast and the leader's votes, none above "
                         f"its total; got {int(usable.sum()) or 'none'}")
    z, w = np.polynomial.hermite_e.hermegauss(int(nodes))
    rows = np.flatnonzero(usable)
    parts = _parts_rows(model, np.arange(reg.size), reg, inv, cast, lead, z, w)
    # wide shares x stations (clean) and wide shares x amounts x stations
    clean = np.stack([_mix(parts, q) for q in wides])[:, rows]
    # wide shares x amounts x stations: log likelihood if stuffed by each
    # amount, and the ballots that amount added
    stuffed = np.empty((len(wides), len(amounts), rows.size))
    added = np.empty_like(stuffed)
    # the cap's sums once, for the largest amount (the others are prefixes)
    capped = _capped_sums(model, counts, np.round(max(amounts) * reg), z, w, wides)
    for k, a in enumerate(amounts):
        ll, add = _stuffed_loglik(model, counts, a, z, w, wides, with_added=True,
                                  capped=capped)
        stuffed[:, k], added[:, k] = ll[:, rows], add[:, rows]
    fits, profile = [], {}
    for j, q in enumerate(wides):
        fit = _Fit(clean[j], stuffed[j], max_iter=max_iter, tol=tol)
        fits.append(fit)
        profile[float(q)] = fit.loglik
    best = max(range(len(wides)), key=lambda j: (fits[j].loglik, -j))
    fit = fits[best]
    p = np.full(len(d), np.nan)
    given = np.full(len(d), np.nan)
    log_r = np.full(len(d), np.nan)
    given[rows] = fit.given(added[best])
    p[rows], log_r[rows] = fit.posterior(fit.share), fit.log_ratio
    share_iv = ballots_iv = (float("nan"), float("nan"))
    if int(n_boot) > 0:
        gen = np.random.default_rng(rng)
        boot = np.array([fit.refit(gen.poisson(1.0, rows.size), given[rows])
                         for _ in range(int(n_boot))])
        tail = (1 - level) / 2
        share_iv = tuple(float(v) for v in np.quantile(boot[:, 0], [tail, 1 - tail]))
        ballots_iv = tuple(float(v) for v in np.quantile(boot[:, 1], [tail, 1 - tail]))
    levels = [c for c in ("region", "district", "station") if c in d.columns]
    out = pd.DataFrame({"position": np.arange(len(d))})
    for c in levels:
        out[c] = d[c].to_numpy()
    for c, name in (("registered", "registered"), ("ballots_cast", "ballots_cast"),
                    (model.leader, "leader")):
        out[name] = d[c].to_numpy()
    out["log_ratio"] = log_r
    out["p_stuffed"] = p
    out["ballots_if_stuffed"] = given
    out["stuffed_ballots"] = p * given
    return StuffingScores(table=out, share=fit.share, iterations=fit.iterations,
                          amounts=amounts, wide=float(wides[best]), profile=profile,
                          share_interval=share_iv, ballots_interval=ballots_iv,
                          level=float(level), n_boot=int(n_boot), leader=model.leader,
                          model=model)


class _Fit:
    """EM for the share of stuffed stations, the clean and stuffed
    likelihoods of every station held fixed.

    ``clean``: log likelihood of each station if clean; ``stuffed``: amounts
    x stations, if stuffed by each amount. Computed on a common scale per
    station (its largest likelihood), so each step is two products. The
    amount is unknown: its law is uniform over the amounts (fitting it too
    lets small amounts absorb the skew of a clean district: 3.5% of a clean
    simulated election "stuffed" by 6 points).
    """

    def __init__(self, clean, stuffed, *, max_iter, tol):
        with np.errstate(invalid="ignore"):
            top = np.maximum(clean, stuffed.max(axis=0))
        # a station no law gives any chance is read as stuffed at any amount
        lost = ~np.isfinite(top)
        top = np.where(lost, 0.0, top)
        self.l0 = np.where(lost, 0.0, np.exp(clean - top))
        self.la = np.where(lost, 1.0, np.exp(np.where(np.isnan(stuffed), -np.inf,
                                                      stuffed) - top))
        # the stuffed class's likelihood, averaged over the amounts
        self.mix = self.la.mean(axis=0)
        self.found = ~lost
        self.max_iter, self.tol = int(max_iter), float(tol)
        self.share, self.iterations, ll = self._em(np.ones(clean.size), 0.01)
        self.loglik = ll + float(top[self.found].sum())

    def _em(self, c, pi):
        ll_old, total = -np.inf, c.sum()
        it = 0
        for it in range(1, self.max_iter + 1):
            denom = (1 - pi) * self.l0 + pi * self.mix
            with np.errstate(divide="ignore"):
                ll = float((c * np.log(denom))[self.found].sum())
            pi = float(np.clip(pi * (self.mix @ (c / denom)) / total, 1e-9, 1 - 1e-9))
            if ll - ll_old < self.tol * total:
                break
            ll_old = ll
        return pi, it, ll

    def posterior(self, pi):
        """Per station: probability of the stuffed class at share ``pi``."""
        return pi * self.mix / ((1 - pi) * self.l0 + pi * self.mix)

    @property
    def log_ratio(self):
        """Per station: log of the stuffed likelihood over the clean one."""
        with np.errstate(divide="ignore"):
            return np.log(self.mix) - np.log(self.l0)

    def given(self, added):
        """Per station: ballots added if stuffed (``added``: amounts x
        stations), the amounts weighted by their likelihoods."""
        with np.errstate(invalid="ignore", divide="ignore"):
            return np.where(self.mix > 0, (self.la * added).mean(axis=0) / self.mix, 0.0)

    def refit(self, c, given):
        """(share, ballots added) refitted with station weights ``c``."""
        pi, _, _ = self._em(c, self.share)
        return pi, float((c * self.posterior(pi) * given).sum())
