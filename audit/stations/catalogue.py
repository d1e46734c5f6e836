"""The registry filled: the built-in tests, the plugins, and what the
calibration harness and the battery read from their declarations.

:mod:`audit.stations.registry` holds the decorator and the specs and
imports no test; this module imports every built-in test
(:mod:`audit.stations.forensics`) and the ``vote_audit.tests`` plugins
before answering, so a question about "every test" never misses one.
"""

from __future__ import annotations

from . import forensics  # noqa: F401  (registers the built-in tests)
from . import registry
from .registry import REGISTRY, Calibration, TestSpec


_PLUGINS_LOADED = False


def filled() -> dict[str, TestSpec]:
    """The registry with the built-in tests and the plugins loaded (the
    entry points are read once per process: scanning them takes tens of
    milliseconds, and the calibration asks for every task)."""
    global _PLUGINS_LOADED
    if not _PLUGINS_LOADED:
        registry.load_plugins()
        _PLUGINS_LOADED = True
    return REGISTRY


def calibration_labels() -> dict[str, tuple[str, dict, Calibration]]:
    """Every calibration row: label -> (registered name, options, Calibration),
    the plain tests and their variants."""
    out = {}
    for name, spec in sorted(filled().items()):
        for label, (options, cal) in spec.labels().items():
            out[label] = (name, options, cal)
    return out


def declared_flags() -> dict[str, tuple[str, str]]:
    """Label -> (flag, why) for every test or variant declared off its size
    or descriptive (flag ``"descriptive"`` when not evidence and no
    direction is known)."""
    out = {}
    for label, (_, _, cal) in calibration_labels().items():
        if cal.flag or not cal.evidence:
            out[label] = (cal.flag or "descriptive", cal.why)
    return out


def test_options() -> dict[str, dict]:
    """Label -> the cheaper options the calibration harness passes."""
    out = {}
    for label, (name, _, _) in calibration_labels().items():
        opts = REGISTRY[name].calibration_options
        if opts:
            out[label] = dict(opts)
    return out


def max_sims() -> dict[str, int]:
    """Label -> cap on simulations per scenario."""
    return {label: REGISTRY[name].max_sims
            for label, (name, _, _) in calibration_labels().items()
            if REGISTRY[name].max_sims}


def is_evidence(label: str) -> bool:
    """Whether the calibration label (test or variant) counts as evidence."""
    labels = calibration_labels()
    if label not in labels:
        raise KeyError(f"no registered test or variant {label!r}")
    return labels[label][2].evidence
