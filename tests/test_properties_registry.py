"""Property-based tests (hypothesis) of every registered station-level test.

Parametrised over every name in :data:`audit.stations.registry.REGISTRY`, so a newly
registered test is covered without editing this file.  Arguments are built
from hypothesis-drawn station tables (``tests/_strategies.py``) through the
battery's own binding (``audit.stations.binding.bind``), so the
tests see what the battery gives them, ``groups`` included.

Properties
----------
1. Valid tables: a :class:`TestResult` with a finite statistic and a p-value
   in [0, 1] (nan only where the docstring documents it), JSON-ready, inputs
   left unchanged; or :class:`NotApplicable` with a reason.  Nothing else.
2. Row order: permuting the stations gives the same result (statistic,
   p-value, details and table, to rounding: ``ROUNDING``) with the same seed.
   Simulated nulls must not depend on the order of the rows either.
3. Seeds: the same seed gives the same result, field by field, whether it is
   passed as an int or as a Generator; a test documented as not using
   ``rng`` gives the same result for any seed.
4. Malformed values give the documented outcome: ``ValueError`` or
   ``TypeError`` whose message names the argument; or, where the test
   documents that it leaves such stations out, the result of the table
   without that station; and ``NotApplicable`` with a reason below the
   minimum number of units.

Options that switch a test to another null computation (``VARIANTS``:
``method="simulate"``, ``method="exact"``, Fisher's z...) go through
properties 1-3 too.  A simulation that still depends on row order in a file
this module's author may not edit is listed in ``ORDER_DEPENDENT``: there
the statistic must be the same and the p-values agree within Monte Carlo
error (``_mc_close``).  Known failures are strict xfails (``KNOWN``), so
fixing them turns the run red until the entry is removed.

Examples are derandomised and no example database is kept, so a run is
deterministic.  Monte Carlo options are shrunk (``_options``) and the
number of examples kept small (``EXAMPLES``) so that the file runs in well
under a minute; ``test_deep`` (slow mark) runs everything again with
``DEEP`` times the examples.
"""

from __future__ import annotations

import dataclasses
import inspect
import json
import math
import re

import numpy as np
import pandas as pd
import pytest
from _strategies import battery_args, make_table, station_tables
from hypothesis import HealthCheck, Phase, example, given, settings
from hypothesis import strategies as st

import audit.stations.forensics  # noqa: F401  (fills the registry)
from audit.stations.calibration import simulated as cal
from audit.core.errors import NotApplicable
from audit.stations.registry import REGISTRY
from audit.stations.result import TestResult

NAMES = sorted(REGISTRY)
BAD_INPUT = (ValueError, TypeError)

#: Monte Carlo knobs set small when a test has them (then the calibration's
#: own fast options, ``audit.stations.calibration.simulated.TEST_OPTIONS``, on top).
SMALL = {"n_resamples": 99, "n_boot": 20, "n_null": 19, "n_density": 5,
         "max_iter": 40, "null_iter": 5}

#: Relative tolerance for "the same result" computed from the same data in
#: another order: sums in another order differ in the last bits, and tail
#: probabilities (Poisson-binomial, saddlepoint) amplify that: a p-value of
#: 2e-9 was seen to move its log10 by 1e-9 relative.  Anything real is far
#: larger.
ROUNDING = 1e-6

#: Examples per test and property (times the property's scale); the slow
#: ``test_deep`` runs every property with ``DEEP`` times as many.
EXAMPLES = {"default": 16, "spikes": 8, "fingerprint": 4, "mixture": 6}
DEEP = 8


#: Known failures, as strict xfails: (test, property or kind) -> reason.
#: Both are in ``audit/stations/forensics/fingerprints/``, under rewrite elsewhere.
KNOWN: dict = {}


def _names(prop):
    """Every registered name, with a strict xfail where ``KNOWN`` says so."""
    return [pytest.param(n, marks=pytest.mark.xfail(strict=True, reason=KNOWN[n, prop]))
            if (n, prop) in KNOWN else n for n in NAMES]


def _options(name):
    params = inspect.signature(REGISTRY[name].func).parameters
    opts = {k: v for k, v in SMALL.items() if k in params}
    if name == "spikes":
        opts["n_resamples"] = 39
    return {**opts, **cal.TEST_OPTIONS.get(name, {})}


