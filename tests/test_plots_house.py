"""The figure house style: names, numbers, captions, source lines, palette,
export, and no text over text or data (checked from rendered boxes)."""

from __future__ import annotations

import io
import re

import matplotlib
import numpy as np
import pandas as pd
import pytest
from matplotlib.figure import Figure

from audit.plots import house, save_figure, style
from audit.plots.battery import plot_evidence, plot_result_table
from audit.plots.fingerprint import plot_fingerprint, shared_scale
from audit.plots.overlap import find_overlaps
from audit.stations.result import TestResult


# --------------------------------------------------------------------------
# human names
# --------------------------------------------------------------------------

def test_cec_names_translate_and_unknown_names_transliterate():
    assert house.option_name("ДА") == "Yes" and house.option_name("НЕТ") == "No"
    assert house.option_name("Путин Владимир Владимирович") == "Vladimir Putin"
    # not in the table: transliterated letter by letter (BGN/PCGN, no diacritics)
    assert house.option_name("Жуков Щукин") == "Zhukov Shchukin"
    assert house.option_name("Ann Smith") == "Ann Smith"


def test_every_translation_is_plain_ascii_and_has_a_note():
    import csv
    from importlib import resources

    with (resources.files("audit.plots") / "names.csv").open(encoding="utf-8") as fh:
        rows = list(csv.DictReader(fh))
    assert len({(r["kind"], r["source"]) for r in rows}) == len(rows)   # no duplicates
    for r in rows:
        assert r["english"].isascii() and r["english"].strip(), r
        assert r["note"].strip(), r


def test_axis_labels_are_human():
    assert house.column_label("turnout_lo") == "Turnout (%)"
    assert house.column_label("share_hi") == "Leader's share (%)"
    assert house.column_label("center") == "Percentage (bin centre)"
    assert house.column_label("some_new_column") == "Some new column"


def test_cyrillic_file_names_become_whole_ascii_stems():
    assert house.ascii_name("ДА / итоги.csv") == "DA_itogi_csv"
    stem = house.ascii_name("Харитонов Николай Михайлович " * 5)
    assert stem.isascii() and len(stem) <= 80 and stem.startswith("Kharitonov_Nikolay")


def test_p_values_in_titles_are_adjusted_and_never_zero():
    assert house.format_p(0.0) == "Holm-adjusted p < 0.001"
    assert house.format_p(1e-250) == "Holm-adjusted p < 0.001"
    assert house.format_p(0.0412) == "Holm-adjusted p = 0.041"
    assert house.format_p(None) == "no p-value"


def test_source_line_names_data_hash_and_version():
    prov = {"inputs": [{"path": "/data/Выборы 2024.csv", "sha256": "ab12cd34ef56" + "0" * 52}],
            "software": {"vote-audit": "9.9.9"}}
    line = house.source_line(prov)
    assert line == "Source: Vybory 2024.csv, sha256 ab12cd34. vote-audit 9.9.9."
    line = house.source_line(prov, title="Russia 2024 presidential election")
    assert line.startswith("Source: Russia 2024 presidential election (Vybory 2024.csv, ")


# --------------------------------------------------------------------------
# the overlap check itself
# --------------------------------------------------------------------------

def test_overlap_check_finds_text_on_text_text_on_data_and_legend_on_bars():
    fig = Figure()
    ax = fig.subplots()
    ax.plot([0, 1], [0, 1], label="line")
    ax.text(0.5, 0.5, "on the line")
    found = find_overlaps(fig)
    assert any("'on the line' covers data" in f for f in found)

    fig = Figure()
    ax = fig.subplots()
    ax.bar(range(10), [5] * 10, label="bars")
    ax.legend(loc="center")
    assert any(f.startswith("legend covers data") for f in find_overlaps(fig))

    fig = Figure()
    ax = fig.subplots()
    ax.text(0.5, 0.5, "hello", transform=ax.transAxes)
    ax.text(0.5, 0.5, "world", transform=ax.transAxes)
    assert find_overlaps(fig) == ["text 'hello' overlaps text 'world'"]

    fig = Figure()
    ax = fig.subplots()
    ax.set_xticks(range(40), [f"long label {i}" for i in range(40)])
    assert any("overlaps text 'long label" in f for f in find_overlaps(fig))


def test_overlap_check_passes_a_clean_figure():
    with style():
        fig = Figure()
        ax = fig.subplots()
        ax.plot([0, 1, 2], [0, 1, 0], label="a line")
        house.outside_legend(ax)
        ax.set_title("A title")
        house.finish(fig, number=1, caption="A caption long enough to wrap " * 6,
                     source="Source: somewhere.")
    assert find_overlaps(fig) == []


