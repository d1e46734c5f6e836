"""Oversize files and decompression bombs are refused before they are read
(audit.tables.limits): plain files, zip members, gzip streams (whatever
their trailer says), .xlsx members and Parquet row groups.

The fast tests use small files with small limits; the slow ones generate a
1.2 GB bomb (zip, .xlsx and gzip) in the test's temporary folder and measure
the refusal in a fresh process (time and peak memory), and read a
million-station file under the default limits.
"""

from __future__ import annotations

import gzip
import io
import json
import os
import subprocess
import sys
import textwrap
import zipfile
from pathlib import Path

import pandas as pd
import pytest

from audit.cli.main import main
from audit.core.errors import InputError
from audit.tables import limits
from audit.tables.readers import read

HEADER = "region,district,station,registered,ballots_issued,ballots_cast,invalid,Alpha,Beta\n"


def _csv(n: int) -> str:
    return HEADER + "".join(f"R{i % 3},D{i % 7},{i},1000,600,600,10,{300 + i % 50},"
                            f"{290 - i % 50}\n" for i in range(n))


def _put(tmp_path, name, data) -> Path:
    p = tmp_path / name
    p.write_bytes(data if isinstance(data, bytes) else data.encode())
    return p


def _zip(tmp_path, name, members: dict) -> Path:
    p = tmp_path / name
    with zipfile.ZipFile(p, "w", zipfile.ZIP_DEFLATED) as zf:
        for member, data in members.items():
            zf.writestr(member, data)
    return p


def _never_read(monkeypatch):
    """Fail if anything decompresses a zip member or loads a workbook."""
    def boom(*args, **kwargs):
        raise AssertionError("the member was read")
    monkeypatch.setattr(zipfile.ZipExtFile, "read", boom)
    monkeypatch.setattr("openpyxl.load_workbook", boom)


# ------------------------------------------------------------------ sizes

@pytest.mark.parametrize("text, expected", [
    ("2000000", 2_000_000), ("500M", 500_000_000), ("1.5GB", 1_500_000_000),
    ("2GiB", 2 * 2**30), ("64 KiB", 65536), (1024, 1024)])
def test_parse_size(text, expected):
    assert limits.parse_size(text) == expected


@pytest.mark.parametrize("text", ["", "abc", "-5", "0", "2X", "1e9", True])
def test_parse_size_refuses(text):
    with pytest.raises(InputError, match="max_bytes must be"):
        limits.parse_size(text)


def test_limits_from_the_environment_and_from_using(monkeypatch):
    monkeypatch.delenv(limits.ENV_MAX_BYTES, raising=False)
    monkeypatch.delenv(limits.ENV_MAX_RATIO, raising=False)
    assert limits.current() == limits.Limits(1_000_000_000, 100.0)
    monkeypatch.setenv(limits.ENV_MAX_BYTES, "3G")
    monkeypatch.setenv(limits.ENV_MAX_RATIO, "500")
    assert limits.current() == limits.Limits(3_000_000_000, 500.0)
    with limits.using(max_bytes=10):          # the command line wins over the environment
        assert limits.current() == limits.Limits(10, 500.0)
    assert limits.current().max_bytes == 3_000_000_000
    monkeypatch.setenv(limits.ENV_MAX_BYTES, "lots")
    with pytest.raises(InputError, match="AUDIT_MAX_BYTES must be a number of bytes"):
        limits.current()


def test_plain_file_over_the_limit_is_refused_before_reading(tmp_path, monkeypatch):
    path = _put(tmp_path, "big.csv", _csv(2000))
    size = path.stat().st_size
    monkeypatch.setattr(Path, "read_bytes", lambda self: pytest.fail("file was read"))
    with pytest.raises(InputError) as err:
        read(path, "canonical", max_bytes=size - 1)
    assert str(err.value) == (
        f"{path}: refused before reading: the file is {size:,} bytes, above the limit of "
        f"{size - 1:,} bytes; if the file is genuine, raise it with --max-bytes or "
        "AUDIT_MAX_BYTES")


