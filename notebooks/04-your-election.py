# ---
# jupyter:
#   jupytext:
#     text_representation:
#       extension: .py
#       format_name: percent
#   kernelspec:
#     display_name: Python 3
#     language: python
#     name: python3
# ---

# %% [markdown]
# # An audit of one election's polling-station results
#
# This report runs the forensic test battery of `vote-audit` on one file of
# polling-station results and says, in plain words, what the counts show and what
# they do not. Build it with `audit report FILE --out DIR`, or open this
# notebook (`make lab`) and set the parameters below.
#
# **How to read it.** Each test states a null hypothesis of a clean count (for
# example: each station's percentages are binomial draws around its own rates, so
# whole-number percentages are no more frequent than chance allows). A small
# p-value says the counts are unlikely under that null; it does not say who did
# what. The tests come in two classes, declared in the package and measured in
# `docs/calibration.md`: **evidence** tests hold their false-alarm rate on honestly
# counted elections and on clean twins of real files; **descriptive** tests do not,
# and are shown apart, never counted as evidence. P-values are adjusted for the
# number of tests (Holm); a p-value that is a bound (a simulated p-value at its
# floor, or one too small for the computer to hold) is written "< x".

# %% tags=["parameters"]
# Station results file (or a registered dataset name, see `audit datasets`).
FILE = ""
# Reader of the file (see `audit run --help`); empty: told from the file's columns.
FORMAT = ""
# Option tested as the leader: column name or a unique part of one (empty: most votes).
LEADER = ""
# Also run every test within each unit of this level: region, district or empty.
BY = ""
# Keep only these regions (comma-separated, as written in the file; empty: all).
REGION = ""
# YAML column mapping, for FORMAT canonical only.
MAPPING = ""
# Registered tests to run (comma-separated; empty: all, see `audit tests`).
TESTS = ""
# Level of the Holm-adjusted verdicts.
ALPHA = 0.05
# Root seed for every resampled or simulated quantity.
SEED = 0
# Language of the report.
LANG = "en"
# Regions drawn in the small multiples (those carrying most of the excess first).
MAX_PANELS = 12
# Folder for figures and tables (the report's own folder when run by `audit report`).
OUTPUT_DIR = "reports/your-election"

# %%
from pathlib import Path

import numpy as np
import pandas as pd
from IPython.display import Markdown, display

from audit.plots import style
from audit.plots.regions import plot_region_fingerprints, plot_region_scatter
from audit.plots.stations import plot_integer_percentages
from audit.reporting.own import (battery_rows, check_parameters, closing_text,
                                 data_summary, estimates_table, exclusion_summary,
                                 finding_sentence, findings_summary, findings_with_ids,
                                 load_station_file,
                                 where_display)
from audit.reporting.report import Outputs, versions
from audit.stations.battery import run_battery
from audit.stations.where import region_fingerprints, region_points, where_to_look

params = check_parameters(FILE, FORMAT, by=BY, region=REGION, lang=LANG, alpha=ALPHA,
                          tests=TESTS, mapping=MAPPING)
table = load_station_file(params, mapping=MAPPING)
leader = table.leader_column(LEADER or None)
name = params["file"] if params["dataset"] else Path(params["file"]).name
out = Outputs(OUTPUT_DIR)
figure_no = iter(range(1, 100))
display(Markdown(f"**Data:** `{name}`" + (f", regions: {', '.join(params['regions'])}"
                                          if params["regions"] else "")
                 + f"; leader tested: **{leader}**; seed {SEED}."))

# %% [markdown]
# ## 1. The data
#
# What was read, what was left out and why, and the impossible figures the file
# reports (turnout over 100%, votes above ballots cast, repeated stations): those
# are kept as reported and listed as findings, because they are themselves facts
# about the published results.

# %%
display(out.table(data_summary(table, name=name, leader=leader), "data_summary"))
ex = exclusion_summary(table)
display(Markdown(f"**Rows left out, by reason** ({len(table.excluded):,} in all; one by "
                 "one in `tables/excluded.csv`)" if len(ex) else
                 "**Rows left out:** none."))
if len(ex):
    display(out.table(ex, "excluded_by_reason"))
out.save(table.excluded, "excluded")
fi = findings_summary(table)
display(Markdown(f"**Impossible figures kept as findings** ({len(table.findings):,}; one "
                 "by one in `tables/findings.csv`)" if len(fi) else
                 "**Impossible figures:** none found."))
if len(fi):
    display(out.table(fi, "findings_by_check"))
    listed = findings_with_ids(table)
    display(Markdown(f"The first {min(10, len(listed))} of them, with the station as the file "
                     "names it:"))
    display(out.table(listed.head(10), "findings_first"))
