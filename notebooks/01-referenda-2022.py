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
# Station file of the 2024 Russian presidential election (a registered dataset; never downloaded here).
STATIONS_2024 = "ru-cik/2024.csv.zip"
# Its regions on annexed Ukrainian territory that have station results (comma-separated).
ANNEXED_2024 = "Республика Крым,город Севастополь"
# The leading candidate's column in that file.
LEADER_2024 = "Путин"
# Root seed of the station battery's simulated p-values.
SEED = 0

# %%
import matplotlib.pyplot as plt
from IPython.display import Markdown, display

from audit.plots import referenda as rp
from audit.plots import style
from audit.plots.fingerprint import plot_fingerprint
from audit.plots.stations import plot_integer_percentages
from audit.referenda import casestudy as cs
from audit.stations import slices
from audit.referenda.bundle import load_evidence
from audit.referenda.checks import CONFIRMED_ONLY, SCENARIOS, VERDICT_RULES, run_checks, sensitivity
from audit.referenda.checks.base import ALLOWED, KINDS
from audit.referenda.checks.baselines import POLITICAL_PROXIES
from audit.referenda.checks.claims import CLAIM_RULES
from audit.core.pvalues import pvalue_text
from audit.reporting.own import pvalue_column
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
# Baselines and free referendums are used as in the full run there; the
# organisers' other votes in the four regions (section 8) lose their
# unconfirmed figures like the 2022 ones. The sensitivity table adds a run
# that also keeps only the baselines confirmed on a stored page. A finding
# about another vote (family 'across votes') names that vote in its subject.

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
# The same authorities announced other votes in the same territories: the
# separatist authorities in 2014 and 2018, the Russian authorities in the
# regional elections of September 2023 and the presidential election of March
# 2024. The table gathers what the record holds for each region, with its
# source, confidence and verification, and applies the 2022 arithmetic where
# the figures allow it: participants implied by the leading votes and share,
# and the voter list implied by participants and turnout, set against the most
# adults the whole oblast can have had before the war (the bound of section 5).
# A referendum's yes share and an election winner's share measure different
# things; the table is for reading across, not for ranking votes.

# %%
summary = cs.cross_vote_summary(ev)
display(out.table(summary, "cross_votes_by_region",
                  show=["region", "year", "vote", "turnout_as_stated", "turnout_confidence",
                        "turnout_verification", "turnout_source", "share_as_stated",
                        "share_confidence", "share_verification", "share_source",
                        "other_versions"]))
gaps = [f"{r.region} {r.year} {q}" for r in summary.itertuples()
        for q in ("turnout", "share") if getattr(r, f"{q}_verification") == "not found"]
bounded = [f"{r.region} {r.year} ({r.turnout_as_stated})" for r in summary.itertuples()
           if r.turnout_as_stated.startswith(("more than", "about", "at most"))]
display(Markdown(
    "The 2022, 2023 and 2024 figures region by region (the final figure the checks use, its "
    "page, confidence and verification; other versions reported beside it). "
    + ("Found on no stored page, so left empty rather than filled from memory: "
       + ", ".join(gaps) + ". " if gaps else "Every figure was found on a stored page. ")
    + ("Stated only as a bound or an approximation: " + ", ".join(bounded) + ". "
       if bounded else "")))

# %%
cross = cs.cross_vote_table(ev)
display(out.table(cross, "cross_votes",
                  show=["region", "date", "vote", "turnout_high", "share_high",
                        "participants_used", "implied_list", "confidence", "verification"]))
lists = cross.dropna(subset=["implied_list"]).drop_duplicates(
    ["region", "date", "vote", "implied_list"])
display(Markdown(
    "Every report in the record, 2014-2024. Voter lists implied by the announced figures "
    "(derived: participants, or leading votes / share, divided by turnout), vote by vote: "
    + "; ".join(
        f"{r.region} {r.date[:4]} ({r.vote}): {r.implied_list:,.0f}"
        + (f", {r.implied_list_share_of_most_adults:.0%} of the most adults the whole oblast "
           "can have had in 2021-2022" if r.date >= "2022" else "")
        for r in lists.itertuples())
    + " (votes before 2022 are not set against the 2021-2022 population, which was smaller "
    "than the one they drew on)."))

