"""Registry of station-level tests.

A test is a plain function whose positional parameters are named after the
data it needs (``registered``, ``ballots_issued``, ``ballots_cast``,
``invalid``, ``leader``, ``votes``) and whose options are keyword-only::

    @register("integer_percentages", family="integer-percentage",
              min_units=100)
    def integer_percentages(registered, ballots_issued, ballots_cast, leader,
                            *, period=1.0, rng=None): ...

The registry feeds each parameter from the canonical station table (``leader``
is the chosen option's column, ``votes`` the matrix of all option columns).
Third-party packages add tests through the entry-point group
``vote_audit.tests``; each entry point names a module or a function whose
import registers its tests. A plugin that fails to load gives a warning.

Everything the rest of the house needs to know about a test is declared
here, once, at ``@register``: its evidence class (does it hold its size on
real clean elections and on clean twins of real files, so that a rejection
counts as evidence?), the direction of any known size problem, its variants
(the same test with other options, e.g. with district labels), and the
cheaper options and simulation cap the calibration harness uses.  The
battery, the calibration harness, the reports and the property tests read
them from :data:`REGISTRY`.

Evidence class
--------------
``evidence=True``
    The test holds its nominal size (false-alarm rate at alpha within
    the calibration tolerance, or below it) on the real-data corpus: the
    honestly counted elections and clean twins of real station files
    (``docs/calibration.md``).  Its rejections are listed as evidence.
``evidence=False``
    Descriptive: it does not hold its size on real clean data (``why``
    says how and why), or it gives no p-value.  It is shown apart and
    never counted as evidence, whatever its p-value.
"""

from __future__ import annotations

import inspect
import warnings
from dataclasses import dataclass, field
from importlib import metadata
from typing import Callable

ROLES = ("registered", "ballots_issued", "ballots_cast", "invalid", "leader", "votes")
ENTRY_POINT_GROUP = "vote_audit.tests"


@dataclass(frozen=True)
class Column:
    """An option value taken from a column of the station table.

    ``Column("region")`` passes the region label of each station kept,
    aligned with the data arrays; ``Column(None)`` (:data:`GROUPS`) the
    finest hierarchy level above the station that the scope has with two
    units or more (district if the file has it, else region).
    """

    name: str | None

    def resolve(self, data) -> str | None:
        """The column of ``data`` this stands for (None if there is none)."""
        if self.name is not None:
            return self.name if self.name in data.columns else None
        return finest_level(data)


#: The finest administrative level of a scope, as the ``groups`` option.
GROUPS = Column(None)

#: Hierarchy levels above the station, finest first.
GROUP_LEVELS = ("district", "region")


def finest_level(data) -> str | None:
    """Finest level of :data:`GROUP_LEVELS` in ``data`` with two units or
    more (counted within their parents: the same district name in two
    regions is two units), or None."""
    for i, level in enumerate(GROUP_LEVELS):
        if level in data.columns:
            keys = [c for c in GROUP_LEVELS[i:] if c in data.columns]
            if len(data[keys].drop_duplicates()) >= 2 and data[level].notna().any():
                return level
    return None


FLAGS = ("", "liberal", "conservative")

#: Malformed inputs a test may leave out instead of refusing them (declared
#: at ``@register`` with ``leaves_out``): a missing count, more leader votes
#: than ballots cast, more ballots cast than registered voters.
LEAVES_OUT = ("missing", "leader_over_cast", "cast_over_registered")


@dataclass(frozen=True)
class Calibration:
    """What the calibration says of a test (or of one of its variants).

    Attributes
    ----------
    evidence : bool
        True when it holds its size on real clean elections and on clean
        twins of real files, so its rejections count as evidence.
    flag : {"", "liberal", "conservative"}
        Known direction of a size problem ("" when none is known).  A
        conservative test can still be evidence; a liberal one cannot.
    why : str
        The reason for the flag or for the descriptive class, in words.
    """

    evidence: bool = True
    flag: str = ""
    why: str = ""

    def __post_init__(self):
        if self.flag not in FLAGS:
            raise ValueError(f"flag must be one of {FLAGS}, got {self.flag!r}")
        if self.evidence and self.flag == "liberal":
            raise ValueError("a liberal test cannot be evidence: set evidence=False")
        if (self.flag or not self.evidence) and not self.why:
            raise ValueError("say why (why=...) a test is flagged or descriptive")

    @property
    def label(self) -> str:
        """``"evidence"`` or ``"descriptive"``."""
        return "evidence" if self.evidence else "descriptive"

    def note(self) -> str:
        """One line for the evidence table ('' for plain evidence)."""
        if self.evidence and not self.flag:
            return ""
        head = ("descriptive" if not self.evidence else self.flag)
        if self.flag and not self.evidence:
            head += f" ({self.flag})"
        return f"{head}: {self.why}"


