"""The Klimek et al. (2012) model of an election fingerprint: the turnout x
leader-share histogram, simulated elections with incremental and extreme
fraud, and the fit of the fraud shares ``f_i`` and ``f_e``.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from .._lazy import special


def fingerprint_histogram(turnout, share, bins: int = 50) -> np.ndarray:
    """Station counts on a ``bins`` x ``bins`` grid of [0, 1]^2
    (rows: turnout, columns: leader share). Cells are closed on the left
    (0.5 falls in the upper half) and 1.0 falls in the last cell.

    Examples
    --------
    >>> fingerprint_histogram([0.1, 0.95, 1.0], [0.4, 0.99, 1.0], bins=2)
    array([[1, 0],
           [0, 2]])
    """
    return np.bincount(_cells(np.asarray(turnout, float), np.asarray(share, float), bins),
                       minlength=bins * bins).reshape(bins, bins)


def _cells(a, v, bins):
    ia = np.clip((a * bins).astype(np.int64), 0, bins - 1)
    iv = np.clip((v * bins).astype(np.int64), 0, bins - 1)
    return ia * bins + iv


def _hist_bins(x, nb):
    """Bin of each value on ``nb`` equal bins of [0, 1], as ``np.histogram``
    assigns them (left-closed, the last bin closed; values outside dropped
    as -1)."""
    edges = np.linspace(0, 1, nb + 1)
    idx = np.minimum((x * nb).astype(np.int64), nb - 1)
    idx = np.maximum(idx, 0)
    idx -= x < edges[idx]
    up = (x >= edges[np.minimum(idx + 1, nb)]) & (idx < nb - 1)
    idx += up
    return np.where((x >= 0) & (x <= 1), idx, -1)


def _summaries(x, codes, n_groups, nb=100, smooth=5):
    """Mode and left spread of ``x`` (values in [0, 1]) in each group and
    over all stations, from one pass over the data.

    The histogram has ``nb`` bins on [0, 1], smoothed by a moving sum of
    ``smooth`` bins (zeros beyond the ends); the mode is the centre of the
    first highest bin.  The spread is the root mean square of ``x - mode``
    over the values below the mode, or the standard deviation when fewer
    than 5 lie below; at least 0.005.  Counts, sums and sums of squares are
    taken on half-bins (``2 * nb``), whose edges include every bin centre,
    so the values below any mode are whole half-bins.

    Returns
    -------
    mode, sd : ndarray, shape (n_groups + 1,)
        One entry per group code, the last for all stations together.
    """
    fine = 2 * nb
    edges = np.linspace(0, 1, fine + 1)
    key = np.maximum(_hist_bins(x, fine), 0)      # values lie in [0, 1]
    if codes is not None:
        key = key + codes * fine
    size = n_groups * fine
    cnt = np.bincount(key, minlength=size).reshape(n_groups, fine)
    s1 = np.bincount(key, weights=x, minlength=size).reshape(n_groups, fine)
    s2 = np.bincount(key, weights=x * x, minlength=size).reshape(n_groups, fine)
    cnt, s1, s2 = (np.vstack([m, m.sum(axis=0)]) for m in (cnt, s1, s2))
    rows = n_groups + 1
    hist = cnt.reshape(rows, nb, 2).sum(axis=2)
    if smooth > 1:
        half = smooth // 2
        padded = np.pad(hist, ((0, 0), (half, smooth - 1 - half)))
        csum = np.concatenate([np.zeros((rows, 1), np.int64),
                               np.cumsum(padded, axis=1)], axis=1)
        hist = csum[:, smooth:] - csum[:, :-smooth]     # integer moving sums
    k = np.argmax(hist, axis=1)
    mode = edges[2 * k + 1]                # the centre of bin k
    r = np.arange(rows)
    n_below = np.cumsum(cnt, axis=1)[r, 2 * k]
    s1_below = np.cumsum(s1, axis=1)[r, 2 * k]
    s2_below = np.cumsum(s2, axis=1)[r, 2 * k]
    # sum over x < mode of (x - mode)^2
    dev2 = np.maximum(s2_below - 2 * mode * s1_below + mode ** 2 * n_below, 0.0)
    left = np.sqrt(dev2 / np.maximum(n_below, 1))
    count = cnt.sum(axis=1)
    mean = s1.sum(axis=1) / np.maximum(count, 1)
    var = np.maximum(s2.sum(axis=1) / np.maximum(count, 1) - mean ** 2, 0.0)
    sd = np.where(n_below >= 5, left, np.sqrt(var))
    return mode, np.maximum(sd, 0.005)


def _fair_params(a, v, codes, min_group):
    """Fair means and spreads (mode and left-side RMS of turnout and leader
    share in each station's group, or overall for small groups).

    Returns ``table`` (one row per parameter class: row 0 overall, row
    ``1 + g`` group ``g``), ``cls`` (each station's row) and a dict of the
    values by group for the details.
    """
    n_groups = 1 if codes is None else int(codes.max()) + 1
    ma, sa = _summaries(a, codes, n_groups)
    mv, sv = _summaries(v, codes, n_groups)
    vals = np.column_stack([ma, sa, mv, sv])
    overall = vals[-1]
    table = {"__all__": tuple(float(x) for x in overall)}
    if codes is None:
        return overall[None, :].copy(), np.zeros(a.size, np.int64), table
    big = np.bincount(codes, minlength=n_groups) >= min_group
    for g in np.flatnonzero(big):
        table[int(g)] = tuple(float(x) for x in vals[g])
    classes = np.vstack([overall, vals[:-1]])
    cls = np.where(big[codes], codes + 1, 0)
    return classes, cls, table


def _truncnorm(mu, sd, u, cls):
    """Normal(mu, sd) truncated to [0, 1] by inverse CDF of uniforms ``u``;
    ``mu`` and ``sd`` per class, ``cls`` the class of each draw."""
    lo = special.ndtr((0 - mu) / sd)
    hi = special.ndtr((1 - mu) / sd)
    p = np.clip(lo[cls] + u * (hi - lo)[cls], 1e-12, 1 - 1e-12)
    return np.clip(mu[cls] + sd[cls] * special.ndtri(p), 0.0, 1.0)


def _halfnorm_below1(scale, u):
    """|Normal(0, scale)| truncated to [0, 1] by inverse CDF of uniforms."""
    top = 2 * special.ndtr(1 / scale) - 1
    p = np.clip((1 + u * top) / 2, 0.5, 1 - 1e-12)
    return np.clip(scale * special.ndtri(p), 0.0, 1.0)


def _apply_fraud(reg, t0, w0, x, alpha):
    """Add a fraction x of non-voters' ballots to the leader and move a
    fraction x**alpha of the other votes to him (Klimek et al., Methods)."""
    stuffed = np.round(x * (reg - t0))
    moved = np.round(x ** alpha * (t0 - w0))
    return t0 + stuffed, w0 + stuffed + moved


def _fair_counts(reg, table, cls, ua, uv):
    """Fair ballots and leader votes; ``table`` holds the fair values of
    each parameter class, ``cls`` the class of each station."""
    a = _truncnorm(table[:, 0], table[:, 1], ua, cls)
    v = _truncnorm(table[:, 2], table[:, 3], uv, cls)
    t0 = np.round(reg * a)
    w0 = np.round(t0 * v)
    return t0, w0


def _share(t, w):
    return np.divide(w, t, out=np.zeros_like(w), where=t > 0)


def simulate_klimek(registered, fair, f_i, f_e, *, theta=0.1, alpha=2.0,
                    sigma_extreme=0.075, rng=None):
    """Simulate one election from the Klimek et al. fraud model.

    Parameters
    ----------
    registered : array_like of int, shape (n,)
        Voters on the list at each station (kept as given).
    fair : array_like, shape (4,) or (n, 4)
        Fair turnout mean, turnout sd, leader-share mean, leader-share sd
        (one row for all stations, or one per station).
    f_i, f_e : float
        Probabilities of incremental and extreme fraud (``f_i + f_e <= 1``).
    theta : float, default 0.1
        Scale of the half-normal fraction of non-voters stuffed under
        incremental fraud.
    alpha : float, default 2.0
        The fraction of other votes moved to the leader is ``x ** alpha``.
    sigma_extreme : float, default 0.075
        Under extreme fraud the fraction is ``1 - |N(0, sigma_extreme)|``.
    rng : None, int or numpy.random.Generator

    Returns
    -------
    DataFrame
        ``registered``, ``ballots_cast``, ``leader`` and ``fraud`` (``'none'``,
        ``'incremental'`` or ``'extreme'``).

    Examples
    --------
    >>> sim = simulate_klimek(np.full(1000, 1000), [0.5, 0.05, 0.6, 0.05],
    ...                       0.0, 0.2, rng=0)
    >>> ext = sim[sim.fraud == "extreme"]
    >>> bool((ext.ballots_cast / ext.registered).mean() > 0.9)
    True
    """
    reg = np.asarray(registered, dtype=float)
    if not (0 <= f_i and 0 <= f_e and f_i + f_e <= 1):
        raise ValueError(f"f_i and f_e must be >= 0 with f_i + f_e <= 1, got {f_i}, {f_e}")
    t, w, kind = _simulate_arrays(reg, fair, f_i, f_e, theta, alpha, sigma_extreme,
                                  np.random.default_rng(rng))
    return pd.DataFrame({"registered": reg.astype(np.int64),
                         "ballots_cast": t.astype(np.int64),
                         "leader": w.astype(np.int64),
                         "fraud": np.array(["none", "incremental", "extreme"])[kind]})


def _simulate_arrays(reg, fair, f_i, f_e, theta, alpha, sigma_extreme, gen, cls=None):
    """Ballots cast, leader votes and fraud kind (0 none, 1 incremental,
    2 extreme) of one simulated election (see :func:`simulate_klimek`).
    ``fair`` holds one row for all stations, one per station, or (with
    ``cls``) one per parameter class."""
    table = np.atleast_2d(np.asarray(fair, dtype=float))
    if cls is None:
        cls = (np.zeros(reg.size, np.int64) if table.shape[0] == 1
               else np.arange(reg.size))
    u = gen.random((4, reg.size))
    t0, w0 = _fair_counts(reg, table, cls, u[0], u[1])
    kind = np.where(u[2] < f_i, 1, np.where(u[2] < f_i + f_e, 2, 0))
    x = np.zeros(reg.size)
    x[kind == 1] = _halfnorm_below1(theta, u[3][kind == 1])
    x[kind == 2] = 1 - _halfnorm_below1(sigma_extreme, u[3][kind == 2])
    t, w = _apply_fraud(reg, t0, w0, x, alpha)
    return t, w, kind


def _draws(reg, gen, *, n_sim, theta, sigma_extreme, step):
    """The random numbers of one fit and what follows from them alone: the
    stations copied ``n_sim`` times, uniforms for the fair turnout and
    share, the fraud segment of each station on the (f_i, f_e) grid and
    its fraud intensities (extreme, and incremental for every theta)."""
    u = gen.random((4, reg.size * n_sim))
    J = int(round(1 / step))
    return {"regs": np.tile(reg, n_sim), "ua": u[0], "uv": u[1], "J": J,
            "seg": np.minimum((u[2] * J).astype(np.int64), J - 1),
            "xe": 1 - _halfnorm_below1(sigma_extreme, u[3]),
            "xi": [_halfnorm_below1(th, u[3]) for th in theta]}


def _fit(reg, a, v, codes, *, bins, alpha, theta, sigma_extreme, step, fi_max,
         fe_max, n_sim, min_group, gen, n_correct=2, keep=False):
    """Fit with the fair values corrected for the pull of the fraud itself.

    The observed modes and left spreads are shifted by fraudulent stations,
    so the fair values read from them are biased. After each grid fit the
    simulated election of the fitted grid point (the fit's own simulated
    stations) is summarised as the data are; the fair values are moved by
    the gap between the observed summaries and the simulated ones (a
    fixed-point, indirect-inference step), ``n_correct`` times.

    The fair values are kept per *parameter class* (``table`` rows, ``cls``
    of each station): one per group at first, split further only where a
    correction moves stations of one group differently.
    """
    target, target_cls, fair_table = _fair_params(a, v, codes, min_group)
    # the fair values now, each class's row and its row of the target
    table, cls, of_target = target, target_cls, np.arange(len(target))
    # the same random numbers for every pass (common random numbers), so
    # that the fits with and without the correction compare like for like
    draws = _draws(reg, gen, n_sim=n_sim, theta=theta, sigma_extreme=sigma_extreme,
                   step=step)
    obs = np.bincount(_cells(a, v, bins), minlength=bins * bins).astype(float)
    grid = dict(bins=bins, alpha=alpha, theta=theta, fi_max=fi_max, fe_max=fe_max,
                n_sim=n_sim, step=step, keep=keep)
    # first pass, fair values as read from the data: the improvement of fit
    # that the fraud terms bring, on the same simulated stations
    r = first = _grid_fit(draws, obs, table, cls, **grid)
    chi2_null, delta = r["chi2_zero"], r["chi2_zero"] - r["chi2"]
    tiled = None if codes is None else np.tile(codes, n_sim)
    n = reg.size
    current = True       # r was fitted with the current fair values
    for _ in range(int(n_correct)):
        if not current:
            r, current = _grid_fit(draws, obs, table, cls, **grid), True
        if r["f_i"] + r["f_e"] == 0:
            break
        t_s, w_s = r["simulated"]
        kept = t_s > 0
        c_s = None if tiled is None else tiled[kept]
        sim_table, sim_cls, _ = _fair_params((t_s / draws["regs"])[kept],
                                             _share(t_s, w_s)[kept], c_s, min_group)
        # each station's simulated class in the first copy where it was kept
        full = np.full(n * n_sim, -1, np.int64)
        full[kept] = sim_cls
        first_kept = full[:n].copy()
        for c in range(1, n_sim):
            fill = first_kept < 0
            first_kept[fill] = full[c * n:(c + 1) * n][fill]
        k_s = len(sim_table)
        key = cls * (k_s + 1) + np.where(first_kept >= 0, first_kept, k_s)
        used = np.flatnonzero(np.bincount(key, minlength=len(table) * (k_s + 1)))
        lookup = np.zeros(len(table) * (k_s + 1), np.int64)
        lookup[used] = np.arange(used.size)
        old, s = np.divmod(used, k_s + 1)
        sim_rows = np.vstack([sim_table, np.full((1, 4), np.nan)])[s]
        gap = target[of_target[old]] - sim_rows      # nan: never kept, no move
        table = table[old] + np.where(np.isnan(gap), 0.0, gap)
        table[:, [0, 2]] = np.clip(table[:, [0, 2]], 0.0, 1.0)
        table[:, [1, 3]] = np.maximum(table[:, [1, 3]], 0.005)
        cls, of_target = lookup[key], of_target[old]
        current = False
    out = r if current else _grid_fit(draws, obs, table, cls, **grid)
    out["corrected"] = out is not first
    if out["chi2"] > first["chi2"]:
        # the correction made the fit worse (a misspecified fair model can
        # run away): keep the values read from the data
        out, table, cls = first, target, target_cls
        out["corrected"] = False
    out["par"] = (table, cls)
    out["chi2_null"] = chi2_null
    out["delta_chi2"] = delta
    fair_table = dict(fair_table)
    per_class = np.bincount(cls, minlength=len(table))
    fair_table["__corrected__"] = tuple(float(x) for x in per_class @ table / n)
    out["fair_table"] = fair_table
    return out


def _grid_fit(draws, obs_full, table, cls, *, bins, alpha, theta, step, fi_max,
              fe_max, n_sim, keep=False):
    """Grid fit of (theta, f_i, f_e) by minimum Neyman chi-square between the
    observed fingerprint ``obs_full`` and the model's expected one.

    Common random numbers: every grid point uses the same simulated stations
    (``draws``), whose fraud status follows from one uniform each
    (incremental if ``u < f_i``, extreme if ``f_i <= u < f_i + f_e``).
    Cumulating each station's three possible cells along ``u`` gives the
    expected fingerprint of every grid point at once.  ``simulated`` in the
    result holds the ballots and leader votes of the simulated stations at
    the best grid point.
    """
    J = draws["J"]
    regs, seg = draws["regs"], draws["seg"]
    t0, w0 = _fair_counts(regs, table, np.tile(cls, n_sim), draws["ua"], draws["uv"])

    # each simulated station's cell when clean, under extreme fraud, and
    # under incremental fraud for every theta
    c_clean = _cells(t0 / regs, _share(t0, w0), bins)
    te, we = _apply_fraud(regs, t0, w0, draws["xe"], alpha)
    c_ext = _cells(te / regs, _share(te, we), bins)
    inc, c_inc = [], []
    for xi in draws["xi"]:
        ti_, wi_ = _apply_fraud(regs, t0, w0, xi, alpha)
        inc.append((ti_, wi_))
        c_inc.append(_cells(ti_ / regs, _share(ti_, wi_), bins))
    # work on the cells that are ever occupied (most of the grid is empty)
    occupied = obs_full > 0
    for cells in (c_clean, c_ext, *c_inc):
        occupied[cells] = True
    used = np.flatnonzero(occupied)
    ncell = used.size
    obs = obs_full[used]
    position = np.full(bins * bins, -1, dtype=np.int64)
    position[used] = np.arange(ncell)

    def cum(cells):
        idx = position[cells]
        counts = np.bincount(seg * ncell + idx, minlength=J * ncell).reshape(J, ncell)
        out = np.zeros((J + 1, ncell))
        np.cumsum(counts, axis=0, out=out[1:])
        return out / n_sim

    p_clean = cum(c_clean)
    p_ext = cum(c_ext)

    weight = 1.0 / (obs + 1.0)
    j = np.arange(J + 1)
    valid = ((j[None, :] >= j[:, None])                       # k = j1 + j2 >= j1
             & (j[None, :] - j[:, None] <= fe_max * J + 1e-9)  # j2 <= fe_max
             & (j[:, None] <= fi_max * J + 1e-9))               # j1 <= fi_max
    # H(j1, k) = A[j1] + B[k]; D = sum_c w (A + B - O)^2 expands to matmuls.
    B = p_ext - p_clean + p_clean[J]
    b_term = ((B - obs) ** 2 * weight).sum(axis=1)
    best = (np.inf, None)
    objective = []
    p_inc_best = None
    for ti, th in enumerate(theta):
        p_inc = cum(c_inc[ti])
        A = p_inc - p_ext
        # (A + B - O)^2 = A^2 + 2 A (B - O) + (B - O)^2
        D = ((A ** 2 * weight).sum(axis=1)[:, None]
             + 2 * (A * weight) @ (B - obs).T + b_term[None, :])
        D = np.where(valid, D, np.inf)
        chi2_zero = D[0, 0]  # f_i = f_e = 0: the same for every theta
        j1, k = np.unravel_index(np.argmin(D), D.shape)
        if D[j1, k] < best[0]:
            best = (D[j1, k], (ti, j1, k))
            p_inc_best = p_inc
        if keep:
            jj1, kk = np.nonzero(valid)
            objective.append(pd.DataFrame({"theta": th, "f_i": jj1 * step,
                                           "f_e": (kk - jj1) * step,
                                           "chi2": D[jj1, kk]}))
    ti, j1, k = best[1]
    is_inc, is_ext = seg < j1, (seg >= j1) & (seg < k)
    ti_, wi_ = inc[ti]
    out = {"f_i": j1 * step, "f_e": (k - j1) * step, "theta": float(theta[ti]),
           "chi2": float(best[0]), "chi2_zero": float(chi2_zero),
           "simulated": (np.where(is_inc, ti_, np.where(is_ext, te, t0)),
                         np.where(is_inc, wi_, np.where(is_ext, we, w0)))}
    if keep:
        fitted = np.zeros(bins * bins)
        fair = np.zeros(bins * bins)
        fitted[used] = p_inc_best[j1] - p_ext[j1] + p_ext[k] - p_clean[k] + p_clean[J]
        fair[used] = p_clean[J]
        out.update(obs=obs_full, fitted=fitted, fair=fair,
                   objective=pd.concat(objective, ignore_index=True))
    return out


def _simulate_from(reg, par, f_i, f_e, theta, alpha, sigma_extreme, gen):
    table, cls = par
    t, w, _ = _simulate_arrays(reg, table, f_i, f_e, theta, alpha, sigma_extreme,
                               gen, cls=cls)
    keep = t > 0
    return keep, t / reg, _share(t, w)
