"""What kind of file is this? Tables are told from everything else by content.

The readers look at the bytes, not at the file name: a ``.csv`` that is
really a PNG image, a saved web page, a JSON document or random bytes is
refused with one line saying what it looks like, instead of a parser error
(or worse, a "table" of garbage).  Recognised table containers:

``csv``
    delimited text (UTF-8 with or without BOM, Windows-1251, latin-1);
``xlsx``
    an Office Open XML workbook (a zip holding ``xl/workbook.xml``);
``parquet``
    starts with the ``PAR1`` magic number;
``zip`` / ``gzip``
    archives, opened and their single table read.
"""

from __future__ import annotations

import re

from ..core.errors import InputError

#: (magic prefix, what it is) for common non-table files.
_MAGIC = (
    (b"\x89PNG\r\n\x1a\n", "a PNG image"),
    (b"\xff\xd8\xff", "a JPEG image"),
    (b"GIF87a", "a GIF image"),
    (b"GIF89a", "a GIF image"),
    (b"%PDF", "a PDF document"),
    (b"BM", None),  # too short to trust alone; see below
    (b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1",
     "a legacy Excel .xls (or other OLE2) file; save it as .xlsx or CSV"),
    (b"7z\xbc\xaf\x27\x1c", "a 7-Zip archive; extract the table first"),
    (b"Rar!\x1a\x07", "a RAR archive; extract the table first"),
    (b"\xfd7zXZ\x00", "an xz archive; extract the table first"),
    (b"BZh", None),
    (b"SQLite format 3\x00", "an SQLite database"),
    (b"\x7fELF", "an executable program"),
    (b"MZ", None),
)


def kind_of(raw: bytes, *, file=None) -> str:
    """``"parquet"``, ``"zip"``, ``"gzip"``, ``"utf-16"`` (with its byte-order
    mark) or ``"text"``; InputError for anything else.

    Examples
    --------
    >>> kind_of(b"PAR1....")
    'parquet'
    >>> kind_of(b"\\x89PNG\\r\\n\\x1a\\n....", file="a.csv")
    Traceback (most recent call last):
    ...
    audit.core.errors.InputError: a.csv: not a table: the file is a PNG image
    """
    if not raw:
        raise InputError("the file is empty (0 bytes)", file=file)
    if raw[:4] == b"PAR1":
        return "parquet"
    if raw[:2] == b"PK":
        return "zip"
    if raw[:2] == b"\x1f\x8b":
        return "gzip"
    if raw[:2] in (b"\xff\xfe", b"\xfe\xff"):
        return "utf-16"
    for magic, what in _MAGIC:
        if what and raw.startswith(magic):
            raise InputError(f"not a table: the file is {what}", file=file)
    head = raw[:65536]
    if b"\x00" in head:
        raise InputError("not a table: the file holds binary data (NUL bytes), not "
                         "delimited text, .xlsx or Parquet", file=file)
    control = sum(head.count(bytes([b])) for b in range(32) if b not in (9, 10, 13))
    if control > max(8, len(head) // 100):
        raise InputError("not a table: the file holds binary data (control bytes), "
                         "not delimited text, .xlsx or Parquet", file=file)
    return "text"


_HTML = re.compile(r"<!doctype\s+html|<html[\s>]|<head[\s>]|<body[\s>]", re.IGNORECASE)


def check_text(head: str, *, file=None) -> None:
    """Refuse text that is clearly not a delimited table (HTML, XML, JSON, empty)."""
    stripped = head.lstrip("\ufeff \t\r\n")
    if not stripped:
        raise InputError("the file is empty (only blank lines)", file=file)
    if _HTML.search(stripped[:4096]):
        raise InputError("not a table: the file is an HTML page (a web page saved in "
                         "place of the data file?)", file=file)
    if stripped.startswith("<?xml") or stripped.startswith("<"):
        raise InputError("not a table: the file is XML/markup, not delimited text",
                         file=file)
    if stripped[0] in "{[":
        first = stripped.splitlines()[0]
        if stripped[0] == "{" or re.match(r"\[\s*([\[{\"\d]|$)", first):
            raise InputError("not a table: the file holds JSON, not delimited text "
                             "(convert it to CSV first)", file=file)
