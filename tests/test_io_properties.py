"""Property-based tests and a bounded fuzzing run of the readers.

Hypothesis builds small valid station tables and writes them in many ways
(encoding, delimiter, number style, .xlsx, Parquet).  The properties: the
counts read back are the counts written; row order changes neither the
per-station data nor the findings; reading twice gives the same table; one
malformed count gives the documented one-line error naming its row and
column.  The fuzzing run mutates the bytes of valid files (seeded) and
requires a StationTable or an InputError, never another exception.
"""

from __future__ import annotations

import csv
import io
import random
import zipfile

import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from audit.core.errors import InputError
from audit.tables.readers import FORMATS, read

HEADER = ["region", "district", "station", "registered", "ballots_issued",
          "ballots_cast", "invalid", "Иванов", "Petrov"]
COUNTS = HEADER[3:]
REGIONS = ["North", "Южная", "Ёлкино", "Центр"]
ENCODINGS = ["utf-8", "utf-8-sig", "cp1251"]
DELIMS = [",", ";", "\t"]
STYLES = ["plain", "space", "nbsp", "comma", "dot", "dot_decimal_comma", "space_decimal"]
SETTINGS = dict(deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])


@st.composite
def tables(draw):
    n = draw(st.integers(1, 8))
    rows = []
    for i in range(n):
        region = draw(st.sampled_from(REGIONS))
        counts = draw(st.lists(st.integers(0, 2_500_000), min_size=6, max_size=6))
        rows.append([region, f"D{i % 3}", str(i + 1)] + counts)
    return rows


def fmt_number(v: int, style: str) -> str:
    grouped = f"{v:,}"
    return {"plain": str(v), "space": grouped.replace(",", " "),
            "nbsp": grouped.replace(",", "\u00a0"), "comma": grouped,
            "dot": grouped.replace(",", "."),
            "dot_decimal_comma": grouped.replace(",", ".") + ",0",
            "space_decimal": grouped.replace(",", " ") + ",00"}[style]


def write(rows, path, *, kind="csv", encoding="utf-8", delimiter=",", style="plain",
          override=None):
    """Write ``rows`` under HEADER; ``override`` = (row index, column, text)."""
    cells = [[*r[:3], *(fmt_number(v, style) for v in r[3:])] for r in rows]
    if override is not None:
        i, col, text = override
        cells[i][HEADER.index(col)] = text
    if kind == "csv":
        buf = io.StringIO()
        w = csv.writer(buf, delimiter=delimiter, lineterminator="\n")
        w.writerow(HEADER)
        w.writerows(cells)
        path.write_bytes(buf.getvalue().encode(encoding))
    elif kind == "xlsx":
        import openpyxl

        wb = openpyxl.Workbook()
        ws = wb.active
        ws.append(HEADER)
        for r, c in zip(rows, cells):
            ws.append(r[:3] + ([int(v) for v in r[3:]] if style == "plain" else c[3:]))
        if override is not None:
            i, col, text = override
            ws.cell(i + 2, HEADER.index(col) + 1, text)
        wb.save(path)
    elif kind == "parquet":
        frame = pd.DataFrame(cells, columns=HEADER)
        if style == "plain" and override is None:
            frame[COUNTS] = frame[COUNTS].astype("int64")
        frame.to_parquet(path, index=False)
    return path


def frame_of(rows):
    df = pd.DataFrame(rows, columns=HEADER)
    return df


def by_station(table):
    d = table.data.reset_index(drop=True)
    return d.sort_values("station", key=lambda s: s.astype(int)).reset_index(drop=True)


def findings_by_station(table):
    station = table.data["station"]
    return sorted((station.loc[r], c) for r, c in zip(table.findings.source_row,
                                                      table.findings.check))


kinds = st.sampled_from(["csv"] * 6 + ["xlsx", "parquet"])


@settings(max_examples=40, **SETTINGS)
@given(rows=tables(), kind=kinds, encoding=st.sampled_from(ENCODINGS),
       delimiter=st.sampled_from(DELIMS), style=st.sampled_from(STYLES))
def test_counts_read_back(tmp_path_factory, rows, kind, encoding, delimiter, style):
    path = tmp_path_factory.mktemp("rt") / f"t.{kind}"
    write(rows, path, kind=kind, encoding=encoding, delimiter=delimiter, style=style)
    t = read(path, "canonical")
    expected = frame_of(rows)
    assert t.options == ["Иванов", "Petrov"]
    assert t.data.index.tolist() == list(range(2, len(rows) + 2))
    for c in COUNTS:
        assert t.data[c].astype("int64").tolist() == expected[c].tolist(), c
    for c in ("region", "district", "station"):
        assert t.data[c].tolist() == expected[c].tolist()
    assert t.source["file_format"] == kind
    if kind == "csv":
        assert t.source["encoding"] == encoding
        assert t.source["delimiter"] == delimiter


@settings(max_examples=25, **SETTINGS)
@given(rows=tables(), seed=st.integers(0, 2**16), kind=kinds,
       style=st.sampled_from(STYLES), delimiter=st.sampled_from(DELIMS))
