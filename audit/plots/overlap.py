"""Find text that overlaps other text or the plotted data, from the boxes
matplotlib renders.

:func:`find_overlaps` draws a figure and compares, in display pixels:

* every visible text (titles, axis and tick labels that are drawn, legend
  entries, annotations, captions) with every other text;
* every text and every legend with the data artists of each Axes: lines
  (as drawn paths, markers included), bars and other patches, scatter
  points, line collections (error bars), filled areas and the filled cells
  of colour meshes.

The tests run it on every figure the project draws. It judges geometry
only; it does not read what the figure says.
"""

from __future__ import annotations

import numpy as np
from matplotlib.collections import LineCollection, PathCollection, PolyCollection, QuadMesh
from matplotlib.legend import Legend
from matplotlib.lines import Line2D
from matplotlib.patches import Rectangle
from matplotlib.text import Text
from matplotlib.transforms import Bbox

__all__ = ["find_overlaps"]


def _renderer(fig):
    canvas = fig.canvas
    if not hasattr(canvas, "get_renderer"):
        from matplotlib.backends.backend_agg import FigureCanvasAgg

        canvas = FigureCanvasAgg(fig)
    canvas.draw()
    return canvas.get_renderer()


def _drawn_tick_labels(ax):
    labels = []
    for axis in (ax.xaxis, ax.yaxis):
        try:
            ticks = axis._update_ticks()       # the ticks matplotlib draws
        except AttributeError:                  # pragma: no cover (older matplotlib)
            ticks = axis.get_major_ticks() + axis.get_minor_ticks()
        for tick in ticks:
            labels += [t for t in (tick.label1, tick.label2) if t.get_visible()]
    return labels


def _texts(fig):
    """Visible, non-empty texts that are drawn, each with a name."""
    tick_owned = set()
    drawn_ticks = []
    for ax in fig.axes:
        for axis in (ax.xaxis, ax.yaxis):
            for tick in axis.get_major_ticks() + axis.get_minor_ticks():
                tick_owned.update((id(tick.label1), id(tick.label2)))
        drawn_ticks += _drawn_tick_labels(ax)
    texts = []
    for t in fig.findobj(Text):
        if id(t) in tick_owned or not t.get_visible() or not t.get_text().strip():
            continue
        if not _visible_chain(t):
            continue
        texts.append(t)
    texts += [t for t in drawn_ticks if t.get_text().strip()]
    seen, unique = set(), []
    for t in texts:
        if id(t) not in seen:
            seen.add(id(t))
            unique.append(t)
    return unique


def _visible_chain(artist):
    node = artist
    while node is not None:
        if not node.get_visible():
            return False
        node = getattr(node, "axes", None) if node is not getattr(node, "axes", None) else None
    return True


def _name(t) -> str:
    text = t.get_text().replace("\n", " ")
    return repr(text if len(text) <= 40 else text[:37] + "...")


def _shrunk(bbox, pad):
    return Bbox.from_extents(bbox.x0 + pad, bbox.y0 + pad, bbox.x1 - pad, bbox.y1 - pad)


def _data_hits(ax, box, renderer, pad) -> list[str]:
    """Data artists of ``ax`` that enter ``box`` (display pixels)."""
    clip = ax.bbox
    inner = Bbox.intersection(box, clip)
    if inner is None or inner.width <= 0 or inner.height <= 0:
        return []
    hits = []
    for line in ax.get_lines():
        if not line.get_visible() or line.get_label().startswith("_gridline"):
            continue
        xy = line.get_transform().transform(line.get_xydata()) if len(line.get_xydata()) \
            else np.zeros((0, 2))
        if not len(xy):
            continue
        if line.get_linestyle() not in ("None", "none", " ", ""):
            path = line._get_transformed_path().get_fully_transformed_path()
            if path.intersects_bbox(inner, filled=False):
                hits.append(f"line {line.get_label()!r}")
                continue
        if line.get_marker() not in (None, "None", "none", "", " "):
            r = line.get_markersize() * renderer.points_to_pixels(1.0) / 2
            grown = Bbox.from_extents(inner.x0 - r, inner.y0 - r, inner.x1 + r, inner.y1 + r)
            ok = np.isfinite(xy).all(axis=1)
            if np.any(ok & (xy[:, 0] > grown.x0) & (xy[:, 0] < grown.x1)
                      & (xy[:, 1] > grown.y0) & (xy[:, 1] < grown.y1)):
                hits.append(f"markers of {line.get_label()!r}")
    for patch in ax.patches:
        if not patch.get_visible() or patch is ax.patch:
            continue
        if isinstance(patch, Rectangle) and (patch.get_width() == 0 or patch.get_height() == 0):
            continue
        ext = patch.get_window_extent(renderer)
        if ext.overlaps(inner):
            hits.append(f"patch {patch.get_label()!r}")
    for coll in ax.collections:
        if not coll.get_visible():
            continue
        if isinstance(coll, QuadMesh):
            if _mesh_hits(coll, inner):
                hits.append("colour mesh cells")
        elif isinstance(coll, PathCollection):
            offsets = coll.get_offsets()
            if len(offsets) == 0:
                continue
            xy = coll.get_offset_transform().transform(np.asarray(offsets, float))
            sizes = coll.get_sizes()
            r = np.sqrt(sizes.max() if len(sizes) else 36.0) * renderer.points_to_pixels(1) / 2
            ok = np.isfinite(xy).all(axis=1)
            if np.any(ok & (xy[:, 0] > inner.x0 - r) & (xy[:, 0] < inner.x1 + r)
                      & (xy[:, 1] > inner.y0 - r) & (xy[:, 1] < inner.y1 + r)):
                hits.append(f"points {coll.get_label()!r}")
        elif isinstance(coll, (LineCollection, PolyCollection)):
            filled = isinstance(coll, PolyCollection) and not isinstance(coll, LineCollection)
            transform = coll.get_transform()
            for path in coll.get_paths():
                if transform.transform_path(path).intersects_bbox(inner, filled=filled):
                    hits.append(f"{type(coll).__name__} {coll.get_label()!r}")
                    break
    return hits


