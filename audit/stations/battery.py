"""Run every applicable registered test and collect one evidence table.

:func:`run_battery` feeds each registered test (see :mod:`audit.stations.registry`)
from a :class:`~audit.tables.station_table.StationTable`, nationally and within each
unit of a hierarchy level (e.g. every region), records tests that do not
apply with their reason, and controls multiple testing with
Benjamini-Hochberg (false discovery rate) and Holm (family-wise error rate)
adjusted p-values.

Each row carries its evidence class from the registry (column
``evidence``): only tests that hold their size on real clean elections and
on clean twins of real files count as evidence.  The adjustments run over
the evidence rows as one family and over the descriptive rows as another,
so a descriptive test's tiny p-value never changes an evidence row's
adjusted p-value.  Tests with a ``groups`` option get the labels of the
finest hierarchy level the scope has (district where the file has it, else
region), so differences between districts do not count as evidence.

A small p-value is evidence to explain, not proof of fraud: turnout and
vote shares also vary for legitimate reasons.
"""

from __future__ import annotations

import dataclasses
import warnings
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from ..core.jsonable import to_jsonable
from .binding import bind
from ..tables.station_table import StationTable
from ..core.errors import InputError, NotApplicable
from .result import TestResult

COLUMNS = ("test", "family", "level", "scope", "statistic", "pvalue", "p_bh", "p_holm",
           "reject_bh", "reject_holm", "n", "status", "reason", "evidence", "label",
           "calibration", "details")


def p_adjust_bh(pvalues) -> np.ndarray:
    """Benjamini-Hochberg adjusted p-values (step-up, false discovery rate).

    For sorted p-values :math:`p_{(1)} \\le \\dots \\le p_{(m)}` the adjusted
    value is :math:`\\min_{j \\ge i} \\min(1, m\\,p_{(j)} / j)`
    (Benjamini & Hochberg 1995, J. R. Stat. Soc. B 57, 289-300, Sec. 3),
    computed by :func:`scipy.stats.false_discovery_control`.  NaN entries are
    left out of ``m`` and stay NaN.  A family of one p-value is its own
    adjustment (``m = 1``); it is returned without loading scipy.stats, which
    takes longer to import than a single-test run takes to compute.

    Examples
    --------
    >>> p_adjust_bh([0.01, 0.04, 0.03, 0.5]).round(4).tolist()
    [0.04, 0.0533, 0.0533, 0.5]
    >>> p_adjust_bh([float("nan"), 0.2]).tolist()
    [nan, 0.2]
    """
    p = _check_pvalues(pvalues)
    out = np.full(p.shape, np.nan)
    ok = ~np.isnan(p)
    if ok.sum() == 1:
        out[ok] = p[ok]
    elif ok.any():
        from scipy.stats import false_discovery_control

        out[ok] = false_discovery_control(p[ok], method="bh")
    return out


def p_adjust_holm(pvalues) -> np.ndarray:
    """Holm step-down adjusted p-values (family-wise error rate).

    :math:`\\tilde p_{(i)} = \\max_{j \\le i} \\min(1, (m - j + 1)\\,p_{(j)})`
    (Holm 1979, Scand. J. Statist. 6, 65-70).  NaN entries are left out.

    Examples
    --------
    >>> p_adjust_holm([0.01, 0.04, 0.03, 0.5]).round(4).tolist()
    [0.04, 0.09, 0.09, 0.5]
    """
    p = _check_pvalues(pvalues)
    out = np.full(p.shape, np.nan)
    ok = np.flatnonzero(~np.isnan(p))
    m = ok.size
    if m == 0:
        return out
    order = ok[np.argsort(p[ok], kind="stable")]
    scaled = p[order] * (m - np.arange(m))
    out[order] = np.minimum(np.maximum.accumulate(scaled), 1.0)
    return out


def _check_pvalues(pvalues) -> np.ndarray:
    p = np.asarray(pvalues, dtype=float).ravel()
    bad = ~np.isnan(p) & ((p < 0) | (p > 1))
    if bad.any():
        raise ValueError(f"pvalues must lie in [0, 1], got {float(p[bad][0])!r}")
    return p


