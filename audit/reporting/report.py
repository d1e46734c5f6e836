"""Reports: execute the notebooks and export HTML, figures and tables.

Each report is a folder ``<out>/<name>/`` holding ``index.html`` (no code
cells), ``figures/`` (every figure as SVG, PDF and PNG), ``tables/`` (CSV),
``provenance.json`` (the notebook and data files read, with their sha256,
the parameters, the seed and the package versions) and ``manifest.json``
(every file written, with its sha256, plus the provenance).  Notebooks are
stored as py:percent text, run with papermill and converted with nbconvert;
they reach their output folder through :class:`Outputs`, which writes
through :mod:`audit.core.outputs` (spreadsheet-safe CSV, names that cannot leave
the folder, inputs never overwritten, provenance in every figure).  The same
inputs and parameters give the same bytes in every file.
"""

from __future__ import annotations

import ast
import contextlib
import html
import json
import os
import re
import tempfile
from dataclasses import dataclass
from pathlib import Path

import pandas as pd
import yaml

from ..core.errors import AuditError, InputError
from ..core import resources
from ..core.versions import report_versions
from ..referenda.bundle import CLAIMS, DATAPACKAGE
from ..core.outputs import sha256_of
from ..core.outputs import MANIFEST, OutputFolder
from ..core.outputs import provenance as _provenance

PROVENANCE = "provenance.json"

ROOT = resources.root()     # data/, seeds/, notebooks/: checkout or installed copy
NOTEBOOK_DIR = resources.path("notebooks")
TEMPLATES = Path(__file__).resolve().parent / "templates"


@dataclass(frozen=True)
class Notebook:
    name: str          # report folder name
    file: str          # notebook file in notebooks/
    needs_stations: bool = False
    bundled_data: bool = True   # reads data/ (recorded as inputs in provenance.json)
    own_file: bool = False      # runs on the user's file (audit report FILE), not bundled


NOTEBOOKS = (
    Notebook("referenda-2022", "01-referenda-2022.py"),
    Notebook("station-forensics", "02-station-forensics.py", needs_stations=True,
             bundled_data=False),
    Notebook("adding-a-test", "03-adding-a-test.py", bundled_data=False),
    Notebook("your-election", "04-your-election.py", bundled_data=False, own_file=True),
)
OWN = next(nb for nb in NOTEBOOKS if nb.own_file)


#: Set (to anything) to have every report figure checked for text that
#: overlaps other text or the data before it is saved (the tests set it).
CHECK_FIGURES = "AUDIT_CHECK_FIGURES"


