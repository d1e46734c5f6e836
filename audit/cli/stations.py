"""Station-level sub-commands (``audit run``, ``audit twin``, ``audit tests``)."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np

from ..core.errors import InputError
from ..core.outputs import OutputFolder, provenance


def _cmd_run(args) -> int:
    from contextlib import ExitStack

    with ExitStack() as stack:
        return _run(args, stack)


def _run(args, stack) -> int:
    from ..tables import datasets
    from ..stations.battery import (evidence_records, excluded_stations, exclusion_counts,
                          run_battery)
    from ..tables.readers import read

    path, fmt = args.path, args.format
    if datasets.is_dataset(path):
        spec = datasets.REGISTRY[path]
        fmt = fmt or spec.format
        if not fmt:
            raise InputError(f"dataset {path!r} is not a station table")
        if fmt != spec.format:
            raise InputError(f"dataset {path!r} has format {spec.format!r}, "
                             f"not {fmt!r}")
        file = None
    else:
        file = Path(path)
        if not file.exists():
            raise InputError(f"no such file, and not a registered dataset (known: "
                             f"{', '.join(sorted(datasets.REGISTRY))})", file=path)
        if fmt is None:
            fmt = _detect(file, args.mapping)
    if args.mapping and fmt != "canonical":
        raise InputError("--mapping applies only to --format canonical")
    options = {}
    if args.keep_electronic:
        if fmt != "ru-cik":
            raise InputError("--keep-electronic applies only to --format ru-cik")
        options["electronic"] = "keep"
    if args.valid_as_cast:
        if fmt != "ua-cvk":
            raise InputError("--valid-as-cast applies only to --format ua-cvk")
        options["valid_as_cast"] = True
    if args.mapping:
        options["mapping"] = args.mapping
    if args.sheet is not None:
        if file is None:
            raise InputError("--sheet applies to a workbook file, not a registered dataset")
        options["sheet"] = args.sheet
    inputs, local = _inputs(path, file, args.mapping)
    # Checked before reading, so that a clash is reported before a long run.
    out = OutputFolder(args.out, inputs=local, names=OUTPUT_NAMES)
    worker = None
    if not args.no_figures:
        from ..plots.run import FigureWorker

        # the arguments are sound: matplotlib loads in a process of its own
        # while the file is read and tested, and the figures are drawn there
        worker = FigureWorker.start()
        if worker is not None:
            stack.callback(worker.close)
    with _read_limits(args):
        if file is None:
            table = datasets.load(path, **options)  # sha256 verified, Parquet copy reused
        else:
            table = read(file, fmt, **options)
    leader = table.leader_column(args.leader)
    tests = [t.strip() for t in args.tests.split(",") if t.strip()] if args.tests else None
    if args.scheduler:
        from ..stations.distributed import battery_on_dask

        try:
            battery = battery_on_dask(table, leader=leader, tests=tests, by=args.by,
                                      rng=args.seed, alpha=args.alpha,
                                      address=args.scheduler)
        except ModuleNotFoundError as exc:
            raise InputError(str(exc)) from None
    else:
        battery = run_battery(table, leader=leader, tests=tests, by=args.by, rng=args.seed,
                              alpha=args.alpha)

    parameters = {"format": fmt, "leader": leader, "leader_requested": args.leader,
                  "tests": tests, "by": args.by, "alpha": args.alpha,
                  "keep_electronic": args.keep_electronic,
                  "valid_as_cast": args.valid_as_cast, "sheet": args.sheet,
                  "figures": not args.no_figures,
                  "executor": "dask" if args.scheduler else "in-process"}
    prov = provenance(inputs, parameters, args.seed)
    read_sha = table.source.get("sha256")
    if file is not None and read_sha and read_sha != prov["inputs"][0]["sha256"]:
        raise InputError("the file changed while it was being read; run again", file=file)
    ev = battery.evidence
    records = evidence_records(ev)
    out.write_json("results.json", {"provenance": prov, "results": records})
    flat = ev.copy()
    flat["details"] = [json.dumps(r["details"], ensure_ascii=False, sort_keys=True)
                       for r in records]
    out.write_csv("results.csv", flat)
    out.write_csv("excluded.csv", table.excluded)
    out.write_csv("findings.csv", table.labelled_findings())
    out.write_csv("test_exclusions.csv", exclusion_counts(ev))
    # national runs only: regional runs leave out the same stations by the same rules
    out.write_csv("excluded_by_test.csv",
                  excluded_stations(battery, "national")[["test", "source_row", "reason"]])
    source = {**table.source, "leader": leader, "seed": args.seed, "by": args.by,
              "tests": tests, "alpha": args.alpha, "provenance": prov}
    out.write_json("source.json", source)
    figures = _figures(battery, out.subfolder("figures"), alpha=args.alpha,
                       provenance=prov, leader=leader, path=path,
                       worker=worker) if not args.no_figures else []
    out.write_manifest(prov)

    ok = int((ev["status"] == "ok").sum())
    print(f"{len(table.data):,} stations kept, {len(table.excluded):,} rows excluded, "
          f"{len(table.findings):,} findings; leader: {leader}")
    gaps = _missing_counts(table)
    if gaps:
        print(f"{gaps:,} stations kept with a missing total (an empty or NA cell in "
              "registered, ballots issued, ballots cast or invalid): the tests that need "
              "it leave them out (excluded_by_test.csv)")
    print(f"{len(ev)} test runs: {ok} ran, {len(ev) - ok} not run")
    stand = sorted({(rec["test"], role, other) for rec in records
                    for role, other in (rec["details"].get("read_as") or {}).items()})
    for test, role, other in stand:
        print(f"{test}: the file has no {role.replace('_', ' ')}; "
              f"{other.replace('_', ' ')} read in their place")
    for line in _summary_lines(ev, args.alpha, battery.results):
        print(line)
    print(f"written: {out.path / 'results.json'}, results.csv, excluded.csv, findings.csv, "
          f"test_exclusions.csv, excluded_by_test.csv, source.json, manifest.json, "
          f"{len(figures)} figure(s)")
    return 0


def _detect(file: Path, mapping) -> str:
    """``--format`` when not given: canonical with a mapping, else told from
    the file's columns (one line listing the candidates when unclear)."""
    from ..tables.detect import detect_format
    from ..tables.readers import FORMATS

    if mapping:
        return "canonical"
    return detect_format(file, FORMATS)


