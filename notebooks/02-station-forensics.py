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
# # Station-level forensics: Russia 2020 and 2024, Crimea and Sevastopol, and three contrasts
#
# The 2022 votes in occupied Ukraine left no station-level results. The nearest
# station-level evidence from annexed Ukrainian territory is the 2024 Russian
# presidential election in Crimea and Sevastopol (the results for the four regions
# annexed in 2022 were never released). This report runs the forensic battery on
# the 2020 Russian constitutional vote and the 2024 election, on Crimea and
# Sevastopol alone, and, as contrasts, on two honestly counted elections (Poland
# 2020 and the Czech Republic 2018, first rounds) and on Ukraine's 2019
# presidential first round, a competitive election.
#
# **How to read it.** Each test states a null hypothesis of a clean count (for
# example: each station's percentages are binomial draws around its own rates, so
# whole-number percentages are no more frequent than chance allows). A small
# p-value says the data are unlikely under that null. It does not say who did
# what: heterogeneous electorates, rounding by honest officials, or a test's own
# miscalibration can produce anomalies. So the tests come in two classes, declared
# in the code and measured in `docs/calibration.md`: **evidence** tests hold their
# false-alarm rate on honestly counted elections and on clean twins of the Russian
# files (every station's real size and district kept, counts redrawn without
# fraud); **descriptive** tests do not, and are shown apart, never counted as
# evidence. An anomaly is evidence to explain, not proof of fraud.

# %% tags=["parameters"]
# Folder for figures and tables (the report's own folder when run by `make report`).
OUTPUT_DIR = "reports/station-forensics"
# Root seed for every resampled or simulated quantity.
SEED = 0
# Registered tests to run (comma-separated); see `audit tests`.
TESTS = "integer_percentages,last_digit,count_05,last_two_repeat,last_two_adjacent,percent_05,spikes,second_digit_mean,turnout_dip,turnout_leader_correlation,sobyanin_sukhovolsky,excess_votes,fingerprint"
# Russian datasets: name:leader pairs (comma-separated).
RUSSIA = "ru-cik/2020.csv.zip:ДА,ru-cik/2024.csv.zip:Путин"
# Regions of the 2024 election analysed on their own.
ANNEXED_2024 = "Республика Крым,город Севастополь"
# Ukrainian contrast: dataset and leader.
UKRAINE = "ua-cvk/president_election_2019_1_by_vd_en.csv:Zelensky"
# Honestly counted contrasts: datasets (leader: the option with most votes).
CLEAN = "clean/poland_pres2020_r1_obwody_csv.zip,clean/czech_pres2018_r1_pet1.csv"
# Keep at most this many stations per dataset (0 = all); small values make a quick run.
MAX_STATIONS = 0
# Fraud models fitted on every data set (comma-separated: mixture, stuffing; empty:
# none). Each takes about a minute on a national file.
MODELS = "mixture,stuffing"

# %%
import re

import numpy as np
import pandas as pd
from IPython.display import Markdown, display

from audit.plots import style
from audit.plots.battery import plot_evidence
from audit.plots.fingerprint import plot_fingerprint, shared_scale
from audit.plots.house import ascii_name
from audit.plots.stations import plot_digits, plot_integer_percentages
from audit.reporting.own import dataset_pairs, pvalue_column
from audit.reporting.report import Outputs, versions
from audit.stations.battery import run_battery
from audit.tables import datasets

out = Outputs(OUTPUT_DIR)
tests = [t for t in TESTS.split(",") if t]
rng = np.random.default_rng(SEED)


# one-line errors for an empty or unknown dataset parameter (no StopIteration later)
russia = dataset_pairs("RUSSIA", RUSSIA)
ukraine_pairs = dataset_pairs("UKRAINE", UKRAINE, required=False)
clean_pairs = dataset_pairs("CLEAN", CLEAN, leaders=False, required=False)


# %% [markdown]
# ## 1. The data
#
# Files are fetched by URL and verified by sha256 on every load; every station a
# reader leaves out is counted with its reason.

# %%
def human(name):
    """A dataset's name in words: its registry description up to 'by station'."""
    return re.split(r",\s*(?:by station|poll by poll)", datasets.REGISTRY[name].description)[0]


