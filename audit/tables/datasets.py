"""Public polling-station datasets: fetched by URL, pinned by sha256.

The files are not shipped with the package.  :func:`fetch` looks for them in
a cache folder, downloads a missing file once, and verifies its sha256 every
time it is used, so a changed or truncated file is never read silently.

The cache folder is ``$AUDIT_DATA_DIR`` when set, else
``~/.cache/vote-audit``.  Tests and CI point ``AUDIT_DATA_DIR`` at a folder
that already holds the files (the Makefile exports ``../shared/datasets``),
so nothing is downloaded there and the verification still runs.

A dataset is one file, or a folder of files (``Dataset.manifest``): the
folder's files and their sha256 are listed in a manifest shipped inside the
package (``audit/tables/manifests/``, the ``sha256sum`` format), each file is
downloaded from ``Dataset.url`` + its name and every file is verified; the
dataset's own ``sha256`` is the manifest's.

``Dataset.kind`` says what the election is for the project: ``"clean"``
(widely regarded as honestly counted: a test that "finds" fraud there is
crying wolf; :func:`clean_elections` lists them), ``"contested"`` (credible
allegations of manipulation) or ``"reference"`` (the files the project's
published comparisons are about).

Examples
--------
>>> from audit import datasets
>>> "ru-cik/2020.csv.zip" in datasets.REGISTRY
True
>>> datasets.clean_elections()[0]
'clean/canada_fed2011_pollbypoll'
>>> table = datasets.load("ru-cik/2024.csv.zip")           # doctest: +SKIP
>>> len(table.data), len(table.excluded)                   # doctest: +SKIP
(91946, 2268)
"""

from __future__ import annotations

import os
import shutil
import stat
import tempfile
import urllib.request
from dataclasses import dataclass
from pathlib import Path

from ..core.outputs import sha256_of
from ..core.errors import InputError

ENV_VAR = "AUDIT_DATA_DIR"
DEFAULT_DIR = Path("~/.cache/vote-audit")


KINDS = ("clean", "contested", "reference")
MANIFESTS = Path(__file__).parent / "manifests"


@dataclass(frozen=True)
class Dataset:
    """One public file (or folder of files): where it comes from, its hash,
    how to read it and what kind of election it is.

    Attributes
    ----------
    name : str
        Path under the cache folder.
    url : str
        The file's URL; for a folder dataset, the URL each file name is
        appended to.
    sha256 : str
        The file's sha256; for a folder dataset, the manifest's.
    format : str
        Reader (a key of :data:`audit.tables.readers.FORMATS`), "" if not a station table.
    description : str
    kind : {"clean", "contested", "reference"}
    manifest : str
        For a folder dataset: the manifest's file name in ``audit/tables/manifests``.
    """

    name: str
    url: str
    sha256: str
    format: str
    description: str = ""
    kind: str = "reference"
    manifest: str = ""

    def __post_init__(self):
        if self.kind not in KINDS:
            raise ValueError(f"kind must be one of {', '.join(KINDS)}, got {self.kind!r}")

    @property
    def is_folder(self) -> bool:
        return bool(self.manifest)


_KOBAK = "https://github.com/dkobak/elections/raw/master/data/"
_KYRYCHENKO = "https://github.com/RomanKyrychenko/ukrainian_elections/raw/master/data/"
_PKW_2020 = ("https://github.com/ip413/presidential-election-poland-2020-research/raw/"
             "master/data-round-1-official/wyniki_gl_na_kand_po_obwodach_csv.zip")
_CZ_2018 = "https://github.com/DataRozhlas/prez18-basty/raw/master/pet1.csv"
_CA_2011 = ("https://github.com/thisismactan/Canada-2019/raw/master/Data/Raw/"
            "2011%20results/")

