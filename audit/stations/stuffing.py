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
``pi R / (pi R + 1 - pi)``, with ``pi`` fitted by EM.

The clean law is the clean-twin model of the file
(:func:`audit.stations.twin.fit_twin`): within each district, turnout, the
share of invalid ballots and the leader's share of the valid ballots are
logit-normal around the district's robust centre with its own robust spread,
and the counts binomial. A share ``wide`` of the stations is drawn with
four times the variance (heavy tails), in both hypotheses, so that a clean
station far from its district is not read as stuffed merely for being far.

What it is for, and what not: a ranking of stations to look at first (the
question observers ask), built from the file alone. On the mixture model's
validation twins of the Russian files (5% of stations stuffed by 10 points)
the ranking's AUC is within 0.02 of the best any method could reach with
the true model (``benchmarks/mixture_oracle.py``, ``docs/mixture.md``). It
is not a test: a real district is not exactly logit-normal, so on an
honestly counted election some stations still get a high score and ``pi``
comes out above zero (0.4% of stations in Canada 2011, 1% in Poland 2020,
none in the Czech Republic 2018; ``docs/mixture.md``). A station that
stands out is one to check against its protocol, not a proven case of
fraud.
"""

from __future__ import annotations

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
        x = centre[:, None] + sd[:, None] * zz
        return (ks[:, None] * -np.logaddexp(0.0, -x)
                + (ns - ks)[:, None] * -np.logaddexp(0.0, x) - zz * zz / 2)

    # the mode of the integrand, by Newton steps on its log
    z = np.zeros_like(ks)
    for _ in range(60):
        p = 1 / (1 + np.exp(-(centre + sd * z)))
        grad = sd * (ks - ns * p) - z
        curv = sd * sd * ns * p * (1 - p) + 1
        step = np.clip(grad / curv, -2.0, 2.0)
        z = z + step
        if not step.size or np.max(np.abs(step)) < 1e-10:
            break
    p = 1 / (1 + np.exp(-(centre + sd * z)))
    scale = 1 / np.sqrt(sd * sd * ns * p * (1 - p) + 1)
    u = z[:, None] + scale[:, None] * nodes[None, :]
    terms = log_h(u) + nodes[None, :] ** 2 / 2 + np.log(weights)[None, :]
    out = (special.gammaln(ns + 1) - special.gammaln(ks + 1) - special.gammaln(ns - ks + 1)
           + special.logsumexp(terms, axis=1) + np.log(scale) - 0.5 * np.log(2 * np.pi))
    return np.where(ok, out, -np.inf)


def _rate(k, n, centre, sd, z, w, wide):
    """log P(k | n) under the logit-normal rate, with a share ``wide`` of
    the stations drawn with KAPPA times the variance."""
    core = log_mixed_binomial(k, n, centre, sd, z, w)
    if not wide:
        return core
    tail = log_mixed_binomial(k, n, centre, sd * np.sqrt(KAPPA), z, w)
    return np.logaddexp(np.log1p(-wide) + core, np.log(wide) + tail)


def _loglik_rows(model, rows, reg, inv, c, l, z, w, wide=0.0):
    """Clean log likelihood of cast ``c`` and leader ``l`` at stations ``rows``."""
    g = model.group[rows]
    i = inv[rows]
    out = _rate(c, reg[rows], model.turnout.centre[g], model.turnout.sd[g], z, w, wide)
    if model.invalid is not None:
        out = out + _rate(i, c, model.invalid.centre[g], model.invalid.sd[g], z, w, wide)
    return out + _rate(l, c - i, model.support.centre[g], model.support.sd[g], z, w, wide)


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


def _stuffed_loglik(model, counts, points, z, w, wide):
    """Log likelihood of each station's counts if ``round(points *
    registered)`` ballots (capped by the non-voters) had been added for the
    leader to clean counts from ``model``."""
    reg, cast, lead, inv = counts
    s = np.round(points * reg)
    every = np.arange(reg.size)
    with np.errstate(invalid="ignore"):
        stuffed = _loglik_rows(model, every, reg, inv, cast - s, lead - s, z, w, wide)
        # a station at its registered total may have been given any amount
        # from 1 to s (the cap: add = min(s, registered - clean cast))
        full = np.flatnonzero((cast >= reg) & (s >= 1))
        if full.size:
            parts = []
            for add in range(1, int(s[full].max()) + 1):
                on = add <= s[full]
                rows = full[on]
                part = np.full(full.size, -np.inf)
                part[on] = _loglik_rows(model, rows, reg, inv, reg[rows] - add,
                                        lead[rows] - add, z, w, wide)
                parts.append(part)
            stuffed[full] = special.logsumexp(np.vstack(parts), axis=0)
    return stuffed


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
    ``leader``, ``log_ratio`` (the averaged likelihood ratio, natural log;
    nan where the station has no registered voters, no ballots cast or no
    leader count, or reports more ballots than voters or more leader votes
    than ballots) and ``p_stuffed`` (posterior probability under the two-class
    model; nan where ``log_ratio`` is). ``share`` is the fitted share of stuffed stations, ``amounts``
    the amounts averaged over.
    """

    table: pd.DataFrame
    share: float
    iterations: int
    amounts: tuple
    wide: float


