"""How a p-value is written in text: reports, console summaries, captions.

A p-value is not always a number that can be printed as it is.  Two cases
are bounds rather than values:

- a simulated p-value at its floor: with ``B`` resamples and none as
  extreme as the data, ``(0 + 1) / (B + 1)`` is the smallest value the
  method can give, and the true p-value may be far smaller;
- a p-value that underflowed to 0 in double precision (the true value is
  below about 1e-308, or below ``10**log10_pvalue`` where the test reports
  its logarithm).

Both are written ``"< x"`` with ``x`` rounded up, never as ``0`` or as an
exact ``0.001``.  Every place that writes a p-value as text uses
:func:`format_pvalue` (through :func:`pvalue_bound` when the p-value comes
from a test result), so the rule is stated once.
"""

from __future__ import annotations

import math

__all__ = ["format_pvalue", "pvalue_bound", "pvalue_text", "resample_floor"]

#: Parameters that hold the number of simulated datasets behind a
#: simulated p-value ``(k + 1) / (B + 1)``.
RESAMPLE_KEYS = ("n_resamples", "n_null")

#: What an underflowed p-value is at most, when nothing finer is known.
UNDERFLOW = 1e-300


def resample_floor(params: dict | None) -> list[float]:
    """The floors ``1 / (B + 1)`` of the simulated p-values a call may give.

    Parameters
    ----------
    params : dict or None
        The settings of a test result (``TestResult.params``).

    Returns
    -------
    list of float
        One floor per positive whole ``B`` found under the keys of
        :data:`RESAMPLE_KEYS`.
    """
    floors = []
    for key in RESAMPLE_KEYS:
        b = (params or {}).get(key)
        if isinstance(b, bool) or not isinstance(b, (int, float)):
            continue
        if b >= 1 and float(b).is_integer():
            floors.append(1.0 / (int(b) + 1))
    return floors


def pvalue_bound(pvalue, *, params: dict | None = None, details: dict | None = None
                 ) -> tuple[float, bool]:
    """Whether ``pvalue`` is a bound, and the bound.

    Parameters
    ----------
    pvalue : float
    params, details : dict, optional
        The test result's settings and details: the number of resamples
        (see :func:`resample_floor`) and ``log10_pvalue`` when the test
        reports one.

    Returns
    -------
    (value, is_bound) : (float, bool)
        ``value`` is ``pvalue`` itself, or the bound it is below when
        ``is_bound``: the resampling floor, or 0 for an underflowed
        p-value (written with its logarithm where the test reports one,
        see :func:`pvalue_text`).

    Examples
    --------
    >>> pvalue_bound(1 / 1000, params={"n_resamples": 999})
    (0.001, True)
    >>> pvalue_bound(0.0)
    (0.0, True)
    >>> pvalue_bound(0.02, params={"n_resamples": 999})
    (0.02, False)
    """
    p = float(pvalue)
    if math.isnan(p):
        return p, False
    if p <= 0:
        return 0.0, True
    for floor in resample_floor(params):
        if abs(p - floor) <= 1e-9 * floor:
            return floor, True
    return p, False


def _round_up(x: float, digits: int) -> str:
    """``x`` with ``digits`` significant digits, rounded away from zero."""
    exp = math.floor(math.log10(x))
    scale = 10.0 ** (exp - digits + 1)
    mant = math.ceil(x / scale - 1e-9) * scale
    return _plain(mant, digits)


def _plain(x: float, digits: int) -> str:
    if x >= 1e-4:
        text = f"{x:.{digits}g}"
        if "e" in text:                 # e.g. 1e+00 never happens below 1
            text = f"{x:f}".rstrip("0").rstrip(".")
        return text
    mant, exp = f"{x:.{digits - 1}e}".split("e")
    mant = mant.rstrip("0").rstrip(".")
    return f"{mant}e{int(exp)}"


def format_pvalue(pvalue, *, bound: bool = False, digits: int = 2,
                  log10: float | None = None) -> str:
    """A p-value as text: ``"0.034"``, ``"3.2e-05"``, or ``"< 0.001"``.

    Parameters
    ----------
    pvalue : float
        The p-value, or the bound it is below when ``bound`` is true.
    bound : bool, default False
        Write ``"< x"``, with ``x`` rounded up to ``digits`` significant
        digits (see :func:`pvalue_bound`).
    digits : int, default 2
        Significant digits.
    log10 : float, optional
        Decimal logarithm of the p-value, used to write a value too small
        for a double (``1e-1234``) and for a bound at 0.

    Returns
    -------
    str
        ``"n/a"`` for a missing p-value; ``"1"`` from 0.995 up; a p-value
        of exactly 0 is never written as ``"0"``.

    Examples
    --------
    >>> format_pvalue(0.0342)
    '0.034'
    >>> format_pvalue(1 / 1000, bound=True)
    '< 0.001'
    >>> format_pvalue(1 / 201, bound=True)
    '< 0.005'
    >>> format_pvalue(0.0)
    '< 1e-300'
    >>> format_pvalue(0.0, log10=-1234.5)
    '< 1e-1234'
    """
    try:
        p = float(pvalue)
    except (TypeError, ValueError):
        return "n/a"
    if math.isnan(p):
        return "n/a"
    if p <= 0:
        if log10 is not None and math.isfinite(log10):
            return f"< 1e{math.ceil(log10)}"
        return f"< {_plain(UNDERFLOW, 1)}"
    if bound:
        return "< 1" if p >= 1 else f"< {_round_up(p, digits)}"
    if p >= 0.995:
        return "1"
    return _plain(float(f"{p:.{digits}g}"), digits)


def pvalue_text(pvalue, *, params: dict | None = None, details: dict | None = None,
                adjusted=None, digits: int = 2) -> str:
    """A test result's p-value (or its adjusted p-value) as text.

    Parameters
    ----------
    pvalue : float
        The raw p-value of the result.
    params, details : dict, optional
        The result's settings and details (see :func:`pvalue_bound`).
    adjusted : float, optional
        A multiplicity-adjusted p-value (Holm, Benjamini-Hochberg) of the
        same row: it is written instead of ``pvalue``, as a bound when the
        raw p-value is one (an adjusted p-value computed from a floor is
        itself at most that value).
    digits : int, default 2

    Examples
    --------
    >>> pvalue_text(1 / 1000, params={"n_resamples": 999}, adjusted=0.012)
    '< 0.012'
    >>> pvalue_text(0.2, adjusted=1.0)
    '1'
    >>> pvalue_text(0.0, details={"log10_pvalue": -812.3})
    '< 1e-812'
    """
    value, is_bound = pvalue_bound(pvalue, params=params, details=details)
    log10 = (details or {}).get("log10_pvalue")
    log10 = float(log10) if isinstance(log10, (int, float)) and not isinstance(log10, bool) \
        else None
    if adjusted is None:
        return format_pvalue(value, bound=is_bound, digits=digits,
                             log10=log10 if value <= 0 else None)
    adj = float(adjusted)
    if math.isnan(adj):
        return "n/a"
    if is_bound and adj < 1:
        return format_pvalue(adj, bound=True, digits=digits)
    return format_pvalue(adj, digits=digits)