def _settings(name, scale=1.0, *, known_failure=False):
    n = max(3, int(EXAMPLES.get(name, EXAMPLES["default"]) * scale))
    # a strict xfail needs the failure, not its shrunk form: skip shrinking
    phases = [Phase.explicit, Phase.generate] if known_failure else list(Phase)
    return settings(max_examples=n, deadline=None, derandomize=True, database=None,
                    phases=phases,
                    suppress_health_check=[HealthCheck.too_slow,
                                           HealthCheck.data_too_large])


def _max_n(name):
    return 160 if name == "fingerprint" else 300


def _call(name, args, kwargs=None, rng=0):
    opts = {**_options(name), **(kwargs or {})}
    if name == "spikes" and opts.get("method") == "exact":
        opts.pop("n_resamples")      # the exact method has no resamples
    return REGISTRY[name].func(*args, rng=rng, **opts)


def _documents_nan(name):
    """The docstring says the p-value (or statistic) may be nan."""
    doc = " ".join((REGISTRY[name].func.__doc__ or "").split())
    near = r"(p-?value|statistic)\W[^.;]{0,40}\bnan\b|\bnan\b[^.;]{0,40}\W(p-?value|statistic)"
    return re.search(near, doc, re.IGNORECASE) is not None


def _rng_unused(name):
    """True when the docstring says ``rng`` is not used (with default options)."""
    doc = inspect.getdoc(REGISTRY[name].func) or ""
    m = re.search(r"^rng :.*?(?=^\S|\Z)", doc, re.DOTALL | re.MULTILINE)
    says = re.compile(r"unused|ignored|used only when", re.IGNORECASE)
    return bool(m) and bool(says.search(m.group(0)))


# ------------------------------------------------------------------ comparing
def _same(a, b, *, rtol=0.0, path="result"):
    """Assert ``a`` and ``b`` are equal (numbers to ``rtol``; nan == nan)."""
    if isinstance(a, pd.DataFrame) or isinstance(b, pd.DataFrame):
        assert isinstance(a, pd.DataFrame) and isinstance(b, pd.DataFrame), path
        pd.testing.assert_frame_equal(a, b, check_exact=rtol == 0, rtol=max(rtol, 1e-300),
                                      atol=1e-12 if rtol else 0, obj=path)
    elif isinstance(a, dict):
        assert isinstance(b, dict) and set(a) == set(b), f"{path}: keys differ"
        for k in a:
            _same(a[k], b[k], rtol=rtol, path=f"{path}[{k!r}]")
    elif isinstance(a, (list, tuple, np.ndarray)):
        a_, b_ = np.asarray(a), np.asarray(b)
        assert a_.shape == b_.shape, f"{path}: shapes {a_.shape} != {b_.shape}"
        if a_.dtype.kind in "fc" or b_.dtype.kind in "fc":
            np.testing.assert_allclose(a_.astype(float), b_.astype(float), rtol=rtol,
                                       atol=1e-12 if rtol else 0, equal_nan=True,
                                       err_msg=path)
        else:
            assert a_.tolist() == b_.tolist(), path
    elif isinstance(a, (float, np.floating)) or isinstance(b, (float, np.floating)):
        fa, fb = float(a), float(b)
        if math.isnan(fa) or math.isnan(fb):
            assert math.isnan(fa) and math.isnan(fb), f"{path}: {fa} != {fb}"
        else:
            assert fa == pytest.approx(fb, rel=rtol, abs=1e-12 if rtol else 0), \
                f"{path}: {fa!r} != {fb!r}"
    else:
        assert a == b, f"{path}: {a!r} != {b!r}"


def _same_result(r1, r2, *, rtol=0.0, order=None):
    """Every dataclass field (``table`` and the extras of subclasses too).

    ``excluded`` (and a per-station ``table`` with a ``position`` column)
    lists stations by their position in the input: with ``order`` (row j
    of the second input is row ``order[j]`` of the first) the positions of
    ``r2`` are mapped back before the two are compared.
    """
    assert type(r1) is type(r2)
    for f in dataclasses.fields(r1):
        a, b = getattr(r1, f.name), getattr(r2, f.name)
        if f.name == "excluded" and order is not None and a is not None and b is not None:
            back = sorted(zip(np.asarray(order)[b["position"].to_numpy()].tolist(),
                              b["reason"]))
            assert back == sorted(zip(a["position"].tolist(), a["reason"])), \
                "excluded stations differ after undoing the shuffle"
            continue
        if (f.name == "table" and order is not None and isinstance(a, pd.DataFrame)
                and isinstance(b, pd.DataFrame) and "position" in a.columns):
            # a per-station table names its stations by input position too
            b = b.assign(position=np.asarray(order)[b["position"].to_numpy()])
            a, b = (t.sort_values("position", kind="stable").reset_index(drop=True)
                    for t in (a, b))
        _same(a, b, rtol=rtol, path=f.name)