@dataclass
class BatteryResult:
    """Evidence table plus the result object behind each row.

    ``evidence, results = run_battery(...)`` unpacks it.

    Attributes
    ----------
    evidence : DataFrame
        One row per (test, scope): see :data:`COLUMNS`.
    results : list
        :class:`~audit.stations.result.TestResult` (or None when the test did not
        run), aligned with the rows of ``evidence``.
    leader : str or None
        The option column used as ``leader``.
    alpha : float
    """

    evidence: pd.DataFrame
    results: list = field(default_factory=list)
    leader: str | None = None
    alpha: float = 0.05

    def __iter__(self):
        return iter((self.evidence, self.results))


def _seed_root(rng) -> np.random.SeedSequence:
    if isinstance(rng, np.random.Generator):
        rng = getattr(rng.bit_generator, "seed_seq", None)
    if isinstance(rng, np.random.SeedSequence):
        # A fresh copy: spawning must not depend on earlier spawns of ``rng``.
        return np.random.SeedSequence(rng.entropy, spawn_key=rng.spawn_key,
                                      pool_size=rng.pool_size)
    if rng is None or isinstance(rng, (int, np.integer)):
        if rng is not None and rng < 0:
            raise ValueError(f"rng must be a non-negative integer, got {rng!r}")
        return np.random.SeedSequence(None if rng is None else int(rng))
    raise TypeError(f"rng must be None, an int or a numpy SeedSequence, got "
                    f"{type(rng).__name__}")


def _validate(table, tests, by, alpha):
    if not isinstance(table, StationTable):
        raise TypeError(f"table must be a StationTable, got {type(table).__name__}")
    if not (isinstance(alpha, (int, float)) and 0 < alpha < 1):
        raise ValueError(f"alpha must lie in (0, 1), got {alpha!r}")
    if isinstance(by, str):
        by = [by]
    by = list(by or [])
    for level in by:
        if level not in table.data.columns or level in table.options:
            raise InputError(f"by={level!r} is not a hierarchy column; available: "
                             + ", ".join(table.hierarchy))
    if isinstance(tests, str):
        tests = [t.strip() for t in tests.split(",") if t.strip()]
    return by, (None if tests is None else list(tests))


def _number(value) -> float:
    try:
        return float(value)
    except (TypeError, ValueError):
        return float("nan")


def _details(result: TestResult) -> dict:
    return result.to_dict()["details"]


def run_battery(table: StationTable, *, leader=None, tests=None, by=None, rng=0,
                alpha: float = 0.05, processes: int | None = None) -> BatteryResult:
    """Run every applicable registered test on ``table``.

    Parameters
    ----------
    table : StationTable
    leader : str, optional
        Option used for the ``leader`` role: an exact column name or a
        unique case-insensitive part of one; default the option with the
        most votes.
    tests : list of str or str, optional
        Registered test names (a comma-separated string is accepted); default
        every registered test but those registered with ``default=False``
        (the mixture model), which run when named.
    by : str or list of str, optional
        Hierarchy level(s) (e.g. ``"region"``): each test also runs within
        every unit of the level, in sorted order.
    rng : int, SeedSequence or None, default 0
        Root seed.  Task ``i`` (in the order of the evidence table: every
        test nationally, then every test in each unit) gets the ``i``-th
        child of ``SeedSequence(rng).spawn``, so the same seed gives the
        same table, and adding a level does not change the national rows.
    alpha : float, default 0.05
        Level for the ``reject_bh`` / ``reject_holm`` columns.
    processes : int, optional
        Processes to spread the tasks over (forked, costliest test first;
        see :func:`battery_processes` for the default).  The table is the
        same for any number: each task has its own seed.

    Returns
    -------
    BatteryResult
        ``evidence`` (tidy DataFrame with columns test, family, level, scope,
        statistic, pvalue, p_bh, p_holm, reject_bh, reject_holm, n, status,
        reason, evidence, label, calibration, details) and ``results``
        aligned with its rows.  ``status`` is ``"ok"``, ``"not applicable"``
        (with the reason) or ``"error"`` (the test raised; the message is
        the reason and a warning is issued).  ``evidence`` is the row's
        evidence class (registry), ``label`` the calibration row it was run
        as (with the level of its ``groups``).  Adjustments run over the
        rows with a finite p-value, evidence and descriptive rows apart.

    Notes
    -----
    Benjamini-Hochberg controls the expected share of false discoveries
    among the rows flagged; Holm controls the chance of any false flag.
    Rows of different scopes overlap (a region is part of the nation), so
    the tests are positively dependent, a case where Benjamini-Hochberg
    remains valid (Benjamini & Yekutieli 2001, Ann. Statist. 29, 1165-1188).

    Examples
    --------
    >>> from audit import datasets                       # doctest: +SKIP
    >>> ev, res = run_battery(datasets.load("ru-cik/2024.csv.zip"),
    ...                       leader="Путин", by="region")  # doctest: +SKIP
    >>> ev.query("status == 'ok'").sort_values("p_bh").head()  # doctest: +SKIP
    """
    plan = plan_battery(table, leader=leader, tests=tests, by=by, rng=rng, alpha=alpha)
    n_proc = battery_processes(plan) if processes is None else max(1, int(processes))
    if n_proc > 1 and len(plan.tasks) > 1:
        outputs = _run_forked(plan, n_proc)
    else:
        outputs = [run_battery_task(t, plan.parts[t.scope]) for t in plan.tasks]
    return assemble_battery(plan, outputs)


