#!/usr/bin/env python
"""Validation of the mixture test (``audit.stations.forensics.mixture``) on real data.

Runs :func:`audit.stations.forensics.mixture.mixture_table` (district groups, as the
battery passes them) on

- the clean real elections of the dataset registry (one run each);
- clean twins of the Russian files (``audit.twin``), without fraud
  (``clean``), with ballots stuffed in 5% of stations (``stuffing``: the
  calibration's scenario, ``ballot_stuffing(share=0.05, amount=0.1)``) and
  with votes switched in 5% of stations (``switching``:
  ``vote_switching(share=0.05, amount=0.2)``) and with 10 points of the
  registered voters stuffed in 5% of stations (``stuffing10``, the
  acceptance's scenario for the AUC),

and writes one row per run to a CSV (appending, so an interrupted run keeps
what it did), then prints the summary: how often the fraud-share interval
contains 0 and the p-value rejects at 0.05 (clean runs), coverage of the
injected manufactured / stolen totals, power and AUC (rigged runs).

Run from the repository root::

    PYTHONPATH=. AUDIT_DATA_DIR=../shared/datasets .venv/bin/python \\
        benchmarks/mixture_validation.py --twins 20 --procs 2 --out mixture_validation.csv
    .venv/bin/python benchmarks/mixture_validation.py --summary mixture_validation.csv

Seeds: twin ``j`` of file ``f`` is drawn with ``SeedSequence(seed,
spawn_key=(crc32(f), j))``, the fraud with ``spawn_key=(crc32(f), j,
crc32(scenario))`` and the test with ``spawn_key=(crc32(f), j, 7)``, so a
rigged twin is paired with its clean twin and a rerun gives the same rows.
"""

from __future__ import annotations

import argparse
import csv
import functools
import os
import sys
import time
import zlib
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

import numpy as np
import pandas as pd
from scipy.stats import rankdata

SOURCES = ("ru-cik/2020.csv.zip", "ru-cik/2021.csv.zip", "ru-cik/2024.csv.zip")
SCENARIOS = {"clean": None,
             "stuffing": ("ballot_stuffing", {"share": 0.05, "amount": 0.1}),
             "switching": ("vote_switching", {"share": 0.05, "amount": 0.2}),
             # the acceptance's scenario: every stuffed station gets the same
             # 10 points of its registered voters (capped by its non-voters)
             "stuffing10": ("fixed_stuffing", {"share": 0.05, "points": 0.10})}


def fixed_stuffing(table, *, share, points, rng, leader=None):
    """Ballots for the leader equal to ``points`` of the registered voters
    (capped by the non-voters) in a random ``share`` of the stations."""
    import dataclasses

    data = table.data.copy()
    lead = table.leader_column(leader)
    reg = data["registered"].to_numpy(dtype=float, na_value=0)
    cast = data["ballots_cast"].to_numpy(dtype=float, na_value=0)
    picked = (rng.random(len(data)) < share) & (reg > 0)
    add = np.where(picked, np.minimum(np.round(points * reg), reg - cast), 0)
    add = np.maximum(add, 0).astype(np.int64)
    for col in ("ballots_issued", "ballots_cast", lead):
        if col in data.columns:
            data[col] = data[col] + add
    return dataclasses.replace(table, data=data,
                               source={**table.source, "altered": add > 0})
SEED = 20261203
FIELDS = ("source", "kind", "scenario", "sim", "seconds", "n", "pvalue", "lr",
          "share_fraud", "share_fraud_ci_low", "share_fraud_ci_high",
          "manufactured", "manufactured_ci_low", "manufactured_ci_high",
          "stolen", "stolen_ci_low", "stolen_ci_high", "true_manufactured",
          "true_stolen", "true_share", "auc", "status")


def _key(name: str) -> int:
    return zlib.crc32(name.encode("utf-8"))


@functools.lru_cache(maxsize=3)
def _model(source):
    from audit.tables import datasets
    from audit.stations.twin import fit_twin

    return fit_twin(datasets.load(source))


def auc(labels, scores) -> float:
    """Area under the ROC curve (Mann-Whitney), ties counted half."""
    labels = np.asarray(labels, bool)
    k1, k0 = labels.sum(), (~labels).sum()
    if not k1 or not k0:
        return float("nan")
    ranks = rankdata(scores)
    return float((ranks[labels].sum() - k1 * (k1 + 1) / 2) / (k1 * k0))


