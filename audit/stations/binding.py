"""Binding a registered test to a station table: which column feeds which
data role, which stations are complete, and the ``groups`` labels.

The battery (:mod:`audit.stations.battery`) and the calibration harness
(:mod:`audit.stations.calibration.simulated`) both call tests through :func:`bind`, so a test
sees the same arrays whichever of them runs it.  This module imports
neither of them.

Examples
--------
>>> from audit.stations.simulate import clean_election
>>> from audit.stations.registry import REGISTRY
>>> import audit.stations.forensics
>>> table = clean_election(300, rng=0)
>>> b = bind(REGISTRY["turnout_leader_correlation"], table.data, table.options,
...          "leader")
>>> len(b.args), int(b.complete.sum()), sorted(b.kwargs)
(3, 300, ['groups'])
"""

from __future__ import annotations

import inspect
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from ..core.errors import NotApplicable
from .registry import GROUPS, Column, TestSpec, finest_level

__all__ = ["Binding", "bind", "nested_labels", "roles", "takes_groups"]


def roles(data: pd.DataFrame, options: list[str], leader: str | None) -> dict:
    """Columns available for each data role (None when entirely missing)."""
    out = {}
    for role in ("registered", "ballots_issued", "ballots_cast", "invalid"):
        col = data[role] if role in data else None
        out[role] = col if col is not None and col.notna().any() else None
    out["leader"] = data[leader] if leader is not None else None
    out["votes"] = data[options] if options else None
    return out


def nested_labels(data: pd.DataFrame, level: str) -> np.ndarray:
    """Labels of ``level`` made unique across its parents: a district is
    named with its region (``"Region A / Central"``), since districts of
    the same name in different regions are different places."""
    from ..tables.station_table import HIERARCHY

    if level not in HIERARCHY:
        return data[level].to_numpy()
    parts = [c for c in HIERARCHY[:HIERARCHY.index(level) + 1] if c in data.columns]
    labels = data[parts[0]].astype("string").fillna("").to_numpy(dtype=object)
    for c in parts[1:]:
        labels = labels + " / " + data[c].astype("string").fillna("").to_numpy(dtype=object)
    return labels.astype(str)


def takes_groups(spec: TestSpec) -> bool:
    """Whether the test has a keyword-only ``groups`` option."""
    p = inspect.signature(spec.func).parameters.get("groups")
    return p is not None and p.kind == p.KEYWORD_ONLY


@dataclass
class Binding:
    """Arguments of one call of a test on a table.

    Attributes
    ----------
    args : list of ndarray
        Positional arguments by data role (int64; ``votes`` 2-D).
    complete : ndarray of bool
        Stations of the table complete in every needed column (the rows
        the arrays hold, in table order).  For ``votes`` a station needs
        one option or more: an option missing at a station (a candidate
        who did not stand there, as in riding-by-riding files) counts as 0
        votes.
    kwargs : dict
        Options resolved from the table (``groups`` labels).
    group_level : str or None
        The hierarchy level whose labels were passed as ``groups``.
    roles : dict
        Role -> column (or None), as :func:`roles` returns, with the test's
        declared stand-ins in the place of roles the table lacks.
    read_as : dict
        Role -> the role whose column was read in its place (the stand-ins
        used; empty when every role had its own column).
    """

    args: list
    complete: np.ndarray
    kwargs: dict = field(default_factory=dict)
    group_level: str | None = None
    roles: dict = field(default_factory=dict)
    read_as: dict = field(default_factory=dict)


def bind(spec: TestSpec, data: pd.DataFrame, options: list[str], leader: str | None,
         *, groups: bool | Column = True, extra: dict | None = None) -> Binding:
    """Arguments of ``spec`` for the stations of ``data``.

    Parameters
    ----------
    spec : TestSpec
    data : DataFrame
        Station rows in canonical shape.
    options : list of str
        The option columns (``votes``).
    leader : str or None
        The leader column.
    groups : bool or Column, default True
        For a test with a ``groups`` option: True passes the labels of the
        level its ``groups`` variant declares at ``@register`` (default
        :data:`audit.stations.registry.GROUPS`, the finest hierarchy level with two
        units or more in ``data``), a :class:`Column` those of that column,
        False none.
    extra : dict, optional
        Further keyword options; :class:`Column` values become the labels
        of that column for the complete rows.

    Raises
    ------
    NotApplicable
        If a needed column is missing, or a :class:`Column` option names a
        column the data lack.
    """
    r = roles(data, options, leader)
    reason = spec.applies({k for k, v in r.items() if v is not None})
    if reason:
        raise NotApplicable(reason)
    read_as = {}
    for role, other in spec.stand_ins:
        if r[role] is None and r[other] is not None:
            r[role], read_as[role] = r[other], other
    frames = []
    for need in spec.needs:
        part = r[need]
        frames.append(part if isinstance(part, pd.DataFrame) else part.to_frame(need))
    complete = np.ones(len(frames[0]), dtype=bool)
    for need, f in zip(spec.needs, frames):
        # an option missing at a station (a candidate who did not stand
        # there) counts as 0 votes; a station with no option at all is left out
        complete &= (f.notna().any(axis=1) if need == "votes"
                     else f.notna().all(axis=1)).to_numpy()
    args = []
    for need, f in zip(spec.needs, frames):
        part = f.loc[complete]
        if need == "votes":
            args.append(part.fillna(0).to_numpy(dtype="int64"))
        else:
            args.append(part.to_numpy(dtype="int64")[:, 0])
    kwargs, level = {}, None
    wanted = dict(extra or {})
    if groups is not False and takes_groups(spec) and "groups" not in wanted:
        if groups is True:      # the level the test declares for its groups variant
            groups = next((v.options["groups"] for v in spec.variants
                           if isinstance(v.options.get("groups"), Column)), GROUPS)
        wanted["groups"] = groups
    for key, value in wanted.items():
        if not isinstance(value, Column):
            kwargs[key] = value
            continue
        column = value.resolve(data.loc[complete])
        if column is None:
            if value is GROUPS or value.name is None:
                continue                      # one unit only: no groups to pass
            raise NotApplicable(f"{spec.name}: option {key} needs column "
                                f"{value.name!r}, which the data lack")
        labels = nested_labels(data, column)[complete]
        if key == "groups":
            if len(pd.unique(labels)) < 2:
                continue
            level = column
        kwargs[key] = labels
    return Binding(args=args, complete=complete, kwargs=kwargs, group_level=level, roles=r,
                   read_as=read_as)
