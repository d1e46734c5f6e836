#!/usr/bin/env python
"""The best AUC any per-station classifier can reach on the mixture's
validation twins: an upper bound for the AUC target of the mixture model.

The twins of ``benchmarks/mixture_validation.py`` (scenario ``stuffing10``:
10 points of the registered voters added to the ballots and to the leader in
5% of stations, capped by the non-voters) are drawn from a known model
(:class:`audit.stations.twin.TwinModel`): each station's turnout, share of
invalid ballots and leader's share of the valid ballots are logit-normal
around its district's centre, with binomial counts. Knowing that model and
the amount stuffed, the likelihood ratio of "stuffed" against "clean" for a
station's observed counts is the best possible ranking of the stations
(Neyman-Pearson: no score has a higher ROC curve at any point, so none has a
higher AUC). This script computes that oracle ratio for every redrawn
station and reports its AUC next to the mixture model's.

The oracle knows what no method fitted on the data knows (each district's
true centre and spread, which stations the model redrew, the exact amount
stuffed), so its AUC is a ceiling: where it is below 0.9, no method reaches
the issue's target of 0.9 on that file's twins.

The binomial law mixed over the logit-normal rate is integrated with
adaptive Gauss-Hermite quadrature (``--nodes`` points around each
station's mode). A station stuffed to its
registered total (the cap) is scored with every amount it may have been
given (1 to 10 points of its voters). Stations the twin copies unchanged
(not modelled) are left out.

The variants (``--variants``) take one piece of knowledge away at a time;
``score`` is :func:`audit.stations.stuffing.stuffing_scores` as a user runs
it on the stuffed twin, with the ballots it finds against those added and
whether its 95% interval covers them; with ``--copies N`` also the total
corrected with N simulated copies and whether its range covers the ballots
added (``--out`` keeps one JSON line per twin). ``--clean`` runs that score on the
clean real elections instead, to show how many stations and ballots it
calls stuffed where none were.

Run from the repository root::

    PYTHONPATH=. AUDIT_DATA_DIR=../shared/datasets .venv/bin/python \\
        benchmarks/mixture_oracle.py --twins 5

Twins and stuffing are drawn with the seeds of ``mixture_validation.py``
(the same tables, twin for twin).
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent
if str(ROOT.parent) not in sys.path:
    sys.path.insert(0, str(ROOT.parent))
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

import numpy as np
from scipy.special import logsumexp

from audit.stations.stuffing import (AMOUNTS, log_mixed_binomial, stuffing_log_ratio,
                                     stuffing_scores)
from mixture_validation import SCENARIOS, SEED, _key, _model, auc, fixed_stuffing

__all__ = ["log_mixed_binomial", "oracle_scores", "variant_scores"]

SOURCES = ("ru-cik/2020.csv.zip", "ru-cik/2021.csv.zip", "ru-cik/2024.csv.zip")
#: The mixture validation's rows (``mixture_validation.py``), for the
#: mixture's own AUC beside the ceiling.
VALIDATION_ROWS = ROOT.parent / "docs" / "mixture_validation.csv"


def mixture_auc() -> dict:
    """Mean AUC of the mixture's ``p_fraud`` per file on the ``stuffing10``
    twins, from the validation's rows (empty if there are none)."""
    import pandas as pd

    if not VALIDATION_ROWS.exists():
        return {}
    rows = pd.read_csv(VALIDATION_ROWS)
    rows = rows[rows["scenario"] == "stuffing10"]
    return rows.groupby("source")["auc"].mean().to_dict()


def oracle_scores(model, table, points, nodes, wide=0.0):
    """Log likelihood ratio (stuffed by ``points`` of the registered voters
    against clean) of every station of ``table``, under ``model`` (with a
    wide part of weight ``wide`` in each rate's law when it is positive):
    :func:`audit.stations.stuffing.stuffing_log_ratio`."""
    return stuffing_log_ratio(model, table, points, nodes=nodes, wide=wide)


