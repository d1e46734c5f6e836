"""Tests of audit.plots.fingerprint: the plots draw the tests' tables."""

from __future__ import annotations

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pytest  # noqa: E402
from matplotlib.colors import LogNorm  # noqa: E402

from audit.stations.forensics.excess_votes import excess_votes  # noqa: E402
from audit.stations.forensics.fingerprints import fingerprint, simulate_klimek  # noqa: E402
from audit.stations.forensics.spikes import spikes  # noqa: E402
from audit.plots import save_figure, style  # noqa: E402
from audit.plots.fingerprint import (  # noqa: E402
    plot_excess_votes, plot_fingerprint, plot_spikes)


@pytest.fixture(scope="module")
def fp_result():
    reg = np.random.default_rng(0).integers(500, 2000, 800)
    sim = simulate_klimek(reg, [0.55, 0.07, 0.55, 0.07], 0.2, 0.05, rng=1)
    return fingerprint(sim.registered, sim.ballots_cast, sim.leader, bins=25,
                       n_boot=0, n_null=0, rng=0)


@pytest.fixture(scope="module")
def spike_result():
    g = np.random.default_rng(2)
    n = g.integers(1000, 3000, 1500)
    w = g.binomial(n, g.beta(12, 8, 1500))
    w[:100] = np.round(0.6 * n[:100])
    return spikes(n, w, n_resamples=50, n_boot=20, bin_width=0.01, rng=0)


@pytest.fixture(scope="module")
def ev_result():
    g = np.random.default_rng(3)
    reg = g.integers(800, 1500, 1500)
    cast = g.binomial(reg, np.clip(g.normal(0.5, 0.07, 1500), 0.05, 0.95))
    lead = g.binomial(cast, 0.6)
    other = cast - lead
    extra = (0.9 * reg[:200] - cast[:200]).clip(0).astype(int)
    cast[:200] += extra
    lead[:200] += extra
    return excess_votes(reg, cast, lead, np.c_[lead, other], n_boot=10, rng=0)


@pytest.mark.parametrize("which", ["observed", "fitted", "fair"])
def test_fingerprint_draws_the_table(fp_result, which):
    ax = plot_fingerprint(fp_result, which=which)
    mesh = ax.collections[0]
    t = fp_result.table
    grid = mesh.get_array().reshape(25, 25)  # rows: share, columns: turnout
    want = t.pivot(index="share_lo", columns="turnout_lo", values=which).to_numpy()
    drawn = np.asarray(grid.filled(0.0) if np.ma.isMaskedArray(grid) else grid)
    np.testing.assert_allclose(np.nan_to_num(drawn), want)
    assert isinstance(mesh.norm, LogNorm)
    assert ax.get_xlabel() == "Turnout, %"
    plt.close(ax.figure)


def test_fingerprint_on_given_axes_from_table(fp_result):
    fig, (a1, a2) = plt.subplots(1, 2)
    assert plot_fingerprint(fp_result.table, ax=a2, colorbar=False) is a2
    assert len(fig.axes) == 2  # no colour bar added
    plt.close(fig)


def test_spikes_draws_the_table(spike_result):
    ax = plot_spikes(spike_result)
    observed, resampled = ax.get_lines()[:2]
    t = spike_result.table
    np.testing.assert_array_equal(observed.get_ydata(), t["observed"].to_numpy())
    np.testing.assert_array_equal(resampled.get_ydata(), t["resampled"].to_numpy())
    marks = [ln for ln in ax.get_lines()[2:]]
    assert len(marks) == len(spike_result.params["focal"])
    plt.close(ax.figure)


def test_excess_votes_draws_the_table(ev_result):
    fig, ax = plt.subplots()
    assert plot_excess_votes(ev_result, ax=ax, scale=1) is ax
    lead, others, clean = ax.get_lines()[:3]
    t = ev_result.table
    np.testing.assert_array_equal(lead.get_ydata(), t["leader"].to_numpy(float))
    np.testing.assert_array_equal(others.get_ydata(), t["others"].to_numpy(float))
    np.testing.assert_array_equal(clean.get_ydata(), t["leader_clean"].to_numpy(float))
    peak = ax.get_lines()[3]
    assert peak.get_xdata()[0] == pytest.approx(100 * ev_result.details["peak_turnout"])
    plt.close(fig)


def test_wrong_table_is_refused(fp_result, spike_result):
    with pytest.raises(ValueError, match="table lacks columns"):
        plot_spikes(fp_result)
    with pytest.raises(ValueError, match="table lacks columns"):
        plot_excess_votes(spike_result.table)
    with pytest.raises(ValueError, match="which must be"):
        plot_fingerprint(fp_result, which="model")


def test_export_is_stable(fp_result, spike_result, ev_result, tmp_path):
    def draw():
        with style():
            fig, axes = plt.subplots(1, 3, figsize=(12, 4))
            plot_fingerprint(fp_result, ax=axes[0])
            plot_spikes(spike_result, ax=axes[1], xlim=(40, 80))
            plot_excess_votes(ev_result, ax=axes[2])
        return fig

    first = save_figure(draw(), tmp_path / "a", "fp", formats=("svg",))
    second = save_figure(draw(), tmp_path / "b", "fp", formats=("svg",))
    assert first["svg"].read_bytes() == second["svg"].read_bytes()
    plt.close("all")
