"""``audit calibrate``: false-alarm rate and power of every test, on simulated
elections and on the real-data corpus (clean elections, clean twins, rigged
twins), written to ``docs/calibration.md``."""

from __future__ import annotations

import sys

from ..core.errors import InputError


def _cmd_calibrate(args) -> int:
    from ..stations.calibration import simulated as calibration
    from ..stations import catalogue
    from ..stations.calibration import real as corpus
    from ..stations.calibration.page import Store, write_page

    reg = catalogue.filled()
    tests = None
    if args.tests:
        tests = [t.strip() for t in ",".join(args.tests).split(",") if t.strip()]
        labels = catalogue.calibration_labels()
        unknown = [t for t in tests if t not in labels]
        if unknown:
            raise InputError(f"unknown test(s) {', '.join(unknown)}; registered: "
                             + ", ".join(sorted(reg)))
    store = Store(args.out)
    if args.page_only:
        if not store.exists():
            raise InputError(f"no stored calibration rows beside {args.out}")
        write_page(args.out)
        print(f"wrote {args.out}")
        return 0
    if tests is None and store.exists() and not args.overwrite:
        raise InputError(f"{args.out} already holds a calibration table; name the tests "
                         "to recalibrate with --tests, or pass --overwrite to redo all")
    parts = ["simulated", "corpus"] if args.part == "all" else [args.part]
    mapper, client_cm = None, None
    if args.scheduler:
        from ..stations.distributed import cluster, dask_mapper

        client_cm = cluster(None if args.scheduler == "local" else args.scheduler,
                            n_workers=args.workers)
        mapper = dask_mapper(client_cm.__enter__())
    progress = None if args.no_progress else sys.stderr
    settings = {}
    sim_report, corpus_rows = None, None
    try:
        if "simulated" in parts:
            sim_tests = None if tests is None else [
                t for t in tests if t in catalogue.calibration_labels()]
            sim_report = calibration.calibrate(
                sim_tests, n_sim=args.n_sim, n_stations=args.n_stations,
                root_seed=args.seed, jobs=args.jobs, mapper=mapper, progress=progress)
            cmd = (f"audit calibrate --part simulated --n-sim {args.n_sim} "
                   f"--n-stations {args.n_stations} --seed {args.seed} --overwrite")
            settings["simulated"] = {**sim_report.settings, "command": cmd}
        if "corpus" in parts:
            real = corpus.clean_elections() if args.real is None else args.real
            rep = corpus.calibrate_corpus(
                tests, jobs=args.jobs, mapper=mapper, progress=progress,
                real=real, n_twins=args.n_twins, n_power=args.n_power,
                root_seed=args.seed)
            corpus_rows = rep.rows
            settings["corpus"] = {"root_seed": args.seed, "n_twins": args.n_twins,
                                  "n_power": args.n_power, "real": list(real),
                                  "sources": list(corpus.TWIN_SOURCES),
                                  "n_tables": rep.settings["n_tasks"],
                                  "seconds": round(rep.settings["seconds"]),
                                  "jobs": args.jobs}
            print(f"real-data corpus: {rep.settings['n_tasks']} tables in "
                  f"{rep.settings['seconds']:.0f} s", file=sys.stderr)
    finally:
        if client_cm is not None:
            client_cm.__exit__(None, None, None)
    if args.overwrite and store.folder.exists():
        # the parts rerun lose their old rows; a part not rerun keeps its rows
        # and its settings
        old_settings = store.load()[2]
        for part in parts:
            path = store.simulated_path if part == "simulated" else store.corpus_path
            if path.exists():
                path.unlink()
        settings = {**{k: v for k, v in old_settings.items() if k not in parts},
                    **settings}
        if store.settings_path.exists():
            store.settings_path.unlink()
    write_page(args.out, sim_report, corpus_rows, settings)
    if corpus_rows is not None:
        problems = corpus.summarize_corpus(store.load()[1])["problems"]
        for rec in problems.itertuples():
            print(f"calibrate: {rec.test} ({rec.where}): {rec.problem}", file=sys.stderr)
    print(f"wrote {args.out}")
    return 0


def add_commands(sub) -> None:
    p = sub.add_parser(
        "calibrate", help="measure every test's false-alarm rate and power",
        description="Run the registered tests on simulated clean and rigged elections, "
                    "on the clean real elections of the dataset registry, and on clean "
                    "and rigged twins of the Russian station files; write the tables to "
                    "docs/calibration.md (rows kept beside it in docs/calibration/). "
                    "With --tests only those tests' rows are replaced.")
    p.add_argument("--tests", nargs="*", help="tests or variants (default: all; then "
                   "--overwrite is needed when a table exists)")
    p.add_argument("--part", choices=["all", "simulated", "corpus"], default="all")
    p.add_argument("--n-sim", type=int, default=200, help="simulated clean elections")
    p.add_argument("--n-stations", type=int, default=3000)
    p.add_argument("--n-twins", type=int, default=30, help="clean twins per file")
    p.add_argument("--n-power", type=int, default=20, help="rigged twins per file and "
                   "scenario")
    p.add_argument("--real", nargs="*", default=None, metavar="DATASET",
                   help="clean real elections (default: every clean dataset)")
    p.add_argument("--seed", type=int, default=20261203)
    p.add_argument("--jobs", type=int, default=1, help="processes on this machine")
    p.add_argument("--scheduler", default=None, metavar="ADDRESS",
                   help="run on Dask: 'local' or tcp://HOST:8786")
    p.add_argument("--workers", type=int, default=None)
    p.add_argument("--out", default="docs/calibration.md")
    p.add_argument("--overwrite", action="store_true",
                   help="replace the whole committed table")
    p.add_argument("--no-progress", action="store_true")
    p.add_argument("--page-only", action="store_true",
                   help="rewrite the page from the stored rows, running nothing")
    p.set_defaults(func=_cmd_calibrate)
