"""Threads for independent replicates, and the one-thread BLAS limit."""

from __future__ import annotations

import threading
import time
from concurrent.futures import ProcessPoolExecutor

import numpy as np  # noqa: F401  (loads the BLAS library the limit acts on)
import pytest
from threadpoolctl import threadpool_info, threadpool_limits

from audit.core import threads as _threads


def _blas_limits():
    return sorted(m["num_threads"] for m in threadpool_info() if m["user_api"] == "blas")


def test_worker_threads_from_the_environment(monkeypatch):
    monkeypatch.setenv(_threads.ENV, "3")
    assert _threads.worker_threads() == 3
    for bad, match in (("two", "whole number"), ("0", "at least 1")):
        monkeypatch.setenv(_threads.ENV, bad)
        with pytest.raises(ValueError, match=match):
            _threads.worker_threads()
    monkeypatch.delenv(_threads.ENV)
    assert _threads.worker_threads() >= 1


def test_one_thread_inside_a_worker_process(monkeypatch):
    monkeypatch.delenv(_threads.ENV, raising=False)
    with ProcessPoolExecutor(1) as ex:
        assert ex.submit(_threads.worker_threads).result() == 1


def test_map_threads_keeps_the_order_and_uses_threads(monkeypatch):
    monkeypatch.setenv(_threads.ENV, "3")
    seen = set()

    def f(x):
        seen.add(threading.get_ident())
        time.sleep(0.01)
        return x * x

    assert _threads.map_threads(f, range(12)) == [x * x for x in range(12)]
    assert len(seen) > 1
    monkeypatch.setenv(_threads.ENV, "1")
    seen.clear()
    assert _threads.map_threads(f, range(4)) == [0, 1, 4, 9]
    assert seen == {threading.get_ident()}


def test_an_error_stops_the_replicates_not_yet_started(monkeypatch):
    monkeypatch.setenv(_threads.ENV, "2")
    ran = []

    def f(x):
        time.sleep(0.02)
        ran.append(x)
        if x == 1:
            raise RuntimeError("replicate 1 failed")
        return x

    with pytest.raises(RuntimeError, match="replicate 1 failed"):
        _threads.map_threads(f, range(50))
    assert len(ran) < 50


class _FakeLimits:
    """Stands in for threadpoolctl's limiter: one process-wide value."""

    value = 4

    def __init__(self, limits, user_api):
        self.saved, _FakeLimits.value = _FakeLimits.value, limits

    def restore_original_limits(self):
        _FakeLimits.value = self.saved

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.restore_original_limits()


def test_blas_limit_holds_while_any_call_runs(monkeypatch):
    # call A starts, call B starts, A ends while B runs: B must still run
    # with one thread, and the user's setting must come back after B
    monkeypatch.setattr(_threads, "threadpool_limits", _FakeLimits)
    monkeypatch.setattr(_FakeLimits, "value", 4)
    a_in, b_in, a_out = threading.Event(), threading.Event(), threading.Event()
    seen = {}

    @_threads.single_threaded_blas
    def call_a():
        a_in.set()
        b_in.wait(5)

    @_threads.single_threaded_blas
    def call_b():
        b_in.set()
        a_out.wait(5)
        seen["b after a ended"] = _FakeLimits.value

    def run_a():
        call_a()
        a_out.set()

    ta = threading.Thread(target=run_a)
    ta.start()
    a_in.wait(5)
    tb = threading.Thread(target=call_b)
    tb.start()
    ta.join()
    tb.join()
    assert seen == {"b after a ended": 1}
    assert _FakeLimits.value == 4


def test_blas_limit_is_one_thread_inside_and_restored():
    with threadpool_limits(limits=2, user_api="blas"):
        before = _blas_limits()
        assert before and all(n == 2 for n in before)
        inside = _threads.single_threaded_blas(_blas_limits)()
        assert inside and all(n == 1 for n in inside)
        assert _blas_limits() == before
