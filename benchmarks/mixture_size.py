#!/usr/bin/env python
"""Size and power of the mixture test's p-value on the calibration corpus.

Runs :func:`audit.stations.forensics.mixture.mixture_table` as the battery
calls it (district groups, the registry's calibration options: no bootstrap
intervals, 19 null refits) on

- the clean real elections of the dataset registry (``--real``);
- the twins ``audit calibrate`` draws (``audit.stations.calibration.real``:
  the same tables, seed for seed), clean or rigged (``--scenario``),

and appends one JSON line per run to ``--out``: the likelihood ratio, the 19
null ratios, the estimated fraud share and the seconds taken.  Both p-values
are computed from those lines when summarising (``--summary``): the rank
p-value ``(k + 1) / 20`` the test reports and the p-value a normal law of
the null ratios would give (the predictive t law), with the rejection rates at 0.05 and their
Clopper-Pearson intervals, and how the null ratios of every run sit against
their own t law (the share of them beyond its upper 5%, 1% and 0.5% points,
each left out of the law it is compared with).

Run from the repository root (about 45 s per national file on two cores)::

    AUDIT_DATA_DIR=../shared/datasets .venv/bin/python benchmarks/mixture_size.py \\
        --scenario clean --twins 20 --out docs/calibration/mixture_size.jsonl
    .venv/bin/python benchmarks/mixture_size.py --summary docs/calibration/mixture_size.jsonl
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

import numpy as np
import pandas as pd

from audit.stations.calibration import real
from audit.stations.registry import REGISTRY


def null_pvalue(lr, null, law):
    """``(p, z)`` of ``lr`` against the null ratios: the rank p-value
    ``(k + 1) / (B + 1)`` the test reports, or the upper tail of the
    predictive t law of one more null ratio, ``(lr - m) / (s sqrt(1 + 1/B))
    ~ t_{B-1}`` (exact if the null ratios were normal)."""
    from scipy.stats import t as student

    null = np.asarray(null, dtype=float)
    b = null.size
    z = (lr - null.mean()) / (null.std(ddof=1) * np.sqrt(1 + 1 / b))
    if law == "rank":
        return (int(np.sum(null >= lr)) + 1) / (b + 1), float(z)
    return float(student.sf(z, b - 1)), float(z)


def _one(out, source, kind, scenario, sim):
    table = (real._load(source) if kind == "real" else
             real.table_of(real.CorpusTask(source, "twin", scenario, sim)))
    options = REGISTRY["mixture"].calibration_options
    from audit.stations.forensics.mixture import mixture_table

    start = time.perf_counter()
    res = mixture_table(table, rng=sim, **options)
    rec = {"source": source, "kind": kind, "scenario": scenario, "sim": sim,
           "lr": float(res.details["lr"]),
           "null_lr": [float(x) for x in res.null_statistics],
           "share_fraud": float(res.statistic),
           "seconds": round(time.perf_counter() - start, 1)}
    with open(out, "a", encoding="utf-8") as fh:
        fh.write(json.dumps(rec, sort_keys=True) + "\n")
    print(rec["source"], rec["scenario"], rec["sim"], round(rec["lr"], 1),
          rec["seconds"], flush=True)


def summary(path) -> pd.DataFrame:
    rows = [json.loads(line) for line in open(path, encoding="utf-8") if line.strip()]
    runs = pd.DataFrame(rows)
    runs["p_rank"] = [null_pvalue(r.lr, r.null_lr, "rank")[0] for r in runs.itertuples()]
    runs["p_t"], runs["z"] = zip(*(null_pvalue(r.lr, r.null_lr, "t")
                                   for r in runs.itertuples()))
    out = []
    for (kind, scenario, source), g in runs.groupby(["kind", "scenario", "source"]):
        rec = {"kind": kind, "scenario": scenario, "source": source, "runs": len(g),
               "mean z": round(float(g.z.mean()), 2), "mean p_t": round(float(g.p_t.mean()), 3)}
        for col in ("p_rank", "p_t"):
            k = int((g[col] <= 0.05).sum())
            lo, hi = real._cp(k, len(g))
            rec[f"{col} <= 0.05"] = f"{k}/{len(g)} [{lo:.3f}, {hi:.3f}]"
        out.append(rec)
    # each null ratio against the t law of the other 18 of its run
    tail = {0.05: 0, 0.01: 0, 0.005: 0}
    total = 0
    for r in runs.itertuples():
        null = np.asarray(r.null_lr, float)
        for i in range(null.size):
            p, _ = null_pvalue(null[i], np.delete(null, i), "t")
            total += 1
            for a in tail:
                tail[a] += p <= a
    print("null ratios beyond their leave-one-out t law's upper point: "
          + ", ".join(f"{a}: {k}/{total} ({k / total:.4f})" for a, k in tail.items()))
    return pd.DataFrame(out)


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--scenario", default="clean", choices=sorted(real.TWIN_SCENARIOS))
    ap.add_argument("--twins", type=int, default=20, help="twins per file")
    ap.add_argument("--first", type=int, default=0, help="first twin index")
    ap.add_argument("--sources", default=",".join(real.TWIN_SOURCES))
    ap.add_argument("--real", action="store_true", help="the clean real elections instead")
    ap.add_argument("--out", default="mixture_size.jsonl")
    ap.add_argument("--summary", metavar="JSONL", help="only summarise an existing file")
    args = ap.parse_args(argv)
    if args.summary:
        print(summary(args.summary).to_string(index=False))
        return 0
    if args.real:
        for name in real.clean_elections():
            _one(args.out, name, "real", "clean", 0)
        return 0
    for source in args.sources.split(","):
        for sim in range(args.first, args.first + args.twins):
            _one(args.out, source, "twin", args.scenario, sim)
    return 0


if __name__ == "__main__":
    sys.exit(main())
