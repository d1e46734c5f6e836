"""Computational core of the finite-mixture fraud model (:mod:`.mixture`).

Everything here works on plain arrays of station counts; the registered
test, its validation and its result live in :mod:`audit.stations.forensics.mixture`.

Coordinates
-----------
A station has ``n`` registered voters, ``v`` ballots cast and ``w`` votes
for the leader; ``a = n - v`` voters abstained and ``o = v - w`` ballots
went elsewhere (other options and invalid ballots).  With half a vote added
to each count (so that empty counts have a logit),

    x = log(v / a)   (turnout logit),     y = log(w / o)   (leader logit).

Fraud with manufactured fraction ``m`` (of the abstainers) and stolen
fraction ``s`` (of the others) turns clean counts ``(a0, o0, w0)`` into
``a = (1 - m) a0``, ``o = (1 - s) o0``, ``w = w0 + m a0 + s o0``.  The map
is one to one, so the clean counts behind an observed station are
``a0 = a / (1 - m)``, ``o0 = o / (1 - s)``, ``w0 = w - (a0 - a) - (o0 - o)``
(possible only when ``w0 > 0``), and the density of the observed logits is
the clean density at the inverted point times the Jacobian ``w / w0``.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

import numpy as np
import pandas as pd

#: Scale factor of the wide clean sub-component (its covariance is KAPPA times
#: the core's): real clean elections have heavier tails than a normal law.
KAPPA = 4.0
#: Clean outliers: uniform density on the square [-HALF_WIDTH, HALF_WIDTH]^2
#: of residuals (stations legitimately far from their district: institutions,
#: tiny or special stations), with a weight between U_MIN and U_MAX.
HALF_WIDTH = 10.0
U_MIN, U_MAX = 1e-4, 0.05
#: Smallest station-level standard deviation on the logit scale.
MIN_SD = 0.01
#: Manufactured and stolen fractions of the incremental-fraud grid.
INCREMENTAL_M = (0.0, 0.07, 0.18, 0.35, 0.6)
INCREMENTAL_S = (0.0, 0.1, 0.3)
#: Manufactured and stolen fractions of the extreme-fraud grid: (nearly)
#: every abstainer turned into a leader vote, with or without the others.
EXTREME_M = (0.98, 0.998, 0.9998)
EXTREME_S = (0.0, 0.97)
CLASSES = ("clean", "incremental", "extreme")


def fraud_grid():
    """Arrays ``m``, ``s`` and ``cls`` (0 clean, 1 incremental, 2 extreme) of
    the grid points; point 0 is the clean point (0, 0)."""
    pts = [(0.0, 0.0, 0)]
    pts += [(m, s, 1) for m in INCREMENTAL_M for s in INCREMENTAL_S if m or s]
    pts += [(m, s, 2) for m in EXTREME_M for s in EXTREME_S]
    arr = np.array(pts)
    return arr[:, 0], arr[:, 1], arr[:, 2].astype(np.int64)


def logit_counts(n, v, w):
    """Turnout and leader logits with half a vote of continuity."""
    a, o = n - v + 0.5, v - w + 0.5
    return np.log((v + 0.5) / a), np.log((w + 0.5) / o)


def centres(x, codes, n_groups, prior):
    """Per-station centre: its group's median of ``x`` shrunk toward the
    overall median with the weight of ``prior`` stations."""
    overall = float(np.median(x))
    if n_groups <= 1:
        return np.full(x.shape, overall)
    med = pd.Series(x).groupby(codes).median()
    full = np.full(n_groups, overall)
    full[med.index.to_numpy()] = med.to_numpy()
    size = np.bincount(codes, minlength=n_groups)
    shrunk = (size * full + prior * overall) / (size + prior)
    return shrunk[codes]


def scales(r, codes, n_groups, prior):
    """Per-station spread factor: its group's median absolute residual
    ``r`` over the overall one, its square shrunk toward 1 with the weight
    of ``prior`` stations (districts differ in spread as well as centre)."""
    mad = np.abs(r)
    overall = max(float(np.median(mad)), 1e-6)
    if n_groups <= 1:
        return np.ones(r.shape)
    med = pd.Series(mad).groupby(codes).median()
    ratio = np.ones(n_groups)
    ratio[med.index.to_numpy()] = np.maximum(med.to_numpy(), 1e-6) / overall
    size = np.bincount(codes, minlength=n_groups)
    var = (size * ratio ** 2 + prior) / (size + prior)
    return np.sqrt(var)[codes]


@dataclass
class Data:
    """One station file prepared for the EM: residual logits of the clean
    counts behind every station at every grid point, and their Jacobians."""

    n: np.ndarray           # registered (float)
    feat: np.ndarray        # (stations, grid, 6) zx^2, 2 zx zy, zy^2, zx, zy, 1
    z0: np.ndarray          # (stations, 2) residuals at the clean point
    logj: np.ndarray        # (stations, grid) log Jacobian, -inf if impossible
    dvar: np.ndarray        # (stations, 2) binomial variance of the logits
    made: np.ndarray        # (stations, grid) manufactured votes if at point g
    stolen: np.ndarray      # (stations, grid) stolen votes if at point g
    cx: np.ndarray          # centres (for simulation)
    cy: np.ndarray
    sx: np.ndarray          # spread factors (for simulation)
    sy: np.ndarray
    X: np.ndarray           # (stations, p) design of the clean mean: 1, covariates


def prepare(n, v, w, codes, n_groups, prior, grid, spread_prior=10.0, X=None):
    """:class:`Data` for counts ``n, v, w`` (float arrays) on ``grid``.

    Residuals are divided by the group's spread factor (:func:`scales`),
    and so is the binomial part of their variance.  ``X`` (stations, p),
    first column 1, is the design of the clean mean (default: the
    intercept alone, one mean for every station)."""
    m, s, _ = grid
    x, y = logit_counts(n, v, w)
    cx, cy = centres(x, codes, n_groups, prior), centres(y, codes, n_groups, prior)
    sx = scales(x - cx, codes, n_groups, spread_prior)
    sy = scales(y - cy, codes, n_groups, spread_prior)
    a, o, ww = n - v + 0.5, v - w + 0.5, w + 0.5
    a0 = a[:, None] / (1 - m)
    o0 = o[:, None] / (1 - s)
    made, stolen = a0 - a[:, None], o0 - o[:, None]
    w0 = ww[:, None] - made - stolen
    ok = w0 >= 0.5
    w0 = np.where(ok, w0, 1.0)
    v0 = w0 + o0
    zx = (np.log(v0 / a0) - cx[:, None]) / sx[:, None]
    zy = (np.log(w0 / o0) - cy[:, None]) / sy[:, None]
    zx, zy = np.where(ok, zx, 0.0), np.where(ok, zy, 0.0)
    # written feature by feature into one float32 array (stacking float64
    # arrays and converting costs several times more)
    feat = np.empty(zx.shape + (6,), dtype=np.float32)
    for k, f in enumerate((zx * zx, 2 * zx * zy, zy * zy, zx, zy)):
        feat[:, :, k] = f
    feat[:, :, 5] = 1.0
    logj = np.where(ok, np.log(ww)[:, None] - np.log(w0), -np.inf).astype(np.float32)
    pt = 1 / (1 + np.exp(-cx))
    ps = 1 / (1 + np.exp(-cy))
    dvar = np.column_stack([1 / (n * pt * (1 - pt) + 1) / sx ** 2,
                            1 / (n * pt * ps * (1 - ps) + 1) / sy ** 2])
    return Data(n=n, feat=feat, z0=np.column_stack([zx[:, 0], zy[:, 0]]), logj=logj, dvar=dvar,
                made=np.where(ok, made, 0).astype(np.float32),
                stolen=np.where(ok, stolen, 0).astype(np.float32), cx=cx, cy=cy,
                sx=sx, sy=sy, X=np.ones((n.size, 1)) if X is None else X)


@dataclass
class Params:
    """Parameters of the mixture: grid weights ``weights`` (summing to 1;
    entry 0 is the clean class), coefficients ``beta`` (p, 2) of the clean
    mean (station ``i``'s mean residual is ``X_i @ beta``; row 0 is the
    intercept), clean station covariance ``sigma`` (2, 2), the weight ``q``
    of the wide part and the weight ``u`` of the clean outliers (uniform on
    the residual square)."""

    weights: np.ndarray
    beta: np.ndarray
    sigma: np.ndarray
    q: float
    u: float = 1e-3

    def copy(self):
        return replace(self, weights=self.weights.copy(), beta=self.beta.copy(),
                       sigma=self.sigma.copy())


def station_means(data: Data, p: Params):
    """Clean mean residual of each station: two scalars when the design is
    the intercept alone, else two arrays (stations,)."""
    if data.X.shape[1] == 1:
        return float(p.beta[0, 0]), float(p.beta[0, 1])
    m = data.X @ p.beta
    return m[:, 0], m[:, 1]


def class_shares(params, cls):
    """Fraction of stations in each class (clean, incremental, extreme);
    the outliers count as clean."""
    out = np.bincount(cls, weights=params.weights, minlength=3) * (1 - params.u)
    out[0] += params.u
    return out


def start_fraud(clean: Params, cls, incremental=0.05, extreme=0.005):
    """Starting values of the fraud fit: the clean fit plus small uniform
    weights on the fraud grid points (the same rule for the data and the
    null refits, so that the likelihood ratios are comparable)."""
    w = np.zeros(cls.size)
    for k, share in ((1, incremental), (2, extreme)):
        on = cls == k
        if on.any():
            w[on] = share / on.sum()
    w[0] = 1 - w.sum()
    return replace(clean.copy(), weights=w)


def _precisions(sigma, dvar):
    """Per-station precision entries and log-determinant of sigma + D_i."""
    s11 = sigma[0, 0] + dvar[:, 0]
    s22 = sigma[1, 1] + dvar[:, 1]
    s12 = np.full_like(s11, sigma[0, 1])
    det = s11 * s22 - s12 ** 2
    return s22 / det, -s12 / det, s11 / det, np.log(det)


def _columns(data: Data, cols):
    """The features and log Jacobians of the grid columns ``cols`` (the
    arrays themselves when every column is kept, else copies)."""
    if cols.size == data.feat.shape[1]:
        return data.feat, data.logj
    return data.feat[:, cols], data.logj[:, cols]


def e_step(data: Data, p: Params, cols, sub=None):
    """Per-station log-likelihood and responsibilities of the core and wide
    parts at the grid columns ``cols``; ``sub`` is ``_columns(data, cols)``
    when the caller keeps it (the EM loop, which copies the columns once
    per pruning rather than once per step)."""
    p11, p12, p22, logdet = _precisions(p.sigma, data.dvar)
    mx, my = station_means(data, p)
    # quadratic form as one batched product with the features
    coef = np.column_stack([p11, p12, p22, -2 * (p11 * mx + p12 * my),
                            -2 * (p12 * mx + p22 * my),
                            p11 * mx * mx + 2 * p12 * mx * my + p22 * my * my])
    feat, logj = _columns(data, cols) if sub is None else sub
    quad = np.matmul(feat, coef.astype(np.float32)[:, :, None])[:, :, 0]
    np.maximum(quad, 0, out=quad)
    with np.errstate(divide="ignore"):
        logw = np.log(p.weights[cols]).astype(np.float32)
    base = logj + logw
    k = np.float32(KAPPA)
    half = np.float32(0.5) * quad
    # scale each station by its best point so that exp does not underflow
    # (the wide part's exponent is the larger one, since quad >= 0)
    wide_arg = base - half / k
    lead = np.max(wide_arg, axis=1)
    lead = np.where(np.isfinite(lead), lead, 0.0).astype(np.float32)
    # exponents are floored at -80 (exp stays a normal float32: subnormal
    # numbers make the array arithmetic many times slower)
    floor = np.float32(-80)
    wide_arg -= lead[:, None]
    wide = np.exp(np.maximum(wide_arg, floor, out=wide_arg), out=wide_arg)
    core_arg = base - half
    core_arg -= lead[:, None]
    core = np.exp(np.maximum(core_arg, floor, out=core_arg), out=core_arg)
    cw = (1 - p.u) * (1 - p.q)
    ww = (1 - p.u) * p.q / KAPPA
    sc, sw = core.sum(axis=1).astype(np.float64), wide.sum(axis=1).astype(np.float64)
    # the outliers' uniform density on the same scale as the normal parts
    log_out = (np.log(p.u / (2 * HALF_WIDTH) ** 2 * 2 * np.pi) + 0.5 * logdet
               - lead.astype(np.float64))
    out = np.exp(np.minimum(log_out, 700.0))
    total = np.maximum(cw * sc + ww * sw + out, 1e-300)
    loglik = np.log(total) + lead - np.log(2 * np.pi) - 0.5 * logdet
    inv = np.minimum(1 / total, 1e30).astype(np.float32)[:, None]
    core *= np.float32(cw) * inv
    wide *= np.float32(ww) * inv
    return loglik, core, wide, feat, out / total


def m_step(data: Data, p: Params, cols, r_core, r_wide, feat, r_out):
    """New parameters from the responsibilities (an exact EM step).

    The residual at grid point ``g`` is a latent clean deviate ``z*`` (law
    N(mu, h sigma), h = 1 or KAPPA) plus binomial noise N(0, h D_i); given
    the residual, ``z*`` has mean ``mu + K_i d`` and covariance
    ``h K_i D_i`` with ``K_i = sigma (sigma + D_i)^-1`` (the same for both
    parts).  The step maximises the expected complete log-likelihood.
    """
    n_all = r_core.shape[0]
    u = min(max(float(r_out.sum()) / n_all, U_MIN), U_MAX)
    n = n_all - float(r_out.sum())          # stations not taken as outliers
    w = np.zeros_like(p.weights)
    w[cols] = (r_core.sum(axis=0, dtype=np.float64)
               + r_wide.sum(axis=0, dtype=np.float64))
    w = w / w.sum()
    q = float(r_wide.sum(dtype=np.float64) / n)
    q = min(max(q, 1e-4), 0.5)
    # per-station moments of the residuals, the wide part's points weighted
    # by 1 / KAPPA: one batched product with the features
    r_wide *= np.float32(1 / KAPPA)
    r_wide += r_core
    mom = np.matmul(r_wide[:, None, :], feat)[:, 0, :].astype(np.float64)
    mx0, my0 = station_means(data, p)
    R = mom[:, 5]
    mx = mom[:, 3] - mx0 * R
    my = mom[:, 4] - my0 * R
    sxx = mom[:, 0] - 2 * mx0 * mom[:, 3] + mx0 ** 2 * R
    syy = mom[:, 2] - 2 * my0 * mom[:, 4] + my0 ** 2 * R
    sxy = (0.5 * mom[:, 1] - mx0 * mom[:, 4] - my0 * mom[:, 3] + mx0 * my0 * R)
    p11, p12, p22, _ = _precisions(p.sigma, data.dvar)
    d1, d2 = data.dvar[:, 0], data.dvar[:, 1]
    k11, k12, k21, k22 = 1 - d1 * p11, -d1 * p12, -d2 * p12, 1 - d2 * p22
    # K M (posterior mean shifts) and the new mean
    kmx, kmy = k11 * mx + k12 * my, k21 * mx + k22 * my
    if data.X.shape[1] == 1:
        delta = np.array([kmx.sum(), kmy.sum()]) / R.sum()
        beta = p.beta + delta[None, :]
        dx, dy = delta
        sum_dkx, sum_dky = dx * kmx.sum(), dy * kmy.sum()
        sum_dxky, sum_dykx = dx * kmy.sum(), dy * kmx.sum()
        tot = R.sum()
        sum_rdd = (tot * dx ** 2, tot * dy ** 2, tot * dx * dy)
    else:
        # the same regressors for both coordinates: the generalised least
        # squares step is ordinary weighted least squares, column by column
        X = data.X
        xtrx = X.T @ (X * R[:, None])
        target = np.column_stack([kmx, kmy])
        beta = p.beta + np.linalg.solve(xtrx, X.T @ target)
        step = X @ (beta - p.beta)
        dx, dy = step[:, 0], step[:, 1]
        sum_dkx, sum_dky = (dx * kmx).sum(), (dy * kmy).sum()
        sum_dxky, sum_dykx = (dx * kmy).sum(), (dy * kmx).sum()
        sum_rdd = np.array([(R * dx * dx).sum(), (R * dy * dy).sum(), (R * dx * dy).sum()])
    # K S K^T, the centring correction and the posterior covariance K D
    a11 = k11 * k11 * sxx + 2 * k11 * k12 * sxy + k12 * k12 * syy
    a22 = k21 * k21 * sxx + 2 * k21 * k22 * sxy + k22 * k22 * syy
    a12 = k11 * k21 * sxx + (k11 * k22 + k12 * k21) * sxy + k12 * k22 * syy
    c11, c12, c22 = k11 * d1, k12 * d2, k22 * d2
    s11 = (a11.sum() - 2 * sum_dkx + sum_rdd[0] + c11.sum()) / n
    s22 = (a22.sum() - 2 * sum_dky + sum_rdd[1] + c22.sum()) / n
    s12 = (a12.sum() - sum_dxky - sum_dykx + sum_rdd[2] + c12.sum()) / n
    sigma = _floor(np.array([[s11, s12], [s12, s22]]))
    return Params(weights=w, beta=beta, sigma=sigma, q=q, u=u)


def _floor(sigma):
    vals, vecs = np.linalg.eigh(sigma)
    vals = np.maximum(vals, MIN_SD ** 2)
    return (vecs * vals) @ vecs.T


#: Grid points whose weight falls below this are dropped during the EM.
PRUNE = 1e-6


def fit(data: Data, start: Params, *, fraud=True, max_iter=200, tol=1e-6, record=None):
    """EM from ``start``; returns (params, total log-likelihood, iterations).

    ``record`` (a dict with key ``"at"``, an iteration number) receives the
    log-likelihood after that many steps under ``"loglik"`` (the last one
    if the EM stopped earlier).

    With ``fraud=False`` only the clean point is used (the null model).
    Stops when the log-likelihood gains less than ``tol`` per station in
    one step.  Grid points whose weight falls below :data:`PRUNE` are
    dropped (their weight set to 0), which speeds up fits with little fraud.
    """
    cols = np.flatnonzero(start.weights > 0) if fraud else np.array([0])
    p = start.copy()
    if not fraud:
        p.weights = np.zeros_like(p.weights)
        p.weights[0] = 1.0
    old = -np.inf
    stop = tol * data.n.size
    sub = _columns(data, cols)
    for it in range(1, max_iter + 1):
        loglik, rc, rw, feat, ro = e_step(data, p, cols, sub)
        ll = float(loglik.sum())
        if record is not None and it == record["at"] + 1:
            record["loglik"] = ll
        p = m_step(data, p, cols, rc, rw, feat, ro)
        small = (p.weights < PRUNE) & (p.weights > 0)
        small[0] = False
        if small.any():
            p.weights[small] = 0.0
            p.weights /= p.weights.sum()
            cols = np.flatnonzero(p.weights > 0)
            sub = _columns(data, cols)
        if abs(ll - old) < stop:
            break
        old = ll
    ll = float(e_step(data, p, cols, sub)[0].sum())
    if record is not None and "loglik" not in record:
        record["loglik"] = ll
    return p, ll, it


def posterior(data: Data, p: Params, cls):
    """Per-station class probabilities (stations, 3) and the posterior
    (mean, sd) of the manufactured and of the stolen votes."""
    cols = np.flatnonzero(p.weights > 0)
    _, rc, rw, _, ro = e_step(data, p, cols)
    r = (rc + rw).astype(np.float64)
    r *= ((1 - ro) / np.maximum(r.sum(axis=1), 1e-300))[:, None]
    r[:, 0] += ro                      # outliers are clean stations
    probs = np.zeros((r.shape[0], 3))
    for k in range(3):
        on = cls[cols] == k
        probs[:, k] = r[:, on].sum(axis=1)
    out = []
    for x in (data.made[:, cols], data.stolen[:, cols]):
        mean = (r * x).sum(axis=1)
        var = np.maximum((r * x * x).sum(axis=1) - mean ** 2, 0)
        out.append((mean, np.sqrt(var)))
    return probs, out[0], out[1]


def initial_clean(data: Data, weights_size):
    """Robust starting values of the clean component (medians and MADs of
    the residuals at the clean point)."""
    zx, zy = data.z0[:, 0], data.z0[:, 1]
    beta = np.zeros((data.X.shape[1], 2))
    beta[0] = np.median(zx), np.median(zy)
    sx = max(1.4826 * np.median(np.abs(zx - beta[0, 0])), MIN_SD)
    sy = max(1.4826 * np.median(np.abs(zy - beta[0, 1])), MIN_SD)
    w = np.zeros(weights_size)
    w[0] = 1.0
    return Params(weights=w, beta=beta, sigma=np.diag([sx ** 2, sy ** 2]), q=0.05)


def simulate(n, data: Data, p: Params, grid, gen):
    """Counts of one election drawn from the fitted model.

    Every station keeps its registered voters and its (fitted) centre.  Its
    class point ``g`` is drawn with the grid weights, its clean logits from
    the core or wide normal law around centre + its mean, its clean counts
    binomially, then ``Binomial(a0, m_g)`` abstainers are turned into
    leader votes and ``Binomial(o0, s_g)`` other votes moved to the leader.

    Returns (v, w, manufactured, stolen, point).
    """
    m, s, _ = grid
    k = n.size
    g = gen.choice(p.weights.size, size=k, p=p.weights)
    wide = gen.random(k) < p.q
    chol = np.linalg.cholesky(p.sigma)
    e = gen.standard_normal((k, 2)) @ chol.T
    e[wide] *= np.sqrt(KAPPA)
    out = gen.random(k) < p.u
    mx, my = (np.broadcast_to(np.asarray(m, float), (k,)) for m in station_means(data, p))
    e[out] = gen.uniform(-HALF_WIDTH, HALF_WIDTH, (int(out.sum()), 2)) - np.column_stack(
        [mx[out], my[out]])
    g[out] = 0
    x = data.cx + data.sx * (mx + e[:, 0])
    y = data.cy + data.sy * (my + e[:, 1])
    ni = n.astype(np.int64)
    v0 = gen.binomial(ni, 1 / (1 + np.exp(-x)))
    w0 = gen.binomial(v0, 1 / (1 + np.exp(-y)))
    a0, o0 = ni - v0, v0 - w0
    made = gen.binomial(a0, m[g])
    stolen = gen.binomial(o0, s[g])
    return (v0 + made).astype(float), (w0 + made + stolen).astype(float), made, stolen, g
