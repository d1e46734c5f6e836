"""The command line: help everywhere, one-line errors, data verification."""

import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from audit.cli.main import build_parser, main

ROOT = Path(__file__).resolve().parent.parent


def _subcommands():
    parser = build_parser()
    action = next(a for a in parser._actions if a.dest == "command")
    return sorted(action.choices)


def test_top_level_help_lists_the_commands(capsys):
    with pytest.raises(SystemExit) as done:
        main(["--help"])
    assert done.value.code == 0
    text = capsys.readouterr().out
    for name in ("report", "check-data"):
        assert name in text


@pytest.mark.parametrize("command", _subcommands())
def test_every_subcommand_has_help(command, capsys):
    with pytest.raises(SystemExit) as done:
        main([command, "--help"])
    assert done.value.code == 0
    assert "usage: audit " + command in capsys.readouterr().out


def test_python_dash_m_works():
    res = subprocess.run([sys.executable, "-m", "audit", "--version"], capture_output=True,
                         text=True, check=True)
    assert res.stdout.startswith("audit ")


def test_check_data_reports_every_table(capsys):
    assert main(["check-data"]) == 0
    lines = capsys.readouterr().out.strip().splitlines()
    resources = json.loads((ROOT / "data" / "datapackage.json").read_text())["resources"]
    assert len(lines) == len(resources) and all(line.startswith("ok ") for line in lines)


def _one_line_error(capsys, argv):
    code = main(argv)
    err = capsys.readouterr().err.strip()
    assert code == 2
    assert err.startswith("audit: error: ") and "\n" not in err and "Traceback" not in err
    return err


def test_doctored_table_is_a_one_line_error(tmp_path, capsys):
    shutil.copytree(ROOT / "data", tmp_path / "data")
    dp = tmp_path / "data" / "datapackage.json"
    table = tmp_path / "data" / "referenda_2022" / "announcements.csv"
    lines = table.read_text().splitlines()
    row = next(i for i, line in enumerate(lines) if ",percent," in line)
    lines[row] = lines[row].replace(",percent,", ",percnt,", 1)
    table.write_text("\n".join(lines) + "\n")
    from audit.tables.datapackage import refresh

    refresh(dp)    # the hash matches, so the schema check must catch it
    err = _one_line_error(capsys, ["check-data", "--datapackage", str(dp)])
    assert f"announcements.csv, row {row + 1}, column 'unit'" in err


def test_missing_and_broken_datapackage(tmp_path, capsys):
    err = _one_line_error(capsys, ["check-data", "--datapackage", str(tmp_path / "none.json")])
    assert "none.json" in err
    bad = tmp_path / "datapackage.json"
    bad.write_text("{ not json")
    assert "not valid JSON" in _one_line_error(capsys, ["check-data", "--datapackage", str(bad)])


def test_debug_shows_the_traceback(tmp_path):
    from audit.core.errors import InputError

    with pytest.raises(InputError):
        main(["--debug", "check-data", "--datapackage", str(tmp_path / "none.json")])


def test_unknown_report_parameter(capsys, tmp_path):
    err = _one_line_error(capsys, ["report", "--out", str(tmp_path), "-p", "NOPE=1"])
    assert "unknown notebook parameter 'NOPE'" in err and "MAX_SWING" in err


def _failing_command(monkeypatch, exc):
    """Make ``audit tests`` raise ``exc`` (a stand-in for a bug deep inside)."""
    import audit.cli.stations

    def boom(args):
        raise exc

    monkeypatch.setattr(audit.cli.stations, "_cmd_tests", boom)


@pytest.mark.parametrize("exc, shown", [
    (ZeroDivisionError("division by zero"), "ZeroDivisionError: division by zero"),
    (KeyError("region"), "KeyError: 'region'"),
    (RuntimeError("first line\nsecond line"), "RuntimeError: first line"),
    (AssertionError(), "AssertionError"),
])
def test_internal_error_is_one_line_with_status_3(monkeypatch, capsys, exc, shown):
    _failing_command(monkeypatch, exc)
    assert main(["tests"]) == 3
    captured = capsys.readouterr()
    assert captured.err == (f"audit: error: internal error ({shown}); rerun with --debug "
                            "for the traceback\n")
    assert "Traceback" not in captured.out + captured.err


def test_debug_reraises_internal_errors(monkeypatch):
    _failing_command(monkeypatch, ZeroDivisionError("division by zero"))
    with pytest.raises(ZeroDivisionError):
        main(["--debug", "tests"])


def test_interrupt_is_one_line_with_status_130(monkeypatch, capsys):
    _failing_command(monkeypatch, KeyboardInterrupt())
    assert main(["tests"]) == 130
    assert capsys.readouterr().err == "audit: interrupted\n"
    with pytest.raises(KeyboardInterrupt):
        main(["--debug", "tests"])


def test_os_errors_are_one_line_with_status_2(monkeypatch, capsys):
    _failing_command(monkeypatch, OSError(28, "No space left on device", "out/x.csv"))
    assert main(["tests"]) == 2
    assert capsys.readouterr().err == "audit: error: out/x.csv: No space left on device\n"
    _failing_command(monkeypatch, NotADirectoryError("not a folder"))
    assert main(["tests"]) == 2
    assert capsys.readouterr().err == "audit: error: not a folder\n"


def test_internal_error_from_a_real_subprocess_has_no_traceback(tmp_path):
    """The installed entry point: an unexpected exception inside ``audit run``
    (a reader patched to fail) gives one line and status 3."""
    script = ("import sys, audit.tables.readers\n"
              "def broken(*a, **k): raise ValueError('bug in the reader')\n"
              "audit.tables.readers.read = broken\n"
              "from audit.cli.main import main\n"
              "sys.exit(main(sys.argv[1:]))\n")
    data = ROOT / "tests" / "data" / "stations" / "canonical.csv"
    res = subprocess.run([sys.executable, "-c", script, "run", str(data), "--format",
                          "canonical", "--out", str(tmp_path / "o"), "--no-figures"],
                         capture_output=True, text=True, check=False)
    assert res.returncode == 3, res.stderr
    assert res.stderr == ("audit: error: internal error (ValueError: bug in the reader); "
                          "rerun with --debug for the traceback\n")
