"""Safe, reproducible writing of every output file.

One place decides how the toolkit writes what it produces, so that the same
inputs, parameters and seed give the same bytes, a results file can be opened
in a spreadsheet without running anything, and no output can land outside
its folder or on top of an input.

- :func:`safe_path` turns an output name into a path inside a folder, or
  refuses it (absolute names, ``..``, hidden or reserved names, control
  characters, symbolic links that lead out of the folder).
- :func:`refuse_overwrite` refuses an output folder that is an input file or
  would write over one.
- :func:`write_csv` writes a table as UTF-8 CSV with ``\\n`` line endings,
  NaN as an empty cell, floats in their shortest round-trip form, and text
  cells that a spreadsheet would read as a formula neutralised (see
  :func:`neutralise`).
- :func:`provenance` records the inputs (path, sha256, size), parameters,
  seed and software versions, and nothing that changes between two runs
  (no dates, host names or output paths).
- :class:`OutputFolder` ties them together: every file goes through it, is
  replaced atomically (never written through a link onto another file) and
  is listed with its sha256 in ``manifest.json``.

Examples
--------
>>> import pandas as pd
>>> neutralise("=HYPERLINK(\\"http://x\\")")
'\\'=HYPERLINK("http://x")'
>>> neutralise("-5"), neutralise("-2+3")
('-5', "'-2+3")
>>> csv_text(pd.DataFrame({"region": ["=1+1", "North"], "votes": [-5, 3]}))
"region,votes\\n'=1+1,-5\\nNorth,3\\n"

The formula in the first region is shown as text by a spreadsheet, while the
negative count stays a number.
"""

from __future__ import annotations

import hashlib
import io
import json
import os
import re
from collections.abc import Mapping
from pathlib import Path, PurePosixPath, PureWindowsPath

import pandas as pd

from .errors import InputError
from .jsonable import json_text, to_jsonable
from .versions import software_versions

MANIFEST = "manifest.json"

# A cell starting with one of these is read as a formula by Excel, LibreOffice
# Calc or Google Sheets (OWASP "CSV Injection"; CWE-1236; OWASP ASVS 5.0
# requirement 1.2.10 adds NUL).  The full-width forms are included because
# some spreadsheet input methods fold them to their ASCII counterparts.
FORMULA_STARTS = frozenset("=+-@\t\r\0" "\uff1d\uff0b\uff0d\uff20")
# A text cell holding just a plain decimal number is left alone: a spreadsheet
# reads "-5" or "+3.5e2" as the number it is, which runs nothing.
_PLAIN_NUMBER = re.compile(r"[+-]?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][+-]?\d+)?")
# Device names Windows refuses as file names, whatever the extension.
_RESERVED = frozenset(["con", "prn", "aux", "nul"] + [f"com{i}" for i in range(1, 10)]
                      + [f"lpt{i}" for i in range(1, 10)])
_FORBIDDEN_CHARS = set('<>:"|?*\\') | {chr(i) for i in range(32)} | {"\x7f"}


# --------------------------------------------------------------------------- names

def _check_part(part: str, name: str) -> None:
    def bad(why):
        return InputError(f"output name {name!r} is not allowed: {why}")

    if part in ("", "."):
        raise bad("empty path component")
    if part == "..":
        raise bad("'..' would leave the output folder")
    if part.startswith("."):
        raise bad("hidden names (starting with '.') are not written")
    hit = sorted(set(part) & _FORBIDDEN_CHARS)
    if hit:
        raise bad(f"character {hit[0]!r} is not allowed in file names")
    if part.endswith(" "):
        raise bad("a name may not end with a space")
    if part.split(".")[0].casefold() in _RESERVED:
        raise bad(f"{part.split('.')[0]!r} is a reserved device name")


