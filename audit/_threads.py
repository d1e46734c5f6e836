"""Keep the linear-algebra library to one thread inside the heavy tests.

The tests' matrix products are small (tens by thousands) or matrix-vector
products limited by memory speed.  OpenBLAS spreads each of them over every
core and spins its threads between calls; on a machine with few cores that
is slower than one thread (the turnout-leader permutations and the
fingerprint fits ran 2 to 6 times slower on two cores), and it competes with
the process-level parallelism of the battery and the calibration harness.
:func:`single_threaded_blas` limits BLAS to one thread for the duration of
a call and restores the user's setting afterwards.
"""

from __future__ import annotations

import functools

from threadpoolctl import threadpool_limits


def single_threaded_blas(func):
    """Decorator: run ``func`` with BLAS limited to one thread."""

    @functools.wraps(func)
    def wrapper(*args, **kwargs):
        with threadpool_limits(limits=1, user_api="blas"):
            return func(*args, **kwargs)

    return wrapper
