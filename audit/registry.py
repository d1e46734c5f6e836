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
"""

from __future__ import annotations

import inspect
import warnings
from dataclasses import dataclass
from importlib import metadata
from typing import Callable

ROLES = ("registered", "ballots_issued", "ballots_cast", "invalid", "leader", "votes")
ENTRY_POINT_GROUP = "vote_audit.tests"


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

    def applies(self, available: set[str]) -> str | None:
        """``None`` if the needed columns are available, else the reason."""
        missing = [r for r in self.needs if r not in available]
        if missing:
            return f"{self.name} needs {', '.join(missing)}, which the data lack"
        return None


REGISTRY: dict[str, TestSpec] = {}


def register(name: str, *, family: str, min_units: int = 1, null: str = ""):
    """Decorator that registers a station-level test under ``name``.

    Raises
    ------
    ValueError
        If ``name`` is taken, the function takes ``*args``/``**kwargs``, a
        positional parameter is not a known data role, or it has no ``rng``
        keyword.
    """

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
        doc = inspect.getdoc(func) or ""
        REGISTRY[name] = TestSpec(
            name=name, func=func, family=family, needs=tuple(needs),
            min_units=min_units, null=null,
            description=doc.splitlines()[0] if doc else "")
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
