"""Calibration harness: false-alarm rate and power of every registered test.

Each registered test is run on ``n_sim`` simulated clean elections (its
false-alarm rate at ``alpha``, with an exact binomial confidence interval)
and on the same elections after each fraud model (its power).  One row of
work is one :class:`Task`; :func:`run_task` is a pure function of the task,
so tasks can run in any order, in processes (``jobs=2``) or on a Dask
cluster (``mapper=lambda f, ts: client.gather(client.map(f, ts))``) and give
the same table.

Seeds
-----
All seeds derive from one root seed through :class:`numpy.random.SeedSequence`
spawn keys, so a row does not depend on which other rows were run:

- clean election ``j``: ``SeedSequence(root, spawn_key=(0, j))`` (all
  scenarios share it, so fraud scenarios are paired with the clean one);
- fraud applied to election ``j`` in scenario ``s``:
  ``spawn_key=(1, id(s), j)``;
- the test's own ``rng``: ``spawn_key=(2, id(s), j, id(test))``,

where ``id`` is the CRC-32 of the name.

Reproduce the published table with::

    python -m audit.stations.calibration --n-sim 200 --n-stations 3000 --seed 20261125 \
        --out docs/calibration.md

Examples
--------
>>> from audit.stations.calibration.simulated import calibrate
>>> report = calibrate(["turnout_leader_correlation"], scenarios=["clean"],
...                    n_sim=20, n_stations=500, root_seed=1)
>>> row = report.summary.iloc[0]
>>> row["test"], row["scenario"], int(row["n_ok"])
('turnout_leader_correlation', 'clean', 20)

Twenty clean elections, each tested once: the share of them in which the test
rejected at 5% estimates its false-alarm rate.
"""

from __future__ import annotations

import functools
import platform
import time
import zlib
from dataclasses import dataclass, field
from typing import Any, Callable, Iterable, Sequence

import numpy as np
import pandas as pd
from scipy import stats

from .. import simulate
from ..binding import bind
from ...tables.station_table import StationTable
from ...core.errors import NotApplicable
from .. import catalogue
from ..registry import GROUPS, REGISTRY, Column, TestSpec

__all__ = ["Scenario", "SCENARIOS", "Task", "call_test", "make_tasks", "run_task",
           "summarize", "calibrate", "write_markdown", "DECLARED_FLAGS",
           "TEST_OPTIONS", "size_flag", "Column", "VARIANTS", "MAX_SIMS"]

ALPHA = 0.05
TOLERANCE = 0.025
DEFAULT_SEED = 20261125


# ------------------------------------------------------------ scenarios
@dataclass(frozen=True)
class Scenario:
    """A fraud model and its parameters (``model=None``: clean)."""

    name: str
    model: Callable | None
    params: tuple = ()
    description: str = ""

    def apply(self, clean: StationTable, rng) -> StationTable:
        if self.model is None:
            return clean
        return self.model(clean, leader="leader", rng=rng, **dict(self.params))


SCENARIOS: dict[str, Scenario] = {s.name: s for s in (
    Scenario("clean", None, (), "no fraud"),
    Scenario("klimek_incremental", simulate.klimek_fraud,
             (("f_incremental", 0.15), ("x_mean", 0.2), ("y_mean", 0.2)),
             "Klimek et al. incremental fraud, f_i = 0.15, x0 = y0 = 0.2"),
    Scenario("klimek_extreme", simulate.klimek_fraud,
             (("f_extreme", 0.03),),
             "Klimek et al. extreme fraud, f_e = 0.03"),
    Scenario("stuffing", simulate.ballot_stuffing,
             (("share", 0.1), ("amount", 0.05)),
             "ballots for the leader in 10% of stations, mean 5% of registered"),
    Scenario("rounding", simulate.round_percentages,
             (("share", 0.05), ("target", "both"), ("step", 1.0)),
             "turnout and leader share set to whole percentages in 5% of stations"),
)}

