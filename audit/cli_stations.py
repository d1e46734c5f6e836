"""Station-level sub-commands (``audit run``, ``audit tests``)."""


def add_commands(sub) -> None:
    """Add the station-level sub-commands to the ``audit`` parser."""
