"""Typed settings of the webhook destination."""

from __future__ import annotations

from typing import ClassVar, Literal

from pydantic import Field

from reverse_etl.batch import Mode
from reverse_etl.destinations.base import DestinationSettings, EnvVarName


class WebhookSettings(DestinationSettings):
    """POST signed JSON batches to `url`.

    signing_secret_env: variable holding the HMAC-SHA256 key shared with the receiver.
    """

    type: Literal["webhook"]
    url: str = Field(pattern=r"^https?://", description="Endpoint receiving the batches.")
    signing_secret_env: EnvVarName

    erasure: ClassVar[str] = (
        'deleted: an "erase" operation, which the receiver\'s contract obliges to '
        "delete everything it holds about the key"
    )
    supported_modes: ClassVar[frozenset[Mode]] = frozenset(Mode)
    identity_field: ClassVar[str | None] = None
    max_batch_size: ClassVar[int] = 1000
