"""Readers of the clean real elections (pl-pkw, cz-volby, ca-pollbypoll) and
their dataset entries, checked against totals computed here from the raw
files with the csv module, independently of the readers."""

from __future__ import annotations

import csv
import hashlib
import io
import os
import shutil
import zipfile
from collections import defaultdict
from pathlib import Path

import pandas as pd
import pytest

from audit.tables import datasets
from audit.core.errors import InputError
from audit.tables.readers import read
from audit.tables.readers.ca_pollbypoll import read_ca_pollbypoll
from audit.tables.readers.cz_volby import read_cz_volby

SHARED = Path(os.environ.get("AUDIT_DATA_DIR", "/work/shared/datasets"))
PL = "clean/poland_pres2020_r1_obwody_csv.zip"
CZ = "clean/czech_pres2018_r1_pet1.csv"
CA = "clean/canada_fed2011_pollbypoll"


def _need(name):
    spec = datasets.REGISTRY[name]
    where = SHARED / name
    files = [f for f, _ in datasets.manifest(name)] if spec.is_folder else [""]
    if not all((where / f).is_file() for f in files):
        pytest.skip(f"{name} is not in the cache folder {SHARED}")
    return where


@pytest.fixture(scope="module")
def cache(tmp_path_factory):
    """Shared files as the data folder; Parquet copies in a temporary folder."""
    mp = pytest.MonkeyPatch()
    mp.setenv("AUDIT_DATA_DIR", str(SHARED))
    mp.setattr(datasets, "DEFAULT_DIR", tmp_path_factory.mktemp("home-cache"))
    yield
    mp.undo()


@pytest.fixture(scope="module")
def poland(cache):
    _need(PL)
    return datasets.load(PL)


@pytest.fixture(scope="module")
def czech(cache):
    _need(CZ)
    return datasets.load(CZ)


@pytest.fixture(scope="module")
def canada(cache):
    _need(CA)
    return datasets.load(CA)


def _unique(table):
    assert not table.data.duplicated(table.hierarchy).any()
    assert table.data["station"].is_unique


def _count(text):
    return 0 if text.strip() in ("", "-") else int(text)


# ------------------------------------------------------------------ Poland

def _poland_raw():
    with zipfile.ZipFile(SHARED / PL) as zf:
        (member,) = zf.namelist()
        text = zf.read(member).decode("utf-8-sig")
    return list(csv.DictReader(io.StringIO(text), delimiter=";"))


def test_poland_totals_match_raw_file(poland):
    rows = _poland_raw()
    header = list(rows[0])
    cands = header[header.index("Liczba głosów ważnych oddanych łącznie na wszystkich "
                                "kandydatów") + 1:]
    assert poland.options == cands
    assert len(poland.data) + len(poland.excluded) == len(rows)
    assert poland.data["registered"].sum() == sum(
        _count(r["Liczba wyborców uprawnionych do głosowania"]) for r in rows)
    for c in cands:
        assert poland.data[c].sum() == sum(_count(r[c]) for r in rows), c
    no_results = [r for r in rows if r["Liczba kart wyjętych z urny"] == "-"]
    assert len(poland.excluded) == len(no_results) == 4
    assert poland.excluded["reason"].str.contains("no results").all()
    abroad = sum(r["Typ obszaru"] == "zagranica" for r in rows) - len(no_results)
    ships = sum(r["Typ obszaru"] == "statek" for r in rows)
    assert (poland.data["region"] == "abroad").sum() == abroad == 165
    assert (poland.data["region"] == "ships").sum() == ships == 7
    _unique(poland)
    assert poland.data["district"].str.match(r"^\d{6} ").all()


def test_poland_counts_follow_the_protocol_identities(poland):
    d = poland.data
    # cards in the box = every valid vote + invalid cards + invalid votes
    assert (d["ballots_cast"] == d[poland.options].sum(axis=1) + d["invalid"]).all()
    assert not (d["ballots_issued"] > d["registered"]).any()
    assert set(poland.source["findings_by_check"]) == {"cast_exceeds_issued"}


def test_poland_official_totals(poland):
    # Official first-round results published by PKW (wybory.gov.pl/prezydent20200628):
    # Andrzej Duda 8,450,513 votes, Rafał Trzaskowski 5,917,340.  The station
    # file has "-" for four military stations abroad, so its sums fall a
    # little short of the official totals, and never exceed them.
    for column, official in (("Andrzej Sebastian DUDA", 8_450_513),
                             ("Rafał Kazimierz TRZASKOWSKI", 5_917_340)):
        gap = official - int(poland.data[column].sum())
        assert 0 <= gap <= 500, (column, gap)
    assert poland.leader_column() == "Andrzej Sebastian DUDA"


# ------------------------------------------------------------------ Czechia

