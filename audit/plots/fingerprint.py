"""Figures for the fingerprint, spike and excess-vote tests.

Each function takes a result (or its table), accepts ``ax=None`` and returns
the Axes. Nothing statistical is computed here: the numbers drawn are the
ones in the result's table.
"""

from __future__ import annotations

import numpy as np
from matplotlib.colors import LogNorm

from .house import outside_legend

__all__ = ["plot_fingerprint", "plot_spikes", "plot_excess_votes", "shared_scale"]


def _table(result, columns):
    table = getattr(result, "table", result)
    if table is None:
        raise ValueError("the result carries no table to draw")
    missing = [c for c in columns if c not in table.columns]
    if missing:
        raise ValueError(f"table lacks columns {missing}; is this the right result?")
    return table


def _axes(ax):
    if ax is None:
        import matplotlib.pyplot as plt   # only when no Axes is given

        _, ax = plt.subplots()
    return ax


def shared_scale(results, *, which="observed"):
    """One colour scale for several fingerprints (of different elections or
    regions), so that the same colour means the same count in each.

    Reads the largest cell count of each table (no statistic is computed)
    and returns a :class:`~matplotlib.colors.LogNorm` to pass as ``norm=``
    to :func:`plot_fingerprint`.
    """
    vmax = 1.0
    for r in results:
        t = getattr(r, "table", r)
        if t is not None and which in t and len(t):
            vmax = max(vmax, float(np.nanmax(t[which].to_numpy(float))))
    return LogNorm(vmin=1.0, vmax=vmax)


def plot_fingerprint(result, ax=None, *, which="observed", cmap="viridis",
                     colorbar=True, norm=None):
    """Turnout by leader share, station counts on a log colour scale.

    Parameters
    ----------
    result : FingerprintResult or DataFrame
        The result of :func:`audit.stations.forensics.fingerprints.fingerprint` or
        its ``table``.
    ax : matplotlib Axes, optional
    which : {'observed', 'fitted', 'fair'}, default 'observed'
        The observed fingerprint, the fitted model's expected one, or the
        fair model's (no fraud).
    cmap : str, default 'viridis'
    colorbar : bool, default True
    norm : matplotlib.colors.Normalize, optional
        A colour scale shared with other fingerprints (see
        :func:`shared_scale`); by default the scale of this table alone.

    Returns
    -------
    matplotlib.axes.Axes
    """
    if which not in ("observed", "fitted", "fair"):
        raise ValueError(f"which must be 'observed', 'fitted' or 'fair', got {which!r}")
    t = _table(result, ["turnout_lo", "turnout_hi", "share_lo", "share_hi", which])
    ax = _axes(ax)
    t_edges = np.union1d(t["turnout_lo"], t["turnout_hi"])
    s_edges = np.union1d(t["share_lo"], t["share_hi"])
    grid = (t.pivot_table(index="share_lo", columns="turnout_lo", values=which,
                          aggfunc="sum")
            .reindex(index=s_edges[:-1], columns=t_edges[:-1]).to_numpy(float))
    grid = np.where(grid > 0, grid, np.nan)
    vmax = np.nanmax(grid) if np.any(np.isfinite(grid)) else 1.0
    vmin = min(1.0, vmax) if which == "observed" else max(np.nanmin(grid), vmax * 1e-4)
    if norm is None:
        norm = LogNorm(vmin=vmin, vmax=vmax)
    mesh = ax.pcolormesh(t_edges * 100, s_edges * 100, grid, cmap=cmap,
                         norm=norm, shading="flat")
    ax.set_xlim(0, 100)
    ax.set_ylim(0, 100)
    ax.set_xlabel("Turnout, %")
    ax.set_ylabel("Leader's share, %")
    ax.grid(False)
    titles = {"observed": "Election fingerprint", "fitted": "Fitted fraud model",
              "fair": "Fair model (no fraud)"}
    ax.set_title(titles[which])
    if colorbar:
        ax.figure.colorbar(mesh, ax=ax, label="Stations per cell")
    return ax


