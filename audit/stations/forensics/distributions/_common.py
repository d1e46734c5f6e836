"""Shared pieces of the distribution tests: count checks, station turnout
and leader share, the moment test's result, and stations paired by
turnout and share within groups (districts or regions).
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from .._lazy import stats

from ....core.errors import NotApplicable
from ...result import TestResult, exclusion_table
from .._order import canonical_order
from .._validation import (LEADER_OVER, NO_BALLOTS, NO_REGISTERED, OVER_100, as_counts,
                           pair_screen, reason, share_screen, turnout_screen)


# ------------------------------------------------------------ validation
def _check(**arrays):
    """Validate count arrays of equal length; return them as floats."""
    out = {k: as_counts(k, v) for k, v in arrays.items()}
    lengths = {k: len(v) for k, v in out.items()}
    if len(set(lengths.values())) > 1:
        raise ValueError("arrays must have the same length, got "
                         + ", ".join(f"{k}={n}" for k, n in lengths.items()))
    return out


def _check_rng_option(name, value, low=1):
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)):
        raise TypeError(f"{name} must be an int, got {type(value).__name__}")
    if value < low:
        raise ValueError(f"{name} must be at least {low}, got {value}")


def _turnout(registered, ballots_cast):
    """Station turnout, the stations left out (one row each) and their counts."""
    screen = turnout_screen(registered, ballots_cast)
    keep = ~(screen[NO_REGISTERED] | screen[OVER_100])
    details = {"excluded_no_registered": int(screen[NO_REGISTERED].sum()),
               "excluded_over_100pct": int(screen[OVER_100].sum())}
    return ballots_cast[keep] / registered[keep], exclusion_table(screen), details


def _share(ballots_cast, leader):
    """Leader share, the stations left out (one row each) and their counts."""
    screen = share_screen(ballots_cast, leader)
    keep = ~(screen[NO_BALLOTS] | screen[LEADER_OVER])
    details = {"excluded_no_ballots": int(screen[NO_BALLOTS].sum()),
               "excluded_leader_over_ballots": int(screen[LEADER_OVER].sum())}
    return leader[keep] / ballots_cast[keep], exclusion_table(screen), details


def _enough(name, n, minimum):
    if n < minimum:
        raise NotApplicable(f"{name} needs at least {minimum} usable stations, got {n}")


def _not_constant(name, values, what):
    if np.ptp(values) == 0:
        raise NotApplicable(f"{name}: every station has the same {what}; "
                            "the shape of a single value is not defined")


# ------------------------------------------------------------ moments
def _moment_test(name, values, kind, details, params, excluded):
    _enough(name, len(values), 20)
    _not_constant(name, values, params["variable"])
    if kind == "skewness":
        stat = float(stats.skew(values))
        z, p = stats.skewtest(values)
    else:
        stat = float(stats.kurtosis(values))   # excess kurtosis
        z, p = stats.kurtosistest(values)
    return TestResult(
        test=name, statistic=stat, pvalue=float(p), n=len(values), expected=0.0,
        null=f"{params['variable']} is normally distributed across stations "
             f"({kind} {0})",
        params=params, details={"z": float(z), **details}, excluded=excluded)


def _within_group_logit(a, groups, excluded, details):
    """Logit turnout minus its group's median, for the stations ``_turnout``
    kept that are not alone in their group; the singletons join the
    exclusions."""
    reg, cast = a["registered"], a["ballots_cast"]
    keep = np.ones(len(reg), bool)
    if excluded is not None and len(excluded):
        keep[excluded["position"].to_numpy(dtype=np.int64)] = False
    labels = np.asarray(groups)
    if labels.shape != (len(reg),):
        raise ValueError(f"groups must have one label per station ({len(reg)}), "
                         f"got shape {labels.shape}")
    codes = _label_codes(labels)
    pos = np.flatnonzero(keep)
    c = codes[pos]
    sizes = np.bincount(c, minlength=int(codes.max()) + 1 if len(codes) else 0)
    alone = sizes[c] < 2
    x = np.log((cast[pos] + 0.5) / (reg[pos] - cast[pos] + 0.5))
    pos, c, x = pos[~alone], c[~alone], x[~alone]
    n_alone = int(alone.sum())
    extra = pd.DataFrame({"position": np.flatnonzero(keep)[alone],
                          "reason": "alone in its group"})
    excluded = (pd.concat([excluded, extra], ignore_index=True)
                .sort_values("position", kind="stable", ignore_index=True)
                if excluded is not None else extra)
    details = {**details, "singleton_groups": n_alone, "excluded_alone_in_group": n_alone}
    if x.size == 0:                 # every group a single station: nothing left
        return x, excluded, {**details, "n_groups": 0}
    order = np.lexsort((x, c))
    c_s, x_s = c[order], x[order]
    starts = np.flatnonzero(np.r_[True, c_s[1:] != c_s[:-1]])
    ends = np.r_[starts[1:], len(c_s)]
    lo, hi = starts + (ends - starts - 1) // 2, starts + (ends - starts) // 2
    med = (x_s[lo] + x_s[hi]) / 2
    centred = np.empty_like(x)
    centred[order] = x_s - np.repeat(med, ends - starts)
    return centred, excluded, {**details, "n_groups": int(len(starts))}


# ------------------------------------------------------------ correlation
def _label_codes(labels):
    """Codes of ``labels`` in sorted order of the distinct labels, as
    ``numpy.unique(labels, return_inverse=True)[1]``.

    Station tables list a region's stations together, so the labels are
    compared once per run of equal labels, not once per station.
    """
    n = len(labels)
    if n == 0:
        return np.zeros(0, dtype=np.intp)
    starts = np.flatnonzero(np.r_[True, labels[1:] != labels[:-1]])
    _, run_codes = np.unique(labels[starts], return_inverse=True)
    return np.repeat(run_codes.ravel(), np.diff(np.r_[starts, n]))


def _clean_pairs(a, groups=None):
    reg, cast, lead = a["registered"], a["ballots_cast"], a["leader"]
    empty, impossible = pair_screen(reg, cast, lead)
    keep = ~(empty | impossible)
    details = {"excluded_no_ballots_or_voters": int(empty.sum()),
               "excluded_impossible": int(impossible.sum())}
    # positions in the order given, before the canonical sort below
    excluded = exclusion_table({reason(NO_REGISTERED, NO_BALLOTS): empty,
                                reason(OVER_100, LEADER_OVER): impossible})
    codes = None
    if groups is not None:
        g = np.asarray(groups, dtype=object) if not isinstance(groups, np.ndarray) else groups
        if g.ndim != 1 or len(g) != len(reg):
            raise ValueError(f"groups must be 1-d with one label per station "
                             f"({len(reg)}), got shape {np.shape(groups)}")
        # text labels cannot be missing; other kinds are checked one by one
        if g.dtype.kind not in "US" and any(
                v is None or (isinstance(v, float) and np.isnan(v)) for v in g.tolist()):
            raise ValueError("groups holds missing labels")
        # codes of all labels (text labels are used as they are: no copy),
        # then renumbered over the labels of the stations kept
        codes = _label_codes(g if g.dtype.kind == "U" else np.asarray(g).astype(str))[keep]
        present = np.bincount(codes) > 0
        if not present.all():
            codes = (np.cumsum(present) - 1)[codes]
    reg, cast, lead = reg[keep], cast[keep], lead[keep]
    # Stations in a canonical order (by group, then counts), so that neither
    # the sums nor the permutation null (drawn position by position) depend
    # on the order of the rows: permuting stations gives the same result.
    order = canonical_order([reg, cast, lead] if codes is None else [codes, reg, cast, lead])
    return (reg[order], cast[order], lead[order],
            None if codes is None else codes[order], details, excluded)


def _centre(v, w, codes):
    """Weighted deviations from the overall mean, or from the group means."""
    if codes is None:
        return v - (w @ v) / w.sum()
    sums = np.bincount(codes, weights=w * v)
    wsum = np.bincount(codes, weights=w)
    return v - (sums / wsum)[codes]
