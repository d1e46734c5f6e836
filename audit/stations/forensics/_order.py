"""The canonical order of stations, so that a result does not depend on the
order of the rows.

Tests that resample stations (bootstraps) or sum in floating point sort the
stations by their counts first; stations that tie agree in every key, so the
order among them does not matter.

>>> canonical_order([np.array([2, 1, 2]), np.array([5, 9, 3])]).tolist()
[1, 2, 0]
"""

from __future__ import annotations

import numpy as np


def canonical_order(keys) -> np.ndarray:
    """Order of the stations by ``keys`` (non-negative whole numbers, first
    key first), as ``numpy.lexsort(keys[::-1])``, through one sort of a
    packed integer key when the counts fit in 63 bits."""
    keys = list(keys)
    bits = [int(k.max()).bit_length() if len(k) else 0 for k in keys]
    if sum(bits) > 63:
        return np.lexsort(keys[::-1])
    packed = np.zeros(len(keys[0]), dtype=np.int64)
    for k, b in zip(keys, bits):
        packed <<= b
        packed |= k.astype(np.int64)
    return np.argsort(packed)
