"""Adding a test touches one function (notebook 03): a throwaway test,
registered here and nowhere else, goes through the registry contract, the
property tests and the calibration harness exactly as the built-in tests do.

The checks are the project's own test functions, called with the new name;
nothing in them, in the registry or in the calibration is edited for it.
"""

from __future__ import annotations

import numpy as np
import pytest
import test_properties_registry as properties
import test_registry_contract as contract
from scipy import stats

from audit.core.errors import NotApplicable
from audit.stations.calibration import simulated as cal
from audit.stations.forensics._validation import as_counts
from audit.stations.registry import REGISTRY, register
from audit.stations.result import TestResult
from audit.stations.simulate import clean_election

NAME = "throwaway_ballots_end_in_zero"


def _define():
    """The whole of a new test: one function, everything declared at @register."""

    @register(NAME, family="digits", min_units=50,
              null="the last digit of ballots cast is uniform: P(0) = 0.1")
    def throwaway(ballots_cast, *, min_ballots=100, rng=None):
        """Share of stations whose ballots cast end in 0, against 1 in 10."""
        cast = as_counts("ballots_cast", ballots_cast, whole=True)
        used = cast[cast >= min_ballots]
        if used.size < 50:
            raise NotApplicable(f"{used.size} stations with at least {min_ballots} "
                                "ballots; need 50")
        k = int((used % 10 == 0).sum())
        return TestResult(test=NAME, statistic=k / used.size,
                          pvalue=float(stats.binomtest(k, used.size, 0.1).pvalue),
                          n=int(used.size), expected=0.1, null="P(last digit = 0) = 0.1",
                          params={"min_ballots": min_ballots}, details={"zeros": k})

    return throwaway


@pytest.fixture
def throwaway():
    assert NAME not in REGISTRY
    func = _define()
    try:
        yield func
    finally:
        REGISTRY.pop(NAME, None)
    assert NAME not in REGISTRY


def test_the_contract_picks_it_up(throwaway):
    election = clean_election(1500, rng=20261125)
    contract.test_contract(NAME, election)
    contract.test_contract_bad_input(NAME, election)


def test_the_property_tests_pick_it_up(throwaway):
    properties.test_valid_tables_give_a_result_or_a_reason(NAME, scale=0.5)
    properties.test_row_order_does_not_change_the_result(NAME, scale=0.5)
    properties.test_same_seed_same_result(NAME, scale=0.5)
    kinds = [k for k in properties.KINDS if properties._applies(REGISTRY[NAME], k)]
    assert {"negative", "nan", "fraction", "too_few"} <= set(kinds)
    for kind in kinds:
        properties.test_malformed_values_give_the_documented_outcome(NAME, kind, scale=0.3)


def test_the_calibration_picks_it_up(throwaway):
    report = cal.calibrate([NAME], n_sim=20, n_stations=400, root_seed=1)
    summary = report.summary.set_index("scenario")
    assert set(summary.index) >= {"clean", "stuffing"}
    assert (summary["test"] == NAME).all()
    assert (summary["n_run"] == 20).all() and (summary["n_error"] == 0).all()
    clean = summary.loc["clean"]
    assert clean["n_pvalue"] == 20 and 0 <= clean["rate"] <= 1
    # a new test is descriptive until the real-data calibration says otherwise
    assert not REGISTRY[NAME].evidence


def test_a_defect_in_the_new_test_is_caught(throwaway):
    """The same machinery fails a broken version of it (it can fail)."""
    REGISTRY.pop(NAME)

    @register(NAME, family="digits", min_units=50, null="none")
    def broken(ballots_cast, *, rng=None):
        """Forgets to check its input and its p-value leaves [0, 1]."""
        cast = np.asarray(ballots_cast, dtype=float)
        return TestResult(test=NAME, statistic=float(cast.mean()), pvalue=2.0,
                          n=int(cast.size))

    election = clean_election(400, rng=1)
    with pytest.raises(AssertionError, match="p 2.0"):
        contract.test_contract(NAME, election)
    with pytest.raises(pytest.fail.Exception, match="DID NOT RAISE"):
        contract.test_contract_bad_input(NAME, election)