def _missing_counts(table) -> int:
    """Stations kept with a missing total (registered, ballots issued, ballots
    cast or invalid); an empty option count means the option was not on that
    station's ballot, so options are not counted here."""
    cols = [c for c in ("registered", "ballots_issued", "ballots_cast", "invalid")
            if c in table.data.columns]
    if not cols:
        return 0
    present = table.data[cols].notna()
    # a column missing for every station is one the file does not have
    present = present.loc[:, present.any()]
    return int((~present).any(axis=1).sum())


def _summary_lines(ev, alpha: float, results=None) -> list[str]:
    """The console summary: evidence tests that reject at Holm ``alpha``,
    then the descriptive ones apart (never counted as evidence).

    Each rejecting run is named with its Holm-adjusted p-value, written by
    :func:`audit.core.pvalues.pvalue_text` (a bound such as a simulated
    p-value at its floor is written ``< x``); ``results`` are the test
    results aligned with the rows of ``ev`` (their settings tell whether
    a p-value is a bound).
    """
    from ..core.pvalues import pvalue_text

    results = list(results) if results is not None else [None] * len(ev)
    ev = ev.assign(result_object=results)
    ran = ev[ev["status"] == "ok"]
    is_ev = ran["evidence"].astype(bool)
    lines = []

    def named(r):
        res = r.result_object
        p = pvalue_text(r.pvalue, params=getattr(res, "params", None),
                        details=getattr(res, "details", None), adjusted=r.p_holm)
        return f"{r.test} ({r.scope}, Holm p {p})"

    for cls, part in (("evidence", ran[is_ev]), ("descriptive", ran[~is_ev])):
        hit = part[part["reject_holm"].astype(bool)]
        names = ", ".join(named(r) for r in hit.itertuples())
        if cls == "evidence":
            lines.append(f"evidence tests ({len(part)} runs): {len(hit)} below {alpha:g} "
                         f"after Holm" + (f": {names}" if names else ""))
        else:
            lines.append(f"descriptive tests ({len(part)} runs, not evidence: they do not "
                         f"hold their size on honestly counted elections or their "
                         f"twins): {len(hit)} below {alpha:g} after Holm"
                         + (f": {names}" if names else ""))
    lines.append("a rejection is an anomaly to explain, not proof of fraud")
    return lines


