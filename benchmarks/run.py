#!/usr/bin/env python
"""Speed and scale benchmark of vote-audit: one table, measured in one run.

Run from the repository root with the project's environment::

    AUDIT_DATA_DIR=../shared/datasets .venv/bin/python benchmarks/run.py
    .venv/bin/python benchmarks/run.py --quick          # small, for the smoke test
    .venv/bin/python benchmarks/run.py --out bench.csv  # also write the table as CSV

Sections of the table (every figure is measured in this run, on this machine):

``load``
    Reading and validating the Russian 2020 file from the zip
    (``audit.tables.datasets.load(name, cache=False)``: sha256 check, parse,
    validation) and from the cached Parquet copy (``audit.tables.datasets.load``).
``test``
    Each registered test on the whole file, as run by the national battery
    (``run_battery(table, tests=None)``; each test timed inside it).
``battery``
    The default battery nationally, then nationally and in every region
    (``by="region"``).
``memory``
    Peak resident memory of the load and the batteries.
``integer``
    The integer-percentage test with its exact null against the published
    Monte Carlo procedure (``benchmarks/reference.py``).
``mixture``
    The finite-mixture model's national fit on the 2020 file with its
    intervals and p-value (``benchmarks/mixture_bench.py``).
``digits``
    First- and second-digit tests against the PyPI packages ``benford_py``
    and ``benfordslaw`` (rows say "not installed" when they are absent).
``process``
    Whole processes, what a user waits for (``benchmarks/process_bench.py``):
    ``audit run`` on the 2020 file with ``--tests integer_percentages`` and
    with the default battery (the mixture model runs when named), figures
    included, beside the 1,000-resample Monte Carlo as a whole process
    (``benchmarks/monte_carlo.py``).
``scaling``
    Synthetic clean elections of 10 thousand to 10 million stations: read
    and validate from Parquet (``audit.tables.readers.read(path, "canonical")``), then
    the integer-percentage test.
``calibration``
    The calibration harness (``audit.stations.calibration.simulated.calibrate``) on the whole
    battery (every registered test and variant, at the harness's own
    options) for ``--cal-sims`` clean elections of 10,000 stations, in
    processes on the machine's cores: measured throughput, per-test cost,
    and the time 1,000 elections per scenario would take at that rate.

Seconds are wall-clock; ``cpu_s`` is this process's CPU time over the same
span (above ``seconds`` when numpy uses several threads, below it when the
machine is busy with other work).  Peak memory is the resident set (RSS)
high-water mark of the process over the row's span, reset before it where
Linux allows (``/proc/self/clear_refs``), so it includes the interpreter
and the libraries already imported.

Speed goals live here, never in the test suite.
"""

from __future__ import annotations

import argparse
import contextlib
import csv
import dataclasses
import functools
import math
import os
import platform
import sys
import tempfile
import threading
import time
import warnings
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
for p in (str(ROOT), str(HERE)):
    if p not in sys.path:
        sys.path.insert(0, p)

os.environ.setdefault("MPLBACKEND", "Agg")   # benford packages import pyplot

import numpy as np
import pandas as pd
import reference

DATASET = "ru-cik/2020.csv.zip"
LEADER = "ДА"
GIB = 1024 ** 3
MIB = 1024 ** 2
BLAS_VARS = ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS",
             "BLIS_NUM_THREADS", "VECLIB_MAXIMUM_THREADS", "NUMEXPR_NUM_THREADS")
SECTIONS = ("load", "battery", "integer", "digits", "mixture", "process", "scaling",
            "calibration")
COLUMNS = ("section", "item", "n", "seconds", "cpu_s", "peak_mib", "value", "note")


# ---------------------------------------------------------------- measuring
def _status_kib(key: str) -> int | None:
    try:
        with open("/proc/self/status") as fh:
            for line in fh:
                if line.startswith(key + ":"):
                    return int(line.split()[1])
    except OSError:
        return None
    return None


def _reset_hwm() -> bool:
    """Reset the kernel's peak-RSS mark of this process (Linux >= 4.0)."""
    try:
        with open("/proc/self/clear_refs", "w") as fh:
            fh.write("5")
        return True
    except OSError:
        return False


def _maxrss_mib() -> float:
    import resource

    kib = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return kib / 1024 if sys.platform != "darwin" else kib / MIB


