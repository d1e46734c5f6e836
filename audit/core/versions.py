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


#: The libraries whose versions every output records (results depend on them).
LIBRARIES = ("numpy", "pandas", "scipy", "matplotlib")
#: The reports also rest on these (notebook execution and HTML export).
REPORT_LIBRARIES = LIBRARIES + ("papermill", "nbconvert", "jupytext")


def installed_version(package: str) -> str | None:
    """The installed version of ``package`` (a distribution name), or None."""
    import importlib.metadata

    try:
        return importlib.metadata.version(package)
    except importlib.metadata.PackageNotFoundError:
        return None


def software_versions() -> dict:
    """Versions of Python, this package, the libraries results depend on and
    the station readers (``reader_version``)."""
    import platform

    from .. import __version__

    versions = {"vote-audit": __version__, "python": platform.python_version()}
    for pkg in LIBRARIES:
        versions[pkg] = installed_version(pkg)
    versions["reader_version"] = READER_VERSION
    return versions


def report_versions() -> list[tuple[str, str]]:
    """(package, version) of Python, the installed vote-audit and the
    libraries the reports rest on, as the reports' versions table shows them."""
    import platform

    return [("python", platform.python_version())] + [
        (pkg, installed_version(pkg) or "not installed")
        for pkg in ("vote-audit",) + REPORT_LIBRARIES]