class Outputs:
    """Where a notebook writes its figures and tables, and how it shows them.

    ``figure`` saves SVG/PDF/PNG (with the report's provenance in their
    metadata) and displays the SVG by relative link, so the HTML page loads
    the same file that is exported. ``table`` writes a spreadsheet-safe CSV
    (see :func:`audit.core.outputs.write_csv`) and displays the table.  Every file
    is listed with its sha256 in ``manifest.json``, rewritten after each one.

    Parameters
    ----------
    folder : path-like
        The report folder. The provenance is read from its
        ``provenance.json`` (written by :func:`run_notebook`); when there is
        none, the provenance of the bundled data is recorded there first.
    provenance : dict, optional
        Use this provenance (see :func:`report_provenance`) instead, and
        write it to ``provenance.json``.

    Examples
    --------
    >>> import tempfile
    >>> import pandas as pd
    >>> with tempfile.TemporaryDirectory() as tmp:
    ...     out = Outputs(tmp, provenance={"inputs": [], "seed": None})
    ...     out.save(pd.DataFrame({"region": ["=1+1"], "votes": [-5]}), "demo")
    ...     print((out.tables / "demo.csv").read_text(), end="")
    region,votes
    '=1+1,-5
    """

    def __init__(self, folder, *, provenance: dict | None = None):
        self.folder = Path(folder)
        self.figures = self.folder / "figures"
        self.tables = self.folder / "tables"
        prov_file = self.folder / PROVENANCE
        if provenance is None and prov_file.is_file():
            provenance = json.loads(prov_file.read_text(encoding="utf-8"))
            written = True
        else:
            written = False
            if provenance is None:
                provenance = report_provenance()
        self.provenance = provenance
        self._out = OutputFolder(self.folder, inputs=_input_paths(provenance))
        if written:
            self._out.written[PROVENANCE] = {"sha256": sha256_of(prov_file),
                                             "bytes": prov_file.stat().st_size}
        else:
            self._out.write_json(PROVENANCE, provenance)
        self._figures = self._out.subfolder("figures")
        self._tables = self._out.subfolder("tables")
        self.figures.mkdir(parents=True, exist_ok=True)
        self.tables.mkdir(parents=True, exist_ok=True)
        self._figure_count = 0

    def figure(self, fig, name: str, caption: str = "", *, data: str | None = None):
        """Save ``fig`` in the house style: numbered in the page's order, with
        its caption and a source line (data, sha256 prefix, package version)
        drawn under it, so the exported files stand on their own; the page
        shows the same SVG, with the caption as its alt text.

        ``data`` names the input the figure rests on (a registered dataset
        or a path of the provenance); by default the report's one data
        input, or its bundled data package."""
        import matplotlib.pyplot as plt
        from IPython.display import HTML

        from ..plots import save_figure, style
        from ..plots.house import finish, source_line

        self._figure_count += 1
        with style():               # the house style's tight box keeps the caption and legends
            finish(fig, number=self._figure_count, caption=caption,
                   source=source_line({**self.provenance,
                                       "inputs": self._figure_inputs(data)}))
            if os.environ.get(CHECK_FIGURES):
                from ..plots.overlap import find_overlaps

                found = find_overlaps(fig)
                if found:
                    raise ValueError(f"figure {name!r}: {'; '.join(found[:3])}")
            save_figure(fig, self._figures, name, provenance=self.provenance)
        plt.close(fig)
        self._out.write_manifest(self.provenance)
        alt = f"Figure {self._figure_count}. {caption or name}"
        return HTML(f'<figure class="audit-figure"><img src="figures/{html.escape(name)}.svg" '
                    f'alt="{html.escape(alt)}"></figure>')

    def _figure_inputs(self, data):
        """The provenance input a figure's source line names: ``data`` when
        given, else the one data input or the bundled data package (the
        notebook that drew it is never the source)."""
        inputs = [r for r in self.provenance.get("inputs", [])
                  if not str(r.get("path", "")).endswith(".py")]
        if data is not None:
            hit = [r for r in inputs if data in (r.get("dataset"), r.get("path"))]
            if not hit:
                raise ValueError(f"figure data {data!r} is not among the report's inputs")
            return hit[:1]
        if len(inputs) > 1:
            package = [r for r in inputs if str(r.get("path", "")).endswith("datapackage.json")]
            return package[:1] or inputs[:1]
        return inputs

    def save(self, df: pd.DataFrame, name: str, *, index=False) -> None:
        """Write ``df`` to ``tables/<name>.csv`` (returns nothing, so a notebook
        cell that ends with it shows nothing). Text cells a spreadsheet would
        run as a formula get a leading quote; numbers stay numbers."""
        from ..core.outputs import safe_path

        safe_path(self.tables, name)
        self._tables.write_csv(f"{name}.csv", df, index=index)
        self._out.write_manifest(self.provenance)

    def table(self, df: pd.DataFrame, name: str, *, show=None, index=False):
        """Write ``df`` as CSV and return it (or the ``show`` columns) as HTML."""
        from IPython.display import HTML

        self.save(df, name, index=index)
        shown = df if show is None else df[show]
        return HTML(shown.to_html(index=index, escape=True, na_rep="",
                                  float_format=_number, border=0))


