"""Figures for a battery run: the evidence overview and one panel per result.

Plot functions draw what they are given (an evidence table or a result's
``table``); they compute no statistics.  Use them inside
:func:`audit.plots.style` and export with :func:`audit.plots.save_figure`.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from .house import GREY, column_label, format_p, outside_legend, human_test_name


def _axes(ax):
    if ax is None:
        import matplotlib.pyplot as plt   # only when no Axes is given

        _, ax = plt.subplots()
    return ax


def plot_evidence(evidence: pd.DataFrame, *, scope: str = "national", alpha=None,
                  ax=None):
    """Holm-adjusted p-values of one scope as bars on a -log10 scale, the
    evidence tests first and the descriptive ones apart, below them.

    Parameters
    ----------
    evidence : DataFrame
        ``BatteryResult.evidence`` (needs test, scope, status, pvalue and
        p_holm; ``evidence`` marks the evidence class, all rows count as
        evidence without it).
    scope : str, default "national"
    alpha : float, optional
        Draw a reference line at this level.
    ax : matplotlib Axes, optional

    Returns
    -------
    matplotlib Axes

    Notes
    -----
    Descriptive tests do not hold their size on real clean elections; their
    bars are grey and their Holm adjustment runs over the descriptive rows
    alone, so they never count towards the evidence.

    Examples
    --------
    >>> import pandas as pd
    >>> ev = pd.DataFrame({"test": ["a", "b", "c"], "scope": "national",
    ...                    "status": "ok", "pvalue": [0.01, 0.5, 1e-9],
    ...                    "p_holm": [0.02, 0.5, 1e-9],
    ...                    "evidence": [True, True, False]})
    >>> ax = plot_evidence(ev, alpha=0.05)
    """
    ax = _axes(ax)
    rows = evidence[(evidence["scope"] == scope)]
    if "evidence" not in rows:
        rows = rows.assign(evidence=True)
    ran = rows[rows["status"] == "ok"]
    ran = pd.concat([ran[ran["evidence"].astype(bool)], ran[~ran["evidence"].astype(bool)]])
    skipped = rows[rows["status"] != "ok"]
    is_ev = ran["evidence"].astype(bool).to_numpy()
    y = np.arange(len(ran)) + np.where(is_ev, 0, 1)      # a gap between the classes
    floor = 1e-300
    adj = -np.log10(np.clip(ran["p_holm"].to_numpy(dtype=float), floor, 1))
    adj = np.nan_to_num(adj, nan=0.0)
    if is_ev.any():
        ax.barh(y[is_ev], adj[is_ev], height=0.6, color="C0",
                label="evidence test")
    if (~is_ev).any():
        ax.barh(y[~is_ev], adj[~is_ev], height=0.6, color=GREY,
                label="descriptive test\n(not evidence)")
    labels = [human_test_name(t) + ("" if np.isfinite(pv) else " (no p-value)")
              + ("" if e else " [descriptive]")
              for t, pv, e in zip(ran["test"], ran["pvalue"].to_numpy(dtype=float), is_ev)]
    ax.set_yticks(y, labels)
    ax.invert_yaxis()
    if alpha is not None and len(ran):
        ax.axvline(-np.log10(alpha), color="C3", linestyle="--", linewidth=1,
                   label=f"level {alpha:g}, after\nHolm adjustment")
    ax.set_xlabel("-log10 of the Holm-adjusted p-value (longer bar: stronger anomaly)")
    title = f"Tests, {scope}"
    if len(skipped):
        title += f" ({len(skipped)} not applicable, not drawn)"
    ax.set_title(title)
    if len(ran):
        outside_legend(ax)
    else:
        ax.set_yticks([])
        ax.text(0.5, 0.5, "no test ran", transform=ax.transAxes, ha="center")
    ax.grid(axis="x")
    ax.grid(axis="y", visible=False)
    return ax


#: Larger tables (one row per station) are not drawn by :func:`plot_result_table`.
MAX_ROWS = 5000
#: Columns drawn as reference lines against ``observed``, in this order.
REFERENCE_COLUMNS = ("expected", "fitted", "fair", "resampled", "simulated")
_SKIP = {"sd", "se", "stations", "n", "center_hi"}


def _numeric(table, col):
    return (pd.api.types.is_numeric_dtype(table[col])
            and not pd.api.types.is_bool_dtype(table[col]))


def plot_result_table(result, *, ax=None, p_adjusted=None):
    """Draw a result's ``table`` as it is laid out.

    The layout is read from the column names; nothing is computed:

    * two binned axes (``<a>_lo``/``<a>_hi`` and ``<b>_lo``/``<b>_hi``) and
      an ``observed`` column: a heat map of ``observed`` (e.g. a
      turnout x vote-share fingerprint);
    * otherwise the x axis is the first text column whose values are all
      different (categories) or else the first numeric column (digit,
      bin start); a text column with repeated values splits the rows into
      groups drawn in separate colours;
    * ``observed`` is drawn as bars (few rows) or a step line, with
      :data:`REFERENCE_COLUMNS` as dashed lines; a table without
      ``observed`` has every numeric column drawn as a line (except bin
      ends ``*_hi`` and ``sd``/``stations``).

    Parameters
    ----------
    result : TestResult
        A result whose ``table`` is not None.
    ax : matplotlib Axes, optional
    p_adjusted : float, optional
        The Holm-adjusted p-value shown in the title (the result's own,
        unadjusted p-value is never shown).

    Returns
    -------
    matplotlib Axes

    Examples
    --------
    >>> import pandas as pd
    >>> from audit.stations.result import TestResult
    >>> r = TestResult("last_digit", statistic=3.1, pvalue=0.93, n=1000,
    ...                table=pd.DataFrame({"digit": range(10), "observed": [100] * 10,
    ...                                    "expected": [100.0] * 10}))
    >>> ax = plot_result_table(r)
    """
    table = result.table
    if table is None or len(table) == 0:
        raise ValueError(f"result of {result.test!r} has no table to draw")
    if len(table) > MAX_ROWS:
        raise ValueError(f"result of {result.test!r} has a table of {len(table):,} rows "
                         f"(one per station?); draw it with a figure made for it")
    ax = _axes(ax)
    if table.index.name is not None:
        table = table.reset_index()
    cols = list(table.columns)
    lo = [c for c in cols if str(c).endswith("_lo") and _numeric(table, c)]
    if len(lo) >= 2 and "observed" in cols:
        _heatmap(table, lo[0], lo[1], ax)
    else:
        _lines(table, ax)
    parts = [f"n = {result.n:,}"]
    if p_adjusted is not None:
        parts.insert(0, format_p(p_adjusted))
    ax.set_title(f"{human_test_name(result.test)} ({', '.join(parts)})", loc="left")
    return ax


def _heatmap(table, xlo, ylo, ax):
    xs = np.sort(table[xlo].unique())
    ys = np.sort(table[ylo].unique())
    grid = (table.pivot_table(index=ylo, columns=xlo, values="observed", aggfunc="sum")
            .reindex(index=ys, columns=xs).to_numpy(dtype=float))

    def edges(lo_values, col):
        hi = col[:-3] + "_hi"
        last = table[hi].max() if hi in table else lo_values[-1] + (
            lo_values[-1] - lo_values[-2] if len(lo_values) > 1 else 1)
        return np.append(lo_values, last)

    mesh = ax.pcolormesh(edges(xs, xlo), edges(ys, ylo), np.ma.masked_equal(grid, 0),
                         cmap="cividis", shading="flat")
    ax.figure.colorbar(mesh, ax=ax, label="Stations per cell")
    ax.set_xlabel(column_label(xlo))
    ax.set_ylabel(column_label(ylo))
    ax.grid(False)


def _lines(table, ax):
    cols = list(table.columns)
    text = [c for c in cols if not _numeric(table, c)
            and not pd.api.types.is_bool_dtype(table[c])]
    categorical = [c for c in text if table[c].nunique() == len(table)]
    groups = [c for c in text if c not in categorical]
    group = groups[0] if groups else None
    numeric = [c for c in cols if _numeric(table, c)]
    xcol = categorical[0] if categorical else numeric[0]
    if "observed" in cols:
        series = ["observed"] + [c for c in REFERENCE_COLUMNS if c in cols]
    else:
        series = [c for c in numeric if c != xcol and not str(c).endswith("_hi")
                  and c not in _SKIP]
    parts = table.groupby(group, sort=False) if group else [(None, table)]
    for gi, (gname, part) in enumerate(parts):
        x = part[xcol].to_numpy()
        numeric_x = xcol in numeric
        pos = x.astype(float) if numeric_x else np.arange(len(x))
        prefix = f"{gname}: " if gname is not None else ""
        colour = f"C{gi % 7}"
        for si, col in enumerate(series):
            y = part[col].to_numpy(dtype=float)
            if not np.isfinite(y).any():
                continue                    # nothing to draw: no legend entry either
            label = prefix + column_label(col)
            if col == "observed":
                if len(pos) <= 40 and group is None:
                    width = (float(np.min(np.diff(np.sort(pos)))) * 0.8
                             if numeric_x and len(pos) > 1 else 0.8)
                    ax.bar(pos, y, width=width, color="C0", alpha=0.75, label=label)
                else:
                    ax.step(pos, y, where="post" if str(xcol).endswith("_lo") else "mid",
                            color=colour, linewidth=0.9, label=label)
            else:
                c = ("C1" if group is None else colour) if "observed" in series \
                    else f"C{si % 7}"
                if numeric_x:
                    ax.plot(pos, y, color=c, linestyle="--" if "observed" in series else "-",
                            marker="o" if len(pos) <= 40 else None, markersize=3,
                            label=label)
                else:  # categories: no line between unrelated categories
                    ax.plot(pos, y, color=c, linestyle="none", marker="_",
                            markersize=30, markeredgewidth=2, label=label)
        if not numeric_x:
            ax.set_xticks(pos, [str(v) for v in x], rotation=90 if len(x) > 12 else 0)
    ax.set_xlabel(column_label(xcol))
    ax.set_ylabel("Count" if "observed" in series else "")
    outside_legend(ax)
