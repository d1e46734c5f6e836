"""Input checks and the impossible-station rule, shared by every station test.

The one place where the tests

* turn an argument into an array of counts, or refuse it with an error that
  names the argument (:func:`as_counts`), and
* decide which stations cannot enter a turnout or a share and say why
  (:func:`turnout_screen`, :func:`share_screen`, :func:`pair_screen`), in one
  vocabulary of reasons (:data:`NO_REGISTERED`, :data:`NO_BALLOTS`,
  :data:`OVER_100`, :data:`LEADER_OVER`, :data:`VOTES_OVER`) joined by
  :func:`reason` where a test reports several at once.

>>> as_counts("leader", [3, -1])
Traceback (most recent call last):
...
ValueError: leader must be non-negative, got -1 at position 1
>>> reason(NO_REGISTERED, NO_BALLOTS)
'no registered voters or no ballots cast'
"""

from __future__ import annotations

import numpy as np
import pandas as pd

#: Why a station is left out (the ``reason`` column of a test's excluded table).
NO_REGISTERED = "no registered voters"
NO_BALLOTS = "no ballots cast"
OVER_100 = "turnout above 100%"
LEADER_OVER = "more leader votes than ballots"
VOTES_OVER = "more votes than ballots"

_DIMS = {(1,): "a one-dimensional", (1, 2): "an"}


def reason(*atoms: str) -> str:
    """Several reasons as one: ``"a or b"``, ``"a, b or c"``."""
    return atoms[0] if len(atoms) == 1 else ", ".join(atoms[:-1]) + " or " + atoms[-1]


def _positions(mask: np.ndarray) -> list[int]:
    rows = mask.reshape(mask.shape[0], -1).any(axis=1) if mask.ndim > 1 else mask
    return np.flatnonzero(rows)[:5].tolist()


def as_counts(name: str, x, n: int | None = None, *, missing: str = "raise",
              dims: tuple = (1,), whole: bool = True) -> np.ndarray:
    """``x`` as a float array of station counts, or a clear error naming ``name``.

    Parameters
    ----------
    name : str
        The argument's name, used in every message.
    x : array_like
        One count per station (``dims=(1, 2)``: or a stations x options table).
    n : int, optional
        The number of stations it must have.
    missing : {"raise", "keep"}
        Missing values (NaN, None) are an error, or are kept as NaN for the
        test to leave those stations out.
    dims : tuple
        Accepted numbers of dimensions.
    whole : bool, default True
        Whether fractions are an error (counts are whole numbers).

    Raises
    ------
    TypeError
        For text, a scalar or values that are not numbers.
    ValueError
        For the wrong shape or length, infinite values, missing values
        (``missing="raise"``), negative values and fractions.
    """
    if missing not in ("raise", "keep"):
        raise ValueError(f"missing must be 'raise' or 'keep', got {missing!r}")
    if isinstance(x, (str, bytes, dict)) or np.isscalar(x) or x is None:
        raise TypeError(f"{name} must be {_DIMS.get(tuple(dims), 'an')} array of counts, "
                        f"got {type(x).__name__}")
    try:
        arr = np.asarray(x)
    except ValueError as exc:                      # ragged nested lists
        raise ValueError(f"{name} must be {_DIMS.get(tuple(dims), 'an')} array of counts: "
                         f"{exc}") from None
    if arr.ndim not in dims:
        what = " or ".join({1: "one", 2: "two"}[d] for d in dims)
        what = "one- or two-dimensional" if what == "one or two" else what + "-dimensional"
        raise ValueError(f"{name} must be {what}, got shape {arr.shape}")
    if arr.dtype.kind in "biuf":
        arr = arr.astype(float)
    elif arr.size == 0:
        arr = np.zeros(arr.shape)
    else:
        try:
            frame = pd.DataFrame(arr.reshape(arr.shape[0], -1), dtype=object)
            arr = frame.apply(pd.to_numeric, errors="raise").to_numpy(
                dtype=float, na_value=np.nan).reshape(arr.shape)
        except (TypeError, ValueError) as exc:
            raise TypeError(f"{name} must hold numbers, got dtype {arr.dtype}: "
                            f"{str(exc).splitlines()[0][:80]}") from None
    if n is not None and arr.shape[0] != n:
        raise ValueError(f"{name} has {arr.shape[0]} rows, expected {n} (one per station)")
    nan, inf = np.isnan(arr), np.isinf(arr)
    if missing == "raise" and (nan.any() or inf.any()):
        raise ValueError(f"{name} has missing or infinite values at positions "
                         f"{_positions(nan | inf)}")
    if inf.any():
        raise ValueError(f"{name} has infinite values at positions {_positions(inf)}")
    finite = ~nan
    negative = finite & (arr < 0)
    if negative.any():
        i = int(np.flatnonzero(negative.ravel())[0])
        raise ValueError(f"{name} must be non-negative, got {arr.ravel()[i]:g} at position "
                         f"{_positions(negative)[0]}")
    if whole:
        fraction = finite & (arr != np.round(arr))
        if fraction.any():
            i = int(np.flatnonzero(fraction.ravel())[0])
            raise ValueError(f"{name} must hold whole numbers (counts), got "
                             f"{arr.ravel()[i]:g} at position {_positions(fraction)[0]}")
    return arr


# ------------------------------------------------------------ impossible stations
def turnout_screen(registered, ballots_cast) -> dict[str, np.ndarray]:
    """Stations without a turnout: :data:`NO_REGISTERED` and :data:`OVER_100`
    (more ballots cast than registered voters, a finding of the reader)."""
    reg, cast = np.asarray(registered), np.asarray(ballots_cast)
    return {NO_REGISTERED: reg == 0, OVER_100: (reg > 0) & (cast > reg)}


def share_screen(ballots_cast, leader) -> dict[str, np.ndarray]:
    """Stations without a leader share: :data:`NO_BALLOTS` and :data:`LEADER_OVER`."""
    cast, lead = np.asarray(ballots_cast), np.asarray(leader)
    return {NO_BALLOTS: cast == 0, LEADER_OVER: (cast > 0) & (lead > cast)}


def pair_screen(registered, ballots_cast, votes) -> tuple[np.ndarray, np.ndarray]:
    """Stations without both a turnout and a share: ``(empty, impossible)``.

    ``empty``: no registered voters or no ballots cast (``reason(NO_REGISTERED,
    NO_BALLOTS)``); ``impossible``: among the others, turnout above 100% or
    more ``votes`` (the leader's: ``reason(OVER_100, LEADER_OVER)``; all
    options': :data:`VOTES_OVER`) than ballots.  A comparison with a missing
    value (NaN) is false; a test that keeps missing values leaves those
    stations out first.
    """
    reg, cast, v = (np.asarray(a, dtype=float) for a in (registered, ballots_cast, votes))
    with np.errstate(invalid="ignore"):
        empty = (reg <= 0) | (cast <= 0)
        impossible = ~empty & ((cast > reg) | (v > cast))
    return empty, impossible
