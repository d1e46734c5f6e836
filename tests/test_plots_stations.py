"""Tests of audit.plots.stations: the plots draw the test's table."""

from __future__ import annotations

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pytest  # noqa: E402

from audit.stations.forensics import digits as D  # noqa: E402
from audit.stations.forensics.integer_percentages import integer_percentages  # noqa: E402
from audit.plots import save_figure  # noqa: E402
from audit.plots.stations import plot_digits, plot_integer_percentages  # noqa: E402


@pytest.fixture(scope="module")
def ip_result():
    rng = np.random.default_rng(0)
    registered = rng.integers(1000, 3000, size=800)
    issued = rng.binomial(registered, 0.6)
    issued[:100] = np.round(0.7 * registered[:100])
    leader = rng.binomial(issued, 0.55)
    return integer_percentages(registered, issued, issued, leader)


def test_integer_histogram_draws_the_table(ip_result):
    ax = plot_integer_percentages(ip_result, "turnout")
    lines = ax.get_lines()
    t = ip_result.table[ip_result.table["quantity"] == "turnout"]
    # the step line carries every fine bin of the table, unchanged
    step = lines[0]
    assert np.array_equal(step.get_ydata(), t["observed"].to_numpy())
    observed_dots = [ln for ln in lines if ln.get_label() == "observed at round values"][0]
    at70 = np.isclose(observed_dots.get_xdata(), 70.0)
    assert observed_dots.get_ydata()[at70][0] == t.loc[
        np.isclose(t["center"], 70.0), "observed"].iloc[0]
    assert "excess" in ax.get_title(loc="left")
    plt.close(ax.figure)


def test_integer_histogram_on_given_axes_and_leader(ip_result):
    fig, (a1, a2) = plt.subplots(1, 2)
    assert plot_integer_percentages(ip_result, "leader", ax=a2, xlim=(40, 70)) is a2
    assert a2.get_xlim() == (40, 70)
    plt.close(fig)


def test_digit_bars_draw_the_table():
    rng = np.random.default_rng(1)
    res = D.last_digit(rng.binomial(rng.integers(500, 3000, 2000), 0.4))
    ax = plot_digits(res)
    heights = [p.get_height() for p in ax.patches]
    assert np.allclose(heights, res.table["observed_share"])
    ax2 = plot_digits(D.count_05(rng.integers(100, 999, 500)), share=False)
    assert [t.get_text() for t in ax2.get_xticklabels()] == ["ends in 0 or 5", "other"]
    plt.close("all")


def test_export_is_byte_stable(ip_result, tmp_path):
    paths = []
    for run in range(2):
        ax = plot_integer_percentages(ip_result)
        paths.append(save_figure(ax.figure, tmp_path / str(run), "ip",
                                 formats=("svg",))["svg"])
        plt.close(ax.figure)
    assert paths[0].read_bytes() == paths[1].read_bytes()


def test_wrong_input_is_rejected(ip_result):
    with pytest.raises(ValueError, match="quantity must be"):
        plot_integer_percentages(ip_result, "votes")
    rng = np.random.default_rng(2)
    res = D.last_digit(rng.integers(100, 999, 500))
    with pytest.raises(ValueError, match="lacks column"):
        plot_integer_percentages(res)
