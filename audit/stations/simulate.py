"""Synthetic elections, clean and with fraud, in canonical shape.

A clean election is drawn in three layers: regions (mean turnout and mean
leader support drawn from Beta laws), stations inside each region (their own
turnout and support drawn from Beta laws centred on the region's), then
binomial and multinomial counts given each station's rates.  Station sizes
mix a log-normal law for urban stations with a smaller log-normal law for
rural ones, so that sizes span roughly 20 to 3,000 registered voters.

Fraud models take a clean :class:`~audit.tables.station_table.StationTable` and return a
new table; the input is never modified.  Every altered station is recorded in
``table.source["altered"]`` (a boolean array aligned with the rows) and the
model and its parameters in ``table.source["fraud"]`` (a list, so models can
be stacked).

All randomness comes from ``rng`` passed to :func:`numpy.random.default_rng`.

Examples
--------
>>> from audit.stations.simulate import clean_election, klimek_fraud
>>> clean = clean_election(2000, rng=1)
>>> list(clean.data.columns)[:4]
['region', 'district', 'station', 'registered']
>>> rigged = klimek_fraud(clean, f_incremental=0.2, rng=2)
>>> int(rigged.source["altered"].sum()) > 300
True
>>> bool(rigged.data["leader"].sum() > clean.data["leader"].sum())
True

A fifth of the stations gave the leader extra votes: the leader's total grew,
and the altered stations are known, so a test's power can be measured.
"""

from __future__ import annotations

import copy
from typing import Sequence

import numpy as np
import pandas as pd

from ..tables.station_table import COUNTS, StationTable

__all__ = ["clean_election", "klimek_fraud", "ballot_stuffing",
           "round_percentages", "vote_switching", "station_sizes"]

DEFAULT_OPTIONS = ("leader", "other1", "other2")


# ---------------------------------------------------------------- helpers
def _beta(rng, mean, concentration, size=None):
    """Beta draw parametrised by its mean and concentration a + b."""
    mean = np.clip(mean, 1e-4, 1 - 1e-4)
    return rng.beta(mean * concentration, (1 - mean) * concentration, size=size)


def _check_fraction(name, value):
    if not isinstance(value, (int, float, np.integer, np.floating)) or isinstance(value, bool):
        raise TypeError(f"{name} must be a number, got {type(value).__name__}")
    if not 0 <= value <= 1:
        raise ValueError(f"{name} must lie in [0, 1], got {value!r}")


def _check_table(table, leader):
    if not isinstance(table, StationTable):
        raise TypeError(f"table must be a StationTable, got {type(table).__name__}")
    missing = [c for c in ("registered", "ballots_issued", "ballots_cast")
               if c not in table.data.columns]
    if missing:
        raise ValueError(f"table lacks the count column(s) {', '.join(missing)}")
    return table.leader_column(leader)


def _copy_with(table, data, model, params, altered):
    out = StationTable(data=data, options=list(table.options),
                       excluded=table.excluded.copy(), findings=table.findings.copy(),
                       source=copy.deepcopy(table.source))
    before = out.source.get("altered")
    before = np.zeros(len(data), bool) if before is None else np.asarray(before, bool)
    out.source["altered"] = before | altered
    out.source.setdefault("fraud", []).append({"model": model, **params,
                                               "n_altered": int(altered.sum())})
    return out


def _counts(data, column):
    return data[column].to_numpy(dtype=np.int64, na_value=0).copy()


# ---------------------------------------------------------------- clean
def station_sizes(n, *, rng=None, median=1300.0, sigma=0.45, rural_share=0.2,
                  rural_median=250.0, rural_sigma=0.7, low=20, high=3500):
    """Registered voters per station: a two-component log-normal mixture.

    Parameters
    ----------
    n : int
        Number of stations.
    rng : seed or Generator, optional
    median, sigma : float
        Median and log-scale spread of urban stations.
    rural_share, rural_median, rural_sigma : float
        Share, median and log-scale spread of small rural stations.
    low, high : int
        Sizes are clipped to ``[low, high]``.

    Returns
    -------
    ndarray of int64

    Examples
    --------
    >>> sizes = station_sizes(5000, rng=0)
    >>> bool(sizes.min() >= 20 and sizes.max() <= 3500)
    True
    """
    rng = np.random.default_rng(rng)
    rural = rng.random(n) < rural_share
    logs = np.where(rural, rng.normal(np.log(rural_median), rural_sigma, n),
                    rng.normal(np.log(median), sigma, n))
    return np.clip(np.rint(np.exp(logs)), low, high).astype(np.int64)


