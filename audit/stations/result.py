"""The result object every station-level test returns."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from ..core.jsonable import to_jsonable


@dataclass(frozen=True)
class TestResult:
    """Outcome of one statistical test.

    Attributes
    ----------
    test : str
        Registered name of the test.
    statistic : float
        The test statistic (its meaning is in ``null`` and the test's docs).
    pvalue : float
        Probability under the null of a statistic at least as extreme;
        ``nan`` for descriptive tests that have no p-value.
    n : int
        Number of units (stations) the statistic rests on.
    expected : float
        Value of the statistic expected under the null.
    null : str
        The null hypothesis in words.
    params : dict
        Settings used (defaults included), so the call can be redone.
    details : dict
        Further scalar numbers a reader needs (intervals, counts).
    table : DataFrame or None
        Table behind the plot (observed vs expected counts, histogram...).
    excluded : DataFrame or None
        Stations the test left out, one row each: ``position`` (int, index
        into the arrays the test was given, in their original order) and
        ``reason`` (short text such as ``"no ballots cast"``), sorted by
        position.  The rows per reason equal the matching ``excluded_*``
        counts of ``details``.  None when the test does not work station by
        station; an empty frame when it left nothing out.  The results
        of :func:`audit.stations.battery.run_battery` hold ``source_row`` (row of
        the input file) instead of ``position``, and also the rows the
        battery could not pass.  Not part of ``to_dict``/``to_frame`` nor
        of equality.
    """

    __test__ = False  # not a pytest class

    test: str
    statistic: float
    pvalue: float
    n: int
    expected: float = float("nan")
    null: str = ""
    params: dict[str, Any] = field(default_factory=dict)
    details: dict[str, Any] = field(default_factory=dict)
    table: pd.DataFrame | None = field(default=None, repr=False, compare=False)
    excluded: pd.DataFrame | None = field(default=None, repr=False, compare=False)

    def to_frame(self) -> pd.DataFrame:
        """One tidy row: test, statistic, pvalue, n, expected, then details."""
        row = {"test": self.test, "statistic": self.statistic,
               "pvalue": self.pvalue, "n": self.n, "expected": self.expected}
        for key, value in self.details.items():
            if np.isscalar(value) or value is None:
                row[key] = value
        return pd.DataFrame([row])

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready dict with keys test, statistic, pvalue, n, details."""
        details = {"expected": self.expected, **self.details}
        return {"test": self.test, "statistic": to_jsonable(self.statistic),
                "pvalue": to_jsonable(self.pvalue), "n": int(self.n),
                "null": self.null, "params": to_jsonable(self.params),
                "details": to_jsonable(details)}


EXCLUDED_COLUMNS = ("position", "reason")


def exclusion_table(masks) -> pd.DataFrame:
    """Stations left out, one row each, from ``{reason: boolean mask}``.

    Every mask has one entry per station, in the order the test was given
    them; a station in several masks is listed once per mask (the tests
    build disjoint masks).  Rows are sorted by position, then by reason in
    the order of ``masks``.

    Examples
    --------
    >>> exclusion_table({"no ballots cast": np.array([False, True, False]),
    ...                  "turnout above 100%": np.array([True, False, False])})
       position              reason
    0         0  turnout above 100%
    1         1     no ballots cast
    """
    positions, reasons = [], []
    for reason, mask in masks.items():
        idx = np.flatnonzero(np.asarray(mask, dtype=bool))
        positions.append(idx.astype(np.int64))
        reasons.extend([str(reason)] * idx.size)
    pos = np.concatenate(positions) if positions else np.zeros(0, np.int64)
    order = np.argsort(pos, kind="stable")
    return pd.DataFrame({"position": pos[order],
                         "reason": np.asarray(reasons, dtype=object)[order]
                         if reasons else np.zeros(0, dtype=object)},
                        columns=list(EXCLUDED_COLUMNS))


def simulated_pvalue(k: int, n: int) -> float:
    """Monte Carlo p-value ``(k + 1) / (n + 1)``: never zero."""
    return (k + 1) / (n + 1)
