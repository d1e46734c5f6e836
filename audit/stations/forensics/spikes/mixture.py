"""The beta-binomial mixture that describes the leader's share across
stations away from round values, and the probability that a station lands
in a window around a share.
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np
from .._lazy import optimize, special


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
        return comp - special.logsumexp(comp, axis=1)[:, None]


def _bb_kernel(w, n, a, b):
    """Beta-binomial log mass without the binomial coefficient (the same for
    every component), shape (stations, components)."""
    return (special.betaln(w[:, None] + a, (n - w)[:, None] + b)
            - special.betaln(a, b))


def _station_sums(x):
    """Sums over stations (columns) of a components x stations array, with
    the additions in the order numpy uses for ``x.T.sum(axis=0)``: one
    after the other for several components, pairwise for one."""
    if x.shape[0] == 1:
        return x.sum(axis=1)
    return np.cumsum(x, axis=1)[:, -1]


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
    # arrays are components x stations; the digamma terms that depend on
    # w, n - w or n alone are computed once per distinct value (the same
    # numbers as station by station, far fewer calls)
    loser = n - w
    by_w, by_loser, by_n = _Distinct.of(w), _Distinct.of(loser), _Distinct.of(n)
    w_row, loser_row = w[None, :], loser[None, :]

    def negloglik(x):
        a, b = np.exp(x[:k]), np.exp(x[k:2 * k])
        eta = np.r_[0.0, x[2 * k:]]
        logpi = eta - special.logsumexp(eta)
        kernel = special.betaln(w_row + a[:, None], loser_row + b[:, None])
        comp = (kernel - special.betaln(a, b)[:, None]) + logpi[:, None]
        total = special.logsumexp(comp, axis=0)
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


def _latent_shares(n, w, mix, gen):
    """One draw of each station's true share from its posterior under the
    mixture: a component by its posterior weight, then the conjugate beta."""
    logm = mix.log_membership(n, w)
    cum = np.cumsum(np.exp(logm), axis=1)
    comp = (gen.random(n.size)[:, None] > cum[:, :-1]).sum(axis=1)
    return gen.beta(mix.a[comp] + w, mix.b[comp] + n - w)
