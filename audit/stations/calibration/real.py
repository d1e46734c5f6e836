"""Calibration on real data: honestly counted elections and clean twins.

A test's rejection counts as evidence only if it holds its size on data
that look like real elections, not only on the project's own simulator.
This module runs every registered test, as the battery runs it (national
scope; ``groups`` labels of the finest hierarchy level), on

- the **clean real elections** of the dataset registry (Poland 2020,
  Czech Republic 2018, Canada 2011: widely regarded as honestly counted):
  one run each, where no evidence test may reject at Holm 0.05;
- **clean twins** of real station files (:mod:`audit.stations.twin`: every
  station's real size and place in the hierarchy kept, counts redrawn from
  a model whose support is independent of turnout within each district):
  ``n_twins`` per file, giving each test's false-alarm rate at alpha with
  its Clopper-Pearson interval, and the share of twins in which any
  evidence test rejects at Holm 0.05;
- the same twins with **injected fraud** (whole-number turnout and support
  in 1% of stations; ballots stuffed in 5% of stations), giving power.

One unit of work is one :class:`CorpusTask` (one table: a real election or
one twin, clean or rigged); :func:`run_corpus_task` is a pure function of
it, so tasks run in any order, in processes or on a Dask cluster, and give
the same rows.

Seeds
-----
From one root seed through :class:`numpy.random.SeedSequence` spawn keys,
with ``id`` the CRC-32 of a name:

- twin ``j`` of file ``f``: ``spawn_key=(3, id(f), j)``, shared by every
  scenario, so rigged twins are paired with the clean ones;
- fraud of scenario ``s`` on it: ``spawn_key=(4, id(f), id(s), j)``;
- the test's own ``rng``: ``spawn_key=(5, id(f), id(s), j, id(label))``.

Examples
--------
>>> from audit.stations.calibration.real import CorpusTask, TWIN_SCENARIOS
>>> sorted(TWIN_SCENARIOS)
['clean', 'rounding', 'stuffing']
>>> CorpusTask("ru-cik/2020.csv.zip", "twin", "clean", 0).kind
'twin'
"""

from __future__ import annotations

import functools
import time
import zlib
from dataclasses import dataclass, field
from typing import Callable, Iterable

import numpy as np
import pandas as pd
from scipy import stats

from .. import catalogue
from ..battery import p_adjust_holm
from ..binding import bind
from ...core.errors import NotApplicable

__all__ = ["CorpusTask", "TWIN_SOURCES", "TWIN_SCENARIOS", "clean_elections",
           "corpus_tasks", "run_corpus_task", "calibrate_corpus", "CorpusReport",
           "summarize_corpus"]

ALPHA = 0.05
#: A test holds its size when its false-alarm rate at ALPHA is within
#: ALPHA +- BAND (0.02 to 0.08), judged by the Clopper-Pearson interval.
BAND = 0.03
DEFAULT_SEED = 20261203

#: Station files whose clean twins calibrate the tests.
TWIN_SOURCES = ("ru-cik/2020.csv.zip", "ru-cik/2021.csv.zip", "ru-cik/2024.csv.zip")

#: Scenario -> (fraud model of :mod:`audit.stations.simulate`, its options, description).
TWIN_SCENARIOS: dict[str, tuple] = {
    "clean": (None, {}, "no fraud"),
    "rounding": ("round_percentages", {"share": 0.01, "target": "both", "step": 1.0},
                 "turnout and leader share written as whole percentages in 1% of "
                 "stations"),
    "stuffing": ("ballot_stuffing", {"share": 0.05, "amount": 0.1},
                 "ballots for the leader stuffed in 5% of stations (mean 10% of "
                 "registered)"),
}


def clean_elections() -> list[str]:
    """Names of the clean real elections in the dataset registry."""
    from ...tables import datasets

    return [name for name, d in sorted(datasets.REGISTRY.items())
            if getattr(d, "kind", "") == "clean"]


def _key(name: str) -> int:
    return zlib.crc32(name.encode("utf-8"))


