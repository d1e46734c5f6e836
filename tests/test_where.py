"""audit.stations.where: the where-to-look split adds up to the national figures."""

import numpy as np
import pandas as pd
import pytest

from audit.core.errors import InputError
from audit.stations.forensics.integer_percentages import integer_percentages
from audit.stations.simulate import clean_election, round_percentages
from audit.stations.where import (integer_stations, region_fingerprints, region_points,
                                  where_to_look)


@pytest.fixture(scope="module")
def rounded():
    """A simulated election in which 8% of stations had their percentages
    rounded to whole numbers (written to target)."""
    clean = clean_election(2500, rng=11, n_regions=5)
    return round_percentages(clean, share=0.08, rng=12)


def test_national_figures_are_the_tests_own(rounded):
    d = rounded.data
    res = integer_percentages(d["registered"], d["ballots_issued"], d["ballots_cast"],
                              d["leader"])
    w = where_to_look(rounded, leader="leader")
    assert w.national["integer_observed"] == res.details["observed"]
    assert w.national["integer_expected"] == pytest.approx(res.details["expected"], rel=1e-9)
    assert w.national["stations"] == res.n


@pytest.mark.parametrize("level", ["region", "district"])
def test_every_level_adds_up_to_the_national_figure(rounded, level):
    w = where_to_look(rounded)
    part = w.by(level)
    assert part["integer_observed"].sum() == w.national["integer_observed"]
    assert part["integer_expected"].sum() == pytest.approx(w.national["integer_expected"])
    assert part["stations"].sum() == w.national["stations"]
    assert part["share_of_excess"].sum() == pytest.approx(1.0)
    # ranked by excess, largest first
    assert (np.diff(part["integer_excess"].to_numpy()) <= 1e-12).all()


def test_districts_are_counted_within_their_region(rounded):
    w = where_to_look(rounded)
    districts = w.by("district")
    assert not districts.duplicated(["region", "district"]).any()
    by_region = districts.groupby("region")["integer_observed"].sum().sort_index()
    regions = w.by("region").set_index("region")["integer_observed"].sort_index()
    assert (by_region == regions).all()


def test_the_rounded_stations_are_found(rounded):
    """The stations altered by the simulation are where the excess sits."""
    w = where_to_look(rounded)
    altered = np.asarray(rounded.source["altered"], bool)
    st = w.stations
    hit_altered = st["integer"].to_numpy()[altered].mean()
    hit_clean = st["integer"].to_numpy()[~altered].mean()
    assert hit_altered > 3 * hit_clean
    flagged = w.flagged_stations()
    assert set(flagged["source_row"]) >= set(st.index[altered & (st["integer"] == 1)])
    # station ids as in the source table
    assert (flagged["station"].to_numpy() ==
            rounded.data.loc[flagged["source_row"], "station"].to_numpy()).all()


def test_export_table_has_a_national_row_and_every_level(rounded):
    t = where_to_look(rounded).table()
    assert t["level"].iloc[0] == "national"
    for level in ("region", "district"):
        rows = t[t["level"] == level]
        assert rows["integer_observed"].sum() == t["integer_observed"].iloc[0]


def test_round_flag_matches_the_definition():
    """A whole percentage within 0.05 points, checked on hand-picked counts."""
    reg = pd.Series([1000, 1000, 1000, 2000, 3000, 1000])
    # turnout 70.0, 70.5, 69.9, 50.05 (the window is half-open), 70.03, 33.3
    iss = pd.Series([700, 705, 699, 1001, 2101, 333])
    cast = iss.copy()
    lead = pd.Series([int(c * 0.437) if c else 0 for c in cast])
    from audit.tables.station_table import StationTable

    data = pd.DataFrame({"region": "A", "station": range(6), "registered": reg,
                         "ballots_issued": iss, "ballots_cast": cast, "invalid": 0,
                         "leader": lead, "other": cast - lead})
    t = StationTable(data=data, options=["leader", "other"])
    got = integer_stations(t, leader="leader")
    turnout_round = [True, False, False, False, True, False]
    share = lead / cast * 100
    share_round = [abs(s - round(s)) < 0.05 or (s - np.floor(s)) >= 0.95 for s in share]
    expected = np.array(turnout_round) | np.array(share_round)
    assert (got["integer"].to_numpy().astype(bool) == expected).all()


