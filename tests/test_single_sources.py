"""One source of truth for what used to be written several times: the CPU
counter, the versions list, the JSON cleaner, the count checks and the
impossible-station rule (issue 13)."""

from __future__ import annotations

import json
import re
from pathlib import Path

import numpy as np

from audit.core import jsonable, threads, versions

PACKAGE = Path(__file__).resolve().parent.parent / "audit"


def _files_matching(pattern: str) -> set[str]:
    rx = re.compile(pattern)
    return {p.relative_to(PACKAGE).as_posix() for p in PACKAGE.rglob("*.py")
            if rx.search(p.read_text(encoding="utf-8"))}


def test_one_cpu_counter():
    assert _files_matching(r"sched_getaffinity|cpu_count\(") == {"core/threads.py"}
    assert threads.usable_cores() >= 1


def test_one_versions_list():
    assert _files_matching(r"metadata\.version\(") == {"core/versions.py"}
    rows = dict(versions.report_versions())
    assert list(rows)[:2] == ["python", "vote-audit"]
    assert set(versions.LIBRARIES) <= set(rows) and set(versions.LIBRARIES) <= set(
        versions.software_versions())


def test_one_json_cleaner():
    """Test results and battery records go through core.jsonable: arrays,
    numpy scalars and non-finite numbers come out as plain JSON."""
    from audit.stations.result import TestResult

    res = TestResult(test="t", statistic=np.float64(np.inf), pvalue=np.float32(0.5),
                     n=np.int64(3), expected=None,
                     details={"a": np.array([1, 2]), "b": np.bool_(True),
                              "c": (np.nan, 1.5), 4: {"d": np.int32(7)}})
    out = res.to_dict()
    assert out["statistic"] is None and out["pvalue"] == 0.5
    assert out["details"] == {"expected": None, "a": [1, 2], "b": True, "c": [None, 1.5],
                              "4": {"d": 7}}
    json.dumps(out, allow_nan=False)
    assert jsonable.to_jsonable(np.array([[1.0, np.nan]])) == [[1.0, None]]
    assert not _files_matching(r"def clean\(v\)")


def test_one_count_validator_and_one_impossible_station_rule():
    """Counts are checked, and stations screened for turnout above 100% or
    more votes than ballots, in stations/forensics/_validation.py only."""
    from audit.stations.forensics import _validation as v

    assert _files_matching(r"must hold whole numbers") == {"stations/forensics/_validation.py"}
    assert _files_matching(r"\(cast > reg\)|\bcast <= reg\b|\blead <= cast\b") == {
        "stations/forensics/_validation.py"}
    assert _files_matching(r"def (_check_counts|_counts_1d|_as_count_array|_as_counts|"
                           r"counts_with_missing|_canonical_order)\b") == set()
    assert _files_matching(r"packed <<=") == {"stations/forensics/_order.py"}
    reg = np.array([0, 100, 100, 100, 100, np.nan])
    cast = np.array([0, 0, 120, 80, 80, 50])
    lead = np.array([0, 0, 10, 90, 40, 40])
    empty, impossible = v.pair_screen(reg, cast, lead)
    assert empty.tolist() == [True, True, False, False, False, False]
    assert impossible.tolist() == [False, False, True, True, False, False]
    assert v.reason(v.NO_REGISTERED, v.NO_BALLOTS, v.OVER_100, v.LEADER_OVER) == (
        "no registered voters, no ballots cast, turnout above 100% or more leader votes "
        "than ballots")