@dataclass(frozen=True)
class CorpusTask:
    """One table of the corpus and the tests to run on it.

    ``kind`` is ``"real"`` (the election itself; ``sim`` 0) or ``"twin"``
    (clean twin ``sim`` of the file, then ``scenario``'s fraud).
    ``tests`` limits the labels run (default every registered test and
    variant).
    """

    source: str
    kind: str
    scenario: str
    sim: int
    root_seed: int = DEFAULT_SEED
    tests: tuple | None = None
    #: Specs of tests registered in ``__main__`` (a notebook), which a
    #: worker cannot import by name; it registers them before running.
    specs: tuple = field(default=(), compare=False, repr=False)


@functools.lru_cache(maxsize=4)
def _load(name: str):
    from ...tables import datasets

    return datasets.load(name)


@functools.lru_cache(maxsize=3)
def _twin_model(name: str):
    from ..twin import fit_twin

    return fit_twin(_load(name))


def table_of(task: CorpusTask):
    """The station table of ``task`` (real, twin, or rigged twin)."""
    if task.kind == "real":
        return _load(task.source)
    if task.kind != "twin":
        raise ValueError(f"kind must be 'real' or 'twin', got {task.kind!r}")
    if task.scenario not in TWIN_SCENARIOS:
        raise ValueError(f"scenario: unknown {task.scenario!r}; known: "
                         + ", ".join(TWIN_SCENARIOS))
    ss = np.random.SeedSequence(task.root_seed, spawn_key=(3, _key(task.source), task.sim))
    clean = _twin_model(task.source).draw(rng=np.random.default_rng(ss))
    model, options, _ = TWIN_SCENARIOS[task.scenario]
    if model is None:
        return clean
    from .. import simulate

    ss = np.random.SeedSequence(task.root_seed, spawn_key=(
        4, _key(task.source), _key(task.scenario), task.sim))
    return getattr(simulate, model)(clean, rng=np.random.default_rng(ss), **options)


def _runs(tests) -> list[tuple[str, str, dict, bool]]:
    """(label, registered name, options, battery) for every run of a table.

    The battery's own run of each test (with ``groups`` where it takes
    them) and every other variant; ``battery`` marks the battery's runs.
    """
    runs = []
    for name, spec in sorted(catalogue.filled().items()):
        runs.append((None, name, {}, True))
        for v in spec.variants:
            if "groups" in v.options:
                continue        # the battery's run already has the groups
            runs.append((f"{name}[{v.suffix}]", name, dict(v.options), False))
    if tests is not None:
        wanted = set(tests)
        runs = [r for r in runs if r[1] in wanted or (r[0] is not None and r[0] in wanted)]
    return runs


