"""Figures. Plot functions take a result or a table, accept ``ax=None``,
return the Axes and compute nothing statistical themselves.

Use :func:`style` as a context manager and :func:`save_figure` to export.
"""

from .export import save_figure, style

__all__ = ["save_figure", "style"]