def run_task(task, options):
    """One row: ``task = (source, kind, scenario, sim)``."""
    from audit.tables import datasets
    from audit.stations import simulate
    from audit.core.errors import NotApplicable
    from audit.stations.forensics.mixture import mixture_table

    source, kind, scenario, sim = task
    row = dict.fromkeys(FIELDS, np.nan)
    row.update(source=source, kind=kind, scenario=scenario, sim=sim, status="ok")
    truth = None
    if kind == "real":
        table = datasets.load(source)
        lead = None
    else:
        model = _model(source)
        lead = model.leader
        ss = np.random.SeedSequence(SEED, spawn_key=(_key(source), sim))
        table = clean = model.draw(rng=np.random.default_rng(ss))
        if SCENARIOS[scenario] is not None:
            name, opts = SCENARIOS[scenario]
            ss = np.random.SeedSequence(SEED, spawn_key=(_key(source), sim, _key(scenario)))
            rig = fixed_stuffing if name == "fixed_stuffing" else getattr(simulate, name)
            table = rig(clean, rng=np.random.default_rng(ss), **opts)
            truth = pd.DataFrame({
                "altered": np.asarray(table.source["altered"], bool),
                "made": (table.data.ballots_cast - clean.data.ballots_cast).to_numpy(
                    dtype=float, na_value=0),
                "stolen": ((clean.data.ballots_cast - clean.data[lead])
                           - (table.data.ballots_cast - table.data[lead])).to_numpy(
                    dtype=float, na_value=0)})
    ss = np.random.SeedSequence(SEED, spawn_key=(_key(source), sim, 7))
    t0 = time.perf_counter()
    try:
        res = mixture_table(table, leader=lead, rng=np.random.default_rng(ss), **options)
    except NotApplicable as exc:
        row.update(status=f"refused: {exc}", seconds=time.perf_counter() - t0)
        return row
    row["seconds"] = time.perf_counter() - t0
    d = res.details
    row.update(n=res.n, pvalue=res.pvalue, lr=d["lr"])
    for k in ("share_fraud", "manufactured", "stolen"):
        row[k], row[k + "_ci_low"], row[k + "_ci_high"] = (
            d[k], d[k + "_ci_low"], d[k + "_ci_high"])
    if truth is not None:
        used = truth.iloc[res.table["position"].to_numpy()]
        row["true_manufactured"] = float(used["made"].sum())
        row["true_stolen"] = float(used["stolen"].sum())
        row["true_share"] = float(used["altered"].mean())
        row["auc"] = auc(used["altered"].to_numpy(), res.table["p_fraud"].to_numpy())
    return row


def tasks(twins, sources=SOURCES, scenarios=tuple(SCENARIOS), real=True):
    from audit.tables import datasets

    out = []
    if real:
        out += [(name, "real", "clean", 0) for name in datasets.clean_elections()]
    # twin j of every file before twin j + 1, so a partial run covers all
    # files (the fitted twin models are cached per process)
    for j in range(twins):
        for source in sources:
            out += [(source, "twin", s, j) for s in scenarios]
    return out


def _worker(args):
    task, options = args
    return run_task(task, options)


def run(task_list, options, out, procs):
    done = set()
    if Path(out).exists():
        old = pd.read_csv(out)
        done = {(r.source, r.kind, r.scenario, int(r.sim)) for r in old.itertuples()}
    todo = [t for t in task_list if t not in done]
    print(f"{len(todo)} runs to do ({len(done)} already in {out})", flush=True)
    new = not Path(out).exists()
    with open(out, "a", newline="") as fh:
        writer = csv.DictWriter(fh, fieldnames=FIELDS)
        if new:
            writer.writeheader()
        if procs > 1:
            import multiprocessing as mp

            # tasks in order, so each worker mostly meets one source at a time
            with mp.get_context("fork").Pool(procs, maxtasksperchild=20) as pool:
                for row in pool.imap(_worker, [(t, options) for t in todo]):
                    writer.writerow(row)
                    fh.flush()
                    print(_line(row), flush=True)
        else:
            for t in todo:
                row = run_task(t, options)
                writer.writerow(row)
                fh.flush()
                print(_line(row), flush=True)


def _line(row):
    return (f"{row['source']} {row['kind']} {row['scenario']} {row['sim']}: "
            f"p={row['pvalue']:.3f} share={row['share_fraud']:.4f} "
            f"[{row['share_fraud_ci_low']:.4f}, {row['share_fraud_ci_high']:.4f}] "
            f"auc={row['auc']:.3f} {row['seconds']:.0f}s {row['status']}")


def summarize(path) -> pd.DataFrame:
    """One row per (kind, source, scenario) with the rates of the page."""
    df = pd.read_csv(path)
    df = df[df.status == "ok"]
    rows = []
    for (kind, source, scenario), g in df.groupby(["kind", "source", "scenario"]):
        r = {"kind": kind, "source": source, "scenario": scenario, "runs": len(g),
             "median_s": g.seconds.median(),
             "reject_05": (g.pvalue <= 0.05).mean(),
             "ci_contains_0": (g.share_fraud_ci_low <= 0).mean(),
             "share_fraud_mean": g.share_fraud.mean()}
        if scenario != "clean" and kind == "twin":
            r["cover_manufactured"] = ((g.manufactured_ci_low <= g.true_manufactured)
                                       & (g.true_manufactured <= g.manufactured_ci_high)).mean()
            r["cover_stolen"] = ((g.stolen_ci_low <= g.true_stolen)
                                 & (g.true_stolen <= g.stolen_ci_high)).mean()
            r["est_over_true_votes"] = ((g.manufactured + g.stolen).sum()
                                        / (g.true_manufactured + g.true_stolen).sum())
            r["auc_mean"] = g.auc.mean()
            r["auc_min"] = g.auc.min()
        rows.append(r)
    return pd.DataFrame(rows)