def _czech_raw():
    text = (SHARED / CZ).read_bytes().decode("cp1250")
    return list(csv.DictReader(io.StringIO(text), delimiter=";"))


def test_czech_totals_match_raw_file(czech):
    rows = _czech_raw()
    assert len(czech.data) + len(czech.excluded) == len(rows)
    assert czech.data["registered"].sum() == sum(int(r["VOL_SEZNAM"]) for r in rows)
    assert czech.data["ballots_cast"].sum() == sum(int(r["ODEVZ_OBAL"]) for r in rows)
    votes = {f"HLASY_{i:02d}": sum(int(r[f"HLASY_{i:02d}"]) for r in rows)
             for i in range(1, 21)}
    assert czech.options == [c for c, v in votes.items() if v > 0]
    assert czech.source["dropped_options"] == [c for c, v in votes.items() if v == 0]
    for c in czech.options:
        assert czech.data[c].sum() == votes[c], c
    # Official result, volby.cz (presidential election 2018, round 1):
    # Miloš Zeman (candidate 7) 1,985,547 votes.
    assert votes["HLASY_07"] == czech.data["HLASY_07"].sum() == 1_985_547
    assert czech.leader_column() == "HLASY_07"
    _unique(czech)
    assert set(czech.data["region"]) == {r["OKRES"][:2] for r in rows}


def test_czech_invalid_is_unknown_where_valid_exceeds_returned(czech):
    rows = _czech_raw()
    bad = sum(int(r["PL_HL_CELK"]) > int(r["ODEVZ_OBAL"]) for r in rows)
    assert bad == czech.source["invalid_unknown"] == czech.data["invalid"].isna().sum()
    assert czech.source["findings_by_check"].get("votes_exceed_cast") == bad
    ok = czech.data["invalid"].notna()
    d = czech.data[ok]
    assert (d["ballots_cast"] == d[czech.options].sum(axis=1) + d["invalid"]).all()


def test_czech_rounds_and_forms_go_to_excluded(tmp_path):
    head = ("TYP_FORM;OKRES;OBEC;OKRSEK;KOLO;VOL_SEZNAM;VYD_OBALKY;ODEVZ_OBAL;"
            "PL_HL_CELK;HLASY_01;HLASY_02;HLASY_03\n")
    body = ["1;1100;500054;1;1;700;500;499;490;300;190;0",
            "1;1100;500054;2;1;600;400;400;398;200;198;0",
            "1;1100;500054;1;2;700;450;450;448;250;0;198",
            "2;1100;500054;9;1;0;0;0;0;0;0;0"]
    path = tmp_path / "pet1.csv"
    path.write_text(head + "\n".join(body) + "\n", encoding="cp1250")
    first = read(path, "cz-volby")
    assert list(first.data["station"]) == ["500054/1", "500054/2"]
    assert first.options == ["HLASY_01", "HLASY_02"]
    assert first.source["dropped_options"] == ["HLASY_03"]
    reasons = dict(zip(first.excluded["source_row"], first.excluded["reason"]))
    assert reasons == {4: "another round (KOLO is not 1)",
                       5: "not a polling-station row (TYP_FORM is not 1)"}
    second = read_cz_volby(path, round=2)
    assert list(second.data["station"]) == ["500054/1"]
    assert second.options == ["HLASY_01", "HLASY_03"]
    with pytest.raises(InputError, match=r"of round 3; the file holds round\(s\) 1, 2"):
        read_cz_volby(path, round=3)
    with pytest.raises(InputError, match="round must be a positive whole number"):
        read_cz_volby(path, round="1")


# ------------------------------------------------------------------ Canada

def _canada_raw():
    """Rows (dicts with the file's own values) and candidate totals per riding."""
    rows, totals = [], {}
    for f, _ in datasets.manifest(CA):
        with open(SHARED / CA / f, encoding="latin-1", newline="") as fh:
            reader = csv.reader(fh)
            header = next(reader)
            cands = header[4:-3]
            riding = defaultdict(int)
            for rec in reader:
                rec = rec + [""] * (len(header) - len(rec))
                votes = rec[4:-3]
                numeric = votes[0].strip().isdigit()
                rows.append({"riding": rec[0], "number": rec[2].strip(),
                             "numeric": numeric, "status": "" if numeric else votes[0],
                             "electors": (int(rec[-1]) if numeric and rec[-1].strip()
                                          else None),
                             "total": _count(rec[-2]) if numeric else 0})
                if numeric:
                    for c, v in zip(cands, votes):
                        riding[c] += _count(v)
            totals[f] = sorted(riding.values(), reverse=True) + [0] * (len(cands) - len(riding))
    return rows, totals