out.save(findings_with_ids(table), "findings")

# %% [markdown]
# ## 2. The tests
#
# Every applicable registered test runs on the whole file (and within each unit
# when `BY` is set). Holm's adjustment runs over the evidence runs as one family
# and the descriptive runs as another. A run **rejects** a clean count when its
# Holm-adjusted p-value is at most the level (`ALPHA`); that one rule gives every
# verdict in this report.

# %%
battery = run_battery(table, leader=leader, tests=params["tests"], by=params["by"],
                      rng=SEED, alpha=params["alpha"])
rows = battery_rows(battery)
out.save(rows.drop(columns=["pvalue", "p_holm", "reject_holm"]), "battery")
shown = ["test", "what it checks", "n", "Holm p", "verdict"]
national = rows[(rows["scope"] == "national") & (rows["status"] == "ok")]
display(Markdown("### Evidence tests\n\n" + "\n".join(
    "- " + finding_sentence(r, alpha=params["alpha"])
    for _, r in national[national["class"] == "evidence"].iterrows())))
display(out.table(national[national["class"] == "evidence"], "evidence_tests", show=shown))
display(Markdown("### Descriptive tests (not evidence)\n\nThese tests also depart from "
                 "their models on honestly counted elections or on clean twins of real "
                 "files; their results describe the file and are never counted as "
                 "evidence.\n\n" + "\n".join(
                     "- " + finding_sentence(r, alpha=params["alpha"])
                     for _, r in national[national["class"] == "descriptive"].iterrows())))
display(out.table(national[national["class"] == "descriptive"], "descriptive_tests",
                  show=shown))
units = rows[(rows["scope"] != "national") & rows["reject_holm"]]
if params["by"]:
    display(Markdown(f"**Runs within each {params['by']} that reject** ({len(units)} of "
                     f"{int((rows['scope'] != 'national').sum())}; all runs in "
                     "`tables/battery.csv`)"))
    if len(units):
        display(out.table(units, "unit_rejections", show=["class", "scope"] + shown))
not_run = rows[rows["status"] != "ok"]
if len(not_run):
    display(Markdown("**Tests that did not run**, and why:"))
    display(out.table(not_run, "not_run", show=["test", "scope", "status", "reason"]))

# %% [markdown]
# ## 3. Estimates
#
# How large an anomaly would be if it were fraud, with intervals. These models are
# descriptive (they do not hold their size on honestly counted elections), so an
# estimate above zero is a size to explain, not a count of stolen votes.

# %%
# The mixture model and the stuffing model are not tests of the battery (each takes
# about a minute on a national file): they are fitted here once, nationally, with
# their intervals, and their per-station classes feed the where-to-look tables below.
from audit.core.errors import NotApplicable
from audit.stations.forensics.mixture import mixture_table
from audit.stations.stuffing import FOUND_ON_TWINS, HONEST_BALLOT_SHARE, stuffing_scores

try:
    mix = mixture_table(table, leader=leader, rng=SEED)
except (NotApplicable, ValueError) as exc:
    mix = None
    display(Markdown(f"The mixture model could not be fitted: {exc}"))
try:
    stuffing = stuffing_scores(table, leader=leader, rng=SEED)
except (NotApplicable, ValueError) as exc:
    stuffing = None
    display(Markdown(f"The stuffing model could not be fitted: {exc}"))
est = estimates_table(battery, mixture=mix, stuffing=stuffing)
if len(est):
    display(out.table(est, "estimates"))
else:
    display(Markdown("No estimate could be computed (the tests behind them did not run)."))

# %% [markdown]
# ## 4. Where to look
#
# The integer-percentage figures split by region and by district (territorial
# commission): stations whose turnout or leader share is within 0.05 points of a whole
# percentage (observed) against the number expected under binomial counting
# (expected). Each level's rows add up to the national figure, so the share of the
# excess says where it sits. Beside them: stations in the spikes the spike test
# counts, stations the mixture model puts in one of its fraud classes, and stations the
# stuffing model finds more likely stuffed than clean (posterior probability above one
# half in both models). The stuffing model compares each station with the clean law of
# its own district (turnout, invalid share and leader share); on simulated copies of
# real files with known stuffing it ranks stuffed stations best of the project's
# methods. Both models are descriptive: on honestly counted elections they flag some
# stations too (small stations where nearly everyone voted often look stuffed), so a
# flagged station is a station unlike the rest of its district, not a proven fraud.
# Station ids are those of the file; the full lists are in `tables/where_to_look.csv`
# and `tables/where_stations.csv`.

# %%
spike_result = next((r for rec, r in zip(battery.evidence.itertuples(), battery.results)
                     if rec.test == "spikes" and rec.scope == "national"), None)
