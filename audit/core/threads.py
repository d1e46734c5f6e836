"""Threads inside the heavy tests, and one BLAS thread while they run.

The tests' matrix products are small (tens by thousands) or matrix-vector
products limited by memory speed.  OpenBLAS spreads each of them over every
core and spins its threads between calls; on a machine with few cores that
is slower than one thread (the turnout-leader permutations and the
fingerprint fits ran 2 to 6 times slower on two cores), and it competes with
the process-level parallelism of the battery and the calibration harness.
:func:`single_threaded_blas` limits BLAS to one thread for the duration of
a call and restores the user's setting when the last such call ends (calls
may overlap on several threads).

Independent replicates (the fingerprint's refits) run on a few threads
instead (:func:`map_threads`): numpy releases the interpreter lock inside
its array loops, so two threads use two cores.  Each replicate has its own
seed, so the numbers do not depend on the number of threads.
:func:`worker_threads` decides how many: the ``VOTE_AUDIT_THREADS``
environment variable when set, one inside a worker process (the
calibration harness's and Dask's workers already use every core), and
otherwise the cores this process may use.
"""

from __future__ import annotations

import functools
import multiprocessing
import os
import threading
from concurrent.futures import ThreadPoolExecutor

from threadpoolctl import threadpool_limits

ENV = "VOTE_AUDIT_THREADS"

_lock = threading.Lock()
_depth = 0
_limiter = None


def _enter():
    global _depth, _limiter
    with _lock:
        if _depth == 0:
            _limiter = threadpool_limits(limits=1, user_api="blas")
        _depth += 1


def _exit():
    global _depth, _limiter
    with _lock:
        _depth -= 1
        if _depth == 0:
            _limiter.restore_original_limits()
            _limiter = None


def single_threaded_blas(func):
    """Decorator: run ``func`` with BLAS limited to one thread."""

    @functools.wraps(func)
    def wrapper(*args, **kwargs):
        _enter()
        try:
            return func(*args, **kwargs)
        finally:
            _exit()

    return wrapper


def env_whole(name: str, what: str) -> int | None:
    """The whole number set in environment variable ``name`` (None when it is
    unset or empty); a one-line :class:`~audit.core.errors.InputError` naming
    ``what`` it counts when it is not a whole number."""
    from .errors import InputError

    value = os.environ.get(name, "").strip()
    if not value:
        return None
    try:
        return int(value)
    except ValueError:
        raise InputError(f"{name} must be a whole number of {what}, got {value!r}") \
            from None


def worker_threads() -> int:
    """Threads for independent replicates inside one test (at least 1)."""
    n = env_whole(ENV, "threads")
    if n is not None:
        if n < 1:
            raise ValueError(f"{ENV} must be at least 1, got {n}")
        return n
    if multiprocessing.parent_process() is not None:
        return 1
    return usable_cores()


def usable_cores() -> int:
    """Cores this process may use: its affinity mask where the OS has one,
    else the machine's count (at least 1).  The one CPU counter of the package."""
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except AttributeError:                       # not Linux
        return max(1, os.cpu_count() or 1)


def map_threads(func, items) -> list:
    """``[func(x) for x in items]``, on :func:`worker_threads` threads."""
    items = list(items)
    n = min(worker_threads(), len(items))
    if n <= 1:
        return [func(x) for x in items]
    ex = ThreadPoolExecutor(n)
    try:
        return list(ex.map(func, items))
    finally:
        # on an error or Ctrl-C, drop the replicates not yet started
        ex.shutdown(wait=True, cancel_futures=True)