def test_raising_the_limit_reads_the_file(tmp_path, monkeypatch):
    path = _put(tmp_path, "big.csv", _csv(2000))
    monkeypatch.setenv(limits.ENV_MAX_BYTES, "10K")
    with pytest.raises(InputError, match="above the limit of 10,000 bytes"):
        read(path, "canonical")
    assert len(read(path, "canonical", max_bytes="1M").data) == 2000
    monkeypatch.setenv(limits.ENV_MAX_BYTES, "1M")
    assert len(read(path, "canonical").data) == 2000


# ------------------------------------------------------------------ zip

def test_zip_member_over_the_limit_is_refused_before_reading(tmp_path, monkeypatch):
    text = _csv(2000)
    path = _zip(tmp_path, "t.zip", {"t.csv": text})
    assert path.stat().st_size < 20_000 < len(text)
    _never_read(monkeypatch)
    with pytest.raises(InputError, match=rf"^{path}: refused before reading: 't.csv' in the "
                                         rf"zip archive declares {len(text):,} bytes "
                                         r"uncompressed, above the limit of 20,000 bytes; "
                                         r"if the file is genuine, raise it with --max-bytes"):
        read(path, "canonical", max_bytes=20_000)


def test_zip_ratio_is_refused_before_reading(tmp_path, monkeypatch):
    """A member that expands more than max_ratio times (past RATIO_FLOOR)."""
    data = HEADER.encode() + b"A,B,1,1,1,1,0,1,0\n" * (limits.RATIO_FLOOR // 18 + 10)
    path = _zip(tmp_path, "r.zip", {"r.csv": data})
    ratio = len(data) / zipfile.ZipFile(path).getinfo("r.csv").compress_size
    assert ratio > 100
    _never_read(monkeypatch)
    with pytest.raises(InputError, match=r"refused before reading: 'r.csv' in the zip archive "
                                         rf"declares {len(data):,} bytes from [\d,]+ "
                                         r"compressed, a ratio of [\d,]+, above the limit of "
                                         r"100; .* --max-ratio or AUDIT_MAX_RATIO$"):
        read(path, "canonical")


def test_zip_stream_is_checked_whatever_the_archive_declares(tmp_path):
    """The streaming check does not trust declared sizes: a stream that
    gives more than the limit is stopped one byte past it."""
    stream = io.BytesIO(b"x" * 3_000_000)
    with limits.using(max_bytes=1_000_000):
        with pytest.raises(InputError, match=r"refused while decompressing: 'x.csv' in the zip "
                                             r"archive expands to at least 1,000,001 bytes"):
            limits.read_stream(stream, tmp_path / "x.zip", "'x.csv' in the zip archive", 10)
    assert stream.tell() == 1_000_001


def test_zip_that_understates_its_member_is_damaged_not_read_past(tmp_path):
    """A forged central directory declaring 1,000 bytes for a 3 MB member:
    the member is read no further than declared, and the file is damaged."""
    data = b"a,b\n" + b"1,2\n" * 750_000
    path = _zip(tmp_path, "forged.zip", {"forged.csv": data})
    raw = bytearray(path.read_bytes())
    central = raw.rindex(b"PK\x01\x02")            # the member's central directory entry
    assert int.from_bytes(raw[central + 24:central + 28], "little") == len(data)
    raw[central + 24:central + 28] = (1000).to_bytes(4, "little")
    path.write_bytes(bytes(raw))
    with pytest.raises(InputError, match=r"cannot read 'forged.csv' from the zip archive "
                                         r"\(damaged or truncated\?\)"):
        read(path, "canonical", max_bytes=100_000)


# ------------------------------------------------------------------ gzip

def test_gzip_over_the_limit_is_refused_while_decompressing(tmp_path):
    text = _csv(3000)
    path = _put(tmp_path, "t.csv.gz", gzip.compress(text.encode(), mtime=0))
    assert len(read(path, "canonical").data) == 3000
    with pytest.raises(InputError, match=r"refused while decompressing: 't.csv' in the gzip "
                                         r"file expands to at least 50,001 bytes uncompressed, "
                                         r"above the limit of 50,000 bytes"):
        read(path, "canonical", max_bytes=50_000)


def test_gzip_that_understates_its_size_is_stopped_while_streaming(tmp_path):
    """ISIZE is the size modulo 2**32 and can lie: 3 MB declared as 100 bytes."""
    raw = bytearray(gzip.compress(b"a,b\n" + b"1,2\n" * 750_000, mtime=0))
    raw[-4:] = (100).to_bytes(4, "little")
    path = _put(tmp_path, "lie.csv.gz", bytes(raw))
    with pytest.raises(InputError, match=r"refused while decompressing: 'lie.csv' in the gzip "
                                         r"file expands to at least 1,000,001 bytes"):
        read(path, "canonical", max_bytes=1_000_000)


def test_gzip_bomb_is_stopped_by_its_ratio(tmp_path):
    """The ratio is taken against the compressed bytes consumed so far."""
    raw = gzip.compress(b"a,b\n" + b"1,2\n" * (limits.RATIO_FLOOR // 4 + 1_000_000), mtime=0)
    path = _put(tmp_path, "z.csv.gz", raw)
    with pytest.raises(InputError, match=r"refused while decompressing: 'z.csv' in the gzip file "
                                         r"expands to at least [\d,]+ bytes from [\d,]+ "
                                         r"compressed, a ratio of [\d,]+, above the limit of 100"):
        read(path, "canonical")


def test_gzip_that_overstates_its_size_or_is_cut_is_damaged_not_a_bomb(tmp_path):
    """A trailer naming more than the limit triggers a counting pass first;
    a file that is merely damaged or cut is reported as such."""
    good = gzip.compress(_csv(50).encode(), mtime=0)
    over = bytearray(good)
    over[-4:] = (2**32 - 1).to_bytes(4, "little")
    for name, raw in (("over.csv.gz", bytes(over)), ("cut.csv.gz", good[:-12] + b"\xff" * 4)):
        path = _put(tmp_path, name, raw)
        with pytest.raises(InputError, match="damaged or truncated gzip file"):
            read(path, "canonical", max_bytes=100_000)


def test_multi_member_gzip_reads_whole(tmp_path):
    text = _csv(100)
    raw = gzip.compress(text[:500].encode()) + gzip.compress(text[500:].encode()) + b"\0" * 8
    assert len(read(_put(tmp_path, "m.csv.gz", raw), "canonical").data) == 100


# ------------------------------------------------------------------ xlsx, parquet

def _workbook(tmp_path, n: int) -> Path:
    import openpyxl

    wb = openpyxl.Workbook()
    for line in _csv(n).splitlines():
        wb.active.append([int(c) if c.isdigit() else c for c in line.split(",")])
    path = tmp_path / "t.xlsx"
    wb.save(path)
    return path


def _xlsx_bomb(path: Path, rows: int) -> Path:
    """A workbook whose one sheet holds ``rows`` identical rows (a few bytes
    each once compressed)."""
    row = ('<row><c t="inlineStr"><is><t>R</t></is></c><c><v>1000</v></c>'
           '<c><v>600</v></c></row>').encode()
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED, compresslevel=1) as zf:
        zf.writestr("[Content_Types].xml", '<?xml version="1.0"?><Types/>')
        zf.writestr("xl/workbook.xml", '<?xml version="1.0"?><workbook/>')
        with zf.open("xl/worksheets/sheet1.xml", "w", force_zip64=True) as f:
            f.write(b'<?xml version="1.0"?><worksheet><sheetData>')
            block = row * 1000
            for _ in range(rows // 1000):
                f.write(block)
            f.write(b"</sheetData></worksheet>")
    return path


def test_xlsx_members_over_the_limit_are_refused_before_loading(tmp_path, monkeypatch):
    path = _workbook(tmp_path, 500)
    assert len(read(path, "canonical").data) == 500
    sheet = zipfile.ZipFile(path).getinfo("xl/worksheets/sheet1.xml").file_size
    _never_read(monkeypatch)
    with pytest.raises(InputError, match=r"refused before reading: 'xl/worksheets/sheet1.xml' "
                                         rf"in the .xlsx workbook declares {sheet:,} bytes"):
        read(path, "canonical", max_bytes=sheet - 1)


def test_xlsx_bomb_is_refused_before_loading(tmp_path, monkeypatch):
    path = _xlsx_bomb(tmp_path / "bomb.xlsx", rows=250_000)
    _never_read(monkeypatch)
    with pytest.raises(InputError, match=r"'xl/worksheets/sheet1.xml' in the .xlsx workbook "
                                         r"declares [\d,]+ bytes from [\d,]+ compressed, a "
                                         r"ratio of [\d,]+, above the limit of 100"):
        read(path, "canonical")


def test_xlsx_members_together_over_the_limit(tmp_path):
    zf_path = _zip(tmp_path, "many.xlsx", {"[Content_Types].xml": "x" * 600,
                                           "xl/workbook.xml": "y" * 600})
    with pytest.raises(InputError, match=r"the .xlsx workbook \(2 members\) declares 1,200 "
                                         r"bytes uncompressed, above the limit of 1,000"):
        read(zf_path, "canonical", max_bytes=1000)


def test_parquet_row_groups_over_the_limit(tmp_path):
    df = pd.read_csv(io.StringIO(_csv(3000)))
    path = tmp_path / "t.parquet"
    df.to_parquet(path)
    assert len(read(path, "canonical").data) == 3000
    with pytest.raises(InputError, match=r"refused before reading: the Parquet file declares "
                                         r"[\d,]+ bytes uncompressed, above the limit"):
        read(path, "canonical", max_bytes=path.stat().st_size + 1)


# ------------------------------------------------------------------ command line

def test_cli_max_bytes(tmp_path, capsys):
    path = _zip(tmp_path, "t.zip", {"t.csv": _csv(2000)})
    for command in (["run", str(path), "--format", "canonical", "--out", str(tmp_path / "o"),
                     "--no-figures"], ["twin", str(path), "--format", "canonical",
                                       "-o", str(tmp_path / "twin.csv")]):
        assert main(command + ["--max-bytes", "20K"]) == 2
        err = capsys.readouterr().err
        assert err.startswith(f"audit: error: {path}: refused before reading: 't.csv' in the "
                              "zip archive declares")
        assert err.endswith("raise it with --max-bytes or AUDIT_MAX_BYTES\n")
        assert err.count("\n") == 1
    assert main(["twin", str(path), "--format", "canonical", "-o", str(tmp_path / "twin.csv"),
                 "--max-bytes", "1M"]) == 0
    assert (tmp_path / "twin.csv").is_file()


def test_cli_refuses_a_bad_limit(capsys):
    with pytest.raises(SystemExit) as exc:
        main(["run", "x.csv", "--format", "canonical", "--out", "o", "--max-bytes", "lots"])
    assert exc.value.code == 2
    assert capsys.readouterr().err.endswith(
        "error: argument --max-bytes: a number of bytes such as 2000000000, 2G or 500MiB, "
        "got 'lots'\n")


# ------------------------------------------------------------------ slow: real sizes

# Peak memory of the process itself: VmHWM, the high-water mark of its own
# address space. (getrusage's ru_maxrss would also count the parent's resident
# size at fork time, which Linux carries across exec: inside a large pytest run
# it reports the test runner's memory, not the command's.)
_MEASURE = textwrap.dedent("""
    import json, resource, sys, time
    from audit.cli.main import main

    def peak_mb():
        try:
            with open("/proc/self/status") as fh:
                for line in fh:
                    if line.startswith("VmHWM:"):
                        return int(line.split()[1]) / 1024
        except OSError:
            pass
        return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024

    start = time.perf_counter()
    status = main(sys.argv[1:])
    print(json.dumps({"status": status, "seconds": time.perf_counter() - start,
                      "peak_mb": peak_mb()}))
""")


def _measure(path: Path, tmp_path) -> tuple[dict, str]:
    res = subprocess.run([sys.executable, "-c", _MEASURE, "run", str(path), "--format",
                          "canonical", "--out", str(tmp_path / "out"), "--no-figures"],
                         capture_output=True, text=True, timeout=300, check=False,
                         env={k: v for k, v in os.environ.items()
                              if k not in (limits.ENV_MAX_BYTES, limits.ENV_MAX_RATIO)})
    return json.loads(res.stdout.strip().splitlines()[-1]), res.stderr


def _zip_bomb(path: Path, size: int) -> Path:
    """A CSV of ``size`` bytes (40-row block repeated) deflated into a zip,
    written as it is generated."""
    block = "".join(f"R1,D2,{i},1500,900,880,12,500,368\n" for i in range(40)).encode() * 40
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED, compresslevel=1) as zf:
        with zf.open("results.csv", "w", force_zip64=True) as f:
            f.write(HEADER.encode())
            for _ in range(size // len(block) + 1):
                f.write(block)
    return path


@pytest.mark.slow
def test_bombs_are_refused_fast_and_small(tmp_path):
    """A 1.2 GB CSV in a zip of a few MB, the same as a gzip stream whose
    trailer says 1,000 bytes, and a 1.2 GB .xlsx sheet: each refused in
    under 2 s with a peak memory under 400 MB (the whole process)."""
    zbomb = _zip_bomb(tmp_path / "bomb.zip", 1_200_000_000)
    info = zipfile.ZipFile(zbomb).getinfo("results.csv")
    assert info.file_size >= 1_200_000_000 and zbomb.stat().st_size < 10_000_000
    gbomb = tmp_path / "bomb.csv.gz"
    with zipfile.ZipFile(zbomb) as zf, zf.open("results.csv") as src, \
            gzip.GzipFile(gbomb, "wb", compresslevel=1, mtime=0) as dst:
        while chunk := src.read(2**24):
            dst.write(chunk)
    with open(gbomb, "r+b") as f:                 # the trailer lies about the size
        f.seek(-4, os.SEEK_END)
        f.write((1000).to_bytes(4, "little"))
    xbomb = _xlsx_bomb(tmp_path / "bomb.xlsx", rows=14_500_000)
    assert zipfile.ZipFile(xbomb).getinfo("xl/worksheets/sheet1.xml").file_size > 1_200_000_000

    for path, expect in ((zbomb, "refused before reading: 'results.csv' in the zip archive"),
                         (gbomb, "refused while decompressing: 'bomb.csv' in the gzip file"),
                         (xbomb, "refused before reading: 'xl/worksheets/sheet1.xml' in the "
                                 ".xlsx workbook")):
        figures, err = _measure(path, tmp_path)
        print(f"{path.name}: {path.stat().st_size:,} bytes, refused in "
              f"{figures['seconds']:.2f} s, peak {figures['peak_mb']:.0f} MB")
        assert figures["status"] == 2
        assert expect in err and err.count("\n") == 1, err
        assert figures["seconds"] < 2
        assert figures["peak_mb"] < 400


@pytest.mark.slow
def test_a_million_station_file_reads_under_the_default_limits(tmp_path, monkeypatch):
    """One million simulated stations in a zipped canonical CSV pass the
    default limits (the sizes are printed)."""
    import numpy as np

    from audit.stations.simulate import clean_election

    monkeypatch.delenv(limits.ENV_MAX_BYTES, raising=False)
    monkeypatch.delenv(limits.ENV_MAX_RATIO, raising=False)
    table = clean_election(1_000_000, rng=np.random.default_rng(5))
    path = tmp_path / "million.zip"
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as zf:
        zf.writestr("million.csv", table.data.to_csv(index=False))
    info = zipfile.ZipFile(path).getinfo("million.csv")
    print(f"1M stations: {info.file_size:,} bytes of CSV, {info.compress_size:,} zipped")
    assert len(read(path, "canonical").data) == 1_000_000
