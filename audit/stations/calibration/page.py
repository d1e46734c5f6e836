"""``docs/calibration.md`` and the rows behind it, updated one test at a time.

The calibration has two parts: the simulated elections of
:mod:`audit.stations.calibration.simulated` (a summary row per test and scenario) and the
real-data corpus of :mod:`audit.corpus` (a raw row per test run).  Both are
kept as CSV beside the page (``docs/calibration/simulated.csv`` and
``docs/calibration/corpus.csv``) with the settings they were run with
(``settings.json``), and the page is written from them.  Running some tests
replaces only those tests' rows, so the committed table is never thrown
away unless ``overwrite=True``.
"""

from __future__ import annotations

import json
import platform
from pathlib import Path

import numpy as np
import pandas as pd

from .. import catalogue
from .real import ALPHA, TWIN_SCENARIOS, summarize_corpus

__all__ = ["Store", "merge", "corpus_markdown", "write_page"]


class Store:
    """The rows and settings behind ``docs/calibration.md``."""

    def __init__(self, page):
        self.page = Path(page)
        self.folder = self.page.with_suffix("")
        self.simulated_path = self.folder / "simulated.csv"
        self.corpus_path = self.folder / "corpus.csv"
        self.settings_path = self.folder / "settings.json"

    def exists(self) -> bool:
        return self.simulated_path.exists() or self.corpus_path.exists()

    def load(self):
        sim = (pd.read_csv(self.simulated_path, keep_default_na=False,
                           na_values={c: [""] for c in ("rate", "ci_low", "ci_high")})
               if self.simulated_path.exists() else None)
        corp = (pd.read_csv(self.corpus_path, keep_default_na=False,
                            na_values={c: [""] for c in ("statistic", "pvalue", "excess",
                                                         "sd", "null_share")})
                if self.corpus_path.exists() else None)
        settings = (json.loads(self.settings_path.read_text(encoding="utf-8"))
                    if self.settings_path.exists() else {})
        return sim, corp, settings

    def save(self, sim, corp, settings) -> None:
        self.folder.mkdir(parents=True, exist_ok=True)
        if sim is not None:
            sim.to_csv(self.simulated_path, index=False, float_format="%.6g")
        if corp is not None:
            corp.drop(columns=["seconds"], errors="ignore").to_csv(
                self.corpus_path, index=False, float_format="%.10g")
        self.settings_path.write_text(json.dumps(settings, indent=1, sort_keys=True,
                                                 default=str) + "\n", encoding="utf-8")


def merge(old: pd.DataFrame | None, new: pd.DataFrame, key: str = "test") -> pd.DataFrame:
    """``old`` with the rows of every ``key`` value in ``new`` replaced."""
    if old is None or not len(old):
        return new.reset_index(drop=True)
    keep = old[~old[key].isin(set(new[key]))]
    out = pd.concat([keep, new], ignore_index=True)
    return out.sort_values([c for c in (key, "scenario", "source", "sim") if c in out],
                           kind="stable").reset_index(drop=True)


def _short(name: str) -> str:
    return name.rsplit("/", 1)[-1].split(".")[0].replace("_", " ")


def _fmt_p(p) -> str:
    if not np.isfinite(p):
        return "n/a"
    return f"{p:.2g}" if p >= 1e-3 else f"{p:.1e}"


def _class(evidence) -> str:
    return "evidence" if bool(evidence) else "descriptive"