#: What each ``--variants`` entry takes away from the oracle.
VARIANTS = {
    "oracle": "the twins' own model and the exact amount",
    "amounts": "the amount unknown: the ratio averaged over 2 to 30 points",
    "refit": "the model refitted on the stuffed twin itself (fit_twin), "
             "as a method that sees only the data could",
    "refit+amounts": "the model refitted on the stuffed twin and the amount unknown",
    "national-sd": "one spread per rate for every district (the national "
                   "median of the districts' spreads), centres kept",
    "tails": "heavy tails in both hypotheses' clean law: a fifth of the "
             "stations with 4 times the variance, which the twins do not have",
    "score": "audit.stations.stuffing.stuffing_scores as a user runs it: the "
             "model refitted on the stuffed twin, amounts unknown, heavy tails, "
             "ranked by p_stuffed",
}


def variant_scores(variant, model, rigged, points, nodes):
    """Scores of one ``VARIANTS`` entry."""
    import dataclasses

    from audit.stations.twin import fit_twin

    if variant.startswith("refit"):
        model = dataclasses.replace(fit_twin(rigged, leader=model.leader),
                                    modelled=model.modelled)
    elif variant == "national-sd":
        model = dataclasses.replace(model, **{
            attr: dataclasses.replace(r, sd=np.full_like(r.sd, np.median(r.sd)))
            for attr in ("turnout", "support", "invalid")
            if (r := getattr(model, attr)) is not None})
    if variant == "score":
        return stuffing_scores(rigged, leader=model.leader, n_boot=0).table["p_stuffed"].to_numpy()
    if variant == "tails":
        return oracle_scores(model, rigged, points, nodes, wide=0.2)
    if variant.endswith("amounts"):
        return logsumexp(np.vstack([oracle_scores(model, rigged, a, nodes)
                                    for a in AMOUNTS]), axis=0)
    return oracle_scores(model, rigged, points, nodes)


def clean_elections(names=None):
    """``stuffing_scores`` on every clean real election of the registry (or
    on the registered datasets ``names``)."""
    from audit.stations.calibration.real import clean_elections
    from audit.tables import datasets

    names = clean_elections() if names is None else names

    print("| data | stations scored | wide share chosen | fitted share stuffed "
          "[95% interval] | p_stuffed > 0.5 | p_stuffed > 0.9 | ballots added [95% interval] "
          "| ballots cast | median registered (p_stuffed > 0.5; all scored) "
          "| median turnout (p_stuffed > 0.5; all scored) |")
    print("| --- | ---: | ---: | --- | ---: | ---: | --- | ---: | --- | --- |")
    for name in names:
        res = stuffing_scores(datasets.load(name))
        p = res.table["p_stuffed"]
        lo, hi = res.share_interval
        blo, bhi = res.ballots_interval
        t = res.table
        cast = t["ballots_cast"].to_numpy(float, na_value=0)
        reg = t["registered"].to_numpy(float, na_value=0)
        top, scored = (p > 0.5).to_numpy(), p.notna().to_numpy()
        with np.errstate(divide="ignore", invalid="ignore"):
            turnout = cast / reg
        print(f"| {name} | {int(scored.sum()):,} | {res.wide:g} | {res.share:.4f} "
              f"[{lo:.4f}, {hi:.4f}] | {int(top.sum()):,} | {int((p > 0.9).sum()):,} | "
              f"{res.stuffed_ballots:,.0f} [{blo:,.0f}, {bhi:,.0f}] | {cast.sum():,.0f} | "
              f"{_median(reg[top])}; {_median(reg[scored])} | "
              f"{_median(100 * turnout[top])}%; {_median(100 * turnout[scored])}% |",
              flush=True)