def _input_paths(prov: dict) -> list[Path]:
    """Local files among the provenance inputs (paths relative to the project)."""
    paths = []
    for rec in prov.get("inputs", []):
        if rec.get("dataset") or not rec.get("path"):
            continue
        p = Path(rec["path"])
        paths.append(p if p.is_absolute() else ROOT / p)
    return paths


def _project_file(path: Path) -> dict:
    """Input record of a project file: path relative to the project root."""
    path = Path(path).resolve()
    try:
        rel = path.relative_to(ROOT).as_posix()
    except ValueError:
        rel = path.as_posix()
    return {"path": rel, "sha256": sha256_of(path), "bytes": path.stat().st_size}


def _bundled_inputs() -> list[dict]:
    """The data package, each of its tables (sha256 and bytes as it declares
    them; the notebooks verify them on load) and the claims file."""
    desc = json.loads(DATAPACKAGE.read_text(encoding="utf-8"))
    base = DATAPACKAGE.parent.relative_to(ROOT).as_posix()
    records = [_project_file(DATAPACKAGE)]
    for res in desc.get("resources", []):
        records.append({"path": f"{base}/{res['path']}",
                        "sha256": str(res.get("hash", "")).removeprefix("sha256:"),
                        "bytes": res.get("bytes")})
    if CLAIMS.is_file():
        records.append(_project_file(CLAIMS))
    return records


def _dataset_inputs(parameters: dict) -> list[dict]:
    """Registered station datasets named in any text parameter value."""
    from ..tables import datasets

    text = " ".join(str(v) for v in parameters.values() if isinstance(v, str))
    return [{"path": name, "dataset": name, "url": spec.url, "sha256": spec.sha256}
            for name, spec in sorted(datasets.REGISTRY.items()) if name in text]


def _file_inputs(parameters: dict) -> list[dict]:
    """The station file and mapping named by ``FILE`` / ``MAPPING``, when they
    are files (a registered dataset name is recorded by :func:`_dataset_inputs`)."""
    records = []
    for key in ("FILE", "MAPPING"):
        value = parameters.get(key)
        if isinstance(value, str) and value and Path(value).is_file():
            records.append(_project_file(Path(value)))
    return records


def _literal(text: str):
    try:
        return ast.literal_eval(text)
    except (ValueError, SyntaxError):
        return text


def report_provenance(source=None, parameters: dict | None = None) -> dict:
    """Provenance of a report: the notebook, the data it reads, its parameters.

    Parameters
    ----------
    source : path-like, optional
        The notebook (py:percent); its ``parameters`` cell gives the defaults.
    parameters : dict, optional
        Overrides, as passed to papermill.

    Returns
    -------
    dict
        See :func:`audit.core.outputs.provenance`; ``OUTPUT_DIR`` is left out (it
        names the output folder, not an input), ``seed`` is the ``SEED``
        parameter when the notebook has one. Paths are relative to the
        project, so the file does not depend on where the project sits.
    """
    params: dict = {}
    inputs: list = []
    bundled = True
    if source is not None:
        source = Path(source)
        params = {k: _literal(v) for k, v in notebook_parameters(source).items()}
        inputs.append(_project_file(source))
        nb = next((n for n in NOTEBOOKS if n.file == source.name), None)
        bundled = nb.bundled_data if nb is not None else True
    params.update(parameters or {})
    params.pop("OUTPUT_DIR", None)
    if bundled:
        inputs += _bundled_inputs()
    inputs += _dataset_inputs(params)
    inputs += _file_inputs(params)
    return _provenance(inputs, params, params.get("SEED"))


def _number(v: float) -> str:
    """Counts with thousands separators, shares with their decimals."""
    if abs(v) >= 1000 and float(v).is_integer():
        return f"{v:,.0f}"
    if abs(v) >= 1000:
        return f"{v:,.1f}"
    return f"{v:.4g}"


def versions() -> pd.DataFrame:
    """Versions of Python and the packages the reports rest on."""
    return pd.DataFrame(report_versions(), columns=["package", "version"])


