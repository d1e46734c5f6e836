"""The figures of ``audit run``: the evidence overview and one figure per
national result, each in the house style (number, caption, source line,
human labels) and written as SVG, PDF and PNG.

Figures are :class:`matplotlib.figure.Figure` objects made without pyplot:
they need no backend, so the command line never changes the backend of the
process it runs in.
"""

from __future__ import annotations

import math

from .house import ascii_name, finish, option_name, source_line, test_label

_CAPTIONS = {
    "evidence": ("Holm-adjusted p-values of the tests run on the whole file, on a -log10 "
                 "scale: evidence tests in blue, descriptive tests (which do not hold "
                 "their false-alarm rate on honestly counted elections) in grey. A bar "
                 "past the dashed line is below the level after adjustment. An anomaly "
                 "is a pattern to explain, not proof of fraud."),
    "integer_percentages": ("Polling stations by turnout (top) and by the leader's share "
                            "({leader}, bottom) in bins of 0.1 points. Dots: stations at "
                            "whole percentages; open circles: the number expected there "
                            "if counts were binomial, with +-2 SD. Grey: stations the "
                            "test leaves out (a share above 99% or fewer than 100 "
                            "registered voters), drawn on top."),
    "digits": ("Share of each digit (or category) in the counts, bars, against the "
               "share expected under the test's null, black ticks."),
    "fingerprint": ("Stations by turnout and the leader's share ({leader}), counts on a "
                    "logarithmic colour scale (Klimek's fingerprint). A second cluster "
                    "near 100% turnout and 100% share is the pattern ballot stuffing "
                    "leaves, among other causes."),
    "spikes": ("Stations by the leader's share ({leader}), observed against the mean of "
               "resamples without round-number preference; dotted lines mark the round "
               "shares the test looks at."),
    "excess_votes": ("Votes for the leader ({leader}) and for the others by turnout; the "
                     "dashed line is the leader's votes if the leader's share stayed at "
                     "its level at the most common turnout (Shpilkin's method)."),
    "table": "The test's table as computed: observed counts against their expectation.",
}


def _caption(key: str, leader: str) -> str:
    return _CAPTIONS[key].format(leader=leader)


def _holm(row) -> float | None:
    value = row.get("p_holm") if hasattr(row, "get") else None
    try:
        value = float(value)
    except (TypeError, ValueError):
        return None
    return None if math.isnan(value) else value


def figure_plan(battery):
    """The figures ``audit run`` draws: ``(name, key, row, result)`` in order.

    ``key`` picks the drawing (``"evidence"``, a test name with a figure of
    its own, ``"digits"`` or ``"table"``); results without a table and
    per-station tables (such as the mixture model's) are left out.
    """
    from .battery import MAX_ROWS

    plan = [("evidence", "evidence", None, None)]
    for (_, row), result in zip(battery.evidence.iterrows(), battery.results):
        if row["scope"] != "national" or result is None:
            continue
        table = getattr(result, "table", None)
        if table is None or len(table) == 0 or len(table) > MAX_ROWS:
            continue
        if row["test"] in ("integer_percentages", "fingerprint", "spikes", "excess_votes"):
            key = row["test"]
        elif ({"observed", "expected"} <= set(table.columns)
              and ({"digit", "category"} & set(table.columns)) and len(table) <= 40):
            key = "digits"
        else:
            key = "table"
        plan.append((ascii_name(row["test"]), key, row, result))
    return plan


def draw(key, battery, row, result, *, alpha: float, leader: str):
    """One figure of the plan (a :class:`~matplotlib.figure.Figure`)."""
    from matplotlib.figure import Figure

    from .battery import plot_evidence, plot_result_table
    from .fingerprint import plot_excess_votes, plot_fingerprint, plot_spikes
    from .stations import plot_digits, plot_integer_percentages

    p = _holm(row) if row is not None else None
    if key == "integer_percentages":
        fig = Figure(figsize=(7.0, 6.0))
        top, bottom = fig.subplots(2, 1)
        plot_integer_percentages(result, "turnout", ax=top)
        plot_integer_percentages(result, "leader", ax=bottom, leader_name=leader)
        fig.subplots_adjust(hspace=0.55)
        top.set_title(f"{test_label(result.test)} ({_p(p)}, n = {result.n:,})\n"
                      + top.get_title(loc="left"), loc="left")
        return fig
    fig = Figure()
    ax = fig.subplots()
    if key == "evidence":
        plot_evidence(battery.evidence, alpha=alpha, ax=ax)
    elif key == "digits":
        plot_digits(result, p_adjusted=p, ax=ax)
    elif key == "fingerprint":
        plot_fingerprint(result, ax=ax)
        ax.set_title(f"Fingerprint ({_p(p)}, n = {result.n:,})")
    elif key == "spikes":
        plot_spikes(result, ax=ax)
        ax.set_title(f"Spikes at round shares ({_p(p)}, n = {result.n:,})")
    elif key == "excess_votes":
        plot_excess_votes(result, ax=ax)
        ax.set_title(f"Votes by turnout ({_p(p)}, n = {result.n:,})")
    else:
        plot_result_table(result, ax=ax, p_adjusted=p)
    return fig


def _p(p):
    from .house import format_p

    return format_p(p)


def write_figures(battery, folder, *, alpha: float, provenance=None,
                  leader: str = "") -> list[str]:
    """Draw and save every figure of :func:`figure_plan` with its number,
    caption and source line; return the file stems written."""
    from .export import save_figure, style

    human_leader = option_name(leader) if leader else "the leader"
    source = source_line(provenance)
    written = []
    with style():
        for number, (name, key, row, result) in enumerate(figure_plan(battery), start=1):
            fig = draw(key, battery, row, result, alpha=alpha, leader=human_leader)
            finish(fig, number=number, caption=_caption(key, human_leader), source=source)
            save_figure(fig, folder, name, provenance=provenance)
            written.append(name)
    return written