def test_mixture_and_spikes_are_carried_station_by_station(rounded):
    from audit.stations.forensics.mixture import mixture_table
    from audit.stations.forensics.spikes import spikes

    mix = mixture_table(rounded, n_boot=0, n_null=0, rng=0)
    sp = spikes(rounded.data["ballots_cast"], rounded.data["leader"], rng=0, n_resamples=19,
                n_boot=0)
    w = where_to_look(rounded, mixture=mix, spikes=sp)
    assert w.national["fraud_votes"] == pytest.approx(
        (mix.table["manufactured"] + mix.table["stolen"]).sum())
    assert w.by("region")["fraud_stations"].sum() == w.national["fraud_stations"]
    assert w.national["fraud_stations"] == int((mix.table["p_fraud"] > 0.5).sum())
    assert w.by("district")["spike_stations"].sum() == w.national["spike_stations"]


def test_stuffing_scores_are_carried_station_by_station():
    from audit.stations.simulate import ballot_stuffing
    from audit.stations.stuffing import stuffing_scores

    rigged = ballot_stuffing(clean_election(1500, rng=21, n_regions=4), share=0.08,
                             amount=0.12, rng=22)
    res = stuffing_scores(rigged)
    w = where_to_look(rigged, stuffing=res)
    p = res.table["p_stuffed"].to_numpy()
    assert w.has_stuffing and not w.has_mixture
    assert w.national["stuffed_stations"] == int((p > 0.5).sum()) > 0
    assert w.national["stuffed_ballots"] == pytest.approx(res.stuffed_ballots)
    for level in ("region", "district"):
        part = w.by(level)
        assert part["stuffed_stations"].sum() == w.national["stuffed_stations"]
        assert part["stuffed_ballots"].sum() == pytest.approx(w.national["stuffed_ballots"])
    flagged = w.flagged_stations()
    assert set(flagged.loc[flagged["likely_stuffed"], "source_row"]) == set(
        rigged.data.index[p > 0.5])
    # scores of another table are refused with one line
    with pytest.raises(InputError, match="do not belong"):
        where_to_look(rigged.select("region", ["R001"]), stuffing=res)


def test_bad_input_gives_one_line_errors(rounded):
    with pytest.raises(TypeError, match="StationTable"):
        where_to_look(rounded.data)
    w = where_to_look(rounded.select("region", [rounded.data["region"].iloc[0]]))
    with pytest.raises(InputError, match="no 'ward' column"):
        w.by("ward")


def test_region_panels_share_one_grid(rounded):
    pts = region_points(rounded, regions=["R001", "R002"])
    assert set(pts["region"]) == {"R001", "R002"}
    edges, grids = region_fingerprints(pts, regions=["R001", "R002"], bins=20)
    assert len(edges) == 21
    assert sum(g.sum() for g in grids.values()) == len(pts)


@pytest.mark.slow  # reads the 2020 Russian file (about 97,000 stations)
def test_russia_2020_where_to_look_adds_up_per_region_and_commission():
    from audit.tables import datasets

    name = "ru-cik/2020.csv.zip"
    if not datasets.available([name]):
        pytest.skip(f"{name} not in AUDIT_DATA_DIR")
    table = datasets.load(name)
    lead = table.leader_column("ДА")
    d = table.data
    res = integer_percentages(d["registered"], d["ballots_issued"], d["ballots_cast"],
                              d[lead])
    w = where_to_look(table, leader=lead)
    assert w.national["integer_observed"] == res.details["observed"]
    assert w.national["integer_expected"] == pytest.approx(res.details["expected"], rel=1e-9)
    regions, tiks = w.by("region"), w.by("district")
    assert len(regions) > 80 and len(tiks) > 2000
    for part in (regions, tiks):
        assert part["integer_observed"].sum() == res.details["observed"]
        assert part["integer_expected"].sum() == pytest.approx(res.details["expected"])
        assert (part["integer_observed"] >= 0).all()
    # the excess is far beyond chance and concentrated: the top tenth of the
    # regions carries more than its share of it
    assert w.national["integer_excess"] > 10 * res.details["sd"]
    top = regions.head(len(regions) // 10)
    assert top["share_of_excess"].sum() > 0.1
