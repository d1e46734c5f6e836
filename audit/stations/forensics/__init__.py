"""Station-level forensic tests.

Importing this package imports every module in it, so that each module's
``@register`` decorators fill :data:`audit.stations.registry.REGISTRY`.
The built-in families are imported in the order of :data:`ORDER` (the order
of the battery's rows and of ``audit tests``); any other module follows,
by name.
"""

import importlib
import pkgutil

#: Registration order of the built-in test families.
ORDER = ("integer_percentages", "digits", "distributions", "excess_votes",
         "fingerprints", "spikes", "mixture")

_found = sorted(m.name for m in pkgutil.iter_modules(__path__) if not m.name.startswith("_"))
for _name in [n for n in ORDER if n in _found] + [n for n in _found if n not in ORDER]:
    importlib.import_module(f"{__name__}.{_name}")