class Measure:
    """Wall time, CPU time and peak RSS (MiB) over a ``with`` block.

    The peak is the kernel's high-water mark, reset on entry where possible;
    otherwise a thread samples the RSS every 20 ms (psutil), and failing
    that the process-wide ``ru_maxrss`` is reported.
    """

    def __init__(self, reset: bool = True):
        self.reset = reset
        self.seconds = self.cpu = self.peak_mib = self.start_mib = float("nan")
        self._sampler = None

    def __enter__(self):
        rss = _status_kib("VmRSS")
        self.start_mib = rss / 1024 if rss is not None else float("nan")
        self._hwm = self.reset and _reset_hwm() and _status_kib("VmHWM") is not None
        if not self._hwm and self.reset:
            self._start_sampler()
        self._t0, self._c0 = time.perf_counter(), time.process_time()
        return self

    def _start_sampler(self):
        try:
            import psutil
        except ImportError:
            return
        proc, stop, peak = psutil.Process(), threading.Event(), [0]

        def run():
            while not stop.is_set():
                peak[0] = max(peak[0], proc.memory_info().rss)
                stop.wait(0.02)

        thread = threading.Thread(target=run, daemon=True)
        thread.start()
        self._sampler = (thread, stop, peak)

    def __exit__(self, *exc):
        self.seconds = time.perf_counter() - self._t0
        self.cpu = time.process_time() - self._c0
        if self._hwm:
            self.peak_mib = _status_kib("VmHWM") / 1024
        elif self._sampler is not None:
            thread, stop, peak = self._sampler
            stop.set()
            thread.join()
            self.peak_mib = peak[0] / MIB
        else:
            self.peak_mib = _maxrss_mib()
        return False

    @property
    def growth_mib(self) -> float:
        """Peak minus the resident memory at entry."""
        return self.peak_mib - self.start_mib


class Table:
    """The one table the benchmark prints (and writes as CSV)."""

    def __init__(self):
        self.rows: list[dict] = []
        self.verdicts: list[tuple[str, bool | None, str]] = []

    def add(self, section, item, *, n=None, m: Measure | None = None, seconds=None,
            value="", note="", cpu=None, peak=None):
        row = {"section": section, "item": item, "n": n,
               "seconds": m.seconds if m is not None else seconds,
               "cpu_s": m.cpu if m is not None else cpu,
               "peak_mib": m.peak_mib if m is not None else peak,
               "value": value, "note": note}
        self.rows.append(row)
        shown = " ".join(f"{k}={_fmt(k, v)}" for k, v in row.items()
                         if k not in ("section", "item") and v not in (None, ""))
        print(f"  [{section}] {item}: {shown}", file=sys.stderr, flush=True)
        return row

    def target(self, name: str, met: bool | None, figure: str):
        self.verdicts.append((name, met, figure))

    def render(self) -> str:
        cells = [[_fmt(c, r[c]) for c in COLUMNS] for r in self.rows]
        widths = [max(len(c), *(len(row[i]) for row in cells)) if cells else len(c)
                  for i, c in enumerate(COLUMNS)]
        widths[-1] = len(COLUMNS[-1])  # the note runs free
        right = {"n", "seconds", "cpu_s", "peak_mib"}

        def line(values):
            parts = [v.rjust(w) if c in right else v.ljust(w)
                     for c, v, w in zip(COLUMNS, values, widths)]
            return "  ".join(parts).rstrip()

        out = [line(COLUMNS), line(["-" * w for w in widths])]
        out += [line(c) for c in cells]
        return "\n".join(out)

    def write_csv(self, path):
        with open(path, "w", newline="", encoding="utf-8") as fh:
            w = csv.DictWriter(fh, fieldnames=COLUMNS)
            w.writeheader()
            for r in self.rows:
                w.writerow({k: ("" if v is None else v) for k, v in r.items()})


def _fmt(col, v) -> str:
    if v is None or v == "":
        return ""
    if isinstance(v, float) and math.isnan(v):
        return ""
    if col == "n":
        return f"{int(v):,}"
    if col in ("seconds", "cpu_s"):
        return f"{v:.3f}" if v < 10 else f"{v:.1f}"
    if col == "peak_mib":
        return f"{v:,.0f}"
    return str(v)


def _g(x, digits=4) -> str:
    return f"{x:.{digits}g}"


# ---------------------------------------------------------------- header
def header(args) -> str:
    import scipy

    from audit.core.threads import usable_cores, worker_threads

    cores = usable_cores()
    mem = {}
    with contextlib.suppress(OSError), open("/proc/meminfo") as fh:
        for line in fh:
            key, val = line.split(":", 1)
            mem[key] = int(val.split()[0]) * 1024
    blas = "unknown"
    with contextlib.suppress(Exception):
        cfg = np.show_config(mode="dicts")
        info = cfg["Build Dependencies"]["blas"]
        blas = f"{info.get('name')} {info.get('version', '')}".strip()
    try:
        load = " ".join(f"{x:.2f}" for x in os.getloadavg())
    except OSError:
        load = "unknown"
    cpu = platform.processor() or platform.machine()
    with contextlib.suppress(OSError), open("/proc/cpuinfo") as fh:
        for line in fh:
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    env = ", ".join(f"{v}={os.environ.get(v, 'unset')}" for v in BLAS_VARS)
    lines = [
        "vote-audit benchmark (benchmarks/run.py)" + (" --quick" if args.quick else ""),
        f"date (UTC)  : {time.strftime('%Y-%m-%d %H:%M:%S', time.gmtime())}",
        f"machine     : {platform.platform()}; {cpu}",
        f"cores       : {cores} usable of {os.cpu_count()}; load average {load}",
        (f"memory      : {mem.get('MemTotal', 0) / GIB:.1f} GiB total, "
         f"{mem.get('MemAvailable', 0) / GIB:.1f} GiB available"),
        (f"python      : {platform.python_version()}; numpy {np.__version__} "
         f"(BLAS {blas}), pandas {pd.__version__}, scipy {scipy.__version__}"),
        f"BLAS env    : {env}",
        (f"threads     : {worker_threads()} for a test's independent replicates "
         f"(VOTE_AUDIT_THREADS={os.environ.get('VOTE_AUDIT_THREADS', 'unset')}; "
         "1 inside worker processes)"),
        f"data dir    : {os.environ.get('AUDIT_DATA_DIR', 'unset (~/.cache/vote-audit)')}",
    ]
    return "\n".join(lines)


