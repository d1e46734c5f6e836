"""Figures for the station-level integer-percentage and digit tests.

Each function takes a :class:`~audit.stations.result.TestResult`, draws its
``table`` and returns the Axes.  Nothing statistical is computed here: the
expected counts and their SDs come from the test.
"""

from __future__ import annotations

import numpy as np

from .export import style
from .house import GREY, format_p, outside_legend, human_test_name

__all__ = ["plot_integer_percentages", "plot_digits"]

_LABELS = {"turnout": "Turnout", "leader": "Leader's share"}


def _axes(ax):
    if ax is None:
        import matplotlib.pyplot as plt   # only when no Axes is given

        _, ax = plt.subplots()
    return ax


def _table(result, needed):
    table = getattr(result, "table", None)
    if table is None:
        raise ValueError("result has no table to draw")
    missing = [c for c in needed if c not in table.columns]
    if missing:
        raise ValueError(f"result.table lacks column(s) {', '.join(missing)}; "
                         f"is it from the right test ({result.test!r})?")
    return table


def plot_integer_percentages(result, quantity="turnout", *, xlim=None, leader_name=None,
                             ax=None):
    """Fine-bin histogram of a percentage with the null expectation at the
    round values.

    Parameters
    ----------
    result : TestResult
        From :func:`audit.stations.forensics.integer_percentages.integer_percentages`.
    quantity : {"turnout", "leader"}
        Which percentage to draw.
    xlim : (float, float), optional
        Percentage range; by default the range holding the stations.
    leader_name : str, optional
        The leader's human name, shown in the axis label.
    ax : matplotlib Axes, optional

    Returns
    -------
    matplotlib Axes
        Grey line: stations per bin of the test's window width, all
        stations with counts (those the caps leave out of the test, such
        as turnout above 99%, are shaded apart, so no bin looks falsely
        empty; fewer than ``min_registered`` voters are left out too).  Dots: the observed count in the bins centred on round
        values; open circles with bars: the count expected there under
        binomial noise, +- 2 SD.
    """
    if quantity not in _LABELS:
        raise ValueError(f"quantity must be 'turnout' or 'leader', got {quantity!r}")
    table = _table(result, ["quantity", "center", "observed", "is_round",
                            "expected", "sd"])
    t = table[table["quantity"] == quantity]
    capped = t["left_out"].to_numpy() if "left_out" in t else np.zeros(len(t), dtype=int)
    with style():
        ax = _axes(ax)
        ax.plot(t["center"], t["observed"], color="0.45", lw=0.7,
                drawstyle="steps-mid", label="stations per bin (tested)")
        window = result.params.get("window")
        if capped.any():                    # one patch, stacked on the tested stations
            centre = t["center"].to_numpy(float)
            half = (window or 0.1) / 2
            obs = t["observed"].to_numpy(float)
            ax.stairs(obs + capped, np.append(centre - half, centre[-1] + half),
                      baseline=obs, fill=True, color=GREY, lw=0,
                      label="stations left out of the test\n(share above the cap, or\nfew registered voters)")
        cap = 100 * result.params.get("max_share", 1.0)
        rnd = t[t["is_round"] & t["expected"].notna() & (t["center"] <= cap + 1e-9)]
        if xlim is None:
            used = t.loc[(t["observed"] + capped) > 0, "center"]
            xlim = (used.min() - 1, min(used.max() + 1, 101)) if len(used) else (0, 100)
        rnd = rnd[(rnd["center"] >= xlim[0]) & (rnd["center"] <= xlim[1])]
        ax.errorbar(rnd["center"], rnd["expected"], yerr=2 * rnd["sd"],
                    fmt="o", mfc="white", ms=3.5, lw=0.9, capsize=0,
                    color="C0", label="expected at round values\n(±2 SD, binomial)")
        ax.plot(rnd["center"], rnd["observed"], "o", ms=3, color="C3",
                label="observed at round values")
        ax.set_xlim(*xlim)
        ax.set_ylim(bottom=0)
        bins = f", bins of {window:g} points" if window is not None else ""
        name = _LABELS[quantity]
        if quantity == "leader" and leader_name:
            name = f"Leader's share ({leader_name})"
        ax.set_xlabel(f"{name}, %{bins}")
        ax.set_ylabel("Polling stations")
        d = result.details
        key = quantity
        title = f"{_LABELS[quantity]}: round values"
        if f"{key}_excess" in d:
            title += (f", excess {d[f'{key}_excess']:,.0f} stations "
                      f"(SD {d[f'{key}_sd']:,.0f})")
        ax.set_title(title)
        outside_legend(ax)
    return ax


def plot_digits(result, *, share=True, p_adjusted=None, ax=None):
    """Observed against expected digit (or category) frequencies.

    Parameters
    ----------
    result : TestResult
        From a test of :mod:`audit.stations.forensics.digits`.
    share : bool, default True
        Draw shares rather than counts.
    p_adjusted : float, optional
        Holm-adjusted p-value for the title (the unadjusted one is never
        shown).
    ax : matplotlib Axes, optional

    Returns
    -------
    matplotlib Axes
        Bars: observed; black ticks: expected under the test's null.
    """
    table = _table(result, ["observed", "expected"])
    label_col = "digit" if "digit" in table.columns else "category"
    labels = table[label_col].astype(str).to_numpy()
    if share:
        obs = table["observed_share"] if "observed_share" in table else \
            table["observed"] / table["observed"].sum()
        exp = table["expected_share"] if "expected_share" in table else \
            table["expected"] / table["expected"].sum()
    else:
        obs, exp = table["observed"], table["expected"]
    x = np.arange(len(labels))
    with style():
        ax = _axes(ax)
        ax.bar(x, obs, width=0.7, color="C0", alpha=0.85, label="observed")
        ax.hlines(exp, x - 0.38, x + 0.38, color="black", lw=1.6,
                  label="expected")
        ax.set_xticks(x, labels)
        ax.set_xlabel("Digit" if label_col == "digit" else "Category")
        ax.set_ylabel("Share" if share else "Count")
        parts = ([format_p(p_adjusted)] if p_adjusted is not None else []) + \
            [f"n = {result.n:,}"]
        ax.set_title(f"{human_test_name(result.test)} ({', '.join(parts)})")
        top = max(np.nanmax(np.asarray(obs, float)), np.nanmax(np.asarray(exp, float)))
        ax.set_ylim(0, 1.1 * top)
        outside_legend(ax)
    return ax
