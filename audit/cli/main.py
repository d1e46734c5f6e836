"""Command line: ``audit <command>`` (also ``python -m audit``).

The command line never prints a traceback unless ``--debug`` is given.
Exit status:

- 0: done;
- 2: an error the user can fix (bad input file, argument or output folder;
  a file that cannot be read or written), printed as one line
  ``audit: error: ...``;
- 3: an internal error (a bug): one line naming the exception, asking to
  rerun with ``--debug`` for the traceback;
- 130: interrupted (Ctrl-C).

``--debug`` re-raises every error so that Python prints the traceback.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from .. import __version__
from ..core.errors import AuditError


def _cmd_report(args) -> int:
    from ..core.errors import InputError
    from ..reporting.report import build_own_report, build_reports

    own = {"format": args.format, "leader": args.leader, "by": args.by,
           "region": args.region, "mapping": args.mapping, "tests": args.tests}
    if args.file is None:
        given = [f"--{k}" for k, v in own.items() if v is not None]
        if given:
            raise InputError(f"{given[0]} applies only with a FILE to report on")
        written = build_reports(out=Path(args.out or "reports"),
                                parameters=args.parameters, stations=args.stations)
        for name, folder in written.items():
            print(f"{name}: {folder / 'index.html'}")
            print(f"  figures: {folder / 'figures'}")
            print(f"  tables:  {folder / 'tables'}")
        return 0
    if args.parameters:
        raise InputError("-p applies to the bundled reports; with a FILE use --format, "
                         "--leader, --by, --region, --tests, --seed")
    if not args.out:
        raise InputError("--out is required with a FILE: the folder of the report")
    page = build_own_report(args.file, out=Path(args.out), seed=args.seed,
                            alpha=args.alpha, lang=args.lang,
                            **{k: v or "" for k, v in own.items()})
    print(f"report: {page}")
    print(f"  figures: {page.parent / 'figures'}")
    print(f"  tables:  {page.parent / 'tables'} (where_to_look.csv, where_stations.csv, "
          "battery.csv, ...)")
    return 0


def _cmd_check_data(args) -> int:
    from ..referenda.bundle import verify_package

    report = verify_package(Path(args.datapackage) if args.datapackage else None)
    for line in report:
        print(line)
    return 0


def _parameter(text: str) -> tuple[str, str]:
    if "=" not in text:
        raise argparse.ArgumentTypeError(f"expected NAME=VALUE, got {text!r}")
    key, value = text.split("=", 1)
    return key.strip(), value


def _seed(text: str) -> int:
    from .stations import _seed as seed

    return seed(text)


def _alpha(text: str) -> float:
    from .stations import _alpha as alpha

    return alpha(text)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="audit",
        description="Audit reported vote counts: plausibility checks, "
                    "forensic tests and a report.")
    parser.add_argument("--version", action="version", version=f"%(prog)s {__version__}")
    parser.add_argument("--debug", action="store_true",
                        help="show the full traceback on errors")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")

    p = sub.add_parser("report", help="write an HTML report on a station file, or the "
                                      "bundled reports",
                       description="With FILE: run the test battery on a polling-station "
                                   "results file (or a registered dataset) and write an "
                                   "HTML report (data summary, tests by evidence class, "
                                   "estimates, where to look, what it does and does not "
                                   "show) with its figures and tables to --out. Without "
                                   "FILE: execute the case-study notebooks on the bundled "
                                   "data and write their reports.")
    p.add_argument("file", nargs="?", default=None, metavar="FILE",
                   help="station results file or registered dataset name (omit for the "
                        "bundled reports)")
    p.add_argument("--format", default=None, metavar="F",
                   help="reader of FILE (see 'audit run --help'); not needed for a "
                        "registered dataset")
    p.add_argument("--leader", default=None, metavar="NAME",
                   help="option tested as the leader (default: most votes)")
    p.add_argument("--by", default=None, metavar="LEVEL",
                   help="also run every test within each region or district")
    p.add_argument("--region", default=None, metavar="A,B",
                   help="keep only these regions (comma-separated, as in the file)")
    p.add_argument("--mapping", default=None, metavar="FILE",
                   help="YAML column mapping for --format canonical")
    p.add_argument("--tests", default=None, metavar="A,B",
                   help="registered tests to run (default: all; see 'audit tests')")
    p.add_argument("--seed", type=_seed, default=0, metavar="N",
                   help="root random seed (default 0)")
    p.add_argument("--alpha", type=_alpha, default=0.05,
                   help="level of the Holm-adjusted verdicts (default 0.05)")
    p.add_argument("--lang", default="en", help="language of the report (default: en)")
    p.add_argument("--out", default=None,
                   help="output folder (default for the bundled reports: reports)")
    p.add_argument("-p", "--parameter", dest="parameters", action="append", default=[],
                   type=_parameter, metavar="NAME=VALUE",
                   help="bundled reports: override a notebook parameter (repeatable)")
    p.add_argument("--stations", choices=["auto", "yes", "no"], default="auto",
                   help="bundled reports: also run the station-level notebooks: auto = "
                        "when the datasets are available (default)")
    p.set_defaults(func=_cmd_report)

    p = sub.add_parser("check-data", help="verify hashes and schemas of the bundled data",
                       description="Recompute sha256 and byte counts of every file in "
                                   "data/datapackage.json and validate each table "
                                   "against its schema.")
    p.add_argument("--datapackage", default=None,
                   help="path of a datapackage.json (default: the bundled one)")
    p.set_defaults(func=_cmd_check_data)

    for register in _EXTRA_COMMANDS:
        register(sub)
    return parser


def _station_commands(sub) -> None:
    from .stations import add_commands

    add_commands(sub)


def _calibrate_command(sub) -> None:
    from .calibrate import add_commands

    add_commands(sub)


# Sub-commands defined in other modules (each a function taking the subparsers).
_EXTRA_COMMANDS: list = [_station_commands, _calibrate_command]


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip()
    return text.splitlines()[0] if text else ""


def main(argv: list[str] | None = None) -> int:
    """Run the command line; return the exit status (see the module docstring)."""
    parser = build_parser()
    args = parser.parse_args(argv)
    if not getattr(args, "command", None):
        parser.print_help()
        return 0
    try:
        return int(args.func(args) or 0)
    except AuditError as exc:
        if args.debug:
            raise
        print(f"audit: error: {_first_line(exc)}", file=sys.stderr)
        return 2
    except OSError as exc:
        if args.debug:
            raise
        if exc.filename is not None and exc.strerror:
            print(f"audit: error: {exc.filename}: {exc.strerror}", file=sys.stderr)
        else:
            print(f"audit: error: {_first_line(exc) or type(exc).__name__}",
                  file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        if args.debug:
            raise
        print("audit: interrupted", file=sys.stderr)
        return 130
    except Exception as exc:  # the last resort: one line, never a traceback
        if args.debug:
            raise
        detail = _first_line(exc)
        print(f"audit: error: internal error ({type(exc).__name__}"
              f"{': ' + detail if detail else ''}); rerun with --debug for the traceback",
              file=sys.stderr)
        return 3