def run_corpus_task(task: CorpusTask) -> list[dict]:
    """Every test of ``task`` on its table: one row per run (never raises
    for a test's failure).  On rigged twins only the evidence tests run;
    a test declaring ``max_twins`` runs on that many twins per file and scenario.

    Row keys: ``source``, ``kind``, ``scenario``, ``sim``, ``test`` (the
    calibration label, e.g. ``turnout_leader_correlation[groups]``),
    ``name`` (registered name), ``battery`` (the battery's own run),
    ``evidence`` (the label's evidence class), ``status``, ``statistic``,
    ``pvalue``, ``reason``, ``seconds``, ``injected`` (stations the fraud
    altered among those the test used; for the integer test, those of them
    now within its window of a whole number; 0 when clean) and, for
    ``integer_percentages``, ``excess``, ``sd`` and ``null_share`` (the
    null chance of a station's whole-number figure).
    """
    reg = catalogue.filled()
    for spec in task.specs:
        reg.setdefault(spec.name, spec)
    table = table_of(task)
    altered = np.asarray(table.source.get("altered", np.zeros(len(table.data), bool)),
                         dtype=bool)
    leader = table.leader_column(None)
    rows = []
    for label, name, extra, battery in _runs(task.tests):
        spec = reg[name]
        if task.kind == "twin" and spec.max_twins is not None and task.sim >= spec.max_twins:
            continue                # a slow test: its declared number of twins only
        row = {"source": task.source, "kind": task.kind, "scenario": task.scenario,
               "sim": task.sim, "test": label or name, "name": name, "battery": battery,
               "evidence": spec.evidence, "status": "ok", "statistic": np.nan,
               "pvalue": np.nan, "reason": "", "seconds": 0.0, "injected": 0,
               "excess": np.nan, "sd": np.nan, "null_share": np.nan}
        start = time.perf_counter()
        try:
            b = bind(spec, table.data, list(table.options), leader,
                     groups=battery, extra=extra)
            run_label, cal = spec.classify({**extra, **b.kwargs})
            row.update(test=run_label, evidence=cal.evidence)
            if task.scenario != "clean" and not cal.evidence:
                continue            # power is measured for the evidence tests only
            n = int(b.complete.sum())
            if n < spec.min_units:
                raise NotApplicable(f"needs at least {spec.min_units} stations, got {n}")
            ss = np.random.SeedSequence(task.root_seed, spawn_key=(
                5, _key(task.source), _key(task.scenario), task.sim, _key(run_label)))
            res = spec.func(*b.args, rng=np.random.default_rng(ss),
                            **{**spec.calibration_options, **b.kwargs})
        except NotApplicable as exc:
            row.update(status="not_applicable", reason=str(exc.reason))
        except Exception as exc:  # recorded: one broken test must not stop the run
            row.update(status="error", reason=f"{type(exc).__name__}: {exc}")
        else:
            row.update(statistic=float(res.statistic), pvalue=float(res.pvalue))
            used = altered[b.complete]
            keep = np.ones(used.size, bool)
            if res.excluded is not None and len(res.excluded):
                keep[res.excluded["position"].to_numpy(dtype=np.int64)] = False
            row["injected"] = int(used[keep].sum())
            if name == "integer_percentages":
                # a station written to a whole number counts as injected only
                # if it now lies within the test's window of one (a small
                # station cannot land closer than 50 / N points)
                row["injected"] = int((used & keep & _whole(b.args, res.params)).sum())
                d = res.details
                row.update(excess=float(d.get("excess", np.nan)),
                           sd=float(d.get("sd", np.nan)),
                           null_share=float(d.get("expected", np.nan)) / max(res.n, 1))
        row["seconds"] = time.perf_counter() - start
        rows.append(row)
    return rows


def _whole(args, params) -> np.ndarray:
    """Stations whose turnout (issued / registered) or leader share (leader /
    cast) lies within ``window / 2`` points of a multiple of ``period``, the
    integer-percentage test's definition (arguments in its order)."""
    registered, issued, cast, leader = (np.asarray(a, dtype=float) for a in args)
    half, period = params["window"] / 2, params["period"]
    with np.errstate(divide="ignore", invalid="ignore"):
        hits = np.zeros(registered.size, bool)
        for pct in (100 * issued / registered, 100 * leader / cast):
            off = np.abs(pct - np.round(pct / period) * period)
            hits |= np.isfinite(pct) & (off <= half + 1e-9)
    return hits


def corpus_tasks(tests: Iterable[str] | None = None, *, sources=None,
                 real: Iterable[str] | None = None, n_twins: int = 20,
                 n_power: int = 20, scenarios: Iterable[str] | None = None,
                 root_seed: int = DEFAULT_SEED) -> list[CorpusTask]:
    """Every task: the real clean elections, then the twins of each file
    (clean first, then each fraud scenario)."""
    tests = None if tests is None else tuple(tests)
    sources = TWIN_SOURCES if sources is None else tuple(sources)
    real = clean_elections() if real is None else list(real)
    scenarios = list(TWIN_SCENARIOS) if scenarios is None else list(scenarios)
    for s in scenarios:
        if s not in TWIN_SCENARIOS:
            raise ValueError(f"scenarios: unknown {s!r}; known: {', '.join(TWIN_SCENARIOS)}")
    if n_twins < 0 or n_power < 0:
        raise ValueError("n_twins and n_power must not be negative")
    specs = tuple(spec for spec in catalogue.filled().values()
                  if getattr(spec.func, "__module__", "") == "__main__"
                  and (tests is None or spec.name in tests))
    tasks = [CorpusTask(name, "real", "clean", 0, root_seed, tests, specs) for name in real]
    for src in sources:
        for j in range(max(n_twins, n_power)):
            for s in scenarios:
                if j < (n_twins if s == "clean" else n_power):
                    tasks.append(CorpusTask(src, "twin", s, j, root_seed, tests, specs))
    return tasks