# Files every run writes (figures/ come on top, named after the tests).
OUTPUT_NAMES = ("results.json", "results.csv", "excluded.csv", "findings.csv",
                "test_exclusions.csv", "excluded_by_test.csv", "source.json",
                "manifest.json")


def _inputs(path: str, file: Path | None, mapping) -> tuple[list, list[Path]]:
    """Provenance inputs and the local files no output may overwrite.

    The inputs are the results file (or the registered dataset, by name with
    its pinned sha256 and URL) and the column mapping file; the local files
    are those two, or the cached copy of the dataset and the mapping.
    """
    from ..tables import datasets

    if file is None:
        spec = datasets.REGISTRY[path]
        cached = datasets.data_dir() / spec.name
        inputs: list = [{"path": path, "dataset": spec.name, "url": spec.url,
                         "sha256": spec.sha256,
                         "bytes": cached.stat().st_size if cached.is_file() else None}]
        local = [cached]
    else:
        inputs, local = [file], [file]
    if mapping:
        if not Path(mapping).is_file():
            raise InputError("mapping file not found", file=mapping)
        inputs.append(Path(mapping))
        local.append(Path(mapping))
    return inputs, local


def _figures(battery, folder, *, alpha: float, provenance=None, leader: str = "",
             path: str = "", worker=None) -> list[str]:
    """The evidence overview plus one figure per national result with a
    table, in the house style (see :mod:`audit.plots.run`); a registered
    dataset is named by its description in the source lines."""
    from ..plots.run import write_figures
    from ..tables import datasets

    spec = datasets.REGISTRY.get(path)
    return write_figures(battery, folder, alpha=alpha, provenance=provenance, leader=leader,
                         data_title=spec.description if spec is not None else None,
                         worker=worker)


def dataset_rows() -> list[dict]:
    """One row per registered dataset: name, year, country, kind, format,
    size in the cache (bytes, None when not cached) and whether it is cached."""
    import re

    from ..tables import datasets

    rows = []
    folder = datasets.data_dir()
    for name in sorted(datasets.REGISTRY):
        spec = datasets.REGISTRY[name]
        m = re.match(r"(\D+?)\s+(\d{4})\b", spec.description)
        path = folder / name
        if path.is_dir():
            size = sum(f.stat().st_size for f in path.iterdir() if f.is_file()) or None
        else:
            size = path.stat().st_size if path.is_file() else None
        rows.append({"name": name, "year": int(m.group(2)) if m else None,
                     "country": m.group(1) if m else "", "kind": spec.kind,
                     "format": spec.format or "-", "bytes": size,
                     "cached": size is not None, "description": spec.description})
    return rows


def _cmd_datasets(args) -> int:
    from ..tables import datasets

    rows = dataset_rows()
    width = max(len(r["name"]) for r in rows)
    print(f"{'dataset':<{width}}  year  {'country':<15} {'kind':<9} {'format':<13} "
          f"{'size':>9}  cached")
    for r in rows:
        size = "-" if not r["bytes"] else (f"{r['bytes'] / 1e6:,.1f} MB" if r["bytes"] >= 1e5
                                             else f"{r['bytes'] / 1e3:,.0f} kB")
        print(f"{r['name']:<{width}}  {r['year'] or '':<4}  {r['country']:<15} "
              f"{r['kind']:<9} {r['format']:<13} {size:>9}  {'yes' if r['cached'] else 'no'}")
        if args.verbose:
            print(f"{'':<{width}}  {r['description']}")
    print(f"cache folder: {datasets.data_dir()} (set {datasets.ENV_VAR} to change it); "
          f"a dataset not cached is downloaded on first use and verified by sha256")
    return 0


