"""How much a reader will read: limits on input size and decompression.

A results file can come from anywhere, and a small archive can hold a huge
table: a 5 MB zip can expand to a 1.2 GB CSV, which a reader would turn into
several gigabytes of memory.  Every reader therefore checks, before reading:

* the size of the file itself, and the uncompressed size of the table inside
  a zip archive, a gzip file, an ``.xlsx`` workbook (each of its members, and
  all of them together) or a Parquet file, against ``max_bytes``;
* the compression ratio (uncompressed / compressed size) of each of those
  against ``max_ratio``, once the uncompressed size passes
  :data:`RATIO_FLOOR` (small files may compress as well as they like).

Declared sizes can lie (a gzip trailer stores the size modulo 2**32, a zip
directory can be forged), so the same limits are enforced again while
decompressing: the reader stops as soon as the bytes produced pass them.

The defaults (:data:`DEFAULT_MAX_BYTES`, :data:`DEFAULT_MAX_RATIO`) hold
every real file of the dataset registry with room to spare (the largest,
the Russian 2020 file, is 47 MB of CSV compressed 28 times).  A user raises
them with ``--max-bytes`` / ``--max-ratio`` on ``audit run`` and ``audit
twin``, with the environment variables ``AUDIT_MAX_BYTES`` /
``AUDIT_MAX_RATIO``, or from Python with :func:`using` (or the
``max_bytes=`` / ``max_ratio=`` options of :func:`audit.tables.readers.read`).
Each refusal is one line naming the file, the limit hit and how to raise it.

>>> with using(max_bytes="2M"):
...     current().max_bytes
2000000
"""

from __future__ import annotations

import contextlib
import contextvars
import os
import re
import zlib
from dataclasses import dataclass

from ..core.errors import InputError

#: Largest file or uncompressed table read (bytes).
DEFAULT_MAX_BYTES = 1_000_000_000
#: Largest compression ratio accepted for a table that expands past RATIO_FLOOR.
DEFAULT_MAX_RATIO = 100.0
#: Below this uncompressed size the ratio is not checked (bytes).
RATIO_FLOOR = 16 * 2**20
#: Environment variables that set the limits.
ENV_MAX_BYTES = "AUDIT_MAX_BYTES"
ENV_MAX_RATIO = "AUDIT_MAX_RATIO"
#: Bytes read at a time while decompressing.
CHUNK = 2**20

_UNITS = {"": 1, "k": 10**3, "m": 10**6, "g": 10**9, "t": 10**12,
          "ki": 2**10, "mi": 2**20, "gi": 2**30, "ti": 2**40}
_SIZE = re.compile(r"\s*(\d+(?:\.\d*)?|\.\d+)\s*([kmgt]i?)?b?\s*", re.IGNORECASE)


@dataclass(frozen=True)
class Limits:
    """The limits in force: ``max_bytes`` (int) and ``max_ratio`` (float)."""

    max_bytes: int = DEFAULT_MAX_BYTES
    max_ratio: float = DEFAULT_MAX_RATIO


_override: contextvars.ContextVar[Limits | None] = contextvars.ContextVar(
    "audit_read_limits", default=None)


def parse_size(text, *, name: str = "max_bytes") -> int:
    """A number of bytes from ``2000000``, ``"500M"``, ``"1.5GB"`` or ``"2GiB"``
    (k, M, G, T are powers of 1000; Ki, Mi, Gi, Ti powers of 1024)."""
    if isinstance(text, bool):
        raise InputError(f"{name} must be a number of bytes, got {text!r}")
    if isinstance(text, (int, float)):
        value = float(text)
    else:
        m = _SIZE.fullmatch(str(text))
        if not m:
            raise InputError(f"{name} must be a number of bytes such as 2000000000, 2G "
                             f"or 500MiB, got {text!r}")
        value = float(m.group(1)) * _UNITS[(m.group(2) or "").lower()]
    if not value >= 1 or value != value or value == float("inf"):
        raise InputError(f"{name} must be at least 1 byte, got {text!r}")
    return int(value)


def parse_ratio(text, *, name: str = "max_ratio") -> float:
    """A compression ratio: a number of at least 1."""
    try:
        value = float(text)
    except (TypeError, ValueError):
        value = float("nan")
    if isinstance(text, bool) or not 1 <= value < float("inf"):
        raise InputError(f"{name} must be a number of at least 1, got {text!r}")
    return value


def current() -> Limits:
    """The limits in force: those set by :func:`using`, else the environment
    variables, else the defaults."""
    override = _override.get()
    if override is not None:
        return override
    env_bytes = os.environ.get(ENV_MAX_BYTES, "").strip()
    env_ratio = os.environ.get(ENV_MAX_RATIO, "").strip()
    return Limits(
        parse_size(env_bytes, name=ENV_MAX_BYTES) if env_bytes else DEFAULT_MAX_BYTES,
        parse_ratio(env_ratio, name=ENV_MAX_RATIO) if env_ratio else DEFAULT_MAX_RATIO)


@contextlib.contextmanager
def using(max_bytes=None, max_ratio=None):
    """Read with these limits inside the block (``None`` keeps the current one)."""
    now = current()
    limits = Limits(now.max_bytes if max_bytes is None else parse_size(max_bytes),
                    now.max_ratio if max_ratio is None else parse_ratio(max_ratio))
    token = _override.set(limits)
    try:
        yield limits
    finally:
        _override.reset(token)


def _bytes_hint(limit: int) -> str:
    return (f"above the limit of {limit:,} bytes; if the file is genuine, raise it with "
            f"--max-bytes or {ENV_MAX_BYTES}")


