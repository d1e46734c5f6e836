"""House style and byte-stable export; case-study plots return their Axes."""

import hashlib

import matplotlib
import matplotlib.pyplot as plt
import pytest

from audit.referenda import casestudy as cs
from audit.referenda.checks import run_checks
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


@pytest.mark.parametrize("name", ["../x", "a/b", "", ".hidden", "/tmp/x", "a\x00b", "CON"])
def test_export_refuses_names_that_leave_the_folder(tmp_path, name):
    with pytest.raises(ValueError, match="is not allowed"):
        save_figure(_draw(), tmp_path, name)
    assert list(tmp_path.iterdir()) == []


def test_export_records_provenance_in_every_format_with_stable_bytes(tmp_path):
    """The provenance text goes into SVG <dc:description>, the PDF Subject and
    a PNG Description chunk; two saves are byte-identical, and a different
    provenance changes the bytes."""
    from PIL import Image

    prov = {"inputs": [{"path": "x.csv", "sha256": "ab" * 32}], "seed": 7}
    a = save_figure(_draw(), tmp_path / "a", "fig", provenance=prov)
    b = save_figure(_draw(), tmp_path / "b", "fig", provenance=prov)
    c = save_figure(_draw(), tmp_path / "c", "fig", provenance={**prov, "seed": 8})
    for fmt in a:
        assert a[fmt].read_bytes() == b[fmt].read_bytes(), fmt
        assert a[fmt].read_bytes() != c[fmt].read_bytes(), fmt
    text = '{"inputs":[{"path":"x.csv","sha256":"' + "ab" * 32 + '"}],"seed":7}'
    assert f"<dc:description>{text}</dc:description>" in a["svg"].read_text()
    assert Image.open(a["png"]).text["Description"] == text
    assert b"/Subject (" + text.encode() + b")" in a["pdf"].read_bytes()
    assert b"CreationDate" not in a["pdf"].read_bytes()


def test_export_never_writes_through_a_link(tmp_path):
    """An existing link at the output name is replaced, not followed."""
    victim = tmp_path / "victim.svg"
    victim.write_text("keep me")
    out = tmp_path / "out"
    out.mkdir()
    (out / "fig.svg").symlink_to(victim)
    with pytest.raises(ValueError, match="symbolic link"):
        save_figure(_draw(), out, "fig", formats=("svg",))
    (out / "fig.svg").unlink()
    inside = out / "inside.svg"
    inside.write_text("old")
    (out / "fig.svg").symlink_to(inside)
    save_figure(_draw(), out, "fig", formats=("svg",))
    assert inside.read_text() == "old" and not (out / "fig.svg").is_symlink()
    assert victim.read_text() == "keep me"


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


def test_importing_the_plots_leaves_the_backend_alone():
    # A notebook's interactive backend must survive `import audit.plots`: the
    # check runs in a fresh interpreter whose backend was chosen beforehand
    # (svg here, as no display is needed), then imports every plot module.
    import os
    import subprocess
    import sys

    code = ("import matplotlib\n"
            "matplotlib.use('svg')\n"
            "before = matplotlib.get_backend()\n"
            "import audit.plots, audit.plots.battery, audit.plots.fingerprint\n"
            "import audit.plots.referenda, audit.plots.stations, audit.plots.export\n"
            "import audit.cli.stations\n"
            "print(before, matplotlib.get_backend())\n")
    env = {k: v for k, v in os.environ.items() if k != "MPLBACKEND"}
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         env=env, check=True).stdout.split()
    assert out == ["svg", "svg"]


def test_the_command_line_draws_without_touching_the_backend(tmp_path, monkeypatch):
    # `audit run` writes figures through Figure objects, which need no backend.
    from audit.cli.main import main
    from audit.stations import registry
    from audit.stations.simulate import clean_election

    monkeypatch.setattr(registry, "load_plugins", lambda: [])
    before = matplotlib.get_backend()
    path = tmp_path / "e.csv"
    clean_election(400, rng=1).data.to_csv(path, index=False)
    assert main(["run", str(path), "--format", "canonical", "--tests", "last_digit",
                 "--out", str(tmp_path / "out")]) == 0
    assert list((tmp_path / "out" / "figures").glob("*.svg"))
    assert matplotlib.get_backend() == before
