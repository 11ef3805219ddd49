"""What the Profile API reads from the serving store.

The serving store (`cdp/serve/store/protocol.py`, issue #17 item 1) has this
shape; the routes depend only on the attributes below, so they read any store
with these methods. `StoreUnavailable` (anything with a one-line `reason`)
from a call is a 503, and the next request opens the store again (a store
file back, Redis up again: no restart).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Protocol


class StoreUnavailable(Exception):
    """The store cannot answer now (file missing, Redis down)."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


class Identifier(Protocol):
    type: str
    value: str
    source: str | None


class SegmentMembership(Protocol):
    segment: str
    entered_at: str | None


class ConsentState(Protocol):
    channel: str
    purpose: str
    status: str
    is_granted: bool
    as_of: str | None


class Event(Protocol):
    activity_id: str
    type: str
    occurred_at: str
    source: str | None
    detail: str | None
    amount: float | None


class Profile(Protocol):
    customer_id: str
    build_id: str
    traits: Mapping[str, object]  # golden columns
    field_groups: Mapping[str, str]  # trait or score -> pii / traits / scores
    identifiers: Sequence[Identifier]
    segments: Sequence[SegmentMembership]
    consent: Sequence[ConsentState]
    scores: Mapping[str, object]


class ProfileStore(Protocol):
    def build_id(self) -> str | None: ...

    def resolve(self, id_type: str, value: str) -> str | None: ...

    def profile(self, customer_id: str) -> Profile | None: ...

    def events(
        self, customer_id: str, limit: int, cursor: str | None = None
    ) -> tuple[Sequence[Event], str | None]: ...


StoreOpener = Callable[[], ProfileStore]


def unavailable_reason(exc: BaseException) -> str | None:
    """The reason of a StoreUnavailable, ours or the store's (same name and shape)."""
    if type(exc).__name__ == "StoreUnavailable":
        return str(getattr(exc, "reason", exc))
    return None