def _cmd_tests(args) -> int:
    from ..stations import forensics  # noqa: F401  (fills the registry)
    from ..stations.registry import REGISTRY, load_plugins

    load_plugins()
    if not REGISTRY:
        print("no tests registered")
        return 0
    width = max(len(n) for n in REGISTRY)
    fwidth = max(len(s.family) for s in REGISTRY.values())
    print(f"{'test':<{width}}  {'family':<{fwidth}}  {'class':<11}  min_units  needs")
    for name in sorted(REGISTRY):
        s = REGISTRY[name]
        print(f"{name:<{width}}  {s.family:<{fwidth}}  {s.calibration.label:<11}  "
              f"{s.min_units:>9}  {', '.join(s.needs)}"
              + ("" if s.default else "  (runs when named in --tests)"))
        if args.verbose and s.description:
            print(f"{'':<{width}}  {s.description}")
        if args.verbose and s.calibration.note():
            print(f"{'':<{width}}  {s.calibration.note()}")
    return 0


def _cmd_twin(args) -> int:
    from ..tables import datasets
    from ..tables.readers import read
    from ..core.outputs import write_csv
    from ..stations.twin import FRAUD_MODELS, fit_twin, twin_truth

    path, fmt = args.path, args.format
    fraud_options = {}
    for name in ("share", "amount"):
        text = getattr(args, name)
        if text is None:
            continue
        if args.fraud is None:
            raise InputError(f"--{name} applies only with --fraud")
        if name == "amount" and args.fraud == "rounding":
            raise InputError("--amount does not apply to --fraud rounding")
        try:
            value = float(text)
        except ValueError:
            value = float("nan")
        if not 0 <= value <= 1:
            raise InputError(f"--{name} must be a number in [0, 1], got {text!r}")
        fraud_options[name] = value
    if datasets.is_dataset(path):
        spec = datasets.REGISTRY[path]
        fmt = fmt or spec.format
        if not fmt:
            raise InputError(f"dataset {path!r} is not a station table")
        if fmt != spec.format:
            raise InputError(f"dataset {path!r} has format {spec.format!r}, not {fmt!r}")
        file = None
        local = [datasets.data_dir() / spec.name]
    else:
        file = Path(path)
        if not file.exists():
            raise InputError(f"no such file, and not a registered dataset (known: "
                             f"{', '.join(sorted(datasets.REGISTRY))})", file=path)
        if fmt is None:
            fmt = _detect(file, args.mapping)
        local = [file]
    if args.mapping:
        if fmt != "canonical":
            raise InputError("--mapping applies only to --format canonical")
        if not Path(args.mapping).is_file():
            raise InputError("mapping file not found", file=args.mapping)
        local.append(Path(args.mapping))
    out = Path(args.out)
    truth_path = out.with_name((out.name[:-4] if out.name.lower().endswith(".csv")
                                else out.name) + ".truth.csv")
    for target in (out, truth_path) if args.fraud else (out,):
        if target.is_dir():
            raise InputError(f"-o {str(target)!r} is a folder; give a CSV file name")
        for src in local:
            if src.exists() and target.exists() and target.samefile(src) \
                    or target.resolve() == src.resolve():
                raise InputError(f"output {str(target)!r} would overwrite the input "
                                 f"{str(src)!r}")

    options = {"mapping": args.mapping} if args.mapping else {}
    with _read_limits(args):
        table = datasets.load(path) if file is None else read(file, fmt, **options)
    leader = table.leader_column(args.leader)
    try:
        model = fit_twin(table, leader=leader)
    except ValueError as exc:
        raise InputError(str(exc), file=path) from None
    seq = np.random.SeedSequence(args.seed)
    clean = model.draw(args.seed)
    rigged = None
    if args.fraud:
        from ..stations import simulate

        fraud = getattr(simulate, FRAUD_MODELS[args.fraud])
        try:
            rigged = fraud(clean, leader=leader, rng=np.random.default_rng(seq.spawn(1)[0]),
                           **fraud_options)
        except (TypeError, ValueError) as exc:
            raise InputError(str(exc)) from None
    result = rigged if rigged is not None else clean
    written = [write_csv(result.data, out)]
    if rigged is not None:
        written.append(write_csv(twin_truth(clean, rigged, leader=leader), truth_path))
    n_altered = int(np.asarray(result.source["altered"]).sum())
    print(f"{len(result.data):,} stations; leader: {leader}; seed {args.seed}; "
          f"{model.info['kept_as_is']:,} copied as they are"
          + (f"; {args.fraud}: {n_altered:,} stations altered" if args.fraud else ""))
    print("written: " + ", ".join(str(w) for w in written))
    return 0