@pytest.mark.slow  # the whole Canadian folder; the small Canada tests below stay fast
def test_canada_totals_match_raw_files(canada):
    rows, totals = _canada_raw()
    assert len(canada.data) + len(canada.excluded) == len(rows) == canada.source["rows"]
    assert canada.source["files"] == 308
    kept = [r for r in rows if r["numeric"]]
    assert len(canada.data) == len(kept)
    assert canada.data["registered"].sum() == sum(r["electors"] or 0 for r in kept)
    assert canada.data["registered"].isna().sum() == sum(r["electors"] is None
                                                         for r in kept)
    assert canada.data["ballots_cast"].sum() == sum(r["total"] for r in kept)
    k = max(len(t) for t in totals.values())
    assert canada.options == [f"rank{i}" for i in range(1, k + 1)]
    for i in range(k):
        expected = sum(t[i] for t in totals.values() if len(t) > i)
        assert canada.data[f"rank{i + 1}"].sum() == expected, i + 1
    # A riding with fewer candidates has <NA>, not 0, at the missing ranks.
    n_cands = canada.data["district"].map({r: len(v) for r, v in
                                           canada.source["candidates"].items()})
    assert (canada.data["rank9"].isna() == (n_cands < 9)).all()
    _unique(canada)
    assert set(canada.data["region"]) == {"NL", "PE", "NS", "NB", "QC", "ON", "MB",
                                          "SK", "AB", "BC", "YT", "NT", "NU"}
    assert (canada.data["ballots_issued"].isna()).all()


@pytest.mark.slow  # whole Canadian folder
def test_canada_void_and_merged_polls_are_excluded(canada):
    rows, _ = _canada_raw()
    void = [r for r in rows if r["status"].startswith("Void")]
    merged = [r for r in rows if r["status"].startswith(("Merged", "Combined"))]
    special = [r for r in rows if r["status"].startswith("Electors voted by special")]
    assert len(void) + len(merged) + len(special) == len(canada.excluded)
    reasons = canada.excluded["reason"]
    assert reasons.str.startswith("void poll").sum() == len(void)
    assert reasons.str.startswith("merged with poll").sum() == len(merged)
    assert reasons.str.contains("special ballot").sum() == len(special)
    # Riding 10001 (Avalon), poll 4: "Void/Supprimé" in the file.
    hit = canada.excluded[canada.excluded["station"] == "10001/4"]
    assert list(hit["reason"]) == ["void poll (Void/Supprimé): no votes were taken there"]
    assert "10001/4" not in set(canada.data["station"])


@pytest.mark.slow  # whole Canadian folder
def test_canada_votes_above_electors_are_findings(canada):
    rows, _ = _canada_raw()
    over = sum(r["electors"] is not None and r["total"] > r["electors"]
               for r in rows if r["numeric"])
    assert canada.source["findings_by_check"]["cast_exceeds_registered"] == over > 0
    assert len(canada.data) == canada.source["stations"]


def test_canada_single_riding_file_and_absent_zero():
    path = _need(CA) / "pollbypoll_bureauparbureau10001.csv"
    table = read_ca_pollbypoll(path)
    assert table.options == [f"rank{i}" for i in range(1, 6)]
    assert table.source["candidates"]["10001"][0] == "Scott Andrews"
    totals = table.data[table.options].sum()
    assert list(totals) == sorted(totals, reverse=True)
    with pytest.raises(InputError, match="absent must be 'na' or 'zero'"):
        read_ca_pollbypoll(path, absent="0")


# ------------------------------------------------------------- registry

def test_clean_elections_listed():
    assert datasets.clean_elections() == sorted([PL, CZ, CA])
    assert {datasets.REGISTRY[n].format for n in datasets.clean_elections()} == \
        {"pl-pkw", "cz-volby", "ca-pollbypoll"}
    with pytest.raises(ValueError, match="kind must be one of"):
        datasets.Dataset("x", "u", "0" * 64, "", kind="dirty")


def test_folder_dataset_pinned_by_its_manifest():
    spec = datasets.REGISTRY[CA]
    shipped = datasets.MANIFESTS / spec.manifest
    assert hashlib.sha256(shipped.read_bytes()).hexdigest() == spec.sha256
    files = datasets.manifest(CA)
    assert len(files) == 308
    shared = SHARED / "clean" / "canada_fed2011_pollbypoll.sha256"
    if shared.exists():
        assert shared.read_bytes() == shipped.read_bytes()


@pytest.mark.slow  # whole Canadian folder
def test_parquet_copy_of_a_folder_dataset(canada, cache):
    again = datasets.load(CA)
    assert "parquet_cache" in again.source
    assert again.source["sha256"] == datasets.REGISTRY[CA].sha256
    pd.testing.assert_frame_equal(again.data, canada.data)
    pd.testing.assert_frame_equal(again.excluded, canada.excluded)
    assert again.options == canada.options


