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
    from ..reporting.report import build_reports

    written = build_reports(out=Path(args.out), parameters=args.parameters,
                            stations=args.stations)
    for name, folder in written.items():
        print(f"{name}: {folder / 'index.html'}")
        print(f"  figures: {folder / 'figures'}")
        print(f"  tables:  {folder / 'tables'}")
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


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="audit",
        description="Audit reported vote counts: plausibility checks, "
                    "forensic tests and a report.")
    parser.add_argument("--version", action="version", version=f"%(prog)s {__version__}")
    parser.add_argument("--debug", action="store_true",
                        help="show the full traceback on errors")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")

    p = sub.add_parser("report", help="execute the notebooks and write the HTML reports",
                       description="Execute the case-study notebooks on the bundled "
                                   "data and write HTML, figures and tables.")
    p.add_argument("--out", default="reports", help="output folder (default: reports)")
    p.add_argument("-p", "--parameter", dest="parameters", action="append", default=[],
                   type=_parameter, metavar="NAME=VALUE",
                   help="override a notebook parameter (repeatable)")
    p.add_argument("--stations", choices=["auto", "yes", "no"], default="auto",
                   help="also run the station-level notebooks: auto = when the "
                        "datasets are available (default)")
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