# What each test is (evidence class, flags, variants, the cheaper options
# and simulation caps the harness uses) is declared once, at ``@register``
# (:mod:`audit.stations.registry`); the names below are derived from the registry
# each time they are read, so a test registered later (a plugin, a
# notebook) is included.
#
# TEST_OPTIONS  label -> options passed during calibration (cheaper
#               resampling); size and power belong to these settings.
# MAX_SIMS      label -> cap on simulations per scenario for slow tests.
# VARIANTS      label -> (registered name, options) for the variants.
# DECLARED_FLAGS  label -> (flag, why) for tests declared off their size
#               or descriptive.
def _variants() -> dict:
    return {label: (base, opts) for label, (base, opts, _)
            in catalogue.calibration_labels().items() if label != base}


def __getattr__(name):
    if name == "TEST_OPTIONS":
        return catalogue.test_options()
    if name == "MAX_SIMS":
        return catalogue.max_sims()
    if name == "VARIANTS":
        return {label: (base, opts) for label, (base, opts, _)
                in catalogue.calibration_labels().items() if label != base}
    if name == "DECLARED_FLAGS":
        return catalogue.declared_flags()
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


# ------------------------------------------------------------ calling a test
def call_test(spec: TestSpec | str, table: StationTable, leader: str | None = None,
              rng=None, **options):
    """Run a registered test on a station table, feeding its data roles.

    Parameters
    ----------
    spec : TestSpec or str
        The registered test (or its name).
    table : StationTable
        Canonical station table.
    leader : str, optional
        Leader option (see :meth:`StationTable.leader_column`).
    rng : seed or Generator, optional
        Passed to the test.
    **options
        Keyword-only options of the test; a :class:`Column` value is replaced
        by that column of the table (rows kept only).

    Returns
    -------
    TestResult

    Raises
    ------
    NotApplicable
        If the table lacks a needed column or has fewer usable stations
        than the test's ``min_units``.

    Notes
    -----
    Roles as in :mod:`audit.stations.registry`: ``registered``, ``ballots_issued``,
    ``ballots_cast``, ``invalid`` are 1-d integer arrays, ``leader`` the
    leader's column, ``votes`` the ``(n, k)`` matrix of every option column.
    Stations with a missing value in any needed column are left out.

    Examples
    --------
    >>> from audit.stations.simulate import clean_election
    >>> res = call_test("turnout_leader_correlation", clean_election(300, rng=0),
    ...                 leader="leader", rng=1)
    >>> res.n
    300
    """
    if isinstance(spec, str):
        if spec not in REGISTRY:
            raise ValueError(f"spec: no registered test named {spec!r}")
        spec = REGISTRY[spec]
    if not isinstance(spec, TestSpec):
        raise TypeError(f"spec must be a TestSpec or a name, got {type(spec).__name__}")
    b = bind(spec, table.data, list(table.options), table.leader_column(leader),
             groups=False, extra=options)
    args, n, options = b.args, int(b.complete.sum()), b.kwargs
    if n < spec.min_units:
        raise NotApplicable(f"{spec.name} needs at least {spec.min_units} stations "
                            f"with complete data, got {n}")
    return spec.func(*args, rng=rng, **options)


# ------------------------------------------------------------ tasks
def _key(name: str) -> int:
    return zlib.crc32(name.encode("utf-8"))


@dataclass(frozen=True)
class Task:
    """One test on one simulated election; everything needed to redo it."""

    test: str
    scenario: str
    sim: int
    root_seed: int = DEFAULT_SEED
    n_stations: int = 3000
    options: tuple = ()
    #: The test's spec when it cannot be imported by name on a worker (a
    #: test registered in a notebook or script, module ``__main__``); a
    #: Dask worker receives it by value and registers it.
    spec: TestSpec | None = field(default=None, compare=False, repr=False)


@functools.lru_cache(maxsize=4)
def _clean(sim: int, root_seed: int, n_stations: int) -> StationTable:
    ss = np.random.SeedSequence(root_seed, spawn_key=(0, sim))
    return simulate.clean_election(n_stations, rng=np.random.default_rng(ss))


@functools.lru_cache(maxsize=16)
def election(scenario: str, sim: int, root_seed: int, n_stations: int) -> StationTable:
    """Simulated election ``sim`` of ``scenario`` (pure; cached)."""
    if scenario not in SCENARIOS:
        raise ValueError(f"scenario: unknown {scenario!r}; known: {', '.join(SCENARIOS)}")
    clean = _clean(sim, root_seed, n_stations)
    ss = np.random.SeedSequence(root_seed, spawn_key=(1, _key(scenario), sim))
    return SCENARIOS[scenario].apply(clean, np.random.default_rng(ss))