def clean_election(n_stations: int = 3000, *, rng=None, n_regions: int | None = None,
                   options: Sequence[str] = DEFAULT_OPTIONS,
                   turnout_mean: float = 0.6, turnout_region_concentration: float = 25.0,
                   turnout_station_concentration: float = 60.0,
                   leader_mean: float = 0.5, leader_region_concentration: float = 15.0,
                   leader_station_concentration: float = 50.0,
                   invalid_rate: float = 0.015, taken_away_rate: float = 0.002,
                   sizes=None, kind_share: float = 0.0, kind_turnout_shift: float = 0.0,
                   kind_leader_shift: float = 0.0) -> StationTable:
    """Draw a clean election: heterogeneous regions, binomial counts.

    Parameters
    ----------
    n_stations : int
        Number of polling stations.
    rng : seed or Generator, optional
        Source of randomness.
    n_regions : int, optional
        Number of regions; default ``max(2, n_stations // 150)``.  Each region
        has about five districts.
    options : sequence of str
        Option columns; the first is the leader.
    turnout_mean, leader_mean : float
        Mean over regions of the regional turnout and leader support.
    turnout_region_concentration, leader_region_concentration : float
        Concentration ``a + b`` of the Beta laws of regional means (smaller
        means more heterogeneous regions).
    turnout_station_concentration, leader_station_concentration : float
        Concentration of the Beta laws of station rates around their region.
    invalid_rate : float
        Mean share of invalid ballots (drawn per station, Beta with
        concentration 100).
    taken_away_rate : float
        Share of issued ballots not found in the boxes.
    sizes : array of int, optional
        Registered voters per station; default :func:`station_sizes`.
    kind_share, kind_turnout_shift, kind_leader_shift : float
        A second kind of station (rural against urban, say), legitimately
        different: a share ``kind_share`` of the stations, drawn at random,
        have their turnout and leader rates moved by these shifts on the
        logit scale, and a column ``kind`` (1 for them, 0 for the others)
        is added.  With ``kind_share=0`` (default) nothing is drawn for it,
        so the election is the one drawn without these options.

    Returns
    -------
    StationTable
        Columns region, district, station, registered, ballots_issued,
        ballots_cast, invalid, then the options.  ``source`` records the
        generator and its parameters, ``altered`` (all False) and the true
        station rates (``true_turnout``, ``true_leader``).

    Notes
    -----
    For station :math:`i` in region :math:`r`:
    :math:`\\tau_r \\sim \\mathrm{Beta}`, :math:`\\tau_i \\sim
    \\mathrm{Beta}(\\tau_r \\kappa, (1 - \\tau_r) \\kappa)`,
    issued :math:`\\sim \\mathrm{Bin}(N_i, \\tau_i)`, cast = issued minus
    :math:`\\mathrm{Bin}(\\text{issued}, 0.002)`, invalid :math:`\\sim
    \\mathrm{Bin}(\\text{cast}, \\iota_i)`, and the valid ballots split
    multinomially between the leader (rate :math:`\\lambda_i`, drawn as
    :math:`\\tau_i`) and the other options (regional Dirichlet shares).
    Rates of turnout and support are independent, so a clean election has
    no turnout-support correlation in expectation.

    Examples
    --------
    >>> t = clean_election(1000, rng=7)
    >>> d = t.data
    >>> bool(((d.ballots_cast <= d.ballots_issued) & (d.ballots_issued <= d.registered)).all())
    True
    >>> round(float(d.ballots_issued.sum() / d.registered.sum()), 1)
    0.6
    """
    if isinstance(n_stations, bool) or not isinstance(n_stations, (int, np.integer)):
        raise TypeError(f"n_stations must be an int, got {type(n_stations).__name__}")
    if n_stations < 1:
        raise ValueError(f"n_stations must be at least 1, got {n_stations}")
    options = list(options)
    if len(options) < 2 or len(set(options)) != len(options):
        raise ValueError(f"options must be at least two distinct names, got {options!r}")
    for name, v in (("turnout_mean", turnout_mean), ("leader_mean", leader_mean),
                    ("invalid_rate", invalid_rate), ("taken_away_rate", taken_away_rate)):
        _check_fraction(name, v)
    rng = np.random.default_rng(rng)
    n = int(n_stations)
    k = n_regions if n_regions is not None else max(2, n // 150)
    if k < 1:
        raise ValueError(f"n_regions must be at least 1, got {k}")

    reg_turnout = _beta(rng, turnout_mean, turnout_region_concentration, k)
    reg_leader = _beta(rng, leader_mean, leader_region_concentration, k)
    reg_others = rng.dirichlet(np.full(len(options) - 1, 4.0), size=k)
    region = np.sort(rng.integers(0, k, n))
    district = rng.integers(0, 5, n)

    registered = station_sizes(n, rng=rng) if sizes is None else np.asarray(sizes, np.int64)
    if registered.shape != (n,):
        raise ValueError(f"sizes must have {n} entries, got shape {registered.shape}")
    turnout = _beta(rng, reg_turnout[region], turnout_station_concentration)
    lead = _beta(rng, reg_leader[region], leader_station_concentration)
    _check_fraction("kind_share", kind_share)
    kind = None
    if kind_share > 0:
        kind = (rng.random(n) < kind_share).astype(np.int64)
        for rates, shift in ((turnout, kind_turnout_shift), (lead, kind_leader_shift)):
            r = np.clip(rates, 1e-12, 1 - 1e-12)
            logit = np.log(r / (1 - r)) + shift * kind
            rates[:] = 1 / (1 + np.exp(-logit))
    inval = _beta(rng, invalid_rate, 100.0, n) if invalid_rate > 0 else np.zeros(n)

    issued = rng.binomial(registered, turnout)
    cast = issued - rng.binomial(issued, taken_away_rate)
    invalid = rng.binomial(cast, inval)
    valid = cast - invalid
    leader_votes = rng.binomial(valid, lead)
    rest = valid - leader_votes
    # split the rest between the other options, station by station
    others = np.zeros((n, len(options) - 1), np.int64)
    remaining = rest.copy()
    shares = reg_others[region]
    left = np.ones(n)
    for j in range(len(options) - 2):
        p = np.clip(shares[:, j] / np.maximum(left, 1e-12), 0, 1)
        others[:, j] = rng.binomial(remaining, p)
        remaining -= others[:, j]
        left -= shares[:, j]
    others[:, -1] = remaining

    data = pd.DataFrame({
        "region": [f"R{r + 1:03d}" for r in region],
        "district": [f"R{r + 1:03d}-D{d + 1}" for r, d in zip(region, district)],
        "station": np.arange(1, n + 1),
        "registered": registered, "ballots_issued": issued,
        "ballots_cast": cast, "invalid": invalid,
        options[0]: leader_votes,
    })
    for j, name in enumerate(options[1:]):
        data[name] = others[:, j]
    for c in [*COUNTS, *options]:
        data[c] = data[c].astype("Int64")
    if kind is not None:
        data["kind"] = kind
    params = dict(n_stations=n, n_regions=k, turnout_mean=turnout_mean,
                  leader_mean=leader_mean,
                  turnout_region_concentration=turnout_region_concentration,
                  turnout_station_concentration=turnout_station_concentration,
                  leader_region_concentration=leader_region_concentration,
                  leader_station_concentration=leader_station_concentration,
                  invalid_rate=invalid_rate, taken_away_rate=taken_away_rate,
                  kind_share=kind_share, kind_turnout_shift=kind_turnout_shift,
                  kind_leader_shift=kind_leader_shift)
    return StationTable(data=data, options=options,
                        source={"format": "simulated", "generator": "clean_election",
                                "params": params, "altered": np.zeros(n, bool),
                                "fraud": [], "true_turnout": turnout,
                                "true_leader": lead})


# ---------------------------------------------------------------- fraud
def _pick(rng, n, share):
    return rng.random(n) < share


def _truncated_normal_fraction(rng, mean, size):
    """Fractions drawn from N(mean, mean/2) truncated to [0, 1]."""
    draws = rng.normal(mean, mean / 2, size)
    return np.clip(draws, 0.0, 1.0)


def klimek_fraud(table: StationTable, *, f_incremental: float = 0.0,
                 f_extreme: float = 0.0, x_mean: float = 0.3, y_mean: float = 0.3,
                 extreme_sd: float = 0.02, leader: str | None = None,
                 rng=None) -> StationTable:
    """Incremental and extreme fraud after Klimek et al. (2012).

    Parameters
    ----------
    table : StationTable
        Clean (or already altered) election; not modified.
    f_incremental : float
        Share :math:`f_i` of stations with incremental fraud.
    f_extreme : float
        Share :math:`f_e` of stations with extreme fraud (taken among the
        stations without incremental fraud).
    x_mean, y_mean : float
        Mean fractions of non-voters (:math:`x_i`) and of opponents' votes
        (:math:`y_i`) given to the leader in an incrementally rigged station;
        each is drawn from a normal law with standard deviation half its mean,
        truncated to [0, 1].
    extreme_sd : float
        In an extreme station :math:`x_i, y_i = 1 - |N(0, \\text{extreme\\_sd})|`:
        turnout and leader share both close to 100%.
    leader : str, optional
        Leader column (default: the option with most votes).
    rng : seed or Generator, optional

    Returns
    -------
    StationTable
        New table; ``source["altered"]`` marks the rigged stations.

    Notes
    -----
    Klimek, Yegorov, Hanel and Thurner (2012), "Statistical detection of
    systematic election irregularities", PNAS 109(41):16469-16473, section
    "Fraud model": in a rigged station a fraction :math:`x_i` of the
    non-voters' ballots, :math:`x_i (N_i - V_i)`, is cast for the winner and
    a fraction :math:`y_i` of the opponents' votes is moved to the winner.
    Here the added ballots raise ``ballots_issued``, ``ballots_cast`` and the
    leader; votes taken from opponents are taken from each in proportion to
    its votes.  The widths of the magnitude laws are our choice.

    Examples
    --------
    >>> from audit.stations.simulate import clean_election
    >>> t = klimek_fraud(clean_election(500, rng=0), f_extreme=0.1, rng=1)
    >>> d = t.data[t.source["altered"]]
    >>> bool((d.ballots_issued / d.registered).min() > 0.85)
    True
    """
    for name, v in (("f_incremental", f_incremental), ("f_extreme", f_extreme),
                    ("x_mean", x_mean), ("y_mean", y_mean), ("extreme_sd", extreme_sd)):
        _check_fraction(name, v)
    if f_incremental + f_extreme > 1:
        raise ValueError(f"f_incremental + f_extreme must not exceed 1, got "
                         f"{f_incremental + f_extreme}")
    lead = _check_table(table, leader)
    rng = np.random.default_rng(rng)
    data = table.data.copy()
    n = len(data)
    u = rng.random(n)
    inc = u < f_incremental
    ext = (u >= f_incremental) & (u < f_incremental + f_extreme)
    x = np.zeros(n)
    y = np.zeros(n)
    x[inc] = _truncated_normal_fraction(rng, x_mean, inc.sum())
    y[inc] = _truncated_normal_fraction(rng, y_mean, inc.sum())
    x[ext] = 1 - np.minimum(np.abs(rng.normal(0, extreme_sd, ext.sum())), 1)
    y[ext] = 1 - np.minimum(np.abs(rng.normal(0, extreme_sd, ext.sum())), 1)

    registered = _counts(data, "registered")
    issued = _counts(data, "ballots_issued")
    nonvoters = np.maximum(registered - issued, 0)
    added = np.floor(x * nonvoters + rng.random(n)).astype(np.int64)
    added = np.minimum(added, nonvoters)
    others = [o for o in table.options if o != lead]
    moved_total = np.zeros(n, np.int64)
    for o in others:
        v = _counts(data, o)
        moved = rng.binomial(v, y)
        data[o] = pd.array(v - moved, dtype="Int64")
        moved_total += moved
    for c in ("ballots_issued", "ballots_cast"):
        data[c] = pd.array(_counts(data, c) + added, dtype="Int64")
    data[lead] = pd.array(_counts(data, lead) + added + moved_total, dtype="Int64")
    altered = (added + moved_total) > 0
    return _copy_with(table, data, "klimek",
                      dict(f_incremental=f_incremental, f_extreme=f_extreme,
                           x_mean=x_mean, y_mean=y_mean, extreme_sd=extreme_sd),
                      altered)


def ballot_stuffing(table: StationTable, *, share: float = 0.1,
                    amount: float = 0.1, leader: str | None = None,
                    rng=None) -> StationTable:
    """Add ballots for the leader in a share of stations.

    Parameters
    ----------
    table : StationTable
        Election to alter; not modified.
    share : float
        Probability that a station is stuffed.
    amount : float
        Mean number of added ballots as a fraction of the station's
        registered voters; per station it is drawn from an exponential law
        with this mean and capped by the non-voters.
    leader : str, optional
    rng : seed or Generator, optional

    Returns
    -------
    StationTable
        ``ballots_issued``, ``ballots_cast`` and the leader grow by the
        stuffed ballots; ``source["altered"]`` marks the stuffed stations.

    Notes
    -----
    Stuffing raises turnout and the leader's share together, the pattern
    behind the Sobyanin-Sukhovolsky regression and the turnout-share
    correlation (Myagkov, Ordeshook and Shakin 2009, The Forensics of Election Fraud).

    Examples
    --------
    >>> from audit.stations.simulate import clean_election
    >>> c = clean_election(500, rng=0)
    >>> s = ballot_stuffing(c, share=0.5, amount=0.2, rng=1)
    >>> int((s.data.leader - c.data.leader).sum()) == int(
    ...     (s.data.ballots_cast - c.data.ballots_cast).sum())
    True
    """
    _check_fraction("share", share)
    _check_fraction("amount", amount)
    lead = _check_table(table, leader)
    rng = np.random.default_rng(rng)
    data = table.data.copy()
    n = len(data)
    picked = _pick(rng, n, share)
    registered = _counts(data, "registered")
    issued = _counts(data, "ballots_issued")
    wanted = np.rint(rng.exponential(amount, n) * registered).astype(np.int64)
    added = np.where(picked, np.minimum(wanted, np.maximum(registered - issued, 0)), 0)
    for c in ("ballots_issued", "ballots_cast", lead):
        data[c] = pd.array(_counts(data, c) + added, dtype="Int64")
    return _copy_with(table, data, "stuffing", dict(share=share, amount=amount),
                      added > 0)


def round_percentages(table: StationTable, *, share: float = 0.05,
                      target: str = "both", step: float = 1.0,
                      leader: str | None = None, rng=None) -> StationTable:
    """Edit counts so that turnout and/or leader share hit whole percentages.

    Parameters
    ----------
    table : StationTable
        Election to alter; not modified.
    share : float
        Probability that a station's figures are rounded.
    target : {"turnout", "leader", "both"}
        Which percentage is set to the nearest multiple of ``step``.
    step : float
        Spacing of the targets in percentage points (1 = whole percent,
        5 = multiples of five).
    leader : str, optional
    rng : seed or Generator, optional

    Returns
    -------
    StationTable
        ``source["altered"]`` marks the stations whose counts changed.

    Notes
    -----
    Turnout is ``ballots_issued / registered`` and leader share is
    ``leader / ballots_cast``, as in Kobak, Shpilkin and Pshenichnikov
    (2016), "Integer percentages as electoral falsification fingerprints",
    Annals of Applied Statistics 10(1):54-73.  Turnout is moved to its target
    by adding or removing ballots for the leader (issued, cast and leader
    change together); then the leader share is moved to its target by moving
    votes between the leader and the other options (cast unchanged).  Targets
    are rounded to whole ballots, so a station of :math:`N` voters lands
    within :math:`50 / N` percentage points of the target.  A station whose
    counts cannot reach the target without going negative is left alone.

    Examples
    --------
    >>> from audit.stations.simulate import clean_election
    >>> t = round_percentages(clean_election(2000, rng=0), share=1.0,
    ...                       target="turnout", rng=1)
    >>> d = t.data[t.data.registered >= 1000]
    >>> pct = 100 * d.ballots_issued / d.registered
    >>> bool(((pct - pct.round()).abs() <= 0.05).mean() > 0.95)
    True
    """
    _check_fraction("share", share)
    if target not in ("turnout", "leader", "both"):
        raise ValueError(f"target must be 'turnout', 'leader' or 'both', got {target!r}")
    if not (isinstance(step, (int, float)) and 0 < step <= 50):
        raise ValueError(f"step must be a number in (0, 50], got {step!r}")
    lead = _check_table(table, leader)
    rng = np.random.default_rng(rng)
    data = table.data.copy()
    n = len(data)
    picked = _pick(rng, n, share)
    registered = _counts(data, "registered")
    issued = _counts(data, "ballots_issued")
    cast = _counts(data, "ballots_cast")
    lv = _counts(data, lead)
    others = [o for o in table.options if o != lead]
    ov = np.column_stack([_counts(data, o) for o in others])
    changed = np.zeros(n, bool)

    if target in ("turnout", "both"):
        with np.errstate(divide="ignore", invalid="ignore"):
            pct = 100 * issued / registered
        # stations without registered voters have no turnout: left alone below
        goal = np.round(np.nan_to_num(pct, nan=0.0, posinf=0.0) / step) * step
        new_issued = np.rint(goal / 100 * registered).astype(np.int64)
        delta = new_issued - issued
        ok = (picked & (registered > 0) & (new_issued <= registered)
              & (lv + delta >= 0) & (cast + delta >= 0) & (delta != 0))
        d = np.where(ok, delta, 0)
        issued, cast, lv = issued + d, cast + d, lv + d
        changed |= ok
    if target in ("leader", "both"):
        with np.errstate(divide="ignore", invalid="ignore"):
            pct = 100 * lv / cast
        goal = np.round(np.nan_to_num(pct) / step) * step
        new_lv = np.rint(goal / 100 * cast).astype(np.int64)
        delta = new_lv - lv                      # >0: take from others
        other_total = ov.sum(axis=1)
        ok = picked & (cast > 0) & (delta != 0) & (delta <= other_total) & (new_lv >= 0)
        for i in np.flatnonzero(ok):
            if delta[i] > 0:     # take from others, largest first
                need = delta[i]
                for j in np.argsort(-ov[i]):
                    t = min(need, ov[i, j])
                    ov[i, j] -= t
                    need -= t
                    if need == 0:
                        break
            else:                # give back to the largest other option
                ov[i, int(np.argmax(ov[i]))] += -delta[i]
            lv[i] = new_lv[i]
        changed |= ok
    data["ballots_issued"] = pd.array(issued, dtype="Int64")
    data["ballots_cast"] = pd.array(cast, dtype="Int64")
    data[lead] = pd.array(lv, dtype="Int64")
    for j, o in enumerate(others):
        data[o] = pd.array(ov[:, j], dtype="Int64")
    return _copy_with(table, data, "rounding",
                      dict(share=share, target=target, step=step), changed)


def vote_switching(table: StationTable, *, share: float = 0.1, amount: float = 0.2,
                   leader: str | None = None, rng=None) -> StationTable:
    """Move a fraction of the other options' votes to the leader in a share of stations.

    Parameters
    ----------
    table : StationTable
        Election to alter; not modified.
    share : float
        Probability that a station is altered.
    amount : float
        Mean fraction of each other option's votes moved to the leader in an
        altered station; per station it is drawn from a normal law with
        standard deviation half the mean, truncated to [0, 1], and each
        option gives a binomial number of its votes at that fraction.
    leader : str, optional
    rng : seed or Generator, optional

    Returns
    -------
    StationTable
        The leader gains what the other options lose; ``ballots_issued``,
        ``ballots_cast`` and ``invalid`` (so turnout) are unchanged.
        ``source["altered"]`` marks the stations where votes moved.

    Notes
    -----
    The "vote switching" (or "vote stealing") part of the fraud model of
    Klimek, Yegorov, Hanel and Thurner (2012), PNAS 109(41):16469-16473,
    the fraction :math:`y_i` of opponents' votes given to the winner,
    without its ballot stuffing: the leader's share rises while turnout
    stays, so tests built on the turnout-share correlation cannot see it.

    Examples
    --------
    >>> c = clean_election(500, rng=0)
    >>> s = vote_switching(c, share=0.5, amount=0.2, rng=1)
    >>> bool((s.data.ballots_cast == c.data.ballots_cast).all())
    True
    >>> int((s.data.leader - c.data.leader).sum()) == int(
    ...     (c.data[["other1", "other2"]].sum() - s.data[["other1", "other2"]].sum()).sum())
    True
    """
    _check_fraction("share", share)
    _check_fraction("amount", amount)
    lead = _check_table(table, leader)
    rng = np.random.default_rng(rng)
    data = table.data.copy()
    n = len(data)
    picked = _pick(rng, n, share)
    y = np.zeros(n)
    y[picked] = _truncated_normal_fraction(rng, amount, int(picked.sum()))
    moved_total = np.zeros(n, np.int64)
    for o in table.options:
        if o == lead:
            continue
        v = _counts(data, o)
        moved = rng.binomial(v, y)
        moved_total += moved
        data[o] = pd.array(v - moved, dtype="Int64")
    data[lead] = pd.array(_counts(data, lead) + moved_total, dtype="Int64")
    return _copy_with(table, data, "switching", dict(share=share, amount=amount),
                      moved_total > 0)
