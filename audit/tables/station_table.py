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

    def select(self, column: str, values) -> "StationTable":
        """The stations whose ``column`` is one of ``values`` (a new table).

        Exclusions and findings keep only the rows of the selected units
        where they carry that column; the source is kept and the selection
        recorded in it.
        """
        from ..core.errors import InputError

        if column not in self.data.columns:
            raise InputError(f"no column {column!r} to select on; columns are: "
                             + ", ".join(self.data.columns))
        values = [values] if isinstance(values, str) else list(values)
        missing = [v for v in values if v not in set(self.data[column])]
        if missing:
            raise InputError(f"{column} {missing[0]!r} is not in the table")

        def keep(frame):
            if column in frame.columns:
                return frame[frame[column].isin(values)]
            if "source_row" in frame.columns:
                return frame[frame["source_row"].isin(self.data.index[self.data[column].isin(values)])]
            return frame.iloc[0:0]

        return StationTable(data=self.data[self.data[column].isin(values)], options=list(self.options),
                            excluded=keep(self.excluded), findings=keep(self.findings),
                            source={**self.source, "selection": {column: values}})

    def labelled_findings(self) -> pd.DataFrame:
        """The findings one by one, each with its station's labels as in the
        file: ``source_row``, the hierarchy columns (region, district,
        station id), ``check`` and ``detail``, sorted by source row."""
        cols = ["source_row"] + self.hierarchy + ["check", "detail"]
        f = self.findings
        if not len(f):
            return pd.DataFrame(columns=cols)
        keep = [c for c in f.columns if c not in self.hierarchy]
        out = f[keep].merge(self.data[self.hierarchy], left_on="source_row",
                            right_index=True, how="left")
        return out.reindex(columns=cols).sort_values(["source_row", "check"], kind="stable",
                                                     ignore_index=True)

    def leader_column(self, name: str | None = None) -> str:
        """Resolve ``name`` to one option column.

        ``name`` is an exact column name or a unique case-insensitive part of
        one; ``None`` picks the option with the most votes overall.
        """
        from ..core.errors import InputError

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
