"""Where the bundled files are: ``data/``, ``seeds/`` and ``notebooks/``.

In the source tree these folders sit at the top of the project, beside
``audit/``.  A wheel carries copies of them inside the package, under
``audit/_bundled/`` (the build step in ``setup.py`` puts them there), and
:func:`root` finds them through :mod:`importlib.resources`.  Everything else
asks this module, so the same relative paths (``data/datapackage.json``,
``notebooks/01-referenda-2022.py``) name the same files in a checkout, an
editable install and an installed wheel, and the provenance recorded in
reports does not depend on how the package was installed.

>>> (root() / "data" / "datapackage.json").is_file()
True
"""

from __future__ import annotations

import functools
from importlib import resources
from pathlib import Path

#: The top-level folders that ship with the package.
BUNDLED = ("data", "seeds", "notebooks")

#: Their folder inside an installed package.
PACKAGE_FOLDER = "_bundled"

_PACKAGE = __name__.split(".")[0]


def _installed() -> Path | None:
    """The copy inside the installed package, when there is one."""
    try:
        folder = resources.files(_PACKAGE) / PACKAGE_FOLDER
    except (ModuleNotFoundError, TypeError):
        return None
    if not isinstance(folder, Path):     # a zipped install: not supported
        return None
    return folder if (folder / "data" / "datapackage.json").is_file() else None


def _checkout() -> Path:
    """The project folder of a source checkout (the parent of ``audit/``)."""
    return Path(__file__).resolve().parents[2]


@functools.lru_cache(maxsize=None)
def root() -> Path:
    """The folder that holds ``data/``, ``seeds/`` and ``notebooks/``.

    The copy inside an installed package when there is one, otherwise the
    top of the source checkout (editable installs and ``PYTHONPATH`` runs).
    Paths under it are what reports record as their inputs.
    """
    installed = _installed()
    return installed.resolve() if installed is not None else _checkout()


def path(*parts: str) -> Path:
    """A bundled file or folder, e.g. ``path("seeds", "claims.yaml")``."""
    if not parts or parts[0] not in BUNDLED:
        raise ValueError(f"path: the first part must be one of {', '.join(BUNDLED)}, "
                         f"got {parts[0] if parts else 'nothing'!r}")
    return root().joinpath(*parts)