#: Fewest stations in the national scope for which :func:`battery_processes`
#: spreads the tests over processes: below it the whole default battery
#: takes a second or two, and starting processes and sending results back
#: would eat most of the gain.
PARALLEL_MIN_STATIONS = 20_000

#: Environment variable that sets the number of battery processes.
PROCESSES_ENV = "VOTE_AUDIT_PROCESSES"


def battery_processes(plan: "BatteryPlan") -> int:
    """How many processes :func:`run_battery` uses by default.

    ``VOTE_AUDIT_PROCESSES`` when set; otherwise one inside a worker process
    (the calibration harness's and Dask's workers already use every core),
    where processes cannot be forked, or below
    :data:`PARALLEL_MIN_STATIONS` stations; else the usable cores.
    """
    import multiprocessing

    from ..core.threads import env_whole, usable_cores

    n = env_whole(PROCESSES_ENV, "processes")
    if n is not None:
        return max(1, n)
    if (multiprocessing.parent_process() is not None
            or "fork" not in multiprocessing.get_all_start_methods()):
        return 1
    national = plan.parts.get("national")
    if national is None or len(national) < PARALLEL_MIN_STATIONS:
        return 1
    return usable_cores()


#: The plan the forked battery processes run (inherited, never pickled).
_FORKED: dict = {}


def _forked_task(index: int):
    plan = _FORKED["plan"]
    task = plan.tasks[index]
    return index, run_battery_task(task, plan.parts[task.scope])


def _run_forked(plan: BatteryPlan, n_proc: int) -> list:
    """The outputs of every task of ``plan``, in task order, computed on
    ``n_proc`` forked processes that take the costliest tasks first (the
    registry's ``cost``).  Inside them the tests' own threads drop to one
    (:func:`audit.core.threads.worker_threads`), so the cores are not shared
    twice over."""
    import multiprocessing
    from concurrent.futures import ProcessPoolExecutor

    # SciPy's statistics (and the sub-packages it loads) once, here, rather
    # than in every process when its first test reads them: about a second
    # of CPU per process on the project's machine (the tests load them
    # lazily, so that a run of the integer test alone never does)
    import scipy.stats  # noqa: F401

    order = sorted(range(len(plan.tasks)), key=lambda i: (-plan.tasks[i].spec.cost, i))
    outputs: list = [None] * len(plan.tasks)
    _FORKED["plan"] = plan
    try:
        with ProcessPoolExecutor(min(n_proc, len(order)),
                                 mp_context=multiprocessing.get_context("fork")) as pool:
            futures = [pool.submit(_forked_task, i) for i in order]
            for future in futures:
                try:
                    index, out = future.result()
                except Exception:
                    # a result that cannot be sent back (a plugin's unpicklable
                    # value) or a worker that died: the task runs here below
                    continue
                outputs[index] = out
    finally:
        _FORKED.clear()
    return [out if out is not None else run_battery_task(t, plan.parts[t.scope])
            for t, out in zip(plan.tasks, outputs)]