def _read_limits(args):
    """The size and decompression limits of --max-bytes / --max-ratio."""
    from ..tables import limits

    return limits.using(max_bytes=args.max_bytes, max_ratio=args.max_ratio)


def _limit_type(parse):
    def convert(text: str):
        import argparse

        try:
            return parse(text)
        except InputError as exc:
            raise argparse.ArgumentTypeError(exc.message.split(" must be ", 1)[-1]) from None
    return convert


def _add_limit_options(p) -> None:
    from ..tables import limits

    p.add_argument("--max-bytes", type=_limit_type(limits.parse_size), default=None,
                   metavar="N",
                   help="refuse files, and tables inside zip, gzip, .xlsx or Parquet "
                        f"files, larger than N bytes (e.g. 2G; default "
                        f"{limits.DEFAULT_MAX_BYTES:,}, or ${limits.ENV_MAX_BYTES})")
    p.add_argument("--max-ratio", type=_limit_type(limits.parse_ratio), default=None,
                   metavar="R",
                   help="refuse archives that expand more than R times (default "
                        f"{limits.DEFAULT_MAX_RATIO:g}, or ${limits.ENV_MAX_RATIO}; "
                        f"checked above {limits.RATIO_FLOOR // 2**20} MiB)")


def _seed(text: str) -> int:
    import argparse

    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a non-negative integer, got {text!r}")
    if value < 0:
        raise argparse.ArgumentTypeError(f"expected a non-negative integer, got {text!r}")
    return value


def _alpha(text: str) -> float:
    import argparse

    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a number in (0, 1), got {text!r}")
    if not 0 < value < 1:
        raise argparse.ArgumentTypeError(f"expected a number in (0, 1), got {text!r}")
    return value


