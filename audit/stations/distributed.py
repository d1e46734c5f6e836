"""Run the heavy parts on a Dask cluster: calibration and battery sweeps.

The calibration harness (:mod:`audit.stations.calibration.simulated`) and the test battery
(:mod:`audit.stations.battery`) are made of many independent pieces of work whose
seeds all derive from one root seed by :class:`numpy.random.SeedSequence`
spawn keys.  A piece of work does not depend on where or when it runs, so
spreading the pieces over the processes of a :mod:`dask.distributed` cluster
gives *the same table* as one process, row for row and bit for bit (on
workers with the same numpy and scipy as the client).

- :func:`cluster` opens a client: by default a local cluster with one
  single-threaded worker process per core, or an existing cluster given by
  its scheduler address (``"tcp://host:8786"``).
- :func:`dask_mapper` turns a client into the ``mapper`` that
  :func:`audit.stations.calibration.simulated.calibrate` accepts; :func:`calibrate_on_dask`
  does both.
- :func:`battery_on_dask` runs :func:`audit.stations.battery.run_battery`'s tasks
  (one registered test in one scope) as separate Dask tasks and assembles
  the evidence table, with the Benjamini-Hochberg and Holm adjustments
  computed once over the whole table at the end;
  :func:`sweep_on_dask` does the same for several elections at once.

The battery is split by :func:`plan_battery` (the task list and their
seeds), :func:`run_battery_task` (one task, a pure function) and
:func:`assemble_battery` (evidence table and adjustments).  They reproduce
the body of :func:`audit.stations.battery.run_battery` from its helpers and belong in
that module; until they move there, a test checks that the split gives
exactly ``run_battery``'s table.

Dask is optional: this module imports without it, and its functions raise
:class:`ModuleNotFoundError` naming the package to install
(``pip install "dask[distributed]"``).  Workers of an existing cluster must
have the same version of this package (and of any test plug-in) installed.

References
----------
Rocklin, M. (2015). Dask: parallel computation with blocked algorithms and
task scheduling. Proceedings of the 14th Python in Science Conference,
130-136.

Examples
--------
>>> from audit.stations.distributed import calibrate_on_dask          # doctest: +SKIP
>>> report = calibrate_on_dask(["last_digit"], scenarios=["clean"],
...                            n_sim=200, n_stations=3000)   # doctest: +SKIP

Two hundred clean elections, tested on every core of this machine: the
table is the one ``calibrate`` gives in one process, only sooner.
"""

from __future__ import annotations

import functools
import math
from contextlib import contextmanager
from typing import Any, Callable, Iterable, Iterator, Mapping

import numpy as np

from .battery import (BatteryPlan, BatteryTask, assemble_battery, plan_battery,
                      run_battery_task)
from ..core.threads import usable_cores
from ..tables.station_table import StationTable

__all__ = ["cluster", "dask_mapper", "calibrate_on_dask", "battery_on_dask",
           "sweep_on_dask", "BatteryTask", "BatteryPlan", "plan_battery",
           "run_battery_task", "assemble_battery"]

INSTALL_HINT = 'pip install "dask[distributed]"'


# ------------------------------------------------------------------ clients
def _distributed():
    """The ``dask.distributed`` module, or an error that says what to install."""
    try:
        import dask.distributed as dd
    except ImportError as exc:  # pragma: no cover - depends on the environment
        raise ModuleNotFoundError(
            f"audit.stations.distributed needs dask.distributed, which is not installed; "
            f"run: {INSTALL_HINT}") from exc
    return dd


def _check_cluster_args(address, n_workers) -> None:
    dd = _distributed()
    if address is not None and not isinstance(address, (str, dd.Client)):
        raise TypeError(f"address must be None, a scheduler address such as "
                        f"'tcp://host:8786' or a dask Client, got {type(address).__name__}")
    if isinstance(address, str) and not address.strip():
        raise ValueError("address must not be empty; use None for a local cluster")
    if n_workers is not None:
        if isinstance(n_workers, bool) or not isinstance(n_workers, (int, np.integer)) \
                or n_workers < 1:
            raise ValueError(f"n_workers must be a positive integer, got {n_workers!r}")
        if not (address is None or address == "local"):
            raise ValueError("n_workers applies only to a local cluster (address=None); "
                             f"got address={address!r}")


