"""House style and byte-stable export; case-study plots return their Axes."""

import hashlib

import matplotlib
import matplotlib.pyplot as plt
import pytest

from audit import casestudy as cs
from audit.checks import run_checks
from audit.plots import referenda as rp
from audit.plots import save_figure, style


def _draw():
    with style():
        fig, ax = plt.subplots()
        ax.plot([1, 2, 3], [3, 1, 2], label="x")
        ax.set_title("t")
        ax.legend()
    return fig


def test_export_writes_three_formats_with_stable_bytes(tmp_path):
    a = save_figure(_draw(), tmp_path / "a", "fig")
    b = save_figure(_draw(), tmp_path / "b", "fig")
    assert sorted(a) == ["pdf", "png", "svg"]
    for fmt in a:
        assert hashlib.sha256(a[fmt].read_bytes()).digest() == \
            hashlib.sha256(b[fmt].read_bytes()).digest(), fmt
    svg = a["svg"].read_text()
    assert "<dc:date>" not in svg
    assert b"CreationDate" not in a["pdf"].read_bytes()


@pytest.mark.parametrize("name", ["../x", "a/b", "", ".hidden"])
def test_export_refuses_names_that_leave_the_folder(tmp_path, name):
    with pytest.raises(ValueError, match="plain file stem"):
        save_figure(_draw(), tmp_path, name)


def test_style_is_not_applied_on_import():
    import importlib

    import audit.plots

    before = dict(matplotlib.rcParams)
    importlib.reload(audit.plots)
    assert dict(matplotlib.rcParams) == before


def test_case_study_plots_return_their_axes(evidence):
    audit = run_checks(evidence)
    cases = [(rp.turnout_by_day, cs.turnout_timeline(evidence)),
             (rp.implied_electorate, cs.implied_electorate_table(evidence)),
             (rp.support_vs_baselines, cs.support_baseline_table(evidence)),
             (rp.other_votes, cs.other_votes_table(evidence)),
             (rp.verdict_counts, audit.findings)]
    for func, table in cases:
        with style():
            fig, ax = plt.subplots()
            assert func(table, ax=ax) is ax
            assert ax.has_data() or ax.patches
        plt.close(fig)