def corpus_markdown(rows: pd.DataFrame, settings: dict) -> list[str]:
    """Lines of the real-data part of the page."""
    s = summarize_corpus(rows, ALPHA)
    lines = ["## Real data: clean elections and clean twins", ""]
    lines += [
        "A test is **evidence** when it holds its size here: no rejection at Holm "
        f"{ALPHA} on any honestly counted election, and a false-alarm rate at "
        f"alpha = {ALPHA} within [0.02, 0.08] on clean twins of the Russian station "
        "files. Every other test is **descriptive**: shown apart, never counted as "
        "evidence. The class is declared once, at `@register`, and the rules "
        "below are checked against these rows by the test suite.",
        "",
        f"Runs as the battery makes them: national scope, `groups` = the finest "
        f"hierarchy level (district). Root seed {settings.get('root_seed', '?')}; "
        f"{settings.get('n_twins', '?')} clean twins and {settings.get('n_power', '?')} "
        "rigged twins per file and scenario. Twins (`audit.stations.twin`): every station's "
        "real size and place kept, turnout and support drawn independently within "
        "each district around robust district centres, small parties kept.",
        ""]
    real = s["real"]
    if len(real):
        elections = sorted(real.source.unique())
        lines += ["### Honestly counted elections (national battery)", "",
                  "p-value (Holm-adjusted over the evidence rows in brackets).", ""]
        header = ["test", "class", *[_short(e) for e in elections]]
        lines += ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
        for test, g in real.groupby("test", sort=True):
            g = g.set_index("source")
            cells = [f"`{test}`", _class(g.evidence.iloc[0])]
            for e in elections:
                if e not in g.index:
                    cells.append("")
                    continue
                r = g.loc[e]
                if r.status != "ok":
                    cells.append("refused")
                    continue
                c = _fmt_p(r.pvalue)
                if np.isfinite(r.p_holm):
                    c += f" ({_fmt_p(r.p_holm)})"
                    if r.p_holm <= ALPHA:
                        c = f"**{c}**"
                cells.append(c)
            lines.append("| " + " | ".join(cells) + " |")
        h = s["holm"]
        h = h[h.kind == "real"]
        lines += [""]
        for rec in h.itertuples():
            lines.append(f"- {_short(rec.source)}: "
                         + (f"evidence tests rejecting at Holm {ALPHA}: {rec.rejecting}"
                            if rec.any_reject else
                            f"no evidence test rejects at Holm {ALPHA} "
                            f"({rec.n_evidence} evidence tests ran)"))
        lines.append("")
    r = s["rates"]
    if len(r):
        sources = sorted(x for x in r.source.unique() if x != "all")
        for scen in [x for x in TWIN_SCENARIOS if x in set(r.scenario)]:
            part = r[r.scenario == scen]
            title = ("False-alarm rate on clean twins" if scen == "clean" else
                     f"Power on twins: {TWIN_SCENARIOS[scen][2]}")
            lines += [f"### {title}", "",
                      f"Share of runs with p <= {ALPHA} [95% Clopper-Pearson interval].",
                      ""]
            header = ["test", "class", *[_short(x) for x in sources], "all files"]
            lines += ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
            for test, g in part.groupby("test", sort=True):
                g = g.set_index("source")
                cells = [f"`{test}`", _class(g.evidence.iloc[0])]
                for src in [*sources, "all"]:
                    if src not in g.index or not g.loc[src, "n"]:
                        cells.append("refused" if src in g.index else "")
                        continue
                    x = g.loc[src]
                    c = f"{x.rate:.3f}"
                    if scen == "clean" or src == "all":
                        c += f" [{x.ci_low:.3f}, {x.ci_high:.3f}]"
                    cells.append(c + (f" (n={int(x.n)})" if src == "all" else ""))
                lines.append("| " + " | ".join(cells) + " |")
            h = s["holm"]
            h = h[(h.kind == "twin") & (h.scenario == scen)]
            if len(h):
                from .real import _cp
                lines.append("")
                label = ("false alarm of the battery" if scen == "clean" else "power of the battery")
                for src, g in [*h.groupby("source", sort=True), ("all files", h)]:
                    k, m = int(g.any_reject.sum()), len(g)
                    lo, hi = _cp(k, m)
                    lines.append(f"- {label}, {_short(src)}: any evidence test rejects "
                                 f"at Holm {ALPHA} in {k} of {m} twins ({k / m:.3f} "
                                 f"[{lo:.3f}, {hi:.3f}])")
                if scen != "clean":
                    per = (rows[(rows.kind == "twin") & (rows.scenario == scen)
                                & rows.battery.astype(bool) & rows.evidence.astype(bool)
                                & (rows.status == "ok")]
                           .assign(hit=lambda d: d.pvalue <= ALPHA)
                           .groupby(["source", "sim"]).hit.sum())
                    if len(per):
                        lines.append(f"- runs in which at least two evidence tests reject "
                                     f"at {ALPHA}: {int((per >= 2).sum())} of {len(per)} "
                                     f"({(per >= 2).mean():.3f})")
            lines.append("")
    ip = s["integer"]
    if len(ip):
        within = (ip.z.abs() <= 3)
        lines += ["### Integer percentages on the rounded twins", "",
                  "Excess of stations at whole-number percentages against the injected "
                  "number times (1 - the null chance of a whole number), in units of the "
                  "test's own SD.", "",
                  f"- runs: {len(ip)}; rejecting at {ALPHA}: "
                  f"{int((ip.pvalue <= ALPHA).sum())}; excess within 3 SD of the injected "
                  f"expectation: {int(within.sum())} of {len(ip)}; mean z = "
                  f"{ip.z.mean():+.2f} (range {ip.z.min():+.2f} to {ip.z.max():+.2f}); mean "
                  f"injected {ip.injected.mean():.0f}, mean excess {ip.excess.mean():.0f}.",
                  ""]
    problems = s["problems"]
    lines += ["### Evidence tests that break the rules", ""]
    if len(problems):
        for rec in problems.itertuples():
            lines.append(f"- `{rec.test}` ({rec.where}): {rec.problem}")
    else:
        lines.append("None: every test declared as evidence holds the rules above.")
    lines.append("")
    return lines


