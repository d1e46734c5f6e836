"""The bundled data package: hashes, schemas, and the errors bad tables give."""

import hashlib
import json
import shutil
from pathlib import Path

import pandas as pd
import pytest

from audit.tables import datapackage
from audit.core.errors import InputError

ROOT = Path(__file__).resolve().parent.parent
DP = ROOT / "data" / "datapackage.json"
RESOURCES = json.loads(DP.read_text())["resources"]


@pytest.mark.parametrize("res", RESOURCES, ids=[r["name"] for r in RESOURCES])
def test_every_resource_matches_its_hash_size_and_schema(res):
    path = ROOT / "data" / res["path"]
    data = path.read_bytes()
    # recomputed here with hashlib, independently of the package's own helper
    assert res["hash"] == "sha256:" + hashlib.sha256(data).hexdigest()
    assert res["bytes"] == len(data)
    table = datapackage.read_table(DP, res["name"])
    assert list(table.columns) == [f["name"] for f in res["schema"]["fields"]]
    assert len(table) == len(pd.read_csv(path, dtype=str))


@pytest.mark.parametrize("res", RESOURCES, ids=[r["name"] for r in RESOURCES])
def test_every_resource_has_description_sources_and_licence(res):
    desc = json.loads(DP.read_text())
    assert desc["licenses"]
    assert res["title"] and res["sources"]
    for field in res["schema"]["fields"]:
        assert field["type"] in datapackage.TYPES


def test_every_cited_figure_has_a_url_and_confidence(evidence):
    for table in (evidence.announcements, evidence.baselines, evidence.comparisons,
                  evidence.subunits):
        assert table["source_url"].str.match(r"https?://").all()
        assert table["confidence"].isin(["high", "medium", "low"]).all()


SCHEMA = {"primaryKey": "id", "fields": [
    {"name": "id", "type": "string", "constraints": {"required": True}},
    {"name": "count", "type": "integer", "constraints": {"minimum": 0}},
    {"name": "share", "type": "number", "constraints": {"maximum": 100}},
    {"name": "kind", "type": "string", "constraints": {"enum": ["a", "b"]}},
    {"name": "day", "type": "date"},
]}


def _csv(tmp_path, text):
    p = tmp_path / "t.csv"
    p.write_text(text, encoding="utf-8")
    return p


def test_good_table_is_typed(tmp_path):
    t = datapackage.parse_table(_csv(tmp_path, "id,count,share,kind,day\nx,3,1.5,a,2022-09-23\n"
                                                "y,,,b,\n"), SCHEMA)
    assert t["count"].dtype == "Int64" and t["count"].iloc[0] == 3 and pd.isna(t["count"].iloc[1])
    assert t["day"].iloc[0] == pd.Timestamp("2022-09-23")


@pytest.mark.parametrize("text, row, column, words", [
    ("id,count,share,kind,day\nx,3,1.5,a,2022-09-23\ny,three,1,a,2022-09-23\n", 3, "count",
     "whole number"),
    ("id,count,share,kind,day\nx,-1,1.5,a,2022-09-23\n", 2, "count", ">= 0"),
    ("id,count,share,kind,day\nx,1,101,a,2022-09-23\n", 2, "share", "<= 100"),
    ("id,count,share,kind,day\nx,1,1,c,2022-09-23\n", 2, "kind", "one of a, b"),
    ("id,count,share,kind,day\nx,1,1,a,23/09/2022\n", 2, "day", "YYYY-MM-DD"),
    ("id,count,share,kind,day\nx,1.5,1,a,2022-09-23\n", 2, "count", "whole number"),
    ("id,count,share,kind,day\n,1,1,a,2022-09-23\n", 2, "id", "required"),
    ("id,count,share,kind,day\nx,1,1,a,2022-09-23\nx,2,1,a,2022-09-23\n", 3, "id", "duplicate"),
    ("id,count,share,kind\nx,1,1,a\n", 1, "day", "missing"),
    ("id,count,share,kind,day,extra\nx,1,1,a,2022-09-23,z\n", 1, "extra", "unknown column"),
])
def test_bad_values_name_file_row_and_column(tmp_path, text, row, column, words):
    with pytest.raises(InputError) as err:
        datapackage.parse_table(_csv(tmp_path, text), SCHEMA)
    msg = str(err.value)
    assert "t.csv" in msg and f"row {row}" in msg and f"column '{column}'" in msg
    assert words in msg
    assert "\n" not in msg


def test_empty_and_non_utf8_files(tmp_path):
    with pytest.raises(InputError, match="empty"):
        datapackage.parse_table(_csv(tmp_path, ""), SCHEMA)
    p = tmp_path / "latin.csv"
    p.write_bytes("id,count,share,kind,day\nЖук,1,1,a,2022-09-23\n".encode("cp1251"))
    with pytest.raises(InputError, match="not UTF-8"):
        datapackage.parse_table(p, SCHEMA)


def test_changed_file_fails_its_hash(tmp_path):
    shutil.copytree(ROOT / "data", tmp_path / "data")
    target = tmp_path / "data" / "regions.csv"
    target.write_text(target.read_text().replace("Kherson oblast", "Kherson 0blast"))
    with pytest.raises(InputError, match=r"regions\.csv.*sha256"):
        datapackage.read_table(tmp_path / "data" / "datapackage.json", "regions")


def test_unknown_resource_is_named():
    with pytest.raises(InputError, match="no resource named 'nope'"):
        datapackage.read_table(DP, "nope")
