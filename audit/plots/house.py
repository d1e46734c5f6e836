"""The figure house style: palette, human names, figure numbers, captions
and source lines, and the font the PDFs embed.

Every figure the project draws (reports, ``audit run``, notebooks) goes
through the same steps::

    with style():                       # rcParams of vote_audit.mplstyle
        fig = Figure()
        ax = fig.subplots()
        plot_something(result, ax=ax)   # human axis labels, Okabe-Ito colours
        finish(fig, number=3, caption="...", source=source_line(prov))
        save_figure(fig, folder, "name")

Nothing here computes a statistic; the names come from ``names.csv`` (a
small table shipped beside this module: the CEC option names in Russian
with their English names, and the canonical column names with the axis
labels a reader expects).
"""

from __future__ import annotations

import csv
import functools
import re
import textwrap
from importlib import resources
from pathlib import Path

#: Okabe & Ito (2008) colour-blind-safe palette, in the order the style
#: cycles through it (black last: it is kept for reference lines).
OKABE_ITO = {"blue": "#0072B2", "orange": "#E69F00", "bluish green": "#009E73",
             "vermillion": "#D55E00", "sky blue": "#56B4E9", "reddish purple": "#CC79A7",
             "yellow": "#F0E442", "black": "#000000"}
#: Grey for context (descriptive tests, bins outside a test).
GREY = "#999999"
#: Sequential colour map for counts (perceptually uniform, colour-blind safe).
SEQUENTIAL_CMAP = "cividis"

# Cyrillic to Latin, after the BGN/PCGN romanisation of Russian and Ukrainian
# (simplified: no diacritics, so the result is plain ASCII).
_CYRILLIC = dict(zip(
    "абвгдеёжзийклмнопрстуфхцчшщъыьэюяіїєґ",
    ["a", "b", "v", "g", "d", "e", "e", "zh", "z", "i", "y", "k", "l", "m", "n", "o",
     "p", "r", "s", "t", "u", "f", "kh", "ts", "ch", "sh", "shch", "", "y", "", "e",
     "yu", "ya", "i", "yi", "ye", "g"]))

_PUNCTUATION = {"\u2013": "-", "\u2014": "-", "\u00ab": '"', "\u00bb": '"',
                "\u201c": '"', "\u201d": '"', "\u2019": "'", "\u00a0": " "}


def transliterate(text: str) -> str:
    """Latin letters for Cyrillic text (BGN/PCGN without diacritics).

    >>> transliterate("Харитонов Николай")
    'Kharitonov Nikolay'
    """
    out = []
    for ch in str(text):
        low = ch.lower()
        if low in _CYRILLIC:
            lat = _CYRILLIC[low]
            out.append(lat.capitalize() if ch != low and lat else lat)
        else:
            out.append(_PUNCTUATION.get(ch, ch))
    return "".join(out)


def ascii_name(text: str, *, limit: int = 80) -> str:
    """A file stem any system shows whole: transliterated, ASCII letters,
    digits, ``-`` and ``_`` only, at most ``limit`` characters.

    >>> ascii_name("Путин Владимир / 2024")
    'Putin_Vladimir_2024'
    """
    latin = transliterate(text).encode("ascii", "ignore").decode()
    stem = re.sub(r"[^A-Za-z0-9_-]+", "_", latin).strip("_")
    return stem[:limit].rstrip("_") or "figure"


@functools.lru_cache(maxsize=1)
def _names() -> dict:
    table: dict[str, dict[str, str]] = {}
    path = resources.files("audit.plots") / "names.csv"
    with path.open(encoding="utf-8", newline="") as fh:
        for row in csv.DictReader(fh):
            table.setdefault(row["kind"], {})[row["source"]] = row["english"]
    return table


def option_name(name: str) -> str:
    """The English name of an option or candidate: from ``names.csv``, else
    the name transliterated.

    >>> option_name("ДА"), option_name("Иванов Иван")
    ('Yes', 'Ivanov Ivan')
    """
    return _names().get("option", {}).get(str(name)) or transliterate(name)


def column_label(column: str) -> str:
    """The axis label of a table column: ``turnout_lo`` -> ``Turnout (%)``,
    ``center`` -> ``Percentage (bin centre)``; unknown names lose their
    underscores and get a capital.

    >>> column_label("share_lo"), column_label("ballots_cast")
    ("Leader's share (%)", 'Ballots cast')
    """
    col = str(column)
    names = _names().get("column", {})
    if col in names:
        return names[col]
    for end in ("_lo", "_hi"):
        if col.endswith(end) and col[:-3] in names:
            return names[col[:-3]]
    text = transliterate(col).replace("_", " ").strip()
    return text[:1].upper() + text[1:]


def human_test_name(test: str) -> str:
    """A registered test's name as words: ``last_two_repeat`` -> ``Last two repeat``."""
    text = str(test).replace("_", " ")
    return text[:1].upper() + text[1:]