def safe_path(folder, name, *, bare: bool = True) -> Path:
    """The path of output ``name`` inside ``folder``, or a one-line error.

    Parameters
    ----------
    folder : path-like
        The output folder (need not exist yet).
    name : str
        A plain file name such as ``"results.csv"``; with ``bare=False`` also
        a relative path with sub-folders (``"figures/evidence.svg"``), always
        written with ``/``.
    bare : bool, default True
        Whether ``name`` must be a plain file name without folders.

    Returns
    -------
    Path
        ``folder / name``; its resolved form lies inside the resolved folder.

    Raises
    ------
    InputError
        For an empty or absolute name, a ``..`` component, a path separator
        where a bare name is expected, a hidden name, NUL or another control
        character, characters Windows forbids (``<>:"|?*\\``), a reserved
        device name (``CON``, ``NUL``, ``COM1`` ...), or a name whose path,
        once symbolic links are followed, leaves the folder.

    Examples
    --------
    >>> safe_path("out", "results.csv").as_posix()
    'out/results.csv'
    >>> safe_path("out", "../results.csv")
    Traceback (most recent call last):
    ...
    audit.core.errors.InputError: output name '../results.csv' is not allowed: a plain file name is expected, without folders
    """
    if not isinstance(name, str):
        raise TypeError(f"name must be a str, got {type(name).__name__}")
    if not name:
        raise InputError("output name '' is not allowed: empty name")
    if PurePosixPath(name).is_absolute() or PureWindowsPath(name).is_absolute():
        raise InputError(f"output name {name!r} is not allowed: absolute paths leave "
                         "the output folder")
    parts = name.split("/")
    if bare and (len(parts) > 1 or "\\" in name):
        raise InputError(f"output name {name!r} is not allowed: a plain file name is "
                         "expected, without folders")
    for part in parts:
        _check_part(part, name)
    folder = Path(folder)
    path = folder.joinpath(*parts)
    root = folder.resolve()
    target = path.resolve()
    if target != root and root not in target.parents:
        raise InputError(f"output name {name!r} is not allowed: it leads out of the "
                         f"output folder through a symbolic link (to {target})")
    return path


# ------------------------------------------------------------------ inputs vs outputs

def _same_file(a: Path, b: Path) -> bool:
    try:
        return a.exists() and b.exists() and os.path.samefile(a, b)
    except OSError:
        return False


def refuse_overwrite(out_folder, inputs, names=()) -> None:
    """Refuse an output folder that would put an output on top of an input.

    Parameters
    ----------
    out_folder : path-like
        The output folder (may not exist yet).
    inputs : iterable of path-like
        Every file the run reads.
    names : iterable of str
        Output names (relative, ``/``-separated) the run will write.

    Raises
    ------
    InputError
        One line, when ``out_folder`` is an input file or any existing
        non-folder, when an input file sits where an output will be written
        (same path, or the same file reached through a link), or when an
        input is a folder the outputs go into.

    Notes
    -----
    An output folder may hold inputs under other names (``audit run data.csv
    --out .`` is fine as long as no output is called ``data.csv``); existing
    files that are not outputs are never touched.
    """
    out = Path(out_folder)
    inputs = [Path(p) for p in inputs if p is not None]
    for src in inputs:
        if out.exists() and _same_file(out, src):
            raise InputError(f"--out {str(out)!r} is an input file; choose a folder for "
                             "the outputs")
    if out.exists() and not out.is_dir():
        raise InputError(f"--out {str(out)!r} exists and is not a folder")
    for name in names:
        path = safe_path(out, name, bare=False)
        for src in inputs:
            if path.resolve() == src.resolve() or _same_file(path, src):
                raise InputError(f"output {name!r} would overwrite the input "
                                 f"{str(src)!r}; choose another --out folder")


# ------------------------------------------------------------------------- CSV

def neutralise(value):
    """``value`` made safe for a spreadsheet cell.

    A text (``str``) value whose first character, or first character after
    leading spaces, is ``=``, ``+``, ``-``, ``@``, tab, carriage return or NUL
    (or a full-width ``＝ ＋ － ＠``) gets a leading single quote, which
    spreadsheets take as "this cell is text" (OWASP CSV Injection guidance).
    A text value that is just a plain decimal number (``"-5"``, ``"+3.5"``,
    ``"-1e3"``) is left as it is: a spreadsheet reads it as that number and
    runs nothing.  Numbers, booleans, missing values and everything that is
    not a ``str`` are returned unchanged, so negative counts stay numbers.

    Examples
    --------
    >>> neutralise("@SUM(A1)"), neutralise("North"), neutralise(-5)
    ("'@SUM(A1)", 'North', -5)
    """
    if not isinstance(value, str) or not value:
        return value
    head = value.lstrip(" ")
    if not head:
        return value
    if value[0] in FORMULA_STARTS or head[0] in FORMULA_STARTS:
        if _PLAIN_NUMBER.fullmatch(value):
            return value
        return "'" + value
    return value