@dataclass(frozen=True)
class BatteryTask:
    """One registered test in one scope: row ``index`` of the evidence table."""

    index: int
    level: str
    scope: str
    spec: Any                      # audit.stations.registry.TestSpec
    seed: np.random.SeedSequence
    options: tuple[str, ...]
    leader: str | None


@dataclass
class BatteryPlan:
    """Everything :func:`run_battery` would do, before doing it.

    Attributes
    ----------
    tasks : list of BatteryTask
        In the order of the evidence table (every test nationally, then
        every test in each unit of each ``by`` level).
    parts : dict
        Scope label -> the station rows of that scope (a DataFrame).
    leader : str or None
    alpha : float
    """

    tasks: list[BatteryTask]
    parts: dict[str, pd.DataFrame]
    leader: str | None
    alpha: float = 0.05
    scopes: list[str] = field(default_factory=list)


def plan_battery(table: StationTable, *, leader=None, tests=None, by=None, rng=0,
                 alpha: float = 0.05) -> BatteryPlan:
    """The tasks of :func:`run_battery` and their seeds.

    Same parameters, validation and errors as ``run_battery``.  Task ``i``
    gets the ``i``-th child of ``SeedSequence(rng).spawn(len(tasks))``, as
    in ``run_battery``, so running the tasks anywhere and in any order and
    passing the outputs to :func:`assemble_battery` gives its table.

    Examples
    --------
    >>> from audit.stations.simulate import clean_election
    >>> plan = plan_battery(clean_election(600, rng=0), tests=["last_digit"],
    ...                     by="region", rng=0)
    >>> [t.scope for t in plan.tasks][:3]
    ['national', 'region=R001', 'region=R002']
    """
    from . import forensics  # noqa: F401  (fills the registry)
    from . import registry

    by, names = _validate(table, tests, by, alpha)
    registry.load_plugins()
    reg = registry.REGISTRY
    if names is None:       # the default set: tests registered with default=False run when named
        specs = [s for s in reg.values() if s.default]
    else:
        unknown = [n for n in names if n not in reg]
        if unknown:
            raise InputError(f"unknown test(s) {', '.join(unknown)}; registered: "
                             + (", ".join(sorted(reg)) or "none"))
        specs = [reg[n] for n in names]
    lead = table.leader_column(leader) if table.options else None

    scopes = [("national", "national", table.data)]
    for level in by:
        for value, part in table.data.groupby(level, sort=True, dropna=True):
            scopes.append((level, f"{level}={value}", part))
    pairs = [(level, scope, spec) for (level, scope, _) in scopes for spec in specs]
    seeds = _seed_root(rng).spawn(len(pairs))
    options = tuple(table.options)
    tasks = [BatteryTask(i, level, scope, spec, seed, options, lead)
             for i, ((level, scope, spec), seed) in enumerate(zip(pairs, seeds))]
    parts = {scope: part for (_, scope, part) in scopes}
    return BatteryPlan(tasks=tasks, parts=parts, leader=lead, alpha=float(alpha),
                       scopes=[s for (_, s, _) in scopes])


