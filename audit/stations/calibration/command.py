"""``python -m audit.stations.calibration``: the simulated calibration from
the command line (``audit calibrate --part simulated`` does the same through
the ``audit`` command and keeps the rows under ``docs/calibration/``).
"""

from __future__ import annotations

import argparse
import sys

import pandas as pd

from .. import catalogue
from .simulated import (ALPHA, DEFAULT_SEED, TOLERANCE, CalibrationReport, calibrate,
                        summarize, write_markdown)


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(prog="python -m audit.stations.calibration",
                                 description="False-alarm rate and power of the tests.")
    ap.add_argument("--tests", nargs="*", help="registered test names (default all)")
    ap.add_argument("--scenarios", nargs="*", help="scenarios (default all)")
    ap.add_argument("--n-sim", type=int, default=200)
    ap.add_argument("--n-sim-power", type=int, default=None)
    ap.add_argument("--n-stations", type=int, default=3000)
    ap.add_argument("--seed", type=int, default=DEFAULT_SEED)
    ap.add_argument("--jobs", type=int, default=1)
    ap.add_argument("--out", default="docs/calibration.md")
    ap.add_argument("--rows", default=None, help="also save raw rows (CSV)")
    ap.add_argument("--from-rows", default=None,
                    help="summarise saved rows (CSV) instead of running; give the "
                         "settings they were run with")
    ap.add_argument("--no-progress", action="store_true", help="draw no progress bar")
    ap.add_argument("--scheduler", default=None, metavar="ADDRESS",
                    help="run on Dask: 'local' starts one process per core; "
                         "tcp://HOST:8786 uses a running cluster (same results)")
    ap.add_argument("--workers", type=int, default=None,
                    help="worker processes for --scheduler local (default: cores)")
    a = ap.parse_args(argv)
    if a.workers is not None and a.scheduler not in (None, "local"):
        ap.error("--workers applies only to --scheduler local")
    args = list(argv if argv is not None else sys.argv[1:])
    # local file names and where it ran are not settings of the table
    if "--no-progress" in args:
        args.remove("--no-progress")
    for flag in ("--rows", "--from-rows", "--scheduler", "--workers", "--jobs"):
        while flag in args:
            i = args.index(flag)
            del args[i:i + 2]
    cmd = "python -m audit.stations.calibration " + " ".join(args)
    if a.from_rows:
        rows = pd.read_csv(a.from_rows, keep_default_na=False,
                           na_values={"statistic": [""], "pvalue": [""]})
        rep = CalibrationReport(rows, summarize(rows), dict(
            n_sim=a.n_sim, n_sim_power=a.n_sim_power or a.n_sim,
            n_stations=a.n_stations, root_seed=a.seed, alpha=ALPHA,
            tolerance=TOLERANCE, seconds=float(rows.seconds.sum()),
            seconds_are="test time",
            n_tasks=len(rows), jobs=a.jobs,
            options={t: dict(o) for t, o in catalogue.test_options().items()},
            max_sims=dict(catalogue.max_sims())))
    else:
        kw = dict(scenarios=a.scenarios or None, n_sim=a.n_sim, n_sim_power=a.n_sim_power,
                  n_stations=a.n_stations, root_seed=a.seed)
        if a.scheduler:
            from ..distributed import calibrate_on_dask

            rep = calibrate_on_dask(a.tests or None, address=a.scheduler,
                                    n_workers=a.workers, **kw)
        else:
            rep = calibrate(a.tests or None, jobs=a.jobs,
                            progress=None if a.no_progress else sys.stderr, **kw)
    if a.rows:      # saved first, so a long run is never lost
        rep.rows.to_csv(a.rows, index=False)
    write_markdown(rep, a.out, command=cmd)
    with pd.option_context("display.width", 200, "display.max_columns", 20):
        print(rep.summary[["test", "scenario", "n_ok", "n_not_applicable", "n_error",
                           "rate", "ci_low", "ci_high", "flag", "seconds"]])
    print(f"{rep.settings['n_tasks']} runs in {rep.settings['seconds']:.1f} s")
    return 0