def _ratio_hint(limit: float) -> str:
    return (f"above the limit of {limit:g}; if the file is genuine, raise it with "
            f"--max-ratio or {ENV_MAX_RATIO}")


def check_file(path, size: int) -> None:
    """Refuse a file on disk larger than ``max_bytes`` (before reading it)."""
    limit = current().max_bytes
    if size > limit:
        raise InputError(f"refused before reading: the file is {size:,} bytes, "
                         f"{_bytes_hint(limit)}", file=path)


def check_expansion(path, what: str, size: int, compressed: int, *,
                    declared: bool = True) -> None:
    """Refuse ``what`` (e.g. "'x.csv' in the zip archive") when its
    uncompressed ``size`` passes ``max_bytes``, or its ratio to the
    ``compressed`` size passes ``max_ratio`` (above :data:`RATIO_FLOOR`)."""
    limits = current()
    when = "before reading" if declared else "while decompressing"
    verb = "declares" if declared else "expands to at least"
    if size > limits.max_bytes:
        raise InputError(f"refused {when}: {what} {verb} {size:,} bytes uncompressed, "
                         f"{_bytes_hint(limits.max_bytes)}", file=path)
    if size > RATIO_FLOOR and size > limits.max_ratio * max(compressed, 1):
        ratio = size / max(compressed, 1)
        raise InputError(f"refused {when}: {what} {verb} {size:,} bytes from "
                         f"{compressed:,} compressed, a ratio of {ratio:,.0f}, "
                         f"{_ratio_hint(limits.max_ratio)}", file=path)


def _over(total: int, compressed: int, limits: Limits) -> bool:
    return total > limits.max_bytes or (total > RATIO_FLOOR
                                        and total > limits.max_ratio * max(compressed, 1))


def read_stream(stream, path, what: str, compressed: int) -> bytes:
    """Read a decompressing ``stream`` (a zip member) to the end, checking the
    limits as the bytes arrive, whatever sizes the archive declared."""
    limits = current()
    parts, total = [], 0
    while chunk := stream.read(min(CHUNK, limits.max_bytes - total + 1)):
        total += len(chunk)
        if _over(total, compressed, limits):
            check_expansion(path, what, total, compressed, declared=False)
        parts.append(chunk)
    return b"".join(parts)


def _inflate(raw: bytes, path, what: str, *, keep: bool) -> bytes:
    """Decompress every member of a gzip file, refusing as soon as the bytes
    produced pass the limits (the ratio is taken against the compressed bytes
    consumed so far, so a bomb is stopped within :data:`RATIO_FLOOR`).  With
    ``keep=False`` nothing is kept: a counting pass in constant memory.
    Raises EOFError or zlib.error for a damaged or truncated file."""
    limits = current()
    parts, total, pos, n = [], 0, 0, len(raw)
    while True:
        d = zlib.decompressobj(wbits=31)        # gzip framing; checks CRC and length
        buf = b""
        while not d.eof:
            step = min(CHUNK, limits.max_bytes - total + 1)    # one byte past the limit at most
            if not buf:
                if pos >= n:
                    piece = d.decompress(b"", step)     # output zlib still holds
                    if not piece:
                        raise EOFError("compressed file ended before the end-of-stream "
                                       "marker was reached")
                else:
                    buf = raw[pos:pos + CHUNK // 16]
                    pos += len(buf)
            if buf:
                piece = d.decompress(buf, step)
                buf = d.unconsumed_tail
            total += len(piece)
            if _over(total, pos - len(buf), limits):
                check_expansion(path, what, total, pos - len(buf), declared=False)
            if keep and piece:
                parts.append(piece)
        pos -= len(d.unused_data)
        if raw[pos:pos + 2] == b"\x1f\x8b":
            continue                            # another member follows
        if not raw[pos:].strip(b"\0"):          # the end, or zero padding
            return b"".join(parts)
        raise zlib.error("data after the end of the gzip stream")


def gunzip(raw: bytes, path, what: str) -> bytes:
    """The bytes of a gzip file, within the limits.

    The trailer's size field (ISIZE) holds the last member's size modulo
    2**32, and a truncated file has no trailer at all, so it is only a hint:
    when it names more than ``max_bytes``, a first pass counts the bytes
    without keeping them (and refuses when they pass the limit, or finds the
    file damaged); the pass that keeps them checks the limits as it goes.
    """
    declared = int.from_bytes(raw[-4:], "little") if len(raw) >= 18 else 0
    if declared > current().max_bytes:
        _inflate(raw, path, what, keep=False)
    return _inflate(raw, path, what, keep=True)


def check_zip_members(zf, path, what: str) -> None:
    """Refuse a zip archive (or ``.xlsx`` workbook) whose members declare more
    than ``max_bytes`` together, or any member that passes the limits alone."""
    infos = [i for i in zf.infolist() if not i.is_dir()]
    for info in infos:
        check_expansion(path, f"{info.filename!r} in the {what}", info.file_size,
                        info.compress_size)
    check_expansion(path, f"the {what} ({len(infos)} members)",
                    sum(i.file_size for i in infos), sum(i.compress_size for i in infos))


def check_parquet(raw: bytes, path) -> None:
    """Refuse a Parquet file whose row groups declare more than the limits."""
    import io

    import pyarrow.parquet as pq

    try:
        meta = pq.ParquetFile(io.BytesIO(raw)).metadata
    except Exception:  # damaged files are reported by the reader itself
        return
    size = sum(meta.row_group(i).total_byte_size for i in range(meta.num_row_groups))
    check_expansion(path, "the Parquet file", size, len(raw))
