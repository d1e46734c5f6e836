# ---
# jupyter:
#   jupytext:
#     text_representation:
#       extension: .py
#       format_name: percent
#   kernelspec:
#     display_name: Python 3
#     language: python
#     name: python3
# ---

# %% [markdown]
# # How to add a forensic test and calibrate it
#
# A new test is one function, and adding it touches that function and nothing
# else. Its positional parameters are named after the data it needs
# (`registered`, `ballots_issued`, `ballots_cast`, `invalid`, `leader`,
# `votes`); its options are keyword-only, with an `rng`; it checks its input on
# its first line, returns a `TestResult` and raises `NotApplicable` where it does
# not apply. Everything else about it is declared once, at `@register`: its
# name, family, null hypothesis, minimum number of stations, evidence class (a
# new test is descriptive until the real-data calibration says it holds its
# size), variants, the cheaper options the calibration may use, and which
# malformed inputs it leaves out instead of refusing (`leaves_out`: a missing
# count, more leader votes than ballots, more ballots than voters; none here,
# so each of them is an error that names the argument).
#
# Every other part of the project reads those declarations from the registry:
# the battery (`audit run`), the list of tests (`audit tests`), the contract
# every registered test must pass, the property tests and the calibration
# harness. `tests/test_adding_a_test.py` registers a test exactly like the one
# below and runs all three checks on it, without editing any other file.
#
# This notebook adds a small test, runs it, shows what the registry now knows,
# and measures the test's false-alarm rate and power on simulated elections.

# %% tags=["parameters"]
# Folder for figures and tables.
OUTPUT_DIR = "reports/adding-a-test"
# Clean simulated elections for the false-alarm rate, and per fraud scenario.
N_SIM = 100
# Stations per simulated election.
N_STATIONS = 2000
# Root seed of the calibration.
SEED = 1

# %% [markdown]
# ## 1. Write the function
#
# The example asks whether ballot totals end in 0 more often than one time in ten.
# Under the null, the last digit of a count in the hundreds or more is close to
# uniform, so the number of stations whose ballots end in 0 is binomial with
# p = 0.1 and the p-value is an exact binomial tail. It refuses to run on fewer
# than 50 stations with at least 100 ballots, where the last digit is not
# uniform enough. Its input is checked by the validation the built-in tests use
# (`as_counts`: numbers, one per station, finite, non-negative, whole), so a bad
# array gives the same clear error everywhere.

# %%
import inspect

import numpy as np
import pandas as pd
from IPython.display import Markdown, display
from scipy import stats

from audit.core.errors import NotApplicable
from audit.core.pvalues import format_pvalue
from audit.reporting.report import Outputs, versions
from audit.stations.calibration.simulated import calibrate, call_test
from audit.stations.forensics._validation import as_counts
from audit.stations.registry import REGISTRY, register
from audit.stations.result import TestResult
from audit.stations.simulate import clean_election

out = Outputs(OUTPUT_DIR)
REGISTRY.pop("ballots_end_in_zero", None)   # re-running the notebook registers it afresh


@register("ballots_end_in_zero", family="digits", min_units=50,
          null="the last digit of ballots cast is uniform: P(0) = 0.1")
def ballots_end_in_zero(ballots_cast, *, min_ballots=100, rng=None):
    """Share of stations whose ballots cast end in 0, against 1 in 10."""
    cast = as_counts("ballots_cast", ballots_cast, whole=True)
    used = cast[cast >= min_ballots]
    if used.size < 50:
        raise NotApplicable(f"{used.size} stations with at least {min_ballots} ballots; "
                            "need 50")
    k = int((used % 10 == 0).sum())
    return TestResult(test="ballots_end_in_zero", statistic=k / used.size,
                      pvalue=float(stats.binomtest(k, used.size, 0.1).pvalue),
                      n=int(used.size), expected=0.1, null="P(last digit = 0) = 0.1",
                      params={"min_ballots": min_ballots}, details={"zeros": k})


# %% [markdown]
# That is all. The code, as the report shows it (the exported page has no code
# cells):

# %%
display(Markdown(f"```python\n{inspect.getsource(ballots_end_in_zero)}```"))

# %% [markdown]
# The registry now holds what the rest of the project needs; the data the test
# asks for come from the parameter names, the description from the docstring,
# and the evidence class from the declaration (none here, so descriptive).

# %%
spec = REGISTRY["ballots_end_in_zero"]
declared = pd.DataFrame({"field": ["test", "family", "needs", "min_units", "null",
                                   "description", "class", "leaves out"],
                         "value": [spec.name, spec.family, ", ".join(spec.needs),
                                   str(spec.min_units), spec.null, spec.description,
                                   spec.calibration.note(),
                                   ", ".join(spec.leaves_out) or "nothing (refuses)"]})
display(out.table(declared, "registered_test"))


# %% [markdown]
# ## 2. Run it on a simulated election

# %%
election = clean_election(N_STATIONS, rng=SEED)
res = call_test("ballots_end_in_zero", election, leader="leader", rng=SEED)
display(Markdown(f"On a clean simulated election of {N_STATIONS:,} stations, "
                 f"{res.details['zeros']:,} of {res.n:,} ballot totals end in 0 "
                 f"({res.statistic:.3f} against 0.100 expected; p {format_pvalue(res.pvalue)})."))

# %% [markdown]
# ## 3. Calibrate it
#
# The harness runs the test on clean simulated elections (false-alarm rate at
# alpha = 0.05, with an exact interval) and on the same elections after each
# fraud model (power). A rate whose interval lies outside the tolerance around
# alpha is flagged.

# %%
report = calibrate(["ballots_end_in_zero"], n_sim=N_SIM, n_stations=N_STATIONS,
                   root_seed=SEED)
summary = report.summary.drop(columns="seconds")   # timings differ run to run
display(out.table(summary, "calibration",
                  show=["test", "scenario", "n_run", "n_reject", "rate", "ci_low", "ci_high",
                        "flag"]))
clean = summary[summary["scenario"] == "clean"].iloc[0]
display(Markdown(
    f"False-alarm rate {clean['rate']:.3f} (95% interval {clean['ci_low']:.3f}-"
    f"{clean['ci_high']:.3f}) over {clean['n_run']} clean elections"
    + (f": flagged **{clean['flag']}**." if clean["flag"] else ": within tolerance of 0.05.")
    + " Its power against the fraud models is low, as expected: none of them writes "
      "round ballot totals."))

# %% [markdown]
# ## 4. Ship it
#
# Put the function in a module of your own package and name that module in an
# entry point of the group `vote_audit.tests`:
#
# ```toml
# [project.entry-points."vote_audit.tests"]
# my_tests = "my_package.forensics"
# ```
#
# `audit tests` will then list it and `audit run` will run it; a plugin that fails
# to import gives a warning, not a crash. Inside this project, put it in a module
# of `audit/stations/forensics/` instead: the contract (`tests/test_registry_contract.py`),
# the property tests (`tests/test_properties_registry.py`) and the calibration
# (`audit calibrate --tests ballots_end_in_zero`) pick it up from the registry.
# If the test leaves some stations out rather than refusing malformed ones, say
# so in its docstring and in the property tests' table of documented outcomes.

# %%
display(out.table(versions(), "versions"))
