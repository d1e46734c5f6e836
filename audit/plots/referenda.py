"""Figures of the 2022 case study. Each takes a table from
:mod:`audit.referenda.casestudy` or an audit table, accepts ``ax=None`` and returns
the Axes; nothing statistical is computed here."""

from __future__ import annotations

import numpy as np
from matplotlib.patches import Rectangle
from matplotlib.ticker import FuncFormatter

from .house import OKABE_ITO, outside_legend

_BLUE, _ORANGE, _GREEN = OKABE_ITO["blue"], OKABE_ITO["orange"], OKABE_ITO["bluish green"]
_RED, _SKY, _PURPLE = OKABE_ITO["vermillion"], OKABE_ITO["sky blue"], OKABE_ITO["reddish purple"]

REGION_ORDER = ("DPR", "LPR", "Zaporizhzhia", "Kherson")
# Okabe-Ito colours (colour-blind safe); the two greys carry no verdict.
VERDICT_COLOURS = {"consistent": "#009E73", "inconsistent": "#D55E00", "implausible": "#CC79A7",
                   "unusual": "#E69F00", "inconclusive": "#bfbfbf", "not checkable": "#e8e8e8"}


def _ax(ax, size=None):
    if ax is None:
        import matplotlib.pyplot as plt   # only when no Axes is given

        _, ax = plt.subplots(figsize=size)
    return ax


def turnout_by_day(table, ax=None):
    """Cumulative announced turnout by voting day, one line per region."""
    ax = _ax(ax)
    for region in REGION_ORDER:
        t = table[(table["region"] == region)]
        if "used" in t:                   # the version the checks and tables use
            t = t[t["used"]]
        t = t.sort_values("day", kind="stable").drop_duplicates("day", keep="first")
        if t.empty:
            continue
        line, = ax.plot(t["day"], t["turnout"], marker="o", label=region)
        low = t[t["bound"] == "lower"]
        ax.scatter(low["day"], low["turnout"], marker="^", s=70, color=line.get_color(),
                   zorder=3)
    ax.set_xticks([1, 2, 3, 4, 5], ["day 1\n23 Sep", "day 2\n24 Sep", "day 3\n25 Sep",
                                    "day 4\n26 Sep", "day 5\n27 Sep\n(final)"])
    ax.set_ylabel("announced cumulative turnout (%)")
    ax.set_ylim(0, 100)
    ax.set_title("Announced turnout by voting day (triangles: 'more than')")
    outside_legend(ax)
    return ax


def implied_electorate(table, ax=None):
    """Implied voter lists by stage beside announced lists and population bounds."""
    ax = _ax(ax, (7.8, 4.8))
    regions = [r for r in REGION_ORDER if r in set(table["region"])]
    marker = {"total": "o", "in_territory": "s", "unstated": "D", "outside": "v"}
    colour = {"total": _BLUE, "unstated": _BLUE, "in_territory": _SKY, "outside": _PURPLE}
    band = {"adults (whole oblast)": ("#d9d9d9", "adults in the whole oblast (range)"),
            "people present (all ages)": ("#f5d9a8", "people present, all ages (estimates)")}
    stage_pos, stage_labels = [], []
    done = set()

    def once(label):
        if label in done:
            return None
        done.add(label)
        return label

    for i, region in enumerate(regions):
        t = table[table["region"] == region]
        for kind, (col, label) in band.items():
            for _, a in t[t["kind"] == kind].iterrows():
                height = max(a["high"] - a["low"], a["high"] * 0.01)
                ax.add_patch(Rectangle((i - 0.44, a["low"]), 0.88, height, color=col,
                                           alpha=0.8, zorder=0, label=once(label)))
        imp = t[t["kind"] == "implied"].reset_index(drop=True)
        offsets = np.linspace(-0.33, 0.33, max(len(imp), 1)) if len(imp) > 1 else [0.0]
        for j, r in imp.iterrows():
            bounded = np.isfinite(r["high"]) and r["low"] > 0
            y = r["value"] if bounded else (r["low"] if r["low"] > 0 else r["high"])
            m = marker.get(r["reading"], "o") if bounded else ("^" if r["low"] > 0 else "v")
            lab = {"in_territory": "implied list, stations in the territory",
                   "total": "implied list, all stations"}.get(r["reading"],
                                                              "implied list, scope unstated")
            ax.scatter(i + offsets[j], y, marker=m, color=colour.get(r["reading"], _BLUE),
                       s=36, zorder=3,
                       label=once(lab) if bounded else
                       once("implied list, a bound only\n(^ at least, v at most)"))
            # the stage is named under the axis, in line with its marker
            stage_pos.append(i + offsets[j])
            stage_labels.append(r["stage"].replace("day", "d"))
        for _, r in t[t["kind"] == "announced list"].iterrows():
            ax.hlines(r["value"], i - 0.44, i + 0.44, color=_RED, linestyle="--",
                      label=once("announced voter list"))
    ax.set_xticks(range(len(regions)), regions)
    ax.set_xticks(stage_pos, stage_labels, minor=True, fontsize=6.5, rotation=90)
    ax.xaxis.remove_overlapping_locs = False    # a stage centred on its region
    ax.tick_params(axis="x", which="major", pad=22, length=0)
    ax.tick_params(axis="x", which="minor", length=2)
    ax.set_ylabel("people")
    ax.set_ylim(bottom=0)
    ax.yaxis.set_major_formatter(FuncFormatter(lambda v, _: f"{v / 1e6:.1f} M"))
    ax.set_title("Voter lists implied by each announcement (d1-d4: days, final)")
    outside_legend(ax, fontsize=7)
    return ax


