"""The station battery on some regions of a registered dataset (the 2022
report's section on Crimea and Sevastopol in 2024)."""

import pytest

from audit.stations import slices
from audit.tables import datasets


def test_region_slices_are_skipped_without_the_file_and_never_downloaded(
        tmp_path, monkeypatch):
    import urllib.request

    def no_network(*a, **k):
        raise AssertionError("the report must not download")

    monkeypatch.setenv("AUDIT_DATA_DIR", str(tmp_path))
    monkeypatch.setattr(urllib.request, "urlopen", no_network)
    run = slices.run_on_regions("ru-cik/2024.csv.zip", ["город Севастополь"], leader="Путин")
    assert not run.ran
    assert "ru-cik/2024.csv.zip" in run.skipped and "AUDIT_DATA_DIR" in run.skipped
    assert str(tmp_path) not in run.skipped     # no machine's path in the page
    assert not slices.run_on_regions("no/such.csv", ["x"], leader="y").ran


def test_crimea_and_sevastopol_stations():
    if not datasets.available(["ru-cik/2024.csv.zip"]):
        pytest.skip("2024 station file not in the data folder")
    run = slices.run_on_regions("ru-cik/2024.csv.zip",
                              ["Республика Крым", "город Севастополь"], leader="Путин",
                              tests=["integer_percentages", "last_digit", "turnout_skewness"])
    summary = slices.station_summary(run).set_index("region")
    # station counts from the dataset's README: Crimea 1,165, Sevastopol 188
    assert summary.loc["Республика Крым", "stations"] == 1165
    assert summary.loc["город Севастополь", "stations"] == 188
    table = slices.station_evidence(run)
    assert set(table[table["test"] == "turnout_skewness"]["class"]) == {"descriptive"}
    assert set(table[table["test"] == "integer_percentages"]["class"]) == {"evidence"}