def run_task(task: Task) -> dict:
    """Run one task; return one row (never raises for a test's failure).

    The row has ``test``, ``scenario``, ``sim``, ``status`` ("ok",
    "not_applicable", "error"), ``statistic``, ``pvalue``, ``reason`` and
    ``seconds``.
    """
    catalogue.filled()          # built-in tests and plugins, once per process
    base_name = _variants().get(task.test, (task.test, {}))[0]
    if task.spec is not None and base_name not in REGISTRY:
        REGISTRY[base_name] = task.spec      # registered in the caller's notebook
    table = election(task.scenario, task.sim, task.root_seed, task.n_stations)
    ss = np.random.SeedSequence(task.root_seed, spawn_key=(
        2, _key(task.scenario), task.sim, _key(task.test)))
    row = {"test": task.test, "scenario": task.scenario, "sim": task.sim,
           "status": "ok", "statistic": np.nan, "pvalue": np.nan, "reason": ""}
    start = time.perf_counter()
    try:
        base, extra = _variants().get(task.test, (task.test, {}))
        res = call_test(REGISTRY[base], table, leader="leader",
                        rng=np.random.default_rng(ss), **{**extra, **dict(task.options)})
    except NotApplicable as exc:
        row.update(status="not_applicable", reason=str(exc.reason))
    except Exception as exc:  # recorded, so one broken test does not stop the run
        row.update(status="error", reason=f"{type(exc).__name__}: {exc}")
    else:
        row.update(statistic=float(res.statistic), pvalue=float(res.pvalue))
    row["seconds"] = time.perf_counter() - start
    return row


def _shipped(label: str) -> TestSpec | None:
    """The spec of ``label``'s test when a worker could not import it by
    name (its function lives in ``__main__``), else None."""
    name = _variants().get(label, (label, {}))[0]
    spec = REGISTRY.get(name)
    if spec is not None and getattr(spec.func, "__module__", "") == "__main__":
        return spec
    return None


def make_tasks(tests: Iterable[str] | None = None, scenarios: Iterable[str] | None = None,
               *, n_sim: int = 200, n_stations: int = 3000,
               root_seed: int = DEFAULT_SEED, n_sim_power: int | None = None,
               options: dict[str, dict] | None = None,
               max_sims: dict[str, int] | None = None) -> list[Task]:
    """All tasks, ordered by simulation so the election cache is reused.

    ``tests`` are registered names or labels of :data:`VARIANTS` (default:
    every registered test and the variants of registered tests).

    ``max_sims`` caps the simulations per scenario of named tests (default
    :data:`MAX_SIMS`); ``options`` are merged over :data:`TEST_OPTIONS`.
    """
    if tests is None:
        tests = sorted(REGISTRY) + [v for v, (b, _) in _variants().items() if b in REGISTRY]
    else:
        tests = list(tests)
    scenarios = list(SCENARIOS) if scenarios is None else list(scenarios)
    for t in tests:
        if t not in REGISTRY and _variants().get(t, ("",))[0] not in REGISTRY:
            raise ValueError(f"tests: no registered test named {t!r}")
    for s in scenarios:
        if s not in SCENARIOS:
            raise ValueError(f"scenarios: unknown {s!r}; known: {', '.join(SCENARIOS)}")
    if n_sim < 1:
        raise ValueError(f"n_sim must be at least 1, got {n_sim}")
    n_power = n_sim if n_sim_power is None else n_sim_power
    opts = {**catalogue.test_options(), **(options or {})}
    caps = catalogue.max_sims() if max_sims is None else max_sims
    tasks = []
    for j in range(max(n_sim, n_power)):
        for s in scenarios:
            if j >= (n_sim if s == "clean" else n_power):
                continue
            for t in tests:
                if j >= caps.get(t, j + 1):
                    continue
                tasks.append(Task(t, s, j, int(root_seed), int(n_stations),
                                  tuple(sorted(opts.get(t, {}).items())), _shipped(t)))
    return tasks


