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
# # Station-level forensics: Russia 2020 and 2024, Crimea and Sevastopol, Ukraine 2019
#
# The 2022 votes in occupied Ukraine left no station-level results. The nearest
# station-level evidence from annexed Ukrainian territory is the 2024 Russian
# presidential election in Crimea and Sevastopol (the results for the four regions
# annexed in 2022 were never released). This report runs the forensic battery on
# the 2020 Russian constitutional vote and the 2024 election, on Crimea and
# Sevastopol alone, and on Ukraine's 2019 presidential first round, a competitive
# election, as a contrast.
#
# **How to read it.** Each test states a null hypothesis of a clean count (for
# example: each station's percentages are binomial draws around its own rates, so
# whole-number percentages are no more frequent than chance allows). A small
# p-value says the data are unlikely under that null. It does not say who did
# what: heterogeneous electorates, rounding by honest officials, or a test's own
# miscalibration can produce anomalies, which is why each test's false-alarm rate
# on simulated clean elections is reported next to it. An anomaly is evidence to
# explain, not proof of fraud.

# %% tags=["parameters"]
# Folder for figures and tables (the report's own folder when run by `make report`).
OUTPUT_DIR = "reports/station-forensics"
# Root seed for every resampled or simulated quantity.
SEED = 0
# Registered tests to run (comma-separated); see `audit tests`.
TESTS = "integer_percentages,second_digit_mean,last_digit,count_05,last_two_repeat,turnout_dip,turnout_leader_correlation,sobyanin_sukhovolsky,excess_votes,fingerprint"
# Russian datasets: name:leader pairs (comma-separated).
RUSSIA = "ru-cik/2020.csv.zip:ДА,ru-cik/2024.csv.zip:Путин"
# Regions of the 2024 election analysed on their own.
ANNEXED_2024 = "Республика Крым,город Севастополь"
# Ukrainian contrast: dataset and leader.
UKRAINE = "ua-cvk/president_election_2019_1_by_vd_en.csv:Zelensky"
# Keep at most this many stations per dataset (0 = all); small values make a quick run.
MAX_STATIONS = 0

# %%
import numpy as np
import pandas as pd
from IPython.display import Markdown, display

from audit import datasets
from audit.battery import run_battery
from audit.plots import style
from audit.plots.battery import plot_evidence
from audit.plots.fingerprint import plot_fingerprint
from audit.plots.stations import plot_digits, plot_integer_percentages
from audit.report import Outputs, versions

out = Outputs(OUTPUT_DIR)
tests = [t for t in TESTS.split(",") if t]
rng = np.random.default_rng(SEED)


def _pairs(text):
    return [tuple(item.rsplit(":", 1)) for item in text.split(",") if item]


# %% [markdown]
# ## 1. The data
#
# Files are fetched by URL and verified by sha256 on every load; every station a
# reader leaves out is counted with its reason.

# %%
tables = {}
for name, leader in _pairs(RUSSIA) + _pairs(UKRAINE):
    t = datasets.load(name)
    if MAX_STATIONS and len(t.data) > MAX_STATIONS:
        keep = np.sort(rng.choice(len(t.data), MAX_STATIONS, replace=False))
        t = type(t)(data=t.data.iloc[keep], options=t.options, excluded=t.excluded,
                    findings=t.findings, source={**t.source, "subsample": MAX_STATIONS})
    tables[name] = (t, t.leader_column(leader))
annexed = [r for r in ANNEXED_2024.split(",") if r]
t24, lead24 = next(v for k, v in tables.items() if "2024" in k)
tables["2024: " + " + ".join(annexed)] = (t24.select("region", annexed), lead24)

loaded = pd.DataFrame([{
    "data": k, "stations kept": len(t.data), "excluded": len(t.excluded),
    "reasons": "; ".join(f"{r} ({n})" for r, n in t.excluded["reason"].value_counts().items())
    if len(t.excluded) else "", "impossible figures kept": len(t.findings), "leader": lead,
    "sha256": t.source.get("sha256", "")[:12]} for k, (t, lead) in tables.items()])