@dataclass
class CorpusReport:
    """Raw rows (one per test run) and how they were produced."""

    rows: pd.DataFrame
    settings: dict = field(default_factory=dict)


def calibrate_corpus(tests: Iterable[str] | None = None, *, jobs: int = 1,
                     mapper: Callable | None = None, progress=None,
                     **options) -> CorpusReport:
    """Run :func:`corpus_tasks` (``options`` are its keywords) and collect
    the rows.

    ``mapper(run_corpus_task, tasks)`` runs the tasks elsewhere (e.g.
    :func:`audit.stations.distributed.dask_mapper`); ``jobs > 1`` uses a process
    pool on this machine.
    """
    from .simulated import _progress

    tasks = corpus_tasks(tests, **options)
    start = time.perf_counter()
    if mapper is not None:
        parts = list(mapper(run_corpus_task, tasks))
    elif jobs > 1:
        from concurrent.futures import ProcessPoolExecutor

        with ProcessPoolExecutor(jobs) as ex:
            parts = list(_progress(ex.map(run_corpus_task, tasks), len(tasks), progress))
    else:
        parts = list(_progress(map(run_corpus_task, tasks), len(tasks), progress))
    rows = pd.DataFrame([r for part in parts for r in part])
    settings = {k: (list(v) if isinstance(v, tuple) else v) for k, v in options.items()}
    settings.update(seconds=time.perf_counter() - start, n_tasks=len(tasks), jobs=jobs)
    return CorpusReport(rows, settings)


# ------------------------------------------------------------ summaries
def _cp(k: int, m: int, confidence: float = 0.95) -> tuple[float, float]:
    if m == 0:
        return float("nan"), float("nan")
    ci = stats.binomtest(k, m).proportion_ci(confidence, method="exact")
    return float(ci.low), float(ci.high)


def holm_any(rows: pd.DataFrame, alpha: float = ALPHA) -> pd.DataFrame:
    """Per table (source, kind, scenario, sim): whether any evidence test
    of the battery rejects at Holm ``alpha`` (over the battery's evidence
    rows with a p-value), and which."""
    out = []
    keys = ["source", "kind", "scenario", "sim"]
    ev = rows[rows.battery.astype(bool) & rows.evidence.astype(bool)
              & (rows.status == "ok")]
    for key, g in rows.groupby(keys, sort=True):
        e = ev.loc[ev.index.intersection(g.index)]
        p = e.pvalue.to_numpy(float)
        holm = p_adjust_holm(p) if p.size else p
        hit = e.test.to_numpy()[holm <= alpha] if p.size else []
        out.append({**dict(zip(keys, key)), "n_evidence": int(np.isfinite(p).sum()),
                    "any_reject": bool(len(hit)), "rejecting": ", ".join(sorted(hit))})
    return pd.DataFrame(out, columns=keys + ["n_evidence", "any_reject", "rejecting"])


