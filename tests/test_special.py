"""The NumPy special functions of the exact binomial laws against SciPy's."""

import numpy as np
import pytest
from scipy import special as sp

from audit.stations.forensics._special import erfcx, expit, log_factorial


def test_log_factorial_matches_gammaln_from_0_to_ten_million():
    n = np.concatenate([np.arange(0, 200_000), np.geomspace(2e5, 1e7, 2_000).round()])
    ours, ref = log_factorial(n), sp.gammaln(n + 1)
    assert np.all(np.abs(ours - ref) <= 1e-15 * np.maximum(1.0, ref))
    # exact where the factorial is an exact float
    assert np.exp(log_factorial(np.arange(10))) == pytest.approx(
        [1, 1, 2, 6, 24, 120, 720, 5040, 40320, 362880], rel=1e-14)


def test_log_factorial_keeps_the_shape_and_takes_integers():
    x = np.array([[0, 31], [32, 1000]], dtype=np.int64)
    out = log_factorial(x)
    assert out.shape == (2, 2)
    assert out == pytest.approx(sp.gammaln(x + 1.0), rel=1e-15)


def test_expit_keeps_relative_precision_in_both_tails():
    x = np.linspace(-700, 700, 100_001)
    ref = sp.expit(x)
    assert np.max(np.abs(expit(x) - ref) / ref) < 1e-14
    assert expit(np.array([-745.0, 0.0, 800.0])).tolist()[1:] == [0.5, 1.0]


@pytest.mark.parametrize("x", [0.0, 0.3, 1.0, 5.0, 12.5, 24.99, 25.0, 25.01, 40.0, 1e3, 1e6])
def test_erfcx_matches_scipy_on_both_sides_of_the_switch(x):
    assert erfcx(x) == pytest.approx(float(sp.erfcx(x)), rel=1e-13)
