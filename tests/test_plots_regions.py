"""audit.plots.regions: small multiples on one shared colour scale."""

import numpy as np
import pandas as pd
import pytest
from matplotlib.collections import PathCollection, QuadMesh

from audit.plots.regions import plot_region_fingerprints, plot_region_scatter


def _grids():
    edges = np.linspace(0, 1, 11)
    a = np.zeros((10, 10))
    a[6, 5] = 40
    b = np.zeros((10, 10))
    b[9, 9] = 400                      # a dense corner in one region only
    return edges, {"North": a, "South": b, "East": a / 2}


def test_fingerprints_share_one_colour_scale():
    edges, grids = _grids()
    fig = plot_region_fingerprints(edges, grids, ncols=2)
    panels = [ax for ax in fig.axes if ax.get_title()]          # not the colour bar
    meshes = [c for ax in panels for c in ax.collections if isinstance(c, QuadMesh)]
    assert len(meshes) == 3
    norms = {(m.norm.vmin, m.norm.vmax) for m in meshes}
    assert norms == {(1, 400)}         # the largest cell of any region sets the top
    titles = [ax.get_title() for ax in fig.axes if ax.get_visible() and ax.get_title()]
    assert titles == ["North", "South", "East"]
    # the fourth panel of the 2 x 2 grid is hidden, not drawn empty
    assert sum(1 for ax in fig.axes if not ax.get_visible()) == 1


def test_scatter_draws_every_station_of_each_region():
    pts = pd.DataFrame({"region": ["A"] * 5 + ["B"] * 3,
                        "turnout": np.linspace(0.3, 0.9, 8), "share": np.linspace(0.2, 0.8, 8)})
    fig = plot_region_scatter(pts, ["B", "A"])
    drawn = [sum(len(c.get_offsets()) for c in ax.collections if isinstance(c, PathCollection))
             for ax in fig.axes if ax.get_visible()]
    assert drawn == [3, 5]
    assert all(ax.get_xlim() == (0, 1) for ax in fig.axes if ax.get_visible())


def test_nothing_to_draw_is_a_clear_error():
    with pytest.raises(ValueError, match="no region"):
        plot_region_scatter(pd.DataFrame(columns=["region", "turnout", "share"]), [])


def _text_boxes(fig):
    from matplotlib.backends.backend_agg import FigureCanvasAgg

    canvas = FigureCanvasAgg(fig)
    canvas.draw()
    renderer = canvas.get_renderer()
    boxes = []
    for ax in fig.axes:
        if not ax.get_visible():
            continue
        texts = [ax.title, ax.xaxis.label, ax.yaxis.label]
        texts += [t for t in ax.get_xticklabels() + ax.get_yticklabels()]
        for t in texts:
            if t.get_visible() and t.get_text():
                boxes.append((t.get_text(), t.get_window_extent(renderer)))
    return boxes


@pytest.mark.parametrize("n", [2, 12])
def test_no_text_overlaps_other_text(n):
    edges = np.linspace(0, 1, 11)
    grids = {f"Region with a long name number {i}": np.ones((10, 10)) for i in range(n)}
    fig = plot_region_fingerprints(edges, grids)
    boxes = _text_boxes(fig)
    clashes = [(a, b) for i, (a, ba) in enumerate(boxes) for b, bb in boxes[i + 1:]
               if ba.overlaps(bb)]
    assert clashes == []