def plot_spikes(result, ax=None, *, focal=None, xlim=None):
    """Observed leader shares against their resamples (Rozenas' plot).

    Draws the observed and mean resampled station counts per share bin.
    When the table comes from the resampled kernel density method (it has
    ``kde_envelope`` and ``flagged``), also shades the largest resampled
    kernel density (the upper envelope, as a kernel-weighted count of
    stations at each grid point) and marks the bins counted as spikes,
    where the observed density rises above it.

    Parameters
    ----------
    result : SpikeResult or DataFrame
        The result of :func:`audit.stations.forensics.spikes.spikes` or its ``table``.
    ax : matplotlib Axes, optional
    focal : sequence of float, optional
        Focal shares to mark; default the ones the test used (from
        ``result.params``), when a result is given.
    xlim : (float, float), optional
        Share range to show, in percent.

    Returns
    -------
    matplotlib.axes.Axes
    """
    t = _table(result, ["share_lo", "share_hi", "observed", "resampled"])
    ax = _axes(ax)
    if focal is None and hasattr(result, "params"):
        focal = result.params.get("focal")
    x = (t["share_lo"].to_numpy() + t["share_hi"].to_numpy()) / 2 * 100
    ax.plot(x, t["observed"], lw=0.8, label="Observed", color="C3")
    ax.plot(x, t["resampled"], lw=1.2, label="Resamples (mean)", color="C0")
    if {"kde_envelope", "flagged"} <= set(t.columns):
        ax.fill_between(x, 0, t["kde_envelope"].to_numpy(float), color="C0", alpha=0.2,
                        lw=0, zorder=0, label="Resampled kernel density,\nupper envelope")
        flagged = t["flagged"].to_numpy(bool)
        if flagged.any():
            ax.scatter(x[flagged], t["observed"].to_numpy(float)[flagged], s=12, color="C1",
                       zorder=3, label="Counted as spikes")
    if focal is not None:
        for f in focal:
            ax.axvline(100 * f, color="0.6", lw=0.5, ls=":", zorder=0)
    ax.set_xlabel("Leader's share, %")
    ax.set_ylabel(f"Stations per {100 * (t['share_hi'] - t['share_lo']).iloc[0]:.2g}-point bin")
    ax.set_xlim(*(xlim if xlim is not None else (0, 100)))
    ax.set_title("Spikes at round shares")
    outside_legend(ax)
    return ax


def plot_excess_votes(result, ax=None, *, scale=1e3):
    """Votes of the leader and of the others by turnout (Shpilkin's plot).

    Parameters
    ----------
    result : ExcessVotesResult or DataFrame
        The result of :func:`audit.stations.forensics.excess_votes.excess_votes` or
        its ``table``.
    ax : matplotlib Axes, optional
    scale : float, default 1000
        Votes are drawn in units of ``scale``.

    Returns
    -------
    matplotlib.axes.Axes
    """
    t = _table(result, ["turnout_lo", "turnout_hi", "leader", "others", "leader_clean"])
    ax = _axes(ax)
    x = (t["turnout_lo"].to_numpy() + t["turnout_hi"].to_numpy()) / 2 * 100
    lead = t["leader"].to_numpy(float) / scale
    clean = t["leader_clean"].to_numpy(float) / scale
    ax.plot(x, lead, color="C1", label="Leader")
    ax.plot(x, t["others"].to_numpy(float) / scale, color="C0", label="Others")
    ax.plot(x, clean, color="C1", ls="--", lw=1.0, label="Leader, expected\nwithout excess")
    ax.fill_between(x, clean, lead, where=lead > clean, color="C1", alpha=0.2,
                    lw=0, label="Excess" if np.any(lead > clean) else None)
    details = getattr(result, "details", None)
    if details and "peak_turnout" in details:
        ax.axvline(100 * details["peak_turnout"], color="0.5", lw=0.8, ls=":")
    unit = {1: "", 1e3: " (thousands)", 1e6: " (millions)"}.get(scale, f" (x{scale:g})")
    ax.set_xlabel("Turnout, %")
    width = 100 * (t["turnout_hi"] - t["turnout_lo"]).iloc[0]
    ax.set_ylabel(f"Votes per {width:.2g}-point bin{unit}")
    ax.set_xlim(0, 100)
    ax.set_title("Votes by turnout")
    outside_legend(ax)
    return ax