# %% [markdown]
# ### The 2022 checks, run on the other votes
#
# The same rules as in sections 3 to 5, on the figures of the other votes
# (family *across votes* in the findings table): counts that must add up,
# shares and turnout recomputed from counts, cumulative turnout that must not
# fall while a vote runs (2023 and 2024: the figures announced during the
# vote, `data/other_votes/turnout_by_day.csv`), and the implied voter list of
# the votes held after 2021 against the adults the whole oblast can have had.
# For the DPR and LPR votes of November 2018, and where found for 2023 and
# 2024, every share announced at one moment of the count is loaded
# (`data/other_votes/shares_by_option.csv`): the
# shares of one announcement must not add up to more than 100% (exactly 100%
# when the invalid share is given too), published votes must fit one ballot
# total, and a share announced during the count must leave the ballots still
# to count a share between 0 and 100% of the final. A whole-number percentage
# ('75%') that fails at its last digit but holds as an 'about' figure is
# *inconclusive*.

# %%
across = findings[findings["family"] == "across votes"]
display(out.table(across, "findings_across_votes",
                  show=["finding_id", "check", "region", "subject", "verdict", "rests_on",
                        "explanation"]))
curves = cs.turnout_curves(ev)
out.save(curves, "turnout_curves")
with style():
    fig, axes = plt.subplots(2, 2, figsize=(8.5, 6.2), sharex=True, sharey=True)
    for ax_, region in zip(axes.flat, ev.region_codes):
        rp.turnout_curves(curves, region, ax=ax_)
    axes.flat[0].legend(fontsize=7, loc="upper left")
    fig.tight_layout()
display(out.figure(fig, "turnout_curves",
                   "Cumulative turnout announced while each multi-day vote ran, against days "
                   "before the close (0 = end of the last day). Hollow markers: not confirmed on "
                   "a stored page; triangles: 'more than'. Source: tables/turnout_curves.csv "
                   "(2022: data/referenda_2022/announcements.csv; 2023-2024: "
                   "data/other_votes/turnout_by_day.csv; URL per row)."))
support = cs.support_by_vote(ev)
with style():
    ax = rp.support_by_vote(support)
display(out.figure(ax.figure, "support_by_vote",
                   "Leading share announced in each vote, by region (filled: yes in a "
                   "referendum; hollow: an election winner; grey outline: not confirmed on a "
                   "stored page). Source: tables/support_by_vote.csv (data/comparison_votes.csv "
                   "and the 2022 announcements; URL, confidence and verification per row)."))
display(out.table(support, "support_by_vote",
                  show=["region", "date", "vote", "kind", "share_high", "confidence",
                        "verification", "source_url"]))

# %%
finals = curves[curves["days_to_close"] == 0].drop_duplicates(["region", "year"], keep="last")
early = curves[curves["days_to_close"] <= -1].sort_values("days_to_close").drop_duplicates(
    ["region", "year"], keep="last")
ahead = early.merge(finals, on=["region", "year"], suffixes=("_before", "_final"))
bad = across[across["verdict"] == "inconsistent"]
doubt = across[across["verdict"] == "inconclusive"]
mono = across[across["check"] == "turnout_monotonic_other_votes"]
ref22, reg23, pres24 = (summary[summary["year"] == y].set_index("region")["share"].dropna()
                        for y in (2022, 2023, 2024))
vain = ev.verification[ev.verification["file"].str.startswith("other_votes/shares")
                       & (ev.verification["status"] == "not_found")]
