"""audit.core.pvalues: a p-value that is a bound is written as one."""

import pytest

from audit.core.pvalues import format_pvalue, pvalue_bound, pvalue_text, resample_floor
from audit.stations.result import simulated_pvalue


@pytest.mark.parametrize("b", [19, 199, 999, 10_000])
def test_a_simulated_p_at_its_floor_is_a_bound(b):
    p = simulated_pvalue(0, b)                      # no resample as extreme as the data
    value, is_bound = pvalue_bound(p, params={"n_resamples": b})
    assert is_bound and value == pytest.approx(1 / (b + 1))
    text = pvalue_text(p, params={"n_resamples": b})
    assert text.startswith("< ")
    assert float(text[2:]) >= 1 / (b + 1)           # rounded up, never below the floor


def test_a_simulated_p_above_its_floor_is_a_value():
    p = simulated_pvalue(3, 999)
    assert pvalue_bound(p, params={"n_resamples": 999}) == (p, False)
    assert pvalue_text(p, params={"n_resamples": 999}) == "0.004"


def test_floor_from_the_null_resamples_too():
    assert resample_floor({"n_null": 19, "n_boot": 50}) == [0.05]
    assert pvalue_text(0.05, params={"n_null": 19}) == "< 0.05"
    assert resample_floor({"n_resamples": None, "method": "exact"}) == []


def test_an_underflowed_p_is_never_printed_as_zero():
    assert format_pvalue(0.0) == "< 1e-300"
    assert pvalue_text(0.0, details={"log10_pvalue": -812.3}) == "< 1e-812"
    assert not pvalue_text(0.0).startswith("0")


@pytest.mark.parametrize("p, text", [(0.0342, "0.034"), (0.5, "0.5"), (0.999, "1"),
                                     (3.24e-5, "3.2e-5"), (1.9e-58, "1.9e-58"),
                                     (float("nan"), "n/a")])
def test_plain_values(p, text):
    assert format_pvalue(p) == text


def test_bounds_round_up():
    assert format_pvalue(1 / 201, bound=True) == "< 0.005"
    assert format_pvalue(0.0123, bound=True) == "< 0.013"
    assert format_pvalue(1.0, bound=True) == "< 1"


def test_an_adjusted_p_from_a_floor_is_a_bound_unless_it_is_one():
    params = {"n_resamples": 199}
    assert pvalue_text(1 / 200, params=params, adjusted=0.06) == "< 0.06"
    assert pvalue_text(1 / 200, params=params, adjusted=1.0) == "1"
    assert pvalue_text(0.0, adjusted=0.0) == "< 1e-300"
    assert pvalue_text(0.02, adjusted=0.2) == "0.2"
    assert pvalue_text(0.2, adjusted=float("nan")) == "n/a"


def test_the_console_summary_writes_bounds(capsys):
    """`audit run`'s summary uses the same formatter: a rejecting test at
    its simulation floor is printed '< x', not as an exact number."""
    import pandas as pd

    from audit.cli.stations import _summary_lines
    from audit.stations.result import TestResult

    res = TestResult(test="t", statistic=1.0, pvalue=1 / 1000, n=100,
                     params={"n_resamples": 999})
    ev = pd.DataFrame([{"test": "t", "scope": "national", "status": "ok", "evidence": True,
                        "pvalue": 1 / 1000, "p_holm": 0.002, "reject_holm": True}])
    lines = _summary_lines(ev, 0.05, [res])
    assert "t (national, Holm p < 0.002)" in lines[0]
    assert "0.001" not in " ".join(lines)