def _position_map(spec, table, order, leader):
    """Position in the shuffled test input -> position in the original one.

    The battery passes only the rows complete in the test's columns, so
    positions count complete rows; ``order`` shuffles all rows."""
    from audit.stations.binding import bind

    def complete(data):
        return np.flatnonzero(bind(spec, data, list(table.options), leader).complete)

    if table.data.empty:
        return np.zeros(0, np.int64)
    rank = np.full(len(table.data), -1)
    idx = complete(table.data)
    rank[idx] = np.arange(idx.size)
    return rank[np.asarray(order)[complete(table.data.iloc[order])]]


def _outcome(name, args, kwargs=None, rng=0):
    """The result, or the NotApplicable raised (other exceptions propagate)."""
    try:
        return _call(name, args, kwargs, rng)
    except NotApplicable as exc:
        return exc


# ------------------------------------------------------------------ edge tables
def _edge_tables(n):
    """Hand-picked corner cases (also run as explicit hypothesis examples)."""
    return [
        make_table(n, 3, "equal", "equal", "random", 2, 1),       # all-equal turnout
        make_table(n, 3, "mixed", "random", "leader_all", 1, 2),  # one option takes all
        make_table(n, 2, "mixed", "random", "one_option", 3, 3),  # a minor option takes all
        make_table(n, 1, "large", "narrow", "random", 2, 4),      # a single option
        make_table(n, 3, "tiny", "zero_some", "random", 2, 5),    # tiny stations, zeros
        make_table(n, 4, "small", "full", "tied", 4, 6),          # 100% turnout, ties
        make_table(n, 3, "large", "narrow", "random", 1, 7),      # clean-looking
    ]


def _with_edges(name, check, **extra):
    for table in _edge_tables(max(REGISTRY[name].min_units, 1)):
        check = example(table=table, **extra)(check)
    return check


# ------------------------------------------------------------------ property 1
def _assert_valid(name, res, args):
    assert isinstance(res, TestResult), f"{name} returned {type(res).__name__}"
    assert res.test == name
    stat, p = float(res.statistic), float(res.pvalue)
    assert math.isfinite(stat) or _documents_nan(name), f"{name}: statistic {stat}"
    assert (0 <= p <= 1) or (math.isnan(p) and _documents_nan(name)), f"{name}: p {p}"
    assert isinstance(res.n, (int, np.integer)) and 0 < res.n <= args[0].size
    json.dumps(res.to_dict(), allow_nan=False)
    assert len(res.to_frame()) == 1


@pytest.mark.parametrize("name", NAMES)
def test_valid_tables_give_a_result_or_a_reason(name, scale=1.0):
    spec = REGISTRY[name]

    @_settings(name, scale)
    @given(table=station_tables(min_n=spec.min_units, max_n=_max_n(name)))
    def check(table):
        args, kwargs = battery_args(spec, table)
        before = [a.copy() for a in args]
        res = _outcome(name, args, kwargs, rng=12345)
        for a, b in zip(args, before):                 # inputs not modified
            np.testing.assert_array_equal(a, b)
        if isinstance(res, NotApplicable):
            assert isinstance(res.reason, str) and res.reason.strip()
            return
        _assert_valid(name, res, args)

    _with_edges(name, check)()


# ------------------------------------------------------------------ property 2
@pytest.mark.parametrize("name", _names("row_order"))
def test_row_order_does_not_change_the_result(name, scale=1.0):
    spec = REGISTRY[name]

    @_settings(name, scale, known_failure=(name, "row_order") in KNOWN)
    @given(table=station_tables(min_n=spec.min_units, max_n=_max_n(name)),
           perm_seed=st.integers(0, 2**32 - 1))
    def check(table, perm_seed):
        leader = table.leader_column(None)
        order = np.random.default_rng(perm_seed).permutation(len(table.data))
        shuffled = dataclasses.replace(table, data=table.data.iloc[order])
        a = _outcome(name, *battery_args(spec, table, leader), rng=7)
        b = _outcome(name, *battery_args(spec, shuffled, leader), rng=7)
        if isinstance(a, NotApplicable) or isinstance(b, NotApplicable):
            assert type(a) is type(b), f"{name}: {a!r} vs {b!r}"
            return
        _same_result(a, b, rtol=ROUNDING,
                     order=_position_map(spec, table, order, leader))

    _with_edges(name, check, perm_seed=1)()