# ------------------------------------------------------------ summary
def size_flag(k: int, n: int, alpha: float = ALPHA, tolerance: float = TOLERANCE,
              confidence: float = 0.95) -> tuple[str | None, float, float]:
    """Flag a rejection count ``k`` out of ``n`` clean runs.

    Returns ``(flag, low, high)`` where ``(low, high)`` is the exact
    (Clopper-Pearson) interval for the false-alarm rate and ``flag`` is
    ``"liberal"`` if ``low > alpha + tolerance``, ``"conservative"`` if
    ``high < alpha - tolerance``, else ``None``: a test is flagged only when
    the simulation shows, beyond its own noise, a size outside
    ``alpha +- tolerance``.

    Examples
    --------
    >>> size_flag(10, 200)[0] is None
    True
    >>> size_flag(40, 200)[0]
    'liberal'
    """
    if n == 0:
        return None, np.nan, np.nan
    ci = stats.binomtest(int(k), int(n), alpha).proportion_ci(confidence, method="exact")
    flag = None
    if ci.low > alpha + tolerance:
        flag = "liberal"
    elif ci.high < alpha - tolerance:
        flag = "conservative"
    return flag, float(ci.low), float(ci.high)


def summarize(rows: Sequence[dict] | pd.DataFrame, *, alpha: float = ALPHA,
              tolerance: float = TOLERANCE) -> pd.DataFrame:
    """One row per (test, scenario): counts, rejection rate and its interval.

    ``rate`` is the share of runs with ``pvalue <= alpha`` among the runs
    that gave a p-value; ``flag`` (clean rows only) is :func:`size_flag`'s
    flag, ``"descriptive"`` when the test gave no p-value, or ``""``.
    """
    df = pd.DataFrame(rows)
    out = []
    for (test, scen), g in df.groupby(["test", "scenario"], sort=False):
        ok = g[g.status == "ok"]
        p = ok.pvalue.to_numpy(float)
        finite = np.isfinite(p)
        k = int((p[finite] <= alpha).sum())
        m = int(finite.sum())
        flag, lo, hi = size_flag(k, m, alpha, tolerance)
        reasons = g.loc[g.status != "ok", "reason"]
        out.append({"test": test, "scenario": scen, "n_run": len(g), "n_ok": len(ok),
                    "n_pvalue": m, "n_not_applicable": int((g.status == "not_applicable").sum()),
                    "n_error": int((g.status == "error").sum()), "n_reject": k,
                    "rate": k / m if m else np.nan, "ci_low": lo, "ci_high": hi,
                    "flag": ((flag if scen == "clean" else None) if m else
                             ("descriptive" if len(ok) else None)) or "",
                    "seconds": float(g.seconds.sum()),
                    "first_reason": reasons.iloc[0] if len(reasons) else ""})
    return pd.DataFrame(out)


@dataclass
class CalibrationReport:
    """Raw rows, the summary and how they were produced."""

    rows: pd.DataFrame
    summary: pd.DataFrame
    settings: dict = field(default_factory=dict)