def source_line(provenance: dict | None, *, title: str | None = None) -> str:
    """One line naming what a figure rests on: the data (its human name when
    given, the file name transliterated, the sha256 prefix) and the package
    version.

    >>> source_line({"inputs": [{"path": "ru-cik/2020.csv.zip", "dataset":
    ...     "ru-cik/2020.csv.zip", "sha256": "1ec41f7065133142"}],
    ...     "software": {"vote-audit": "0.1.0"}}, title="Russia 2020 vote")
    'Source: Russia 2020 vote (ru-cik/2020.csv.zip, sha256 1ec41f70). vote-audit 0.1.0.'
    """
    from .. import __version__

    prov = provenance or {}
    parts = []
    for rec in prov.get("inputs", [])[:1]:
        name = rec.get("dataset") or Path(str(rec.get("path", ""))).name
        digest = (rec.get("sha256") or "")[:8]
        inner = ", ".join(p for p in (transliterate(name),
                                      f"sha256 {digest}" if digest else "") if p)
        parts.append(f"{title} ({inner})" if title else inner)
    version = prov.get("software", {}).get("vote-audit", __version__)
    data = "; ".join(parts) if parts else "data not recorded"
    return f"Source: {data}. vote-audit {version}."


def finish(fig, *, number=None, caption: str = "", source: str = ""):
    """Put the figure number, caption and source line under the figure.

    The text is placed below everything already drawn (tick labels, axis
    labels, colour bars), wrapped to the figure's width, so it overlaps
    nothing; ``savefig(bbox_inches="tight")`` (the house style) keeps it.

    Parameters
    ----------
    fig : matplotlib.figure.Figure
    number : int or str, optional
        Printed as ``Figure <number>.`` before the caption.
    caption : str
    source : str
        Usually :func:`source_line`.

    Returns
    -------
    list of matplotlib.text.Text
        The texts added.
    """
    return finish_boxes(fig, number=number, caption=caption, source=source)[0]


def finish_boxes(fig, *, number=None, caption: str = "", source: str = ""):
    """:func:`finish`, also returning the tight boxes of the Axes (in
    pixels) it placed the text under: :func:`audit.plots.export.figure_bytes`
    can reuse them for the figure's tight box when nothing else changed."""
    lines = []
    head = f"Figure {number}. " if number is not None else ""
    width_chars = max(40, int(fig.get_figwidth() * 72 / (8.5 * 0.55)))
    if head or caption:
        lines.append(("\n".join(textwrap.wrap(head + caption, width_chars)) or head.strip(),
                      8.5, "0.1"))
    if source:
        lines.append(("\n".join(textwrap.wrap(source, int(width_chars * 1.1))), 7.5, "0.35"))
    if not lines:
        return [], None
    boxes = [a.get_tightbbox() for a in fig.axes if a.get_visible()]
    boxes = [b for b in boxes if b is not None]
    dpi = fig.dpi
    bottom = min((b.y0 for b in boxes), default=0.0) / (fig.get_figheight() * dpi)
    left = min((b.x0 for b in boxes), default=0.0) / (fig.get_figwidth() * dpi)
    texts = []
    y = bottom - 8 / 72 / fig.get_figheight()
    for text, size, colour in lines:
        t = fig.text(max(left, 0.0), y, text, ha="left", va="top", fontsize=size,
                     color=colour, linespacing=1.3)
        texts.append(t)
        n_lines = text.count("\n") + 1
        y -= (n_lines * size * 1.3 + 4) / 72 / fig.get_figheight()
    return texts, boxes


def outside_legend(ax, **kwargs):
    """The house legend: outside the Axes on the right, so it covers no data.

    Draws nothing (and returns None) when no artist has a label, so no
    legend ever lists something that is not drawn.
    """
    handles, labels = ax.get_legend_handles_labels()
    if not handles:
        return None
    options = {"loc": "upper left", "bbox_to_anchor": (1.02, 1.0), "borderaxespad": 0.0}
    options.update(kwargs)
    return ax.legend(handles, labels, **options)


def format_p(p, *, adjusted: str = "Holm") -> str:
    """An adjusted p-value for a title: a bound below 0.001, never 0.

    >>> format_p(3e-12), format_p(0.0312), format_p(float("nan"))
    ('Holm-adjusted p < 0.001', 'Holm-adjusted p = 0.031', 'no p-value')
    """
    try:
        p = float(p)
    except (TypeError, ValueError):
        return "no p-value"
    if not p == p:  # NaN
        return "no p-value"
    prefix = f"{adjusted}-adjusted p" if adjusted else "p"
    if p < 0.001:
        return f"{prefix} < 0.001"
    return f"{prefix} = {p:.3f}" if p < 0.995 else f"{prefix} > 0.99"