def support_vs_baselines(table, ax=None):
    """Announced support beside independent measures, one labelled row each."""
    regions = [r for r in REGION_ORDER if r in set(table["region"])]
    t = table.set_index("region").loc[regions].reset_index()
    ax = _ax(ax, (7.5, 0.32 * len(t) + 1.2))
    styles = {"announced": dict(marker="D", s=42, color=_RED),
              "recomputed": dict(marker="x", s=42, color=_RED),
              "political": dict(marker="o", s=34, color=_BLUE),
              "demographic": dict(marker="o", s=34, facecolors="none", edgecolors="#7f7f7f")}
    y = np.arange(len(t))[::-1]
    for yi, (_, r) in zip(y, t.iterrows()):
        ax.scatter(r["high"], yi, zorder=3, **styles[r["kind"]])
        if r["low"] != r["high"]:
            ax.hlines(yi, r["low"], r["high"], color="#7f7f7f")
    ax.set_yticks(y, [f"{r['region']}: {r['measure']}" for _, r in t.iterrows()], fontsize=7.5)
    for k in range(1, len(regions)):
        cut = y[t.index[t["region"] == regions[k]][0]] + 0.5
        ax.axhline(cut, color="#bfbfbf", linewidth=0.6)
    ax.set_xlim(0, 102)
    ax.set_xlabel("percent (diamond: announced; cross: recomputed from counts; dots: "
                  "independent; hollow: demographic context)", fontsize=7.5)
    ax.grid(axis="x")
    ax.grid(axis="y", visible=False)
    ax.set_title("Announced support against independent measures")
    return ax


def other_votes(table, ax=None):
    """Turnout against yes share: 2022 announcements and comparison votes."""
    ax = _ax(ax, (7, 4.8))
    styles = {"free_referendum": dict(marker="o", color=_BLUE, label="free referendums"),
              "organisers_vote": dict(marker="s", color=_ORANGE,
                                      label="organisers' and Russian\nauthorities' votes")}
    for cat, st in styles.items():
        t = table[table["category"] == cat]
        ax.scatter(t["turnout"], t["yes"], s=45, zorder=3, **st)
    # the 2022 announcements: one marker shape per region, named in the legend
    shapes = ("D", "P", "X", "*", "v", "^")
    t = table[table["category"] == "2022 announced"]
    for k, (_, r) in enumerate(t.iterrows()):
        ax.scatter(r["turnout"], r["yes"], s=55, zorder=4, color=_RED,
                   marker=shapes[k % len(shapes)],
                   label="2022 announced: " + str(r["label"]).replace("2022 vote - ", ""))
    ax.set_xlabel("turnout (%)")
    ax.set_ylabel("yes / winner share (%)")
    ax.set_xlim(40, 101)
    ax.set_ylim(40, 101)
    ax.set_title("2022 results against other votes")
    outside_legend(ax, fontsize=7.5)
    return ax


