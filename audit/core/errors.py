"""Error types shared by every room of the package.

Bad input is reported as one line naming the file, the row and the column.
A statistical test that does not apply raises :class:`NotApplicable` with the
reason, so that a battery can record the refusal instead of a number.
"""

from __future__ import annotations


class AuditError(Exception):
    """Base class for errors the command line reports as one line."""


class InputError(AuditError, ValueError):
    """A file or argument that cannot be read as documented.

    Parameters
    ----------
    message : str
        What was expected and what was found.
    file, row, column : optional
        Where the problem is. ``row`` counts data rows from 1, as a
        spreadsheet user would see them below the header (header = row 1,
        so the first data row is row 2).
    """

    def __init__(self, message: str, *, file=None, row=None, column=None):
        self.message = message
        self.file = None if file is None else str(file)
        self.row = row
        self.column = column
        super().__init__(str(self))

    def __str__(self) -> str:
        where = []
        if self.file is not None:
            where.append(self.file)
        if self.row is not None:
            where.append(f"row {self.row}")
        if self.column is not None:
            where.append(f"column '{self.column}'")
        prefix = ", ".join(where)
        return f"{prefix}: {self.message}" if prefix else self.message


class NotApplicable(AuditError):
    """A test refuses to run on these data; ``reason`` says why."""

    def __init__(self, reason: str):
        self.reason = reason
        super().__init__(reason)