REGISTRY: dict[str, Dataset] = {d.name: d for d in (
    Dataset("ru-cik/2020.csv.zip", _KOBAK + "2020.csv.zip",
            "1ec41f7065133142792bd96589991c90aa465b7d5b89c9496c05b8b97131011e", "ru-cik",
            "Russia 2020 constitutional vote, by station"),
    Dataset("ru-cik/2021.csv.zip", _KOBAK + "2021.csv.zip",
            "b65fac633d642d496f52dc046fc4c1063b70b331cece7edcdfa8d76e63305a5d", "ru-cik",
            "Russia 2021 State Duma (party list), by station"),
    Dataset("ru-cik/2024.csv.zip", _KOBAK + "2024.csv.zip",
            "d4a18472d021efac9c269819a5b0e801daca1e486a7f48fc3981b4b241907313", "ru-cik",
            "Russia 2024 presidential election, by station"),
    Dataset("ru-cik/2024-electronic-voting.csv", _KOBAK + "2024-electronic-voting.csv",
            "330834edc558df924a0d0421b4f34c448ab9737d4b0ef822a3cd723337501b8c", "",
            "Russia 2024 remote electronic voting, by region (not a station table)"),
    Dataset("ua-cvk/parliament_election_2019_by_vd_en.csv",
            _KYRYCHENKO + "parliament_election_2019_by_vd_en.csv",
            "5eb93f415d24dcd8a9505f69f02950017df05050c0e671f40b832280c26ba124", "ua-cvk",
            "Ukraine 2019 parliament (party list), by station"),
    Dataset("ua-cvk/president_election_2019_1_by_vd_en.csv",
            _KYRYCHENKO + "president_election_2019_1_by_vd_en.csv",
            "e05149404aec3d5cb6cebcf85faeee153032b05c64d84364d4e5e8467a1a11c3", "ua-cvk",
            "Ukraine 2019 presidential first round, by station"),
    Dataset("clean/poland_pres2020_r1_obwody_csv.zip", _PKW_2020,
            "c51f5f6c4ad0ea973fbf6f1b8379755fbf149f0b87ce274c92d0f85a3e759c1c", "pl-pkw",
            "Poland 2020 presidential first round, by station (PKW)", kind="clean"),
    Dataset("clean/czech_pres2018_r1_pet1.csv", _CZ_2018,
            "2786cade5c3a93d776e0cf1ca66593cc9e78a45c5d32487ac31cde0e0bc8d746",
            "cz-volby", "Czech Republic 2018 presidential first round, by station "
            "(statistics office, pet1)", kind="clean"),
    Dataset("clean/canada_fed2011_pollbypoll", _CA_2011,
            "4ab97867da54e60fc2ee45600da24a1171953ff5404c176bde139dde13420f40",
            "ca-pollbypoll", "Canada 2011 federal election, poll by poll (308 riding "
            "files, Elections Canada)", kind="clean",
            manifest="canada_fed2011_pollbypoll.sha256"),
)}


def clean_elections() -> list[str]:
    """Names of the registered station tables of clean real elections."""
    return sorted(n for n, d in REGISTRY.items() if d.kind == "clean" and d.format)


def manifest(name: str) -> list[tuple[str, str]]:
    """``(file name, sha256)`` of every file of folder dataset ``name``.

    The manifest itself is checked against the dataset's pinned sha256
    first, so an edited manifest cannot vouch for edited files.
    """
    spec = _spec(name)
    if not spec.is_folder:
        raise InputError(f"dataset {name!r} is a single file, not a folder")
    path = MANIFESTS / spec.manifest
    if not path.is_file():
        raise InputError("the manifest shipped with the package is missing", file=path)
    got = sha256_of(path)
    if got != spec.sha256:
        raise InputError(f"sha256 mismatch of the manifest: expected {spec.sha256}, "
                         f"found {got}", file=path)
    out = []
    for i, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
        if not line.strip():
            continue
        parts = line.split(None, 1)
        if len(parts) != 2 or len(parts[0]) != 64:
            raise InputError("expected '<sha256>  <file name>'", file=path, row=i)
        out.append((parts[1].strip().lstrip("*"), parts[0].lower()))
    return out


def data_dir() -> Path:
    """The cache folder: ``$AUDIT_DATA_DIR`` or ``~/.cache/vote-audit``."""
    value = os.environ.get(ENV_VAR)
    return Path(value).expanduser() if value else DEFAULT_DIR.expanduser()


def available(names=None) -> bool:
    """True if every named dataset (default: all) is already in the cache
    folder, so that loading needs no download. Hashes are checked on load."""
    names = list(REGISTRY) if names is None else list(names)
    for n in names:
        spec = _spec(n)
        if spec.is_folder:
            if not all((data_dir() / n / f).is_file() for f, _ in manifest(n)):
                return False
        elif not (data_dir() / n).is_file():
            return False
    return True


