"""Where to look: the regions, districts and stations that carry an anomaly.

A national test says *whether* a file departs from a clean count; an
observer then needs to know *where*.  :func:`where_to_look` splits the
national figures station by station and adds them up per region and per
district (territorial commission):

- integer-percentage stations (Kobak, Shpilkin & Pshenichnikov 2016):
  for every station, whether its turnout or leader share lies within 0.05
  points of a whole percentage (observed, 0 or 1) and the exact probability
  that it would under binomial counting around its own rates (expected),
  with the settings of :func:`~audit.stations.forensics.integer_percentages.
  integer_percentages`; the per-station figures add up to the test's
  national observed and expected counts, so every level's rows add up to
  the national figure;
- stations in spikes: the stations whose leader share falls in a bin that
  the spike test (:func:`~audit.stations.forensics.spikes.spikes`) counts
  as a spike;
- stations the finite-mixture fraud model
  (:func:`~audit.stations.forensics.mixture.mixture_table`) puts in a
  fraud class (posterior probability of a fraud class above one half), with
  the votes the model puts in its fraud classes (a descriptive model: on
  honestly counted elections it places some stations there too);
- stations the two-class stuffing model
  (:func:`~audit.stations.stuffing.stuffing_scores`) finds more likely
  stuffed than clean (posterior probability above one half), with the
  ballots it expects were added: the ranking that separates stuffed
  stations best on the validation twins, also descriptive (a few honest
  stations unlike their district score high too).

Units are ranked by their share of the national integer-percentage excess.
The station ids are the ``station`` labels as read from the source file,
with the source row, so every line can be checked against the original.

A unit at the top of the table carries more of the excess than others; that
is where to look first, not a finding of fraud there.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from ..core.errors import InputError
from ..tables.station_table import StationTable
from .forensics.integer_percentages import integer_probabilities

__all__ = ["WhereToLook", "integer_stations", "region_fingerprints", "region_points",
           "where_to_look"]

#: Settings of the integer-percentage split (the test's published defaults:
#: Kobak et al. 2016, a 0.1-point window around whole percentages, stations
#: of at least 100 registered voters, turnout and leader share at most 99%).
MIN_REGISTERED = 100
MAX_SHARE = 0.99

#: Posterior probability of a fraud class above which a station counts as
#: "in a fraud class" of the mixture model (and as likely stuffed under the
#: stuffing model).
FRAUD_PROBABILITY = 0.5

LEVELS = ("region", "district")


def _round_flag(k: np.ndarray, n: np.ndarray) -> np.ndarray:
    """Whether ``100 k / n`` lies in ``[m - 0.05, m + 0.05)`` for a whole ``m``.

    In whole numbers: ``100 k / n + 0.05 = (2000 k + n) / (20 n)``, whose
    fractional part is below 0.1 exactly when ``(2000 k + n) mod 20 n < 2 n``.
    """
    k = k.astype(np.int64)
    n = n.astype(np.int64)
    return np.mod(2000 * k + n, 20 * n) < 2 * n


def _counts(data: pd.DataFrame, column: str) -> np.ndarray:
    if column not in data.columns:
        raise InputError(f"the table has no {column!r} column; the integer-percentage "
                         "split needs registered, ballots_issued, ballots_cast and the "
                         "leader's votes")
    return pd.to_numeric(data[column], errors="coerce").to_numpy(dtype=float, na_value=np.nan)


def integer_stations(table: StationTable, *, leader: str | None = None) -> pd.DataFrame:
    """Every station the integer-percentage test uses, observed and expected.

    Parameters
    ----------
    table : StationTable
    leader : str, optional
        Leader option (see :meth:`StationTable.leader_column`).

    Returns
    -------
    DataFrame
        One row per station the test keeps (at least 100 registered,
        ballots cast, turnout and leader share at most 99%, no missing
        count), indexed like ``table.data`` (the source row), with the
        hierarchy columns, ``integer`` (1 when the turnout or the leader
        share is within 0.05 points of a whole percentage) and
        ``p_integer`` (the probability of that under the test's null).
        The sums of the two columns are the test's national ``observed``
        and ``expected``.
    """
    data = table.data
    lead = table.leader_column(leader)
    reg, iss = _counts(data, "registered"), _counts(data, "ballots_issued")
    cast, led = _counts(data, "ballots_cast"), _counts(data, lead)
    ok = np.isfinite(reg) & np.isfinite(iss) & np.isfinite(cast) & np.isfinite(led)
    ok &= cast > 0
    ok &= reg >= MIN_REGISTERED
    with np.errstate(divide="ignore", invalid="ignore"):
        ok &= ~((iss / reg > MAX_SHARE) | (led / cast > MAX_SHARE))
    N, G = reg[ok].astype(np.int64), iss[ok].astype(np.int64)
    C, L = cast[ok].astype(np.int64), led[ok].astype(np.int64)
    observed = _round_flag(G, N) | _round_flag(L, C)
    if N.size:
        a = integer_probabilities(N, G)
        b = integer_probabilities(C, L)
        expected = 1 - (1 - a) * (1 - b)
    else:
        expected = np.zeros(0)
    out = data.loc[ok, table.hierarchy].copy()
    out["integer"] = observed.astype(np.int64)
    out["p_integer"] = expected
    return out


def _spike_flags(data: pd.DataFrame, leader: str, spikes) -> np.ndarray:
    """Stations whose leader share lies in a bin the spike test counted."""
    t = getattr(spikes, "table", None)
    if t is None or "flagged" not in t.columns:
        return np.zeros(len(data), bool)
    bins = t[t["flagged"].astype(bool)]
    if bins.empty:
        return np.zeros(len(data), bool)
    lo = bins["share_lo"].to_numpy(float)
    hi = bins["share_hi"].to_numpy(float)
    order = np.argsort(lo)
    lo, hi = lo[order], hi[order]
    cast = _counts(data, "ballots_cast")
    led = _counts(data, leader)
    with np.errstate(divide="ignore", invalid="ignore"):
        share = np.where(cast > 0, led / cast, np.nan)
    j = np.searchsorted(lo, share, side="right") - 1
    inside = np.isfinite(share) & (j >= 0)
    jj = np.clip(j, 0, None)
    inside &= share < hi[jj]
    return inside


@dataclass(frozen=True)
class WhereToLook:
    """The per-station split of the national figures, and its sums by unit.

    Attributes
    ----------
    stations : DataFrame
        One row per station of the table (index: the source row), with the
        hierarchy columns, ``used`` (kept by the integer-percentage rules),
        ``integer``, ``p_integer``, ``in_spike``, ``p_fraud`` (nan without a
        mixture fit), ``likely_fraud``, ``fraud_votes``, ``p_stuffed`` (nan
        without stuffing scores), ``likely_stuffed`` and ``stuffed_ballots``.
    national : dict
        The national sums: ``stations``, ``integer_observed``,
        ``integer_expected``, ``integer_excess``, ``spike_stations``,
        ``fraud_stations``, ``fraud_votes``, ``stuffed_stations``,
        ``stuffed_ballots``.
    has_spikes, has_mixture, has_stuffing : bool
        Whether a spike result / mixture fit / stuffing scores were given.
    """

    stations: pd.DataFrame
    national: dict
    has_spikes: bool
    has_mixture: bool
    has_stuffing: bool = False

    def levels(self) -> list[str]:
        """The levels of :data:`LEVELS` the table has."""
        return [lv for lv in LEVELS if lv in self.stations.columns]

    def by(self, level: str) -> pd.DataFrame:
        """Sums per unit of ``level`` (``"region"`` or ``"district"``).

        Columns: the unit's labels (for a district, its region too), then
        ``stations``, ``integer_observed``, ``integer_expected``,
        ``integer_excess``, ``share_of_excess`` (of the national excess,
        when it is positive), ``spike_stations``, ``fraud_stations``,
        ``fraud_votes``, ``stuffed_stations``, ``stuffed_ballots``; sorted
        by ``integer_excess``, largest first (ties by label).  Every column
        of counts adds up to :attr:`national`.
        """
        if level not in self.levels():
            raise InputError(f"no {level!r} column to group by; the table has: "
                             + ", ".join(self.levels() or ["no region or district"]))
        keys = list(LEVELS[:LEVELS.index(level) + 1])
        keys = [k for k in keys if k in self.stations.columns]
        s = self.stations.assign(
            _used=self.stations["used"].astype(np.int64),
            _fraud=self.stations["likely_fraud"].astype(np.int64),
            _spike=self.stations["in_spike"].astype(np.int64),
            _stuffed=self.stations["likely_stuffed"].astype(np.int64))
        g = s.groupby(keys, sort=True, dropna=False)
        out = pd.DataFrame({
            "stations": g["_used"].sum(),
            "integer_observed": g["integer"].sum(),
            "integer_expected": g["p_integer"].sum(),
            "spike_stations": g["_spike"].sum(),
            "fraud_stations": g["_fraud"].sum(),
            "fraud_votes": g["fraud_votes"].sum(),
            "stuffed_stations": g["_stuffed"].sum(),
            "stuffed_ballots": g["stuffed_ballots"].sum()}).reset_index()
        out["integer_observed"] = out["integer_observed"].astype(np.int64)
        out["integer_excess"] = out["integer_observed"] - out["integer_expected"]
        total = self.national["integer_excess"]
        out["share_of_excess"] = out["integer_excess"] / total if total > 0 else np.nan
        cols = keys + ["stations", "integer_observed", "integer_expected", "integer_excess",
                       "share_of_excess", "spike_stations", "fraud_stations", "fraud_votes",
                       "stuffed_stations", "stuffed_ballots"]
        out = out[cols].sort_values(["integer_excess"] + keys, ascending=[False]
                                    + [True] * len(keys), kind="stable")
        return out.reset_index(drop=True)

    def table(self) -> pd.DataFrame:
        """One tidy table for export: a ``national`` row, then the rows of
        every level (column ``level``), each level sorted as in :meth:`by`."""
        parts = [pd.DataFrame([{"level": "national", **{k: v for k, v in
                                                       self.national.items()}}])]
        for lv in self.levels():
            parts.append(self.by(lv).assign(level=lv))
        out = pd.concat(parts, ignore_index=True)
        front = ["level"] + self.levels()
        rest = ["stations", "integer_observed", "integer_expected", "integer_excess",
                "share_of_excess", "spike_stations", "fraud_stations", "fraud_votes",
                "stuffed_stations", "stuffed_ballots"]
        out = out.reindex(columns=front + rest)
        out.loc[out["level"] == "national", "share_of_excess"] = (
            1.0 if self.national["integer_excess"] > 0 else np.nan)
        return out

    def flagged_stations(self, *, top: int | None = None) -> pd.DataFrame:
        """Stations that carry an anomaly (integer percentage, in a spike, in
        a fraud class of the mixture or likely stuffed), one row each with
        the source row and the station id as read, ranked by the integer excess of their district (or region),
        then by source row; the first ``top`` when given."""
        s = self.stations
        carry = (s["integer"].astype(bool) | s["in_spike"].astype(bool)
                 | s["likely_fraud"].astype(bool) | s["likely_stuffed"].astype(bool))
        out = s[carry].copy()
        levels = self.levels()
        if levels:
            finest = levels[-1]
            ranked = self.by(finest)
            keys = [k for k in LEVELS[:LEVELS.index(finest) + 1] if k in s.columns]
            ranked = ranked.assign(_rank=np.arange(len(ranked)))[keys + ["_rank"]]
            out = out.reset_index(names="source_row").merge(ranked, on=keys, how="left")
            out = out.sort_values(["_rank", "source_row"], kind="stable").drop(columns="_rank")
        else:
            out = out.reset_index(names="source_row")
        cols = ["source_row"] + [c for c in ("region", "district", "station")
                                 if c in out.columns]
        cols += ["integer", "p_integer", "in_spike", "p_fraud", "likely_fraud", "fraud_votes",
                 "p_stuffed", "likely_stuffed", "stuffed_ballots"]
        out = out[cols].reset_index(drop=True)
        return out.head(top) if top is not None else out


def where_to_look(table: StationTable, *, leader: str | None = None, spikes=None,
                  mixture=None, stuffing=None) -> WhereToLook:
    """Split the national anomaly figures by region, district and station.

    Parameters
    ----------
    table : StationTable
    leader : str, optional
        Leader option (exact name or unique part; default most votes).
    spikes : TestResult, optional
        A national result of the ``spikes`` test on the same table: its
        flagged bins mark the stations in spikes.
    mixture : MixtureResult, optional
        :func:`~audit.stations.forensics.mixture.mixture_table` fitted on the
        same table (positions are rows of ``table.data``): its per-station
        fraud probabilities and expected fraudulent votes.
    stuffing : StuffingScores, optional
        :func:`~audit.stations.stuffing.stuffing_scores` of the same table:
        its per-station probabilities of stuffing and expected added ballots.

    Returns
    -------
    WhereToLook

    Examples
    --------
    A clean simulated election: the regions' integer-percentage stations
    add up to the national count, and no region stands far out.

    >>> from audit.stations.simulate import clean_election
    >>> w = where_to_look(clean_election(2000, rng=3, n_regions=4))
    >>> regions = w.by("region")
    >>> int(regions["integer_observed"].sum()) == w.national["integer_observed"]
    True
    """
    if not isinstance(table, StationTable):
        raise TypeError(f"table must be a StationTable, got {type(table).__name__}")
    lead = table.leader_column(leader)
    data = table.data
    ints = integer_stations(table, leader=lead)
    st = data[table.hierarchy].copy()
    st["used"] = st.index.isin(ints.index)
    st["integer"] = ints["integer"].reindex(st.index).fillna(0).astype(np.int64)
    st["p_integer"] = ints["p_integer"].reindex(st.index).fillna(0.0)
    st["in_spike"] = _spike_flags(data, lead, spikes)
    st["p_fraud"] = np.nan
    st["fraud_votes"] = 0.0
    if mixture is not None:
        t = mixture.table
        pos = t["position"].to_numpy(dtype=np.int64)
        if pos.size and pos.max() >= len(data):
            raise InputError("the mixture fit does not belong to this table (station "
                             f"position {pos.max()} of {len(data)})")
        p_fraud = np.full(len(data), np.nan)
        votes = np.zeros(len(data))
        p_fraud[pos] = t["p_fraud"].to_numpy(float)
        votes[pos] = (t["manufactured"] + t["stolen"]).to_numpy(float)
        st["p_fraud"] = p_fraud
        st["fraud_votes"] = votes
    st["likely_fraud"] = np.nan_to_num(st["p_fraud"].to_numpy(float)) > FRAUD_PROBABILITY
    st["p_stuffed"] = np.nan
    st["stuffed_ballots"] = 0.0
    if stuffing is not None:
        t = stuffing.table
        pos = t["position"].to_numpy(dtype=np.int64)
        if len(t) != len(data) or (pos.size and pos.max() >= len(data)):
            raise InputError("the stuffing scores do not belong to this table "
                             f"({len(t)} stations scored, {len(data)} in the table)")
        p_st = np.full(len(data), np.nan)
        p_st[pos] = t["p_stuffed"].to_numpy(float)
        added = np.zeros(len(data))
        added[pos] = np.nan_to_num(t["stuffed_ballots"].to_numpy(float))
        st["p_stuffed"] = p_st
        st["stuffed_ballots"] = added
    st["likely_stuffed"] = np.nan_to_num(st["p_stuffed"].to_numpy(float)) > FRAUD_PROBABILITY
    observed = int(st["integer"].sum())
    expected = float(st["p_integer"].sum())
    national = {"stations": int(st["used"].sum()), "integer_observed": observed,
                "integer_expected": expected, "integer_excess": observed - expected,
                "spike_stations": int(st["in_spike"].sum()),
                "fraud_stations": int(st["likely_fraud"].sum()),
                "fraud_votes": float(st["fraud_votes"].sum()),
                "stuffed_stations": int(st["likely_stuffed"].sum()),
                "stuffed_ballots": float(st["stuffed_ballots"].sum())}
    return WhereToLook(stations=st, national=national, has_spikes=spikes is not None,
                       has_mixture=mixture is not None, has_stuffing=stuffing is not None)


def region_points(table: StationTable, *, leader: str | None = None,
                  regions=None) -> pd.DataFrame:
    """Turnout and leader share of every station with ballots, by region.

    Columns ``region``, ``turnout`` (ballots cast / registered) and
    ``share`` (leader / ballots cast), in the order of the table, for the
    ``regions`` given (default all); stations with no ballots, no
    registered voters or a missing count are left out.
    """
    data = table.data
    lead = table.leader_column(leader)
    if "region" not in data.columns:
        raise InputError("the table has no region column to split by")
    reg, cast = _counts(data, "registered"), _counts(data, "ballots_cast")
    led = _counts(data, lead)
    ok = np.isfinite(reg) & np.isfinite(cast) & np.isfinite(led) & (reg > 0) & (cast > 0)
    out = pd.DataFrame({"region": data["region"].to_numpy()[ok],
                        "turnout": cast[ok] / reg[ok], "share": led[ok] / cast[ok]})
    if regions is not None:
        out = out[out["region"].isin(list(regions))]
    return out.reset_index(drop=True)


def region_fingerprints(points: pd.DataFrame, *, regions, bins: int = 50
                        ) -> tuple[np.ndarray, dict]:
    """Station counts on a ``bins`` x ``bins`` grid of turnout (rows) and
    leader share (columns) in [0, 1], per region of ``regions`` (in that
    order), from :func:`region_points`.  Turnout above 100% is counted in
    the last row.  Returns the shared bin edges and region -> counts."""
    edges = np.linspace(0.0, 1.0, bins + 1)
    grids = {}
    for region in regions:
        part = points[points["region"] == region]
        t = np.clip(part["turnout"].to_numpy(float), 0.0, 1.0)
        s = np.clip(part["share"].to_numpy(float), 0.0, 1.0)
        counts, _, _ = np.histogram2d(t, s, bins=[edges, edges])
        grids[region] = counts
    return edges, grids