display(out.table(loaded, "data_loaded"))

# %% [markdown]
# ## 2. The battery
#
# Every selected test runs on every data set; p-values are adjusted across the
# whole table (Benjamini-Hochberg and Holm). Tests that do not apply (no
# registered voters in the Ukrainian files, too few stations) say why.

# %%
runs, rows = {}, []
for i, (label, (t, lead)) in enumerate(tables.items()):
    res = run_battery(t, leader=lead, tests=tests, rng=SEED + i)
    runs[label] = res
    ev = res.evidence.copy()
    ev.insert(0, "data", label)
    rows.append(ev)
evidence = pd.concat(rows, ignore_index=True)
from audit.battery import p_adjust_bh, p_adjust_holm  # noqa: E402

ok = evidence["pvalue"].notna()
evidence["p_bh_all"] = np.nan
evidence["p_holm_all"] = np.nan
evidence.loc[ok, "p_bh_all"] = p_adjust_bh(evidence.loc[ok, "pvalue"].to_numpy())
evidence.loc[ok, "p_holm_all"] = p_adjust_holm(evidence.loc[ok, "pvalue"].to_numpy())
display(out.table(evidence, "evidence", show=["data", "test", "statistic", "pvalue",
                                               "p_holm_all", "n", "status", "calibration"]))

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
            slug = "".join(ch if ch.isalnum() else "_" for ch in label)[:40]
            display(out.figure(ax.figure, f"integer_turnout_{slug}",
                               f"{label}: stations by turnout in 0.1-point bins, with the "
                               "count expected at whole numbers."))
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
for label, res in runs.items():
    for r in res.results:
        if r is not None and r.test == "fingerprint":
            with style():
                ax = plot_fingerprint(r)
            slug = "".join(ch if ch.isalnum() else "_" for ch in label)[:40]
            display(out.figure(ax.figure, f"fingerprint_{slug}",
                               f"{label}: stations by turnout and leader share."))

# %% [markdown]
# ## 5. Digits

# %%
for label, res in runs.items():
    for r in res.results:
        if r is not None and r.test == "last_digit":
            with style():
                ax = plot_digits(r)
            slug = "".join(ch if ch.isalnum() else "_" for ch in label)[:40]
            display(out.figure(ax.figure, f"last_digit_{slug}",
                               f"{label}: last digits of vote counts against uniform."))

# %% [markdown]
# ## 6. What this does and does not show

# %%
rejected = evidence[(evidence["status"] == "ok") & (evidence["p_holm_all"] < 0.05)]
sized = rejected[rejected["calibration"].fillna("") == ""]
loose = rejected[rejected["calibration"].fillna("") != ""]


def _listing(frame):
    rows = [f"- **{d}**: " + ", ".join(sorted(g["test"])) for d, g in frame.groupby("data")]
    return "\n".join(rows) if rows else "none"


display(Markdown(
    "Tests that hold their size on simulated clean elections and reject their clean-count "
    "null here after Holm adjustment across the whole table:\n\n" + _listing(sized)
    + "\n\nTests that also reject, but that reject clean simulated elections too often to "
    "count as evidence on their own (see the `calibration` column and "
    "`docs/calibration.md`):\n\n" + _listing(loose) +
    "\n\nThese are departures from simple models of a clean count. Integer-percentage "
    "excesses and fingerprints smeared towards 100% turnout and support have been read in "
    "the literature as signs of results written to targets and of ballot stuffing; they are "
    "not proof, and a heterogeneous electorate can bend the distribution tests. A competitive "
    "election (Ukraine 2019) is the contrast, not a gold standard: it has no registered-voter "
    "column, so turnout-based tests cannot run on it."))
not_run = evidence[evidence["status"] != "ok"][["data", "test", "status", "reason"]]
display(out.table(not_run, "not_run"))

# %%
display(out.table(versions(), "versions"))
