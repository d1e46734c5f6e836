"""The station battery on some regions of a registered dataset.

A report may need the battery on a slice of a national file (the 2022
referendum report runs it on Crimea and Sevastopol in the 2024 Russian
presidential file, the only station results from annexed Ukrainian
territory). The slice is read only from the data folder: nothing is
downloaded, and when the file is missing the run says why it was skipped,
so a report built offline still builds.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from ..tables import datasets
from .battery import run_battery

__all__ = ["StationRun", "run_on_regions", "station_evidence", "station_summary"]


@dataclass
class StationRun:
    """The station battery on a slice of a registered dataset, or why it was skipped."""

    dataset: str
    regions: tuple[str, ...]
    skipped: str = ""
    table: object = None
    battery: object = None
    leader: str = ""

    @property
    def ran(self) -> bool:
        return not self.skipped


def run_on_regions(dataset: str, regions, *, leader: str, tests=None, rng=0) -> StationRun:
    """Run the station battery (as ``audit run`` does) on some regions of a dataset.

    Nothing is downloaded: when the file is not already in the data folder
    (``$AUDIT_DATA_DIR`` or the cache), the run is skipped and ``skipped``
    says why, so a report built offline still builds.
    """
    regions = tuple(regions)
    if not datasets.is_dataset(dataset):
        return StationRun(dataset, regions, skipped=f"{dataset!r} is not a registered dataset")
    if not datasets.available([dataset]):
        return StationRun(dataset, regions, skipped=(
            f"the file {dataset} is not in the data folder (${datasets.ENV_VAR}, else "
            f"{datasets.DEFAULT_DIR}); set {datasets.ENV_VAR} to a folder that holds it, or "
            f"fetch it once with `audit run {dataset}` where a network is allowed (the report "
            "never downloads)"))
    table = datasets.load(dataset)         # sha256 verified on every load
    part = table.select("region", list(regions))
    if part.data.empty:
        return StationRun(dataset, regions, skipped=f"no station of {', '.join(regions)} in "
                                                     f"{dataset}")
    lead = part.leader_column(leader)
    res = run_battery(part, leader=lead, tests=tests, rng=rng)
    return StationRun(dataset, regions, table=part, battery=res, leader=lead)


def station_evidence(run: StationRun) -> pd.DataFrame:
    """The battery's rows with their class: only ``evidence`` rows count as evidence."""
    ev = run.battery.evidence.copy()
    ev.insert(0, "class", np.where(ev["evidence"].astype(bool), "evidence", "descriptive"))
    return ev


def station_summary(run: StationRun) -> pd.DataFrame:
    """Stations, voters, turnout and the leader's share per region of the slice."""
    d = run.table.data
    g = d.groupby("region", sort=False)
    out = pd.DataFrame({
        "stations": g.size(), "registered": g["registered"].sum(),
        "ballots_cast": g["ballots_cast"].sum(), "leader_votes": g[run.leader].sum()})
    out["turnout_pct"] = 100 * out["ballots_cast"] / out["registered"]
    out["leader_pct"] = 100 * out["leader_votes"] / out["ballots_cast"]
    return out.reset_index()
