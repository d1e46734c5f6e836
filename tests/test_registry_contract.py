"""One contract for every registered test (after scikit-learn's estimator
checks), plus tests of ``register`` and of plugin loading.

Each registered test must: return a TestResult with a finite statistic (or
a nan its docstring documents), a p-value in [0, 1] (or a documented nan),
give the same answer for the same rng, raise a clear error on bad input,
and (slow) hold its size on simulated clean elections unless its flag is
declared at ``@register``.  The declared evidence classes are checked
against the stored real-data calibration rows (``docs/calibration/``).
"""

import math
import warnings

import numpy as np
import pytest

import audit.stations.forensics  # noqa: F401  (fills the registry)
from audit.stations.calibration import simulated as cal
from audit.stations import catalogue, registry
from audit.core.errors import NotApplicable
from audit.stations.registry import REGISTRY, register
from audit.stations.result import TestResult
from audit.stations.simulate import clean_election

NAMES = sorted(REGISTRY)
BAD_INPUT = (ValueError, TypeError)


@pytest.fixture(scope="module")
def election():
    return clean_election(1500, rng=20261125)


def _args(spec, table):
    from audit.stations.binding import bind

    return bind(spec, table.data, list(table.options), "leader", groups=False).args


def _call(spec, args, rng=0):
    return spec.func(*args, rng=rng, **spec.calibration_options)


def _documents_nan(spec):
    return "nan" in (spec.func.__doc__ or "").lower()


def test_registry_is_not_empty():
    assert len(NAMES) >= 7                      # at least the distribution tests


@pytest.mark.parametrize("name", NAMES)
def test_contract(name, election):
    spec = REGISTRY[name]
    assert spec.needs and spec.family and spec.min_units >= 1
    args = _args(spec, election)
    # 1,500 clean stations with every column: every built-in test must run
    # (a test that always refuses would otherwise pass the contract)
    res = _call(spec, args, rng=123)
    assert isinstance(res, TestResult)
    stat, p = float(res.statistic), float(res.pvalue)
    assert math.isfinite(stat) or _documents_nan(spec), f"{name}: statistic {stat}"
    assert (0 <= p <= 1) or (math.isnan(p) and _documents_nan(spec)), f"{name}: p {p}"
    assert isinstance(res.n, (int, np.integer)) and 0 < res.n <= args[0].size
    again = _call(spec, args, rng=123)
    np.testing.assert_equal([again.statistic, again.pvalue, again.n],
                            [res.statistic, res.pvalue, res.n])
    res.to_frame()                               # one tidy row
    res.to_dict()


@pytest.mark.parametrize("name", NAMES)
def test_contract_bad_input(name, election):
    spec = REGISTRY[name]
    args = _args(spec, election)
    # negative counts
    bad = [a.copy() for a in args]
    bad[0].flat[0] = -5
    with pytest.raises(BAD_INPUT):
        _call(spec, bad)
    # mismatched lengths (only meaningful with two or more data arrays)
    if len(args) > 1:
        with pytest.raises(BAD_INPUT):
            _call(spec, [args[0][:-1], *args[1:]])
    # too few stations
    with pytest.raises((NotApplicable, ValueError)):
        _call(spec, [a[:3] for a in args])


@pytest.mark.slow
@pytest.mark.parametrize("name", NAMES)
def test_contract_size_on_clean_elections(name):
    rep = cal.calibrate([name], scenarios=["clean"], n_sim=60, n_stations=1500,
                        root_seed=777)
    row = rep.summary.iloc[0]
    assert row.n_error == 0, row.first_reason
    # 1,500 clean stations with every column: every run must run (a test that
    # refuses is not a test that holds its size)
    assert row.n_not_applicable == 0, (
        f"{name} refused {row.n_not_applicable} of {row.n_run} clean elections: "
        f"{row.first_reason}")
    if row.n_pvalue == 0:       # statistic only: allowed when the docstring says so
        assert _documents_nan(REGISTRY[name]), f"{name} gave no p-value on clean elections"
        return
    if row.flag == "":
        return
    declared = REGISTRY[name].calibration.flag
    assert row.flag == declared, (
        f"{name}: false-alarm rate {row.rate:.3f} [{row.ci_low:.3f}, {row.ci_high:.3f}] "
        f"is {row.flag}; fix the test or declare flag= at @register")


# ------------------------------------------------------------ register itself
@pytest.fixture
def empty_registry(monkeypatch):
    monkeypatch.setattr(registry, "REGISTRY", {})
    return registry.REGISTRY


def test_register_records_spec(empty_registry):
    @register("toy", family="toy", min_units=5, null="nothing")
    def toy(registered, leader, *, width=1.0, rng=None):
        """Toy test.

        More text."""

    spec = empty_registry["toy"]
    assert spec.needs == ("registered", "leader") and spec.min_units == 5
    assert spec.description == "Toy test." and toy.spec is spec
    assert spec.applies({"registered"}) == "toy needs leader, which the data lack"
    assert spec.applies({"registered", "leader"}) is None


def test_register_rejects_duplicates(empty_registry):
    @register("twice", family="toy")
    def first(votes, *, rng=None):
        pass

    with pytest.raises(ValueError, match="already registered"):
        @register("twice", family="toy")
        def second(votes, *, rng=None):
            pass


