"""The ``audit`` command line: :func:`main` and its sub-commands."""

from .main import main

__all__ = ["main"]
