"""The package outside its checkout: bundled files found through
importlib.resources, and a wheel that reports to the same bytes.

The slow test builds a wheel from a clean copy of the tree, installs it into
a fresh virtual environment in a temporary folder (its third-party packages
are borrowed from the running environment through a ``.pth`` file, so the
install is offline and the library versions recorded in the provenance are
the same), and runs ``audit report`` and ``audit run`` there and from the
checkout, comparing every file written.
"""

from __future__ import annotations

import os
import shutil
import site
import subprocess
import sys
import sysconfig
from pathlib import Path

import pytest

from audit.core import resources

ROOT = Path(__file__).resolve().parent.parent
STATIONS = ROOT / "tests" / "data" / "stations" / "canonical.csv"
# Notebook 03's calibration, small (the referendum notebook has no cost knob).
SMALL = ["-p", "N_SIM=20", "-p", "N_STATIONS=400"]
IGNORE = shutil.ignore_patterns(".git", ".venv", "venv", "build", "dist", "reports", "*.egg-info",
                                "__pycache__", ".pytest_cache", ".hypothesis", "*.pyc",
                                ".ipynb_checkpoints", "*.ipynb")


def test_checkout_resources_are_the_top_level_folders():
    """From a checkout (no installed copy), the bundled folders are the ones
    at the top of the project, and the report reads its notebooks there."""
    from audit.referenda import bundle
    from audit.reporting import report

    assert resources.root() == ROOT
    assert bundle.DATAPACKAGE == ROOT / "data" / "datapackage.json"
    assert bundle.CLAIMS == ROOT / "seeds" / "claims.yaml"
    assert report.NOTEBOOK_DIR == ROOT / "notebooks"
    assert {p.name for p in report.NOTEBOOK_DIR.glob("*.py")} >= {
        nb.file for nb in report.NOTEBOOKS}


def test_resource_path_names_a_bundled_folder():
    assert resources.path("seeds", "claims.yaml").read_bytes() == (
        ROOT / "seeds" / "claims.yaml").read_bytes()
    with pytest.raises(ValueError, match="first part must be one of data, seeds, notebooks, "
                                         "got 'tests'"):
        resources.path("tests", "conftest.py")


def test_installed_copy_wins_over_the_checkout(tmp_path):
    """An installed package reads its own copy (``audit/_bundled``)."""
    fake = tmp_path / "audit"
    (fake / resources.PACKAGE_FOLDER / "data").mkdir(parents=True)
    (fake / resources.PACKAGE_FOLDER / "data" / "datapackage.json").write_text("{}")
    resources.root.cache_clear()
    try:
        with pytest.MonkeyPatch.context() as mp:
            mp.setattr(resources.resources, "files", lambda package: fake)
            assert resources.root() == (fake / resources.PACKAGE_FOLDER).resolve()
    finally:
        resources.root.cache_clear()
    assert resources.root() == ROOT


def _files(folder: Path) -> dict[str, bytes]:
    return {p.relative_to(folder).as_posix(): p.read_bytes()
            for p in sorted(folder.rglob("*")) if p.is_file()}


def _env(**extra) -> dict:
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "PYTHONHOME")}
    env.update(extra)
    return env


def _run(cmd, *, cwd, env, timeout=900):
    res = subprocess.run([str(c) for c in cmd], cwd=cwd, env=env, capture_output=True,
                         text=True, timeout=timeout, check=False)
    assert res.returncode == 0, f"{' '.join(map(str, cmd))}\n{res.stdout}\n{res.stderr}"
    return res


@pytest.mark.slow
def test_wheel_in_a_fresh_venv_reports_the_same_bytes(tmp_path):
    src = tmp_path / "src"
    shutil.copytree(ROOT, src, ignore=IGNORE)
    wheels = tmp_path / "wheels"
    _run([sys.executable, "-m", "pip", "wheel", "--no-deps", "--quiet", "--wheel-dir", wheels,
          src], cwd=tmp_path, env=_env())
    (wheel,) = wheels.glob("vote_audit-*.whl")

    venv = tmp_path / "venv"
    _run([sys.executable, "-m", "venv", "--without-pip", venv], cwd=tmp_path, env=_env())
    vpy = venv / ("Scripts/python.exe" if os.name == "nt" else "bin/python")
    purelib = Path(_run([vpy, "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
                        cwd=tmp_path, env=_env()).stdout.strip())
    # The libraries of this environment (not its vote-audit: paths in a .pth
    # file are added as they are, their own .pth files are not run).
    outer = [p for p in site.getsitepackages() + [sysconfig.get_paths()["purelib"]]
             if Path(p).is_dir()]
    (purelib / "outer-libraries.pth").write_text("\n".join(dict.fromkeys(outer)) + "\n")
    _run([sys.executable, "-m", "pip", "--python", vpy, "install", "--no-deps", "--no-index",
          "--quiet", wheel], cwd=tmp_path, env=_env())

    work = tmp_path / "work"
    work.mkdir()
    # The borrowed libraries' data files (nbconvert's templates) stay under
    # this environment's prefix; a full install would put them in the venv's.
    offline = _env(AUDIT_DATA_DIR=str(tmp_path / "no-datasets"), PIP_NO_INDEX="1",
                   JUPYTER_PATH=str(Path(sys.prefix) / "share" / "jupyter"))
    where = _run([vpy, "-c", "import audit, audit.core.resources as r; "
                  "print(audit.__file__); print(r.root())"], cwd=work, env=offline).stdout.split()
    assert Path(where[0]).is_relative_to(purelib), where
    assert Path(where[1]) == (purelib / "audit" / resources.PACKAGE_FOLDER).resolve(), where
    assert not str(ROOT) in where[0] + where[1]

    audit = venv / ("Scripts/audit.exe" if os.name == "nt" else "bin/audit")
    data = tmp_path / "canonical.csv"
    shutil.copy(STATIONS, data)
    checkout = _env(PYTHONPATH=str(ROOT), AUDIT_DATA_DIR=offline["AUDIT_DATA_DIR"])
    for name, cmd, env in (("installed", [audit], offline),
                           ("checkout", [sys.executable, "-m", "audit"], checkout)):
        (work / name).mkdir()
        _run(cmd + ["report", "--out", "reports", "--stations", "no"] + SMALL,
             cwd=work / name, env=env)
        _run(cmd + ["run", data, "--format", "canonical", "--out", "run", "--no-figures"],
             cwd=work / name, env=env)

    for part in ("reports", "run"):
        installed = _files(work / "installed" / part)
        checked_out = _files(work / "checkout" / part)
        assert sorted(installed) == sorted(checked_out)
        differ = [name for name in installed if installed[name] != checked_out[name]]
        assert not differ, f"{part}: different bytes in {differ}"
    assert {"referenda-2022/index.html", "adding-a-test/index.html",
            "referenda-2022/provenance.json"} <= set(_files(work / "installed" / "reports"))
    assert "results.json" in _files(work / "installed" / "run")
