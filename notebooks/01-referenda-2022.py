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

from audit.plots import referenda as rp
from audit.plots import style
from audit.referenda import casestudy as cs
from audit.referenda.bundle import load_evidence
from audit.referenda.checks import CONFIRMED_ONLY, SCENARIOS, VERDICT_RULES, run_checks, sensitivity
from audit.referenda.checks.base import ALLOWED, KINDS
from audit.referenda.checks.baselines import POLITICAL_PROXIES
from audit.referenda.checks.claims import CLAIM_RULES
from audit.reporting.report import Outputs, versions

out = Outputs(OUTPUT_DIR)
ev = load_evidence()
audit = run_checks(ev, approx_rel=APPROX_REL, max_swing=MAX_SWING, alpha=ALPHA)
findings = audit.findings
claims = audit.claims
sens = sensitivity(ev, approx_rel=APPROX_REL, max_swing=MAX_SWING, alpha=ALPHA)
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
status_counts = ev.announcements["verification"].fillna("not checked").value_counts()
display(Markdown(
    "Each figure carries its verification status (column `verification`): "
    + ", ".join(f"**{n}** {k}" for k, n in status_counts.items())
    + ". A *derived* figure was computed by someone from other figures rather than announced; "
      "the checks never score it, since it would agree with its own inputs by construction."))
fig_versions = cs.versions_table(ev)
out.save(fig_versions, "versions_of_figures")
display(Markdown(
    "Several figures were published in more than one version. The checks use the best-verified "
    "version (then the most confident report); the section on sensitivity reruns them with the "
    "other versions. The versions:\n\n" + "\n".join(
        f"- **{region}**, {q} ({stage}, {scope}): " + "; ".join(
            f"{r.value:,.10g} ({r.verification}{', used' if r.used else ''})"
            for r in g.itertuples())
        for (region, q, stage, scope), g in fig_versions.groupby(
            ["region", "quantity", "stage", "scope"], sort=False))))

# %% [markdown]
# ## 2. How findings are judged, and the headline findings
#
# Every check compares intervals: each figure stands for the range of true
# values its stated precision allows. Each finding compares a figure with one
# of three things (its *kind*): the announcer's own other figures, a bound set
# by independent baselines, or the range of comparable figures. The kind fixes
# which verdicts a finding can take, and each verdict has one rule.

# %%
display(Markdown(
    f"'About' is read as +-{APPROX_REL:.0%} (the `APPROX_REL` parameter); 'more than 370 "
    "thousand' as at least 369,500; 99.23% as 99.225-99.235%. The rules:\n\n"
    + "\n".join(f"- **{v}**: {m}" for v, m in VERDICT_RULES.items())
    + "\n\nVerdicts each kind can take: " + "; ".join(
        f"*{k}*: " + ", ".join(sorted(ALLOWED[k])) for k in KINDS) + "."))
with style():
    ax = rp.verdict_counts(findings)
display(out.figure(ax.figure, "findings_overview",
                   "Number of comparisons by family of checks and verdict."))
display(Markdown(
    f"Of **{len(findings)} comparisons**, **{(findings['verdict'] == 'inconsistent').sum()}** "
    f"find the announcer's own figures inconsistent, "
    f"**{(findings['verdict'] == 'implausible').sum()}** find a figure implausible against "
    f"baselines and **{(findings['verdict'] == 'unusual').sum()}** find one unusual against "
    "comparable figures."))

# %% [markdown]
# ### Headline findings: those that hold on confirmed figures alone
#
# The checks were run again on the announced figures confirmed on a stored
# public page, leaving out every figure that is single-source, not checked,
# not found or derived. A headline finding is one that is inconsistent or
# implausible in the full run and stays so in that confirmed-only run.
# Baselines and comparison votes are used as in the full run there; the
# sensitivity table adds a run that also keeps only the baselines confirmed on
# a stored page.

# %%
out.save(sens, "sensitivity")
heads = sens[sens["survives"]]
missing_measures = {r: [lab for q, (lab, _, _) in POLITICAL_PROXIES.items()
                        if ev.baseline(r, q).empty] for r in ev.region_codes}