display(Markdown(
    "**What the numbers across votes show.** "
    f"Of {len(across)} checks on the other votes, {(across['verdict'] == 'consistent').sum()} "
    f"are consistent, {len(bad)} inconsistent and {len(doubt)} inconclusive. "
    + ("".join(f"{r.finding_id} ({r.region}, {r.subject}) is *inconsistent*: {r.explanation} "
               f"(rests on figures {r.rests_on})"
               + ("; it rests on a figure found on one page only or on none, so it is not a "
                  "headline finding. " if any(w in r.rests_on for w in ("single source",
                                                                         "not found",
                                                                         "not checked"))
                  else ". ") for r in bad.itertuples()))
    + ("".join(f"{r.finding_id} ({r.region}, {r.subject}) is *inconclusive*: {r.explanation}. "
               for r in doubt.itertuples()))
    + ("".join(f"Searched for and found on no stored page, so not checked: {r.region_or_unit} "
               f"{r.quantity}. " for r in vain.itertuples()))
    + f"In all {len(mono)} steps of the 2023 and 2024 turnout series the announced turnout "
    + ("never falls. " if (mono["verdict"] == "consistent").all() else "falls at least once. ")
    + "The multi-day votes share a shape: much of the final turnout was announced before the "
    "last day. The last figure at least a day before the close, against the final: "
    + "; ".join(f"{r.region} {r.year}: {r.turnout_before:g}% of "
                f"{'more than ' if r.bound_final == 'lower' else ''}{r.turnout_final:g}% "
                f"({-r.days_to_close_before:.1f} days before)" for r in ahead.itertuples())
    + ". Leading shares: the 2022 yes share ("
    + ", ".join(f"{k} {v:g}%" for k, v in ref22.items())
    + "), the 2023 party share ("
    + ", ".join(f"{k} {v:g}%" for k, v in reg23.items())
    + ") and the 2024 presidential share ("
    + ", ".join(f"{k} {v:g}%" for k, v in pres24.items()) + "); "
    + ("in every region both the 2022 and the 2024 shares lie above the 2023 one."
       if all(min(ref22.get(r, 0), pres24.get(r, 0)) > reg23.get(r, 100) for r in ref22.index)
       else "the order is not the same in every region.")
    + "\n\n**What they do not show.** These figures come from the same authorities and were "
    "never published by station; figures that agree with each other say nothing about how they "
    "were produced, and a check that passes is not a certificate. An election winner's share "
    "is not a vote to join a country, so the shares are read across, not ranked. The implied "
    "voter lists of 2022 and 2024 (DPR) differ, but the territory held, the people present and "
    "the rules of the lists changed between the votes, so the difference is not by itself an "
    "error. Turnout announced early in the count is a claim by the organisers, not an "
    "observation. An inconsistency says that a published record is wrong somewhere, not who "
    "made it wrong or why: an anomaly is evidence to explain, not proof of fraud."))

# %% [markdown]
# ## 9. Crimea and Sevastopol, March 2024: the only station-level results
#
# No station-level results were published for the 2022 votes, nor for the 2024
# presidential election in the four regions annexed in 2022 (their 2,268
# stations are empty in the public file). Crimea and Sevastopol, annexed in
# 2014, are the only annexed Ukrainian territory with station results. This
# section runs the station battery on them (the same run as `audit run`);
# evidence tests, which hold their false-alarm rate on honestly counted
# elections and clean twins (`docs/calibration.md`), are reported apart from
# descriptive ones, which are never counted as evidence. The file is a
# registered dataset, verified by sha256; the report never downloads it, and
# skips this section when it is not in the data folder.

# %%
annexed = [r for r in ANNEXED_2024.split(",") if r]
run24 = slices.run_on_regions(STATIONS_2024, annexed, leader=LEADER_2024, rng=SEED)
if not run24.ran:
    display(Markdown(f"**Skipped:** {run24.skipped}. Nothing else in this report depends on "
                     "this section."))