def run_battery_task(task: BatteryTask, part: pd.DataFrame) -> tuple[dict, Any]:
    """Run one battery task on the station rows of its scope (pure).

    Returns
    -------
    row : dict
        The evidence row before adjustment (status ``"ok"``,
        ``"not applicable"`` or ``"error"``, as in ``run_battery``).
    result : TestResult or None
        The test's result, except that its ``excluded`` frame is replaced
        by the stations of the scope left out, one row each, with columns
        ``source_row`` (index of ``StationTable.data``) and ``reason``,
        sorted by source row: those the battery did not pass (reason
        ``"missing <columns>"``) and those the test left out (positions
        mapped to source rows); see :func:`excluded_stations`.

    Notes
    -----
    Never raises for a failing test (the error is the row's reason) and
    issues no warning: it may run on a remote worker, so
    :func:`assemble_battery` warns on the client instead.
    """
    spec = task.spec
    row = {"test": spec.name, "family": spec.family, "level": task.level,
           "scope": task.scope, "statistic": np.nan, "pvalue": np.nan, "n": 0,
           "status": "not applicable", "reason": "", "evidence": spec.evidence,
           "label": spec.name, "calibration": spec.calibration.note(), "details": {}}
    result = None
    try:
        binding = bind(spec, part, list(task.options), task.leader)
    except NotApplicable as exc:
        row["reason"] = exc.reason
        return row, None
    args, complete, kwargs, roles = (binding.args, binding.complete, binding.kwargs,
                                      binding.roles)
    label, cal = spec.classify(kwargs)
    row.update(label=label, evidence=cal.evidence, calibration=cal.note())
    if binding.group_level is not None:
        row["label"] = f"{label} ({binding.group_level})"
    n = int(complete.sum())
    row["n"] = n
    if n < spec.min_units:
        row["reason"] = (f"needs at least {spec.min_units} stations with "
                         f"{', '.join(spec.needs)}; {task.scope} has {n}")
        return row, None
    try:
        result = spec.func(*args, rng=np.random.default_rng(task.seed), **kwargs)
    except NotApplicable as exc:
        row["reason"] = exc.reason
    except Exception as exc:  # one failing test must not stop the audit
        row["status"], row["reason"] = "error", f"{type(exc).__name__}: {exc}"
    else:
        if not isinstance(result, TestResult):
            row["status"] = "error"
            row["reason"] = f"returned {type(result).__name__}, not a TestResult"
            result = None
        else:
            row.update(status="ok", statistic=_number(result.statistic),
                       pvalue=_number(result.pvalue), n=int(result.n),
                       details=_details(result))
            missing = int(complete.size - complete.sum())
            if missing:
                row["details"][INCOMPLETE_KEY] = missing
            extra = {}
            if binding.read_as:
                row["details"]["read_as"] = extra["read_as"] = dict(binding.read_as)
            result = dataclasses.replace(
                result, excluded=_source_rows(result.excluded, part, complete, spec, roles),
                details={**result.details, **extra})
    return row, result


def _source_rows(excluded, part: pd.DataFrame, complete: np.ndarray, spec,
                 roles: dict) -> pd.DataFrame:
    """Stations of ``part`` left out of one run, by source row, with reasons.

    ``excluded`` holds the test's own exclusions (``position`` into the
    complete rows it was given, ``reason``) or None; rows not complete in
    every needed column are added with reason ``"missing <columns>"``.
    """
    source = part.index.to_numpy()
    pieces = []
    incomplete = np.flatnonzero(~complete)
    if incomplete.size:
        empty = {}
        for need in spec.needs:
            na = roles[need].isna()
            na = na.all(axis=1) if isinstance(na, pd.DataFrame) else na
            empty[need] = na.to_numpy()[incomplete]
        reasons = ["missing " + ", ".join(n for n in spec.needs if empty[n][j])
                   for j in range(incomplete.size)]
        pieces.append(pd.DataFrame({"source_row": source[incomplete],
                                    "reason": reasons}))
    if excluded is not None and len(excluded):
        given = source[complete]
        pieces.append(pd.DataFrame({
            "source_row": given[excluded["position"].to_numpy(dtype=np.int64)],
            "reason": excluded["reason"].to_numpy(dtype=object)}))
    if not pieces:
        return pd.DataFrame({"source_row": source[:0], "reason": np.zeros(0, object)})
    out = pd.concat(pieces, ignore_index=True)
    return out.sort_values(["source_row", "reason"], kind="stable",
                           ignore_index=True)


def excluded_stations(battery: BatteryResult, scope: str | None = "national") -> pd.DataFrame:
    """Stations each test run left out, one row per (test, station).

    Columns ``test``, ``level``, ``scope``, ``source_row``, ``reason``,
    sorted by test, scope and source row, for the runs of ``scope`` (every
    scope when None) that ran.  Each run lists as many stations as the
    ``excluded*`` counts of its ``details`` add up to (where a test also
    reports a total, e.g. ``excluded_stations``, the total).  The pooled
    digit tests work on counts, not stations: they list only the rows the
    battery did not pass them.
    """
    frames = []
    for rec, result in zip(battery.evidence.itertuples(index=False), battery.results):
        if result is None or (scope is not None and rec.scope != scope):
            continue
        listing = result.excluded
        if listing is None or not len(listing) or "source_row" not in listing:
            continue
        frames.append(listing[["source_row", "reason"]].assign(
            test=rec.test, level=rec.level, scope=rec.scope))
    columns = ["test", "level", "scope", "source_row", "reason"]
    if not frames:
        return pd.DataFrame(columns=columns)
    out = pd.concat(frames, ignore_index=True)[columns]
    return out.sort_values(["test", "scope", "source_row", "reason"], kind="stable",
                           ignore_index=True)


