# Two commands on a fresh machine: `make report` and `make test-all` (what CI runs);
# `make test` is the fast loop (the suite without the slow and browser tests).
# Each creates .venv and installs the project when it is missing or out of date.

PYTHON ?= python3
VENV   := .venv
PY     := $(VENV)/bin/python
STAMP  := $(VENV)/.installed-stamp
# Tests and CI read the public datasets from the shared folder beside the project.
export AUDIT_DATA_DIR ?= $(abspath ../shared/datasets)

.PHONY: install report lab test test-all lint-imports bench calibrate clean

install: $(STAMP)

$(STAMP): pyproject.toml
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e '.[dev]'
	touch $(STAMP)

report: $(STAMP)
	$(PY) -m audit report

# JupyterLab on the notebooks. Jupytext (installed with the project) reads the
# py:percent files as notebooks; the settings override, kept inside .venv (the
# user's own Jupyter settings are left alone), makes a double click open them
# as notebooks rather than as text.
LAB_SETTINGS := $(VENV)/share/jupyter/lab/settings
lab: $(STAMP)
	mkdir -p $(LAB_SETTINGS)
	printf '%s\n' '{"@jupyterlab/docmanager-extension:plugin": {"defaultViewers": {"python": "Jupytext Notebook"}}}' > $(LAB_SETTINGS)/overrides.json
	$(VENV)/bin/jupyter lab --notebook-dir=notebooks

# The fast suite: pyproject's addopts leave out tests marked slow or browser;
# it runs on every core (pytest-xdist), each test file kept on one worker so
# that its module fixtures are built once.
test: $(STAMP)
	$(PY) -m pytest -n auto --dist loadfile

# Everything, as CI runs it: -m "" replaces the fast suite's marker expression.
test-all: $(STAMP)
	$(PY) -m pytest -m ""

# The import rules of pyproject.toml alone (tests/test_layout.py runs them too).
lint-imports: $(STAMP)
	$(VENV)/bin/lint-imports

# Speed benchmarks beside the field's reference procedures (prints one table).
bench: $(STAMP)
	$(PY) -m pip install --quiet benford_py benfordslaw || echo "benchmark comparison packages not installed"
	$(PY) benchmarks/run.py

# The whole real-data calibration (clean elections, clean and rigged twins)
# on two processes; rewrites its rows in docs/calibration/ and the page
# docs/calibration.md (the simulated part is kept; redo it with
# `audit calibrate --part simulated --overwrite`).
calibrate: $(STAMP)
	$(PY) -m audit calibrate --part corpus --overwrite --jobs 2 --no-progress $(CALIBRATE_ARGS)

clean:
	rm -rf $(VENV) reports