def _spec(name: str) -> Dataset:
    if name not in REGISTRY:
        raise InputError(f"unknown dataset {name!r}; known datasets: "
                         + ", ".join(sorted(REGISTRY)))
    return REGISTRY[name]



def verify(name: str, path) -> Path:
    """Check that ``path`` has the pinned sha256 of dataset ``name``.

    For a folder dataset, every file of the manifest must be in the folder
    with its sha256, and the folder may hold no other ``.csv`` file (the
    reader would read it).
    """
    spec = _spec(name)
    path = Path(path)
    if not spec.is_folder:
        _check_hash(path, spec.sha256)
        return path
    files = manifest(name)
    for fname, digest in files:
        if not (path / fname).is_file():
            raise InputError(f"file {fname!r} of dataset {name!r} is missing",
                             file=path / fname)
        _check_hash(path / fname, digest)
    listed = {f for f, _ in files}
    extra = sorted(p.name for p in path.iterdir()
                   if p.suffix.lower() == ".csv" and p.name not in listed)
    if extra:
        raise InputError(f"{len(extra)} file(s) not in the dataset's manifest, e.g. "
                         f"{extra[0]!r}; remove them", file=path)
    return path


def _check_hash(path: Path, expected: str) -> None:
    got = sha256_of(path)
    if got != expected:
        raise InputError(f"sha256 mismatch: expected {expected}, found {got}; "
                         "the file is corrupt or was changed (delete it to download "
                         "it again)", file=path)


def fetch(name: str, *, download: bool = True) -> Path:
    """Local path of dataset ``name``, downloading it only when missing.

    The file's sha256 is verified on every call.

    Parameters
    ----------
    name : str
        A key of :data:`REGISTRY`, e.g. ``"ru-cik/2020.csv.zip"``.
    download : bool, default True
        If False, a missing file raises instead of being downloaded.

    Returns
    -------
    pathlib.Path

    Raises
    ------
    InputError
        Unknown name, missing file with ``download=False``, failed download,
        or a sha256 mismatch (the message names the file and both hashes).
    """
    spec = _spec(name)
    path = data_dir() / name
    if spec.is_folder:
        missing = [(f, h) for f, h in manifest(name) if not (path / f).exists()]
        if missing and not download:
            raise InputError(f"dataset {name!r} is not in the cache ({len(missing)} "
                             f"file(s) missing; set {ENV_VAR} or allow the download)",
                             file=path / missing[0][0])
        for fname, digest in missing:          # one by one, each verified
            _download_file(spec.url + fname, digest, path / fname)
        return verify(name, path)
    if not path.exists():
        if not download:
            raise InputError(f"dataset {name!r} is not in the cache "
                             f"(set {ENV_VAR} or allow the download)", file=path)
        _download(spec, path)
    return verify(name, path)


def _download(spec: Dataset, path: Path) -> None:
    _download_file(spec.url, spec.sha256, path)


def _download_file(url: str, sha256: str, path: Path) -> None:
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".part-", suffix=path.suffix)
    except OSError as exc:
        raise InputError(f"cannot write the cache folder ({exc.strerror}); set "
                         f"{ENV_VAR} to a writable folder", file=path.parent) from None
    tmp = Path(tmp)
    try:
        with os.fdopen(fd, "wb") as out, urllib.request.urlopen(url, timeout=60) as resp:
            shutil.copyfileobj(resp, out)
        got = sha256_of(tmp)
        if got != sha256:
            raise InputError(f"sha256 mismatch after download from {url}: "
                             f"expected {sha256}, found {got}", file=path)
        os.replace(tmp, path)
    except OSError as exc:
        reason = getattr(exc, "reason", None) or exc.strerror or exc
        raise InputError(f"not in the cache, and the download from {url} failed ({reason}); "
                         f"no network? copy the file there, or set {ENV_VAR} to a folder "
                         f"that holds it (now {data_dir()})", file=path) from None
    finally:
        if tmp.exists():
            tmp.unlink()


def is_dataset(name) -> bool:
    """True if ``name`` is a registered dataset name."""
    return isinstance(name, str) and name in REGISTRY


