"""Spikes of coarse vote shares: Rozenas' resampled kernel density test.

Officials who write results instead of counting them tend to write round
shares (50%, 60%, 2/3, 3/4). Round shares also occur by arithmetic alone,
far more often at small stations (1 of 2 voters is exactly 50%), so their
raw frequency proves nothing. Rozenas (2017) compares the observed shares
with *resampled* ones: each station's count is redrawn with its own
denominator around a share drawn from a smooth law (a mixture of beta laws
fitted to all stations), which keeps the arithmetic chance of a round share
but breaks any deliberate rounding. Where the kernel density of the observed
shares rises above every resampled density, the excess of observed stations
over the resampled mean is the estimated share of "spike" stations.

Two methods share one entry point, :func:`spikes`: ``method="rkd"`` (the
default, the resampled kernel density of the paper and of its R package
``spikes``) and ``method="exact"`` (the earlier exact beta-binomial count at
the focal shares, kept so that results computed with it can be redone).
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass, field
from fractions import Fraction
from typing import NamedTuple

import numpy as np
import pandas as pd
from scipy import optimize, sparse, special

from .._threads import map_threads, single_threaded_blas
from ..errors import NotApplicable
from ..registry import register
from ..result import TestResult, exclusion_table, simulated_pvalue
from ._validation import as_counts
from .integer_percentages import poisson_binomial_sf

__all__ = [
    "BetaBinomialMixture",
    "SpikeResult",
    "beta_prior",
    "coarse_shares",
    "fit_beta_binomial_mixture",
    "hit_probability",
    "spikes",
]

_NULL = ("each station's leader count is a binomial draw around a share from a "
         "smooth law (a fitted mixture of beta laws), so no share is reported more "
         "often than arithmetic with the station's own denominator makes it "
         "(resampled kernel density, Rozenas 2017)")
_NULL_EXACT = ("each station's leader count is a binomial draw around a share from a "
               "smooth (beta) law, so focal (round) shares occur only as often as "
               "arithmetic makes them (exact Poisson-binomial law of their count)")
_METHODS = ("rkd", "exact")


def coarse_shares(max_denominator: int = 20, *, step: float | None = 0.05) -> np.ndarray:
    """Default focal shares: fractions p/q (q <= ``max_denominator`` of the
    simple ones 2, 3, 4) and multiples of ``step``, strictly inside (0, 1).

    With the defaults: every multiple of 5% plus 1/3 and 2/3 (21 values).

    Examples
    --------
    >>> coarse_shares()[:4].round(4).tolist()
    [0.05, 0.1, 0.15, 0.2]
    >>> len(coarse_shares())
    21
    """
    vals = set()
    for q in (2, 3, 4):
        if q <= max_denominator:
            vals.update(Fraction(p, q) for p in range(1, q))
    if step is not None:
        m = round(1 / step)
        vals.update(Fraction(k, m) for k in range(1, m))
    return np.array(sorted(float(v) for v in vals))


@dataclass(frozen=True)
class SpikeResult(TestResult):
    """:class:`~audit.result.TestResult` plus the per-focal-share table.

    ``table`` holds the share grid behind the plot (``share_lo``,
    ``share_hi``, ``observed``, ``resampled``: mean count over resamples;
    with ``method="rkd"`` also ``kde_observed``, ``kde_envelope`` and
    ``flagged``, see :func:`spikes`); ``focal_table`` one row per focal
    share (``focal``, ``observed``, ``expected``, ``excess``).
    """

    focal_table: pd.DataFrame | None = field(default=None, repr=False, compare=False)

    def confidence_interval(self) -> tuple[float, float]:
        """Bootstrap percentile interval of the share of spike stations
        (level ``details["confidence"]``)."""
        return (self.details["ci_low"], self.details["ci_high"])


def _counts(name, x, n=None):
    return as_counts(name, x, n, whole=True)


def _validate(ballots_cast, leader, focal, halfwidth, min_ballots, n_resamples,
              n_boot, confidence, bin_width, method, bandwidth, max_components,
              max_fit):
    if method not in _METHODS:
        raise ValueError(f"method must be 'rkd' or 'exact', got {method!r}")
    n_i = _counts("ballots_cast", ballots_cast)
    w_i = _counts("leader", leader, n_i.size)
    foc = coarse_shares() if focal is None else np.sort(np.asarray(focal, dtype=float))
    if foc.ndim != 1 or foc.size == 0 or np.any((foc <= 0) | (foc >= 1)):
        raise ValueError(f"focal must be shares strictly between 0 and 1, got {focal!r}")
    if not 0 < halfwidth < 0.01:
        raise ValueError(f"halfwidth must be in (0, 0.01), got {halfwidth!r}")
    if foc.size > 1 and np.min(np.diff(foc)) <= 2 * halfwidth:
        raise ValueError("focal shares must be more than 2 * halfwidth apart "
                         f"(closest pair {np.min(np.diff(foc)):.4g} apart)")
    if int(min_ballots) != min_ballots or min_ballots < 1:
        raise ValueError(f"min_ballots must be a positive integer, got {min_ballots!r}")
    if method == "exact" and n_resamples is not None:
        raise ValueError("n_resamples applies to method='rkd' only: the exact method "
                         "computes the law of its focal count exactly")
    checked = (("max_components", max_components), ("max_fit", max_fit))
    if method == "rkd":
        checked = (("n_resamples", n_resamples), *checked)
    for name, val in checked:
        if int(val) != val or val < 1:
            raise ValueError(f"{name} must be a positive integer, got {val!r}")
    if int(n_boot) != n_boot or n_boot < 0:
        raise ValueError(f"n_boot must be a non-negative integer, got {n_boot!r}")
    if method == "rkd" and n_resamples < 19:
        raise ValueError(f"n_resamples must be at least 19 for method='rkd', "
                         f"got {n_resamples!r}")
    if not 0 < confidence < 1:
        raise ValueError(f"confidence must be in (0, 1), got {confidence!r}")
    if not 0 < bin_width <= 0.05:
        raise ValueError(f"bin_width must be in (0, 0.05], got {bin_width!r}")
    if method == "rkd" and abs(1 / bin_width - round(1 / bin_width)) > 1e-6:
        raise ValueError(f"bin_width must divide 1 for method='rkd', got {bin_width!r}")
    if not 0 < bandwidth <= 0.05:
        raise ValueError(f"bandwidth must be in (0, 0.05], got {bandwidth!r}")
    return n_i, w_i, foc


def _window(n, focal, halfwidth):
    """Integer counts k with |k/n - c| <= halfwidth, as bounds (lo, hi)."""
    eps = 1e-9
    lo = np.ceil(n[:, None] * (focal[None, :] - halfwidth) - eps)
    hi = np.floor(n[:, None] * (focal[None, :] + halfwidth) + eps)
    return lo, hi


def beta_prior(n, w):
    """Beta(a, b) law of the true shares fitted by moments to all stations.

    The variance of observed shares is the variance of the true shares plus
    binomial noise, :math:`\\mathrm{Var}(s) = V + (m(1-m) - V)\\,
    \\overline{1/n}`; solving for :math:`V` and matching a beta law with
    mean :math:`m` and variance :math:`V` gives :math:`a + b = m(1-m)/V - 1`.

    Examples
    --------
    >>> g = np.random.default_rng(0)
    >>> n = np.full(20000, 400)
    >>> a, b = beta_prior(n, g.binomial(n, g.beta(12, 8, 20000)))
    >>> round(float(a / (a + b)), 2), bool(15 < a + b < 25)
    (0.6, True)
    """
    n = np.asarray(n, dtype=float)
    s = np.asarray(w, dtype=float) / n
    m = float(np.clip(s.mean(), 1e-6, 1 - 1e-6))
    inv = float(np.mean(1 / n))
    v = (s.var() - m * (1 - m) * inv) / (1 - inv) if inv < 1 else 0.0
    v = min(max(v, m * (1 - m) * 1e-6), m * (1 - m) * 0.999)
    total = m * (1 - m) / v - 1
    return float(m * total), float((1 - m) * total)


def hit_probability(n, a, b, focal, halfwidth):
    """Probability that K / n lies within ``halfwidth`` of a focal share when
    K ~ BetaBinomial(n, a, b), for each station (rows) and focal share
    (columns). Exact: the beta-binomial mass summed over the integers of
    each window. Large ``a + b`` gives the binomial with p = a / (a + b).

    Examples
    --------
    With a = b = 1 the count is uniform on 0..n, so a station of 4 ballots
    hits exactly 1/2 with probability 1/5:

    >>> hit_probability(np.array([4.0]), np.array([1.0]), np.array([1.0]),
    ...                 np.array([0.5]), 0.001).round(6)
    array([[0.2]])
    """
    n = np.asarray(n, dtype=float)[:, None]
    a = np.asarray(a, dtype=float)[:, None]
    b = np.asarray(b, dtype=float)[:, None]
    lo, hi = _window(n[:, 0], focal, halfwidth)
    lo = np.maximum(lo, 0)
    hi = np.minimum(hi, n)
    # the terms of the mass that depend on the station alone, once each
    n, a, b = np.broadcast_arrays(n, a, b)
    n, a, b = n[:, 0], a[:, 0], b[:, 0]
    log_norm = special.gammaln(n + 1)
    log_beta = special.betaln(a, b)
    prob = np.zeros(lo.shape)
    flat = prob.reshape(-1)
    # sum the mass over each window's integers, one integer at a time,
    # following only the windows that still have integers left
    live = np.flatnonzero(lo <= hi)
    station = live // lo.shape[1]
    k = lo.reshape(-1)[live]
    top = hi.reshape(-1)[live]
    while live.size:
        nn, aa, bb = n[station], a[station], b[station]
        flat[live] += np.exp(log_norm[station] - special.gammaln(k + 1)
                             - special.gammaln(nn - k + 1)
                             + special.betaln(k + aa, nn - k + bb) - log_beta[station])
        k = k + 1
        more = k <= top
        live, station, k, top = live[more], station[more], k[more], top[more]
    return np.clip(prob, 0.0, 1.0)




# ------------------------------------------------------------ mixture null
class BetaBinomialMixture(NamedTuple):
    """Mixture of beta laws of the true shares: weights, shapes ``a``, ``b``."""

    weight: np.ndarray
    a: np.ndarray
    b: np.ndarray

    def log_membership(self, n, w):
        """Log posterior probability of each component for each station,
        shape (stations, components)."""
        n = np.asarray(n, dtype=float)
        w = np.asarray(w, dtype=float)
        comp = _bb_kernel(w, n, self.a, self.b) + np.log(self.weight)
        return comp - _logsumexp_rows(comp)[:, None]


def _bb_kernel(w, n, a, b):
    """Beta-binomial log mass without the binomial coefficient (the same for
    every component), shape (stations, components)."""
    return (special.betaln(w[:, None] + a, (n - w)[:, None] + b)
            - special.betaln(a, b))


def _logsumexp_rows(x, axis=-1):
    """``scipy.special.logsumexp(x, axis=axis)`` for fewer than 8 terms,
    computed with the same floating-point operations (hence the same bits)
    without its per-call overhead: the largest term is taken out of the
    sum, ties counted, ``log1p(rest / ties) + log(ties) + max``."""
    x = np.moveaxis(np.asarray(x, dtype=float), axis, 0)
    if x.shape[0] >= 8:  # numpy sums 8 or more terms pairwise: let scipy do it
        return special.logsumexp(np.ascontiguousarray(np.moveaxis(x, 0, -1)), axis=-1)
    top = x.max(axis=0)
    if not np.isfinite(top).all():  # infinite or missing terms: scipy's rules
        return special.logsumexp(np.ascontiguousarray(np.moveaxis(x, 0, -1)), axis=-1)
    at_top = x == top
    ties = at_top.sum(axis=0).astype(float)
    terms = np.exp(np.where(at_top, -np.inf, x) - top)
    rest = terms[0]
    for j in range(1, x.shape[0]):
        rest = rest + terms[j]
    rest = np.where(rest == 0, rest, rest / ties)
    return np.log1p(rest) + np.log(ties) + top


def _station_sums(x):
    """Sums over stations (columns) of a components x stations array, with
    the additions in the order numpy uses for ``x.T.sum(axis=0)``: one
    after the other for several components, pairwise for one."""
    if x.shape[0] == 1:
        return x.sum(axis=1)
    return np.cumsum(x, axis=1)[:, -1]


_MAXGAM = 171.624376956302725


def _betaln_from_gammaln(x, y, log_gamma_x, log_gamma_y, *, suspect=None):
    """``scipy.special.betaln(x, y)`` (positive arguments) given
    ``gammaln(x)`` and ``gammaln(y)``: for ``x + y`` above 171.6 scipy
    (Cephes ``lbeta``) computes ``lgam(big) + (lgam(small) - lgam(x + y))``,
    and so does this, with the same bits; other entries are left to it.
    ``suspect`` (column indices) limits the search for those other entries
    when the caller knows that the rest of the columns have none."""
    total = x + y
    x_big = x >= y
    out = np.where(x_big, log_gamma_x, log_gamma_y)
    out += np.where(x_big, log_gamma_y, log_gamma_x) - special.gammaln(total)
    cols = slice(None) if suspect is None else suspect
    xs, ys, ts = x[..., cols], y[..., cols], total[..., cols]
    big, small = np.maximum(xs, ys), np.minimum(xs, ys)
    other = (ts <= _MAXGAM) | ((big > 1e6 * small) & (big > 1e6))
    if other.any():
        sub = out[..., cols]
        sub[other] = special.betaln(xs[other], ys[other])
        out[..., cols] = sub
    return out


class _Distinct(NamedTuple):
    """Distinct values of an array and where each element sits among them."""

    values: np.ndarray
    index: np.ndarray

    @classmethod
    def of(cls, x):
        values, index = np.unique(x, return_inverse=True)
        return cls(values, index.ravel())

    def apply(self, func, shift):
        """``func(shift[:, None] + x[None, :])``, components x elements,
        computed once per distinct value of ``x``."""
        return np.take(func(self.values[None, :] + shift[:, None]), self.index, axis=1)


def _fit_components(n, w, n_comp):
    """Maximum likelihood fit of ``n_comp`` components; returns the mixture
    and the log-likelihood (without the binomial coefficients)."""
    share = w / n
    edges = np.quantile(share, np.linspace(0, 1, n_comp + 1))
    group = np.clip(np.searchsorted(edges, share, side="right") - 1, 0, n_comp - 1)
    start_a, start_b = [], []
    for g in range(n_comp):
        m = group == g
        if m.sum() < 10:
            m = np.ones_like(m)
        a, b = beta_prior(n[m], w[m])
        start_a.append(a)
        start_b.append(b)
    x0 = np.r_[np.log(start_a), np.log(start_b), np.zeros(n_comp - 1)]
    k = n_comp
    # arrays are components x stations; the log-gamma and digamma terms
    # that depend on w, n - w or n alone are computed once per distinct
    # value (the same numbers as station by station, far fewer calls)
    loser = n - w
    by_w, by_loser, by_n = _Distinct.of(w), _Distinct.of(loser), _Distinct.of(n)
    w_row, loser_row = w[None, :], loser[None, :]
    small_rows, n_max = np.flatnonzero(n < 172), float(n.max())

    def negloglik(x):
        a, b = np.exp(x[:k]), np.exp(x[k:2 * k])
        eta = np.r_[0.0, x[2 * k:]]
        logpi = eta - _logsumexp_rows(eta)
        # scipy's betaln takes another route only for stations of at most
        # 171 ballots or a shape near a million
        suspect = small_rows if max(a.max(), b.max()) + n_max <= 1e6 else None
        kernel = _betaln_from_gammaln(w_row + a[:, None], loser_row + b[:, None],
                                      by_w.apply(special.gammaln, a),
                                      by_loser.apply(special.gammaln, b), suspect=suspect)
        comp = (kernel - special.betaln(a, b)[:, None]) + logpi[:, None]
        total = _logsumexp_rows(comp, axis=0)
        resp = np.exp(comp - total)
        rsum = _station_sums(resp)
        d_ab = by_n.apply(lambda v: special.digamma(v + b[:, None]), a)
        d_a0 = special.digamma(a) - special.digamma(a + b)
        d_b0 = special.digamma(b) - special.digamma(a + b)
        grad_a = a * (_station_sums(resp * (by_w.apply(special.digamma, a) - d_ab))
                      - rsum * d_a0)
        grad_b = b * (_station_sums(resp * (by_loser.apply(special.digamma, b) - d_ab))
                      - rsum * d_b0)
        grad_eta = (rsum - n.size * np.exp(logpi))[1:]
        return -total.sum(), -np.r_[grad_a, grad_b, grad_eta]

    bounds = [(-5.0, 12.0)] * (2 * k) + [(-20.0, 20.0)] * (k - 1)
    fit = optimize.minimize(negloglik, x0, jac=True, method="L-BFGS-B", bounds=bounds)
    eta = np.r_[0.0, fit.x[2 * k:]]
    mix = BetaBinomialMixture(weight=np.exp(eta - special.logsumexp(eta)),
                              a=np.exp(fit.x[:k]), b=np.exp(fit.x[k:2 * k]))
    return mix, -float(fit.fun)


def fit_beta_binomial_mixture(n, w, *, max_components=3):
    """Mixture of beta-binomial laws fitted by maximum likelihood, the number
    of components (1 to ``max_components``) chosen by BIC.

    Station :math:`i` has :math:`w_i` leader votes out of :math:`n_i`; its
    true share is drawn from component :math:`j` with probability
    :math:`\\pi_j`, from :math:`\\mathrm{Beta}(a_j, b_j)`, and
    :math:`w_i \\sim \\mathrm{Binomial}(n_i, \\text{share})`. This is the null
    model of Rozenas (2017, section 4; his R package ``spikes`` fits it by
    EM and adds components while the fitted density still changes); here
    the likelihood is maximised directly (L-BFGS-B with the analytic
    gradient) and BIC picks the number of components.

    Examples
    --------
    Two kinds of station, one around 30% and one around 70%:

    >>> g = np.random.default_rng(0)
    >>> n = g.integers(200, 800, 6000)
    >>> p = np.where(g.random(6000) < 0.4, g.beta(30, 70, 6000), g.beta(70, 30, 6000))
    >>> mix = fit_beta_binomial_mixture(n, g.binomial(n, p))
    >>> len(mix.weight), np.round(np.sort(mix.a / (mix.a + mix.b)), 2).tolist()
    (2, [0.3, 0.7])
    """
    n = np.asarray(n, dtype=float)
    w = np.asarray(w, dtype=float)
    best = None
    for n_comp in range(1, int(max_components) + 1):
        mix, loglik = _fit_components(n, w, n_comp)
        bic = -2 * loglik + (3 * n_comp - 1) * np.log(n.size)
        if best is None or bic < best[0] - 1e-9:
            best = (bic, mix)
    return best[1]


# ------------------------------------------------------------ resampling
def _bin_index(share, bin_width):
    """Index of the grid point nearest each share (grid step ``bin_width``)."""
    return np.floor(share / bin_width + 0.5).astype(np.int64)


def _hist_and_kde(shares, n_grid, bin_width, bandwidth, *, block=1 << 16):
    """Counts per grid bin and Gaussian kernel density at the grid points,
    for each row of ``shares`` (resamples x stations); both (rows, n_grid).

    The kernel is cut at 5 bandwidths (the mass beyond is below 1e-6), so
    only the grid points within that distance receive a station's weight:
    with the default bandwidth (a tenth of the grid step) only the nearest.
    Rows are taken a few at a time (about ``block`` shares), so that the
    intermediate arrays stay in the processor's cache.
    """
    shares = np.asarray(shares, dtype=float)
    rows, n = shares.shape
    reach = max(0, int(np.ceil((5 * bandwidth - bin_width / 2) / bin_width - 1e-9)))
    steps = [s for r in range(1, reach + 1) for s in (-r, r)]
    hist = np.empty((rows, n_grid))
    kde = np.empty((rows, n_grid))
    step_rows = max(1, block // max(n, 1))
    for r0 in range(0, rows, step_rows):
        r1 = min(rows, r0 + step_rows)
        sub = shares[r0:r1]
        pos = sub / bin_width
        pos += 0.5
        np.floor(pos, out=pos)
        idx = pos.astype(np.int64)
        offset = pos
        np.multiply(idx, bin_width, out=offset)
        np.subtract(sub, offset, out=offset)
        base = (np.arange(r1 - r0) * n_grid)[:, None]
        flat = (idx + base).ravel()
        size = (r1 - r0) * n_grid
        hist[r0:r1] = np.bincount(flat, minlength=size).reshape(r1 - r0, n_grid)
        z = offset / bandwidth
        weight = -0.5 * z
        weight *= z
        np.exp(weight, out=weight)
        dens = np.bincount(flat, weights=weight.ravel(), minlength=size)
        for step in steps:
            j = idx + step
            ok = (j >= 0) & (j < n_grid)
            z = (offset - step * bin_width) / bandwidth
            dens += np.bincount((base + np.where(ok, j, 0)).ravel(),
                                weights=np.where(ok, np.exp(-0.5 * z * z), 0.0).ravel(),
                                minlength=size)
        kde[r0:r1] = dens.reshape(r1 - r0, n_grid)
    kde *= 1.0 / (n * bandwidth * np.sqrt(2 * np.pi))
    return hist, kde


def _latent_shares(n, w, mix, gen):
    """One draw of each station's true share from its posterior under the
    mixture: a component by its posterior weight, then the conjugate beta."""
    logm = mix.log_membership(n, w)
    cum = np.cumsum(np.exp(logm), axis=1)
    comp = (gen.random(n.size)[:, None] > cum[:, :-1]).sum(axis=1)
    return gen.beta(mix.a[comp] + w, mix.b[comp] + n - w)


def _leave_one_out_rkd(hist, kde, interior):
    """Rozenas' excess for every sample (row) against all the others.

    Row ``j`` is compared with the maximum (upper envelope) of the kernel
    densities of the other rows and with the mean of their histograms:
    :math:`D_j = \\sum_b 1[f_j(b) > \\max_{l \\ne j} f_l(b)]\\,
    (h_j(b) - \\bar h_{-j}(b))^+`, in stations. Returns ``D`` (rows,) and
    the boolean (rows, bins) array of counted bins.
    """
    rows = hist.shape[0]
    cols = np.arange(kde.shape[1])
    top = kde.argmax(axis=0)
    first = kde[top, cols]
    rest = kde.copy()
    rest[top, cols] = -np.inf
    second = rest.max(axis=0)
    envelope = np.where(np.arange(rows)[:, None] == top[None, :], second, first)
    mean_others = (hist.sum(axis=0) - hist) / (rows - 1)
    excess = hist - mean_others
    counted = (kde > envelope) & (excess > 0) & interior[None, :]
    return np.where(counted, excess, 0.0).sum(axis=1), counted


def _window_probabilities(n, p, lo_share, hi_share, closed_hi, as_sparse=False):
    """Exact P(lo_share <= Binomial(n_i, p_i) / n_i <= hi_share) (``<`` at the
    top when not ``closed_hi``) for every station (rows) and window
    (columns): the binomial mass summed over the integers of the window,
    computed only where the window lies within 10 binomial standard
    deviations (plus one vote) of the station's share. ``as_sparse`` returns
    a sparse array (many windows, few of them near each station)."""
    centres = (lo_share + hi_share) / 2
    half = float(np.max(hi_share - lo_share)) / 2
    sd = np.sqrt(p * (1 - p) / n)
    # windows whose centre lies within the reach of each station, found by
    # binary search over the sorted centres (no stations x windows matrix)
    reach = 10 * sd + half + 1 / n
    by_centre = np.argsort(centres, kind="stable")
    sorted_c = centres[by_centre]
    first = np.searchsorted(sorted_c, p - reach, side="left")
    last = np.searchsorted(sorted_c, p + reach, side="right")
    count = last - first
    shape = (n.size, centres.size)
    # log-factorials tabulated once (gammaln per value for huge stations)
    n_max = int(n.max(initial=0))
    if n_max <= 1 << 23:
        table = special.gammaln(np.arange(n_max + 1, dtype=float) + 1)

        def log_fact(x):
            return table[x]
    else:
        def log_fact(x):
            return special.gammaln(x.astype(float) + 1)
    # stations a block at a time (about 65,000 station-window pairs), so
    # that the temporary arrays stay small
    ends = np.cumsum(count)
    cuts = np.unique(np.r_[0, np.searchsorted(ends, np.arange(1 << 16, ends[-1] if
                                                           ends.size else 0, 1 << 16)),
                           n.size])
    parts = []
    for s0, s1 in itertools.pairwise(cuts):
        parts.append(_window_block(np.arange(s0, s1), count[s0:s1], first[s0:s1],
                                   by_centre, n, p, lo_share, hi_share, closed_hi,
                                   log_fact))
    rows, cols, total = (np.concatenate([part[j] for part in parts]) if parts
                         else np.zeros(0, dtype=int if j < 2 else float)
                         for j in range(3))
    if as_sparse:
        # windows of zero chance add nothing to any sum: not stored
        keep = total > 0
        return sparse.csr_array((total[keep], (rows[keep], cols[keep])), shape=shape)
    prob = np.zeros(shape)
    prob[rows, cols] = total
    return prob


def _window_block(stations, count, first, by_centre, n, p, lo_share, hi_share,
                  closed_hi, log_fact):
    """Station-window pairs of :func:`_window_probabilities` for a block of
    stations: rows, columns and probabilities."""
    rows = np.repeat(stations, count)
    offset = np.arange(rows.size) - np.repeat(np.cumsum(count) - count, count)
    cols = by_centre[np.repeat(first, count) + offset]
    nn, pp = n[rows], np.clip(p[rows], 1e-300, 1 - 1e-16)
    eps = 1e-9
    lo = np.maximum(np.ceil(nn * lo_share[cols] - eps), 0)
    if closed_hi:
        hi = np.floor(nn * hi_share[cols] + eps)
    else:
        hi = np.ceil(nn * hi_share[cols] - eps) - 1
    hi = np.minimum(hi, nn)
    logq = np.log1p(-pp)
    n_int = nn.astype(np.int64)
    base = log_fact(n_int) + nn * logq
    log_ratio = np.log(pp) - logq
    total = np.zeros(rows.size)
    # sum the mass over each window's integers, one integer at a time,
    # following only the windows that still have integers left
    hi_int = hi.astype(np.int64)
    live = np.flatnonzero(lo <= hi)
    k = lo[live].astype(np.int64)
    while live.size:
        n_live = n_int[live]
        logpmf = (base[live] - log_fact(k) - log_fact(n_live - k)
                  + k.astype(float) * log_ratio[live])
        total[live] += np.exp(logpmf)
        k += 1
        more = k <= hi_int[live]
        live, k = live[more], k[more]
    return rows, cols, np.clip(total, 0.0, 1.0)


def _rkd(n_i, w_i, foc, *, halfwidth, n_resamples, n_boot, confidence, bin_width,
         bandwidth, max_components, max_fit, gen):
    n = n_i.size
    share = w_i / n_i
    n_grid = round(1 / bin_width) + 1
    grid = np.arange(n_grid) * bin_width

    # 1. the null: a mixture of beta-binomials, fitted on at most max_fit stations
    fit_rows = (np.sort(gen.choice(n, int(max_fit), replace=False))
                if n > max_fit else np.arange(n))
    mix = fit_beta_binomial_mixture(n_i[fit_rows], w_i[fit_rows],
                                    max_components=max_components)
    # 2. one draw of every station's latent share; all resamples use it, so
    #    the observed counts and the resamples are exchangeable under the null
    p_i = _latent_shares(n_i, w_i, mix, gen)

    # 3. histograms and kernel densities: row 0 observed, rows 1.. resamples
    hist = np.empty((int(n_resamples) + 1, n_grid))
    kde = np.empty_like(hist)
    hist[:1], kde[:1] = _hist_and_kde(share[None, :], n_grid, bin_width, bandwidth)
    n_int = n_i.astype(np.int64)
    # one seed per resample, spawned from the test's stream: blocks of
    # resamples run on several threads (in any order) with the same numbers
    seeds = np.random.SeedSequence(
        [int(x) for x in gen.integers(0, 2 ** 63, size=4)]).spawn(int(n_resamples))
    # a few resamples per block (about 65,000 draws), to stay in the cache
    chunk = max(1, (1 << 16) // n)

    def resample(start):
        stop = min(int(n_resamples) + 1, start + chunk)
        draws = np.empty((stop - start, n))
        for r in range(start, stop):
            draws[r - start] = np.random.default_rng(seeds[r - 1]).binomial(n_int, p_i)
        draws /= n_i
        hist[start:stop], kde[start:stop] = _hist_and_kde(draws, n_grid, bin_width,
                                                          bandwidth)

    map_threads(resample, range(1, int(n_resamples) + 1, chunk))

    # 4. Rozenas' estimate for the observed row, and for each resample
    #    against the others: the null distribution of the estimate
    interior = np.ones(n_grid, bool)
    interior[[0, -1]] = False
    excess, counted = _leave_one_out_rkd(hist, kde, interior)
    d_obs = float(excess[0])
    null_d = excess[1:]
    pvalue = simulated_pvalue(int(np.sum(null_d >= d_obs - 1e-9)), int(n_resamples))
    pi_hat = d_obs / n

    # 5. interval: bootstrap over stations, the counted bins held fixed, with
    #    each station's exact chance of landing in them given its latent share
    flagged = np.flatnonzero(counted[0])
    ci_low = ci_high = pi_hat if n_boot else np.nan
    if flagged.size and n_boot:
        q = _window_probabilities(n_i, p_i, grid[flagged] - bin_width / 2,
                                  grid[flagged] + bin_width / 2, closed_hi=False,
                                  as_sparse=True)
        pos = np.full(n_grid, -1)
        pos[flagged] = np.arange(flagged.size)
        where = pos[_bin_index(share, bin_width)]
        inside = where >= 0
        rel = np.flatnonzero(np.diff(q.indptr) > 0)
        q_rel = q[rel].T.tocsr()
        excess_plain = np.clip(np.bincount(where[inside], minlength=flagged.size)
                               - np.asarray(q.sum(axis=0)).ravel(), 0, None).sum() / n
        boot = np.empty(int(n_boot))
        n_flag = flagged.size
        in_rows = np.flatnonzero(inside)
        cells = where[in_rows]
        block = max(1, min(int(n_boot), 2_000_000 // n))
        # buffers reused by every block (large arrays are slow to allocate)
        wts_buffer = np.empty((block, n))
        near_buffer = np.empty((rel.size, block))
        for start in range(0, int(n_boot), block):
            b = min(block, int(n_boot) - start)
            # b bootstrap samples at once: how often each station is drawn
            draws = gen.integers(0, n, (b, n))
            sample = np.arange(b)[:, None]
            wts = wts_buffer[:b]
            for r in range(b):
                wts[r] = np.bincount(draws[r], minlength=n)
            # the stations inside a counted bin, each as often as drawn
            obs_b = np.bincount((sample * n_flag + cells).ravel(),
                                weights=wts[:, in_rows].ravel(),
                                minlength=b * n_flag).reshape(b, n_flag)
            # (the stations near the counted bins as rows, for the product)
            near = (np.take(wts.T, rel, axis=0, out=near_buffer) if b == block
                    else wts.T[rel])
            exp_b = (q_rel @ near).T
            boot[start:start + b] = np.clip(obs_b - exp_b, 0, None).sum(axis=1) / n
        alpha = (1 - confidence) / 2
        shift = pi_hat - excess_plain
        ci_low, ci_high = (float(x) + shift for x in np.quantile(boot, [alpha, 1 - alpha]))
        ci_low = max(ci_low, 0.0)

    # 6. the focal shares: observed and exactly expected counts (given the
    #    latent shares), as in the exact method
    lo, hi = _window(n_i, foc, halfwidth)
    hits = (w_i[:, None] >= lo) & (w_i[:, None] <= hi)
    q_focal = _window_probabilities(n_i, p_i, foc - halfwidth, foc + halfwidth,
                                    closed_hi=True)
    focal_table = pd.DataFrame({"focal": foc, "observed": hits.sum(axis=0),
                                "expected": q_focal.sum(axis=0)})
    focal_table["excess"] = focal_table["observed"] - focal_table["expected"]

    resampled_mean = hist[1:].mean(axis=0)
    # densities as kernel-weighted station counts: a share exactly at the
    # grid point counts 1, one bandwidth away exp(-1/2)
    kernel_count = n * bandwidth * np.sqrt(2 * np.pi)
    table = pd.DataFrame({
        "share_lo": grid - bin_width / 2, "share_hi": grid + bin_width / 2,
        "observed": hist[0], "resampled": resampled_mean,
        "kde_observed": kde[0] * kernel_count,
        "kde_envelope": kde[1:].max(axis=0) * kernel_count,
        "flagged": counted[0]})
    details = {
        "method": "rkd",
        "excess_stations": d_obs, "ci_low": ci_low, "ci_high": ci_high,
        "confidence": confidence, "excess_over_null": pi_hat - float(null_d.mean() / n),
        "null_mean": float(null_d.mean() / n),
        "null_q95": float(np.quantile(null_d, 0.95) / n),
        "n_flagged_bins": int(flagged.size),
        "flagged_shares": [round(float(x), 6) for x in grid[flagged]],
        "observed_focal": int(hits.any(axis=1).sum()),
        "expected_focal": float(q_focal.sum()),
        "focal_excess": float(hits.any(axis=1).sum() - q_focal.sum()),
        "n_focal": int(foc.size), "n_components": int(mix.weight.size),
        "mixture_weight": mix.weight.tolist(), "mixture_a": mix.a.tolist(),
        "mixture_b": mix.b.tolist(), "fit_stations": int(fit_rows.size)}
    return pi_hat, pvalue, float(null_d.mean() / n), details, table, focal_table


def _exact(n_i, w_i, foc, *, halfwidth, n_boot, confidence, bin_width, n_density, gen):
    """The exact beta-binomial count at the focal shares (``method="exact"``)."""
    n = n_i.size
    share = w_i / n_i

    lo, hi = _window(n_i, foc, halfwidth)
    hits = (w_i[:, None] >= lo) & (w_i[:, None] <= hi)
    hit = hits.any(axis=1)
    # posterior predictive of each station's count under the fitted beta law
    a0, b0 = beta_prior(n_i, w_i)
    post_a, post_b = a0 + w_i, b0 + n_i - w_i
    q_each = hit_probability(n_i, post_a, post_b, foc, halfwidth)
    q = np.clip(q_each.sum(axis=1), 0.0, 1.0)

    m_obs = float(hit.sum())
    e_null = float(q.sum())
    pi_hat = (m_obs - e_null) / (n - e_null)

    # Null law of M: a sum of independent Bernoulli(q_i), Poisson-binomial;
    # its upper tail exactly (saddlepoint far in the tail)
    pvalue, log10_p, how = poisson_binomial_sf(q, m_obs)

    boot = np.empty(int(n_boot))
    for b in range(int(n_boot)):
        draws = gen.integers(0, n, n)
        wts = np.bincount(draws, minlength=n).astype(float)
        mb = float(np.count_nonzero(hit[draws]))
        eb = wts @ q
        boot[b] = (mb - eb) / (n - eb)
    alpha = (1 - confidence) / 2
    ci_low, ci_high = ((float(x) for x in np.quantile(boot, [alpha, 1 - alpha]))
                       if n_boot else (np.nan, np.nan))

    # Plotting table: observed share histogram vs mean of binomial resamples.
    nb = round(1 / bin_width)
    edges = np.linspace(0, 1, nb + 1)
    obs_hist = np.histogram(share, bins=edges)[0]
    res_hist = np.zeros(nb)
    for _ in range(int(n_density)):
        p_star = gen.beta(post_a, post_b)
        res_hist += np.histogram(gen.binomial(n_i.astype(np.int64), p_star) / n_i,
                                 bins=edges)[0]
    res_hist /= max(int(n_density), 1)
    table = pd.DataFrame({"share_lo": edges[:-1], "share_hi": edges[1:],
                          "observed": obs_hist, "resampled": res_hist})
    focal_table = pd.DataFrame({
        "focal": foc, "observed": hits.sum(axis=0),
        "expected": q_each.sum(axis=0)})
    focal_table["excess"] = focal_table["observed"] - focal_table["expected"]

    details = {"method": "exact", "observed_focal": int(m_obs), "expected_focal": e_null,
               "excess_stations": m_obs - e_null, "ci_low": ci_low,
               "ci_high": ci_high, "confidence": confidence,
               "n_focal": int(foc.size), "null_sd": float(np.sqrt(np.sum(q * (1 - q)))),
               "log10_pvalue": float(log10_p), "pvalue_method": how,
               "prior_a": float(a0), "prior_b": float(b0),
               }
    return pi_hat, pvalue, 0.0, details, table, focal_table


@register("spikes", family="spike", min_units=100, null=_NULL,
          evidence=False, flag="liberal",
          why="clean twins of the Russian files, whose leader shares are smooth "
              "within districts but form a lumpy national distribution, reject "
              "it at about three times alpha, both methods (docs/calibration.md): a "
              "mixture of three beta-binomials does not fit a country of many "
              "districts (docs/calibration.md)",
          variants={"method=exact": {"method": "exact"}},
          calibration_options={"n_boot": 0})
@single_threaded_blas
def spikes(ballots_cast, leader, *, method="rkd", focal=None, halfwidth=0.0005,
           min_ballots=1, n_resamples=None, n_boot=500, confidence=0.95,
           bin_width=0.001, bandwidth=0.0001, max_components=3, max_fit=10000,
           n_density=20, min_stations=100, rng=None):
    """Excess of stations at coarse (round) leader shares over resampled shares.

    The default, ``method="rkd"``, is the resampled kernel density (RKD)
    method of Rozenas (2017) and of his R package ``spikes``;
    ``method="exact"`` is the earlier exact beta-binomial count at the focal
    shares, kept so that its results can be redone.

    Parameters
    ----------
    ballots_cast, leader : array_like of int, shape (n,)
        Ballots in the boxes (the share's denominator) and the leader's votes.
        Stations with more leader votes than ballots (an impossible figure)
        are left out and counted in ``details["excluded_leader_over_ballots"]``
        (and in ``details["excluded_stations"]``).
    method : {'rkd', 'exact'}, default 'rkd'
        Resampled kernel density (Rozenas 2017) or the exact focal count.
    focal : array_like of float, optional
        Focal shares in (0, 1); default :func:`coarse_shares`: multiples of
        5% and 1/3, 2/3. For ``"rkd"`` they only fill ``focal_table`` and the
        ``*_focal`` details (the estimate scans every grid point); for
        ``"exact"`` they define the statistic. The end points 0 and 1 are
        left out (they arise from empty or unanimous stations, which a spike
        test cannot judge).
    halfwidth : float, default 0.0005
        A share counts as focal when within this distance (0.05 percentage
        points, so that a 0.1-point window surrounds each focal share, as in
        the integer-percentage test of Kobak et al.).
    min_ballots : int, default 1
        Stations with fewer ballots are left out (both nulls keep each
        station's own denominator, so none need be).
    n_resamples : int, optional
        Resamples of the whole election for ``"rkd"``, default 200 (Rozenas
        uses 1000; 200 keeps ~97,000 stations under ~10 s); its p-value
        cannot fall below ``1 / (n_resamples + 1)``. Not for ``"exact"``,
        whose null law is computed exactly. Each ``"rkd"`` resample has its own
        seed, and blocks of them run on :func:`audit._threads.worker_threads`
        threads (the same numbers on any number of threads).
    n_boot : int, default 500
        Bootstrap resamples of stations for the interval (0: no interval,
        ``ci_low`` and ``ci_high`` are nan). They are drawn after
        everything else, so the statistic and p-value do not depend on it.
    confidence : float, default 0.95
        Level of the percentile interval.
    bin_width : float, default 0.001
        Grid step: ``"rkd"`` evaluates the densities at the 1,001 points
        0, 0.001, ..., 1 and counts stations in bins of this width centred
        on them, as the R package does (``grid = 1001``); ``"exact"`` uses it
        only for the plotting table.
    bandwidth : float, default 0.0001
        Standard deviation of the Gaussian kernel (the R package's default
        ``bw = 1e-4``): small enough that the density at a grid point sees
        only shares within about 0.0002 of it, i.e. exact coarse fractions.
    max_components : int, default 3
        Largest number of beta-binomial components of the null; BIC picks
        the number (the R package adds components, up to 5, while the fit
        still changes).
    max_fit : int, default 10000
        The mixture is fitted on at most this many stations drawn at random
        (all of them are resampled).
    n_density : int, default 20
        ``"exact"`` only: resamples averaged for the ``resampled`` column of
        the table.
    min_stations : int, default 100
        Fewer usable stations raise :class:`~audit.errors.NotApplicable`.
    rng : None, int or numpy.random.Generator
        Seed for all resampling; the same seed gives the same result.

    Returns
    -------
    SpikeResult
        ``statistic`` = estimated share of stations in spikes
        :math:`\\hat\\pi`; ``pvalue`` = simulated :math:`(k + 1) / (B + 1)`;
        ``expected`` = mean of :math:`\\hat\\pi` over the null resamples
        (``"rkd"``: chance exceedances make it positive) or 0 (``"exact"``).
        ``details`` has ``excess_stations`` (:math:`n\\hat\\pi`), ``ci_low``,
        ``ci_high``, ``excess_over_null`` (:math:`\\hat\\pi` minus
        ``expected``), ``observed_focal`` and ``expected_focal`` (stations
        within ``halfwidth`` of a focal share, observed and expected under
        the null), ``flagged_shares`` (grid points counted in
        :math:`\\hat\\pi`) and the fitted mixture. ``table`` is the grid
        (``share_lo``, ``share_hi``, ``observed`` and ``resampled`` station
        counts per bin, and for ``"rkd"`` ``kde_observed``,
        ``kde_envelope``: the observed kernel density and the largest
        resampled one at the grid point, as kernel-weighted station counts,
        :math:`f \\cdot n h \\sqrt{2\\pi}`, so that a share exactly at the
        point counts 1, and ``flagged``: the bins counted in
        :math:`\\hat\\pi`); ``focal_table`` has ``focal``, ``observed``,
        ``expected``, ``excess`` per focal share.

    Notes
    -----
    Station :math:`i` has :math:`n_i` ballots and :math:`w_i` leader votes,
    share :math:`s_i = w_i / n_i`.

    *Null* (Rozenas 2017, section 3): true shares come from a smooth law,
    here a mixture :math:`\\sum_j \\pi_j \\mathrm{Beta}(a_j, b_j)` fitted by
    maximum likelihood to the counts (:func:`fit_beta_binomial_mixture`),
    and :math:`w_i \\mid p_i \\sim \\mathrm{Binomial}(n_i, p_i)`. Coarse
    shares then occur only as often as each station's arithmetic allows.

    *Resampling* (section 4): each station's latent share is drawn from its
    posterior, a component :math:`j` with probability proportional to
    :math:`\\pi_j\\,\\mathrm{BB}(w_i; n_i, a_j, b_j)`, then
    :math:`p_i \\sim \\mathrm{Beta}(a_j + w_i, b_j + n_i - w_i)`; the
    :math:`B` resampled elections draw
    :math:`w_i^{(r)} \\sim \\mathrm{Binomial}(n_i, p_i)`, keeping the
    denominators.

    *Estimate*: with :math:`f_r` the Gaussian kernel density (bandwidth
    :math:`h`) of sample :math:`r` at the grid points :math:`x_b` (sample 0
    the observed shares), :math:`c_r(b)` its station count in bin :math:`b`
    and :math:`\\bar c(b)` the mean over resamples,

    .. math:: \\hat\\pi = \\frac{1}{n} \\sum_{b} 1\\left[f_0(x_b) > \\max_{r \\ge 1}
              f_r(x_b)\\right] \\left(c_0(b) - \\bar c(b)\\right)^+ ,

    the stations in excess wherever the observed density rises above the
    upper envelope of the resampled ones (the package's ``fraud``, there in
    percent).

    *p-value*: the latent share is drawn once and shared by all resamples,
    so under the null the observed election and the :math:`B` resampled
    ones are exchangeable. Each resample's :math:`\\hat\\pi_r` is computed
    in the same way against the other :math:`B` samples (envelope and mean
    leave it out and include the observed one), and
    :math:`p = (\\#\\{r : \\hat\\pi_r \\ge \\hat\\pi\\} + 1) / (B + 1)`.

    *Interval*: stations are resampled with replacement (``n_boot``
    times), the bins counted in :math:`\\hat\\pi` held fixed and each
    station's expected count in them computed exactly from
    :math:`\\mathrm{Binomial}(n_i, p_i)`; the percentile interval is
    shifted by the small gap between :math:`\\hat\\pi` and this exact-mean
    version.

    Simplifications relative to Rozenas (2017) and his package: turnout is
    not resampled (the denominator is the observed ballots, since the test
    receives only ``ballots_cast`` and ``leader``); the number of mixture
    components is chosen by BIC (at most 3) and the mixture is fitted on at
    most ``max_fit`` stations; the latent share is drawn once rather than
    in each resample (this makes the rank p-value exact under the fitted
    null; the R package reports no p-value); 200 rather than 1000 resamples by
    default; the end points 0 and 1 of the grid are left out; the interval
    is a station bootstrap given the counted bins, not his posterior
    simulation of the mixture parameters (``confInt``), so it ignores the
    uncertainty of the fit and of which bins are counted. As in the paper,
    :math:`\\hat\\pi` counts exact coarse fractions: with the default
    bandwidth a count rounded to the nearest integer (share within
    :math:`1/(2n_i)` of a round value) is seen only when that integer
    gives the round share almost exactly, and a bin-by-bin envelope has
    little power when the rounded stations spread over many targets (in
    the calibration scenario with 5% of 1,500 stations set to the nearest
    whole percent it rejects at about the nominal rate, also with
    ``bandwidth=0.0005``); ``method="exact"`` and the integer-percentage
    test pool the focal shares and are the better tests for that fraud.

    ``method="exact"``: the observed count :math:`M` of stations within
    :math:`h` of a focal share is compared with its expectation
    :math:`E = \\sum_i q_i`, :math:`q_i` the exact beta-binomial chance of a
    focal share under one beta law fitted by moments (:func:`beta_prior`,
    :func:`hit_probability`); :math:`\\hat\\pi = (M - E) / (n - E)`. Under
    the null :math:`M` is a sum of independent Bernoulli(:math:`q_i`), and
    the p-value is its exact upper tail :math:`P(M \\ge M_\\text{obs})`
    (:func:`audit.forensics.integer_percentages.poisson_binomial_sf`: the
    exact law where the tail is above 1e-10, a saddlepoint approximation
    beyond); the interval comes from a station bootstrap.

    Calibration on real data: it holds its size on the honestly counted
    elections of the dataset registry, but clean twins of the Russian
    station files reject it at about three times alpha (both methods): the
    smooth null mixture does not fit a national share distribution made of
    many districts.  It is registered as descriptive
    (``docs/calibration.md``).

    References
    ----------
    .. [1] A. Rozenas, "Detecting Election Fraud from Irregularities in
       Vote-Share Distributions", Political Analysis 25(1), 2017, 41-56,
       doi:10.1017/pan.2016.9.
    .. [2] A. Rozenas, ``spikes``: Detecting Election Fraud from
       Irregularities in Vote-Share Distributions, R package version 1.1,
       CRAN, 2016.
    .. [3] D. Kobak, S. Shpilkin and M. S. Pshenichnikov, "Integer
       percentages as electoral falsification fingerprints", Annals of
       Applied Statistics 10(1), 2016.

    Examples
    --------
    4,000 clean stations, then 3% of them made to report an exact multiple
    of 5% (their ballots rounded to a multiple of 20):

    >>> import numpy as np
    >>> g = np.random.default_rng(6)
    >>> n = g.integers(200, 3000, 4000)
    >>> w = g.binomial(n, g.beta(12, 8, 4000))
    >>> clean = spikes(n, w, rng=1)
    >>> bool(clean.pvalue > 0.05)
    True
    >>> fixed = g.random(4000) < 0.03
    >>> n[fixed] = 20 * np.round(n[fixed] / 20)
    >>> w[fixed] = np.round(20 * w[fixed] / n[fixed]) * n[fixed] // 20
    >>> res = spikes(n, w, rng=1)
    >>> bool(res.pvalue < 0.01), bool(res.details["ci_low"] < fixed.mean() < res.details["ci_high"])
    (True, True)

    The clean election shows no excess at coarse shares; in the altered one
    the excess is significant and its interval covers the 3% planted.
    """
    if n_resamples is None and method == "rkd":
        n_resamples = 200
    n_i, w_i, foc = _validate(ballots_cast, leader, focal, halfwidth, min_ballots,
                              n_resamples, n_boot, confidence, bin_width, method,
                              bandwidth, max_components, max_fit)
    gen = np.random.default_rng(rng)
    # more leader votes than ballots is impossible (a finding of the reader):
    # such stations have no share and are left out and counted
    over = w_i > n_i
    ok = (n_i >= min_ballots) & ~over
    n_excluded = int((~ok).sum())
    # one row per station left out, positions in the order given (before the
    # canonical sort below); their total is details["excluded_stations"]
    excluded = exclusion_table({
        "more leader votes than ballots": over,
        ("no ballots cast" if min_ballots == 1
         else f"fewer than {min_ballots} ballots cast"): ~ok & ~over})
    if ok.sum() < min_stations:
        raise NotApplicable(f"spikes needs at least {min_stations} stations with "
                            f">= {min_ballots} ballots, got {int(ok.sum())}")
    # canonical station order: every draw below is made station by station,
    # so sorting makes the result independent of the order of the rows
    order = np.lexsort((w_i[ok], n_i[ok]))
    n_i, w_i = n_i[ok][order], w_i[ok][order]
    common = {"halfwidth": halfwidth, "n_boot": int(n_boot), "confidence": confidence,
              "bin_width": bin_width}
    if method == "exact":
        stat, pvalue, expected, details, table, focal_table = _exact(
            n_i, w_i, foc, n_density=int(n_density), gen=gen, **common)
        extra = {"n_resamples": None, "n_density": int(n_density)}
        null = _NULL_EXACT
    else:
        stat, pvalue, expected, details, table, focal_table = _rkd(
            n_i, w_i, foc, n_resamples=int(n_resamples), bandwidth=bandwidth,
            max_components=int(max_components), max_fit=int(max_fit), gen=gen,
            **common)
        extra = {"n_resamples": int(n_resamples), "bandwidth": bandwidth,
                 "max_components": int(max_components), "max_fit": int(max_fit)}
        null = _NULL
    details["excluded_stations"] = n_excluded
    details["excluded_leader_over_ballots"] = int(over.sum())
    params = {"method": method, "focal": foc.tolist(), "min_ballots": min_ballots,
              "min_stations": min_stations, **common, **extra}
    return SpikeResult(test="spikes", statistic=float(stat), pvalue=pvalue,
                       n=int(n_i.size), expected=float(expected), null=null,
                       params=params, details=details, table=table,
                       focal_table=focal_table, excluded=excluded)
