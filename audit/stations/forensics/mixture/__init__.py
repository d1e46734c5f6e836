"""Per-station fraud estimates from a finite-mixture model (after
eforensics): the registered test in :mod:`.test`, its EM core and simulator
in :mod:`.model`."""

from .test import MixtureResult, mixture, mixture_table

__all__ = ["MixtureResult", "mixture", "mixture_table"]
