"""Text helpers for messages: one-line quotes and the closest column name."""

from __future__ import annotations

import re

from ..core.errors import InputError


def one_line(text, limit: int = 300) -> str:
    """``text`` on one line (whitespace collapsed), at most ``limit`` characters."""
    s = re.sub(r"\s+", " ", str(text)).strip()
    return s if len(s) <= limit else s[: limit - 3] + "..."


def closest(name: str, names, *, cutoff: float = 0.6) -> str | None:
    """The entry of ``names`` most like ``name`` (case-insensitive), or None."""
    import difflib

    names = [str(n) for n in names]
    low = {n.casefold(): n for n in names}
    hit = difflib.get_close_matches(str(name).casefold(), list(low), n=1, cutoff=cutoff)
    return low[hit[0]] if hit else None


def missing_column(what: str, name: str, columns, *, file, row=1) -> InputError:
    """Error for a column the file lacks, naming the closest one it has."""
    near = closest(name, columns)
    hint = (f"; closest column: {near!r}" if near else
            f"; columns are: {one_line(', '.join(map(str, columns)), 200)}")
    return InputError(f"{what} column {name!r}, which the file lacks{hint}",
                      file=file, row=row)
