"""JSON that reads the same on every run: numpy scalars as Python numbers,
NaN and infinities as ``null``, sets sorted, paths as POSIX text.

>>> import numpy as np
>>> json_text({"n": np.int64(3), "p": float("nan")})
'{\\n  "n": 3,\\n  "p": null\\n}\\n'
"""

from __future__ import annotations

import json
import math
from collections.abc import Mapping
from pathlib import Path

import numpy as np
import pandas as pd


def to_jsonable(value):
    """``value`` with numpy scalars as Python numbers, NaN/inf as None,
    tuples, sets and arrays as lists and paths as POSIX text (for
    :func:`json_text`).  The one JSON cleaner of the package: test results
    (:meth:`TestResult.to_dict`), the battery's records and every JSON file
    written go through it."""
    if isinstance(value, Mapping):
        return {str(k): to_jsonable(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [to_jsonable(v) for v in value]
    if isinstance(value, np.ndarray):
        return to_jsonable(value.tolist())
    if isinstance(value, (set, frozenset)):
        return sorted(to_jsonable(v) for v in value)
    if isinstance(value, (bool, np.bool_)):
        return bool(value)
    if isinstance(value, (int, np.integer)):
        return int(value)
    if isinstance(value, (float, np.floating)):
        return float(value) if math.isfinite(float(value)) else None
    if isinstance(value, Path):
        return value.as_posix()
    if value is None or isinstance(value, str):
        return value
    if value is pd.NA or value is pd.NaT:
        return None
    return str(value)


def json_text(obj) -> str:
    """Stable JSON: UTF-8 text, two-space indent, key order as given, final newline."""
    return json.dumps(to_jsonable(obj), ensure_ascii=False, indent=2,
                      allow_nan=False) + "\n"
