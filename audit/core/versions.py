"""Versions recorded in every output: this package, Python, the libraries
results depend on, and the station readers.

>>> sorted(software_versions())[:3]
['matplotlib', 'numpy', 'pandas']
"""

from __future__ import annotations

#: Bumped whenever a reader changes what it returns for the same bytes.
#: 2: blank rows listed as excluded, duplicate-station details say whether
#: the rows are identical, ``cast_exceeds_registered`` finding, new source keys.
READER_VERSION = 2


def software_versions() -> dict:
    """Versions of Python, this package, the libraries results depend on and
    the station readers (``reader_version``)."""
    import importlib.metadata
    import platform

    from .. import __version__

    versions = {"vote-audit": __version__, "python": platform.python_version()}
    for pkg in ("numpy", "pandas", "scipy", "matplotlib"):
        try:
            versions[pkg] = importlib.metadata.version(pkg)
        except importlib.metadata.PackageNotFoundError:
            versions[pkg] = None
    versions["reader_version"] = READER_VERSION
    return versions
