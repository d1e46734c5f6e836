"""Registry of public datasets: cache folder, download and sha256 checks."""

from __future__ import annotations

import hashlib
import os
import re
from pathlib import Path

import pandas as pd
import pytest

from audit.tables import datasets
from audit.core.errors import InputError

SHARED = Path(os.environ.get("AUDIT_DATA_DIR", "/work/shared/datasets"))
README = SHARED / "README.md"


@pytest.fixture(autouse=True)
def home_cache(monkeypatch, tmp_path):
    """Keep the fallback Parquet cache out of the real home folder."""
    home = tmp_path / "home-cache"
    monkeypatch.setattr(datasets, "DEFAULT_DIR", home)
    return home


def test_registry_matches_readme_table():
    if not README.exists():
        pytest.skip("datasets README not available")
    text = README.read_text(encoding="utf-8")
    rows = re.findall(r"^\| (\S+) \| (https://\S+) \| ([0-9a-f]{64}) \|$", text, flags=re.M)
    assert len(rows) == 6
    reference = {n: (d.url, d.sha256) for n, d in datasets.REGISTRY.items()
                 if d.kind == "reference"}
    assert {n: (u, h) for n, u, h in rows} == reference
    # the other countries' table: file | election | URL | sha256 ("per file"
    # for a folder, whose manifest is shipped in the package)
    others = dict(re.findall(r"^\| (\S+?)(?:/\*\.csv)? \| [^|]+ \| (https://\S+) \| "
                             r"(?:[0-9a-f]{64}|per file) \|$", text, flags=re.M))
    for name, d in datasets.REGISTRY.items():
        if d.kind == "clean":
            assert name in others, name
            assert others[name].split("NNNNN")[0] in d.url or d.url in others[name]


def test_data_dir_from_env(monkeypatch, tmp_path, home_cache):
    monkeypatch.setenv("AUDIT_DATA_DIR", str(tmp_path))
    assert datasets.data_dir() == tmp_path
    monkeypatch.delenv("AUDIT_DATA_DIR")
    assert datasets.data_dir() == home_cache
    monkeypatch.undo()
    monkeypatch.delenv("AUDIT_DATA_DIR", raising=False)
    assert datasets.data_dir() == Path("~/.cache/vote-audit").expanduser()


@pytest.mark.skipif(not (SHARED / "ru-cik" / "2024.csv.zip").exists(),
                    reason="shared datasets not available")
def test_fetch_verifies_shared_copy(monkeypatch):
    monkeypatch.setenv("AUDIT_DATA_DIR", str(SHARED))
    path = datasets.fetch("ru-cik/2024.csv.zip", download=False)
    assert path == SHARED / "ru-cik" / "2024.csv.zip"
    table = datasets.load("ua-cvk/president_election_2019_1_by_vd_en.csv")
    assert table.source["dataset"] == "ua-cvk/president_election_2019_1_by_vd_en.csv"
    assert table.source["sha256"] == datasets.REGISTRY[table.source["dataset"]].sha256


@pytest.fixture
def fake(monkeypatch, tmp_path):
    """A registered dataset served from a file:// URL in a temporary folder."""
    origin = tmp_path / "origin" / "t.csv"
    origin.parent.mkdir()
    origin.write_text("station,ballots_cast,A,B\n1,10,6,4\n2,20,15,5\n")
    digest = hashlib.sha256(origin.read_bytes()).hexdigest()
    spec = datasets.Dataset("test/t.csv", origin.as_uri(), digest, "canonical")
    monkeypatch.setitem(datasets.REGISTRY, spec.name, spec)
    cache = tmp_path / "cache"
    monkeypatch.setenv("AUDIT_DATA_DIR", str(cache))
    return spec, origin, cache


def test_download_once_then_cached(fake):
    spec, origin, cache = fake
    path = datasets.fetch(spec.name)
    assert path == cache / "test" / "t.csv"
    assert path.read_bytes() == origin.read_bytes()
    origin.unlink()                      # a second fetch must not download
    assert datasets.fetch(spec.name) == path
    assert not [p for p in path.parent.iterdir() if p.name.startswith(".part-")]
    assert datasets.load(spec.name).options == ["A", "B"]


def test_changed_file_is_refused_on_every_load(fake):
    spec, _, cache = fake
    path = datasets.fetch(spec.name)
    path.write_text("station,ballots_cast,A,B\n1,10,6,4\n")
    got = hashlib.sha256(path.read_bytes()).hexdigest()
    with pytest.raises(InputError) as err:
        datasets.fetch(spec.name)
    msg = str(err.value)
    assert str(path) in msg and spec.sha256 in msg and got in msg


def test_bad_download_is_not_kept(fake, monkeypatch):
    spec, origin, cache = fake
    origin.write_text("tampered\n")
    with pytest.raises(InputError, match="sha256 mismatch after download"):
        datasets.fetch(spec.name)
    assert not (cache / "test" / "t.csv").exists()
    assert list((cache / "test").iterdir()) == []


def test_missing_source_and_no_download(fake):
    spec, origin, _ = fake
    with pytest.raises(InputError, match="is not in the cache"):
        datasets.fetch(spec.name, download=False)
    origin.unlink()
    with pytest.raises(InputError, match="download from file:"):
        datasets.fetch(spec.name)


def test_unknown_name():
    with pytest.raises(InputError, match="unknown dataset 'ru-cik/1999.csv'; known"):
        datasets.fetch("ru-cik/1999.csv")
    assert not datasets.is_dataset("ru-cik/1999.csv")
    assert datasets.is_dataset("ru-cik/2020.csv.zip")


def test_parquet_copy_reused(fake):
    spec, origin, cache = fake
    first = datasets.load(spec.name)
    assert "parquet_cache" not in first.source
    second = datasets.load(spec.name)
    assert Path(second.source["parquet_cache"]).parent == cache / "parquet"
    pd.testing.assert_frame_equal(first.data, second.data)
    pd.testing.assert_frame_equal(first.excluded, second.excluded)
    pd.testing.assert_frame_equal(first.findings, second.findings)
    assert first.options == second.options
    # Reader options are part of the key; cache=False always parses.
    assert "parquet_cache" not in datasets.load(spec.name, cache=False).source


def test_parquet_copy_not_trusted_over_a_changed_file(fake):
    spec, _, cache = fake
    datasets.load(spec.name)
    (cache / "test" / "t.csv").write_text("station,ballots_cast,A,B\n1,99,90,9\n")
    with pytest.raises(InputError, match="sha256 mismatch"):
        datasets.load(spec.name)


def test_read_only_data_dir_falls_back(fake, home_cache):
    spec, _, cache = fake
    datasets.fetch(spec.name)
    for folder in (cache / "test", cache):
        folder.chmod(0o555)
    try:
        datasets.load(spec.name)
        again = datasets.load(spec.name)
    finally:
        for folder in (cache, cache / "test"):
            folder.chmod(0o755)
    assert not (cache / "parquet").exists()
    assert Path(again.source["parquet_cache"]).parent == home_cache / "parquet"
