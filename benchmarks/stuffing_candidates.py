#!/usr/bin/env python
"""Three candidate stuffing statistics, measured before building any as a test.

Ballot stuffing raises a station's turnout and its leader share together.  A
test of that joint rise must not fire on honestly counted elections, where
turnout and support are related within districts in ways of their own.  This
script measures, on the clean real elections, on clean twins of the Russian
files and on twins with ballots stuffed in 5% of stations (the calibration's
``stuffing`` scenario), three statistics computed within the finest
administrative level (districts of at least ``--min-stations`` stations;
ranks within district, ties broken at random):

``tail``
    Stations in the top decile of both turnout and leader share within their
    district, against what independence predicts (``z_indep``) and against
    what a Gaussian copula with the pooled within-district normal-score
    correlation ``rho`` predicts (``z_copula``), in binomial standard errors.
``trend``
    The leader share (on the logit scale, centred on the district median, or
    as a within-district normal score) against the within-district normal
    score of turnout: a line fitted with district intercepts on the central
    80% of turnout scores, then the mean residual of the stations in the top
    5% minus that of the stations in the bottom 5%, in district-clustered
    standard errors (``z_logit``, ``z_scores``; ``z_logit90`` fits the line on
    the central 90%).  Under a linear relation it is 0; stuffing lifts the
    top end.
``symmetry``
    Turnout and leader share on the logit scale, each centred on its
    district median and scaled by its district MAD: the stations beyond
    ``2`` robust SDs above in both (``up-right``) against those beyond 2
    below in both (``low-left``), ``z_symmetry = (U - L) / sqrt(U + L)``.
    Any law symmetric about its centre, correlated or not, gives U = L on
    average; stuffing moves stations up and to the right.

Run from the repository root (about three minutes)::

    AUDIT_DATA_DIR=../shared/datasets .venv/bin/python benchmarks/stuffing_candidates.py

``docs/stuffing.md`` reads the table.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

import numpy as np
import pandas as pd
from scipy import stats

from audit.stations.calibration import real
from audit.stations.registry import finest_level


def _arrays(table):
    d = table.data
    lead = table.leader_column()
    level = finest_level(d)
    keys = [c for c in ("district", "region") if c in d.columns] if level == "district" \
        else [level]
    group = pd.factorize(d[keys].astype(str).agg("|".join, axis=1))[0]
    reg, cast = d.registered.to_numpy(float), d.ballots_cast.to_numpy(float)
    votes = d[lead].to_numpy(float)
    ok = (reg > 0) & (cast > 0) & (cast <= reg) & (votes <= cast)
    return cast[ok] / reg[ok], votes[ok] / cast[ok], group[ok]


def _uniform_scores(x, group, gen):
    """(rank + 0.5) / size within each group, ties in random order, and the size."""
    frame = pd.DataFrame({"g": group, "x": x, "u": gen.random(x.size)})
    frame = frame.sort_values(["g", "x", "u"])
    rank = frame.groupby("g").cumcount().to_numpy()
    size = frame.groupby("g")["x"].transform("size").to_numpy()
    out, n = np.empty(x.size), np.empty(x.size)
    out[frame.index.to_numpy()] = (rank + 0.5) / size
    n[frame.index.to_numpy()] = size
    return out, n


def _clustered_z(values, group):
    """Mean of ``values`` over its district-clustered standard error."""
    centred = pd.Series(values - values.mean()).groupby(group).sum().to_numpy()
    return values.mean() / (np.sqrt((centred ** 2).sum()) / values.size)


def _trend_z(share_y, turnout_z, group, bulk):
    inner = np.abs(turnout_z) < stats.norm.ppf(0.5 + bulk / 2)
    y, x, g = share_y[inner], turnout_z[inner], group[inner]
    yc = y - pd.Series(y).groupby(g).transform("mean").to_numpy()
    xc = x - pd.Series(x).groupby(g).transform("mean").to_numpy()
    slope = (xc * yc).sum() / (xc ** 2).sum()
    intercept = pd.Series(y - slope * x).groupby(g).mean().reindex(group).to_numpy()
    resid = share_y - intercept - slope * turnout_z
    edge = stats.norm.ppf(0.95)
    signed = np.where(turnout_z > edge, resid, np.where(turnout_z < -edge, -resid, np.nan))
    keep = ~np.isnan(signed)
    return _clustered_z(signed[keep], group[keep])


def _robust_scores(x, group):
    """(x - district median) / (1.4826 district MAD); nan where the MAD is 0."""
    med = pd.Series(x).groupby(group).transform("median").to_numpy()
    mad = 1.4826 * pd.Series(np.abs(x - med)).groupby(group).transform("median").to_numpy()
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.where(mad > 0, (x - med) / mad, np.nan)


def _logit(p):
    return np.log((p + 1e-3) / (1 - p + 1e-3))


def measure(table, min_stations=10, seed=0):
    turnout, share, group = _arrays(table)
    gen = np.random.default_rng(seed)
    ut, size = _uniform_scores(turnout, group, gen)
    us, _ = _uniform_scores(share, group, gen)
    keep = size >= min_stations
    ut, us, g = ut[keep], us[keep], group[keep]
    zt, zs = stats.norm.ppf(ut), stats.norm.ppf(us)
    rho = float(np.corrcoef(zt, zs)[0, 1])
    both = int(((ut > 0.9) & (us > 0.9)).sum())
    m = int(keep.sum())
    e_ind = 0.01 * m
    cut = stats.norm.ppf(0.1)
    p_cop = float(stats.multivariate_normal([0, 0], [[1, rho], [rho, 1]]).cdf([cut, cut]))
    e_cop = p_cop * m
    logit = _logit(share[keep])
    logit = logit - pd.Series(logit).groupby(g).transform("median").to_numpy()
    rt = _robust_scores(_logit(turnout[keep]), g)
    rs = _robust_scores(_logit(share[keep]), g)
    up = int(((rt > 2) & (rs > 2)).sum())
    low = int(((rt < -2) & (rs < -2)).sum())
    return {"stations": m, "districts": int(np.unique(g).size), "rho": round(rho, 3),
            "both top decile": both,
            "z_indep": round((both - e_ind) / np.sqrt(e_ind * 0.99), 2),
            "z_copula": round((both - e_cop) / np.sqrt(e_cop * (1 - p_cop)), 2),
            "z_logit": round(float(_trend_z(logit, zt, g, 0.8)), 2),
            "z_logit90": round(float(_trend_z(logit, zt, g, 0.9)), 2),
            "z_scores": round(float(_trend_z(zs, zt, g, 0.8)), 2),
            "up-right / low-left": f"{up} / {low}",
            "z_symmetry": round((up - low) / np.sqrt(up + low), 2) if up + low else 0.0}


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--twins", type=int, default=2, help="twins per file and scenario")
    ap.add_argument("--min-stations", type=int, default=10)
    args = ap.parse_args(argv)
    rows = []
    for name in real.clean_elections():
        rows.append({"data": name, **measure(real._load(name), args.min_stations)})
    for source in real.TWIN_SOURCES:
        for scenario in ("clean", "stuffing"):
            for sim in range(args.twins):
                table = real.table_of(real.CorpusTask(source, "twin", scenario, sim))
                rows.append({"data": f"{source} {scenario} twin {sim}",
                             **measure(table, args.min_stations)})
                print(rows[-1], file=sys.stderr, flush=True)
    frame = pd.DataFrame(rows)
    cols = list(frame.columns)
    print("| " + " | ".join(cols) + " |")
    print("|" + "---|" * len(cols))
    for rec in frame.itertuples(index=False):
        print("| " + " | ".join(str(v) for v in rec) + " |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