def stuffing_scores(table: StationTable, *, leader: str | None = None,
                    model: TwinModel | None = None, amounts=AMOUNTS, wide: float = 0.2,
                    nodes: int = 10, max_iter: int = 500, tol: float = 1e-10
                    ) -> StuffingScores:
    """Per-station likelihood ratio and posterior probability of ballot
    stuffing (see the module docstring).

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
        ratio is averaged over them.
    wide : float, default 0.2
        Share of the clean law drawn with four times the variance.
    nodes : int, default 10
        Quadrature points per station (adaptive: 10 and 40 give the same
        ranking to three decimals of the AUC on the validation twins).
    max_iter, tol
        EM for the share of stuffed stations.

    Raises
    ------
    ValueError
        No registered voters or no ballots cast in the table, or bad options.

    Examples
    --------
    >>> from audit.stations import simulate
    >>> clean = simulate.clean_election(600, rng=5, n_regions=3)
    >>> rigged = simulate.ballot_stuffing(clean, share=0.1, amount=0.15, rng=2)
    >>> res = stuffing_scores(rigged)
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
    if not 0 <= wide < 1:
        raise ValueError(f"wide must be in [0, 1), got {wide!r}")
    if model is None:
        model = fit_twin(table, leader=leader)
    d = table.data
    counts = _counts(model, table)
    reg, cast, lead, inv = counts
    # scored: stations with all three counts, voters and ballots, and possible
    # figures (turnout over 100% or more leader votes than ballots are
    # findings of the reader, impossible under either hypothesis)
    present = d[["registered", "ballots_cast", model.leader]].notna().all(axis=1).to_numpy()
    empty, impossible = pair_screen(reg, cast, lead)
    usable = present & ~empty & ~impossible
    if not usable.any():
        raise ValueError("stuffing_scores needs stations with registered voters, ballots "
                         "cast and the leader's votes, none above its total; got none")
    z, w = np.polynomial.hermite_e.hermegauss(int(nodes))
    # the clean likelihood once, the stuffed one for every amount
    clean = _loglik_rows(model, np.arange(reg.size), reg, inv, cast, lead, z, w, wide)
    ratios = np.vstack([_ratio(clean, _stuffed_loglik(model, counts, a, z, w, wide))
                        for a in amounts])
    with np.errstate(invalid="ignore"):
        log_r = special.logsumexp(ratios, axis=0) - np.log(len(amounts))
    log_r = np.where(usable, log_r, np.nan)
    r = log_r[usable]
    # EM for the share of stuffed stations, the two laws held fixed
    pi, it = 0.01, 0
    for it in range(1, int(max_iter) + 1):
        post = _posterior(r, pi)
        new = float(np.clip(post.mean(), 1e-9, 1 - 1e-9))
        done = abs(new - pi) < tol
        pi = new
        if done:
            break
    p = np.full(len(d), np.nan)
    p[usable] = _posterior(r, pi)
    levels = [c for c in ("region", "district", "station") if c in d.columns]
    out = pd.DataFrame({"position": np.arange(len(d))})
    for c in levels:
        out[c] = d[c].to_numpy()
    for c, name in (("registered", "registered"), ("ballots_cast", "ballots_cast"),
                    (model.leader, "leader")):
        out[name] = d[c].to_numpy()
    out["log_ratio"] = log_r
    out["p_stuffed"] = p
    return StuffingScores(table=out, share=pi, iterations=it, amounts=amounts, wide=wide)


def _posterior(log_r, pi):
    """P(stuffed | station) = pi R / (pi R + 1 - pi), computed on the log scale."""
    with np.errstate(over="ignore", invalid="ignore"):
        a = np.log(pi) + log_r
        b = np.log1p(-pi)
        out = np.exp(a - np.logaddexp(a, b))
    out = np.where(np.isposinf(log_r), 1.0, out)
    return np.where(np.isneginf(log_r), 0.0, out)