def load(name: str, *, cache: bool = True, **options):
    """Fetch dataset ``name`` (sha256 verified) and read it with its reader.

    Parameters
    ----------
    name : str
        A key of :data:`REGISTRY`.
    cache : bool, default True
        Keep a columnar (Parquet) copy of the parsed table, keyed by the
        source file's sha256, the reader version and ``options``, and reuse
        it on later loads.  The copy lives in ``<data dir>/parquet`` or, if
        that folder is read-only, in ``~/.cache/vote-audit/parquet``; if
        neither is writable nothing is cached.
    **options
        Passed to the reader (e.g. ``electronic="keep"``).

    Returns
    -------
    StationTable
        ``source["dataset"]``, ``source["url"]`` and ``source["kind"]``
        record where it came from.
    """
    from .readers import read

    spec = _spec(name)
    if not spec.format:
        raise InputError(f"dataset {name!r} is not a station table")
    path = fetch(name)
    key = _cache_key(spec, options)
    table = _cache_get(key) if cache else None
    if table is None:
        table = read(path, spec.format, **options)
        table.source.update({"dataset": name, "url": spec.url, "kind": spec.kind})
        if cache:
            _cache_put(key, table)
    table.source["path"] = str(path)
    return table


#: Modules of ``audit/tables/`` that play no part in reading a file (every
#: other module there, and every reader, is part of the cache key).
_NOT_READER_CODE = frozenset({"__init__.py", "datasets.py", "datapackage.py"})


def _cache_key(spec: Dataset, options: dict) -> str:
    import hashlib
    import json

    from ..core.versions import READER_VERSION

    # spec.sha256 pins the content: the file's hash, or for a folder dataset
    # the manifest's (fetch has checked every file against that manifest).
    opts = json.dumps(options, sort_keys=True, default=str)
    # The readers' own code is part of the key, so editing a reader without
    # bumping READER_VERSION still invalidates old copies.
    code = hashlib.sha256()
    here = Path(__file__).parent
    for f in sorted([*here.glob("*.py"), *(here / "readers").glob("*.py")]):
        if f.name not in _NOT_READER_CODE:
            code.update(f.read_bytes())
    return (f"{spec.sha256[:16]}-{spec.format}-r{READER_VERSION}-"
            f"{code.hexdigest()[:8]}-{hashlib.sha256(opts.encode()).hexdigest()[:8]}")


def _writable(folder: Path) -> bool:
    """False for a folder marked read-only, even when running as root."""
    while not folder.exists():
        if folder.parent == folder:
            return False
        folder = folder.parent
    mode = folder.stat().st_mode
    return bool(mode & (stat.S_IWUSR | stat.S_IWGRP | stat.S_IWOTH)) and \
        os.access(folder, os.W_OK)


def _cache_dirs() -> list[Path]:
    dirs = [data_dir() / "parquet", DEFAULT_DIR.expanduser() / "parquet"]
    return list(dict.fromkeys(dirs))


_PARTS = ("data", "excluded", "findings")


def _cache_get(key: str):
    import json

    import pandas as pd

    from .station_table import StationTable

    for folder in _cache_dirs():
        where = folder / key
        if not (where / "meta.json").exists():
            continue
        try:
            meta = json.loads((where / "meta.json").read_text(encoding="utf-8"))
            frames = {p: pd.read_parquet(where / f"{p}.parquet") for p in _PARTS}
        except Exception:  # a damaged copy is ignored and rebuilt
            continue
        return StationTable(data=frames["data"], options=meta["options"],
                            excluded=frames["excluded"], findings=frames["findings"],
                            source={**meta["source"], "parquet_cache": str(where)})
    return None


def _cache_put(key: str, table) -> Path | None:
    import json

    for folder in _cache_dirs():
        if not _writable(folder):
            continue  # read-only (e.g. CI's shared data folder): try the next
        try:
            folder.mkdir(parents=True, exist_ok=True)
            tmp = Path(tempfile.mkdtemp(dir=folder, prefix=".part-"))
        except OSError:
            continue  # read-only: try the next folder
        try:
            table.data.to_parquet(tmp / "data.parquet")
            table.excluded.to_parquet(tmp / "excluded.parquet", index=False)
            table.findings.to_parquet(tmp / "findings.parquet", index=False)
            (tmp / "meta.json").write_text(json.dumps(
                {"options": table.options, "source": table.source}, ensure_ascii=False,
                default=str), encoding="utf-8")
            os.replace(tmp, folder / key)
            return folder / key
        except OSError:
            shutil.rmtree(tmp, ignore_errors=True)
            if (folder / key / "meta.json").exists():  # another process won the race
                return folder / key
            continue
    return None
