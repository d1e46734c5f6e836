"""Clean twins of real polling-station files, with or without injected fraud.

A *clean twin* keeps what legitimately shapes a real file (every station's
registered voters, its region / district / station labels, the row order,
the level of turnout and of the leader's share in each district, the
composition of the other options, the invalid-ballot rate) and redraws the
counts from a model with no fraud in it.  A forensic test run on many twins
of a real file should reject at its nominal rate; run on twins with fraud
injected (:func:`twin` with ``fraud=...``), its power is measured against a
known truth (:func:`twin_truth`).

The model (:func:`fit_twin`) is nested region > district > station, using
the finest levels the table has (district within region, or region alone,
or one national group).  For each district :math:`d` with parent (region)
:math:`r`, on the logit scale:

.. math::

    \\operatorname{logit} \\tau_i = c^\\tau_d + \\sigma^\\tau_d z_i, \\qquad
    \\operatorname{logit} \\lambda_i = c^\\lambda_d + \\sigma^\\lambda_d w_i,

with :math:`z_i, w_i` independent standard normal: within a district,
support is independent of turnout (the null of the turnout-support tests),
while the district centres keep their real values, so the correlation
between districts is kept as in a real country.

Estimation is robust so that fraud in the source file does not leak into
the twin: a district's centre is the median over its stations of the
observed logit rate (with half a vote of continuity), shrunk toward the
region's median with the weight of ``prior_stations`` stations; its
station-level spread is the MAD (times 1.4826) of the logits around the
district median, less the median binomial variance
:math:`1 / (n_i p (1 - p))` (the part that the counts redraw themselves),
shrunk the same way toward the region's spread.  The other options keep
their pooled composition among the non-leader votes per district, with a
Dirichlet-multinomial dispersion per district estimated from the median of
a Pearson statistic per station.  Invalid ballots follow a rate modelled as
turnout is.  ``ballots_issued`` is ballots cast plus a binomial number of
extra ballots at a rate resampled from the stations of the same district
(capped at the 99th percentile of the file's rates), or equal to ballots
cast when the file has no issued column.

Stations whose registered voters are missing or 0, or whose ballots cast or
leader's count are missing, are copied unchanged from the file (they cannot
be redrawn without inventing a size); their number is recorded in the model.
An empty count of another option is an option not on that station's ballot
(candidates differ from one constituency to the next): it stays empty, gets
no votes, and the station's other votes are shared among its own options.
When the file has no registered voters at all, turnout cannot be modelled:
every station then keeps its ballots cast from the file and the rest is
redrawn given them.  Count columns that are empty in the file stay empty.

Examples
--------
>>> from audit.stations.simulate import clean_election, ballot_stuffing
>>> from audit.stations.twin import fit_twin, twin, twin_truth
>>> real = ballot_stuffing(clean_election(1500, rng=1), share=0.2, rng=2)
>>> model = fit_twin(real)
>>> a, b = model.draw(rng=5), model.draw(rng=5)
>>> a.data.equals(b.data), list(a.data["registered"]) == list(real.data["registered"])
(True, True)
>>> clean = twin(real, rng=7)
>>> rigged = twin(real, fraud="switching", share=0.1, amount=0.3, rng=7)
>>> truth = twin_truth(clean, rigged)
>>> int(truth["votes_moved"].sum()) == int((rigged.data.leader - clean.data.leader).sum())
True

The twin has the real file's stations and district levels but no fraud;
the switching injected in a tenth of its stations is known vote by vote.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from ..tables.station_table import StationTable

__all__ = ["TwinModel", "fit_twin", "twin", "twin_truth", "FRAUD_MODELS"]

#: Fraud models :func:`twin` can inject, by name -> function name in
#: :mod:`audit.stations.simulate`.
FRAUD_MODELS = {"stuffing": "ballot_stuffing", "rounding": "round_percentages",
                "switching": "vote_switching"}

_MAD = 1.4826              # MAD -> SD for a normal law
_MIN_SD = 0.01             # floor of a station-level spread on the logit scale


# ------------------------------------------------------------------ helpers
def _present(data: pd.DataFrame, column: str) -> bool:
    """A column is present when it exists and holds at least one value."""
    return column in data.columns and bool(data[column].notna().any())


def _ints(data: pd.DataFrame, column: str) -> np.ndarray:
    return data[column].to_numpy(dtype=np.float64, na_value=np.nan)


def _logit(p):
    return np.log(p) - np.log1p(-p)


def _expit(x):
    return 0.5 * (1.0 + np.tanh(0.5 * x))


def _group_median(values, groups, n_groups):
    """Median of ``values`` per group code (NaN for empty groups)."""
    out = np.full(n_groups, np.nan)
    if len(values):
        med = pd.Series(values).groupby(groups).median()
        out[med.index.to_numpy()] = med.to_numpy()
    return out


def _group_count(groups, n_groups):
    return np.bincount(groups, minlength=n_groups)


@dataclass(frozen=True)
class _Rate:
    """A logit-normal rate per fine group: centre and station-level SD."""

    centre: np.ndarray
    sd: np.ndarray

    def summary(self) -> dict:
        return {"centre_median": float(_expit(np.median(self.centre))),
                "sd_median": float(np.median(self.sd))}


def _fit_rate(k, n, fine, parent_of, n_fine, n_parent, prior):
    """Robust centre and spread of ``logit(k / n)`` per fine group.

    ``k`` and ``n`` hold only the stations used for the fit; ``fine`` their
    group codes; ``parent_of`` the parent code of each fine group.
    """
    ratio = np.clip((k + 0.5) / (n + 1.0), 0.5 / (n + 1.0), (n + 0.5) / (n + 1.0))
    x = _logit(ratio)
    parent = parent_of[fine]
    nat = float(np.median(x)) if len(x) else 0.0
    med_p = _group_median(x, parent, n_parent)
    med_p = np.where(np.isnan(med_p), nat, med_p)
    med_g = _group_median(x, fine, n_fine)
    n_g = _group_count(fine, n_fine).astype(float)
    prior_centre = med_p[parent_of]
    centre = np.where(n_g > 0, (n_g * np.nan_to_num(med_g) + prior * prior_centre)
                      / (n_g + prior), prior_centre)

    # spread: MAD of the logits around their group's median, less binomial noise
    resid = np.abs(x - np.nan_to_num(med_g)[fine])
    p_i = _expit(np.nan_to_num(med_g)[fine])
    binvar = 1.0 / ((n + 1.0) * p_i * (1.0 - p_i))
    mad_g = _MAD * _group_median(resid, fine, n_fine)
    bin_g = _group_median(binvar, fine, n_fine)
    lat_g = np.maximum(np.nan_to_num(mad_g) ** 2 - np.nan_to_num(bin_g), 0.0)
    # the parent's spread from groups with at least two stations
    several = n_g[fine] >= 2
    if several.any():
        mad_p = _MAD * _group_median(resid[several], parent[several], n_parent)
        bin_p = _group_median(binvar[several], parent[several], n_parent)
        lat_p = np.maximum(mad_p ** 2 - bin_p, 0.0)
        nat_var = max(float((_MAD * np.median(resid[several])) ** 2
                            - np.median(binvar[several])), _MIN_SD ** 2)
    else:
        lat_p = np.full(n_parent, np.nan)
        nat_var = _MIN_SD ** 2
    lat_p = np.where(np.isnan(lat_p), nat_var, lat_p)
    n_eff = np.where(n_g >= 2, n_g, 0.0)
    var = (n_eff * lat_g + prior * lat_p[parent_of]) / (n_eff + prior)
    return _Rate(centre=centre, sd=np.sqrt(np.maximum(var, _MIN_SD ** 2)))


def _fit_composition(counts, fine, n_fine, parent_of, n_parent, prior, absent=None):
    """Pooled shares of the other options per group and a Dirichlet concentration.

    ``absent`` (stations x options, bool) marks options that are not on a
    station's ballot (an empty count, as when candidates differ from one
    constituency to the next): a group's shares leave out the options on
    none of its stations' ballots, and a station's Pearson statistic runs
    over its own options only.

    The concentration :math:`\\alpha_0` comes from the overdispersion
    :math:`\\rho = 1 / (\\alpha_0 + 1)` of a Dirichlet-multinomial: the
    Pearson statistic :math:`X_i = \\sum_j (c_{ij} - m_i p_j)^2 / (m_i p_j)`
    has mean :math:`(K - 1)(1 + (m_i - 1)\\rho)`, so
    :math:`\\rho_i = (X_i / \\mathrm{med}\\chi^2_{K-1} - 1) / (m_i - 1)` and
    :math:`\\rho` is their median in the group, shrunk toward the parent's.
    """
    from scipy.stats import chi2

    n_opt = counts.shape[1]
    sums = np.zeros((n_fine, n_opt))
    np.add.at(sums, fine, counts)
    psum = np.zeros((n_parent, n_opt))
    np.add.at(psum, parent_of, sums)
    national = counts.sum(axis=0) + 0.5
    national = national / national.sum()
    ptot = psum.sum(axis=1, keepdims=True)
    pshare = np.where(ptot > 0, psum / np.maximum(ptot, 1), national)
    gtot = sums.sum(axis=1, keepdims=True)
    # pooled shares, with the parent's weight of ``prior`` stations' mean size
    mean_size = np.divide(gtot[:, 0], np.maximum(_group_count(fine, n_fine), 1))
    w = prior * mean_size[:, None]
    shares = (sums + w * pshare[parent_of]) / np.maximum(gtot + w, 1e-12)
    shares = np.where(gtot + w > 0, shares, pshare[parent_of])

    m = counts.sum(axis=1).astype(float)
    if absent is None:
        use = m >= 2
        p = np.maximum(shares[fine[use]], 1e-9)
        x2 = (((counts[use] - m[use, None] * p) ** 2) / (m[use, None] * p)).sum(axis=1)
        rho_i = (x2 / chi2.median(n_opt - 1) - 1.0) / (m[use] - 1.0)
    else:
        # each group's shares over the options on its ballots
        on = np.zeros((n_fine, n_opt), bool)
        np.logical_or.at(on, fine, ~absent)
        shares = np.where(on, shares, 0.0)
        tot = shares.sum(axis=1, keepdims=True)
        shares = np.where(tot > 0, shares / np.where(tot > 0, tot, 1.0), 0.0)
        df = (~absent).sum(axis=1) - 1
        use = (m >= 2) & (df >= 1)
        p = np.maximum(shares[fine[use]], 1e-9)
        terms = ((counts[use] - m[use, None] * p) ** 2) / (m[use, None] * p)
        x2 = np.where(absent[use], 0.0, terms).sum(axis=1)
        rho_i = (x2 / chi2.median(df[use]) - 1.0) / (m[use] - 1.0)
    g = fine[use]
    rho_g = _group_median(rho_i, g, n_fine)
    rho_p = _group_median(rho_i, parent_of[g], n_parent)
    nat = float(np.median(rho_i)) if len(rho_i) else 0.0
    rho_p = np.where(np.isnan(rho_p), nat, rho_p)
    n_g = _group_count(g, n_fine).astype(float)
    rho = (n_g * np.nan_to_num(rho_g) + prior * rho_p[parent_of]) / (n_g + prior)
    rho = np.clip(rho, 1e-6, 0.999)
    return shares, 1.0 / rho - 1.0


def _source_name(table: StationTable):
    src = table.source or {}
    for key in ("sha256", "dataset", "path", "generator"):
        if src.get(key):
            return str(src[key])
    return None


# ------------------------------------------------------------------ model
@dataclass(frozen=True)
class TwinModel:
    """A fitted clean-twin model of one station table; :meth:`draw` redraws it.

    Attributes
    ----------
    table : StationTable
        The source table (labels, sizes and row order are taken from it).
    leader : str
        The leader option.
    levels : list of str
        Hierarchy levels that define the fine groups (e.g. region, district).
    group : ndarray of int
        Fine-group code of every station.
    modelled : ndarray of bool
        Stations whose counts are redrawn (the others are copied).
    turnout, support, invalid : _Rate or None
        Centre (logit) and station-level SD per fine group.
    shares : ndarray or None
        Pooled composition of the non-leader options per group.
    concentration : ndarray or None
        Dirichlet concentration of that composition per group.
    issued_ratio : ndarray or None
        Observed extra-ballot ratios (issued - cast) / cast, sorted by group,
        resampled within group; ``issued_start`` indexes the blocks.
    absent : ndarray or None
        Stations x non-leader options: True where the option is not on the
        station's ballot (its count is empty in the file); None when every
        option is on every ballot.
    info : dict
        What is recorded as ``source["twin"]["model"]``.
    """

    table: StationTable
    leader: str
    levels: list
    group: np.ndarray
    modelled: np.ndarray
    turnout: _Rate | None
    support: _Rate
    invalid: _Rate | None
    shares: np.ndarray | None
    concentration: np.ndarray | None
    issued_ratio: np.ndarray | None
    issued_start: np.ndarray | None
    issued_count: np.ndarray | None
    absent: np.ndarray | None = None
    info: dict = field(default_factory=dict)

    def draw(self, rng=None) -> StationTable:
        """Draw one clean twin.

        Parameters
        ----------
        rng : int, Generator or None
            Source of randomness.  An int (or ``None``, which draws a fresh
            seed) is recorded in ``source["twin"]["seed"]``, so the twin can
            be drawn again; a Generator is used as it is (seed recorded as
            ``None``).

        Returns
        -------
        StationTable
            Same rows, index, labels and registered voters as the source;
            counts redrawn.  ``source["twin"]`` records ``of`` (the source's
            sha256 or name), ``model`` and ``seed``; ``altered`` is all False.
        """
        seed = None
        if rng is None:
            seed = int(np.random.SeedSequence().entropy % (2 ** 63))
            rng = seed
        elif isinstance(rng, (int, np.integer)) and not isinstance(rng, bool):
            seed = int(rng)
        rng = np.random.default_rng(rng)

        src = self.table.data
        n = len(src)
        g = self.group
        mod = self.modelled
        z = rng.standard_normal((3, n))
        data = src.copy()

        cast = np.nan_to_num(_ints(src, "ballots_cast")).astype(np.int64)
        if self.turnout is not None:
            reg = np.nan_to_num(_ints(src, "registered")).astype(np.int64)
            p = _expit(self.turnout.centre[g] + self.turnout.sd[g] * z[0])
            cast = np.where(mod, rng.binomial(np.where(mod, reg, 0), p), cast)
        if self.invalid is not None:
            p = _expit(self.invalid.centre[g] + self.invalid.sd[g] * z[2])
            invalid = rng.binomial(np.where(mod, cast, 0), p)
        else:
            invalid = np.zeros(n, np.int64)
        valid = cast - invalid
        p = _expit(self.support.centre[g] + self.support.sd[g] * z[1])
        lead = rng.binomial(np.where(mod, valid, 0), p)
        others = [o for o in self.table.options if o != self.leader]
        absent = self.absent
        # each station's last option on its ballot takes the votes left
        # (-1: the leader stands alone there and takes every valid vote)
        last = np.full(n, len(others) - 1)
        if absent is not None:
            on = ~absent
            last = np.where(on.any(axis=1),
                            len(others) - 1 - np.argmax(on[:, ::-1], axis=1), -1)
            lead = np.where(last < 0, np.where(mod, valid, 0), lead)
        rest = valid - lead
        votes = {self.leader: lead}
        if len(others) == 1:
            votes[others[0]] = rest
        elif others:
            alpha = self.concentration[g, None] * self.shares[g]
            gam = rng.standard_gamma(np.maximum(alpha, 0.0))
            tot = gam.sum(axis=1, keepdims=True)
            w = np.where(tot > 0, gam / np.where(tot > 0, tot, 1), self.shares[g])
            if absent is not None:
                # the weights of a station's own options, summing to 1 again
                rows = absent.any(axis=1)
                part = np.where(absent, 0.0, w)
                ptot = part.sum(axis=1, keepdims=True)
                part = np.where(ptot > 0, part / np.where(ptot > 0, ptot, 1.0), 0.0)
                w = np.where(rows[:, None], part, w)
            remaining = np.where(mod, rest, 0)
            left = np.ones(n)
            for j, o in enumerate(others[:-1]):
                q = np.clip(w[:, j] / np.maximum(left, 1e-12), 0.0, 1.0)
                drawn = rng.binomial(remaining, q)
                drawn = np.where(last == j, remaining, drawn)
                votes[o] = drawn
                remaining = remaining - drawn
                left = left - w[:, j]
            votes[others[-1]] = remaining

        def put(column, values):
            old = _ints(src, column)
            keep = ~mod | np.isnan(old)
            data[column] = pd.array(np.where(keep, old, np.asarray(values, np.float64)),
                                    dtype="Int64")

        if self.turnout is not None:
            put("ballots_cast", cast)
        if self.invalid is not None:
            put("invalid", invalid)
        for o, v in votes.items():
            put(o, v)
        if self.issued_ratio is not None:
            has = self.issued_count[g] > 0
            pos = self.issued_start[g] + np.floor(
                rng.random(n) * np.maximum(self.issued_count[g], 1)).astype(np.int64)
            q = np.where(has, self.issued_ratio[np.minimum(pos, len(self.issued_ratio) - 1)]
                         if len(self.issued_ratio) else 0.0, 0.0)
            extra = rng.binomial(cast, np.clip(q, 0.0, 1.0))
            if self.turnout is not None:
                reg = np.nan_to_num(_ints(src, "registered")).astype(np.int64)
                extra = np.minimum(extra, np.maximum(reg - cast, 0))
            put("ballots_issued", cast + extra)
        else:   # no issued column in the file: issued = cast (fraud models need it)
            issued = pd.array(np.where(mod, cast, np.nan), dtype="Int64")
            if "ballots_issued" in data.columns:
                data["ballots_issued"] = issued
            else:
                data.insert(data.columns.get_loc("ballots_cast"), "ballots_issued", issued)

        source = {"format": "twin",
                  "twin": {"of": self.info.get("of"), "model": dict(self.info),
                           "seed": seed},
                  "altered": np.zeros(n, bool), "fraud": []}
        empty = self.table.findings.iloc[0:0].copy()
        return StationTable(data=data, options=list(self.table.options),
                            excluded=self.table.excluded.copy(), findings=empty,
                            source=source)


def fit_twin(table: StationTable, *, leader: str | None = None,
             prior_stations: float = 5.0) -> TwinModel:
    """Fit the clean-twin model of a station table (see the module docstring).

    Parameters
    ----------
    table : StationTable
        Real (or simulated) station results.
    leader : str, optional
        Leader option (exact name or unique part of one); default: most votes.
    prior_stations : float
        Weight, in stations, of the region's value when a district's centre
        and spread are estimated (small districts lean on their region).

    Returns
    -------
    TwinModel

    Raises
    ------
    TypeError
        ``table`` is not a StationTable.
    ValueError
        No ``ballots_cast`` values, no options, or no station to fit.
    """
    if not isinstance(table, StationTable):
        raise TypeError(f"table must be a StationTable, got {type(table).__name__}")
    if not (isinstance(prior_stations, (int, float)) and prior_stations > 0):
        raise ValueError(f"prior_stations must be a positive number, got {prior_stations!r}")
    data = table.data
    if not table.options:
        raise ValueError("table has no option columns")
    if not _present(data, "ballots_cast"):
        raise ValueError("table has no ballots_cast values: a twin needs ballots cast")
    lead = table.leader_column(leader)
    n = len(data)

    levels = [c for c in ("region", "district") if c in data.columns]
    if levels:   # a missing label is a group of its own
        fine = data.groupby(levels, sort=False, dropna=False).ngroup().to_numpy(np.int64)
    else:
        fine = np.zeros(n, np.int64)
    n_fine = int(fine.max()) + 1 if n else 1
    if len(levels) == 2:
        par = data.groupby("region", sort=False, dropna=False).ngroup().to_numpy(np.int64)
    else:
        par = np.zeros(n, np.int64)
    parent_of = np.zeros(n_fine, np.int64)
    parent_of[fine] = par
    n_parent = int(par.max()) + 1 if n else 1

    cast = _ints(data, "ballots_cast")
    opts = np.column_stack([_ints(data, o) for o in table.options])
    li = table.options.index(lead)
    # an empty option count is an option not on that station's ballot (other
    # candidates in other constituencies): it stays empty and gets no votes
    present = ~np.isnan(opts)
    opts = np.where(present, opts, 0.0)
    has_reg = _present(data, "registered")
    reg = _ints(data, "registered") if has_reg else np.full(n, np.nan)
    modelled = ~np.isnan(cast) & present[:, li]
    if has_reg:
        modelled &= ~np.isnan(reg) & (np.nan_to_num(reg) > 0)
    if not modelled.any():
        raise ValueError("no station has registered voters, ballots cast and the "
                         "leader's count: nothing to fit")
    m = modelled
    fg = fine[m]

    turnout = None
    if has_reg:
        turnout = _fit_rate(cast[m], reg[m], fg, parent_of, n_fine, n_parent,
                            prior_stations)
    has_inv = _present(data, "invalid")
    inv_rate = None
    if has_inv:
        inv = _ints(data, "invalid")
        ok = m & ~np.isnan(inv) & (cast > 0)
        inv_rate = _fit_rate(np.minimum(inv[ok], cast[ok]), cast[ok], fine[ok], parent_of,
                             n_fine, n_parent, prior_stations)
    valid = opts.sum(axis=1)
    ok = m & (valid > 0)
    support = _fit_rate(opts[ok, li], valid[ok], fine[ok], parent_of, n_fine, n_parent,
                        prior_stations)
    others = [j for j in range(len(table.options)) if j != li]
    absent = ~present[:, others] if others and not present[:, others].all() else None
    shares = conc = None
    if len(others) >= 2:
        shares, conc = _fit_composition(opts[m][:, others].astype(np.int64), fg, n_fine,
                                        parent_of, n_parent, prior_stations,
                                        absent=None if absent is None else absent[m])

    ratio = start = count = None
    issued_rule = "equal to cast (no issued column in the file)"
    if _present(data, "ballots_issued"):
        iss = _ints(data, "ballots_issued")
        ok = m & ~np.isnan(iss) & (cast > 0)
        r = np.clip((iss[ok] - cast[ok]) / cast[ok], 0.0, None)
        positive = r[r > 0]
        cap = float(np.quantile(positive, 0.99)) if len(positive) else 0.0
        r = np.minimum(r, cap)
        order = np.argsort(fine[ok], kind="stable")
        ratio = r[order]
        count = _group_count(fine[ok], n_fine)
        start = np.concatenate([[0], np.cumsum(count)[:-1]]).astype(np.int64)
        issued_rule = ("cast + Binomial(cast, q), q resampled from the district's "
                       f"(issued - cast) / cast ratios capped at {cap:.4g}")

    info = {"of": _source_name(table), "leader": lead, "levels": levels,
            "groups": n_fine, "parents": n_parent, "prior_stations": prior_stations,
            "stations": n, "kept_as_is": int((~modelled).sum()),
            "turnout": turnout.summary() if turnout else
            "not modelled (no registered voters): ballots cast kept",
            "support": support.summary(),
            "invalid": inv_rate.summary() if inv_rate else "not in the file",
            "others": ("Dirichlet-multinomial, pooled district shares" if shares is not None
                       else "the rest of the valid votes" if others else "none"),
            "issued": issued_rule}
    if absent is not None:
        info["options_not_on_ballot"] = int(absent[modelled].any(axis=1).sum())
    return TwinModel(table=table, leader=lead, levels=levels, group=fine,
                     modelled=modelled, turnout=turnout, support=support,
                     invalid=inv_rate, shares=shares, concentration=conc,
                     issued_ratio=ratio, issued_start=start, issued_count=count,
                     absent=absent, info=info)


# ------------------------------------------------------------------ twin + fraud
def _fraud(table, fraud, leader, rng, options):
    from . import simulate

    if fraud not in FRAUD_MODELS:
        raise ValueError(f"fraud must be one of {', '.join(FRAUD_MODELS)}, got {fraud!r}")
    return getattr(simulate, FRAUD_MODELS[fraud])(table, leader=leader, rng=rng, **options)


def twin(table: StationTable, *, leader: str | None = None, fraud: str | None = None,
         rng=None, **fraud_options) -> StationTable:
    """A clean twin of ``table``, optionally with fraud injected.

    Parameters
    ----------
    table : StationTable
        Source station results.
    leader : str, optional
        Leader option (default: most votes in ``table``).
    fraud : {"stuffing", "rounding", "switching"}, optional
        Fraud model applied to the twin: :func:`audit.stations.simulate.ballot_stuffing`,
        :func:`~audit.stations.simulate.round_percentages` or
        :func:`~audit.stations.simulate.vote_switching`.
    rng : int, Generator or None
        With an int seed, the clean part is the same with or without
        ``fraud`` (the fraud draws from a separate stream), so
        ``twin_truth(twin(t, rng=s), twin(t, fraud=..., rng=s))`` is the truth.
    **fraud_options
        Passed to the fraud model (``share``, ``amount``, ``target``, ...).

    Returns
    -------
    StationTable
    """
    if fraud is None and fraud_options:
        raise TypeError(f"fraud options {', '.join(sorted(fraud_options))} given "
                        "without fraud")
    if fraud is not None and fraud not in FRAUD_MODELS:
        raise ValueError(f"fraud must be one of {', '.join(FRAUD_MODELS)}, got {fraud!r}")
    model = fit_twin(table, leader=leader)
    if isinstance(rng, (int, np.integer)) and not isinstance(rng, bool):
        clean = model.draw(int(rng))
        fraud_rng = np.random.default_rng(np.random.SeedSequence(int(rng)).spawn(1)[0])
    elif rng is None:
        clean = model.draw(None)
        fraud_rng = np.random.default_rng(
            np.random.SeedSequence(clean.source["twin"]["seed"]).spawn(1)[0])
    else:
        fraud_rng = np.random.default_rng(rng)
        clean = model.draw(fraud_rng)
    if fraud is None:
        return clean
    return _fraud(clean, fraud, model.leader, fraud_rng, fraud_options)


def twin_truth(clean: StationTable, rigged: StationTable, *,
               leader: str | None = None) -> pd.DataFrame:
    """The injected truth: what a fraud model did to each station of a twin.

    Parameters
    ----------
    clean, rigged : StationTable
        A clean twin and the same twin after fraud (same rows).
    leader : str, optional
        Leader option; default the twin's recorded leader.

    Returns
    -------
    DataFrame
        One row per station: hierarchy labels, ``altered`` (from
        ``rigged.source["altered"]``), ``leader_added`` (leader votes
        added), ``ballots_added`` (ballots cast added) and ``votes_moved``
        (votes taken from the other options, net; negative when a rounding
        gave votes back).  ``leader_added = ballots_added + votes_moved``.
    """
    for name, t in (("clean", clean), ("rigged", rigged)):
        if not isinstance(t, StationTable):
            raise TypeError(f"{name} must be a StationTable, got {type(t).__name__}")
    if len(clean.data) != len(rigged.data) or not clean.data.index.equals(rigged.data.index):
        raise ValueError(f"clean and rigged must have the same rows, got {len(clean.data)} "
                         f"and {len(rigged.data)}")
    if leader is None:
        leader = (clean.source.get("twin", {}).get("model", {}).get("leader")
                  or clean.leader_column(None))
    lead = clean.leader_column(leader)

    def diff(column):
        a = clean.data[column].to_numpy(dtype=np.int64, na_value=0)
        b = rigged.data[column].to_numpy(dtype=np.int64, na_value=0)
        return b - a

    out = clean.data[clean.hierarchy].copy()
    altered = rigged.source.get("altered")
    out["altered"] = (np.zeros(len(out), bool) if altered is None
                      else np.asarray(altered, bool))
    out["leader_added"] = diff(lead)
    out["ballots_added"] = diff("ballots_cast")
    moved = np.zeros(len(out), np.int64)
    for o in clean.options:
        if o != lead:
            moved -= diff(o)
    out["votes_moved"] = moved
    return out