def _median(values):
    return f"{np.median(values):.0f}" if len(values) else "n/a"


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--twins", type=int, default=5, help="twins per file (default 5)")
    ap.add_argument("--nodes", type=int, default=20, help="quadrature points (default 20)")
    ap.add_argument("--sources", nargs="*", default=list(SOURCES))
    ap.add_argument("--variants", nargs="*", default=["oracle"], choices=list(VARIANTS),
                    help="what to take away from the oracle (default: nothing)")
    ap.add_argument("--clean", action="store_true",
                    help="instead: stuffing_scores on the clean real elections (the share "
                         "of stations it calls stuffed where none were)")
    ap.add_argument("--files", nargs="+", metavar="NAME",
                    help="instead: stuffing_scores on these registered datasets (leader: "
                         "most votes), in the --clean table's form")
    ap.add_argument("--copies", type=int, default=0,
                    help="score: also correct the ballots found with this many simulated "
                         "copies (stuffing_scores(copies=...)) and say whether the range "
                         "covers the ballots added")
    ap.add_argument("--out", type=Path, help="score: append one JSON line per twin here")
    args = ap.parse_args(argv)
    if args.clean:
        return clean_elections()
    if args.files:
        return clean_elections(args.files)
    _, opts = SCENARIOS["stuffing10"]
    for v in args.variants:
        print(f"- {v}: {VARIANTS[v]}")
    print()
    mixture = mixture_auc()
    print("| file | twins | variant | AUC (mean, min, max) | mixture AUC "
          "(docs/mixture_validation.csv) | ballots found / added (score) "
          "| 95% interval covers the ballots added (score) | corrected / added "
          "(score, copies) | range covers the ballots added (score, copies) |")
    print("| --- | ---: | --- | --- | ---: | --- | --- | --- | --- |")
    for source in args.sources:
        model = _model(source)
        aucs = {v: [] for v in args.variants}
        found, covered, corrected, ranged = [], [], [], []
        for sim in range(args.twins):
            ss = np.random.SeedSequence(SEED, spawn_key=(_key(source), sim))
            clean = model.draw(rng=np.random.default_rng(ss))
            ss = np.random.SeedSequence(SEED, spawn_key=(_key(source), sim,
                                                         _key("stuffing10")))
            rigged = fixed_stuffing(clean, rng=np.random.default_rng(ss), **opts)
            used = model.modelled & (rigged.data["registered"].to_numpy(float, na_value=0) > 0)
            altered = np.asarray(rigged.source["altered"], bool)
            for v in args.variants:
                if v == "score":
                    # as a user runs it, with its interval of the ballots added
                    res = stuffing_scores(rigged, leader=model.leader, copies=args.copies)
                    added = float((rigged.data["ballots_cast"].to_numpy(float)
                                   - clean.data["ballots_cast"].to_numpy(float)).sum())
                    found.append(res.stuffed_ballots / added)
                    lo, hi = res.ballots_interval
                    covered.append(lo <= added <= hi)
                    if args.copies:
                        corrected.append(res.corrected / added)
                        ranged.append(res.ballots_range[0] <= added <= res.ballots_range[1])
                    if args.out:
                        with args.out.open("a", encoding="utf-8") as fh:
                            fh.write(json.dumps({
                                "source": source, "sim": sim, "added": added,
                                "found": res.stuffed_ballots, "interval": list(res.ballots_interval),
                                "copies": args.copies, "ratios": list(res.found_ratios),
                                "corrected": res.corrected, "range": list(res.ballots_range),
                                "covers": bool(covered[-1]),
                                "range_covers": bool(ranged[-1]) if args.copies else None},
                                sort_keys=True) + "\n")
                    score = res.table["p_stuffed"].to_numpy()
                else:
                    score = variant_scores(v, model, rigged, opts["points"], args.nodes)
                # stations a variant leaves unscored (nan: no ballots cast) are
                # not ranked
                keep = used & ~np.isnan(score)
                aucs[v].append(auc(altered[keep], score[keep]))
        for v in args.variants:
            a = np.array(aucs[v])
            share = (f"{np.mean(found):.2f} ({np.min(found):.2f}, {np.max(found):.2f}) | "
                     f"{sum(covered)} of {len(covered)} | "
                     + (f"{np.mean(corrected):.2f} ({np.min(corrected):.2f}, "
                        f"{np.max(corrected):.2f}) | {sum(ranged)} of {len(ranged)}"
                        if corrected else "n/a | n/a")
                     if v == "score" and found else " | | |")
            print(f"| {source} | {a.size} | {v} | {a.mean():.3f} ({a.min():.3f}, "
                  f"{a.max():.3f}) | {mixture.get(source, float('nan')):.2f} | {share} |",
                  flush=True)


if __name__ == "__main__":
    main()
