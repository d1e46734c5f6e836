"""Three special functions the exact binomial laws need, in NumPy alone.

The integer-percentage test is the one test a user may run by itself in a
couple of seconds, and importing :mod:`scipy.special` costs such a run about
a fifth of a second.  Against SciPy's ``gammaln``, ``expit`` and ``erfcx``
their largest relative differences are 5e-16, 4e-15 and 6e-14
(``tests/test_special.py`` checks them).
"""

from __future__ import annotations

import math

import numpy as np

#: log(j!) for j < _SMALL_N, from the standard library's lgamma.
_SMALL_N = 32
_SMALL = np.array([math.lgamma(j + 1.0) for j in range(_SMALL_N)])
_HALF_LOG_2PI = 0.5 * math.log(2 * math.pi)


def log_factorial(x) -> np.ndarray:
    """``log(x!)`` of whole numbers ``x >= 0`` (an array of floats).

    Below 32 from a table of :func:`math.lgamma`; above, Stirling's series
    to the ``n**-9`` term, whose remainder is below 1e-17 there.

    Examples
    --------
    >>> float(np.exp(log_factorial([5]))[0])
    120.00000000000003
    """
    x = np.asarray(x, dtype=float)
    out = np.empty(x.shape)
    small = x < _SMALL_N
    out[small] = _SMALL[x[small].astype(np.int64)]
    n = x[~small]
    inv = 1.0 / n
    inv2 = inv * inv
    series = inv * (1 / 12 - inv2 * (1 / 360 - inv2 * (1 / 1260 - inv2 * (1 / 1680
                                                                         - inv2 / 1188))))
    out[~small] = (n + 0.5) * np.log(n) - n + _HALF_LOG_2PI + series
    return out


def expit(x) -> np.ndarray:
    """The logistic function ``1 / (1 + exp(-x))``, with full relative
    precision for very negative ``x`` (where it is about ``exp(x)``)."""
    return np.exp(-np.logaddexp(0.0, -np.asarray(x, dtype=float)))


def erfcx(x: float) -> float:
    """The scaled complementary error function ``exp(x**2) erfc(x)`` of one
    number: from :func:`math.erfc` below 25, and from its asymptotic series
    above, where ``erfc`` would underflow."""
    x = float(x)
    if x < 25.0:
        return math.exp(x * x) * math.erfc(x)
    t = 1.0 / (2.0 * x * x)
    term, total = 1.0, 1.0
    for k in range(1, 12):
        term *= -(2 * k - 1) * t
        total += term
    return total / (x * math.sqrt(math.pi))
