"""The two nulls of the spike test: the regression-kink (``rkd``) comparison of
the histogram of shares with a smooth density, and the ``exact``
Poisson-binomial count of stations in the windows.
"""

from __future__ import annotations

import itertools

import numpy as np
import pandas as pd
from .._lazy import sparse, special

from ....core.threads import map_threads
from ...result import simulated_pvalue
from .._poisson_binomial import poisson_binomial_sf
from .mixture import (_latent_shares, _window, beta_prior, fit_beta_binomial_mixture,
                      hit_probability)


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