# each data set under its name in words; the registered dataset behind each
# label is kept beside it (tables, figures' source lines)
tables, source_of = {}, {}
for name, leader in russia + ukraine_pairs + clean_pairs:
    t = datasets.load(name)
    if MAX_STATIONS and len(t.data) > MAX_STATIONS:
        keep = np.sort(rng.choice(len(t.data), MAX_STATIONS, replace=False))
        t = type(t)(data=t.data.iloc[keep], options=t.options, excluded=t.excluded,
                    findings=t.findings, source={**t.source, "subsample": MAX_STATIONS})
    tables[human(name)] = (t, t.leader_column(leader))
    source_of[human(name)] = name
clean_names = [human(c) for c, _ in clean_pairs]
ukraine = [human(n) for n, _ in ukraine_pairs]
annexed = [r for r in ANNEXED_2024.split(",") if r]
with_2024 = [k for k in tables if "2024" in source_of[k]]
if annexed and with_2024:
    t24, lead24 = tables[with_2024[0]]
    label = f"{with_2024[0]}: " + " + ".join(annexed)
    tables[label] = (t24.select("region", annexed), lead24)
    source_of[label] = source_of[with_2024[0]]

loaded = pd.DataFrame([{
    "data": k, "dataset": source_of[k], "stations kept": len(t.data),
    "excluded": len(t.excluded),
    "reasons": "; ".join(f"{r} ({n})" for r, n in t.excluded["reason"].value_counts().items())
    if len(t.excluded) else "", "impossible figures kept": len(t.findings), "leader": lead,
    "sha256": t.source.get("sha256", "")[:12]} for k, (t, lead) in tables.items()])
display(out.table(loaded, "data_loaded"))

# %% [markdown]
# ## 2. The battery
#
# Every selected test runs on every data set. Holm's adjustment runs across the
# whole table, over the evidence rows as one family and the descriptive rows as
# another, so a descriptive test never changes an evidence test's adjusted
# p-value. Tests with a `groups` option compare stations within districts
# (territorial commissions, municipalities). Tests that do not apply (no
# registered voters in the Ukrainian files, too few stations) say why.

# %%
runs, rows = {}, []
for i, (label, (t, lead)) in enumerate(tables.items()):
    res = run_battery(t, leader=lead, tests=tests, rng=SEED + i)
    runs[label] = res
    ev = res.evidence.copy()
    ev.insert(0, "data", label)
    ev.insert(1, "dataset", source_of[label])
    rows.append(ev)
evidence = pd.concat(rows, ignore_index=True)
from audit.stations.battery import p_adjust_bh, p_adjust_holm  # noqa: E402

evidence["class"] = np.where(evidence["evidence"].astype(bool), "evidence", "descriptive")
evidence["p_bh_all"] = np.nan
evidence["p_holm_all"] = np.nan
for cls in ("evidence", "descriptive"):
    ok = evidence["pvalue"].notna() & (evidence["class"] == cls)
    evidence.loc[ok, "p_bh_all"] = p_adjust_bh(evidence.loc[ok, "pvalue"].to_numpy())
    evidence.loc[ok, "p_holm_all"] = p_adjust_holm(evidence.loc[ok, "pvalue"].to_numpy())
# p-values as text: a bound (simulation floor, underflow) is written "< x"
results = [r for res in runs.values() for r in res.results]
evidence["p"] = pvalue_column(evidence["pvalue"], results)
evidence["Holm p"] = pvalue_column(evidence["pvalue"], results, evidence["p_holm_all"])
show = ["data", "label", "statistic", "p", "Holm p", "n", "status"]
display(Markdown("**Evidence tests**"))
display(out.table(evidence[evidence["class"] == "evidence"], "evidence", show=show))
display(Markdown("**Descriptive tests** (not evidence: they do not hold their size on "
                 "honestly counted elections or clean twins; the reason is in the "
                 "`calibration` column of the CSV)"))
display(out.table(evidence[evidence["class"] == "descriptive"], "descriptive",
                  show=show + ["calibration"]))

# %% [markdown]
# ## 3. Integer percentages
#
# Kobak, Shpilkin and Pshenichnikov (2016) count stations whose turnout or leader
# share lies within 0.05 points of a whole number, against the number expected if
# each station's counts were binomial around its own rates (computed exactly
# here, not simulated).

