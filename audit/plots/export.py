"""House style and reproducible figure export.

Importing this module leaves matplotlib's backend alone, so a notebook keeps
its interactive one: the command line draws on :class:`matplotlib.figure.Figure`
objects that need no backend, and the report runs its notebooks with the
Agg backend (:mod:`audit.reporting.report`).
"""

from __future__ import annotations

import contextlib
import hashlib
import math
import os
import tempfile
from importlib import resources
from pathlib import Path

import matplotlib
import matplotlib.style

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


#: Family name of the house font: DejaVu Sans cut down to the Latin, Greek,
#: Cyrillic and symbol blocks (a font of about 100 kB instead of 750 kB), so
#: that embedding it in a PDF as editable text (Type 42) takes milliseconds.
HOUSE_FONT = "VoteAuditSans"
PNG_DPI = 300
_BLOCKS = ((0x20, 0x7E), (0xA0, 0x24F), (0x370, 0x3FF), (0x400, 0x4FF), (0x2000, 0x20CF),
           (0x2100, 0x21FF), (0x2200, 0x22FF), (0x25A0, 0x25FF))


def _build_house_font(source: Path, target: Path, family: str, style_name: str) -> None:
    from fontTools import subset
    from fontTools.ttLib import TTFont

    font = TTFont(str(source), recalcTimestamp=False, recalcBBoxes=False)
    options = subset.Options(glyph_names=True, recommended_glyphs=True, notdef_outline=True,
                             name_IDs=[0, 1, 2, 3, 4, 5, 6], name_languages=["*"])
    options.layout_features = []
    options.drop_tables += ["FFTM", "GSUB", "GPOS", "GDEF", "kern"]
    sub = subset.Subsetter(options=options)
    sub.populate(unicodes=[u for lo, hi in _BLOCKS for u in range(lo, hi + 1)])
    sub.subset(font)
    full = family if style_name == "Book" else f"{family} {style_name}"
    post = family if style_name == "Book" else f"{family}-{style_name}"
    for rec in font["name"].names:
        if rec.nameID in (1, 16):
            rec.string = family
        elif rec.nameID in (3, 4):
            rec.string = full
        elif rec.nameID == 6:
            rec.string = post
    fd, tmp = tempfile.mkstemp(dir=target.parent, prefix=".part-", suffix=".ttf")
    os.close(fd)
    try:
        font.save(tmp, reorderTables=True)
        os.replace(tmp, target)
    finally:
        if os.path.exists(tmp):
            os.unlink(tmp)


_HOUSE: dict = {}


def house_font() -> str | None:
    """Register the house font with matplotlib and return its family name
    (``None`` when it cannot be made: no fontTools, or no writable cache).

    Built once from matplotlib's own DejaVu Sans into matplotlib's cache
    folder and reused by every later process; the same DejaVu and fontTools
    versions give the same font bytes, so PDFs stay byte-reproducible.
    """
    if "family" in _HOUSE:
        return _HOUSE["family"]
    family = None
    try:
        import fontTools
        from matplotlib import font_manager

        folder = Path(matplotlib.get_cachedir()) / "vote-audit-fonts"
        folder.mkdir(parents=True, exist_ok=True)
        for style_name, fname in (("Book", "DejaVuSans.ttf"), ("Bold", "DejaVuSans-Bold.ttf")):
            source = Path(matplotlib.get_data_path()) / "fonts" / "ttf" / fname
            key = hashlib.sha256(source.read_bytes() + fontTools.version.encode()
                                 + repr(_BLOCKS).encode() + b"nolayout").hexdigest()[:12]
            target = folder / f"{HOUSE_FONT}-{style_name}-{key}.ttf"
            if not target.is_file():
                _build_house_font(source, target, HOUSE_FONT, style_name)
            font_manager.fontManager.addfont(str(target))
        family = HOUSE_FONT
    except Exception:  # any failure: the style falls back to DejaVu Sans
        family = None
    _HOUSE["family"] = family
    return family


@contextlib.contextmanager
def style():
    """Apply the house style inside a ``with`` block (never on import)."""
    with matplotlib.style.context(str(style_path())):
        family = house_font()
        if family is not None:
            with matplotlib.rc_context({"font.family": [family, "DejaVu Sans", "sans-serif"]}):
                yield
        else:
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
    >>> import matplotlib.pyplot as plt
    >>> fig, ax = plt.subplots()
    >>> _ = ax.plot([1, 2, 3])
    >>> with tempfile.TemporaryDirectory() as tmp:
    ...     paths = save_figure(fig, tmp, "line", provenance={"seed": 1})
    ...     b"Description" in paths["png"].read_bytes()
    True
    >>> plt.close(fig)
    """
    from ..core.outputs import OutputFolder, safe_path, write_bytes

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
    data = figure_bytes(fig, formats=formats, provenance=provenance)
    return {fmt: write(f"{name}.{fmt}", blob) for fmt, blob in data.items()}


def figure_bytes(fig, *, formats=FORMATS, provenance=None,
                 axes_boxes=None) -> dict[str, bytes]:
    """The bytes :func:`save_figure` writes, format by format (nothing is
    written; used to draw figures in worker processes).

    ``axes_boxes``: the tight boxes of every visible Axes, in pixels, when
    the caller has them and has not changed the Axes since (the figure
    drawers of ``audit run`` get them from placing the caption); the
    figure's tight box is then their union with its other artists' boxes,
    as matplotlib computes it, without laying out every Axes again."""
    import io

    from ..core.outputs import provenance_text

    unknown = [f for f in formats if f not in FORMATS]
    if unknown:
        raise ValueError(f"formats must be among {', '.join(FORMATS)}, got {unknown[0]!r}")
    note = None
    if provenance is not None:
        note = provenance if isinstance(provenance, str) else provenance_text(provenance)
    out = {}
    with matplotlib.rc_context({"svg.hashsalt": "vote-audit", "svg.fonttype": "none",
                                "pdf.fonttype": 42}):
        bbox = None
        if matplotlib.rcParams["savefig.bbox"] == "tight" and len(formats) > 1:
            # the tight box once for all formats, not once per format
            # (savefig would draw the whole figure an extra time for each)
            bbox = (fig.get_tightbbox() if axes_boxes is None
                    else _tight_box(fig, axes_boxes))
            bbox = bbox.padded(matplotlib.rcParams["savefig.pad_inches"])
        for fmt in formats:
            metadata = dict(_METADATA[fmt])
            if note is not None:
                metadata[_PROVENANCE_KEY[fmt]] = note
            buf = io.BytesIO()
            extra = {"dpi": PNG_DPI} if fmt == "png" else {}
            if bbox is not None:
                extra["bbox_inches"] = bbox
            fig.savefig(buf, format=fmt, metadata=metadata, **extra)
            out[fmt] = buf.getvalue()
    return out


def _tight_box(fig, axes_boxes):
    """``fig.get_tightbbox()`` (in inches) from the Axes' tight boxes already
    computed (pixels) and the boxes of the figure's other artists."""
    from matplotlib.transforms import Bbox, TransformedBbox

    renderer = fig._get_renderer()
    boxes = list(axes_boxes)
    for artist in fig.get_children():
        if artist in fig.axes or not (artist.get_visible() and artist.get_in_layout()):
            continue
        box = artist.get_tightbbox(renderer)
        if box is not None:
            boxes.append(box)
    boxes = [b for b in boxes if math.isfinite(b.width) and math.isfinite(b.height)
             and (b.width != 0 or b.height != 0)]
    if not boxes:
        return fig.bbox_inches
    return TransformedBbox(Bbox.union(boxes), fig.dpi_scale_trans.inverted())