def test_tampered_file_is_refused(tmp_path, monkeypatch):
    src = _need(CZ)
    copy = tmp_path / CZ
    copy.parent.mkdir(parents=True)
    data = bytearray(src.read_bytes())
    data[-2:-1] = b"9" if data[-2:-1] != b"9" else b"8"
    copy.write_bytes(bytes(data))
    monkeypatch.setenv("AUDIT_DATA_DIR", str(tmp_path))
    monkeypatch.setattr(datasets, "DEFAULT_DIR", tmp_path / "home")
    with pytest.raises(InputError, match="sha256 mismatch") as err:
        datasets.load(CZ)
    assert str(copy) in str(err.value)


def test_tampered_riding_file_is_refused(tmp_path, monkeypatch):
    src = _need(CA)
    folder = tmp_path / CA
    shutil.copytree(src, folder)
    for p in folder.iterdir():
        p.chmod(0o644)
    victim = folder / "pollbypoll_bureauparbureau35001.csv"
    victim.write_bytes(victim.read_bytes().replace(b",", b";", 1))
    monkeypatch.setenv("AUDIT_DATA_DIR", str(tmp_path))
    monkeypatch.setattr(datasets, "DEFAULT_DIR", tmp_path / "home")
    with pytest.raises(InputError, match="sha256 mismatch") as err:
        datasets.load(CA)
    assert str(victim) in str(err.value)
    victim.unlink()
    with pytest.raises(InputError, match="1 file.s. missing") as err:
        datasets.fetch(CA, download=False)
    assert victim.name in str(err.value)
    assert not datasets.available([CA])


def test_canada_missing_ranks_na_or_zero(tmp_path):
    src = _need(CA)
    for f in ("pollbypoll_bureauparbureau10001.csv",    # 5 candidates
              "pollbypoll_bureauparbureau13001.csv",    # 3 candidates
              "pollbypoll_bureauparbureau47002.csv"):   # 4; rows lacking the last field
        shutil.copy(src / f, tmp_path / f)
    na = read(tmp_path, "ca-pollbypoll")
    zero = read(tmp_path, "ca-pollbypoll", absent="zero")
    assert na.options == zero.options == [f"rank{i}" for i in range(1, 6)]
    for riding, k in (("10001", 5), ("13001", 3), ("47002", 4)):
        rows = na.data["district"] == riding
        assert len(na.source["candidates"][riding]) == k
        assert na.data.loc[rows, na.options[:k]].notna().all().all()
        assert na.data.loc[rows, na.options[k:]].isna().all().all()
        assert (zero.data.loc[rows, na.options[k:]] == 0).all().all()
        pd.testing.assert_frame_equal(na.data.loc[rows, na.options[:k]],
                                      zero.data.loc[rows, na.options[:k]])
    # Advance polls of riding 47002 stop before the empty Electors field.
    assert na.source["padded_rows"] == {"47002": list(range(193, 209))}
    padded = na.data.loc[[470020000 + r for r in range(193, 209)]]
    assert padded["registered"].isna().all() and padded["ballots_cast"].gt(0).all()


def test_folder_dataset_downloaded_file_by_file(tmp_path, monkeypatch):
    origin = tmp_path / "origin"
    origin.mkdir()
    texts = {"a.csv": "station,ballots_cast,A,B\n1,10,6,4\n",
             "b.csv": "station,ballots_cast,A,B\n2,20,15,5\n"}
    for name, text in texts.items():
        (origin / name).write_text(text)
    lines = "".join(f"{hashlib.sha256(t.encode()).hexdigest()}  {n}\n"
                    for n, t in sorted(texts.items()))
    shipped = tmp_path / "manifests"
    shipped.mkdir()
    (shipped / "t.sha256").write_text(lines)
    spec = datasets.Dataset("test/folder", origin.as_uri() + "/",
                            hashlib.sha256(lines.encode()).hexdigest(), "",
                            manifest="t.sha256")
    monkeypatch.setattr(datasets, "MANIFESTS", shipped)
    monkeypatch.setitem(datasets.REGISTRY, spec.name, spec)
    monkeypatch.setenv("AUDIT_DATA_DIR", str(tmp_path / "cache"))
    assert not datasets.available([spec.name])
    path = datasets.fetch(spec.name)
    assert sorted(p.name for p in path.iterdir()) == ["a.csv", "b.csv"]
    (path / "b.csv").unlink()
    (origin / "a.csv").unlink()              # only the missing file is fetched
    assert datasets.fetch(spec.name) == path
    assert datasets.available([spec.name])
    (origin / "b.csv").write_text("tampered\n")
    (path / "b.csv").unlink()
    with pytest.raises(InputError, match="sha256 mismatch after download"):
        datasets.fetch(spec.name)
    (shipped / "t.sha256").write_text(lines.replace("a.csv", "c.csv"))
    with pytest.raises(InputError, match="sha256 mismatch of the manifest"):
        datasets.fetch(spec.name)