def _mesh_hits(mesh, box) -> bool:
    coords = mesh.get_coordinates()
    xy = mesh.get_transform().transform(coords.reshape(-1, 2)).reshape(coords.shape)
    arr = np.ma.asarray(mesh.get_array())
    filled = ~np.ma.getmaskarray(arr).reshape(xy.shape[0] - 1, xy.shape[1] - 1)
    filled &= np.isfinite(np.ma.filled(arr.astype(float), np.nan)).reshape(filled.shape)
    x0 = np.minimum(xy[:-1, :-1, 0], xy[1:, 1:, 0])
    x1 = np.maximum(xy[:-1, :-1, 0], xy[1:, 1:, 0])
    y0 = np.minimum(xy[:-1, :-1, 1], xy[1:, 1:, 1])
    y1 = np.maximum(xy[:-1, :-1, 1], xy[1:, 1:, 1])
    inside = (x1 > box.x0) & (x0 < box.x1) & (y1 > box.y0) & (y0 < box.y1)
    return bool(np.any(inside & filled))


def find_overlaps(fig, *, pad: float = 1.0) -> list[str]:
    """Every overlap of text with text, and of text or legend with data.

    Parameters
    ----------
    fig : matplotlib.figure.Figure
        Drawn here with the Agg renderer (a figure made with pyplot keeps its
        own canvas when it has a renderer).
    pad : float, default 1.0
        Pixels taken off each side of a box before comparing, so that boxes
        that only touch do not count.

    Returns
    -------
    list of str
        One line per overlap, empty when there is none.

    Examples
    --------
    >>> from matplotlib.figure import Figure
    >>> fig = Figure()
    >>> ax = fig.subplots()
    >>> _ = ax.plot([0, 1], [0, 1])
    >>> _ = ax.text(0.5, 0.5, "on the line")
    >>> find_overlaps(fig)
    ["text 'on the line' covers data: line '_child0'"]
    """
    renderer = _renderer(fig)
    texts = _texts(fig)
    boxes = [_shrunk(t.get_window_extent(renderer), pad) for t in texts]
    found = []
    for i in range(len(texts)):
        for j in range(i + 1, len(texts)):
            if boxes[i].width > 0 and boxes[j].width > 0 and boxes[i].overlaps(boxes[j]):
                found.append(f"text {_name(texts[i])} overlaps text {_name(texts[j])}")
    legends = [a for a in fig.findobj(Legend) if a.get_visible()]
    legend_texts = {id(t) for lg in legends for t in lg.get_texts()}
    legend_texts |= {id(lg.get_title()) for lg in legends}
    for t, box in zip(texts, boxes):
        if id(t) in legend_texts or box.width <= 0 or box.height <= 0:
            continue
        for ax in fig.axes:
            hits = _data_hits(ax, box, renderer, pad)
            if hits:
                found.append(f"text {_name(t)} covers data: {', '.join(hits)}")
    for lg in legends:
        box = _shrunk(lg.get_window_extent(renderer), pad)
        for ax in fig.axes:
            hits = _data_hits(ax, box, renderer, pad)
            if hits:
                found.append(f"legend covers data: {', '.join(hits)}")
    return found