def declared_lines() -> list[str]:
    lines = ["## Evidence classes declared at `@register`", "",
             "| test or variant | class | note |", "|---|---|---|"]
    for label, (_, _, cal) in catalogue.calibration_labels().items():
        lines.append(f"| `{label}` | {cal.label} | {cal.note() or ''} |")
    return lines + [""]


def _rerun_lines(part_settings: dict) -> list[str]:
    reruns = part_settings.get("reruns", [])
    if not reruns:
        return []
    return ["Rows rerun after the full run above (same settings and seeds): "
            + "; ".join(", ".join(f"`{t}`" for t in r) for r in reruns) + ".", ""]


def _tests_of(rows) -> list:
    frame = rows.summary if hasattr(rows, "summary") else rows
    return list(frame["test"])


def _partial(rows, stored_rows) -> bool:
    """True when ``rows`` cover only some of the tests already stored."""
    if stored_rows is None or not len(stored_rows):
        return False
    return bool(set(stored_rows["test"]) - set(_tests_of(rows)))


def write_page(page, simulated_report=None, corpus_rows=None, settings=None) -> str:
    """Write the page from the stored rows (after merging the new ones)."""
    from .simulated import CalibrationReport, to_markdown

    store = Store(page)
    sim, corp, stored = store.load()
    settings = dict(settings or {})
    for part, rows in (("simulated", simulated_report), ("corpus", corpus_rows)):
        # a rerun of some tests keeps the settings of the full run, and notes it
        partial = (rows is not None and part in stored and part in settings
                   and _partial(rows, sim if part == "simulated" else corp))
        if partial:
            reruns = list(stored[part].get("reruns", []))
            reruns.append(sorted(set(_tests_of(rows))))
            settings[part] = {**stored[part], "reruns": reruns}
    settings = {**stored, **settings}
    if simulated_report is not None:
        sim = merge(sim, simulated_report.summary)
    if corpus_rows is not None:
        corp = merge(corp, corpus_rows)
    store.save(sim, corp, settings)
    lines = []
    if sim is not None and len(sim):
        sim_settings = settings.get("simulated", {})
        text = to_markdown(CalibrationReport(pd.DataFrame(), sim, sim_settings),
                           command=sim_settings.get("command"))
        lines += text.rstrip("\n").split("\n") + [""]
        lines += _rerun_lines(sim_settings)
    else:
        lines += ["# Calibration of the station-level tests", ""]
    if corp is not None and len(corp):
        lines += corpus_markdown(corp, settings.get("corpus", {}))
        lines += _rerun_lines(settings.get("corpus", {}))
    lines += declared_lines()
    lines.append(f"Python {platform.python_version()}, numpy {np.__version__}, "
                 f"pandas {pd.__version__}.")
    text = "\n".join(lines) + "\n"
    store.page.parent.mkdir(parents=True, exist_ok=True)
    store.page.write_text(text, encoding="utf-8")
    return text