else:
    stations24 = slices.station_summary(run24)
    display(out.table(stations24, "stations_2024_summary"))
    battery24 = slices.station_evidence(run24).drop(columns=["details"])
    # p-values as text: a bound (simulation floor, underflow) is written "< x"
    battery24["p"] = pvalue_column(battery24["pvalue"], run24.battery.results)
    battery24["Holm p"] = pvalue_column(battery24["pvalue"], run24.battery.results,
                                        battery24["p_holm"])
    out.save(battery24, "stations_2024_battery")
    cols24 = ["test", "statistic", "p", "Holm p", "n", "status"]
    display(Markdown("**Evidence tests** (Holm adjustment within the class):"))
    display(out.table(battery24[battery24["class"] == "evidence"], "stations_2024_evidence",
                      show=cols24))
    display(Markdown("**Descriptive tests** (not evidence: they reject honestly counted "
                     "elections or their clean twins too):"))
    display(out.table(battery24[battery24["class"] == "descriptive"],
                      "stations_2024_descriptive", show=cols24))
    by_test = {r.test: r for r in run24.battery.results if r is not None}
    with style():
        ax = plot_fingerprint(by_test["fingerprint"])
    display(out.figure(ax.figure, "stations_2024_fingerprint",
                       f"{' and '.join(annexed)}, 2024: stations by turnout and the leader's "
                       f"share ({len(run24.table.data):,} stations of the registered dataset, "
                       "sha256 verified).", data=STATIONS_2024))
    with style():
        ax = plot_integer_percentages(by_test["integer_percentages"], "turnout")
    display(out.figure(ax.figure, "stations_2024_integer_turnout",
                       f"{' and '.join(annexed)}, 2024: stations by turnout in 0.1-point bins, "
                       "with the count expected at whole numbers.", data=STATIONS_2024))
    ran24 = battery24[battery24["status"] == "ok"]
    # the battery's verdict rule: Holm-adjusted p at most 0.05 (reject_holm)
    hit_ev = ran24[(ran24["class"] == "evidence") & ran24["reject_holm"].astype(bool)]
    hit_de = ran24[(ran24["class"] == "descriptive") & ran24["reject_holm"].astype(bool)]
    ip24 = by_test["integer_percentages"].details
    p24 = pvalue_text(by_test["integer_percentages"].pvalue,
                      params=by_test["integer_percentages"].params, details=ip24)
    display(Markdown(
        f"**What it shows.** {len(run24.table.data):,} stations ("
        + ", ".join(f"{r.region}: {r.stations:,}, turnout {r.turnout_pct:.1f}%, leader "
                    f"{r.leader_pct:.1f}%" for r in stations24.itertuples())
        + f"). Integer percentages: {ip24['observed']:,.0f} stations at whole-number turnout or "
        f"leader share against {ip24['expected']:,.1f} expected under a clean count (excess "
        f"{ip24['excess']:+,.1f}, p {p24}). "
        + (f"Evidence tests that reject after Holm adjustment: "
           + ", ".join(f"{t} (Holm-adjusted p {p})" for t, p in zip(hit_ev["test"],
                                                                      hit_ev["Holm p"]))
           + ". " if len(hit_ev) else
           f"None of the {int((ran24['class'] == 'evidence').sum())} evidence tests rejects "
           "after Holm adjustment. ")
        + (f"Descriptive tests that reject ({', '.join(hit_de['test'])}) are listed apart and "
           "are not evidence: the shape of a distribution differs between honest elections too. "
           if len(hit_de) else "")
        + "\n\n**What it does not show.** These stations are not the four regions annexed in "
        "2022: their results say nothing directly about the 2022 votes or about the 2024 "
        "figures announced there, which were never published by station. A battery that finds "
        "nothing does not show a free vote: pressure on voters, who was on the lists and the "
        "conditions of an occupation leave no trace in counts that are written down honestly. "
        "A test that rejects points to counts to explain, not to who changed them or why: an "
        "anomaly is not proof."))

# %% [markdown]
# ## 10. Provenance and versions

# %%
import pandas as pd  # noqa: E402

sources = pd.DataFrame([{"table": k, **v} for k, v in ev.sources.items()])
display(out.table(sources, "sources"))
display(out.table(pd.DataFrame([audit.params]), "parameters"))
display(out.table(versions(), "versions"))
_ = style_ctx.__exit__(None, None, None)
