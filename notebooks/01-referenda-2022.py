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
# # The September 2022 votes in occupied Ukraine: an audit of the announced figures
#
# In September 2022 the authorities installed by Russia in the occupied parts of
# Ukraine's Donetsk, Luhansk, Zaporizhzhia and Kherson oblasts announced that
# between 87% and 99% of voters had backed joining Russia, on very high turnout.
# No polling-station results were ever published: only region totals, daily
# turnout and a few partial figures released while the count went on. This
# report checks those figures against **their own arithmetic**, **their own
# timeline** and **independent baselines**, and gives a computed verdict for
# each quantitative claim made about the votes.
#
# **What this audit can and cannot conclude.** A finding of *inconsistent* means
# that the announcer's own figures cannot all be true at once, allowing for the
# precision with which each was stated. It says the published record is wrong
# somewhere; it does not say where, nor why. A finding of *implausible* means a
# figure lies outside what independent baselines allow; baselines carry their own
# uncertainty (census figures are old, displacement is estimated by parties to the
# conflict), which is why they are carried as ranges. None of these checks can
# measure coercion, the presence of armed men at the ballot box, or whether the
# vote was lawful: those questions are outside arithmetic. An anomaly is evidence
# to explain, not proof of fraud; equally, figures that add up prove nothing about
# how they were produced.

# %% tags=["parameters"]
# Folder for figures and tables (the report's own folder when run by `make report`).
OUTPUT_DIR = "reports/referenda-2022"
# Relative tolerance for figures announced as 'about' (0.10 = +-10%).
APPROX_REL = 0.10
# Swing (percentage points) beyond every independent measure above which support is implausible.
MAX_SWING = 25.0
# Significance level for the chance that a partial count repeats the final share.
ALPHA = 0.05

# %%
import matplotlib.pyplot as plt
from IPython.display import Markdown, display

from audit import casestudy as cs
from audit.checks import VERDICT_MEANING, run_checks
from audit.evidence import load_evidence
from audit.plots import referenda as rp
from audit.plots import style
from audit.report import Outputs, versions

out = Outputs(OUTPUT_DIR)
ev = load_evidence()
audit = run_checks(ev, approx_rel=APPROX_REL, max_swing=MAX_SWING, alpha=ALPHA)
findings = audit.findings
claims = audit.claims
style_ctx = style()
style_ctx.__enter__()

# %% [markdown]
# ## 1. What was announced

# %%
summary = cs.announced_summary(ev)
display(out.table(summary, "announced_final",
                  show=["region", "participants", "turnout", "yes", "yes_share", "no", "invalid"]))
n_rows = len(ev.announcements)
n_sources = ev.announcements["source_url"].nunique()
n_checked = len(ev.verification)
n_confirmed = int((ev.verification["status"] == "confirmed").sum())
display(Markdown(
    f"The evidence holds **{n_rows} announced figures** from **{n_sources} published reports** "
    f"(`tables/announcements.csv`); where reports disagree, every version is kept and checked. "
    f"A spot check of {n_checked} bundled figures against stored public pages confirmed "
    f"{n_confirmed}; the others differ or were not found (`tables/verification.csv`)."))
out.save(ev.announcements, "announcements")
out.save(ev.verification, "verification")

# %% [markdown]
# ## 2. Overview of the findings

# %%
display(Markdown(
    "Every check compares intervals: each figure stands for the range of true values its "
    "stated precision allows (99.23% for 99.225-99.235%; 'more than 370 thousand' for at "
    f"least 369,500; 'about' for +-{APPROX_REL:.0%}, the `APPROX_REL` parameter). "
    "The verdicts mean:\n\n"
    + "\n".join(f"- **{v}**: {m}" for v, m in VERDICT_MEANING.items())))
with style():
    ax = rp.verdict_counts(findings)
display(out.figure(ax.figure, "findings_overview",
                   "Number of comparisons by family of checks and verdict."))
bad = findings[findings["verdict"].isin(["inconsistent", "implausible"])]
display(Markdown(
    f"Of **{len(findings)} comparisons**, **{(findings['verdict'] == 'inconsistent').sum()}** "
    f"find the announcer's own figures inconsistent and "
    f"**{(findings['verdict'] == 'implausible').sum()}** find a figure implausible against "
    f"baselines. They concern: " + ", ".join(sorted(set(bad["region"]) - {"all"})) + "."))