def verdict_counts(findings, ax=None):
    """Stacked bars: how many findings of each verdict per family of checks."""
    ax = _ax(ax, (7, 3.2))
    counts = findings.groupby(["family", "verdict"]).size().unstack(fill_value=0)
    order = [v for v in VERDICT_COLOURS if v in counts.columns]
    left = np.zeros(len(counts))
    for v in order:
        ax.barh(counts.index, counts[v], left=left, color=VERDICT_COLOURS[v], label=v,
                edgecolor="white")
        left += counts[v].to_numpy()
    ax.set_xlabel("number of comparisons")
    ax.grid(axis="x")
    ax.grid(axis="y", visible=False)
    ax.set_title("Findings by family of checks")
    outside_legend(ax, fontsize=7.5)
    return ax


VOTE_STYLES = {2022: dict(color=_RED, marker="D", label="2022 'referendum'"),
               2023: dict(color=_BLUE, marker="o", label="2023 regional elections"),
               2024: dict(color=_ORANGE, marker="s", label="2024 presidential election")}


def turnout_curves(table, region, ax=None):
    """Cumulative turnout during each vote in one region, against days to the close.

    Hollow markers: figures not confirmed on a stored page; triangles: 'more
    than'. Takes :func:`audit.casestudy.turnout_curves`.
    """
    ax = _ax(ax)
    t = table[table["region"] == region]
    for year, st in VOTE_STYLES.items():
        v = t[t["year"] == year].sort_values("days_to_close", kind="stable")
        if v.empty:
            continue
        ax.plot(v["days_to_close"], v["turnout"], color=st["color"], label=st["label"])
        for _, r in v.iterrows():
            marker = "^" if r["bound"] == "lower" else st["marker"]
            face = st["color"] if r["verification"] == "confirmed" else "white"
            ax.scatter(r["days_to_close"], r["turnout"], marker=marker, s=30, zorder=3,
                       facecolors=face, edgecolors=st["color"])
    ax.set_xlim(-9, 0.4)
    ax.set_ylim(0, 100)
    ax.set_title(region, fontsize=10)
    ax.set_xlabel("days before the close of voting", fontsize=8)
    ax.set_ylabel("cumulative turnout (%)", fontsize=8)
    return ax


def support_by_vote(table, ax=None):
    """Leading share (yes or winner) vote by vote, one row of markers per region.

    Filled: a referendum's yes share; hollow: an election winner's share;
    grey outline: not confirmed on a stored page. Takes
    :func:`audit.casestudy.support_by_vote`.
    """
    regions = [r for r in REGION_ORDER if r in set(table["region"])]
    ax = _ax(ax, (7.5, 4.2))
    colours = dict(zip(REGION_ORDER, (_BLUE, _SKY, _GREEN, _ORANGE)))
    offsets = dict(zip(REGION_ORDER, (-0.24, -0.08, 0.08, 0.24)))
    for region in regions:
        t = table[table["region"] == region].sort_values("date", kind="stable")
        x = t["year"] + t["region"].map(offsets)
        col = colours[region]
        for xi, (_, r) in zip(x, t.iterrows()):
            filled = r["kind"] == "referendum"
            edge = col if r["verification"].startswith("confirmed") else "#7f7f7f"
            ax.scatter(xi, r["share_high"], marker="o", s=34, zorder=3,
                       facecolors=col if filled else "white", edgecolors=edge)
            if r["share_low"] != r["share_high"]:
                ax.vlines(xi, r["share_low"], r["share_high"], color=col)
        ax.scatter([], [], marker="o", color=col, label=region)
    ax.set_xticks(sorted(set(table["year"])))
    ax.set_ylim(50, 101)
    ax.set_ylabel("leading share (%)")
    ax.set_title("Announced leading share, vote by vote (filled: referendum yes; "
                 "hollow: election winner)", fontsize=9)
    outside_legend(ax, fontsize=7.5)
    return ax
