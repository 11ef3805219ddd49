"""Typed settings of the webhook destination."""

from __future__ import annotations

from typing import ClassVar, Literal

from pydantic import Field

from reverse_etl.batch import Mode, SyncContext
from reverse_etl.destinations.base import DestinationSettings, EnvVarName


class WebhookSettings(DestinationSettings):
    """POST signed JSON batches to `url`.

    signing_secret_env: variable holding the HMAC-SHA256 key shared with the receiver.
    payload: "records" (default: {operation, records}) or "events" ({type: "events",
    events: [...]}, what a trigger sends: reverse_etl/triggers.py).
    """

    type: Literal["webhook"]
    url: str = Field(pattern=r"^https?://", description="Endpoint receiving the batches.")
    signing_secret_env: EnvVarName
    payload: Literal["records", "events"] = Field(
        "records", description="Body shape: operations on records, or an event stream."
    )

    erasure: ClassVar[str] = (
        'deleted: an "erase" operation, which the receiver\'s contract obliges to '
        "delete everything it holds about the key"
    )
    supported_modes: ClassVar[frozenset[Mode]] = frozenset(Mode)
    identity_field: ClassVar[str | None] = None
    max_batch_size: ClassVar[int] = 1000

    def sync_problems(self, context: SyncContext) -> list[str]:
        problems = []
        if self.payload == "events":
            if context.mode is not Mode.INSERT_ONLY:
                problems.append(
                    "destination.payload: 'events' needs mode insert-only (each event is sent once)"
                )
            missing = [name for name in EVENT_ENVELOPE if name not in context.fields]
            if missing:
                problems.append(f"fields: payload 'events' needs the field(s) {', '.join(missing)}")
        return problems


EVENT_ENVELOPE = ("type", "customer_id", "segment", "at", "build_id")
"""The fields of an event sent at its top level (payload "events"); every other
mapped field is one of its `traits`."""