# %%
ip_rows = []
for label, res in runs.items():
    for r in res.results:
        if r is not None and r.test == "integer_percentages":
            d = r.details
            ip_rows.append({"data": label, "observed": d["observed"], "expected": d["expected"],
                            "excess": d["excess"], "sd": d["sd"], "pvalue": r.pvalue})
            with style():
                ax = plot_integer_percentages(r, "turnout")
            slug = ascii_name(label, limit=60)
            display(out.figure(ax.figure, f"integer_turnout_{slug}",
                               f"{label}: stations by turnout in 0.1-point bins, with the "
                               "count expected at whole numbers.", data=source_of[label]))
ip = pd.DataFrame(ip_rows)
display(out.table(ip, "integer_percentages"))
if len(ip):
    top = ip.loc[ip["excess"].idxmax()]
    display(Markdown(
        f"The largest excess is in **{top['data']}**: {top['observed']:,.0f} stations at "
        f"whole-number percentages against {top['expected']:,.0f} expected "
        f"(excess {top['excess']:,.0f}, {top['excess'] / top['sd']:.0f} standard deviations)."))

# %% [markdown]
# ## 4. Fingerprints
#
# Klimek et al. (2012): the joint distribution of turnout and leader share. A
# clean election forms a compact cloud; ballot stuffing smears it towards the top
# right corner.

# %%
fingerprints = {label: r for label, res in runs.items() for r in res.results
                if r is not None and r.test == "fingerprint"}
scale = shared_scale(fingerprints.values())   # one colour scale for every election
for label, res in runs.items():
    for r in res.results:
        if r is not None and r.test == "fingerprint":
            with style():
                ax = plot_fingerprint(r, norm=scale)
            slug = ascii_name(label, limit=60)
            display(out.figure(ax.figure, f"fingerprint_{slug}",
                               f"{label}: stations by turnout and leader share, on one colour "
                               "scale shared by every election shown.", data=source_of[label]))

# %% [markdown]
# ## 5. Digits

# %%
for label, res in runs.items():
    for r in res.results:
        if r is not None and r.test == "last_digit":
            with style():
                ax = plot_digits(r)
            slug = ascii_name(label, limit=60)
            display(out.figure(ax.figure, f"last_digit_{slug}",
                               f"{label}: last digits of vote counts against uniform.",
                               data=source_of[label]))

# %% [markdown]
# ## 6. Fraud models: how large, if it were fraud
#
# Two models put a size on what the tests find, station by station and in total.
# The finite mixture (of the class of Mebane's eforensics) sorts stations into clean,
# incremental-fraud and extreme-fraud classes. The stuffing model compares each
# station with the clean law of its own district and asks how much better "ballots
# were added for the leader" explains it. Both are descriptive: they also find
# "fraud" in honestly counted elections, so the contrasts below are the yardstick.
# An estimate well above what the contrasts give is a size to explain, not a count of
# stolen votes; the intervals hold the model as right. Both see only stations unlike
# their district: where a whole district reports alike, high turnout and high support
# included, the models take that for the district's clean law. So their totals can
# be far below an estimate that compares stations across the whole country, such as
# the battery's excess votes (Shpilkin's method).

# %%
from types import SimpleNamespace  # noqa: E402

from audit.core.errors import NotApplicable  # noqa: E402
from audit.reporting.own import estimates_table  # noqa: E402
from audit.stations.forensics.mixture import mixture_table  # noqa: E402
from audit.stations.stuffing import stuffing_scores  # noqa: E402

models = [m for m in (MODELS or "").split(",") if m]   # `-p MODELS=` gives None
unknown = sorted(set(models) - {"mixture", "stuffing"})
if unknown:
    raise ValueError(f"MODELS: unknown {unknown[0]!r}; known: mixture, stuffing")
no_battery = SimpleNamespace(evidence=pd.DataFrame(columns=["test", "scope", "status"]),
                             results=[])
model_rows, refused, stuffing_of = [], [], {}
for i, (label, (t, lead)) in enumerate(tables.items()):
    fitted = {}
    for name, fit in (("mixture", mixture_table), ("stuffing", stuffing_scores)):
        if name not in models:
            continue
        try:
            fitted[name] = fit(t, leader=lead, rng=SEED + i)
        except (NotApplicable, ValueError) as exc:
            refused.append({"data": label, "model": name, "reason": str(exc)})
    if "stuffing" in fitted:
        stuffing_of[label] = fitted["stuffing"]
    part = estimates_table(no_battery, mixture=fitted.get("mixture"),
                           stuffing=fitted.get("stuffing"))
    part.insert(0, "data", label)
    model_rows.append(part)
