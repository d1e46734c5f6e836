"""environment.yml lists the same dependencies as pyproject.toml."""

import re
import tomllib
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parent.parent

# PyPI name -> conda-forge name where they differ
CONDA_NAMES = {"pyyaml": "pyyaml"}


def _name_and_spec(req: str):
    m = re.match(r"\s*([A-Za-z0-9_.\-]+)\s*(.*)", req)
    return m.group(1).lower(), m.group(2).replace(" ", "")


def test_conda_environment_matches_pyproject():
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    extras = project["optional-dependencies"]
    wanted = dict(_name_and_spec(r) for r in project["dependencies"] + extras["dev"])
    # every optional group is part of the development environment
    for group, reqs in extras.items():
        assert {_name_and_spec(r)[0] for r in reqs} <= set(wanted), group
    env = yaml.safe_load((ROOT / "environment.yml").read_text())
    listed = {}
    for dep in env["dependencies"]:
        if isinstance(dep, str):
            name, spec = _name_and_spec(dep)
            if name not in ("python", "pip"):
                listed[name] = spec
    assert listed == {CONDA_NAMES.get(k, k): v for k, v in wanted.items()}
    pip_part = next(d for d in env["dependencies"] if isinstance(d, dict))["pip"]
    assert "-e ." in pip_part