@dataclass(frozen=True)
class Variant:
    """A registered test run with other options (its own calibration row).

    ``label`` is ``name[suffix]``, e.g. ``turnout_leader_correlation[groups]``.
    """

    suffix: str
    options: dict
    calibration: Calibration = field(default_factory=Calibration)


@dataclass(frozen=True)
class TestSpec:
    """What the battery needs to know about one registered test."""

    __test__ = False

    name: str
    func: Callable
    family: str
    needs: tuple[str, ...]
    min_units: int
    null: str
    description: str
    calibration: Calibration = field(default_factory=Calibration)
    variants: tuple = ()
    calibration_options: dict = field(default_factory=dict)
    max_sims: int | None = None
    max_twins: int | None = None
    default: bool = True
    leaves_out: tuple[str, ...] = ()
    cost: float = 1.0
    stand_ins: tuple = ()

    @property
    def evidence(self) -> bool:
        """True when the default call counts as evidence."""
        return self.calibration.evidence

    def variant(self, suffix: str) -> Variant:
        """The variant ``name[suffix]``."""
        for v in self.variants:
            if v.suffix == suffix:
                return v
        raise KeyError(f"{self.name} has no variant [{suffix}]")

    def labels(self) -> dict:
        """Calibration label -> (options, Calibration), the plain test first."""
        out = {self.name: ({}, self.calibration)}
        for v in self.variants:
            out[f"{self.name}[{v.suffix}]"] = (dict(v.options), v.calibration)
        return out

    def classify(self, options: dict) -> tuple[str, Calibration]:
        """Label and calibration of a call with ``options``: the variant
        whose options are all among them (the most specific), else the
        plain test."""
        best = (self.name, self.calibration, -1)
        for v in self.variants:
            if all(k in options for k in v.options) and len(v.options) > best[2]:
                best = (f"{self.name}[{v.suffix}]", v.calibration, len(v.options))
        return best[0], best[1]

    def applies(self, available: set[str]) -> str | None:
        """``None`` if the needed columns are available (or their declared
        stand-ins, see :func:`register`), else the reason."""
        stand = dict(self.stand_ins)
        missing = [r for r in self.needs
                   if r not in available and stand.get(r) not in available]
        if missing:
            return f"{self.name} needs {', '.join(missing)}, which the data lack"
        return None


REGISTRY: dict[str, TestSpec] = {}


#: The reason given to a test registered without a declared evidence class.
UNCALIBRATED = ("not yet shown to hold its size on the real-data corpus; run "
                "audit calibrate --tests NAME, then declare evidence=True at "
                "@register if it does")


