"""Response shapes of the Tracking API (Segment answers `{"success": true}`)."""

from __future__ import annotations

from pydantic import BaseModel


class Accepted(BaseModel):
    """Every event is durably in the spool (or was already: `duplicates`)."""

    success: bool = True
    accepted: int = 0
    duplicates: int = 0


class EventRefusal(BaseModel):
    """Why one event was refused; `index` is its place in the batch (0 for a single call)."""

    index: int
    messageId: str | None = None
    reason: str


class Refused(BaseModel):
    """A 4xx/5xx answer. For a batch with bad events (400), the good ones are
    durably kept (`accepted`) and each bad one has its reason in `errors`."""

    success: bool = False
    reason: str
    accepted: int = 0
    duplicates: int = 0
    errors: list[EventRefusal] = []