def _coerce(value: str):
    """Notebook parameter from the command line: YAML scalar (numbers, true/false)."""
    try:
        return yaml.safe_load(value)
    except yaml.YAMLError:
        return value


@contextlib.contextmanager
def _headless_kernel():
    """Start notebook kernels with matplotlib's Agg backend: the report writes
    its figures to files and shows none (the kernel reads ``MPLBACKEND`` from
    the environment it inherits; this process's own backend is left alone)."""
    before = os.environ.get("MPLBACKEND")
    os.environ["MPLBACKEND"] = "Agg"
    try:
        yield
    finally:
        if before is None:
            os.environ.pop("MPLBACKEND", None)
        else:
            os.environ["MPLBACKEND"] = before


def run_notebook(source: Path, folder: Path, parameters: dict | None = None) -> Path:
    """Execute ``source`` (py:percent) with papermill; write ``folder/index.html``."""
    import jupytext
    import nbformat
    import papermill
    from nbconvert import HTMLExporter

    source = Path(source)
    if not source.exists():
        raise InputError("notebook not found", file=source)
    folder = Path(folder).resolve()
    prov = report_provenance(source, parameters)
    out = OutputFolder(folder, inputs=_input_paths(prov) + [source],
                       names=("index.html", PROVENANCE, MANIFEST))
    out.write_json(PROVENANCE, prov)
    out.write_manifest(prov)     # the notebook's Outputs adds its files to it
    params = {"OUTPUT_DIR": str(folder), **(parameters or {})}
    nb = jupytext.read(source)
    with tempfile.TemporaryDirectory() as tmp:
        src = Path(tmp) / "input.ipynb"
        dst = Path(tmp) / "output.ipynb"
        nbformat.write(nb, src)
        try:
            with _headless_kernel():
                papermill.execute_notebook(str(src), str(dst), parameters=params,
                                           kernel_name="python3", cwd=str(ROOT),
                                           progress_bar=False, log_output=False,
                                           extra_arguments=["--IPKernelApp.log_level=ERROR"])
        except papermill.PapermillExecutionError as exc:
            if exc.ename in ("InputError", "NotApplicable"):
                raise InputError(str(exc.evalue).splitlines()[0] if exc.evalue
                                 else exc.ename) from None
            raise AuditError(f"{source.name}: cell {exc.exec_count} failed: {exc.ename}: "
                             f"{exc.evalue}") from None
        executed = nbformat.read(dst, as_version=4)
    executed.metadata.pop("papermill", None)
    for i, cell in enumerate(executed.cells):
        cell.id = f"cell-{i}"          # stable ids: same inputs, same page bytes
        cell.metadata.pop("papermill", None)
        cell.metadata.pop("execution", None)
    title = next((c.source.splitlines()[0].lstrip("# ").strip() for c in executed.cells
                  if c.cell_type == "markdown" and c.source.startswith("# ")), source.stem)
    executed.metadata["title"] = title
    exporter = HTMLExporter(template_name="lab", exclude_input=True,
                            exclude_input_prompt=True, exclude_output_prompt=True,
                            extra_template_paths=[str(TEMPLATES)])
    exporter.template_file = "report.html.j2"
    body, _ = exporter.from_notebook_node(executed)
    manifest = json.loads((folder / MANIFEST).read_text(encoding="utf-8"))
    for rec in manifest.get("files", []):
        out.written.setdefault(rec["path"], {"sha256": rec["sha256"],
                                             "bytes": rec["bytes"]})
    page = out.write_text("index.html", body)
    out.write_manifest(prov)
    return page


def stations_available() -> bool:
    """Whether the public station datasets can be loaded without a download."""
    try:
        from ..tables import datasets
    except ImportError:
        return False
    return datasets.available()