# ------------------------------------------------------------------ property 3
@pytest.mark.parametrize("name", NAMES)
def test_same_seed_same_result(name, scale=0.5):
    spec = REGISTRY[name]
    unused = _rng_unused(name)

    @_settings(name, scale)
    @given(table=station_tables(min_n=spec.min_units, max_n=_max_n(name)),
           seed=st.integers(0, 2**32 - 1))
    def check(table, seed):
        args, kwargs = battery_args(spec, table)
        first = _outcome(name, args, kwargs, rng=seed)
        if isinstance(first, NotApplicable):
            return
        again = _call(name, args, kwargs, rng=seed)
        _same_result(first, again)
        assert json.dumps(first.to_dict()) == json.dumps(again.to_dict())
        # a Generator seeded alike (as the battery passes) draws the same
        _same_result(first, _call(name, args, kwargs, rng=np.random.default_rng(seed)))
        if unused:                                     # documented: rng not used
            _same_result(first, _call(name, args, kwargs, rng=seed + 1))

    _with_edges(name, check, seed=2)()


# ------------------------------------------------------------------ variants
#: Options that switch a test to another null computation (simulated instead
#: of exact, or the reverse), run through properties 1-3 as well.
VARIANTS = [
    ("integer_percentages", {"method": "simulate", "n_resamples": 199}),
    ("integer_percentages", {"weight": "voters"}),
    ("spikes", {"method": "exact"}),
    ("turnout_dip", {"method": "simulate", "n_resamples": 49}),
    ("turnout_leader_correlation", {"method": "fisher"}),
    ("turnout_leader_correlation", {"weights": "none", "alternative": "greater"}),
    ("excess_votes", {"peak": "voters"}),
]

#: Variants whose simulation depends on the order of the rows (in a file this
#: module's author may not edit): there the statistic must still be the same
#: and the p-value may move by Monte Carlo error only (``_mc_close``).
ORDER_DEPENDENT: dict = {}


def _mc_close(p1, p2, n_draws):
    """Two simulated p-values from the same null with independent draws.

    Each is ``(k + 1) / (B + 1)`` with ``k ~ Bin(B, p)``, standard deviation
    ``sqrt(p (1 - p) / B)``; their difference has ``sqrt(2 p (1 - p) / B)``.
    Five of those (taking ``p`` as their mean) plus the ``2 / (B + 1)`` of
    the ``+1`` correction is exceeded with probability below 1e-6.
    """
    p = (p1 + p2) / 2
    tol = 5 * math.sqrt(2 * p * (1 - p) / n_draws) + 2 / (n_draws + 1)
    return abs(p1 - p2) <= tol, tol


def _variant_params():
    for name, opts in VARIANTS:
        if name in REGISTRY:
            label = ",".join(f"{k}={v}" for k, v in opts.items())
            yield pytest.param(name, opts, id=f"{name}[{label}]")


@pytest.mark.parametrize("name, variant", list(_variant_params()))
def test_variants_valid_order_free_and_seeded(name, variant, scale=0.5):
    spec = REGISTRY[name]
    order_dependent = (name, variant.get("method")) in ORDER_DEPENDENT

    def run(table, leader, rng):
        args, kwargs = battery_args(spec, table, leader)
        try:
            return _call(name, args, {**kwargs, **variant}, rng), args
        except NotApplicable as exc:
            assert exc.reason.strip()
            return exc, args

    @_settings(name, scale)
    @given(table=station_tables(min_n=spec.min_units, max_n=_max_n(name)),
           perm_seed=st.integers(0, 2**32 - 1))
    def check(table, perm_seed):
        leader = table.leader_column(None)
        a, args = run(table, leader, 11)
        if isinstance(a, NotApplicable):
            return
        _assert_valid(name, a, args)
        _same_result(a, run(table, leader, 11)[0])                   # property 3
        order = np.random.default_rng(perm_seed).permutation(len(table.data))
        b, _ = run(dataclasses.replace(table, data=table.data.iloc[order]), leader, 11)
        assert not isinstance(b, NotApplicable)
        if not order_dependent:                                        # property 2
            _same_result(a, b, rtol=ROUNDING,
                         order=_position_map(spec, table, order, leader))
            return
        _same(a.statistic, b.statistic, rtol=ROUNDING, path="statistic")
        ok, tol = _mc_close(a.pvalue, b.pvalue, variant["n_resamples"])
        assert ok, f"{name}: p-values {a.pvalue} and {b.pvalue} differ by more than {tol}"

    _with_edges(name, check, perm_seed=1)()


