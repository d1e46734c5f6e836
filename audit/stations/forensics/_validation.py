"""Input checks shared by the station-level tests."""

from __future__ import annotations

import numpy as np
import pandas as pd


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


def counts_with_missing(x, name: str) -> np.ndarray:
    """``x`` (1-D or 2-D) as a float array of the same shape, NaN kept,
    after checking that every finite value is a non-negative whole number."""
    if isinstance(x, (str, bytes, dict)) or np.isscalar(x):
        raise TypeError(f"{name} must be an array of counts, "
                        f"got {type(x).__name__}")
    if isinstance(x, pd.DataFrame):
        frame = x.apply(pd.to_numeric, errors="raise")
        arr = frame.to_numpy(dtype=float, na_value=np.nan)
    else:
        if np.ndim(x) not in (1, 2):
            raise ValueError(f"{name} must be one- or two-dimensional, got "
                             f"shape {np.shape(x)}")
        try:
            if np.ndim(x) == 1:
                arr = pd.to_numeric(pd.Series(x), errors="raise").to_numpy(
                    dtype=float, na_value=np.nan)
            else:
                arr = pd.DataFrame(np.asarray(x, dtype=object)).apply(
                    pd.to_numeric, errors="raise").to_numpy(
                        dtype=float, na_value=np.nan)
        except (TypeError, ValueError) as exc:
            raise TypeError(f"{name} must hold numbers: {exc}") from None
    if np.isinf(arr).any():
        raise ValueError(f"{name} contains infinite values")
    fin = arr[np.isfinite(arr)]
    if (fin < 0).any():
        raise ValueError(f"{name} must be non-negative, found {fin[fin < 0][0]:g}")
    if (fin != np.round(fin)).any():
        bad = fin[fin != np.round(fin)][0]
        raise ValueError(f"{name} must hold whole numbers, found {bad:g}")
    return arr