#: Key of ``details`` counting the stations of the scope the battery did not
#: pass to a test because a column it needs is empty for them.
INCOMPLETE_KEY = "excluded_missing_needed_column"


def exclusion_counts(evidence: pd.DataFrame) -> pd.DataFrame:
    """Stations each test run left out, by reason (one row per reason).

    The reasons are the ``excluded*`` counts of the run's ``details``: those
    the battery adds (:data:`INCOMPLETE_KEY`) and those each test reports
    for the stations it cannot use (no ballots, too small, shares above a
    cap, impossible figures...).  Rows excluded by the reader are listed
    station by station in the reader's own table, not here.
    """
    rows = []
    for rec in evidence.itertuples(index=False):
        details = rec.details if isinstance(rec.details, dict) else {}
        for key in sorted(details):
            value = details[key]
            if not key.startswith("excluded") or isinstance(value, bool):
                continue
            if isinstance(value, (int, np.integer, float, np.floating)) and value > 0:
                rows.append({"test": rec.test, "level": rec.level, "scope": rec.scope,
                             "reason": key.removeprefix("excluded").strip("_")
                             .replace("_", " ") or "excluded",
                             "stations": int(value)})
    return pd.DataFrame(rows, columns=["test", "level", "scope", "reason", "stations"])


def assemble_battery(plan: BatteryPlan, outputs: list[tuple[dict, Any]]):
    """Evidence table from the outputs of every task of ``plan``, in task order.

    Benjamini-Hochberg and Holm adjustments run over the rows with a finite
    p-value, evidence and descriptive rows as two families (as in
    ``run_battery``); each row with status
    ``"error"`` gives a :class:`RuntimeWarning` here, on the client.

    Returns
    -------
    BatteryResult
    """
    if len(outputs) != len(plan.tasks):
        raise ValueError(f"outputs: expected {len(plan.tasks)} task outputs, "
                         f"got {len(outputs)}")
    rows = [row for row, _ in outputs]
    results = [result for _, result in outputs]
    for row in rows:
        if row["status"] == "error":
            warnings.warn(f"test {row['test']!r} failed on {row['scope']}: "
                          f"{row['reason']}", RuntimeWarning, stacklevel=3)
    evidence = pd.DataFrame(rows, columns=[c for c in COLUMNS
                                           if c not in ("p_bh", "p_holm", "reject_bh",
                                                        "reject_holm")])
    p = evidence["pvalue"].to_numpy(dtype=float)
    p = np.where(evidence["status"].to_numpy() == "ok", p, np.nan)
    is_ev = evidence["evidence"].to_numpy(dtype=bool)
    evidence["evidence"] = is_ev
    p_bh, p_holm = np.full(p.shape, np.nan), np.full(p.shape, np.nan)
    for family in (is_ev, ~is_ev):       # evidence and descriptive rows apart
        p_bh[family] = p_adjust_bh(p[family])
        p_holm[family] = p_adjust_holm(p[family])
    evidence["p_bh"] = p_bh
    evidence["p_holm"] = p_holm
    evidence["reject_bh"] = evidence["p_bh"] <= plan.alpha
    evidence["reject_holm"] = evidence["p_holm"] <= plan.alpha
    evidence["n"] = evidence["n"].astype("int64")
    evidence = evidence[list(COLUMNS)]
    return BatteryResult(evidence=evidence, results=results, leader=plan.leader,
                         alpha=plan.alpha)


def evidence_records(evidence: pd.DataFrame) -> list[dict]:
    """JSON-ready list of dicts (NaN -> None) for ``results.json``."""
    return [to_jsonable(rec) for rec in evidence.to_dict(orient="records")]