def register(name: str, *, family: str, min_units: int = 1, null: str = "",
             evidence: bool | None = None, flag: str = "", why: str = "",
             variants: dict | None = None, calibration_options: dict | None = None,
             max_sims: int | None = None, max_twins: int | None = None,
             default: bool = True, leaves_out: tuple = (), cost: float = 1.0,
             stand_ins: dict | None = None):
    """Decorator that registers a station-level test under ``name``.

    Parameters
    ----------
    name, family : str
        Registered name and family (digits, distribution, ...).
    min_units : int
        Fewest stations the test runs on; the battery refuses below it.
    null : str
        The null hypothesis in words.
    evidence, flag, why
        The evidence class of the default call (see :class:`Calibration`).
        A test that does not declare ``evidence`` is descriptive, with
        :data:`UNCALIBRATED` as its reason: a new test is not evidence until
        the real-data calibration says it holds its size.
    variants : dict, optional
        ``suffix -> Variant`` or ``suffix -> options dict`` (then evidence
        like the plain test): the same test with other options, calibrated
        on its own row ``name[suffix]``.  An option value :data:`GROUPS`
        stands for the labels of the finest hierarchy level.
    calibration_options : dict, optional
        Options the calibration harness passes instead of the defaults:
        cheaper ones, or, for a test the battery reports as an estimate
        (the fingerprint), the refits that give it a p-value to calibrate.
        The calibration page lists them beside the test.
    max_sims : int, optional
        Cap on simulations per scenario in the calibration (slow tests).
    max_twins : int, optional
        Cap on twins per file and scenario in the real-data calibration
        (tests that take minutes on a whole national file); the clean real
        elections always run.
    default : bool, default True
        False keeps the test out of the battery's default set (a model that
        takes a minute or more on a national file): it runs when named.
    leaves_out : tuple of str
        Which malformed inputs (:data:`LEAVES_OUT`) the test leaves out, the
        station (or, for the pooled digit tests, the count) dropped so that
        the result is that of the data without it.  Any other malformed
        value must raise ``ValueError``/``TypeError`` naming the argument;
        the property tests hold every test to what it declares here.
    cost : float, default 1.0
        Rough running time on a national file, relative to a plain digit
        test (a fraction of a second on 100,000 stations).  Used only to
        schedule: when the battery spreads its tests over processes it
        starts the costliest first, so that one long test does not start
        last.  Results never depend on it.
    stand_ins : dict, optional
        ``role -> role``: a data role the test may read from another
        column when the table has no value at all in its own, e.g.
        ``{"ballots_issued": "ballots_cast"}`` for a turnout that most
        countries count as ballots cast (files without ballots issued).
        The battery records the stand-in in the result's details
        (``read_as``), so a report can say what was read.

    Raises
    ------
    ValueError
        If ``name`` is taken, the function takes ``*args``/``**kwargs``, a
        positional parameter is not a known data role, it has no ``rng``
        keyword, a variant or calibration option is not one of its keyword
        options, the evidence class is inconsistent, or ``leaves_out`` names
        an unknown kind of input.
    """
    leaves_out = tuple(leaves_out)
    unknown = sorted(set(leaves_out) - set(LEAVES_OUT))
    if unknown:
        raise ValueError(f"test {name!r}: leaves_out {', '.join(unknown)} unknown; "
                         f"known: {', '.join(LEAVES_OUT)}")
    if not (isinstance(cost, (int, float)) and cost > 0):
        raise ValueError(f"test {name!r}: cost must be a positive number, got {cost!r}")
    if evidence is None:
        evidence, why = False, why or UNCALIBRATED.replace("NAME", name)
    cal = Calibration(evidence=evidence, flag=flag, why=why)

    def decorate(func: Callable) -> Callable:
        if name in REGISTRY:
            raise ValueError(f"a test named {name!r} is already registered "
                             f"({REGISTRY[name].func.__module__})")
        sig = inspect.signature(func)
        needs = []
        for p in sig.parameters.values():
            if p.kind in (p.VAR_POSITIONAL, p.VAR_KEYWORD):
                raise ValueError(f"test {name!r}: *args/**kwargs are not allowed "
                                 f"(parameter {p.name!r}); name every option")
            if p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD):
                if p.name not in ROLES:
                    raise ValueError(
                        f"test {name!r}: data parameter {p.name!r} is not one of "
                        f"{', '.join(ROLES)}; make options keyword-only")
                needs.append(p.name)
        if "rng" not in sig.parameters:
            raise ValueError(f"test {name!r}: needs a keyword-only 'rng' parameter")
        if not needs:
            raise ValueError(f"test {name!r}: takes no data parameter")
        keywords = {p.name for p in sig.parameters.values() if p.kind == p.KEYWORD_ONLY}
        built = []
        for suffix, v in (variants or {}).items():
            if not isinstance(v, Variant):
                v = Variant(suffix, dict(v), cal)
            elif v.suffix != suffix:
                v = Variant(suffix, v.options, v.calibration)
            bad = sorted(set(v.options) - keywords)
            if bad:
                raise ValueError(f"test {name!r}: variant [{suffix}] sets "
                                 f"{', '.join(bad)}, not keyword options of the test")
            built.append(v)
        bad = sorted(set(calibration_options or {}) - keywords)
        if bad:
            raise ValueError(f"test {name!r}: calibration_options {', '.join(bad)} are "
                             "not keyword options of the test")
        stand = tuple((stand_ins or {}).items())
        for role, other in stand:
            if role not in needs or other not in ROLES or other == role:
                raise ValueError(f"test {name!r}: stand_ins {role!r} -> {other!r}: the "
                                 "first must be a data parameter of the test, the "
                                 "second another data role")
        doc = inspect.getdoc(func) or ""
        REGISTRY[name] = TestSpec(
            name=name, func=func, family=family, needs=tuple(needs),
            min_units=min_units, null=null,
            description=doc.splitlines()[0] if doc else "", calibration=cal,
            variants=tuple(built), calibration_options=dict(calibration_options or {}),
            max_sims=max_sims, max_twins=max_twins, default=bool(default),
            leaves_out=leaves_out, cost=float(cost), stand_ins=stand)
        func.spec = REGISTRY[name]
        return func

    return decorate


def load_plugins() -> list[str]:
    """Import every ``vote_audit.tests`` entry point; return those loaded."""
    loaded = []
    for ep in metadata.entry_points(group=ENTRY_POINT_GROUP):
        try:
            ep.load()
        except Exception as exc:  # a broken plugin must not stop the audit
            warnings.warn(f"plugin {ep.name!r} ({ep.value}) failed to load: {exc}",
                          RuntimeWarning, stacklevel=2)
        else:
            loaded.append(ep.name)
    return loaded


