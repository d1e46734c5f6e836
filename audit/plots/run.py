"""The figures of ``audit run``: the evidence overview and one figure per
national result, each in the house style (number, caption, source line,
human labels) and written as SVG, PDF and PNG.

Figures are :class:`matplotlib.figure.Figure` objects made without pyplot:
they need no backend, so the command line never changes the backend of the
process it runs in.
"""

from __future__ import annotations

import math

from .house import ascii_name, finish_boxes, option_name, source_line, human_test_name

_CAPTIONS = {
    "evidence": ("Holm-adjusted p-values of the tests run on the whole file, on a -log10 "
                 "scale: evidence tests in blue, descriptive tests (which do not hold "
                 "their false-alarm rate on honestly counted elections) in grey. A bar "
                 "past the dashed line is below the level after adjustment; a bar "
                 "ending at 300 stands for p below 1e-300 (a bound). An anomaly is a "
                 "pattern to explain, not proof of fraud."),
    "integer_percentages": ("Polling stations by turnout (top) and by the leader's share "
                            "({leader}, bottom) in bins of 0.1 points. Dots: stations at "
                            "whole percentages; open circles: the number expected there "
                            "if counts were binomial, with +-2 SD. Grey: stations the "
                            "test leaves out (a share above 99% or fewer than 100 "
                            "registered voters), drawn on top."),
    "digits": ("Share of each digit (or category) in the counts, bars, against the "
               "share expected under the test's null, black ticks."),
    "fingerprint": ("Stations by turnout and the leader's share ({leader}), counts on a "
                    "logarithmic colour scale (Klimek's fingerprint). A second cluster "
                    "near 100% turnout and 100% share is the pattern ballot stuffing "
                    "leaves, among other causes."),
    "spikes": ("Stations by the leader's share ({leader}), observed against the mean of "
               "resamples without round-number preference; dotted lines mark the round "
               "shares the test looks at."),
    "excess_votes": ("Votes for the leader ({leader}) and for the others by turnout; the "
                     "dashed line is the leader's votes if the leader's share stayed at "
                     "its level at the most common turnout (Shpilkin's method)."),
    "table": "The test's table as computed: observed counts against their expectation.",
}


def _caption(key: str, leader: str) -> str:
    return _CAPTIONS[key].format(leader=leader)


def _holm(row) -> float | None:
    value = row.get("p_holm") if hasattr(row, "get") else None
    try:
        value = float(value)
    except (TypeError, ValueError):
        return None
    return None if math.isnan(value) else value


def figure_plan(battery):
    """The figures ``audit run`` draws: ``(name, key, row, result)`` in order.

    ``key`` picks the drawing (``"evidence"``, a test name with a figure of
    its own, ``"digits"`` or ``"table"``); results without a table and
    per-station tables (such as the mixture model's) are left out.
    """
    from .battery import MAX_ROWS

    plan = [("evidence", "evidence", None, None)]
    for (_, row), result in zip(battery.evidence.iterrows(), battery.results):
        if row["scope"] != "national" or result is None:
            continue
        table = getattr(result, "table", None)
        if table is None or len(table) == 0 or len(table) > MAX_ROWS:
            continue
        if row["test"] in ("integer_percentages", "fingerprint", "spikes", "excess_votes"):
            key = row["test"]
        elif ({"observed", "expected"} <= set(table.columns)
              and ({"digit", "category"} & set(table.columns)) and len(table) <= 40):
            key = "digits"
        else:
            key = "table"
        plan.append((ascii_name(row["test"]), key, row, result))
    return plan


def draw(key, battery, row, result, *, alpha: float, leader: str):
    """One figure of the plan (a :class:`~matplotlib.figure.Figure`)."""
    from matplotlib.figure import Figure

    from .battery import plot_evidence, plot_result_table
    from .fingerprint import plot_excess_votes, plot_fingerprint, plot_spikes
    from .stations import plot_digits, plot_integer_percentages

    p = _holm(row) if row is not None else None
    if key == "integer_percentages":
        fig = Figure(figsize=(7.0, 6.0))
        top, bottom = fig.subplots(2, 1)
        plot_integer_percentages(result, "turnout", ax=top)
        plot_integer_percentages(result, "leader", ax=bottom, leader_name=leader)
        fig.subplots_adjust(hspace=0.55)
        top.set_title(f"{human_test_name(result.test)} ({_p(p)}, n = {result.n:,})\n"
                      + top.get_title(loc="left"), loc="left")
        return fig
    fig = Figure()
    ax = fig.subplots()
    if key == "evidence":
        plot_evidence(battery.evidence, alpha=alpha, ax=ax)
    elif key == "digits":
        plot_digits(result, p_adjusted=p, ax=ax)
    elif key == "fingerprint":
        plot_fingerprint(result, ax=ax)
        ax.set_title(f"Fingerprint ({_estimate(result)}, n = {result.n:,})")
    elif key == "spikes":
        plot_spikes(result, ax=ax)
        ax.set_title(f"Spikes at round shares ({_p(p)}, n = {result.n:,})")
    elif key == "excess_votes":
        plot_excess_votes(result, ax=ax)
        ax.set_title(f"Votes by turnout ({_p(p)}, n = {result.n:,})")
    else:
        plot_result_table(result, ax=ax, p_adjusted=p)
    return fig