def _available_bytes() -> float:
    with contextlib.suppress(OSError), open("/proc/meminfo") as fh:
        for line in fh:
            if line.startswith("MemAvailable:"):
                return int(line.split()[1]) * 1024
    return float("inf")


# ---------------------------------------------------------------- load
def bench_load(t: Table, args):
    from audit.tables import datasets

    name = args.dataset
    if not datasets.available([name]):
        t.add("load", f"{name}", value="not available",
              note=f"not in {datasets.data_dir()}; set AUDIT_DATA_DIR (no download "
                   "in the benchmark); sections on the real file skipped")
        t.target("load from Parquet < 1 s", None, "file not available")
        return None
    with Measure() as m:
        table = datasets.load(name, cache=False)
    n = len(table.data)
    t.add("load", "read + validate from zip (load cache=False)", n=n, m=m,
          value=f"{n:,} stations",
          note=f"sha256 check, CSV parse, validation; {len(table.excluded)} rows "
               f"excluded, {len(table.findings)} findings")
    with Measure() as m:
        first = datasets.load(name)
    where = first.source.get("parquet_cache")
    t.add("load", "load, first cached call", n=len(first.data), m=m,
          note=("cache hit (copy from an earlier run)" if where else
                "no cache copy found: read the zip and wrote the Parquet copy"))
    del first
    with Measure() as m:
        table = datasets.load(name)
    where = table.source.get("parquet_cache")
    if where:
        t.add("load", "load from Parquet cache", n=len(table.data), m=m,
              note=f"sha256 check of the zip + Parquet read; {where}")
        t.target("load from Parquet < 1 s", m.seconds < 1.0, f"{m.seconds:.3f} s")
    else:
        t.add("load", "load from Parquet cache", n=len(table.data), m=m,
              value="no cache", note="no writable cache folder: read from the zip")
        t.target("load from Parquet < 1 s", None, "no writable Parquet cache folder")
    return table


# ---------------------------------------------------------------- battery
@contextlib.contextmanager
def timed_registry(clock: dict, options: dict | None = None):
    """Wrap every registered test so the battery's time is attributed to
    (test, level), optionally with other keyword options (``--quick``).
    The registry is restored on exit."""
    import audit.stations.forensics  # noqa: F401
    from audit.stations import registry

    saved = dict(registry.REGISTRY)
    options = options or {}

    def wrap(name, func):
        extra = options.get(name, {})

        @functools.wraps(func)
        def timed(*a, **k):
            t0 = time.perf_counter()
            try:
                return func(*a, **{**k, **extra})
            finally:
                key = (name, clock.get("level", "?"))
                clock[key] = clock.get(key, 0.0) + time.perf_counter() - t0
        return timed

    try:
        for name, spec in saved.items():
            registry.REGISTRY[name] = dataclasses.replace(spec, func=wrap(name, spec.func))
        yield clock
    finally:
        registry.REGISTRY.clear()
        registry.REGISTRY.update(saved)


@contextlib.contextmanager
def level_tracker(clock: dict, n_national: int):
    """Record, inside ``run_battery``, whether each task is national or
    regional, and when the first regional task starts (the battery runs
    every national task first), through the ``bind`` it calls."""
    from audit.stations import battery as battery_mod

    original = battery_mod.bind

    def tracked(spec, data, *args, **kwargs):
        national = len(data) == n_national
        clock["level"] = "national" if national else "region"
        if not national and "first_region_at" not in clock:
            clock["first_region_at"] = time.perf_counter()
        return original(spec, data, *args, **kwargs)

    battery_mod.bind = tracked
    try:
        yield clock
    finally:
        battery_mod.bind = original