@pytest.mark.parametrize("src, match", [
    ("def f(votes, *args, rng=None): pass", r"\*args/\*\*kwargs"),
    ("def f(votes, *, rng=None, **kwargs): pass", r"\*args/\*\*kwargs"),
    ("def f(votes, width, *, rng=None): pass", "'width' is not one of"),
    ("def f(votes, *, width=1): pass", "rng"),
    ("def f(*, rng=None): pass", "no data parameter"),
])
def test_register_rejects_bad_signatures(empty_registry, src, match):
    ns = {}
    exec(src, ns)
    with pytest.raises(ValueError, match=match):
        register("bad", family="toy")(ns["f"])
    assert "bad" not in empty_registry


class _EntryPoint:
    def __init__(self, name, value, loader):
        self.name, self.value, self._loader = name, value, loader

    def load(self):
        return self._loader()


def test_broken_plugin_warns_and_good_plugin_loads(monkeypatch, empty_registry):
    def good():
        @register("plugin_test", family="plugin")
        def plugin_test(votes, *, rng=None):
            pass
        return plugin_test

    def broken():
        raise ImportError("No module named 'vote_audit_broken'")

    eps = [_EntryPoint("broken", "vote_audit_broken:tests", broken),
           _EntryPoint("good", "vote_audit_good:tests", good)]
    seen = {}

    def fake_entry_points(*, group):
        seen["group"] = group
        return eps

    monkeypatch.setattr(registry.metadata, "entry_points", fake_entry_points)
    with pytest.warns(RuntimeWarning, match="plugin 'broken'.*failed to load"):
        loaded = registry.load_plugins()
    assert loaded == ["good"]
    assert seen["group"] == registry.ENTRY_POINT_GROUP == "vote_audit.tests"
    assert "plugin_test" in empty_registry


def test_no_plugins_no_warning(monkeypatch):
    monkeypatch.setattr(registry.metadata, "entry_points", lambda *, group: [])
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert registry.load_plugins() == []


# ------------------------------------------------------------ evidence classes
def test_register_declares_class_variants_and_calibration(empty_registry):
    @register("toy2", family="toy", evidence=False, why="no size on real data",
              variants={"wide": {"width": 2.0},
                        "groups": registry.Variant("groups", {"groups": registry.GROUPS},
                                                   registry.Calibration())},
              calibration_options={"width": 0.5}, max_sims=7, leaves_out=["missing"])
    def toy2(votes, *, width=1.0, groups=None, rng=None):
        pass

    spec = empty_registry["toy2"]
    assert not spec.evidence and spec.calibration.label == "descriptive"
    assert spec.calibration.note() == "descriptive: no size on real data"
    # a plain variant inherits the test's class; a declared one keeps its own
    assert not spec.variant("wide").calibration.evidence
    assert spec.variant("groups").calibration.evidence
    assert spec.classify({"groups": ["a", "b"]})[0] == "toy2[groups]"
    assert spec.classify({})[0] == "toy2"
    assert spec.calibration_options == {"width": 0.5} and spec.max_sims == 7
    assert spec.leaves_out == ("missing",)
    monkey_labels = {label: opts for label, (opts, _) in spec.labels().items()}
    assert monkey_labels == {"toy2": {}, "toy2[wide]": {"width": 2.0},
                             "toy2[groups]": {"groups": registry.GROUPS}}


@pytest.mark.parametrize("kwargs, match", [
    ({"evidence": False, "flag": "liberal"}, "say why"),
    ({"evidence": True, "flag": "liberal", "why": "x"}, "liberal test cannot be evidence"),
    ({"flag": "odd", "why": "x", "evidence": False}, "flag must be one of"),
    ({"variants": {"v": {"nope": 1}}}, "not keyword options"),
    ({"calibration_options": {"nope": 1}}, "not keyword options"),
    ({"leaves_out": ("missing", "nan")}, "leaves_out nan unknown"),
])
def test_register_rejects_bad_declarations(empty_registry, kwargs, match):
    with pytest.raises(ValueError, match=match):
        @register("bad2", family="toy", **kwargs)
        def bad2(votes, *, width=1.0, rng=None):
            pass
    assert "bad2" not in empty_registry


def test_derived_tables_follow_the_registry():
    flags = cal.DECLARED_FLAGS
    for label, (name, opts, c) in catalogue.calibration_labels().items():
        assert (label in flags) == bool(c.flag or not c.evidence)
        if label != name:
            assert cal.VARIANTS[label] == (name, opts)
    for name, spec in REGISTRY.items():
        if spec.calibration_options:
            assert cal.TEST_OPTIONS[name] == spec.calibration_options


def test_battery_and_calibration_do_not_import_each_other():
    # Directly or through other modules (the import graph of the package).
    grimp = pytest.importorskip("grimp")
    graph = grimp.build_graph("audit", cache_dir=None)

    def reaches(importer, imported):
        return graph.chain_exists(importer, imported, as_packages=True)

    assert not reaches("audit.stations.battery", "audit.stations.calibration")
    assert not reaches("audit.stations.battery", "audit.stations.distributed")
    assert not reaches("audit.stations.binding", "audit.stations.battery")
    assert not reaches("audit.stations.binding", "audit.stations.calibration")


def test_a_test_without_a_declared_class_is_descriptive(empty_registry):
    @register("fresh", family="toy")
    def fresh(votes, *, rng=None):
        pass

    spec = empty_registry["fresh"]
    assert not spec.evidence
    assert "audit calibrate --tests fresh" in spec.calibration.why