def _cell(value):
    """Neutralised text with its line breaks as ``\n``: Python's CSV writer
    quotes a cell holding ``\n`` but not one holding a lone ``\r``, which
    a reader would take as the end of the row."""
    value = neutralise(value)
    if isinstance(value, str) and "\r" in value:
        value = value.replace("\r\n", "\n").replace("\r", "\n")
    return value


def neutralise_frame(frame: pd.DataFrame, *, index: bool = False) -> pd.DataFrame:
    """A copy of ``frame`` with every text cell and column name neutralised.

    Numeric, boolean and datetime columns are left as they are; in object,
    string and categorical columns only ``str`` cells are changed (a number
    stored in an object column stays a number). Carriage returns inside
    text become ``\n`` (so that the cell is quoted). With ``index=True`` the
    index becomes ordinary leading column(s) first.
    """
    if not isinstance(frame, pd.DataFrame):
        raise TypeError(f"frame must be a pandas DataFrame, got {type(frame).__name__}")
    out = frame.reset_index() if index else frame.copy()
    if isinstance(out.columns, pd.MultiIndex):
        out.columns = [" ".join(map(str, c)) for c in out.columns]
    for i, col in enumerate(out.columns):
        s = out.iloc[:, i]
        if pd.api.types.is_numeric_dtype(s.dtype) or pd.api.types.is_bool_dtype(s.dtype) \
                or pd.api.types.is_datetime64_any_dtype(s.dtype):
            continue
        out.isetitem(i, s.astype(object).map(_cell, na_action="ignore"))
    out.columns = [_cell(str(c)) for c in out.columns]
    return out


def csv_text(frame: pd.DataFrame, *, index: bool = False) -> str:
    """CSV text of ``frame``: neutralised, ``\\n`` line endings, NaN empty.

    Floats are written in their shortest round-trip form (Python's ``repr``,
    the same on every platform), so a value read back is bit-identical.
    """
    safe = neutralise_frame(frame, index=index)
    buf = io.StringIO()
    safe.to_csv(buf, index=False, lineterminator="\n", na_rep="")
    return buf.getvalue()


def write_csv(frame: pd.DataFrame, path, *, index: bool = False) -> Path:
    """Write ``frame`` to ``path`` as spreadsheet-safe UTF-8 CSV (see :func:`csv_text`).

    The file is replaced atomically; returns the path.
    """
    path = Path(path)
    write_bytes(path, csv_text(frame, index=index).encode("utf-8"))
    return path


# ----------------------------------------------------------------------- files