display(Markdown("\n".join(
    f"- **{r['region']}**, {r['subject']} ({r['check']}): *{r['all figures']}* with all "
    f"figures, *{r[CONFIRMED_ONLY]}* with confirmed figures only"
    + (" (against the measures in the record; missing for this region: "
       + ", ".join(missing_measures[r["region"]]) + ", which could change it)"
       if r["check"] == "support_vs_baselines" and missing_measures[r["region"]] else "")
    for _, r in heads.iterrows()) if len(heads) else
    "No inconsistent or implausible finding survives on confirmed figures alone."))
lost = sens[sens["all figures"].str.split(" (", regex=False).str[0].isin(
    ["inconsistent", "implausible"]) & ~sens["survives"]]
display(Markdown(
    f"**{len(lost)}** inconsistent or implausible finding(s) of the full run do not survive on "
    "confirmed figures; they rest on figures that are single-source, not found or unchecked "
    "and are not headlines:\n\n" + "\n".join(
        f"- {r['region']}, {r['subject']} ({r['check']}): *{r['all figures']}* -> "
        f"*{r[CONFIRMED_ONLY]}*" for _, r in lost.iterrows())))

# %% [markdown]
# ### Sensitivity to the evidence
#
# Each column reruns every check on a different set of figures: all of them;
# without those found on no stored page (and derived ones); also without the
# single-source and unchecked ones; confirmed only; confirmed figures with
# confirmed baselines only; and with every figure that has several versions
# replaced by its other versions. 'absent' means the
# finding cannot be formed without the dropped figures. Only findings that are
# inconsistent, implausible or unusual in at least one run are listed
# (`tables/sensitivity.csv`).

# %%
display(out.table(sens, "sensitivity",
                  show=["check", "region", "subject", *SCENARIOS, "survives"]))

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
    f"- {r.finding_id} **{r.region}** ({r.check}): {r.explanation}" for r in inc.itertuples())
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
    f"- {r.finding_id} **{r.region}**, {r.subject} — *{r.verdict}*: {r.explanation}"
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
display(Markdown(
    "Each independent measure says what it measures and for which territory "
    "(`tables/support_baselines.csv`): the 2019 parliamentary vote was held only in the parts "
    "of Donetsk and Luhansk oblasts that Ukraine controlled; the 2010 run-off, the 2012 "
    "parliamentary vote, the 1991 referendum and the 2014 poll cover the whole oblast. A vote "
    "for a pro-Russian party or candidate is not a vote to join Russia; it is used as the most "
    "generous ceiling the record offers.\n\n" + "\n".join(
        f"- {r.finding_id} **{r.region}**, {r.subject} — *{r.verdict}*: {r.explanation}"
        for r in base[base["verdict"] != "not checkable"].itertuples())))

# %% [markdown]
# ### Free referendums with near-unanimous results
#
# Near-unanimous results do occur in free votes. The comparison set holds every
# free referendum the record has with a yes share or a turnout above 90%.

# %%
lop = cs.lopsided_free_votes(ev)
out.save(lop, "lopsided_free_votes")
cmp_ = base[base["check"] == "compare_with_other_votes"]
unusual_regions = sorted(set(cmp_[cmp_["verdict"] == "unusual"]["region"]))
inside_regions = sorted(set(cmp_["region"]) - set(unusual_regions))
inc_regions = sorted(set(findings[findings["verdict"] == "inconsistent"]["region"]) - {"all"})
sup = findings[(findings["check"] == "support_vs_baselines")
               & (findings["verdict"] != "not checkable")]
