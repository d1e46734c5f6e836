"""Hypothesis strategies for station tables, and the battery's way of
turning a table into a registered test's arguments.

A table is drawn as a handful of *structural* choices (number of stations
and options, a size regime, a turnout regime, a vote regime, number of
regions) plus one numpy seed for the counts themselves.  Hypothesis shrinks
the structure (fewer stations, simpler regimes) and the seed; drawing the
hundreds of counts with numpy keeps each example cheap.  Every table is
*valid*: ``invalid <= ballots_cast <= ballots_issued <= registered`` and the
option votes add up to the valid ballots, with zeros, tiny stations, equal
turnout everywhere and one option taking every vote among the regimes.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from hypothesis import strategies as st

from audit.stations.binding import bind
from audit.tables.station_table import COUNTS, StationTable

# Regimes, repeated to weight them (hypothesis shrinks towards the first).
SIZES = ("mixed", "large", "mixed", "small", "tiny", "some_zero", "huge", "equal",
         "one_big")
TURNOUTS = ("random", "narrow", "random", "narrow", "zero_some", "equal", "full",
            "two_values", "one_off")
VOTES = ("random", "random", "tied", "random", "one_option", "leader_all",
         "all_invalid")
N_OPTIONS = (3, 2, 4, 1, 3, 2)


def make_table(n: int, k: int, sizes: str, turnout: str, votes: str,
               n_regions: int, seed: int) -> StationTable:
    """A valid station table of ``n`` stations and ``k`` options."""
    g = np.random.default_rng(seed)
    if sizes == "tiny":
        reg = g.integers(0, 11, n)
    elif sizes == "small":
        reg = g.integers(0, 201, n)
    elif sizes == "large":
        reg = g.integers(500, 3001, n)
    elif sizes == "equal":
        reg = np.full(n, 1000)
    elif sizes == "huge":                      # region-sized units
        reg = g.integers(10_000, 1_000_001, n)
    else:                                      # log-uniform 1 .. ~3000
        reg = np.floor(10 ** g.uniform(0, 3.5, n)).astype(np.int64)
        if sizes == "some_zero":
            reg[g.random(n) < 0.3] = 0
        elif sizes == "one_big" and n:          # one region-sized unit
            reg[g.integers(n)] = 5_000_000
    if turnout in ("equal", "two_values", "one_off"):
        reg = 10 * np.maximum(reg // 10, 1)    # exactly 60% everywhere ...
        cast = reg * 6 // 10
        if turnout == "two_values":            # ... or 30% / 90%
            cast = np.where(g.random(n) < 0.5, reg * 3 // 10, reg * 9 // 10)
        elif turnout == "one_off" and n:       # ... but for one station
            cast[g.integers(n)] = 0
    elif turnout == "full":
        cast = reg.copy()
    elif turnout == "narrow":
        cast = g.binomial(reg, g.beta(120, 80, n))
    else:
        cast = g.binomial(reg, g.uniform(0, 1, n))
        if turnout == "zero_some":
            cast[g.random(n) < 0.3] = 0
    issued = cast + g.binomial(reg - cast, 0.01)
    invalid = cast.copy() if votes == "all_invalid" else g.binomial(cast, 0.02)
    valid = cast - invalid
    if votes == "random":
        shares = g.dirichlet(np.full(k, 2.0), size=n)
        vts = g.multinomial(valid, shares).reshape(n, k)
    else:
        vts = np.zeros((n, k), np.int64)
        if votes == "tied":
            vts[:] = (valid // k)[:, None]
            vts[:, 0] += valid - k * (valid // k)
        elif votes == "one_option":            # all to the last option
            vts[:, -1] = valid
        elif votes == "leader_all":            # all to the first option
            vts[:, 0] = valid
    options = [f"opt{j}" for j in range(k)]
    data = pd.DataFrame({
        "region": [f"R{r}" for r in g.integers(0, n_regions, n)],
        "station": np.arange(1, n + 1),
        "registered": reg, "ballots_issued": issued, "ballots_cast": cast,
        "invalid": invalid})
    for j, name in enumerate(options):
        data[name] = vts[:, j]
    for c in [*COUNTS, *options]:
        data[c] = data[c].astype("Int64")
    return StationTable(data=data, options=options,
                        source={"format": "hypothesis", "seed": seed})


@st.composite
def station_tables(draw, min_n: int = 1, max_n: int = 300, max_options: int = 4,
                   options=None):
    """Valid :class:`StationTable` of ``min_n`` to ``max_n`` stations."""
    n = draw(st.integers(min_n, max(min_n, max_n)))
    k = draw(st.sampled_from([j for j in N_OPTIONS if j <= max_options])) \
        if options is None else options
    return make_table(
        n, k,
        draw(st.sampled_from(SIZES)), draw(st.sampled_from(TURNOUTS)),
        draw(st.sampled_from(VOTES)), draw(st.integers(1, 4)),
        draw(st.integers(0, 2**32 - 1)))


def battery_args(spec, table: StationTable, leader: str | None = None):
    """Positional and keyword arguments exactly as the battery builds them
    (``audit.stations.binding.bind``: the labels of the finest hierarchy level passed
    as ``groups`` to a test that takes them when there are two units or
    more)."""
    if table.data.empty:        # no station: the battery would not call it
        k = len(table.options)
        return [np.zeros((0, k) if r == "votes" else 0, np.int64) for r in spec.needs], {}
    b = bind(spec, table.data, list(table.options), table.leader_column(leader))
    return b.args, b.kwargs