def _estimate(result) -> str:
    """The fingerprint's fitted fraud share with its interval: an estimate
    (descriptive), never shown as a test."""
    d = result.details
    lo, hi = d.get("total_ci_low", float("nan")), d.get("total_ci_high", float("nan"))
    text = f"fraud share {result.statistic:.2f}"
    if lo == lo and hi == hi:
        text += f", {round(100 * d.get('confidence', 0.95))}% interval {lo:.2f} to {hi:.2f}"
    return text


def _p(p):
    from .house import format_p

    return format_p(p)


#: What the worker processes draw (inherited through fork, never pickled).
_JOB: dict = {}


def _render(index: int):
    """Draw figure ``index`` of the plan in :data:`_JOB`; return its bytes."""
    from .export import figure_bytes, style

    job = _JOB
    name, key, row, result = job["plan"][index]
    with style():
        fig = draw(key, job["battery"], row, result, alpha=job["alpha"],
                   leader=job["leader"])
        _, boxes = finish_boxes(fig, number=index + 1, caption=_caption(key, job["leader"]),
                           source=job["source"])
        return name, figure_bytes(fig, provenance=job["provenance"], axes_boxes=boxes)


def _runnable_elsewhere() -> float:
    """Processes that want a core now, besides this one: from the kernel's
    count of runnable tasks (``/proc/loadavg``) where there is one, else the
    one-minute load average.  The instant count matters after the battery,
    whose own processes have just raised the load average."""
    import os

    try:
        with open("/proc/loadavg", encoding="ascii") as fh:
            running = fh.read().split()[3].split("/")[0]
        return max(0.0, float(running) - 1)
    except (OSError, IndexError, ValueError):
        pass
    try:
        return os.getloadavg()[0]
    except OSError:
        return 0.0


def figure_processes(n_figures: int) -> int:
    """How many processes draw the figures: ``VOTE_AUDIT_FIGURE_PROCESSES``
    when set, else 2 when the process may use several cores, one of them
    is idle (:func:`_runnable_elsewhere`), the platform can fork and there
    are at least 2 figures; 1 otherwise. The files are the same either way."""
    import multiprocessing
    import os

    text = os.environ.get("VOTE_AUDIT_FIGURE_PROCESSES", "").strip()
    if text:
        try:
            wanted = max(1, int(text))
        except ValueError:
            wanted = 1
    else:
        from ..core.threads import usable_cores

        cores = usable_cores()
        idle = cores - _runnable_elsewhere()
        # a second process pays for itself only on a core nobody else uses
        wanted = min(2, cores) if n_figures >= 2 and idle >= 1 else 1
    if "fork" not in multiprocessing.get_all_start_methods():
        return 1
    return max(1, min(wanted, n_figures))


def _job(battery, plan, *, alpha: float, provenance, leader: str,
         data_title: str | None) -> dict:
    """What drawing the figures of ``plan`` needs, and nothing else: the
    battery enters only through its evidence table (the overview figure)."""
    return {"plan": plan, "battery": _Evidence(battery.evidence), "alpha": alpha,
            "leader": option_name(leader) if leader else "the leader",
            "source": source_line(provenance, title=data_title), "provenance": provenance}


class _Evidence:
    """The part of a battery result the figures read (picklable, small)."""

    def __init__(self, evidence):
        self.evidence = evidence


def write_figures(battery, folder, *, alpha: float, provenance=None,
                  leader: str = "", data_title: str | None = None,
                  worker: "FigureWorker | None" = None) -> list[str]:
    """Draw and save every figure of :func:`figure_plan` with its number,
    caption and source line; return the file stems written.

    The figures are drawn in up to two forked worker processes when the
    machine has the cores (:func:`figure_processes`), by ``worker`` (a
    :class:`FigureWorker` started before the tests ran) when one is given;
    each figure's bytes do not depend on where it was drawn, and the files
    are written here, in the plan's order.
    """
    plan = figure_plan(battery)
    job = _job(battery, plan, alpha=alpha, provenance=provenance, leader=leader,
               data_title=data_title)
    rendered = worker.render(job) if worker is not None else None
    if rendered is not None:
        return [_write(folder, name, blobs) for name, blobs in rendered]
    return [_write(folder, name, blobs) for name, blobs in _render_all(job)]


