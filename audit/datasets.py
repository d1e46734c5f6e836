"""Public polling-station datasets: fetched by URL, pinned by sha256.

The files are not shipped with the package.  :func:`fetch` looks for them in
a cache folder, downloads a missing file once, and verifies its sha256 every
time it is used, so a changed or truncated file is never read silently.

The cache folder is ``$AUDIT_DATA_DIR`` when set, else
``~/.cache/vote-audit``.  Tests and CI point ``AUDIT_DATA_DIR`` at a folder
that already holds the files (the Makefile exports ``../shared/datasets``),
so nothing is downloaded there and the verification still runs.

Examples
--------
>>> from audit import datasets
>>> sorted(datasets.REGISTRY)[0]
'ru-cik/2020.csv.zip'
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

from .datapackage import sha256_of
from .errors import InputError

ENV_VAR = "AUDIT_DATA_DIR"
DEFAULT_DIR = Path("~/.cache/vote-audit")


@dataclass(frozen=True)
class Dataset:
    """One public file: where it comes from, its hash, and how to read it."""

    name: str
    url: str
    sha256: str
    format: str
    description: str = ""


_KOBAK = "https://github.com/dkobak/elections/raw/master/data/"
_KYRYCHENKO = "https://github.com/RomanKyrychenko/ukrainian_elections/raw/master/data/"

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
)}


def data_dir() -> Path:
    """The cache folder: ``$AUDIT_DATA_DIR`` or ``~/.cache/vote-audit``."""
    value = os.environ.get(ENV_VAR)
    return Path(value).expanduser() if value else DEFAULT_DIR.expanduser()


def available(names=None) -> bool:
    """True if every named dataset (default: all) is already in the cache
    folder, so that loading needs no download. Hashes are checked on load."""
    names = list(REGISTRY) if names is None else list(names)
    return all((data_dir() / _spec(n).name).is_file() for n in names)


def _spec(name: str) -> Dataset:
    if name not in REGISTRY:
        raise InputError(f"unknown dataset {name!r}; known datasets: "
                         + ", ".join(sorted(REGISTRY)))
    return REGISTRY[name]



def verify(name: str, path) -> Path:
    """Check that ``path`` has the pinned sha256 of dataset ``name``."""
    spec = _spec(name)
    path = Path(path)
    got = sha256_of(path)
    if got != spec.sha256:
        raise InputError(f"sha256 mismatch: expected {spec.sha256}, found {got}; "
                         "the file is corrupt or was changed (delete it to download "
                         "it again)", file=path)
    return path


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
    if not path.exists():
        if not download:
            raise InputError(f"dataset {name!r} is not in the cache "
                             f"(set {ENV_VAR} or allow the download)", file=path)
        _download(spec, path)
    return verify(name, path)


def _download(spec: Dataset, path: Path) -> None:
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".part-", suffix=path.suffix)
    except OSError as exc:
        raise InputError(f"cannot write the cache folder ({exc.strerror}); set "
                         f"{ENV_VAR} to a writable folder", file=path.parent) from None
    tmp = Path(tmp)
    try:
        with os.fdopen(fd, "wb") as out, urllib.request.urlopen(spec.url, timeout=60) as resp:
            shutil.copyfileobj(resp, out)
        got = sha256_of(tmp)
        if got != spec.sha256:
            raise InputError(f"sha256 mismatch after download from {spec.url}: "
                             f"expected {spec.sha256}, found {got}", file=path)
        os.replace(tmp, path)
    except OSError as exc:
        raise InputError(f"download from {spec.url} failed: {exc}", file=path) from None
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
        ``source["dataset"]`` and ``source["url"]`` record where it came from.
    """
    from .io import read

    spec = _spec(name)
    if not spec.format:
        raise InputError(f"dataset {name!r} is not a station table")
    path = fetch(name)
    key = _cache_key(spec, options)
    table = _cache_get(key) if cache else None
    if table is None:
        table = read(path, spec.format, **options)
        table.source.update({"dataset": name, "url": spec.url})
        if cache:
            _cache_put(key, table)
    table.source["path"] = str(path)
    return table


def _cache_key(spec: Dataset, options: dict) -> str:
    import hashlib
    import json

    from .io import READER_VERSION

    opts = json.dumps(options, sort_keys=True, default=str)
    # The readers' own code is part of the key, so editing a reader without
    # bumping READER_VERSION still invalidates old copies.
    code = hashlib.sha256()
    for f in sorted((Path(__file__).parent / "io").glob("*.py")):
        code.update(f.read_bytes())
    code.update((Path(__file__).parent / "canonical.py").read_bytes())
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

    from .canonical import StationTable

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
