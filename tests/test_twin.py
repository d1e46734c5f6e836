"""Clean twins of station files (:mod:`audit.stations.twin`) and ``audit twin``."""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from scipy.stats import spearmanr

from audit.stations import simulate
from audit.tables.station_table import StationTable
from audit.cli.main import main
from audit.tables.readers import read
from audit.stations.twin import fit_twin, twin, twin_truth

SHARED = Path(os.environ.get("AUDIT_DATA_DIR", "/work/shared/datasets"))


def _correlated_source(n=3000, seed=0):
    """A simulated election whose turnout and share go together within districts."""
    clean = simulate.clean_election(n, rng=seed)
    rigged = simulate.klimek_fraud(clean, f_incremental=0.3, x_mean=0.4, y_mean=0.3,
                                   rng=seed + 1)
    return simulate.ballot_stuffing(rigged, share=0.2, amount=0.2, rng=seed + 2)


@pytest.fixture(scope="module")
def source():
    return _correlated_source()


def _rates(table, leader="leader"):
    d = table.data
    cast = d["ballots_cast"].to_numpy(float)
    turnout = cast / d["registered"].to_numpy(float)
    valid = d[table.options].sum(axis=1).to_numpy(float)
    share = d[leader].to_numpy(float) / np.where(valid > 0, valid, np.nan)
    return pd.DataFrame({"district": d["district"].to_numpy(), "turnout": turnout,
                         "share": share})


def _mean_within_r(table):
    r = []
    for _, g in _rates(table).dropna().groupby("district"):
        if len(g) >= 10 and g.turnout.std() > 0 and g.share.std() > 0:
            r.append(np.corrcoef(g.turnout, g.share)[0, 1])
    return float(np.mean(r))


def _counts(table, column):
    return table.data[column].to_numpy(dtype=np.int64)


# --------------------------------------------------------------- shape
def test_twin_keeps_rows_labels_sizes_and_order(source):
    t = twin(source, rng=1)
    assert list(t.data.columns) == list(source.data.columns)
    assert t.data.index.equals(source.data.index)
    for c in ("region", "district", "station", "registered"):
        assert t.data[c].equals(source.data[c])
    assert t.options == source.options
    assert not t.data["ballots_cast"].equals(source.data["ballots_cast"])


def test_counts_are_consistent(source):
    d = twin(source, rng=2).data
    counts = d[["registered", "ballots_issued", "ballots_cast", "invalid",
                *source.options]].to_numpy(np.int64)
    assert (counts >= 0).all()
    assert (d.ballots_cast <= d.ballots_issued).all()
    assert (d.ballots_issued <= d.registered).all()
    valid = d.ballots_cast - d.invalid
    assert (d[source.options].sum(axis=1) == valid).all()


def test_same_seed_same_twin_other_seed_differs(source):
    model = fit_twin(source)
    a, b, c = model.draw(rng=5), model.draw(rng=5), model.draw(rng=6)
    assert a.data.equals(b.data)
    assert not a.data.equals(c.data)
    assert a.source["twin"]["seed"] == 5
    assert twin(source, rng=5).data.equals(a.data)


def test_source_records_the_twin(source):
    t = twin(source, rng=3)
    assert t.source["twin"]["of"] == "clean_election"
    assert t.source["twin"]["model"]["leader"] == "leader"
    assert t.source["twin"]["seed"] == 3
    assert not t.source["altered"].any() and t.source["fraud"] == []
    fresh = fit_twin(source).draw()
    again = fit_twin(source).draw(fresh.source["twin"]["seed"])
    assert fresh.data.equals(again.data)


# --------------------------------------------------------------- the null
def test_twin_removes_within_district_correlation(source):
    assert _mean_within_r(source) > 0.3          # the source is strongly rigged
    model = fit_twin(source)
    rs = [_mean_within_r(model.draw(rng=s)) for s in range(5)]
    assert abs(np.mean(rs)) < 0.03


def test_district_medians_track_the_source():
    clean = simulate.clean_election(3000, rng=11)
    src = _rates(clean).groupby("district").median()
    tw = _rates(twin(clean, rng=12)).groupby("district").median()
    for col in ("turnout", "share"):
        assert spearmanr(src[col], tw[col]).statistic > 0.9