# ------------------------------------------------------------------ property 4
#: What each test declares at ``@register`` (``leaves_out``) for each kind
#: of malformed value: "skip" = the station (or, for the pooled digit tests,
#: the count) is left out, so the result is that of the data without it.
#: Any kind not declared must raise ValueError/TypeError naming the argument.
_KIND_OF = {"missing": "nan", "leader_over_cast": "leader_over_cast",
            "cast_over_registered": "cast_over_registered"}
DOCUMENTED = {(name, _KIND_OF[k]): ("skip",)
              for name, spec in REGISTRY.items() for k in spec.leaves_out}

ARG_KINDS = ("negative", "nan", "inf", "fraction", "string_element", "string_argument",
             "wrong_length", "wrong_ndim")
TABLE_KINDS = ("leader_over_cast", "cast_over_registered")
KINDS = ARG_KINDS + TABLE_KINDS + ("too_few",)


def _applies(spec, kind):
    needs = set(spec.needs)
    if kind == "wrong_length":
        return len(needs) > 1
    if kind == "leader_over_cast":
        return "ballots_cast" in needs and bool(needs & {"leader", "votes"})
    if kind == "cast_over_registered":
        return {"registered", "ballots_cast"} <= needs
    return True


def _cases():
    for name in NAMES:
        for kind in KINDS:
            if not _applies(REGISTRY[name], kind):
                continue
            marks = ()
            if (name, kind) in KNOWN:
                marks = (pytest.mark.xfail(strict=True, reason=KNOWN[name, kind]),)
            yield pytest.param(name, kind, id=f"{name}-{kind}", marks=marks)


def _corrupt(kind, arr, i, j, draw):
    """``arr`` with element (i, j) made malformed (a new array)."""
    if kind == "wrong_length":
        return arr[:-1]
    if kind == "wrong_ndim":
        return arr[..., None] if arr.ndim == 2 else np.c_[arr, arr]
    if kind == "string_argument":
        return "12, 15, 20"
    out = arr.astype(object if kind == "string_element" else float)
    idx = (i, j) if arr.ndim == 2 else i
    out[idx] = {"negative": -float(draw(st.integers(1, 1000))),
                "nan": np.nan, "inf": np.inf,
                "fraction": out[idx] + 0.5,
                "string_element": "twelve"}[kind]
    return out


def _drop(args, kwargs, i):
    """The same arguments without station ``i``."""
    return ([np.delete(a, i, axis=0) for a in args],
            {k: (np.delete(v, i) if k == "groups" else v) for k, v in kwargs.items()})


def _assert_names(exc, names, name, kind):
    msg = str(exc)
    assert any(re.search(rf"\b{n}\b", msg) for n in names), (
        f"{name}/{kind}: message does not name {' or '.join(names)}: {msg!r}")


def _compare_skip(name, got, ref):
    if isinstance(ref, NotApplicable) or isinstance(got, NotApplicable):
        assert type(got) is type(ref), f"{name}: {got!r} vs {ref!r}"
        return
    _assert_valid(name, got, [np.zeros(got.n)])
    for f in ("statistic", "pvalue", "n", "expected"):
        _same(getattr(got, f), getattr(ref, f), rtol=ROUNDING, path=f)


