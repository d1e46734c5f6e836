"""Readers: each results format becomes one :class:`audit.canonical.StationTable`.

>>> from audit.io import read
>>> table = read("2020.csv.zip", format="ru-cik")      # doctest: +SKIP

Formats (presets):

``ru-cik``
    Russian Central Election Commission files (``dkobak/elections``);
    protocol lines matched by meaning, see :mod:`audit.io.ru_cik`.
``ua-cvk``
    Ukrainian 2019 station files (``RomanKyrychenko/ukrainian_elections``),
    see :mod:`audit.io.ua_cvk`.
``canonical``
    CSV or Parquet already in canonical shape, or any table with a column
    mapping (dict or YAML file), see :mod:`audit.io.canonical`.
"""

from __future__ import annotations

from ._common import READER_VERSION
from .canonical import read_canonical
from .ru_cik import read_ru_cik
from .ua_cvk import read_ua_cvk

FORMATS = {"ru-cik": read_ru_cik, "ua-cvk": read_ua_cvk, "canonical": read_canonical}


def read(path, format: str, *, mapping=None, **options):
    """Read ``path`` with the reader of ``format``.

    Parameters
    ----------
    path : path-like
    format : {"ru-cik", "ua-cvk", "canonical"}
    mapping : dict or path-like, optional
        Column mapping, only for ``format="canonical"``.
    **options
        Passed to the reader (e.g. ``electronic="keep"`` for ru-cik).

    Returns
    -------
    StationTable
    """
    from ..errors import InputError

    if format not in FORMATS:
        raise InputError(f"unknown format {format!r}; expected one of "
                         + ", ".join(FORMATS))
    if mapping is not None:
        if format != "canonical":
            raise InputError(f"a column mapping applies to format 'canonical', "
                             f"not {format!r}")
        options["mapping"] = mapping
    return FORMATS[format](path, **options)


__all__ = ["FORMATS", "READER_VERSION", "read", "read_canonical", "read_ru_cik",
           "read_ua_cvk"]
