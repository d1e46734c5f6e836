"""Small multiples by region: fingerprints and turnout-support scatters.

Each panel is one region, drawn on the same axes and, for the
fingerprints, on one shared colour scale, so regions can be compared by
eye. The numbers drawn come from :mod:`audit.stations.where`
(:func:`~audit.stations.where.region_points`,
:func:`~audit.stations.where.region_fingerprints`); nothing is computed
here but the layout.
"""

from __future__ import annotations

import math

import numpy as np
from matplotlib.colors import LogNorm
from matplotlib.figure import Figure

__all__ = ["plot_region_fingerprints", "plot_region_scatter"]


def _grid(n: int, ncols: int, *, panel: float = 2.2, colorbar: bool = False):
    """A fixed grid of ``n`` panels (no layout engine: a grid of many small
    axes is laid out once here, not re-measured at every save)."""
    if n < 1:
        raise ValueError("nothing to draw: no region given")
    ncols = max(1, min(ncols, n))
    nrows = math.ceil(n / ncols)
    left, right, bottom, top = 0.55, 0.15 + (0.9 if colorbar else 0.0), 0.5, 0.3
    width = panel * ncols + left + right
    height = panel * nrows + bottom + top
    fig = Figure(figsize=(width, height))
    axes = fig.subplots(nrows, ncols, sharex=True, sharey=True, squeeze=False,
                        gridspec_kw={"left": left / width, "right": 1 - right / width,
                                     "bottom": bottom / height, "top": 1 - top / height,
                                     "wspace": 0.12, "hspace": 0.3})
    for ax in axes.flat[n:]:
        ax.set_visible(False)
    return fig, axes


_TICKS = [0.2, 0.5, 0.8]
_TICK_LABELS = ["20%", "50%", "80%"]


def _label(ax, title: str, row_first: bool, col_last_row: bool):
    ax.set_title(title if len(title) <= 28 else title[:26] + "...", fontsize=8)
    ax.set_xlim(0, 1)
    ax.set_ylim(0, 1)
    # ticks away from the panel edges, so labels of neighbouring panels never meet
    ax.set_xticks(_TICKS, _TICK_LABELS)
    ax.set_yticks(_TICKS, _TICK_LABELS)
    ax.tick_params(labelsize=7)
    if row_first:
        ax.set_ylabel("leader share", fontsize=8)
    if col_last_row:
        ax.set_xlabel("turnout", fontsize=8)


def plot_region_fingerprints(edges, grids: dict, *, ncols: int = 4, cmap: str = "viridis"):
    """One fingerprint (stations by turnout and leader share) per region,
    on one shared logarithmic colour scale.

    Parameters
    ----------
    edges : array
        Bin edges shared by both axes (from ``region_fingerprints``).
    grids : dict
        Region -> station counts, turnout along the first axis.
    ncols : int, default 4

    Returns
    -------
    matplotlib.figure.Figure
    """
    names = list(grids)
    fig, axes = _grid(len(names), ncols, colorbar=True)
    top = max((float(np.max(g)) for g in grids.values()), default=1.0)
    norm = LogNorm(vmin=1, vmax=max(top, 2.0))
    mesh = None
    nrows, ncol = axes.shape
    for i, name in enumerate(names):
        ax = axes.flat[i]
        counts = np.asarray(grids[name], float).T        # rows: share, columns: turnout
        shown = np.where(counts > 0, counts, np.nan)
        mesh = ax.pcolormesh(edges, edges, shown, norm=norm, cmap=cmap, rasterized=True)
        r, c = divmod(i, ncol)
        last_row = r == nrows - 1 or i + ncol >= len(names)
        _label(ax, str(name), c == 0, last_row)
    if mesh is not None:
        box = axes[0, 0].get_position()
        width_in = fig.get_figwidth()
        x0 = 1 - 0.85 / width_in
        bottom = axes[-1, 0].get_position().y0
        cax = fig.add_axes([x0, bottom, 0.12 / width_in, box.y1 - bottom])
        cb = fig.colorbar(mesh, cax=cax)
        cb.set_label("stations per cell (log scale, shared)", fontsize=8)
        cb.ax.tick_params(labelsize=7)
    return fig


def plot_region_scatter(points, regions, *, ncols: int = 4, size: float = 2.0):
    """Turnout against leader share, one point per station, one panel per
    region (Kobak et al. 2016 style), same axes in every panel.

    Parameters
    ----------
    points : DataFrame
        ``region``, ``turnout``, ``share`` (from ``region_points``).
    regions : list
        Regions to draw, in panel order.

    Returns
    -------
    matplotlib.figure.Figure
    """
    regions = list(regions)
    fig, axes = _grid(len(regions), ncols)
    nrows, ncol = axes.shape
    for i, name in enumerate(regions):
        ax = axes.flat[i]
        part = points[points["region"] == name]
        ax.scatter(np.clip(part["turnout"].to_numpy(float), 0, 1),
                   part["share"].to_numpy(float), s=size, alpha=0.35, linewidths=0,
                   color="#0072B2", rasterized=True)
        r, c = divmod(i, ncol)
        last_row = r == nrows - 1 or i + ncol >= len(regions)
        _label(ax, str(name), c == 0, last_row)
    return fig