def _render_all(job: dict) -> list:
    """``(name, bytes by format)`` of every figure of ``job``, in order, drawn
    here or in forked processes (:func:`figure_processes`)."""
    import multiprocessing

    from .export import house_font

    _JOB.clear()
    _JOB.update(job)
    try:
        house_font()                    # built and registered once, before any fork
        n_proc = figure_processes(len(job["plan"]))
        if n_proc > 1:
            with multiprocessing.get_context("fork").Pool(n_proc) as pool:
                return list(pool.imap(_render, range(len(job["plan"]))))
        return [_render(i) for i in range(len(job["plan"]))]
    finally:
        _JOB.clear()


def _load_drawing_stack() -> None:
    """Import what drawing and saving a figure needs (matplotlib's figure and
    its SVG, PDF and PNG back ends, the project's plotting modules) and build
    the house font."""
    import matplotlib.backends.backend_agg  # noqa: F401
    import matplotlib.backends.backend_pdf  # noqa: F401
    import matplotlib.backends.backend_svg  # noqa: F401
    import matplotlib.figure  # noqa: F401

    from . import battery, fingerprint, stations  # noqa: F401
    from .export import house_font

    house_font()


def _serve(conn) -> None:
    """Body of the :class:`FigureWorker` process: load the drawing stack,
    wait for one job, send back each figure's ``(name, bytes by format)`` in
    order, then ``None``; on any failure send the text of the error instead."""
    try:
        _load_drawing_stack()
        job = conn.recv()
        if job is not None:
            for item in _render_all(job):
                conn.send(item)
            conn.send(None)
    except (EOFError, KeyboardInterrupt, BrokenPipeError):
        pass
    except Exception as exc:  # reported to the parent, which draws the figures itself
        try:
            conn.send(f"{type(exc).__name__}: {exc}")
        except Exception:
            pass
    finally:
        conn.close()


class FigureWorker:
    """A process, forked before the tests run, that imports matplotlib and
    builds the house font meanwhile, then draws the figures it is given.

    Loading the drawing stack takes a short ``audit run`` about as long as
    its test (0.5 to 0.9 s of CPU on the project's machine); done in a
    process of its own it overlaps reading the file and the battery, on a
    second core.  The worker draws with the same code as
    :func:`write_figures` does in process, so the bytes are the same; if it
    fails in any way, :meth:`render` returns None and the figures are drawn
    in process.  Use it as a context manager, or call :meth:`close`.
    """

    def __init__(self):
        import multiprocessing

        ctx = multiprocessing.get_context("fork")
        self._conn, child = ctx.Pipe()
        # not a daemon: it forks its own pool of drawing processes
        self._proc = ctx.Process(target=_serve, args=(child,), name="vote-audit-figures")
        self._proc.start()
        child.close()
        self._used = False

    @classmethod
    def start(cls) -> "FigureWorker | None":
        """A new worker, or None where processes cannot be forked."""
        import multiprocessing

        if "fork" not in multiprocessing.get_all_start_methods():
            return None
        try:
            return cls()
        except OSError:
            return None

    def render(self, job: dict) -> list | None:
        """``(name, bytes by format)`` of every figure of ``job`` in order,
        or None if the worker could not draw them (the caller draws them)."""
        if self._used:
            return None
        self._used = True
        out = []
        try:
            self._conn.send(job)
            while True:
                item = self._conn.recv()
                if item is None:
                    return out
                if isinstance(item, str):        # the worker's error
                    return None
                out.append(item)
        except Exception:                          # pickling, a dead worker, a broken pipe
            return None
        finally:
            self.close()

    def close(self) -> None:
        """Stop the worker (at once if it has not been given a job)."""
        if self._proc is None:
            return
        try:
            self._conn.close()
        finally:
            if self._used:
                self._proc.join(timeout=5)
            if self._proc.is_alive():
                self._proc.terminate()
                self._proc.join(timeout=5)
            self._proc = None

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()
        return False


def _write(folder, name: str, blobs: dict) -> str:
    from ..core.outputs import OutputFolder, safe_path, write_bytes

    for fmt, blob in blobs.items():
        filename = f"{name}.{fmt}"
        if isinstance(folder, OutputFolder):
            folder.write_bytes(filename, blob)
        else:
            write_bytes(safe_path(folder, filename), blob)
    return name