if models:
    estimates = pd.concat(model_rows, ignore_index=True)
    display(out.table(estimates, "model_estimates"))
    if refused:
        display(Markdown("Models that could not be fitted, and why:"))
        display(out.table(pd.DataFrame(refused), "model_refused"))
else:
    display(Markdown("No fraud model was fitted (parameter `MODELS` is empty)."))

# %% [markdown]
# ## 7. What this does and does not show

# %%
# the battery's verdict rule: a Holm-adjusted p-value at most the level rejects
rejected = evidence[(evidence["status"] == "ok") & (evidence["p_holm_all"] <= 0.05)]
sized = rejected[rejected["class"] == "evidence"]
loose = rejected[rejected["class"] == "descriptive"]
ran_ev = evidence[(evidence["status"] == "ok") & (evidence["class"] == "evidence")]


def _listing(frame, labels=None):
    groups = dict(tuple(frame.groupby("data")))
    rows = [f"- **{d}**: " + (", ".join(sorted(groups[d]["test"])) if d in groups else "none")
            for d in (labels or sorted(groups))]
    return "\n".join(rows) if rows else "none"


def _contrast(label):
    """One plain sentence on a contrast data set, written from its rows."""
    part = ran_ev[ran_ev["data"] == label]
    hit = sized[sized["data"] == label]
    if part.empty:
        return f"- **{label}**: no evidence test could run."
    if hit.empty:
        low = part.loc[part["pvalue"].idxmin()]
        return (f"- **{label}**: none of the {len(part)} evidence tests that ran rejects its "
                f"clean-count null after Holm adjustment (smallest p-value "
                f"{low['p']}, {low['test']}).")
    return (f"- **{label}**: {', '.join(sorted(hit['test']))} reject after Holm "
            "adjustment. This is a contrast data set: a rejection here means the test, "
            "or its null, does not fit this election, and weakens what the same test "
            "says elsewhere.")


display(Markdown(
    "Evidence tests that reject their clean-count null after Holm adjustment across the "
    "whole table:\n\n" + _listing(sized, [k for k in tables
                                         if k not in clean_names + ukraine])
    + "\n\nThe contrasts, in plain words:\n\n"
    + "\n".join(_contrast(k) for k in clean_names + ukraine)
    + "\n\nDescriptive tests that reject (listed apart; they also reject honestly "
    "counted elections or their twins, so they are not evidence here):\n\n"
    + _listing(loose) +
    "\n\nThese are departures from simple models of a clean count. Integer-percentage "
    "excesses and spikes at round shares have been read in the literature as signs of "
    "results written to targets; digit anomalies as signs of numbers written by hand. "
    "They are not proof: the tests say how unlikely the counts are under a clean-count "
    "model, not who changed them or why. Ukraine 2019 has no registered-voter column, so "
    "turnout-based tests cannot run on it; and the honestly counted elections show what "
    "the same battery gives when nothing is wrong."))

if stuffing_of:
    yardstick = [stuffing_of[k].ballot_share for k in clean_names if k in stuffing_of]
    lines = [f"- **{k}**: {st.stuffed_ballots:,.0f} ballots, {st.ballot_share:.2%} of the "
             f"ballots cast, in {st.share:.1%} of the stations"
             for k, st in stuffing_of.items()]
    display(Markdown(
        "The stuffing model's estimate of the ballots added for the leader:\n\n"
        + "\n".join(lines)
        + ("\n\nOn the honestly counted contrasts it gives up to "
           f"{max(yardstick):.2%} of the ballots cast: that much is what its model of a clean "
           "district misses in honest counting. An estimate far above it fits added "
           "ballots, but also any legitimate way in which some stations differ from the "
           "rest of their district; it is a size to explain, not a count of fraud."
           if yardstick else "")))
not_run = evidence[evidence["status"] != "ok"][["data", "test", "status", "reason"]]
display(out.table(not_run, "not_run"))

# %%
display(out.table(versions(), "versions"))
