"""House style and reproducible figure export."""

from __future__ import annotations

import contextlib
from importlib import resources
from pathlib import Path

import matplotlib

matplotlib.use("Agg", force=False)
import matplotlib.pyplot as plt  # noqa: E402

FORMATS = ("svg", "pdf", "png")
# No timestamps or software strings that change between versions or runs.
_METADATA = {
    "svg": {"Date": None, "Creator": None},
    "pdf": {"CreationDate": None, "ModDate": None, "Producer": None, "Creator": None},
    "png": {"Software": None},
}


def style_path() -> Path:
    """Path of the packaged ``.mplstyle`` file."""
    return Path(resources.files("audit.plots") / "vote_audit.mplstyle")


@contextlib.contextmanager
def style():
    """Apply the house style inside a ``with`` block (never on import)."""
    with plt.style.context(str(style_path())):
        yield


def save_figure(fig, folder, name: str, *, formats=FORMATS) -> dict[str, Path]:
    """Write ``fig`` as SVG, PDF and PNG under ``folder`` with stable bytes.

    The same figure gives the same bytes on every run: SVG ids are salted
    with a fixed string and no format carries a date.

    Parameters
    ----------
    fig : matplotlib.figure.Figure
    folder : path-like
        Created if missing.
    name : str
        File stem; must be a plain name (no folders, no ``..``).

    Returns
    -------
    dict
        Format -> path written.
    """
    if not name or Path(name).name != name or name.startswith("."):
        raise ValueError(f"name must be a plain file stem, got {name!r}")
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    written = {}
    with plt.rc_context({"svg.hashsalt": "vote-audit", "svg.fonttype": "none",
                         "pdf.fonttype": 42}):
        for fmt in formats:
            path = folder / f"{name}.{fmt}"
            fig.savefig(path, format=fmt, metadata=_METADATA[fmt])
            written[fmt] = path
    return written
