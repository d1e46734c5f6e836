"""Station-level forensic tests.

Importing this package imports every module in it, so that each module's
``@register`` decorators fill :data:`audit.registry.REGISTRY`.
"""

import importlib
import pkgutil

for _info in sorted(pkgutil.iter_modules(__path__), key=lambda m: m.name):
    if not _info.name.startswith("_"):
        importlib.import_module(f"{__name__}.{_info.name}")