@contextmanager
def cluster(address=None, *, n_workers: int | None = None,
            **cluster_options) -> Iterator[Any]:
    """Open a :class:`dask.distributed.Client` for the duration of a block.

    Parameters
    ----------
    address : str, Client or None
        ``None`` (or ``"local"``) starts a :class:`~dask.distributed.LocalCluster`
        on this machine and closes it on exit; a scheduler address such as
        ``"tcp://host:8786"`` connects to an existing cluster (left running
        on exit); a ``Client`` is used as it is and left open.
    n_workers : int, optional
        Worker processes of a local cluster; default the number of cores
        this process may use.
    **cluster_options
        Passed to ``LocalCluster`` over the defaults ``threads_per_worker=1``,
        ``processes=True``, ``dashboard_address=None`` (no dashboard; pass
        ``dashboard_address=":8787"`` to get one).

    Yields
    ------
    Client

    Notes
    -----
    One thread per worker process: the tests are numpy and Python code
    that holds the interpreter lock most of the time, so processes, not
    threads, give parallel speed-up.  A script that starts a local cluster
    must do so under ``if __name__ == "__main__":`` (worker processes are
    spawned and re-import the main module).

    Examples
    --------
    >>> with cluster(n_workers=2) as client:                 # doctest: +SKIP
    ...     rows = dask_mapper(client)(abs, [-1, -2, 3])
    >>> rows                                                 # doctest: +SKIP
    [1, 2, 3]
    """
    _check_cluster_args(address, n_workers)
    dd = _distributed()
    if isinstance(address, dd.Client):
        if cluster_options:
            raise ValueError("cluster options apply only to a local cluster, not to "
                             "a given Client")
        yield address
        return
    if address is None or address == "local":
        opts = dict(n_workers=int(n_workers or usable_cores()), threads_per_worker=1,
                    processes=True, dashboard_address=None)
        opts.update(cluster_options)
        with dd.LocalCluster(**opts) as local, dd.Client(local) as client:
            yield client
        return
    if cluster_options:
        raise ValueError("cluster options apply only to a local cluster, not to "
                         f"address={address!r}")
    with dd.Client(address) as client:
        yield client


def _apply_batch(items: list, function: Callable) -> list:
    return [function(item) for item in items]


def dask_mapper(client, *, batch_size: int | None = None) -> Callable:
    """A ``mapper(func, items)`` that runs ``func`` on each item on ``client``.

    Parameters
    ----------
    client : dask.distributed.Client
    batch_size : int, optional
        Consecutive items sent as one Dask task.  Default: about four
        batches per worker thread, so consecutive items (in the calibration,
        the tests of one simulated election, which a worker caches) stay
        together while the load still balances.

    Returns
    -------
    callable
        ``mapper(func, items) -> list`` of ``func(item)`` in the order of
        ``items``, the signature of ``calibrate(..., mapper=...)``.  ``func``
        must be importable on the workers (a module-level function).  An
        exception raised by ``func`` is raised again here.

    Examples
    --------
    >>> from audit.stations.calibration.simulated import calibrate               # doctest: +SKIP
    >>> with cluster("tcp://scheduler:8786") as client:      # doctest: +SKIP
    ...     report = calibrate(n_sim=1000, mapper=dask_mapper(client))
    """
    dd = _distributed()
    if not isinstance(client, dd.Client):
        raise TypeError(f"client must be a dask.distributed.Client, got "
                        f"{type(client).__name__}")
    if batch_size is not None and (isinstance(batch_size, bool) or not isinstance(
            batch_size, (int, np.integer)) or batch_size < 1):
        raise ValueError(f"batch_size must be a positive integer, got {batch_size!r}")

    def mapper(func: Callable, items: Iterable) -> list:
        items = list(items)
        if not items:
            return []
        size = batch_size
        if size is None:
            threads = max(1, sum(client.nthreads().values()))
            size = max(1, math.ceil(len(items) / (4 * threads)))
        batches = [items[i:i + size] for i in range(0, len(items), size)]
        futures = client.map(functools.partial(_apply_batch, function=func), batches,
                             pure=False)
        out: list = []
        for part in client.gather(futures):
            out.extend(part)
        return out

    return mapper


def calibrate_on_dask(tests: Iterable[str] | None = None, *, address=None,
                      n_workers: int | None = None, batch_size: int | None = None,
                      **options):
    """:func:`audit.stations.calibration.simulated.calibrate` with its tasks run on Dask.

    Parameters
    ----------
    tests : iterable of str, optional
        As in ``calibrate``.
    address, n_workers
        Where to run: see :func:`cluster`.
    batch_size : int, optional
        See :func:`dask_mapper`.
    **options
        Every other keyword of ``calibrate`` (``scenarios``, ``n_sim``,
        ``n_stations``, ``root_seed``...), except ``mapper`` and ``jobs``.

    Returns
    -------
    CalibrationReport
        The same rows and summary as ``calibrate`` in one process (except
        the measured ``seconds``); ``settings["dask_threads"]`` records the
        worker threads used.

    Examples
    --------
    >>> rep = calibrate_on_dask(["last_digit"], scenarios=["clean"], n_sim=200,
    ...                         address="tcp://10.0.0.5:8786")  # doctest: +SKIP
    >>> rep.summary[["test", "rate", "ci_low", "ci_high"]]     # doctest: +SKIP
    """
    from .calibration.simulated import calibrate

    for key in ("mapper", "jobs"):
        if key in options:
            raise TypeError(f"calibrate_on_dask() sets {key} itself; got {key}=")
    with cluster(address, n_workers=n_workers) as client:
        report = calibrate(tests, mapper=dask_mapper(client, batch_size=batch_size),
                           **options)
        report.settings["dask_threads"] = int(sum(client.nthreads().values()))
    return report