# --------------------------------------------------------------------------
# a representative set of the project's figures, on small data
# --------------------------------------------------------------------------

@pytest.fixture(scope="module")
def election():
    from audit.stations import simulate

    clean = simulate.clean_election(800, rng=3, n_regions=4)
    return simulate.round_percentages(clean, share=0.05, rng=4)


@pytest.fixture(scope="module")
def battery(election):
    from audit.stations.battery import run_battery

    return run_battery(election, tests=["integer_percentages", "last_digit", "count_05",
                                        "excess_votes", "round_shares", "turnout_skewness"],
                       rng=1)


@pytest.fixture(scope="module")
def fingerprint_result(election):
    # the fingerprint figure, from a quick fit (the battery's default fit is slow)
    from audit.stations.forensics.fingerprints.test import fingerprint

    d = election.data
    return fingerprint(d["registered"], d["ballots_cast"], d[election.leader_column()],
                       n_boot=4, rng=1)


def test_every_audit_run_figure_on_small_data_has_no_overlap(battery, fingerprint_result):
    from audit.plots.run import _caption, draw, figure_plan

    plan = figure_plan(battery)
    assert [p[0] for p in plan][:2] == ["evidence", "integer_percentages"]
    plan.append(("fingerprint", "fingerprint", pd.Series({"p_holm": 0.5}),
                 fingerprint_result))
    with style():
        for number, (name, key, row, result) in enumerate(plan, start=1):
            fig = draw(key, battery, row, result, alpha=0.05, leader="Yes")
            house.finish(fig, number=number, caption=_caption(key, "Yes"),
                         source="Source: a simulated election. vote-audit 0.")
            assert find_overlaps(fig) == [], name
            texts = [t.get_text() for t in fig.findobj(matplotlib.text.Text)]
            assert any(t.startswith(f"Figure {number}. ") for t in texts), name
            # no raw column names and no unadjusted p-value on any figure
            joined = "\n".join(texts)
            assert not re.search(r"\b(turnout_lo|share_lo|center)\b", joined), name
            assert not re.search(r"(?<!adjusted )\bp = ", joined), name
            if key == "fingerprint":
                # an estimate with its interval, never a p-value
                assert re.search(r"fraud share \d\.\d\d, 95% interval \d\.\d\d to "
                                 r"\d\.\d\d", joined), joined
                assert "p-value" not in joined and "p =" not in joined


def test_referenda_figures_have_no_overlap(evidence):
    from audit.plots import referenda as rp
    from audit.referenda import casestudy as cs
    from audit.referenda.checks import run_checks

    findings = run_checks(evidence).findings
    with style():
        axes = {
            "findings_overview": rp.verdict_counts(findings, ax=Figure().subplots()),
            "turnout_by_day": rp.turnout_by_day(cs.turnout_timeline(evidence),
                                                ax=Figure().subplots()),
            "implied_electorate": rp.implied_electorate(
                cs.implied_electorate_table(evidence),
                ax=Figure(figsize=(7.8, 4.8)).subplots()),
            "other_votes": rp.other_votes(cs.other_votes_table(evidence),
                                          ax=Figure(figsize=(7, 4.8)).subplots()),
        }
    for name, ax in axes.items():
        assert find_overlaps(ax.figure) == [], name


def test_integer_histogram_draws_the_stations_the_test_leaves_out():
    from audit.plots.stations import plot_integer_percentages
    from audit.stations.forensics.integer_percentages import integer_percentages

    rng = np.random.default_rng(5)
    registered = rng.integers(500, 2000, size=600)
    issued = rng.binomial(registered, 0.6)
    issued[:40] = registered[:40]                   # 40 stations at 100% turnout
    leader = rng.binomial(issued, 0.5)
    res = integer_percentages(registered, issued, issued, leader)
    t = res.table
    at100 = t[(t["quantity"] == "turnout") & (t["center"] == 100.0)].iloc[0]
    assert at100["observed"] == 0 and at100["left_out"] == 40   # left out, not absent
    with style():
        ax = plot_integer_percentages(res, "turnout", ax=Figure().subplots())
    (grey,) = [p for p in ax.patches if p.get_label().startswith("stations left out")]
    values, edges, baseline = grey.get_data()
    assert np.sum(values - baseline) == t.loc[t["quantity"] == "turnout", "left_out"].sum()
    assert values[-1] - baseline[-1] == 40 and edges[-1] > 100


def test_no_legend_entry_for_a_column_that_is_not_drawn():
    table = pd.DataFrame({"digit": range(10), "observed": [10] * 10,
                          "expected": [10.0] * 10, "simulated": [np.nan] * 10})
    r = TestResult("last_digit", statistic=0.0, pvalue=0.5, n=100, table=table)
    with style():
        ax = plot_result_table(r, ax=Figure().subplots(), p_adjusted=0.7)
    labels = [t.get_text() for t in ax.get_legend().get_texts()]
    assert sorted(labels) == ["Expected under the test's null", "Observed"]
    assert "Holm-adjusted p = 0.700" in ax.get_title(loc="left")


