"""--format told from a file's content (audit.tables.detect) and
``audit datasets``."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from audit.cli.main import main
from audit.core.errors import InputError
from audit.tables import datasets
from audit.tables.detect import candidates, detect_format

DATA = Path(__file__).parent / "data" / "stations"
CORPUS = Path(__file__).parent / "corpus"
SHARED = Path(os.environ.get("AUDIT_DATA_DIR", "/work/shared/datasets"))


@pytest.mark.parametrize("name, fmt", [
    ("ru_cik_2018.csv", "ru-cik"), ("ua_cvk_president.csv", "ua-cvk"),
    ("canonical.csv", "canonical")])
def test_small_files_are_told_apart(name, fmt):
    assert detect_format(DATA / name) == fmt


@pytest.mark.parametrize("name", ["ok_zip_cp1251_ru_cik.csv.zip", "ok_gzip.csv.gz",
                                  "ok_parquet.parquet", "ok_xlsx_title_row.xlsx",
                                  "ok_utf8_bom.csv", "ok_tab.tsv"])
def test_containers_are_opened_to_read_the_header(name):
    # each corpus file is read by the format the corpus manifest names
    import csv

    with open(CORPUS / "MANIFEST.csv", encoding="utf-8") as fh:
        rows = {r["file"]: r for r in csv.DictReader(fh)}
    expected = rows[name]["format"]
    assert detect_format(CORPUS / name) == expected


def test_no_fit_names_the_formats_in_one_line():
    with pytest.raises(InputError, match="cannot tell the format") as info:
        detect_format(DATA / "other_country.csv", ["canonical", "ru-cik"])
    assert "\n" not in str(info.value) and "canonical, ru-cik" in str(info.value)


def test_several_fits_list_the_candidates(tmp_path):
    # a canonical file that also carries the Czech statistics-office columns
    cz = "TYP_FORM,OKRES,OBEC,OKRSEK,KOLO,VOL_SEZNAM,PL_HL_CELK"
    f = tmp_path / "both.csv"
    f.write_text(f"station,ballots_cast,registered,{cz}\n1,2,3,1,1,1,1,1,3,2\n",
                 encoding="utf-8")
    assert candidates(f) == ["cz-volby", "canonical"]
    with pytest.raises(InputError, match=r"fit several formats \(cz-volby, canonical\)"):
        detect_format(f)


@pytest.mark.parametrize("name", sorted(n for n, s in datasets.REGISTRY.items() if s.format))
def test_registered_files_are_detected_as_their_reader(name):
    path = SHARED / name
    if not path.exists():
        pytest.skip(f"{name} not in {SHARED}")
    assert detect_format(path) == datasets.REGISTRY[name].format


def test_datasets_command_lists_every_name_and_what_is_cached(tmp_path, monkeypatch, capsys):
    monkeypatch.setenv(datasets.ENV_VAR, str(tmp_path))
    one = "ru-cik/2024-electronic-voting.csv"
    (tmp_path / "ru-cik").mkdir()
    (tmp_path / one).write_bytes(b"x" * 2048)
    assert main(["datasets"]) == 0
    lines = capsys.readouterr().out.splitlines()
    rows = {ln.split()[0]: ln.split() for ln in lines[1:-1]}
    assert set(rows) == set(datasets.REGISTRY)
    assert rows[one][-1] == "yes" and rows[one][-3:-1] == ["2", "kB"]
    assert all(r[-1] == "no" for n, r in rows.items() if n != one)
    assert rows["clean/czech_pres2018_r1_pet1.csv"][1:4] == ["2018", "Czech", "Republic"]
    assert str(tmp_path) in lines[-1] and datasets.ENV_VAR in lines[-1]


def test_no_network_and_no_cache_names_the_cache_variable(tmp_path, monkeypatch, capsys):
    import urllib.error
    import urllib.request

    def offline(*args, **kwargs):
        raise urllib.error.URLError("no network")

    monkeypatch.setenv(datasets.ENV_VAR, str(tmp_path / "cache"))
    monkeypatch.setattr(urllib.request, "urlopen", offline)
    assert main(["run", "ru-cik/2020.csv.zip", "--out", str(tmp_path / "out")]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and datasets.ENV_VAR in err and "no network" in err


def test_the_example_mapping_reads_the_example_file(tmp_path, capsys):
    from audit.tables.readers import read

    examples = Path(__file__).parents[1] / "docs" / "examples"
    table = read(examples / "results.csv", "canonical", mapping=examples / "mapping.yaml")
    d = table.data
    assert list(d.columns) == ["region", "district", "station", "registered",
                               "ballots_issued", "ballots_cast", "invalid",
                               "Candidate A", "Candidate B"]
    # ballots issued on the day and early are added up, as the list in the YAML says
    assert d["ballots_issued"].tolist() == [702 + 41, 540 + 22, 811 + 60, 1099 + 75, 950 + 38]
    assert d["station"].tolist()[0] == "N-001" and d["region"].tolist()[-1] == "South"
    # and the command line takes it as the README shows (no --format needed)
    assert main(["run", str(examples / "results.csv"), "--mapping",
                 str(examples / "mapping.yaml"), "--out", str(tmp_path), "--no-figures",
                 "--tests", "last_digit"]) == 0
    assert "5 stations kept" in capsys.readouterr().out


@pytest.mark.parametrize("path", sorted(p for p in CORPUS.iterdir()
                                        if p.suffix not in (".py", ".yaml")
                                        and p.name != "MANIFEST.csv"),
                         ids=lambda p: p.name)
def test_every_corpus_file_gives_a_format_or_one_line(path):
    # damaged, empty or non-table files: one line naming the file, never a crash
    try:
        fmt = detect_format(path)
    except InputError as exc:
        assert "\n" not in str(exc) and str(path.name) in str(exc)
    else:
        assert fmt in ("canonical", "ru-cik", "ua-cvk")
