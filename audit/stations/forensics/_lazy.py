"""SciPy sub-packages imported on first use, not when the registry fills.

``from ._lazy import stats`` gives an object that behaves like
``scipy.stats`` but imports it only when an attribute is first read, so
``audit run --tests integer_percentages`` does not pay for importing every
SciPy sub-package that some other registered test needs (about a second of
a short run). Each attribute, once read, is kept on the proxy.
"""

from __future__ import annotations

import importlib


class _LazyModule:
    def __init__(self, name: str):
        self._name = name

    def __getattr__(self, attr):
        if attr.startswith("__"):
            raise AttributeError(attr)
        value = getattr(importlib.import_module(self._name), attr)
        setattr(self, attr, value)
        return value

    def __repr__(self):
        return f"<lazy {self._name}>"


linalg = _LazyModule("scipy.linalg")
optimize = _LazyModule("scipy.optimize")
sparse = _LazyModule("scipy.sparse")
special = _LazyModule("scipy.special")
stats = _LazyModule("scipy.stats")
