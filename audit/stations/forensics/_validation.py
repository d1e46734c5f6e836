"""Input checks shared by the station-level tests."""

from __future__ import annotations

import numpy as np


def as_counts(name: str, x, n: int | None = None, *, whole: bool = False) -> np.ndarray:
    """``x`` as a 1-d float array of station counts, or a clear error.

    Raises ``TypeError`` for non-numbers and ``ValueError`` (naming ``name``)
    for the wrong shape, a length other than ``n``, missing or infinite
    values, negative values and, with ``whole=True``, fractions.
    """
    arr = np.asarray(x)
    try:
        arr = arr.astype(float)
    except (TypeError, ValueError):
        raise TypeError(f"{name} must hold numbers, got dtype {arr.dtype}") from None
    if arr.ndim != 1:
        raise ValueError(f"{name} must be one-dimensional, got shape {arr.shape}")
    if n is not None and arr.size != n:
        raise ValueError(f"{name} has {arr.size} rows, expected {n} (one per station)")
    if np.any(~np.isfinite(arr)):
        raise ValueError(f"{name} has missing or infinite values at rows "
                         f"{np.flatnonzero(~np.isfinite(arr))[:5].tolist()}")
    if np.any(arr < 0):
        raise ValueError(f"{name} must be >= 0, got min {arr.min()}")
    if whole and np.any(arr != np.round(arr)):
        bad = arr[arr != np.round(arr)][0]
        raise ValueError(f"{name} must hold whole numbers (counts), got {bad:g}")
    return arr