def notebook_parameters(source: Path) -> dict[str, str]:
    """Names and default values (as text) of a notebook's ``parameters`` cell."""
    import jupytext

    nb = jupytext.read(source)
    for cell in nb.cells:
        if "parameters" in cell.metadata.get("tags", []):
            return dict(re.findall(r"^([A-Z][A-Z0-9_]*)\s*=\s*(.+?)\s*$", cell.source, re.M))
    return {}


def build_reports(out="reports", parameters=(), stations="auto") -> dict[str, Path]:
    """Execute every applicable notebook; return report name -> folder.

    ``parameters`` are (NAME, VALUE) pairs; each goes to the notebooks whose
    ``parameters`` cell defines NAME. A name no notebook defines is an error.
    """
    out = Path(out)
    params = {k: _coerce(v) for k, v in parameters}
    known = {}
    for nb in NOTEBOOKS:
        if nb.own_file:
            continue
        if (NOTEBOOK_DIR / nb.file).exists():
            known[nb.name] = notebook_parameters(NOTEBOOK_DIR / nb.file)
    unknown = sorted(set(params) - {k for names in known.values() for k in names})
    own = set(notebook_parameters(NOTEBOOK_DIR / OWN.file)) - {"OUTPUT_DIR"}
    if set(unknown) & own:
        raise InputError(f"{sorted(set(unknown) & own)[0]} is a parameter of the report on "
                         "your own file: run `audit report FILE --format F --out DIR`")
    if unknown:
        names = sorted({k for names in known.values() for k in names} - {"OUTPUT_DIR"})
        raise InputError(f"unknown notebook parameter {unknown[0]!r}; the notebooks take: "
                         + ", ".join(names))
    if "OUTPUT_DIR" in params:
        raise InputError("OUTPUT_DIR is set by --out, not by -p")
    written = {}
    for nb in NOTEBOOKS:
        if nb.own_file:
            continue
        if nb.needs_stations:
            if stations == "no":
                continue
            source = NOTEBOOK_DIR / nb.file
            if not source.exists():
                if stations == "yes":
                    raise AuditError(f"{nb.file} is not part of this version")
                continue
            if stations == "auto" and not stations_available():
                continue
        folder = out / nb.name
        mine = {k: v for k, v in params.items() if k in known.get(nb.name, {})}
        run_notebook(NOTEBOOK_DIR / nb.file, folder, mine)
        written[nb.name] = folder
    return written


def build_own_report(file, *, out, format: str = "", leader: str = "", by: str = "",
                     region: str = "", mapping: str = "", tests: str = "", seed: int = 0,
                     alpha: float = 0.05, lang: str = "en") -> Path:
    """The observer's report on one station file: ``out/index.html``.

    Runs ``notebooks/04-your-election.py`` with papermill (the same notebook
    a user can open) after checking the parameters here, so an empty or bad
    one gives a one-line :class:`InputError` before any kernel starts.

    Parameters
    ----------
    file : str
        Station results file, or a registered dataset name.
    out : path-like
        Report folder (``index.html``, ``figures/``, ``tables/``,
        ``provenance.json``, ``manifest.json``).
    format, leader, by, region, mapping, tests, seed, alpha, lang
        The notebook's parameters (see its ``parameters`` cell).

    Returns
    -------
    Path
        The ``index.html`` written.
    """
    from .own import check_parameters

    params = check_parameters(file, format, by=by, region=region, lang=lang, alpha=alpha,
                              tests=tests, mapping=mapping)
    if mapping and not Path(mapping).is_file():
        raise InputError("mapping file not found", file=mapping)
    values = {"FILE": params["file"], "FORMAT": params["format"], "LEADER": leader or "",
              "BY": by or "", "REGION": region or "", "MAPPING": mapping or "",
              "TESTS": tests or "", "ALPHA": float(alpha), "SEED": int(seed), "LANG": lang}
    if not params["dataset"]:
        values["FILE"] = str(Path(params["file"]).resolve())
    if mapping:
        values["MAPPING"] = str(Path(mapping).resolve())
    return run_notebook(NOTEBOOK_DIR / OWN.file, Path(out), values)
