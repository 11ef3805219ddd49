"""Exceptions shared by the config loader, the HTTP layer, destinations and the engine.

The split that matters is *what the destination may have done* when an error is
raised, because the engine's crash-safety depends on it:

- `AuthError`, `BatchRejectedError`: the request was refused; nothing was applied.
- `RateLimitedError`: the last attempts were refused with 429.
  For these three, `maybe_applied` is still set when an earlier attempt (or an
  earlier step of the same batch) may have landed; the engine then keeps the
  batch for reconciliation instead of forgetting it.
- `AmbiguousDeliveryError`: a write may or may not have been applied (timeout,
  connection dropped after sending, 5xx). The engine reconciles before resending.
- `TransientError`: retries of a request that is safe to repeat were exhausted.
"""

from __future__ import annotations


class ReverseEtlError(Exception):
    """Base class for every error this package raises on purpose."""


class ConfigError(ReverseEtlError):
    """A sync definition is invalid; the message names the sync and the field."""


class SourceError(ReverseEtlError):
    """The source model cannot be read or breaks the sync's assumptions (duplicate keys)."""


class DestinationError(ReverseEtlError):
    """A destination call failed. `maybe_applied` says whether a write may have landed."""

    maybe_applied: bool = False

    def __init__(self, destination: str, message: str) -> None:
        super().__init__(f"{destination}: {message}")
        self.destination = destination


class AuthError(DestinationError):
    """401/403: the credentials named by `field` were refused. Never retried."""

    def __init__(self, destination: str, field: str, detail: str) -> None:
        super().__init__(destination, f"credentials rejected ({detail}); check {field}")
        self.field = field


class BatchRejectedError(DestinationError):
    """A 4xx other than 401/403/429 for a whole request: a bug or a config problem."""


class RateLimitedError(DestinationError):
    """429 on every attempt, or a Retry-After longer than the client will wait."""


class TransientError(DestinationError):
    """5xx/timeouts persisted on a request that is safe to repeat (reads, keyed writes)."""

    maybe_applied = True


class AmbiguousDeliveryError(DestinationError):
    """A non-repeatable write timed out or got a 5xx: it may have been applied."""

    maybe_applied = True