def bench_tests_and_battery(t: Table, table, args):
    """One ``run_battery(by="region")`` call: the national part (every
    national row comes first) gives the per-test rows and the national
    battery time; the rest is the regional part."""
    from audit.stations.battery import run_battery

    by = None if args.no_regions else "region"
    options = {}
    if args.quick:
        from audit.stations.calibration.simulated import TEST_OPTIONS

        options = {**TEST_OPTIONS, "spikes": {"n_boot": 50}}
    clock: dict = {}
    n = len(table.data)
    with timed_registry(clock, options), level_tracker(clock, n), \
            warnings.catch_warnings():
        warnings.simplefilter("ignore")
        with Measure() as m:
            t0 = time.perf_counter()
            # one process: the timers above run inside this process only
            ev, _ = run_battery(table, leader=args.leader, by=by, rng=0, processes=1)
            t_end = time.perf_counter()
    t_nat = clock.get("first_region_at", t_end) - t0
    times = {k: v for k, v in clock.items() if isinstance(k, tuple)}
    nat_ev = ev[ev["level"] == "national"]
    for row in nat_ev.itertuples(index=False):
        secs = times.get((row.test, "national"), float("nan"))
        value = f"p={_g(row.pvalue, 3)}" if row.status == "ok" else row.status
        note = "" if row.status == "ok" else str(row.reason)[:90]
        if row.test in options:
            note = (note + "; " if note else "") + f"--quick options {options[row.test]}"
        t.add("test", row.test, n=row.n, seconds=secs, value=value, note=note)
    nat_tests = sum(v for (name, lvl), v in times.items() if lvl == "national")
    quick = " (--quick: reduced options)" if options else ""
    t.add("battery", "national, default battery" + quick, n=n, seconds=t_nat,
          value=f"{int((nat_ev['status'] == 'ok').sum())}/{len(nat_ev)} rows ok",
          note=f"tests {nat_tests:.1f} s, overhead {t_nat - nat_tests:.1f} s; "
               "wall time up to the first regional task of the call below")
    slow = sorted(((v, name) for (name, lvl), v in times.items() if lvl == "national"),
                  reverse=True)[:3]
    if slow:
        t.add("battery", f"national without {slow[0][1]}", n=n,
              seconds=t_nat - slow[0][0],
              note="derived: national time minus that test's time in the same call")
    one = (f"one process {t_nat:.1f} s, slowest: "
           + ", ".join(f"{name} {s:.1f} s" for s, name in slow)
           + (f"; without {slow[0][1]}: {t_nat - slow[0][0]:.1f} s" if slow else ""))
    # the default: the national tests spread over the usable cores
    from audit.stations.battery import battery_processes, plan_battery

    n_proc = battery_processes(plan_battery(table, leader=args.leader, rng=0))
    if n_proc > 1:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            with Measure() as mp:
                par, _ = run_battery(table, leader=args.leader, rng=0)
        cols = ["test", "statistic", "pvalue", "status"]     # adjusted p differ: by=region
        same = par[cols].equals(nat_ev[cols].reset_index(drop=True)) if not options else None
        t.add("battery", f"national, default battery on {n_proc} processes" + quick, n=n,
              m=mp, value=f"{int((par['status'] == 'ok').sum())}/{len(par)} rows ok",
              note="costliest tests first (registry cost); "
                   + ("the same table as the one-process run" if same else
                      "--quick options apply to the one-process run only" if options
                      else "DIFFERS from the one-process run"))
        t.target("national battery <= 10 s after loading (the default run)" + quick,
                 mp.seconds <= 10, f"{mp.seconds:.1f} s; on {n_proc} processes; " + one)
    else:
        t.target("national battery <= 10 s after loading (the default run)" + quick,
                 t_nat <= 10, f"{t_nat:.1f} s; " + one)
    if by is None:
        t.add("battery", "national + every region", value="skipped (--no-regions)")
        return m
    reg_ev = ev[ev["level"] == "region"]
    n_regions = int(reg_ev["scope"].nunique())
    reg_tests = sum(v for (name, lvl), v in times.items() if lvl == "region")
    t.add("battery", f"regional part: {n_regions} regions", n=n,
          seconds=t_end - t_nat - t0,
          value=f"{int((reg_ev['status'] == 'ok').sum())}/{len(reg_ev)} rows ok",
          note=f"tests {reg_tests:.1f} s, overhead {t_end - t_nat - t0 - reg_tests:.1f} s")
    t.add("battery", f"national + {n_regions} regions (by='region')" + quick, n=n, m=m,
          value=f"{int((ev['status'] == 'ok').sum())}/{len(ev)} rows ok",
          note="one run_battery call")
    top = sorted(((v, name) for (name, lvl), v in times.items() if lvl == "region"),
                 reverse=True)[:3]
    t.add("battery", "slowest tests over the regions", seconds=top[0][0] if top else None,
          value=", ".join(f"{k} {s:.1f} s" for s, k in top))
    return m


# ---------------------------------------------------------------- integer %
def _role_arrays(table, leader):
    d = table.data
    lead = table.leader_column(leader)
    return [d[c].to_numpy(dtype=float, na_value=np.nan)
            for c in ("registered", "ballots_issued", "ballots_cast", lead)]