where = where_to_look(table, leader=leader, spikes=spike_result, mixture=mix,
                      stuffing=stuffing)
full = where.table()
out.save(full, "where_to_look")
out.save(where.flagged_stations(), "where_stations")
nat = where.national
display(Markdown(
    f"Nationally, **{nat['integer_observed']:,}** of {nat['stations']:,} stations show a "
    f"whole-number turnout or leader share, against **{nat['integer_expected']:,.1f}** "
    f"expected (excess {nat['integer_excess']:,.1f}); {nat['spike_stations']:,} stations "
    f"sit in spikes and {nat['fraud_stations']:,} fall in the mixture model's fraud "
    "classes."))
if stuffing is not None:
    lo, hi = stuffing.ballots_interval
    display(Markdown(
        f"The stuffing model puts {stuffing.share:.2%} of the stations it scored in its "
        f"stuffed class; **{nat['stuffed_stations']:,}** stations are more likely stuffed "
        f"than clean, and it expects **{nat['stuffed_ballots']:,.0f}** ballots (95% interval "
        f"{lo:,.0f} to {hi:,.0f}, the model taken as right) to have been added across all "
        "stations. On simulated copies of real files with 5% of stations stuffed it finds "
        f"{FOUND_ON_TWINS[0]:.0%} to {FOUND_ON_TWINS[1]:.0%} of the added ballots; on the "
        "honestly counted elections measured it also finds up to "
        f"{HONEST_BALLOT_SHARE[1]:.2%} of the ballots cast, mostly at small stations where "
        "nearly everyone voted (docs/mixture.md). So a figure of that order is what honest counting "
        "gives, and any figure points to where to look; it is not a count of fraud."))
for level in where.levels():
    part = where.by(level)
    display(Markdown(f"**By {level}** (first 15 of {len(part):,}, largest excess first)"))
    out.save(part, f"where_by_{level}")
    display(out.table(where_display(part.head(15)), f"where_by_{level}_top"))
ip_row = rows[(rows["test"] == "integer_percentages") & (rows["scope"] == "national")]
if len(ip_row) and not bool(ip_row["reject_holm"].iloc[0]):
    display(Markdown("The integer-percentage test does not reject a clean count here, so these "
                     "tables show where the whole-number stations are, not where an anomaly "
                     "is."))
chance = nat["integer_expected"] / nat["stations"] if nat["stations"] else float("nan")
display(Markdown(
    f"**Stations at a whole percentage, in a spike, in a fraud class or likely stuffed** "
    f"(first 25, in "
    f"the order of their district's excess). No station on this list is suspect by itself: "
    f"under a clean count about {chance:.0%} of stations land on a whole percentage by "
    "chance; it is the excess over that share, unit by unit, that points somewhere."))
display(out.table(where_display(where.flagged_stations(top=25)), "where_stations_top"))

# %% [markdown]
# ## 5. Figures

# %%
for rec, r in zip(battery.evidence.itertuples(), battery.results):
    if r is not None and rec.test == "integer_percentages" and rec.scope == "national":
        for which, words in (("turnout", "turnout"), ("leader", "leader share")):
            with style():
                ax = plot_integer_percentages(r, which)
            n = next(figure_no)
            display(out.figure(ax.figure, f"integer_{which}", (
                f"Figure {n}. {name}: stations by {words} in 0.1-point bins, with the "
                "count expected at whole percentages under a clean count.")))
if "region" in table.data.columns:
    ranked = (where.by("region")["region"].tolist() if "region" in where.levels()
              else sorted(set(table.data["region"])))
    panels = ranked[:int(MAX_PANELS)]
    points = region_points(table, leader=leader, regions=panels)
    edges, grids = region_fingerprints(points, regions=panels)
    with style():
        fig = plot_region_fingerprints(edges, grids)
    n = next(figure_no)
    display(out.figure(fig, "regions_fingerprint", (
        f"Figure {n}. {name}: fingerprints (stations by turnout and leader share) of "
        f"{len(panels)} regions, those carrying most of the integer-percentage excess "
        "first, on one shared colour scale.")))
    with style():
        fig = plot_region_scatter(points, panels)
    n = next(figure_no)
    display(out.figure(fig, "regions_scatter", (
        f"Figure {n}. {name}: turnout against leader share, one point per station, for "
        f"the same {len(panels)} regions.")))

# %% [markdown]
# ## 6. What this does and does not show

# %%
display(Markdown(closing_text(rows, alpha=params["alpha"], where=where,
                              findings=len(table.findings), excluded=len(table.excluded))))

# %%
display(out.table(versions(), "versions"))
