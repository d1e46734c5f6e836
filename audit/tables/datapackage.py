"""Frictionless-style data package: hashes, schemas and typed loading.

Every bundled table is described in ``data/datapackage.json`` with its path,
sha256, byte count, sources, licence and a field schema. :func:`read_table`
checks the hash, then parses each column to its declared type and checks the
constraints; any failure is an :class:`~audit.core.errors.InputError` naming the
file, the row (the header is row 1) and the column.

Supported field types: ``string``, ``integer``, ``number``, ``date``,
``boolean``. Supported constraints: ``required``, ``unique``, ``minimum``,
``maximum``, ``enum``, ``pattern``. A ``primaryKey`` must be unique.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import numpy as np
import pandas as pd

from ..core.errors import InputError
from ..core.outputs import sha256_of

TYPES = ("string", "integer", "number", "date", "boolean")


def load_descriptor(path) -> dict:
    path = Path(path)
    if not path.is_file():
        raise InputError("data package descriptor not found", file=path)
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except json.JSONDecodeError as exc:
        raise InputError(f"not valid JSON ({exc.msg})", file=path, row=exc.lineno) from None


def resource(descriptor: dict, name: str) -> dict:
    for res in descriptor.get("resources", []):
        if res.get("name") == name:
            return res
    names = ", ".join(r.get("name", "?") for r in descriptor.get("resources", []))
    raise InputError(f"no resource named {name!r} in the data package (has: {names})")


def check_integrity(res: dict, base: Path) -> Path:
    """Raise unless the file's sha256 and size match the descriptor."""
    path = base / res["path"]
    if not path.exists():
        raise InputError("file listed in datapackage.json is missing", file=path)
    got = sha256_of(path)
    want = res.get("hash", "").removeprefix("sha256:")
    if got != want:
        raise InputError(f"sha256 is {got}, datapackage.json says {want}: the file "
                         "changed without its description", file=path)
    if "bytes" in res and path.stat().st_size != res["bytes"]:
        raise InputError(f"{path.stat().st_size} bytes, datapackage.json says "
                         f"{res['bytes']}", file=path)
    return path


def _parse_column(raw: pd.Series, field: dict, path: Path) -> pd.Series:
    """Convert one column of strings to its declared type, checking constraints."""
    name, ftype = field["name"], field.get("type", "string")
    cons = field.get("constraints", {})
    missing = raw.isna() | (raw.str.strip() == "")

    def fail(mask, expected):
        idx = int(np.flatnonzero(mask.to_numpy())[0])
        value = raw.iloc[idx]
        raise InputError(f"expected {expected}, found {value!r}", file=path,
                         row=idx + 2, column=name)

    if cons.get("required") and missing.any():
        fail(missing, "a value (the field is required)")
    if ftype == "string":
        out = raw.where(~missing, None).astype("object")
    elif ftype in ("integer", "number"):
        text = raw.where(~missing, None)
        num = pd.to_numeric(text, errors="coerce")
        bad = num.isna() & ~missing
        if bad.any():
            fail(bad, f"a {'whole ' if ftype == 'integer' else ''}number")
        if ftype == "integer":
            frac = (num % 1 != 0) & ~missing
            if frac.any():
                fail(frac, "a whole number")
            out = num.astype("Int64")
        else:
            out = num.astype("float64")
    elif ftype == "date":
        parsed = pd.to_datetime(raw.where(~missing, None), format="%Y-%m-%d", errors="coerce")
        bad = parsed.isna() & ~missing
        if bad.any():
            fail(bad, "a date as YYYY-MM-DD")
        out = parsed
    elif ftype == "boolean":
        low = raw.str.strip().str.lower()
        ok = low.isin(["true", "false"]) | missing
        if not ok.all():
            fail(~ok, "true or false")
        out = low.map({"true": True, "false": False}).astype("boolean")
    else:
        raise InputError(f"unknown field type {ftype!r} in datapackage.json", column=name)

    present = ~missing
    if "enum" in cons:
        bad = present & ~raw.isin(cons["enum"])
        if bad.any():
            fail(bad, "one of " + ", ".join(map(str, cons["enum"])))
    if "pattern" in cons:
        rx = re.compile(cons["pattern"])
        matched = raw.fillna("").map(lambda s: bool(rx.fullmatch(s))).astype(bool)
        bad = present & ~matched
        if bad.any():
            fail(bad, f"text matching {cons['pattern']}")
    if "minimum" in cons:
        bad = present & (out < cons["minimum"])
        if bad.any():
            fail(bad, f"a value >= {cons['minimum']}")
    if "maximum" in cons:
        bad = present & (out > cons["maximum"])
        if bad.any():
            fail(bad, f"a value <= {cons['maximum']}")
    if cons.get("unique"):
        dup = present & raw.duplicated(keep="first")
        if dup.any():
            fail(dup, "a unique value (it repeats an earlier row)")
    return out


def parse_table(path, schema: dict) -> pd.DataFrame:
    """Read a CSV and type it by ``schema``; errors name file, row, column."""
    path = Path(path)
    try:
        raw = pd.read_csv(path, dtype=str, keep_default_na=False, na_values=[""],
                          encoding="utf-8")
    except pd.errors.EmptyDataError:
        raise InputError("the file is empty (expected a header row)", file=path) from None
    except pd.errors.ParserError as exc:
        m = re.search(r"line (\d+)", str(exc))
        raise InputError(f"not a well-formed CSV table ({str(exc).strip()})", file=path,
                         row=int(m.group(1)) if m else None) from None
    except UnicodeDecodeError as exc:
        raise InputError(f"not UTF-8 text (byte {exc.start})", file=path) from None
    fields = schema["fields"]
    names = [f["name"] for f in fields]
    unknown = [c for c in raw.columns if c not in names]
    if unknown:
        raise InputError(f"unknown column (the schema has {', '.join(names)})",
                         file=path, row=1, column=unknown[0])
    for name in names:
        if name not in raw.columns:
            raise InputError("column missing from the header", file=path, row=1, column=name)
    out = pd.DataFrame({f["name"]: _parse_column(raw[f["name"]], f, path) for f in fields})
    key = schema.get("primaryKey")
    if key:
        key = [key] if isinstance(key, str) else list(key)
        dup = out.duplicated(subset=key, keep="first")
        if dup.any():
            idx = int(np.flatnonzero(dup.to_numpy())[0])
            raise InputError(f"duplicate primary key {tuple(out.iloc[idx][key])}",
                             file=path, row=idx + 2, column=key[0])
    return out


def read_table(descriptor_path, name: str) -> pd.DataFrame:
    """Verify and load the resource ``name`` of the package at ``descriptor_path``."""
    descriptor_path = Path(descriptor_path)
    desc = load_descriptor(descriptor_path)
    res = resource(desc, name)
    path = check_integrity(res, descriptor_path.parent)
    return parse_table(path, res["schema"])


def refresh(descriptor_path) -> list[str]:
    """Rewrite hash and bytes of every resource (maintainers only)."""
    descriptor_path = Path(descriptor_path)
    desc = load_descriptor(descriptor_path)
    changed = []
    for res in desc["resources"]:
        path = descriptor_path.parent / res["path"]
        digest, size = "sha256:" + sha256_of(path), path.stat().st_size
        if res.get("hash") != digest or res.get("bytes") != size:
            changed.append(res["name"])
        res["hash"], res["bytes"] = digest, size
    descriptor_path.write_text(json.dumps(desc, indent=2, ensure_ascii=False) + "\n",
                               encoding="utf-8")
    return changed