def bench_integer(t: Table, table, args):
    from audit.stations.forensics.integer_percentages import integer_percentages

    cols = _role_arrays(table, args.leader)
    with Measure() as m_exact:
        res = integer_percentages(*cols)
    det = res.details
    t.add("integer", "exact null (method='exact')", n=det["n_stations"], m=m_exact,
          value=f"expected {det['expected']:.1f} (sd {det['sd']:.1f})",
          note=f"observed {det['observed']}, excess {det['excess']:.0f} "
               f"(published about 3,675), log10 p = {det['log10_pvalue']:.1f}")
    sample = reference.kobak_sample(*cols)
    R = args.resamples
    with Measure() as m_mc:
        sims = reference.integer_counts_monte_carlo(*sample, n_resamples=R, rng=12345)
    mean, sd = float(sims.mean()), float(sims.std(ddof=1))
    se = sd / math.sqrt(R)
    same_n = len(sample[0]) == det["n_stations"]
    t.add("integer", f"Monte Carlo reference, {R} resamples", n=len(sample[0]), m=m_mc,
          value=f"mean {mean:.1f} +- {se:.1f} (MC s.e.)",
          note=f"simulation sd {sd:.1f}; vectorised numpy, benchmarks/reference.py"
               + ("" if same_n else "; station filter differs from the test's!"))
    ratio = m_mc.seconds / m_exact.seconds
    cpu_ratio = m_mc.cpu / m_exact.cpu if m_exact.cpu > 0 else float("nan")
    z = (det["expected"] - mean) / se if se > 0 else float("nan")
    se_sd = sd / math.sqrt(2 * (R - 1))      # large-sample s.e. of a normal sd
    t.add("integer", "speed-up exact vs Monte Carlo", value=f"{ratio:.1f}x",
          note=f"wall-clock; CPU-time ratio {cpu_ratio:.1f}x. Agreement: exact - MC "
               f"mean = {det['expected'] - mean:+.1f} = {z:+.2f} MC s.e.; sd exact "
               f"{det['sd']:.1f} vs MC {sd:.1f} +- {se_sd:.1f}")
    t.target("exact integer test >= 50x faster than 1,000-resample Monte Carlo",
             ratio >= 50 if R >= 1000 else None,
             f"{ratio:.1f}x ({m_exact.seconds:.2f} s vs {m_mc.seconds:.1f} s"
             + (f", only {R} resamples" if R < 1000 else "") + ")")
    t.target("exact and Monte Carlo expected counts agree (|z| < 3)", abs(z) < 3,
             f"z = {z:+.2f}")


# ---------------------------------------------------------------- digits
def _benford_py(c, digs):
    import benford

    base = benford.benford.Base(pd.Series(c, dtype="int64"), decimals=0)
    test = benford.benford.Test(base, digs=digs, confidence=None)
    counts = test["Counts"].to_numpy(dtype=float)
    return counts, float(test.chi_square), np.asarray(test["Expected"], dtype=float)


def _benfordslaw(c, pos):
    import logging

    from benfordslaw import benfordslaw

    logging.getLogger("benfordslaw").setLevel(logging.WARNING)
    bl = benfordslaw(method="chi2", pos=pos, verbose=0)
    res = bl.fit(np.asarray(c, dtype=np.int64))
    share = np.asarray(res["percentage_emp"], dtype=float)[:, 1] / 100
    counts = share * res["N"]
    return counts, float(res["t"]), np.asarray(bl.leading_digits, dtype=float) / 100


def bench_digits(t: Table, table, args):
    from audit.stations.forensics.digits import first_digit, second_digit

    votes = table.data[list(table.options)].to_numpy(dtype=float, na_value=np.nan)
    flat = votes.ravel()
    flat = flat[np.isfinite(flat)].astype(np.int64)
    for label, func, keep, digs, pos in (
            ("first digit", first_digit, flat[flat >= 1], 1, 1),
            ("second digit", second_digit, flat[flat >= 10], 22, 2)):
        with Measure(reset=False) as m:
            ours = func(votes, rng=0)
        obs = ours.table["observed"].to_numpy(dtype=float)
        t.add("digits", f"{label}: vote-audit", n=ours.n, m=m,
              value=f"chi2 {ours.statistic:.4f}",
              note=f"all option counts pooled ({', '.join(table.options)}); "
                   f"p = {_g(ours.pvalue, 3)}")
        for pkg, runner, arg in (("benford_py", _benford_py, digs),
                                 ("benfordslaw", _benfordslaw, pos)):
            try:
                with Measure(reset=False) as m, warnings.catch_warnings():
                    warnings.simplefilter("ignore")
                    counts, chi2, probs = runner(keep, arg)
            except ImportError:
                t.add("digits", f"{label}: {pkg}", value="not installed",
                      note=f"pip install {pkg} to compare")
                continue
            except Exception as exc:  # noqa: BLE001  (a third-party failure must not stop the run)
                t.add("digits", f"{label}: {pkg}", value="error",
                      note=f"{type(exc).__name__}: {exc}"[:120])
                continue
            same = counts.size == obs.size and np.allclose(counts, obs, rtol=0, atol=1e-6)
            ours_probs = ours.table["expected_share"].to_numpy(dtype=float)
            note = (f"digit counts {'identical' if same else 'DIFFER'}; "
                    f"chi2 difference {chi2 - ours.statistic:+.3g}")
            if probs.size == ours_probs.size and not np.allclose(probs, ours_probs,
                                                                 rtol=1e-9, atol=0):
                # same counts, other law: recompute ours with their probabilities
                n = obs.sum()
                mine = float(np.sum((obs - n * probs) ** 2 / (n * probs)))
                note += (f"; {pkg} tabulates the law to 0.1 point (max |diff| "
                         f"{np.abs(probs - ours_probs).max():.1e}): with its table "
                         f"our chi2 is {mine:.4f}, difference {chi2 - mine:+.2g}")
            t.add("digits", f"{label}: {pkg}", n=round(float(counts.sum())), m=m,
                  value=f"chi2 {chi2:.4f}", note=note)