def write_bytes(path, data: bytes) -> Path:
    """Write ``data`` to ``path`` through a temporary file and an atomic rename.

    The rename replaces a link at ``path`` instead of writing through it, so an
    output can never change the file a link points at; the final file gets the
    usual permissions (``0o666`` less the umask).
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o666)
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
        os.replace(tmp, path)
    except BaseException:
        if tmp.exists():
            tmp.unlink()
        raise
    return path


def sha256_of(path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def sha256_bytes(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


# ------------------------------------------------------------------ provenance


def input_record(path, *, base=None) -> dict:
    """``{"path", "resolved", "sha256", "bytes"}`` of one input file.

    ``path`` is kept as given; ``resolved`` is the resolved path relative to
    ``base`` (default: the working directory), POSIX-style, so that it does not
    depend on where the project sits when the input is inside ``base``.
    A mapping (for example a registered dataset: ``path``, ``sha256``,
    ``url``) is taken as an already-made record and copied.
    """
    if isinstance(path, Mapping):
        return dict(path)
    given = Path(path)
    if not given.is_file():
        raise InputError("input file not found", file=path)
    base = Path.cwd() if base is None else Path(base)
    resolved = given.resolve()
    try:
        rel = Path(os.path.relpath(resolved, base.resolve())).as_posix()
    except ValueError:            # another drive on Windows
        rel = resolved.as_posix()
    return {"path": str(path), "resolved": rel, "sha256": sha256_of(given),
            "bytes": given.stat().st_size}


def provenance(inputs=(), parameters=None, seed=None, *, base=None) -> dict:
    """What an output rests on: inputs, parameters, seed and software.

    Parameters
    ----------
    inputs : iterable of path-like or mapping
        Files read (see :func:`input_record`).
    parameters : mapping, optional
        Settings of the run; written with sorted keys.
    seed : int, optional
        Root random seed.
    base : path-like, optional
        Folder the ``resolved`` input paths are relative to (default: the
        working directory).

    Returns
    -------
    dict
        ``{"inputs": [...], "parameters": {...}, "seed": ..., "software": {...}}``.
        Nothing in it changes between two runs with the same inputs: no
        timestamps, host or user names, or output folder.

    Examples
    --------
    >>> p = provenance(parameters={"alpha": 0.05}, seed=3)
    >>> p["seed"], p["parameters"], sorted(p["software"])[:2]
    (3, {'alpha': 0.05}, ['matplotlib', 'numpy'])
    """
    params = dict(parameters or {})
    return {"inputs": [input_record(p, base=base) for p in inputs],
            "parameters": to_jsonable({k: params[k] for k in sorted(params)}),
            "seed": to_jsonable(seed),
            "software": software_versions()}


def provenance_text(prov: Mapping) -> str:
    """One-line ASCII JSON of a provenance dict, for figure metadata."""
    return json.dumps(to_jsonable(prov), ensure_ascii=True, separators=(",", ":"),
                      allow_nan=False)


# --------------------------------------------------------------- output folder

class OutputFolder:
    """A folder that outputs are written into, safely and with a manifest.

    Parameters
    ----------
    path : path-like
        Created with the first file written (so a run that fails before
        writing leaves nothing behind); existing files other than the
        outputs are left alone.
    inputs : iterable of path-like
        Files that must never be written over (checked for every output).
    names : iterable of str
        Outputs known in advance, checked before anything is written (so a
        clash is reported before a long computation).

    Examples
    --------
    >>> import tempfile
    >>> with tempfile.TemporaryDirectory() as tmp:
    ...     out = OutputFolder(tmp)
    ...     _ = out.write_text("notes.txt", "hello\\n")
    ...     _ = out.write_manifest({"seed": 0})
    ...     sorted(out.written)
    ['manifest.json', 'notes.txt']
    """

    def __init__(self, path, *, inputs=(), names=(), _shared=None, _prefix=""):
        self.path = Path(path)
        if _shared is None:
            self._inputs = [Path(p) for p in inputs if p is not None]
            refuse_overwrite(self.path, self._inputs, names)
            self.written: dict[str, dict] = {}
            self._root = self
        else:
            self._root = _shared
            self._inputs = _shared._inputs
            self.written = _shared.written
        self._prefix = _prefix

    def subfolder(self, name: str) -> OutputFolder:
        """An :class:`OutputFolder` for ``name/`` sharing checks and manifest."""
        rel = self._prefix + name
        safe_path(self._root.path, rel, bare=False)
        return OutputFolder(self._root.path / rel, _shared=self._root,
                            _prefix=rel + "/")

    def target(self, name: str) -> Path:
        """Checked path of output ``name`` (a plain file name)."""
        path = safe_path(self.path, name)
        rel = self._prefix + name
        for src in self._inputs:
            if path.resolve() == src.resolve() or _same_file(path, src):
                raise InputError(f"output {rel!r} would overwrite the input "
                                 f"{str(src)!r}; choose another --out folder")
        return path

    def write_bytes(self, name: str, data: bytes) -> Path:
        path = write_bytes(self.target(name), data)
        self.written[self._prefix + name] = {"sha256": sha256_bytes(data),
                                             "bytes": len(data)}
        return path

    def write_text(self, name: str, text: str) -> Path:
        return self.write_bytes(name, text.encode("utf-8"))

    def write_json(self, name: str, obj) -> Path:
        return self.write_text(name, json_text(obj))

    def write_csv(self, name: str, frame: pd.DataFrame, *, index: bool = False) -> Path:
        return self.write_text(name, csv_text(frame, index=index))

    def manifest(self, prov: Mapping | None = None) -> dict:
        """``{"provenance": ..., "files": [{"path", "sha256", "bytes"}, ...]}``."""
        files = [{"path": k, **v} for k, v in sorted(self.written.items())
                 if k != MANIFEST]
        return {"provenance": prov, "files": files}

    def write_manifest(self, prov: Mapping | None = None, name: str = MANIFEST) -> Path:
        """Write ``manifest.json`` listing every file written so far."""
        data = json_text(self._root.manifest(prov)).encode("utf-8")
        path = write_bytes(self._root.target(name), data)
        self.written[name] = {"sha256": sha256_bytes(data), "bytes": len(data)}
        return path
