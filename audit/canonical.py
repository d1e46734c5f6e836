"""The canonical polling-station results table.

Every reader turns its format into one :class:`StationTable`: hierarchy
columns first (``region``, ``district``, ``station``; any may be missing but
``station`` must identify a row within its parents), then the count columns,
then one integer column per option or candidate.

Count columns (nullable integers; ``<NA>`` where a source lacks the line):

``registered``
    voters on the list;
``ballots_issued``
    ballots handed out (all "issued" protocol lines added up);
``ballots_cast``
    ballots found in the boxes (valid + invalid);
``invalid``
    invalid ballots.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import pandas as pd

HIERARCHY = ("region", "district", "station")
COUNTS = ("registered", "ballots_issued", "ballots_cast", "invalid")


@dataclass
class StationTable:
    """Station results in canonical shape, with what was left out and why.

    Attributes
    ----------
    data : DataFrame
        One row per station kept.
    options : list of str
        Names of the option / candidate columns, in source order.
    excluded : DataFrame
        One row per excluded source row: ``source_row``, ``reason`` and the
        identifying columns that could be read.
    findings : DataFrame
        Impossible-but-reported figures kept in ``data`` (turnout over 100%,
        votes above ballots): ``source_row``, ``check``, ``detail``.
    source : dict
        Provenance: path, sha256, format, detected encoding and delimiter.
    """

    data: pd.DataFrame
    options: list[str]
    excluded: pd.DataFrame = field(
        default_factory=lambda: pd.DataFrame(columns=["source_row", "reason"]))
    findings: pd.DataFrame = field(
        default_factory=lambda: pd.DataFrame(columns=["source_row", "check", "detail"]))
    source: dict = field(default_factory=dict)

    @property
    def hierarchy(self) -> list[str]:
        return [c for c in HIERARCHY if c in self.data.columns]

    def leader_column(self, name: str | None = None) -> str:
        """Resolve ``name`` to one option column.

        ``name`` is an exact column name or a unique case-insensitive part of
        one; ``None`` picks the option with the most votes overall.
        """
        from .errors import InputError

        if name is None:
            totals = self.data[self.options].sum()
            return str(totals.idxmax())
        if name in self.options:
            return name
        hits = [o for o in self.options if name.casefold() in o.casefold()]
        if len(hits) == 1:
            return hits[0]
        if not hits:
            raise InputError(
                f"--leader {name!r} matches no option; options are: "
                + ", ".join(self.options))
        raise InputError(
            f"--leader {name!r} matches several options: " + ", ".join(hits))