def rates(rows: pd.DataFrame, alpha: float = ALPHA) -> pd.DataFrame:
    """Rejection rate at ``alpha`` per (test, scenario, source) of the twins,
    and pooled over sources (``source == "all"``), with Clopper-Pearson
    intervals."""
    tw = rows[rows.kind == "twin"]
    out = []
    for (test, scen), g in tw.groupby(["test", "scenario"], sort=True):
        for src, h in [*g.groupby("source", sort=True), ("all", g)]:
            ok = h[h.status == "ok"]
            p = ok.pvalue.to_numpy(float)
            m = int(np.isfinite(p).sum())
            k = int((p[np.isfinite(p)] <= alpha).sum())
            lo, hi = _cp(k, m)
            out.append({"test": test, "scenario": scen, "source": src,
                        "evidence": bool(h.evidence.iloc[0]), "n_run": len(h), "n": m,
                        "k": k, "rate": k / m if m else np.nan, "ci_low": lo, "ci_high": hi,
                        "n_refused": int((h.status != "ok").sum()),
                        "reason": h.loc[h.status != "ok", "reason"].iloc[0]
                        if (h.status != "ok").any() else ""})
    return pd.DataFrame(out)


def with_current_classes(rows: pd.DataFrame) -> pd.DataFrame:
    """``rows`` with ``evidence`` taken from the registry as it is now: the
    rows hold measurements, the classes are declared in the code, so a class
    changed since the run is shown as declared."""
    labels = catalogue.calibration_labels()
    rows = rows.copy()
    current = rows["test"].map(lambda t: labels[t][2].evidence if t in labels else None)
    rows["evidence"] = current.where(current.notna(), rows["evidence"]).astype(bool)
    return rows


def summarize_corpus(rows: pd.DataFrame, alpha: float = ALPHA) -> dict:
    """The tables of the real-data calibration.

    Returns a dict of DataFrames: ``real`` (p-value and Holm p-value of every
    test on every clean real election), ``rates`` (see :func:`rates`),
    ``holm`` (per twin: any evidence rejection at Holm, see
    :func:`holm_any`), ``integer`` (the integer test's excess on the rounded
    twins against the injected number), and ``problems`` (evidence tests that
    break the rules: a Holm rejection on a clean real election, or a
    clean-twin false-alarm rate whose 95% interval lies wholly outside
    alpha +- :data:`BAND`).
    """
    rows = with_current_classes(rows)
    real = rows[rows.kind == "real"].copy()
    holm_rows = []
    for src, g in real.groupby("source", sort=True):
        g = g.copy()
        mask = g.battery.astype(bool) & g.evidence.astype(bool) & (g.status == "ok")
        g["p_holm"] = np.nan
        if mask.any():
            g.loc[mask, "p_holm"] = p_adjust_holm(g.loc[mask, "pvalue"].to_numpy(float))
        holm_rows.append(g)
    real = pd.concat(holm_rows) if holm_rows else real.assign(p_holm=[])
    r = rates(rows, alpha) if (rows.kind == "twin").any() else pd.DataFrame(
        columns=["test", "scenario", "source", "evidence", "n", "k", "rate", "ci_low",
                 "ci_high"])
    h = holm_any(rows, alpha)
    ip = rows[(rows.kind == "twin") & (rows.name == "integer_percentages")
              & (rows.scenario == "rounding") & (rows.status == "ok")].copy()
    if len(ip):
        ip["expected_excess"] = ip.injected * (1 - ip.null_share)
        ip["z"] = (ip.excess - ip.expected_excess) / ip.sd
    problems = []
    for rec in real.itertuples():
        if rec.evidence and rec.battery and rec.p_holm <= alpha:
            problems.append({"test": rec.test, "where": rec.source,
                             "problem": f"rejects a clean real election at Holm "
                                        f"{alpha} (p = {rec.pvalue:.2g})"})
    clean = r[(r.scenario == "clean")] if len(r) else r
    for rec in clean.itertuples():
        # outside the band [alpha - 0.03, alpha + 0.03] beyond sampling error:
        # the whole 95% interval of the rate lies above or below it
        if rec.evidence and rec.n and (rec.ci_low > alpha + BAND or
                                       rec.ci_high < alpha - BAND):
            problems.append({"test": rec.test, "where": f"twins of {rec.source}",
                             "problem": f"false-alarm rate {rec.rate:.3f} "
                                        f"[{rec.ci_low:.3f}, {rec.ci_high:.3f}]"})
    return {"real": real, "rates": r, "holm": h, "integer": ip,
            "problems": pd.DataFrame(problems, columns=["test", "where", "problem"])}