def test_evidence_overview_legend_is_outside_the_bars():
    ev = pd.DataFrame({"test": ["a_b", "c", "d"], "scope": "national", "status": "ok",
                       "pvalue": [1e-9, 0.3, 1e-30], "p_holm": [1e-9, 0.6, 1e-30],
                       "evidence": [True, True, False]})
    with style():
        ax = plot_evidence(ev, alpha=0.05, ax=Figure().subplots())
    assert find_overlaps(ax.figure) == []
    assert [t.get_text() for t in ax.get_yticklabels()] == ["A b", "C", "D [descriptive]"]


def test_fingerprints_share_one_colour_scale():
    def table(peak):
        edges = np.linspace(0, 1, 11)
        lo = np.repeat(edges[:-1], 10)
        slo = np.tile(edges[:-1], 10)
        obs = np.ones(100)
        obs[0] = peak
        return pd.DataFrame({"turnout_lo": lo, "turnout_hi": lo + 0.1, "share_lo": slo,
                             "share_hi": slo + 0.1, "observed": obs})

    a, b = table(50.0), table(5000.0)
    norm = shared_scale([a, b])
    assert norm.vmin == 1.0 and norm.vmax == 5000.0
    meshes = [plot_fingerprint(t, ax=Figure().subplots(), norm=norm).collections[0]
              for t in (a, b)]
    assert meshes[0].norm is meshes[1].norm


# --------------------------------------------------------------------------
# export: formats, resolution, editable and reproducible
# --------------------------------------------------------------------------

def _figure():
    with style():
        fig = Figure()
        ax = fig.subplots()
        ax.plot([0, 1, 2], [1, 3, 2], label="Да")
        ax.set_title("Явка, %")
        house.outside_legend(ax)
        house.finish(fig, number=2, caption="Caption.", source="Source: test.")
    return fig


def test_png_at_300_dpi_and_pdf_text_editable(tmp_path):
    from PIL import Image

    paths = save_figure(_figure(), tmp_path, "f")
    with Image.open(paths["png"]) as im:
        assert round(im.info["dpi"][0]) == 300
        assert im.size[0] >= 7 * 300 * 0.9
    pdf = paths["pdf"].read_bytes()
    assert b"/CIDFontType2" in pdf and b"/Type3" not in pdf       # TrueType text, editable
    assert b"/ToUnicode" in pdf and b"/BaseFont /DejaVu" not in pdf   # house font, mapped text
    assert "Явка" in paths["svg"].read_text(encoding="utf-8")      # SVG text stays text


def test_same_figure_same_bytes_in_every_format(tmp_path):
    a = save_figure(_figure(), tmp_path / "a", "f")
    b = save_figure(_figure(), tmp_path / "b", "f")
    for fmt in ("svg", "pdf", "png"):
        assert a[fmt].read_bytes() == b[fmt].read_bytes(), fmt
        assert not re.search(rb"CreationDate|ModDate|<dc:date>", a[fmt].read_bytes())


def test_house_font_is_made_from_dejavu_and_named_apart():
    from matplotlib import font_manager

    from audit.plots.export import HOUSE_FONT, house_font

    assert house_font() == HOUSE_FONT
    path = font_manager.findfont(font_manager.FontProperties(family=HOUSE_FONT),
                                 fallback_to_default=False)
    assert HOUSE_FONT in path
    buf = io.BytesIO()
    _figure().savefig(buf, format="pdf")
    assert HOUSE_FONT.encode() in buf.getvalue()


# --------------------------------------------------------------------------
# slow: every figure of audit run on a real file
# --------------------------------------------------------------------------

