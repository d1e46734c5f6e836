"""House style and reproducible figure export.

Importing this module leaves matplotlib's backend alone, so a notebook keeps
its interactive one: the command line draws on :class:`matplotlib.figure.Figure`
objects that need no backend, and the report runs its notebooks with the
Agg backend (:mod:`audit.reporting.report`).
"""

from __future__ import annotations

import contextlib
from importlib import resources
from pathlib import Path

import matplotlib.pyplot as plt

FORMATS = ("svg", "pdf", "png")
# No timestamps or software strings that change between versions or runs.
_METADATA = {
    "svg": {"Date": None, "Creator": None},
    "pdf": {"CreationDate": None, "ModDate": None, "Producer": None, "Creator": None},
    "png": {"Software": None},
}
# Where each format keeps the provenance text.
_PROVENANCE_KEY = {"svg": "Description", "pdf": "Subject", "png": "Description"}


def style_path() -> Path:
    """Path of the packaged ``.mplstyle`` file."""
    return Path(resources.files("audit.plots") / "vote_audit.mplstyle")


@contextlib.contextmanager
def style():
    """Apply the house style inside a ``with`` block (never on import)."""
    with plt.style.context(str(style_path())):
        yield


def save_figure(fig, folder, name: str, *, formats=FORMATS,
                provenance=None) -> dict[str, Path]:
    """Write ``fig`` as SVG, PDF and PNG under ``folder`` with stable bytes.

    The same figure gives the same bytes on every run: SVG ids are salted
    with a fixed string, no format carries a date or a software string, and
    the provenance (when given) is stored the same way every time.

    Parameters
    ----------
    fig : matplotlib.figure.Figure
    folder : path-like or audit.core.outputs.OutputFolder
        Created if missing. An :class:`~audit.core.outputs.OutputFolder` also
        checks that no input is overwritten and lists the files in its
        manifest.
    name : str
        File stem; must be a plain name (no folders, no ``..``, not hidden),
        see :func:`audit.core.outputs.safe_path`.
    formats : tuple of str
        Any of ``"svg"``, ``"pdf"``, ``"png"``.
    provenance : dict or str, optional
        What the figure rests on (see :func:`audit.core.outputs.provenance`),
        stored as one line of ASCII JSON in the SVG ``<dc:description>``,
        the PDF ``Subject`` and the PNG ``Description`` text chunk.

    Returns
    -------
    dict
        Format -> path written.

    Examples
    --------
    >>> import tempfile
    >>> fig, ax = plt.subplots()
    >>> _ = ax.plot([1, 2, 3])
    >>> with tempfile.TemporaryDirectory() as tmp:
    ...     paths = save_figure(fig, tmp, "line", provenance={"seed": 1})
    ...     b"Description" in paths["png"].read_bytes()
    True
    >>> plt.close(fig)
    """
    import io

    from ..core.outputs import OutputFolder, provenance_text, safe_path, write_bytes

    unknown = [f for f in formats if f not in FORMATS]
    if unknown:
        raise ValueError(f"formats must be among {', '.join(FORMATS)}, got {unknown[0]!r}")
    if isinstance(folder, OutputFolder):
        base, write = folder.path, folder.write_bytes
    else:
        base = Path(folder)

        def write(filename, data):
            return write_bytes(safe_path(base, filename), data)

    safe_path(base, name)
    note = None
    if provenance is not None:
        note = provenance if isinstance(provenance, str) else provenance_text(provenance)
    written = {}
    with plt.rc_context({"svg.hashsalt": "vote-audit", "svg.fonttype": "none",
                         "pdf.fonttype": 42}):
        for fmt in formats:
            metadata = dict(_METADATA[fmt])
            if note is not None:
                metadata[_PROVENANCE_KEY[fmt]] = note
            buf = io.BytesIO()
            fig.savefig(buf, format=fmt, metadata=metadata)
            written[fmt] = write(f"{name}.{fmt}", buf.getvalue())
    return written
