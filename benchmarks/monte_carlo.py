"""The field's integer-percentage Monte Carlo as a whole process, for the
``process`` section of ``benchmarks/run.py``: read the 2020 Russian file
(through the package's reader and its Parquet cache, as ``audit run``
does), keep the stations Kobak et al. keep, redraw every station
``--resamples`` times (``reference.py``) and print the simulated mean and SD.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--dataset", default="ru-cik/2020.csv.zip")
    ap.add_argument("--leader", default="ДА")
    ap.add_argument("--resamples", type=int, default=1000)
    args = ap.parse_args(argv)

    import reference
    from audit.tables import datasets

    table = datasets.load(args.dataset)
    d = table.data
    cols = [d[c].to_numpy() for c in ("registered", "ballots_issued", "ballots_cast")]
    sample = reference.kobak_sample(*cols, d[table.leader_column(args.leader)].to_numpy())
    sims = reference.integer_counts_monte_carlo(*sample, n_resamples=args.resamples, rng=1)
    print(f"{len(sample[0]):,} stations, {args.resamples} resamples: integer stations "
          f"{sims.mean():.1f} (sd {sims.std(ddof=1):.1f})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
