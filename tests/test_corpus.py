"""Every file of the malformed / doctored corpus through the command line.

``tests/corpus/MANIFEST.csv`` says, per file, what ``audit run`` must do:
``error`` - exit status 2 and exactly one line on stderr matching the
manifest's regular expression (never a traceback); ``finding`` - exit 0 and
the match in the written findings or excluded rows; ``ok`` - exit 0 and the
match in what the reader detected (its ``source`` and options);
``flagged`` - exit 0 and the named test rejected after Benjamini-Hochberg.
The files are rebuilt byte-identically by ``tests/corpus/make_corpus.py``.
"""

from __future__ import annotations

import csv
import json
import re
import shlex
from pathlib import Path

import pytest

from audit.cli.main import main
from audit.tables.readers import read

CORPUS = Path(__file__).parent / "corpus"
MANIFEST = list(csv.DictReader(open(CORPUS / "MANIFEST.csv", encoding="utf-8")))


def _options(row) -> list[str]:
    return shlex.split(row["options"].replace("{here}", str(CORPUS)))


@pytest.mark.parametrize("row", MANIFEST, ids=[r["file"] for r in MANIFEST])
def test_corpus_file(row, tmp_path, capsys):
    path = CORPUS / row["file"]
    out = tmp_path / "out"
    status = main(["run", str(path), "--format", row["format"], "--out", str(out),
                   "--no-figures", *_options(row)])
    captured = capsys.readouterr()
    assert "Traceback" not in captured.err + captured.out
    if row["expect"] == "error":
        assert status == 2, captured.out
        lines = captured.err.splitlines()
        assert len(lines) == 1, captured.err
        assert lines[0].startswith("audit: error: ")
        named = [str(path)] + [a for a in _options(row) if a.endswith((".yaml", ".yml"))]
        assert any(n in lines[0] for n in named), lines[0]  # the file at fault
        assert re.search(row["match"], lines[0]), lines[0]
        return
    assert status == 0, captured.err
    if row["expect"] == "finding":
        written = "\n".join(p.read_text(encoding="utf-8")
                            for p in sorted(out.glob("*.csv")) if p.name != "results.csv")
        assert re.search(row["match"], written), written
    elif row["expect"] == "ok":
        argv = _options(row)
        mapping = argv[argv.index("--mapping") + 1] if "--mapping" in argv else None
        table = read(path, row["format"], **({"mapping": mapping} if mapping else {}))
        shown = json.dumps({"source": table.source, "options": table.options},
                           ensure_ascii=False, default=str)
        assert re.search(row["match"], shown), shown
        assert len(table.data) > 0
    elif row["expect"] == "flagged":
        records = json.loads((out / "results.json").read_text(encoding="utf-8"))
        if isinstance(records, dict):  # {"provenance": ..., "results": [...]}
            records = records["results"]
        hits = [r for r in records if re.fullmatch(row["match"], r["test"])
                and r.get("scope", "national") == "national"]
        assert hits and all(r["reject_bh"] for r in hits), hits
    else:  # pragma: no cover
        pytest.fail(f"unknown expect {row['expect']!r}")


def test_every_corpus_file_is_in_the_manifest():
    listed = {r["file"] for r in MANIFEST}
    referenced = {Path(a).name for r in MANIFEST for a in _options(r) if "{here}" in
                  r["options"] and a.endswith((".yaml", ".yml"))}
    present = {p.name for p in CORPUS.iterdir()
               if p.is_file() and p.name not in ("MANIFEST.csv", "make_corpus.py")}
    assert present == listed | referenced
    assert {r["expect"] for r in MANIFEST} <= {"error", "finding", "ok", "flagged"}
    assert {r["format"] for r in MANIFEST} <= {"canonical", "ru-cik", "ua-cvk"}


def test_corpus_is_regenerated_identically(tmp_path):
    """make_corpus.py rebuilds the committed files (text files byte for byte;
    workbooks, zip and Parquet files too while the writing libraries are the
    versions they were made with)."""
    import importlib.util

    spec = importlib.util.spec_from_file_location("make_corpus", CORPUS / "make_corpus.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    module.main(tmp_path)
    built = {p.name for p in tmp_path.iterdir()}
    committed = {p.name for p in CORPUS.iterdir() if p.is_file()} - {"make_corpus.py"}
    assert built == committed
    binary = (".xlsx", ".parquet", ".zip", ".gz", ".xls")
    for name in sorted(built):
        if not name.endswith(binary):
            assert (tmp_path / name).read_bytes() == (CORPUS / name).read_bytes(), name


def test_manifest_covers_each_kind():
    kinds = {r["expect"] for r in MANIFEST}
    assert kinds == {"error", "finding", "ok", "flagged"}
    assert len(MANIFEST) >= 20