display(Markdown(
    "Free referendums above 90% on either figure: " + "; ".join(
        f"**{r.unit} {r.year}** ({r.vote}: yes {cs.fmt_range(r.yes_low, r.yes_high)}, "
        f"turnout {cs.fmt_range(r.turnout_low, r.turnout_high)})" for r in lop.itertuples())
    + ". Where two values are given, yes runs from the share of all ballots to the share of "
    "valid votes, and turnout between two published versions.\n\n"
    "**Where the 2022 figures are like them.** Height alone does not set the 2022 figures "
    "apart: " + ", ".join(f"{r.unit} {r.year}" for r in lop[lop["yes_high"] > 95].itertuples())
    + " recorded yes shares above 95% in free votes, and "
    + ", ".join(f"{r.unit} {r.year}" for r in lop[lop["turnout_high"] > 95].itertuples())
    + " turnouts above 95%. Against the whole set, "
    + (", ".join(inside_regions) + " fall inside the free-vote range on both figures; "
       if inside_regions else "")
    + (", ".join(unusual_regions) + " fall outside it on at least one figure (*unusual*, which "
       "is not evidence of fraud)." if unusual_regions else "no region falls outside it.")
    + "\n\n**Where they are unlike them.** What sets the 2022 figures apart is what the "
    "checks found, not their height: announced figures that contradict each other ("
    + (", ".join(inc_regions) if inc_regions else "in no region") + "; sections 3 and 4), "
    "and announced support far above every independent measure of opinion in the same "
    "territory: " + "; ".join(
        f"{r.region} {r.value:g}%, {r.value - r.expected_high + MAX_SWING:.0f} points above "
        f"the most generous measure (*{r.verdict}*)" for r in sup.itertuples())
    + ". For the free votes the record holds no independent measure of opinion before the "
    "vote, so this second contrast rests on the 2022 side only: it says the 2022 shares are "
    "unlike what the same voters expressed before, not that the free votes were like theirs."))

# %% [markdown]
# ## 6. The claims and their verdicts
#
# The claims come from the report the project started from (`seeds/claims.yaml`),
# paraphrased with their attribution. A claim is judged apart from the
# plausibility findings: its *tests* ask whether the claim describes the
# announced figures; its *checks* are the plausibility findings about the
# figures it rests on, listed by id and never re-labelled.

# %%
display(Markdown("The verdict is the first of these rules that applies:\n\n" + "\n".join(
    f"- **{v}**: {m}" for v, m in CLAIM_RULES.items())))
display(out.table(claims, "claims",
                  show=["claim_id", "claim", "attribution", "verdict", "basis"]))
display(Markdown("Every test behind the verdicts (`tables/claim_tests.csv`):"))
display(out.table(audit.claim_tests, "claim_tests",
                  show=["claim_id", "test", "region", "result", "explanation"]))

# %% [markdown]
# ## 7. Every finding
#
# The full table is `tables/findings.csv`: one row per comparison, with its id,
# the ids of the evidence rows (`tables/announcements.csv`) it rests on and
# their verification status, so that any verdict can be redone by hand and
# weighed by the evidence behind it.

# %%
display(out.table(findings, "findings",
                  show=["finding_id", "family", "check", "region", "subject", "kind", "verdict",
                        "evidence", "rests_on"]))

# %% [markdown]
# ## 8. The same territories, 2014-2024
#
# The same authorities announced other votes in the same territories. The
# table gathers what the record holds for each region, with its source and
# confidence, and applies the 2022 arithmetic where the figures allow it:
# participants implied by the leading votes and share, and the voter list
# implied by participants and turnout, set against the most adults the whole
# oblast can have had before the war (the bound of section 5). Votes of
# different kinds are not judged against each other; the table is for
# reading across.

# %%
cross = cs.cross_vote_table(ev)
display(out.table(cross, "cross_votes",
                  show=["region", "date", "vote", "turnout_high", "share_high",
                        "participants_used", "implied_list", "confidence"]))
lists = cross.dropna(subset=["implied_list"])
missing = [f"{r} {y}" for r in ev.region_codes for y in ("2023", "2024")
           if cross[(cross["region"] == r) & cross["date"].str.startswith(y)]["turnout_high"]
           .dropna().empty]
display(Markdown(
    "Voter lists implied by the announced figures: " + "; ".join(
        f"{r.region} {r.date[:4]} ({r.vote}): {r.implied_list:,.0f}, "
        f"{r.implied_list_share_of_most_adults:.0%} of the most adults the whole oblast can have "
        "had in 2021-2022" for r in lists.itertuples())
    + ". " + ("No turnout was found for: " + ", ".join(missing) + "." if missing else "")))

# %% [markdown]
# ## 9. Provenance and versions

# %%
import pandas as pd  # noqa: E402

sources = pd.DataFrame([{"table": k, **v} for k, v in ev.sources.items()])
display(out.table(sources, "sources"))
display(out.table(pd.DataFrame([audit.params]), "parameters"))
display(out.table(versions(), "versions"))
_ = style_ctx.__exit__(None, None, None)