# ------------------------------------------------------------------ battery
def _run_plans(plans: list[BatteryPlan], client=None) -> list[list[tuple[dict, Any]]]:
    """Outputs of every task of every plan; on ``client`` if given.

    On Dask, each scope's station rows are sent to the cluster once
    (``scatter``) and every task is its own Dask task.
    """
    if client is None:
        return [[run_battery_task(t, plan.parts[t.scope]) for t in plan.tasks]
                for plan in plans]
    keys = [(k, scope) for k, plan in enumerate(plans) for scope in plan.parts]
    scattered = client.scatter([plans[k].parts[scope] for k, scope in keys])
    where = dict(zip(keys, scattered))
    futures = [[client.submit(run_battery_task, t, where[(k, t.scope)], pure=False)
                for t in plan.tasks] for k, plan in enumerate(plans)]
    return [client.gather(fs) for fs in futures]


def battery_on_dask(table: StationTable, *, leader=None, tests=None, by=None, rng=0,
                    alpha: float = 0.05, address=None, n_workers: int | None = None):
    """:func:`audit.stations.battery.run_battery` with each (test, scope) on Dask.

    Parameters
    ----------
    table, leader, tests, by, rng, alpha
        As in ``run_battery``.
    address, n_workers
        Where to run: see :func:`cluster`.

    Returns
    -------
    BatteryResult
        Identical to ``run_battery(table, leader=..., tests=..., by=...,
        rng=..., alpha=...)`` in one process: same seeds per task, and the
        p-value adjustments computed once over the whole table.

    Notes
    -----
    The work is split finer than one task per region: every registered test
    in every scope is a Dask task (the national scope, with all stations,
    is the heaviest and is spread over the workers too).

    Examples
    --------
    >>> from audit.stations.simulate import clean_election               # doctest: +SKIP
    >>> ev, res = battery_on_dask(clean_election(20000, rng=0), by="region",
    ...                           address="tcp://10.0.0.5:8786")  # doctest: +SKIP
    >>> ev.sort_values("p_bh").head()                          # doctest: +SKIP

    On clean data a few regions will show small raw p-values by chance;
    the adjusted ``p_bh`` column is the one to read.
    """
    plan = plan_battery(table, leader=leader, tests=tests, by=by, rng=rng, alpha=alpha)
    with cluster(address, n_workers=n_workers) as client:
        (outputs,) = _run_plans([plan], client)
    return assemble_battery(plan, outputs)


def sweep_on_dask(tables: Mapping[str, StationTable], *, leader=None, tests=None,
                  by=None, rng=0, alpha: float = 0.05, address=None,
                  n_workers: int | None = None) -> dict:
    """Run the battery on several elections at once, all tasks on Dask.

    Parameters
    ----------
    tables : mapping of str to StationTable
        Elections by name, in the order that fixes their seeds.
    leader : str, mapping or None
        One leader for every election (an exact name or a unique part of
        one), or a mapping from election name to leader.
    tests, by, alpha
        As in ``run_battery``.
    rng : int, SeedSequence or None
        Root seed: election ``i`` (in the order of ``tables``) is run with
        the ``i``-th child of ``SeedSequence(rng).spawn(len(tables))``.
    address, n_workers
        Where to run: see :func:`cluster`.

    Returns
    -------
    dict
        Election name -> :class:`~audit.stations.battery.BatteryResult`, identical to
        ``run_battery(tables[name], ..., rng=children[i])``.  Each election
        is its own family for the p-value adjustments.

    Examples
    --------
    >>> from audit import datasets                              # doctest: +SKIP
    >>> elections = {y: datasets.load(f"ru-cik/{y}.csv.zip")
    ...              for y in ("2018", "2024")}                 # doctest: +SKIP
    >>> out = sweep_on_dask(elections, leader="Путин", by="region",
    ...                     address="tcp://10.0.0.5:8786")     # doctest: +SKIP
    """
    from .battery import _seed_root

    if not isinstance(tables, Mapping):
        raise TypeError(f"tables must be a mapping of name to StationTable, got "
                        f"{type(tables).__name__}")
    if not tables:
        raise ValueError("tables must hold at least one election")
    if isinstance(leader, Mapping):
        missing = [name for name in tables if name not in leader]
        if missing:
            raise ValueError(f"leader: no leader given for election {missing[0]!r}")
    children = _seed_root(rng).spawn(len(tables))
    plans = [plan_battery(t, leader=leader.get(name) if isinstance(leader, Mapping)
                          else leader, tests=tests, by=by, rng=seed, alpha=alpha)
             for (name, t), seed in zip(tables.items(), children)]
    with cluster(address, n_workers=n_workers) as client:
        outputs = _run_plans(plans, client)
    return {name: assemble_battery(plan, out)
            for name, plan, out in zip(tables, plans, outputs)}