@pytest.mark.slow
def test_every_audit_run_figure_on_the_2020_file_has_no_overlap(tmp_path):
    from audit.plots.run import _caption, draw, figure_plan, write_figures
    from audit.stations import forensics  # noqa: F401
    from audit.stations.battery import run_battery
    from audit.stations.registry import REGISTRY
    from audit.tables import datasets

    if not datasets.available(["ru-cik/2020.csv.zip"]):
        pytest.skip("ru-cik/2020.csv.zip is not in AUDIT_DATA_DIR")
    table = datasets.load("ru-cik/2020.csv.zip")
    # the mixture model draws no audit-run figure (a row per station) and takes
    # minutes; every other registered test runs
    tests = sorted(n for n in REGISTRY if n != "mixture")
    battery = run_battery(table, leader="ДА", tests=tests, rng=0)
    plan = figure_plan(battery)
    drawn = {name for name, *_ in plan}
    # every test that ran nationally and left a table is drawn (the moment
    # tests leave none)
    with_table = {row["test"] for (_, row), r in zip(battery.evidence.iterrows(),
                                                     battery.results)
                  if row["scope"] == "national" and r is not None
                  and getattr(r, "table", None) is not None and len(r.table)}
    assert drawn == {"evidence"} | with_table
    assert {"integer_percentages", "fingerprint", "spikes", "excess_votes", "last_digit",
            "round_shares", "first_digit"} <= drawn
    with style():
        for number, (name, key, row, result) in enumerate(plan, start=1):
            fig = draw(key, battery, row, result, alpha=0.05, leader="Yes")
            house.finish(fig, number=number, caption=_caption(key, "Yes"),
                         source=house.source_line(None))
            assert find_overlaps(fig) == [], name
    names = write_figures(battery, tmp_path, alpha=0.05, leader="ДА")
    assert names == [name for name, *_ in plan]
    svg = (tmp_path / "integer_percentages.svg").read_text(encoding="utf-8")
    number = [name for name, *_ in plan].index("integer_percentages") + 1
    assert f"Figure {number}. Polling stations" in svg and "(Yes, bottom)" in svg


def test_figures_drawn_in_two_processes_are_the_same_bytes(election, tmp_path, monkeypatch):
    from audit.plots.run import write_figures
    from audit.stations.battery import run_battery

    battery = run_battery(election, tests=["last_digit"], rng=1)

    monkeypatch.setenv("VOTE_AUDIT_FIGURE_PROCESSES", "1")
    one = write_figures(battery, tmp_path / "one", alpha=0.05, leader="ДА")
    monkeypatch.setenv("VOTE_AUDIT_FIGURE_PROCESSES", "2")
    two = write_figures(battery, tmp_path / "two", alpha=0.05, leader="ДА")
    assert one == two == ["evidence", "last_digit"]
    for name in one:
        for fmt in ("svg", "pdf", "png"):
            a = (tmp_path / "one" / f"{name}.{fmt}").read_bytes()
            assert a == (tmp_path / "two" / f"{name}.{fmt}").read_bytes(), (name, fmt)


def _same_files(one, two, names):
    for name in names:
        for fmt in ("svg", "pdf", "png"):
            a = (one / f"{name}.{fmt}").read_bytes()
            assert a == (two / f"{name}.{fmt}").read_bytes(), (name, fmt)


def test_a_figure_worker_draws_the_same_bytes_as_the_process_itself(battery, tmp_path,
                                                                     monkeypatch):
    from audit.plots.run import FigureWorker, write_figures

    monkeypatch.setenv("VOTE_AUDIT_FIGURE_PROCESSES", "1")
    here = write_figures(battery, tmp_path / "here", alpha=0.05, leader="ДА")
    with FigureWorker.start() as worker:
        there = write_figures(battery, tmp_path / "there", alpha=0.05, leader="ДА",
                              worker=worker)
    assert here == there and len(here) >= 4
    _same_files(tmp_path / "here", tmp_path / "there", here)


def test_a_failed_figure_worker_leaves_the_drawing_to_the_process(battery, tmp_path):
    import pickle

    from audit.plots import run

    with run.FigureWorker.start() as worker:
        # a job that cannot be sent (an unpicklable provenance) makes render
        # return None, and write_figures draws the figures itself
        def unpicklable():
            pass

        job = run._job(battery, run.figure_plan(battery), alpha=0.05, provenance=None,
                       leader="ДА", data_title=None)
        job["provenance"] = unpicklable
        with pytest.raises((pickle.PicklingError, AttributeError, TypeError)):
            pickle.dumps(job)
        assert worker.render(job) is None
        assert worker.render(job) is None          # used once; never again
    names = write_figures_with_dead_worker(battery, tmp_path / "dead")
    reference = run.write_figures(battery, tmp_path / "ref", alpha=0.05, leader="ДА")
    assert names == reference
    _same_files(tmp_path / "dead", tmp_path / "ref", names)


def write_figures_with_dead_worker(battery, folder):
    from audit.plots import run

    worker = run.FigureWorker.start()
    worker._proc.kill()                   # the worker dies before it is given the job
    worker._proc.join()
    try:
        return run.write_figures(battery, folder, alpha=0.05, leader="ДА", worker=worker)
    finally:
        worker.close()


def test_an_unused_figure_worker_is_stopped_by_close():
    from audit.plots.run import FigureWorker

    worker = FigureWorker.start()
    proc = worker._proc
    worker.close()                 # terminated, not left to finish loading matplotlib
    assert not proc.is_alive() and proc.exitcode is not None
    worker.close()                               # closing twice is harmless
