#!/usr/bin/env python
"""What a covariate changes in the mixture model, on simulated elections.

Each election (``audit.stations.simulate.clean_election``, 2,500 stations in
about 80 districts) has 30% stations of a second kind (column ``kind``, say
rural) that legitimately turn out more and vote more for the leader (+1.0 and
+0.8 on the logit scale); then ballots for the leader are stuffed in 8% of
the stations (``ballot_stuffing(share=0.08, amount=0.15)``).  The mixture is
fitted by district without and with ``covariates=kind`` and the script prints,
per seed: the AUC of ``p_fraud`` for the stuffed stations, the AUC of
``p_fraud`` for the second kind among the clean stations (0.5: not singled
out), the manufactured votes against the stuffed ballots, and the likelihood
ratio.

Run from the repository root::

    .venv/bin/python benchmarks/mixture_covariates.py --seeds 2 3 4
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from mixture_validation import auc

from audit.stations.forensics.mixture import mixture
from audit.stations.simulate import ballot_stuffing, clean_election


def one(seed):
    clean = clean_election(2500, rng=seed, kind_share=0.3, kind_turnout_shift=1.0,
                           kind_leader_shift=0.8)
    rigged = ballot_stuffing(clean, share=0.08, amount=0.15, rng=seed + 100)
    d = rigged.data
    stuffed = rigged.source["altered"]
    kind = d["kind"].to_numpy(float)
    injected = int((d.ballots_cast - clean.data.ballots_cast).sum())
    rows = []
    for label, cov in (("without", None), ("with kind", {"kind": kind})):
        res = mixture(d.registered, d.ballots_cast, d.leader, groups=d.district,
                      covariates=cov, n_boot=0, n_null=4, rng=1)
        p = res.table.p_fraud.to_numpy()
        rows.append(f"| {seed} | {label} | {auc(stuffed, p):.2f} | "
                    f"{auc(kind[~stuffed] == 1, p[~stuffed]):.2f} | "
                    f"{res.details['manufactured']:,.0f} / {injected:,} | "
                    f"{res.details['lr']:,.0f} |")
    return rows


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--seeds", type=int, nargs="+", default=[2, 3, 4])
    args = ap.parse_args(argv)
    print("| seed | covariate | AUC stuffed | AUC second kind (clean) | "
          "manufactured / stuffed | LR |")
    print("| ---: | --- | ---: | ---: | ---: | ---: |")
    for seed in args.seeds:
        for row in one(seed):
            print(row, flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