# %% [markdown]
# ## 3. Arithmetic: do the announced figures agree with each other?
#
# Shares are recomputed from the announced counts on every plausible base
# (ballots cast, valid ballots, voter lists). A share counts as consistent when
# any base reproduces it to its last decimal.

# %%
arith = findings[findings["family"] == "arithmetic"]
inc = arith[arith["verdict"] == "inconsistent"]
display(Markdown("**Inconsistencies found:**\n\n" + "\n".join(
    f"- **{r.region}** ({r.check}): {r.explanation}" for r in inc.itertuples())
    if len(inc) else "No arithmetic inconsistency was found."))
ok = arith[arith["verdict"] == "consistent"]
display(Markdown(f"{len(ok)} other arithmetic comparisons agree; for example: " + "; ".join(
    f"{r.region}: {r.explanation}" for r in ok[ok["check"].isin(
        ["share_recomputation", "scope_composition"])].head(3).itertuples()) + "."))

# %% [markdown]
# ## 4. The timeline: daily turnout, voter lists and partial counts
#
# Voting ran for five days (home and yard visits on days 1-4, stations open on
# day 5). Cumulative turnout must not fall; the voter list implied by
# participants / turnout may grow only through supplementary lists; and a
# partial count fixes a lower bound on the final count.

# %%
with style():
    ax = rp.turnout_by_day(cs.turnout_timeline(ev))
display(out.figure(ax.figure, "turnout_by_day",
                   "Cumulative turnout announced after each day of voting."))
with style():
    ax = rp.implied_electorate(cs.implied_electorate_table(ev))
display(out.figure(ax.figure, "implied_electorate",
                   "Voter lists implied by each (participants, turnout) announcement, the lists "
                   "announced, the voting-age population of the whole oblast and estimates of the "
                   "people present."))
out.save(cs.implied_electorate_table(ev), "implied_electorate")
tl = findings[findings["family"] == "timeline"]
display(Markdown("\n".join(
    f"- **{r.region}**, {r.subject} — *{r.verdict}*: {r.explanation}"
    for r in tl[tl["verdict"].isin(["inconsistent", "inconclusive"])].itertuples())))

# %% [markdown]
# ## 5. Baselines: could the figures be true?

# %%
with style():
    ax = rp.support_vs_baselines(cs.support_baseline_table(ev))
display(out.figure(ax.figure, "support_vs_baselines",
                   "Announced support beside independent measures of pro-Russian orientation "
                   "(ethnic and language shares as context only)."))
out.save(cs.support_baseline_table(ev), "support_baselines")
with style():
    ax = rp.other_votes(cs.other_votes_table(ev))
display(out.figure(ax.figure, "other_votes",
                   "Turnout and yes share: the 2022 announcements, free referendums and the "
                   "organisers' earlier votes."))
out.save(cs.other_votes_table(ev), "other_votes")
base = findings[findings["family"] == "baselines"]
display(Markdown("\n".join(
    f"- **{r.region}**, {r.subject} — *{r.verdict}*: {r.explanation}"
    for r in base[base["verdict"] != "not checkable"].itertuples())))

# %% [markdown]
# ## 6. The claims and their verdicts
#
# The claims come from the report the project started from (`seeds/claims.yaml`),
# paraphrased with their attribution. Each names the checks that evaluate it;
# the verdict is the most serious of their findings.

# %%
display(out.table(claims, "claims",
                  show=["claim_id", "claim", "attribution", "verdict", "basis"]))

# %% [markdown]
# ## 7. Every finding
#
# The full table is `tables/findings.csv`: one row per comparison, with the
# ids of the evidence rows (`tables/announcements.csv`) it rests on, so that any
# verdict can be redone by hand.

# %%
display(out.table(findings, "findings",
                  show=["family", "check", "region", "subject", "verdict"]))

# %% [markdown]
# ## 8. Provenance and versions

# %%
import pandas as pd  # noqa: E402

sources = pd.DataFrame([{"table": k, **v} for k, v in ev.sources.items()])
display(out.table(sources, "sources"))
display(out.table(pd.DataFrame([audit.params]), "parameters"))
display(out.table(versions(), "versions"))
style_ctx.__exit__(None, None, None)