def add_commands(sub) -> None:
    """Add the station-level sub-commands to the ``audit`` parser."""
    from ..tables.readers import FORMATS

    p = sub.add_parser(
        "run", help="run the forensic test battery on a station results file",
        description="Read a polling-station results file (or a registered dataset "
                    "such as ru-cik/2020.csv.zip), run every applicable registered "
                    "test nationally and per --by level, adjust p-values "
                    "(Benjamini-Hochberg and Holm) and write results.json, "
                    "results.csv, excluded.csv, findings.csv, test_exclusions.csv "
                    "(stations each test left out, counted by reason), "
                    "excluded_by_test.csv (those stations one by one, national "
                    "runs), source.json, manifest.json and figures/ to --out. The same inputs, "
                    "options and --seed give byte-identical files; every output "
                    "records its inputs (sha256), options, seed and versions; "
                    "CSV cells that a spreadsheet would run as a formula are "
                    "prefixed with a quote; an input file is never overwritten.")
    p.add_argument("path", metavar="PATH",
                   help="results file, or a registered dataset name (see "
                        "audit.tables.datasets.REGISTRY)")
    p.add_argument("--format", choices=sorted(FORMATS), default=None,
                   help="file format (default: the registered dataset's, or told from "
                        "the file's columns when only one reader fits; canonical with "
                        "--mapping)")
    p.add_argument("--mapping", default=None, metavar="FILE",
                   help="YAML column mapping for --format canonical (see the README and "
                        "docs/examples/mapping.yaml)")
    p.add_argument("--keep-electronic", action="store_true",
                   help="ru-cik: keep remote electronic voting pseudo-stations "
                        "(excluded by default)")
    p.add_argument("--valid-as-cast", action="store_true",
                   help="ua-cvk parliament file: use the valid votes as ballots cast")
    p.add_argument("--sheet", default=None, metavar="NAME",
                   help="worksheet of an .xlsx file holding the results (needed when "
                        "several sheets hold tables)")
    p.add_argument("--leader", default=None, metavar="NAME",
                   help="option tested as the leader: exact column name or a unique "
                        "case-insensitive part of one (default: most votes)")
    p.add_argument("--out", required=True, metavar="DIR", help="output folder")
    p.add_argument("--tests", default=None, metavar="A,B",
                   help="comma-separated registered tests (default: all; see "
                        "'audit tests')")
    p.add_argument("--by", default=None, metavar="LEVEL",
                   help="also run every test within each unit of this hierarchy "
                        "level, e.g. region")
    p.add_argument("--seed", type=_seed, default=0, metavar="N",
                   help="root random seed (default 0)")
    p.add_argument("--alpha", type=_alpha, default=0.05,
                   help="level for the flagged columns (default 0.05)")
    p.add_argument("--no-figures", action="store_true", help="skip the figures")
    p.add_argument("--scheduler", default=None, metavar="ADDRESS",
                   help="run the tests on Dask: 'local' (this machine's cores) or "
                        "tcp://HOST:8786 (a running cluster); same results as in-process")
    _add_limit_options(p)
    p.set_defaults(func=_cmd_run)

    p = sub.add_parser(
        "twin", help="write a clean twin of a station results file (optionally with fraud)",
        description="Fit a fraud-free model of a station results file (or a registered "
                    "dataset) - district levels of turnout, leader share and invalid "
                    "ballots, composition of the other options, every station's "
                    "registered voters and labels - and write one draw of it as a "
                    "canonical CSV (read it back with 'audit run OUT.csv --format "
                    "canonical'). With --fraud, the twin is rigged and OUT.truth.csv "
                    "lists, per station, whether it was altered, the leader votes and "
                    "ballots added and the votes moved. The same inputs and --seed give "
                    "the same files.")
    p.add_argument("path", metavar="FILE",
                   help="results file, or a registered dataset name (see "
                        "audit.tables.datasets.REGISTRY)")
    p.add_argument("--format", choices=sorted(FORMATS), default=None,
                   help="file format (default: the registered dataset's, or told from "
                        "the file's columns when only one reader fits)")
    p.add_argument("--mapping", default=None, metavar="FILE",
                   help="YAML column mapping for --format canonical")
    p.add_argument("--leader", default=None, metavar="NAME",
                   help="leader option: exact column name or a unique case-insensitive "
                        "part of one (default: most votes)")
    p.add_argument("--fraud", choices=["stuffing", "rounding", "switching"], default=None,
                   help="inject this fraud model into the twin (audit.stations.simulate: "
                        "ballot_stuffing, round_percentages, vote_switching)")
    p.add_argument("--share", default=None, metavar="S",
                   help="with --fraud: probability that a station is altered, in [0, 1]")
    p.add_argument("--amount", default=None, metavar="A",
                   help="with --fraud stuffing or switching: mean size of the fraud "
                        "(added ballots as a fraction of registered voters, or fraction "
                        "of the other options' votes moved), in [0, 1]")
    p.add_argument("--seed", type=_seed, default=0, metavar="N",
                   help="random seed (default 0)")
    p.add_argument("-o", "--out", required=True, metavar="OUT.csv",
                   help="output CSV (with --fraud also OUT.truth.csv beside it)")
    _add_limit_options(p)
    p.set_defaults(func=_cmd_twin)

    p = sub.add_parser("datasets", help="list the registered public datasets",
                       description="List every registered dataset (the names 'audit run' "
                                   "and 'audit twin' accept in place of a file) with its "
                                   "year, country, kind (clean, contested, reference), "
                                   "reader, size in the cache folder and whether it is "
                                   "cached there.")
    p.add_argument("-v", "--verbose", action="store_true",
                   help="also print each dataset's description")
    p.set_defaults(func=_cmd_datasets)

    p = sub.add_parser("tests", help="list the registered station-level tests",
                       description="List every registered test with its family, the "
                                   "data it needs and its minimum number of stations.")
    p.add_argument("-v", "--verbose", action="store_true",
                   help="also print each test's one-line description")
    p.set_defaults(func=_cmd_tests)
