"""Build step: ship the top-level ``data/``, ``seeds/`` and ``notebooks/``.

Everything else about the package is in ``pyproject.toml``.  The three
folders stay at the top of the project (where observers and the tests read
them); a wheel gets a copy of each under ``audit/_bundled/``, where
:mod:`audit.core.resources` finds them.  Editable installs read the checkout
itself, so they get no copy.
"""

import os

from setuptools import setup
from setuptools.command.build_py import build_py

BUNDLED = ("data", "seeds", "notebooks")
TARGET = os.path.join("audit", "_bundled")
SKIP_DIRS = {"__pycache__", ".ipynb_checkpoints"}
SKIP_SUFFIXES = (".pyc", ".pyo", ".ipynb")


def _bundled_files(here):
    """(source, relative destination) for every file of the bundled folders."""
    for name in BUNDLED:
        for folder, dirs, files in os.walk(os.path.join(here, name)):
            dirs[:] = sorted(d for d in dirs if d not in SKIP_DIRS and not d.startswith("."))
            for file in sorted(files):
                if file.startswith(".") or file.endswith(SKIP_SUFFIXES):
                    continue
                src = os.path.join(folder, file)
                yield src, os.path.join(TARGET, os.path.relpath(src, here))


class BuildPyWithBundle(build_py):
    """``build_py`` that also copies the bundled folders into the package."""

    def _bundle(self):
        if getattr(self, "editable_mode", False):
            return []
        here = os.path.dirname(os.path.abspath(__file__))
        return [(src, os.path.join(self.build_lib, dst)) for src, dst in _bundled_files(here)]

    def run(self):
        super().run()
        for src, dst in self._bundle():
            self.mkpath(os.path.dirname(dst))
            self.copy_file(src, dst, preserve_mode=False)

    def get_outputs(self, *args, **kwargs):
        return list(super().get_outputs(*args, **kwargs)) + [dst for _, dst in self._bundle()]


setup(cmdclass={"build_py": BuildPyWithBundle})