@pytest.mark.parametrize("name, kind", list(_cases()))
def test_malformed_values_give_the_documented_outcome(name, kind, scale=0.4):
    spec = REGISTRY[name]
    allowed = DOCUMENTED.get((name, kind), ("error",))
    min_n = 0 if kind == "too_few" else spec.min_units
    max_n = spec.min_units - 1 if kind == "too_few" else min(_max_n(name), 160)

    @_settings(name, scale, known_failure=(name, kind) in KNOWN)
    @given(table=station_tables(min_n=min_n, max_n=max_n), data=st.data())
    def check(table, data):
        leader = table.leader_column(None)
        n = len(table.data)
        if kind == "too_few":
            args, kwargs = battery_args(spec, table, leader)
            res = _outcome(name, args, kwargs)
            if isinstance(res, NotApplicable):
                assert res.reason.strip()
            else:   # pooled digit tests count values, not stations
                assert spec.needs == ("votes",) and args[0].size >= spec.min_units, (
                    f"{name}: {n} stations (< min_units={spec.min_units}) gave a result")
                _assert_valid(name, res, args)
            return
        if n == 0:
            return
        i = data.draw(st.integers(0, n - 1), label="station")
        if kind in TABLE_KINDS:
            d = table.data.copy()
            excess = data.draw(st.integers(1, 50), label="excess")
            if kind == "leader_over_cast":
                d.loc[d.index[i], leader] = d["ballots_cast"].iloc[i] + excess
                names = ("leader", "votes", "ballots_cast")
            else:
                d.loc[d.index[i], "ballots_cast"] = d["registered"].iloc[i] + excess
                d.loc[d.index[i], "ballots_issued"] = d["registered"].iloc[i] + excess
                names = ("ballots_cast", "registered")
            bad = dataclasses.replace(table, data=d)
            args, kwargs = battery_args(spec, bad, leader)
            ref_args, ref_kwargs = battery_args(
                spec, dataclasses.replace(table, data=table.data.drop(table.data.index[i])),
                leader)
        else:
            args, kwargs = battery_args(spec, table, leader)
            pos = data.draw(st.integers(0, len(args) - 1), label="argument")
            arr = args[pos]
            j = data.draw(st.integers(0, arr.shape[1] - 1), label="column") \
                if arr.ndim == 2 else 0
            args = list(args)
            args[pos] = _corrupt(kind, arr, i, j, data.draw)
            names = spec.needs if kind == "wrong_length" else (spec.needs[pos],)
            if spec.needs == ("votes",):   # pooled: the reference drops one count
                if arr.ndim == 2:
                    # the binomial null needs the station totals: a count of 0
                    # has a degenerate law and is left out, as a missing one is
                    ref = arr.astype(float).copy()
                    ref[i, j] = 0.0
                else:
                    ref = np.delete(arr.astype(float), i)
                ref_args, ref_kwargs = [ref], kwargs
            else:
                ref_args, ref_kwargs = _drop(
                    [a for a in battery_args(spec, table, leader)[0]], kwargs, i)
        try:
            got = _call(name, args, kwargs)
        except BAD_INPUT as exc:
            assert "error" in allowed, (
                f"{name}/{kind}: documented {allowed}, raised {type(exc).__name__}: {exc}")
            _assert_names(exc, names, name, kind)
            return
        except NotApplicable as exc:
            got = exc
        assert "skip" in allowed, (
            f"{name}/{kind}: expected ValueError/TypeError naming "
            f"{' or '.join(names)}, got {got!r}")
        _compare_skip(name, got, _outcome(name, ref_args, ref_kwargs))

    check()


# ------------------------------------------------------------------ deeper run
_PROPERTIES = {
    "valid": lambda name, scale: test_valid_tables_give_a_result_or_a_reason(name, scale),
    "row_order": lambda name, scale: test_row_order_does_not_change_the_result(name, scale),
    "seed": lambda name, scale: test_same_seed_same_result(name, scale / 2),
    **{f"variant{i}": (lambda name, scale, opts=opts:
                       test_variants_valid_order_free_and_seeded(name, opts, scale / 2))
       for i, (_, opts) in enumerate(VARIANTS)},
    **{kind: (lambda name, scale, kind=kind:
              test_malformed_values_give_the_documented_outcome(name, kind, scale * 0.4))
       for kind in KINDS},
}


def _deep_cases():
    for prop in _PROPERTIES:
        for name in NAMES:
            if prop in KINDS and not _applies(REGISTRY[name], prop):
                continue
            if prop.startswith("variant") and VARIANTS[int(prop[7:])][0] != name:
                continue
            marks = ([pytest.mark.xfail(strict=True, reason=KNOWN[name, prop])]
                     if (name, prop) in KNOWN else [])
            yield pytest.param(prop, name, id=f"{prop}-{name}", marks=marks)


@pytest.mark.slow
@pytest.mark.parametrize("prop, name", list(_deep_cases()))
def test_deep(prop, name):
    """Every property again with ``DEEP`` times the examples (slow mark)."""
    _PROPERTIES[prop](name, DEEP)
