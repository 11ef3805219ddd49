"""The layer's errors: each message is one line a user can act on, never a secret."""

from __future__ import annotations


class WarehouseError(RuntimeError):
    """The warehouse cannot be opened or read; the message is one line."""


class WarehouseLocked(WarehouseError):
    """Another process held the DuckDB file for longer than the lock timeout."""


class TargetUnsupported(WarehouseError):
    """A feature that cannot run on the configured target (said at start-up)."""


def one_line(exc: BaseException) -> str:
    """The first line of an exception's message (drivers add hints below it)."""
    text = str(exc).strip().splitlines()
    return text[0].strip() if text else type(exc).__name__