def test_stuffed_stations_do_not_leak_into_turnout(source):
    """Half the stations rigged: the twins have far fewer stations above 90%.

    The election before fraud has none; the robust fit lets a little of the
    widened spread through, not the rigged tail itself.
    """
    hi_src = float((_rates(source).turnout > 0.9).mean())
    before = simulate.clean_election(3000, rng=0)
    assert float((_rates(before).turnout > 0.9).mean()) < 0.005
    hi_twin = float((_rates(twin(source, rng=4)).turnout > 0.9).mean())
    assert hi_src > 0.05
    assert hi_twin < hi_src / 4


def test_other_options_keep_their_composition():
    clean = simulate.clean_election(2000, rng=21, options=("leader", "a", "b", "small"))
    d = clean.data
    d["small"] = (d["small"] // 20).astype("Int64")     # a small party
    t = twin(clean, leader="leader", rng=22)
    others = ["a", "b", "small"]
    for o in others:
        ratio = ((t.data[o].sum() / t.data[others].to_numpy().sum())
                 / (d[o].sum() / d[others].to_numpy().sum()))
        assert 0.85 < ratio < 1.15, o
    zero_src, zero_twin = (d["small"] == 0).mean(), (t.data["small"] == 0).mean()
    assert zero_src > 0.03 and 0.5 < zero_twin / zero_src < 2    # small counts stay small


# --------------------------------------------------------------- coarse tables
@pytest.mark.parametrize("keep", [["region", "station"], ["station"]])
def test_coarse_hierarchy(keep):
    clean = simulate.clean_election(600, rng=31)
    data = clean.data.drop(columns=[c for c in ("region", "district") if c not in keep])
    table = StationTable(data=data, options=list(clean.options))
    t = twin(table, rng=1)
    assert t.data["station"].equals(data["station"])
    assert t.source["twin"]["model"]["levels"] == [c for c in ("region",) if c in keep]
    assert (t.data["ballots_cast"] <= t.data["registered"]).all()


def test_missing_registered_and_columns_are_kept():
    clean = simulate.clean_election(400, rng=41)
    data = clean.data.copy()
    data.loc[data.index[:3], "registered"] = pd.NA
    data.loc[data.index[3], "registered"] = 0
    data["invalid"] = pd.array([pd.NA] * len(data), dtype="Int64")
    table = StationTable(data=data, options=list(clean.options))
    t = twin(table, rng=2)
    assert t.data.iloc[:4].equals(data.iloc[:4])
    assert t.data["invalid"].isna().all()
    assert t.source["twin"]["model"]["kept_as_is"] == 4
    rest = t.data.iloc[4:]
    assert (rest[clean.options].sum(axis=1) == rest.ballots_cast).all()


def test_options_not_on_every_ballot_are_redrawn_not_copied():
    """Constituencies with different candidates (an empty count = not on the
    ballot there, as in Canada's poll-by-poll files): every station is
    redrawn, an absent option stays empty and gets no votes, and the counts
    still add up."""
    clean = simulate.clean_election(1500, rng=61, options=("leader", "a", "b", "c"))
    data = clean.data.copy()
    regions = sorted(data["region"].unique())
    no_c = data["region"] == regions[0]
    no_ab = data["region"] == regions[1]                # the leader and c only
    alone = data.index[data["region"] == regions[2]][:5]  # the leader alone
    for col, rows in (("c", no_c), ("a", no_ab), ("b", no_ab)):
        valid = data.loc[rows, col].astype("int64")
        data.loc[rows, "leader"] = data.loc[rows, "leader"] + valid
        data.loc[rows, col] = pd.NA
    for col in ("a", "b", "c"):
        data.loc[alone, "leader"] = data.loc[alone, "leader"] + data.loc[alone, col]
        data.loc[alone, col] = pd.NA
    table = StationTable(data=data, options=list(clean.options))
    model = fit_twin(table, leader="leader")
    assert model.info["kept_as_is"] == 0
    t = model.draw(3).data
    # redrawn, not copied
    assert (t["leader"] != data["leader"]).mean() > 0.9
    # absent options stay empty, present ones are filled
    pd.testing.assert_frame_equal(t[["a", "b", "c"]].isna(), data[["a", "b", "c"]].isna())
    counts = t[["leader", "a", "b", "c"]].fillna(0).sum(axis=1)
    assert (counts + t["invalid"].fillna(0) == t["ballots_cast"]).all()
    assert (t.loc[alone, "leader"] + t.loc[alone, "invalid"].fillna(0)
            == t.loc[alone, "ballots_cast"]).all()
    # where a and b are missing, c takes the other votes; elsewhere the
    # composition is that of the district
    rows = no_ab & ~data.index.isin(alone)
    assert (t.loc[rows, "c"] > 0).mean() > 0.9


def test_no_issued_column_gives_issued_equal_to_cast():
    clean = simulate.clean_election(300, rng=51)
    table = StationTable(data=clean.data.drop(columns="ballots_issued"),
                         options=list(clean.options))
    t = twin(table, rng=1)
    assert (t.data["ballots_issued"] == t.data["ballots_cast"]).all()


def test_bad_input_is_refused():
    with pytest.raises(TypeError, match="table must be a StationTable"):
        fit_twin(pd.DataFrame())
    clean = simulate.clean_election(100, rng=1)
    with pytest.raises(ValueError, match="fraud must be one of"):
        twin(clean, fraud="magic")
    with pytest.raises(TypeError, match="without fraud"):
        twin(clean, share=0.1)


# --------------------------------------------------------------- fraud
@pytest.mark.parametrize("fraud, options", [
    ("stuffing", {"share": 0.3, "amount": 0.1}),
    ("rounding", {"share": 0.3}),
    ("switching", {"share": 0.3, "amount": 0.3}),
])
def test_fraud_changes_only_altered_stations_and_truth_adds_up(source, fraud, options):
    clean = twin(source, rng=9)
    rigged = twin(source, fraud=fraud, rng=9, **options)
    altered = rigged.source["altered"]
    assert 0.15 < altered.mean() <= 0.3 + 0.05
    assert rigged.source["fraud"][-1]["model"] == fraud
    cols = ["ballots_issued", "ballots_cast", "invalid", *source.options]
    same = (clean.data[cols] == rigged.data[cols]).all(axis=1).to_numpy()
    assert same[~altered].all()
    assert not same[altered].any()

    truth = twin_truth(clean, rigged)
    assert len(truth) == len(clean.data)
    assert truth["station"].equals(clean.data["station"])
    assert (truth["altered"].to_numpy() == altered).all()
    d_leader = _counts(rigged, "leader") - _counts(clean, "leader")
    d_cast = _counts(rigged, "ballots_cast") - _counts(clean, "ballots_cast")
    d_others = sum(_counts(clean, o) - _counts(rigged, o) for o in ("other1", "other2"))
    assert (truth["leader_added"].to_numpy() == d_leader).all()
    assert (truth["ballots_added"].to_numpy() == d_cast).all()
    assert (truth["votes_moved"].to_numpy() == d_others).all()
    assert (truth.leader_added == truth.ballots_added + truth.votes_moved).all()
    if fraud == "switching":
        assert (d_cast == 0).all() and (truth.votes_moved[altered] > 0).all()
    if fraud == "stuffing":
        assert (truth.votes_moved == 0).all()


def test_vote_switching_validates_and_keeps_turnout():
    clean = simulate.clean_election(500, rng=3)
    with pytest.raises(ValueError, match=r"share must lie in \[0, 1\], got 2"):
        simulate.vote_switching(clean, share=2)
    with pytest.raises(TypeError, match="amount must be a number"):
        simulate.vote_switching(clean, amount="a")
    s = simulate.vote_switching(clean, share=0.4, amount=0.5, rng=1)
    assert s.data["ballots_cast"].equals(clean.data["ballots_cast"])
    assert s.data[clean.options].sum(axis=1).equals(clean.data[clean.options].sum(axis=1))
    assert clean.source["altered"].sum() == 0               # input untouched
    assert 0.3 < s.source["altered"].mean() < 0.5


# --------------------------------------------------------------- command line
def _write_source(tmp_path, table):
    path = tmp_path / "source.csv"
    table.data.to_csv(path, index=False)
    return path


def test_cli_round_trip(tmp_path, capsys):
    src = simulate.clean_election(400, rng=61)
    path = _write_source(tmp_path, src)
    out = tmp_path / "twin.csv"
    assert main(["twin", str(path), "--format", "canonical", "--seed", "4",
                 "-o", str(out)]) == 0
    assert not (tmp_path / "twin.truth.csv").exists()
    back = read(out, "canonical")
    expected = twin(read(path, "canonical"), rng=4)
    assert back.options == src.options
    for c in ("registered", "ballots_cast", "invalid", *src.options):
        assert (back.data[c].to_numpy() == expected.data[c].to_numpy()).all()
    assert "400 stations" in capsys.readouterr().out


def test_cli_fraud_writes_truth(tmp_path):
    src = simulate.clean_election(400, rng=62)
    path = _write_source(tmp_path, src)
    out = tmp_path / "rigged.csv"
    assert main(["twin", str(path), "--format", "canonical", "--fraud", "switching",
                 "--share", "0.5", "--amount", "0.2", "--leader", "leader",
                 "-o", str(out)]) == 0
    truth = pd.read_csv(tmp_path / "rigged.truth.csv")
    rigged = read(out, "canonical").data
    clean = read(path, "canonical")
    clean_twin = twin(clean, leader="leader", rng=0).data
    added = rigged["leader"].to_numpy() - clean_twin["leader"].to_numpy()
    assert (truth["leader_added"].to_numpy() == added).all()
    assert 0.3 < truth["altered"].mean() < 0.7


@pytest.mark.parametrize("argv, message", [
    (["--fraud", "stuffing", "--share", "1.5"], "--share must be a number in [0, 1], got '1.5'"),
    (["--fraud", "stuffing", "--share", "abc"], "--share must be a number in [0, 1], got 'abc'"),
    (["--share", "0.1"], "--share applies only with --fraud"),
    (["--fraud", "rounding", "--amount", "0.1"], "--amount does not apply to --fraud rounding"),
])
def test_cli_bad_options_one_line(tmp_path, capsys, argv, message):
    path = _write_source(tmp_path, simulate.clean_election(100, rng=63))
    code = main(["twin", str(path), "--format", "canonical", *argv,
                 "-o", str(tmp_path / "t.csv")])
    err = capsys.readouterr().err
    assert code == 2
    assert err.count("\n") == 1 and message in err
    assert not (tmp_path / "t.csv").exists()


def test_cli_refuses_to_overwrite_its_input(tmp_path, capsys):
    path = _write_source(tmp_path, simulate.clean_election(100, rng=64))
    assert main(["twin", str(path), "--format", "canonical", "-o", str(path)]) == 2
    assert "would overwrite the input" in capsys.readouterr().err


# --------------------------------------------------------------- real file
@pytest.mark.slow
@pytest.mark.skipif(not (SHARED / "ru-cik" / "2020.csv.zip").exists(),
                    reason="ru-cik/2020.csv.zip not in the cache folder")
def test_twin_of_russia_2020():
    from audit.tables import datasets

    real = datasets.load("ru-cik/2020.csv.zip")
    model = fit_twin(real, leader="ДА")
    t = model.draw(rng=1)
    d = t.data
    assert d.index.equals(real.data.index)
    assert d["registered"].equals(real.data["registered"])
    assert (d["ballots_cast"] <= d["registered"]).all()
    assert (d[real.options].sum(axis=1) == d.ballots_cast - d.invalid).all()
    # district turnout medians track the real ones; the 99% tail is thinner
    cols = ["region", "district"]
    rt = (real.data.ballots_cast / real.data.registered).astype(float)
    tt = (d.ballots_cast / d.registered).astype(float)
    med_r = rt.groupby([real.data[c] for c in cols]).median()
    med_t = tt.groupby([d[c] for c in cols]).median()
    assert spearmanr(med_r, med_t).statistic > 0.9
    assert (tt > 0.99).mean() < (rt > 0.99).mean()
