"""Readers: each results format becomes one :class:`audit.tables.station_table.StationTable`.

>>> from audit.tables.readers import read
>>> table = read("2020.csv.zip", format="ru-cik")      # doctest: +SKIP

Formats (presets):

``ru-cik``
    Russian Central Election Commission files (``dkobak/elections``);
    protocol lines matched by meaning, see :mod:`audit.tables.readers.ru_cik`.
``ua-cvk``
    Ukrainian 2019 station files (``RomanKyrychenko/ukrainian_elections``),
    see :mod:`audit.tables.readers.ua_cvk`.
``pl-pkw``
    Polish electoral commission (PKW) station files, e.g. the 2020
    presidential ``wyniki_gl_na_kand_po_obwodach_csv.zip``; region is the
    voivodeship ("abroad" / "ships" for those stations), district the gmina
    (TERYT code and name), see :mod:`audit.tables.readers.pl_pkw`.
``cz-volby``
    Czech statistics office presidential ``pet1`` files (volby.cz); one
    round (``round=1`` or ``2``), region = first two digits of the district
    code, district = municipality, see :mod:`audit.tables.readers.cz_volby`.
``ca-pollbypoll``
    Elections Canada poll-by-poll files, a folder of one file per riding
    (or one file); options are the riding's candidates by rank
    (``rank1`` = the riding's winner), see :mod:`audit.tables.readers.ca_pollbypoll`.
``canonical``
    A table already in canonical shape, or any table with a column
    mapping (dict or YAML file), see :mod:`audit.tables.readers.canonical`.

Every preset reads the same containers, told apart by content: delimited
text (UTF-8 with or without BOM, UTF-16 with BOM, Windows-1251; comma,
semicolon, tab or bar), ``.xlsx`` workbooks (``sheet=`` picks a sheet; see
:mod:`audit.tables.excel` for the header rule), Parquet, and any of these in a
zip archive or gzip-compressed, within the size and decompression limits of
:mod:`audit.tables.limits` (checked before reading).  Count cells may use thousands separators
and zero decimals (:mod:`audit.tables.numbers`).  What was detected is recorded
in ``StationTable.source`` (``file_format``, ``encoding``, ``delimiter``,
``thousands``, ``decimal``, ``sheet``, ``header_rows``, ...).

Problems are reported in one of three ways, never silently:

* :class:`audit.core.errors.InputError`, one line naming the file, row and
  column: files that are empty, truncated, damaged or not tables; missing
  columns (with the closest name the file has); text, negative or
  fractional values in count columns; ragged rows; repeated names;
* ``StationTable.excluded``: rows left out, each with its reason (blank
  rows, stations without results, remote e-voting pseudo-stations, ...);
* ``StationTable.findings``: impossible figures kept as reported (turnout
  over 100%, votes above ballots cast, more ballots cast than issued) and
  repeated stations (identical or conflicting rows), one row per station
  and check; ``source["findings_by_check"]`` counts them.
"""

from __future__ import annotations

from ...core.versions import READER_VERSION
from .. import limits
from .ca_pollbypoll import read_ca_pollbypoll
from .canonical import read_canonical
from .cz_volby import read_cz_volby
from .pl_pkw import read_pl_pkw
from .ru_cik import read_ru_cik
from .ua_cvk import read_ua_cvk

FORMATS = {"ru-cik": read_ru_cik, "ua-cvk": read_ua_cvk, "pl-pkw": read_pl_pkw,
           "cz-volby": read_cz_volby, "ca-pollbypoll": read_ca_pollbypoll,
           "canonical": read_canonical}


def read(path, format: str, *, mapping=None, max_bytes=None, max_ratio=None, **options):
    """Read ``path`` with the reader of ``format``.

    Parameters
    ----------
    path : path-like
    format : {"ru-cik", "ua-cvk", "pl-pkw", "cz-volby", "ca-pollbypoll", "canonical"}
    mapping : dict or path-like, optional
        Column mapping, only for ``format="canonical"``.
    max_bytes, max_ratio : optional
        Limits on the file's size and on what its archive may expand to
        (bytes, e.g. ``"2G"``, and uncompressed/compressed ratio); the
        defaults and the environment variables are in
        :mod:`audit.tables.limits`.
    **options
        Passed to the reader (e.g. ``electronic="keep"`` for ru-cik,
        ``round=2`` for cz-volby, ``absent="zero"`` for ca-pollbypoll).

    Returns
    -------
    StationTable

    Raises
    ------
    InputError
        For every problem of the file or the options, as one line naming
        the file (and row and column where there is one).  An unexpected
        failure inside a reader (a bug) is also reported as one line, with
        the exception type, rather than a traceback.
    """
    from ...core.errors import InputError

    if format not in FORMATS:
        raise InputError(f"unknown format {format!r}; expected one of "
                         + ", ".join(FORMATS))
    if mapping is not None:
        if format != "canonical":
            raise InputError(f"a column mapping applies to format 'canonical', "
                             f"not {format!r}")
        options["mapping"] = mapping
    reader = FORMATS[format]
    try:
        with limits.using(max_bytes=max_bytes, max_ratio=max_ratio):
            return reader(path, **options)
    except InputError:
        raise
    except TypeError as exc:
        if "unexpected keyword argument" in str(exc):
            raise InputError(f"format {format!r} takes no option "
                             f"{str(exc).rsplit(' ', 1)[-1]}") from None
        raise _unexpected(exc, path, format) from exc
    except (ValueError, KeyError, IndexError, AttributeError, UnicodeError,
            OverflowError, RecursionError) as exc:
        raise _unexpected(exc, path, format) from exc


def _unexpected(exc, path, format):
    """Last line of defence: a reader bug still gives one line, not a traceback."""
    from ...core.errors import InputError
    from ..text import one_line

    return InputError(f"cannot read the file as {format!r} ({type(exc).__name__}: "
                      f"{one_line(exc, 160)}; please report this)", file=path)


__all__ = ["FORMATS", "READER_VERSION", "read", "read_ca_pollbypoll", "read_canonical",
           "read_cz_volby", "read_pl_pkw", "read_ru_cik", "read_ua_cvk"]
