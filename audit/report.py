"""Reports: execute the notebooks and export HTML, figures and tables.

Each report is a folder ``<out>/<name>/`` holding ``index.html`` (no code
cells), ``figures/`` (every figure as SVG, PDF and PNG) and ``tables/`` (CSV).
Notebooks are stored as py:percent text, run with papermill and converted
with nbconvert; they reach their output folder through :class:`Outputs`.
"""

from __future__ import annotations

import html
import re
import importlib.metadata
import platform
import tempfile
from dataclasses import dataclass
from pathlib import Path

import pandas as pd
import yaml

from .errors import AuditError, InputError
from .evidence import ROOT

NOTEBOOK_DIR = ROOT / "notebooks"
TEMPLATES = Path(__file__).resolve().parent / "templates"


@dataclass(frozen=True)
class Notebook:
    name: str          # report folder name
    file: str          # notebook file in notebooks/
    needs_stations: bool = False


NOTEBOOKS = (
    Notebook("referenda-2022", "01-referenda-2022.py"),
    Notebook("station-forensics", "02-station-forensics.py", needs_stations=True),
    Notebook("adding-a-test", "03-adding-a-test.py"),
)


class Outputs:
    """Where a notebook writes its figures and tables, and how it shows them.

    ``figure`` saves SVG/PDF/PNG and displays the SVG by relative link, so the
    HTML page loads the same file that is exported. ``table`` writes a CSV and
    displays the table.
    """

    def __init__(self, folder):
        self.folder = Path(folder)
        self.figures = self.folder / "figures"
        self.tables = self.folder / "tables"
        self.figures.mkdir(parents=True, exist_ok=True)
        self.tables.mkdir(parents=True, exist_ok=True)

    def figure(self, fig, name: str, caption: str = ""):
        import matplotlib.pyplot as plt
        from IPython.display import HTML

        from .plots import save_figure

        save_figure(fig, self.figures, name)
        plt.close(fig)
        cap = f"<figcaption>{html.escape(caption)}</figcaption>" if caption else ""
        return HTML(f'<figure class="audit-figure"><img src="figures/{name}.svg" '
                    f'alt="{html.escape(caption or name)}">{cap}</figure>')

    def save(self, df: pd.DataFrame, name: str, *, index=False) -> None:
        """Write ``df`` to ``tables/<name>.csv`` (returns nothing, so a notebook
        cell that ends with it shows nothing)."""
        if Path(name).name != name or name.startswith("."):
            raise ValueError(f"table name must be a plain file stem, got {name!r}")
        df.to_csv(self.tables / f"{name}.csv", index=index, lineterminator="\n")

    def table(self, df: pd.DataFrame, name: str, *, show=None, index=False):
        """Write ``df`` as CSV and return it (or the ``show`` columns) as HTML."""
        from IPython.display import HTML

        self.save(df, name, index=index)
        shown = df if show is None else df[show]
        return HTML(shown.to_html(index=index, escape=True, na_rep="",
                                  float_format=_number, border=0))


def _number(v: float) -> str:
    """Counts with thousands separators, shares with their decimals."""
    if abs(v) >= 1000 and float(v).is_integer():
        return f"{v:,.0f}"
    if abs(v) >= 1000:
        return f"{v:,.1f}"
    return f"{v:.4g}"


def versions() -> pd.DataFrame:
    """Versions of Python and the packages the reports rest on."""
    rows = [("python", platform.python_version())]
    for pkg in ("vote-audit", "numpy", "pandas", "scipy", "matplotlib", "papermill",
                "nbconvert", "jupytext"):
        try:
            rows.append((pkg, importlib.metadata.version(pkg)))
        except importlib.metadata.PackageNotFoundError:
            rows.append((pkg, "not installed"))
    return pd.DataFrame(rows, columns=["package", "version"])


def _coerce(value: str):
    """Notebook parameter from the command line: YAML scalar (numbers, true/false)."""
    try:
        return yaml.safe_load(value)
    except yaml.YAMLError:
        return value


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
    folder.mkdir(parents=True, exist_ok=True)
    params = {"OUTPUT_DIR": str(folder), **(parameters or {})}
    nb = jupytext.read(source)
    with tempfile.TemporaryDirectory() as tmp:
        src = Path(tmp) / "input.ipynb"
        dst = Path(tmp) / "output.ipynb"
        nbformat.write(nb, src)
        try:
            papermill.execute_notebook(str(src), str(dst), parameters=params,
                                       kernel_name="python3", cwd=str(ROOT),
                                       progress_bar=False, log_output=False,
                                       extra_arguments=["--IPKernelApp.log_level=ERROR"])
        except papermill.PapermillExecutionError as exc:
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
    out = folder / "index.html"
    out.write_text(body, encoding="utf-8")
    return out


def stations_available() -> bool:
    """Whether the public station datasets can be loaded without a download."""
    try:
        from . import datasets
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
        if (NOTEBOOK_DIR / nb.file).exists():
            known[nb.name] = notebook_parameters(NOTEBOOK_DIR / nb.file)
    unknown = sorted(set(params) - {k for names in known.values() for k in names})
    if unknown:
        names = sorted({k for names in known.values() for k in names} - {"OUTPUT_DIR"})
        raise InputError(f"unknown notebook parameter {unknown[0]!r}; the notebooks take: "
                         + ", ".join(names))
    if "OUTPUT_DIR" in params:
        raise InputError("OUTPUT_DIR is set by --out, not by -p")
    written = {}
    for nb in NOTEBOOKS:
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