def calibrate(tests: Iterable[str] | None = None, *, scenarios: Iterable[str] | None = None,
              n_sim: int = 200, n_stations: int = 3000, root_seed: int = DEFAULT_SEED,
              n_sim_power: int | None = None, alpha: float = ALPHA,
              tolerance: float = TOLERANCE, options: dict[str, dict] | None = None,
              max_sims: dict[str, int] | None = None,
              mapper: Callable | None = None, jobs: int = 1,
              progress=None) -> CalibrationReport:
    """Run the harness and summarise it.

    Parameters
    ----------
    tests : iterable of str, optional
        Registered test names (default: all, after importing
        :mod:`audit.stations.forensics`).
    scenarios : iterable of str, optional
        Keys of :data:`SCENARIOS` (default: all).
    n_sim : int
        Clean simulations (false-alarm rate).
    n_stations : int
        Stations per simulated election.
    root_seed : int
        Root of every seed.
    n_sim_power : int, optional
        Simulations per fraud scenario (default ``n_sim``).
    alpha, tolerance : float
        Level and the size tolerance used by :func:`size_flag`.
    options : dict, optional
        Per-test keyword options, merged over :data:`TEST_OPTIONS`.
    max_sims : dict, optional
        Per-test cap on simulations per scenario (default :data:`MAX_SIMS`).
    mapper : callable, optional
        ``mapper(run_task, tasks)`` returning the rows (e.g. a Dask or
        multiprocessing map); default the built-in ``map`` or a process pool
        of ``jobs`` workers.
    progress : file-like or None
        Where to draw a progress bar (e.g. ``sys.stderr``); ``None`` draws
        none. Not drawn with a ``mapper``.

    Returns
    -------
    CalibrationReport
    """
    tasks = make_tasks(tests, scenarios, n_sim=n_sim, n_stations=n_stations,
                       root_seed=root_seed, n_sim_power=n_sim_power, options=options,
                       max_sims=max_sims)
    start = time.perf_counter()
    if mapper is not None:
        rows = list(mapper(run_task, tasks))
    elif jobs > 1:
        from concurrent.futures import ProcessPoolExecutor
        per_sim = max(1, len(tasks) // max(n_sim, 1))
        with ProcessPoolExecutor(jobs) as ex:
            rows = list(_progress(ex.map(run_task, tasks, chunksize=per_sim), len(tasks),
                                  progress))
    else:
        rows = list(_progress(map(run_task, tasks), len(tasks), progress))
    elapsed = time.perf_counter() - start
    rows_df = pd.DataFrame(rows).sort_values(["test", "scenario", "sim"],
                                             kind="stable").reset_index(drop=True)
    settings = dict(n_sim=n_sim, n_sim_power=n_sim_power or n_sim, n_stations=n_stations,
                    root_seed=root_seed, alpha=alpha, tolerance=tolerance,
                    seconds=elapsed, n_tasks=len(tasks), jobs=jobs,
                    options={t: dict(o) for t, o in {**catalogue.test_options(), **(options or {})}.items()},
                    max_sims=dict(catalogue.max_sims() if max_sims is None else max_sims))
    return CalibrationReport(rows_df, summarize(rows_df, alpha=alpha, tolerance=tolerance),
                             settings)


def _progress(rows, total: int, stream):
    """Yield ``rows``, drawing a tqdm bar (runs done, elapsed time and an
    estimate of the time left) on ``stream`` (nothing if ``stream`` is None)."""
    if stream is None:
        yield from rows
        return
    from tqdm import tqdm

    with tqdm(rows, total=total, file=stream, ascii=True, mininterval=0.5,
              bar_format="{bar:30} {n_fmt}/{total_fmt} runs, {elapsed} elapsed, "
                         "about {remaining} left") as bar:
        yield from bar


# ------------------------------------------------------------ markdown
def _fmt_rate(r):
    if r.n_pvalue == 0:
        if r.n_ok:
            return "descriptive"
        return f"n/a ({r.n_not_applicable})" if r.n_not_applicable else f"error ({r.n_error})"
    s = f"{r.rate:.3f}"
    if r.n_not_applicable or r.n_error:
        s += f" ({r.n_not_applicable + r.n_error} n/a)"
    return s


def _option_text(value) -> str:
    if isinstance(value, Column):
        return (f"the {value.name} labels" if value.name else
                "the labels of the finest hierarchy level (districts)")
    return repr(value)


def to_markdown(report: CalibrationReport, command: str | None = None) -> str:
    """Markdown text of the calibration table."""
    st = report.settings
    summ = report.summary
    scen = [s for s in SCENARIOS if s in set(summ.scenario) and s != "clean"]
    cmd = command or (f"python -m audit.stations.calibration --n-sim {st['n_sim']} "
                      f"--n-sim-power {st['n_sim_power']} --n-stations {st['n_stations']} "
                      f"--seed {st['root_seed']} --out docs/calibration.md")
    lines = [
        "# Calibration of the station-level tests",
        "",
        "Generated by `audit.stations.calibration`; do not edit by hand. Reproduce with:",
        "",
        "```",
        cmd,
        "```",
        "",
        f"- root seed {st['root_seed']}; {st['n_sim']} clean simulations and "
        f"{st['n_sim_power']} per fraud scenario, {st['n_stations']:,} stations each "
        "(modest sizes this machine could afford; the harness takes larger ones).",
        f"- level alpha = {st['alpha']}; a test is flagged when the exact 95% "
        f"(Clopper-Pearson) interval of its clean rejection rate lies wholly above "
        f"{st['alpha'] + st['tolerance']:.3f} (liberal) or below "
        f"{st['alpha'] - st['tolerance']:.3f} (conservative).",
        (f"- {st['n_tasks']:,} test runs, {st['seconds']:.0f} s of test time summed "
         f"over the runs" if st.get("seconds_are") == "test time" else
         f"- {st['n_tasks']:,} test runs in {st['seconds']:.0f} s wall time on "
         f"{st.get('jobs', 1)} process(es)" if "seconds" in st else
         f"- {st['n_tasks']:,} test runs on {st.get('jobs', 1)} process(es)")
        + f" (Python {platform.python_version()}, numpy {np.__version__}).",
        "- Clean elections: `audit.stations.simulate.clean_election` (heterogeneous regions, "
        "Beta station rates, binomial counts). Fraud scenarios apply a model to the "
        "same clean elections (paired):",
        "",
    ]
    for s in scen:
        lines.append(f"  - `{s}`: {SCENARIOS[s].description}")
    used = set(summ.test)
    for t, o in sorted(st.get("options", {}).items()):
        if t in used:
            lines.append(f"- `{t}` run with " + ", ".join(f"{k}={v!r}" for k, v in o.items())
                         + " (the calibration's options, not its defaults).")
    for t, cap in sorted(st.get("max_sims", {}).items()):
        if t in used:
            lines.append(f"- `{t}`: at most {cap} simulations per scenario (slow).")
    for v, (b, o) in _variants().items():
        if v in used:
            lines.append(f"- `{v}`: `{b}` run with " + ", ".join(
                f"{k}={_option_text(x)}" for k, x in o.items()) + ".")
    lines += ["", "Power is the rejection rate at alpha under each scenario; "
              "`(k n/a)` counts runs where the test refused (NotApplicable) or failed. "
              "Power of a flagged test is not comparable with the others.", ""]
    header = ["test", "false-alarm rate [95% CI]", "flag", *scen, "s/run"]
    lines.append("| " + " | ".join(header) + " |")
    lines.append("|" + "---|" * len(header))
    for test, g in summ.groupby("test", sort=True):
        g = g.set_index("scenario")
        if "clean" in g.index:
            c = g.loc["clean"]
            size = _fmt_rate(c)
            if c.n_pvalue:
                size += f" [{c.ci_low:.3f}, {c.ci_high:.3f}] (n={c.n_pvalue})"
            flag = c.flag if isinstance(c.flag, str) else ""
            if flag and flag != "descriptive" and test in catalogue.declared_flags():
                flag += " (declared)"
        else:
            size, flag = "", ""
        cells = [f"`{test}`", size, flag]
        for s in scen:
            cells.append(_fmt_rate(g.loc[s]) if s in g.index else "")
        cells.append(f"{g.seconds.sum() / max(g.n_run.sum(), 1):.3f}")
        lines.append("| " + " | ".join(cells) + " |")
    errs = summ[(summ.n_error > 0) | (summ.n_not_applicable > 0)]
    if len(errs):
        lines += ["", "Refusals and errors (first reason per test and scenario):", ""]
        for _, r in errs.iterrows():
            lines.append(f"- `{r.test}` / {r.scenario}: {r.n_not_applicable} n/a, "
                         f"{r.n_error} errors: {r.first_reason}")
    declared = [t for t in summ.test.unique() if t in catalogue.declared_flags()]
    if declared:
        lines += ["", "Declared flags (`audit.stations.calibration.simulated.DECLARED_FLAGS`):", ""]
        for t in sorted(declared):
            lines.append(f"- `{t}`: {catalogue.declared_flags()[t][0]}; {catalogue.declared_flags()[t][1]}")
    return "\n".join(lines) + "\n"


def write_markdown(report: CalibrationReport, path="docs/calibration.md",
                   command: str | None = None) -> str:
    """Write :func:`to_markdown` to ``path``; return the text."""
    from pathlib import Path

    text = to_markdown(report, command)
    p = Path(path)
    p.parent.mkdir(parents=True, exist_ok=True)
    p.write_text(text, encoding="utf-8")
    return text