# ---------------------------------------------------------------- scaling
def _write_synthetic(path, n, chunk):
    """Clean synthetic election of ``n`` stations written to Parquet in
    chunks of ``chunk`` stations (bounded memory).  Station numbers run on
    across chunks, so (region, district, station) stays unique."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    from audit.stations.simulate import clean_election

    seeds = np.random.SeedSequence(20261125).spawn(max(1, math.ceil(n / chunk)))
    writer = None
    done = 0
    try:
        for seed in seeds:
            size = min(chunk, n - done)
            part = clean_election(size, rng=np.random.default_rng(seed)).data
            part["station"] = np.arange(done + 1, done + size + 1)
            tbl = pa.Table.from_pandas(part, preserve_index=False)
            if writer is None:
                writer = pq.ParquetWriter(path, tbl.schema)
            writer.write_table(tbl)
            done += size
    finally:
        if writer is not None:
            writer.close()


def bench_scaling(t: Table, args):
    import audit.stations.forensics  # noqa: F401  (fills the registry)
    from audit.stations.calibration.simulated import call_test
    from audit.tables.readers import read

    sizes = [s for s in args.sizes if s <= args.max_stations]
    budget = args.memory_budget * GIB if args.memory_budget else None
    points = []            # (n, seconds of read + test, peak)
    per_station_peak = {}  # step -> MiB per station at the last size
    by_step = {}           # step -> [(n, seconds)]
    with tempfile.TemporaryDirectory(prefix="vote-audit-bench-") as tmp:
        for n in sizes:
            path = Path(tmp) / f"clean-{n}.parquet"
            with Measure() as m:
                _write_synthetic(path, n, args.chunk)
            t.add("scaling", f"generate {n:,} stations (setup)", n=n, m=m,
                  note=f"clean_election in chunks of {min(n, args.chunk):,}, written "
                       f"to Parquet ({path.stat().st_size / MIB:.0f} MiB); not timed "
                       "as work")
            table = None
            total = 0.0
            peak = 0.0
            skipped = False
            for label in ("read + validate (Parquet, canonical reader)",
                          "integer_percentages exact"):
                avail = _available_bytes()
                limit = min(budget or avail * 0.8, avail * 0.9)
                if label in per_station_peak:
                    predicted = per_station_peak[label] * n * MIB
                    if predicted > limit:
                        t.add("scaling", label, n=n, value="skipped",
                              note=f"predicted growth {predicted / GIB:.1f} GiB (linear "
                                   f"from {per_station_peak[label] * 1e6:,.0f} MiB per "
                                   f"million at the previous size) > "
                                   f"{limit / GIB:.1f} GiB memory budget")
                        skipped = True
                        break
                with Measure() as m:
                    if label.startswith("read"):
                        table = read(path, "canonical")
                    else:
                        call_test("integer_percentages", table, leader="leader", rng=0)
                per_station_peak[label] = max(m.growth_mib, 0.0) / n
                by_step.setdefault(label, []).append((n, m.seconds))
                total += m.seconds
                peak = max(peak, m.peak_mib)
                t.add("scaling", label, n=n, m=m,
                      value=f"{m.seconds / n * 1e6:.2f} s per million",
                      note=f"memory growth {m.growth_mib:,.0f} MiB = "
                           f"{m.growth_mib / n * 1e6:,.0f} MiB per million stations")
            del table
            if not skipped:
                points.append((n, total, peak))
    if len(points) >= 2:
        big = [p for p in points if p[0] >= 100_000] or points
        lo, hi = (big[0], big[-1]) if len(big) >= 2 else (points[0], points[-1])
        slope = math.log(hi[1] / lo[1]) / math.log(hi[0] / lo[0])
        per_m = ", ".join(f"{n / 1e6:g}M: {s / n * 1e6:.1f} s/M" for n, s, _ in points)
        t.add("scaling", "growth exponent of read + test time",
              value=f"{slope:.2f}",
              note=f"log-log slope from {lo[0]:,} to {hi[0]:,} stations (1 = linear); "
                   + per_m)
        t.target("scaling linear (exponent <= 1.15)",
                 slope <= 1.15 if lo[0] >= 100_000 and hi[0] >= 10 * lo[0] else None,
                 f"exponent {slope:.2f} from {lo[0]:,} to {hi[0]:,} stations"
                 + ("" if lo[0] >= 100_000 and hi[0] >= 10 * lo[0] else
                    "; sizes too small or too close to judge"))
    for label, pts in by_step.items():
        big = [p for p in pts if p[0] >= 100_000]
        if len(big) >= 2:
            (n0, s0), (n1, s1) = big[0], big[-1]
            t.add("scaling", f"growth exponent of {label.split(' (')[0]} alone",
                  value=f"{math.log(s1 / s0) / math.log(n1 / n0):.2f}",
                  note=f"log-log slope from {n0:,} to {n1:,} stations; "
                       + ", ".join(f"{n / 1e6:g}M: {s / n * 1e6:.2f} s/M" for n, s in pts))
    largest = sizes[-1] if sizes else 0
    if points and points[-1][0] < largest:
        t.target(f"{largest:,} stations fit in memory and time", False,
                 f"largest completed: {points[-1][0]:,} stations")
    elif points:
        t.target(f"{largest:,} stations fit in memory and time", True,
                 f"{points[-1][1]:.1f} s, peak {points[-1][2] / 1024:.1f} GiB")


# ---------------------------------------------------------------- calibration
def bench_calibration(t: Table, args):
    """Throughput of the calibration harness on the whole battery."""
    from audit.core.threads import usable_cores
    from audit.stations.calibration.simulated import MAX_SIMS, TEST_OPTIONS, calibrate

    cores = usable_cores()
    n_sim, n_st = args.cal_sims, args.cal_stations
    with Measure() as m, warnings.catch_warnings():
        warnings.simplefilter("ignore")
        rep = calibrate(None, scenarios=["clean"], n_sim=n_sim, n_stations=n_st,
                        root_seed=1, jobs=cores, max_sims={})
    rows = rep.rows
    per_test = rows.groupby("test")["seconds"].mean().sort_values(ascending=False)
    per_election = float(per_test.sum())            # CPU seconds, one election
    t.add("calibration", f"whole battery, {n_sim} clean elections x {n_st:,} "
          f"stations, {cores} processes", n=n_sim, m=m,
          value=f"{len(per_test)} tests and variants, {len(rows)} runs",
          note=f"{per_election:.2f} s of test time per election; reduced options "
               f"for {', '.join(TEST_OPTIONS)}; the published table also caps "
               f"{', '.join(f'{k} at {v}' for k, v in MAX_SIMS.items())} sims")
    for name, secs in per_test.head(4).items():
        t.add("calibration", f"per election: {name}", seconds=float(secs),
              value=f"{secs / per_election:.0%} of the battery")
    target = 1000
    projected = m.seconds / n_sim * target
    t.add("calibration", f"projected: {target:,} elections of {n_st:,} stations",
          seconds=projected, value=f"{projected / 60:.1f} min per scenario",
          note=f"measured wall time per election ({m.seconds / n_sim:.2f} s on "
               f"{cores} processes) x {target:,}")
    rest = per_test.drop(per_test.index[0])
    t.add("calibration", f"projected without {per_test.index[0]}",
          seconds=float(rest.sum()) * target / cores,
          value=f"{float(rest.sum()) * target / cores / 60:.1f} min per scenario",
          note="test time without the slowest test, spread evenly over the cores")
    slow = per_test.head(3)
    limits = "; ".join(f"{k} {v:.2f} s ({_COST.get(k, 'its own work')})"
                       for k, v in slow.items())
    t.target(f"calibration of the whole battery, {target:,} x {n_st:,} stations per "
             "scenario <= 5 min", projected <= 300 if n_st >= 10_000 else None,
             f"projected {projected / 60:.1f} min from {n_sim} elections, "
             f"{per_election:.2f} s of test time per election on {cores} cores; "
             f"limited by the slowest tests per election: {limits}")


#: What each slow test spends its time on (for the calibration target line).
_COST = {
    "spikes": "beta-binomial mixture fitted by maximum likelihood for 1 to 3 "
              "components, then 200 binomial resamples of every station",
    "fingerprint": "1 + n_null Klimek model fits, each simulating the election "
                   "n_sim times per correction round",
    "turnout_leader_correlation": "up to 999 permutations of the shares; without "
                                  "regions a clean election rejects, so all run",
    "turnout_leader_correlation[groups=region]": "permutations within regions, "
                                                 "about 100 on a clean election",
    "spikes[method=exact]": "exact beta-binomial chance of every focal share at "
                            "every station",
    "integer_percentages": "exact chance of an integer percentage at every station",
    "second_digit_mean": "exact mean second digit for every count",
}


# ---------------------------------------------------------------- main
def parse_args(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--quick", action="store_true",
                    help="small sizes and few resamples (for the smoke test)")
    ap.add_argument("--out", metavar="FILE", help="also write the table as CSV")
    ap.add_argument("--max-stations", type=int, default=10_000_000,
                    help="largest synthetic election of the scaling curve "
                         "(default 10,000,000)")
    ap.add_argument("--resamples", type=int, default=None,
                    help="Monte Carlo resamples of the reference procedure "
                         "(default 1000; 20 with --quick)")
    ap.add_argument("--dataset", default=DATASET, help=f"default {DATASET}")
    ap.add_argument("--leader", default=LEADER, help=f"default {LEADER}")
    ap.add_argument("--sections", default=",".join(SECTIONS),
                    help="comma-separated subset of: " + ", ".join(SECTIONS)
                         + " (default all; load is needed by battery, integer, digits)")
    ap.add_argument("--no-regions", action="store_true",
                    help="skip the battery by region (the slowest part)")
    ap.add_argument("--memory-budget", type=float, default=None, metavar="GIB",
                    help="skip a scaling step whose predicted peak exceeds this "
                         "(default 80%% of the memory available)")
    ap.add_argument("--cal-sims", type=int, default=None,
                    help="clean elections in the calibration section (default 20; "
                         "2 with --quick)")
    ap.add_argument("--cal-stations", type=int, default=None,
                    help="stations per calibration election (default 10,000; "
                         "2,000 with --quick)")
    ap.add_argument("--chunk", type=int, default=1_000_000,
                    help="stations generated per chunk in the scaling curve")
    args = ap.parse_args(argv)
    args.sections = {x.strip() for x in args.sections.split(",") if x.strip()}
    unknown = args.sections - set(SECTIONS)
    if unknown:
        ap.error(f"--sections: unknown {', '.join(sorted(unknown))}; "
                 f"choose from {', '.join(SECTIONS)}")
    args.cal_sims = args.cal_sims or (2 if args.quick else 20)
    args.cal_stations = args.cal_stations or (2_000 if args.quick else 10_000)
    if args.quick:
        args.sizes = [10_000, 30_000]
        args.max_stations = min(args.max_stations, 30_000)
        args.resamples = args.resamples or 20
    else:
        args.sizes = [10_000, 100_000, 1_000_000, 10_000_000]
        args.resamples = args.resamples or 1000
    if args.resamples < 2:
        ap.error("--resamples must be at least 2")
    return args


def quick_subset(table):
    """The smallest regions adding up to about 1,500 stations (--quick)."""
    sizes = table.data.groupby("region").size().sort_values(kind="stable")
    keep = sizes.index[(sizes.cumsum() <= 1500).to_numpy()].tolist() or [sizes.index[0]]
    return table.select("region", keep)


def main(argv=None) -> int:
    args = parse_args(argv)
    print(header(args), flush=True)
    t = Table()
    t_start = time.perf_counter()

    def section(func, *a):
        """Run one section; a failure becomes a row, not a crash."""
        try:
            return func(*a)
        except Exception as exc:  # noqa: BLE001  (report and go on)
            import traceback

            traceback.print_exc()
            t.add(func.__name__.replace("bench_", ""), "section failed", value="error",
                  note=f"{type(exc).__name__}: {exc}"[:200])
            return None

    table = full = None
    want = args.sections
    with Measure() as m_total:
        if want & {"load", "battery", "integer", "digits", "mixture"}:
            table = section(bench_load, t, args)
        if table is not None:
            full = table
            if args.quick:
                table = quick_subset(table)
                t.add("load", "--quick: smallest regions only", n=len(table.data),
                      value=f"{table.data['region'].nunique()} regions",
                      note="tests and batteries below run on this subset, with "
                           "reduced fingerprint and spikes options")
            if "battery" in want:
                section(bench_tests_and_battery, t, table, args)
    if table is not None:
        if "battery" in want:
            t.add("memory", "peak RSS: load + battery"
                  + ("" if args.no_regions else " (national and regional)"),
                  m=m_total, value=f"{m_total.peak_mib / 1024:.2f} GiB",
                  note=f"ru_maxrss so far {_maxrss_mib():,.0f} MiB")
            t.target("peak memory of 2020 load + battery < 1 GiB",
                     m_total.peak_mib < 1024, f"{m_total.peak_mib:,.0f} MiB")
        if "integer" in want:
            section(bench_integer, t, full if not args.quick else table, args)
        if "digits" in want:
            section(bench_digits, t, full, args)
        if "mixture" in want:
            from mixture_bench import bench_mixture
            section(bench_mixture, t, full if not args.quick else table, args, Measure)
        del full, table
    if "process" in want:
        from process_bench import bench_process
        section(bench_process, t, args)
    if "scaling" in want:
        section(bench_scaling, t, args)
    if "calibration" in want:
        section(bench_calibration, t, args)

    print()
    print(t.render())
    print()
    print(f"total benchmark time {time.perf_counter() - t_start:.1f} s")
    for name, met, figure in t.verdicts:
        word = {True: "met", False: "NOT met", None: "not measured"}[met]
        print(f"target: {name}: {word} ({figure})")
    if args.out:
        t.write_csv(args.out)
        print(f"table written to {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