def compare(sources=SOURCES, rng=0):
    """The mixture, Klimek's fingerprint fit and Shpilkin's excess votes
    (with the stuffing / switching split) on the real files, side by side
    (the mixture with the validation's options: 9 bootstrap and 19 null
    refits of 15 EM steps)."""
    from audit.tables import datasets
    from audit.stations.binding import nested_labels
    from audit.stations.forensics.excess_votes import excess_split
    from audit.stations.forensics.excess_votes import excess_votes
    from audit.stations.forensics.fingerprints import fingerprint
    from audit.stations.forensics.mixture import mixture_table

    rows = []
    for source in sources:
        table = datasets.load(source)
        lead = table.leader_column(None)
        d = table.data.dropna(subset=["registered", "ballots_cast", *table.options])
        reg, cast = d.registered.to_numpy(float), d.ballots_cast.to_numpy(float)
        lv, votes = d[lead].to_numpy(float), d[table.options].fillna(0).to_numpy(float)
        row = {"source": source, "stations": len(d), "leader_votes": lv.sum()}
        for level, label in (("district", "mixture_district"), ("", "mixture_national")):
            t0 = time.perf_counter()
            m = mixture_table(table, leader=lead, level=level, rng=rng, n_boot=9,
                              n_null=19, null_iter=15)
            row[f"{label}_s"] = time.perf_counter() - t0
            row[f"{label}_share"] = m.statistic
            row[f"{label}_share_ci"] = (m.details["share_fraud_ci_low"],
                                       m.details["share_fraud_ci_high"])
            row[f"{label}_manufactured"] = m.details["manufactured"]
            row[f"{label}_stolen"] = m.details["stolen"]
            row[f"{label}_votes_ci"] = (m.details["fraud_votes_ci_low"],
                                       m.details["fraud_votes_ci_high"])
            row[f"{label}_p"] = m.pvalue
        fp = fingerprint(reg, cast, lv, groups=nested_labels(d, "region"), n_boot=0,
                         n_null=0, rng=rng)
        row["klimek_f_i"], row["klimek_f_e"] = fp.details["f_i"], fp.details["f_e"]
        ev = excess_votes(reg, cast, lv, votes, n_boot=50, rng=rng)
        row["shpilkin_excess"] = ev.statistic
        row["shpilkin_ci"] = ev.confidence_interval()
        sp = excess_split(reg, cast, lv, votes)
        row["split_stuffed"], row["split_stuffed_se"] = sp.stuffed, sp.stuffed_se
        row["split_switched"], row["split_switched_se"] = sp.switched, sp.switched_se
        rows.append(row)
        print(row, flush=True)
    return pd.DataFrame(rows)


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--twins", type=int, default=20)
    ap.add_argument("--procs", type=int, default=2)
    ap.add_argument("--out", default="mixture_validation.csv")
    ap.add_argument("--sources", default=",".join(SOURCES))
    ap.add_argument("--scenarios", default=",".join(SCENARIOS))
    ap.add_argument("--no-real", action="store_true")
    ap.add_argument("--n-boot", type=int, default=19)
    ap.add_argument("--n-null", type=int, default=19)
    ap.add_argument("--null-iter", type=int, default=20)
    ap.add_argument("--summary", metavar="CSV", help="only summarise an existing CSV")
    ap.add_argument("--compare", action="store_true",
                    help="only the side-by-side comparison on the real Russian files")
    args = ap.parse_args(argv)
    if args.compare:
        with pd.option_context("display.width", 250, "display.max_columns", 40):
            print(compare().T.to_string())
        return 0
    if args.summary:
        with pd.option_context("display.width", 200, "display.max_columns", 30):
            print(summarize(args.summary).round(3).to_string(index=False))
        return 0
    os.environ.setdefault("VOTE_AUDIT_THREADS", "1")
    options = {"n_boot": args.n_boot, "n_null": args.n_null, "null_iter": args.null_iter}
    tl = tasks(args.twins, tuple(args.sources.split(",")), tuple(args.scenarios.split(",")),
               real=not args.no_real)
    t0 = time.perf_counter()
    run(tl, options, args.out, args.procs)
    print(f"total {time.perf_counter() - t0:.0f} s")
    with pd.option_context("display.width", 200, "display.max_columns", 30):
        print(summarize(args.out).round(3).to_string(index=False))
    return 0


if __name__ == "__main__":
    sys.exit(main())