def test_row_order_and_repetition_do_not_matter(tmp_path_factory, rows, seed, kind, style,
                                               delimiter):
    folder = tmp_path_factory.mktemp("order")
    shuffled = list(rows)
    random.Random(seed).shuffle(shuffled)
    a = read(write(rows, folder / f"a.{kind}", kind=kind, style=style,
                   delimiter=delimiter), "canonical")
    b = read(write(shuffled, folder / f"b.{kind}", kind=kind, style=style,
                   delimiter=delimiter), "canonical")
    pd.testing.assert_frame_equal(by_station(a), by_station(b))
    assert findings_by_station(a) == findings_by_station(b)
    again = read(folder / f"a.{kind}", "canonical")
    pd.testing.assert_frame_equal(a.data, again.data)
    pd.testing.assert_frame_equal(a.findings, again.findings)
    pd.testing.assert_frame_equal(a.excluded, again.excluded)
    assert a.source == again.source


BAD = ["abc", "-3", "n.a.", "12x", "#DIV/0!", "--", "3-4"]


@settings(max_examples=40, **SETTINGS)
@given(rows=tables(), data=st.data(), kind=kinds, style=st.sampled_from(STYLES),
       delimiter=st.sampled_from(DELIMS))
def test_malformed_value_names_row_and_column(tmp_path_factory, rows, data, kind, style,
                                             delimiter):
    i = data.draw(st.integers(0, len(rows) - 1))
    col = data.draw(st.sampled_from(COUNTS))
    bad = data.draw(st.sampled_from(BAD))
    path = tmp_path_factory.mktemp("bad") / f"t.{kind}"
    write(rows, path, kind=kind, style=style, delimiter=delimiter, override=(i, col, bad))
    with pytest.raises(InputError) as err:
        read(path, "canonical")
    e = err.value
    assert (e.row, e.column) == (i + 2, col)
    assert e.message == f"expected a non-negative whole number, found {bad!r}"
    assert "\n" not in str(e)


@pytest.mark.parametrize("text, expected", [
    (["1,234", "12"], [1234, 12]),          # groups of three: thousands
    (["1,234", "12,5"], None),              # one value is not grouped: decimal comma
    (["1.234,0", "17,0"], [1234, 17]),
    (["1,234.0", "17.0"], [1234, 17]),
    (["1 234", "2\u202f000"], [1234, 2000]),
    (["12,0", "7"], [12, 7]),
    (["1,23"], None),
    (["1.234", "1,234"], None),             # both marks as thousands separators
])
def test_number_style_rule(text, expected):
    from audit.tables.numbers import to_counts

    s = pd.Series(text, index=range(2, 2 + len(text)))
    if expected is None:
        with pytest.raises(InputError, match="expected a non-negative whole number"):
            to_counts(s, file="f.csv", column="A")
    else:
        assert to_counts(s, file="f.csv", column="A").tolist() == expected


# ------------------------------------------------------------------ fuzzing

def _valid_files(folder):
    rows = [["North", "N1", "1", 1000, 600, 600, 10, 300, 290],
            ["Южная", "S1", "2", 1200, 700, 700, 5, 400, 295],
            ["Ёлкино", "S2", "3", 900, 500, 500, 0, 250, 250]]
    out = [write(rows, folder / "a.csv"),
           write(rows, folder / "b.csv", encoding="cp1251", delimiter=";",
                 style="dot_decimal_comma"),
           write(rows, folder / "c.tsv", delimiter="\t", style="space"),
           write(rows, folder / "d.xlsx", kind="xlsx"),
           write(rows, folder / "e.parquet", kind="parquet")]
    z = folder / "f.zip"
    with zipfile.ZipFile(z, "w", zipfile.ZIP_DEFLATED) as zf:
        zf.writestr("t.csv", (folder / "a.csv").read_bytes())
    out.append(z)
    return out


def _mutate(data: bytes, rnd: random.Random) -> bytes:
    b = bytearray(data)
    for _ in range(rnd.randint(1, 2)):
        op = rnd.choice(["flip"] * 3 + ["insert"] * 3 + ["delete"] * 2 + ["truncate", "dup"])
        if not b:
            break
        i = rnd.randrange(len(b))
        if op == "flip":
            b[i] ^= 1 << rnd.randrange(8)
        elif op == "delete":
            del b[i: i + rnd.randint(1, 16)]
        elif op == "insert":
            pool = [0, 9, 10, 13, 34, 44, 59, 0xFF, 0xD0, 48 + rnd.randrange(10)]
            b[i:i] = bytes(rnd.choice(pool) for _ in range(rnd.randint(1, 8)))
        elif op == "truncate":
            del b[i:]
        else:
            j = min(len(b), i + rnd.randint(1, 64))
            b[j:j] = b[i:j]
    return bytes(b)


def test_bounded_fuzzing(tmp_path):
    """300 seeded byte mutations: a StationTable or a one-line InputError."""
    rnd = random.Random(20241125)
    files = _valid_files(tmp_path)
    outcomes = {"table": 0, "error": 0}
    for case in range(300):
        src = files[case % len(files)]
        target = tmp_path / f"m{case}{src.suffix}"
        target.write_bytes(_mutate(src.read_bytes(), rnd))
        fmt = "ru-cik" if case % 25 == 0 else "canonical"
        try:  # the reader itself, not read(), which also guards against bugs
            t = FORMATS[fmt](target)
        except InputError as exc:
            assert "\n" not in str(exc) and "\r" not in str(exc), (case, str(exc))
            outcomes["error"] += 1
        except Exception as exc:  # noqa: BLE001 - the property under test
            pytest.fail(f"case {case} ({src.name}): {type(exc).__name__}: {exc}")
        else:
            assert len(t.data) + len(t.excluded) >= 1
            outcomes["table"] += 1
        target.unlink()
    # The mutations are neither all harmless nor all fatal.
    assert outcomes["table"] > 15 and outcomes["error"] > 15, outcomes
