"""Typed settings of the Klaviyo destination."""

from __future__ import annotations

import re
from typing import ClassVar, Literal

from pydantic import Field

from reverse_etl.batch import Mode, SyncContext
from reverse_etl.destinations.base import DestinationSettings, EnvVarName
from reverse_etl.http import RateLimit

PROPERTY_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")


class KlaviyoSettings(DestinationSettings):
    """Sync profiles into Klaviyo, identified by email.

    api_key_env:           variable holding a private API key (`pk_...`), sent as
                           `Authorization: Klaviyo-API-Key <key>`.
    list_id:               audience mode: the list whose membership is synced.
    revision:              the API revision sent in the `revision` header.
    job_timeout_seconds:   how long to wait for a bulk import job to finish.
    poll_interval_seconds: pause between two reads of a job's status.
    """

    type: Literal["klaviyo"]
    api_key_env: EnvVarName
    list_id: str | None = Field(None, pattern=r"^[A-Za-z0-9]+$", max_length=64)
    revision: str = Field("2024-10-15", pattern=r"^\d{4}-\d{2}-\d{2}(\.[a-z]+)?$")
    job_timeout_seconds: float = Field(300.0, gt=0, le=3600)
    poll_interval_seconds: float = Field(2.0, ge=0, le=60)

    erasure: ClassVar[str] = (
        "deleted: a data-privacy deletion job deletes every profile with the address "
        "(POST /api/data-privacy-deletion-jobs; asynchronous; Klaviyo keeps the deleted "
        "contact details on its Deleted Profiles record, as GDPR requires it to)"
    )
    supported_modes: ClassVar[frozenset[Mode]] = frozenset({Mode.AUDIENCE, Mode.UPSERT})
    identity_field: ClassVar[str | None] = "email"
    # A bulk import job takes 10,000 profiles (5 MB), but adding to / removing from
    # a list takes 1,000 profile ids per call: one batch is one call of each.
    max_batch_size: ClassVar[int] = 1000
    # Import jobs and list relationships: burst 10/s, steady 150/min. A bucket of 7
    # refilled at 68 per 30 s stays under both (<= 9.3 in any second, <= 143 a minute).
    default_rate_limit: ClassVar[RateLimit | None] = RateLimit(max_requests=75, per_seconds=30)

    def sync_problems(self, context: SyncContext) -> list[str]:
        problems = []
        if context.mode is Mode.AUDIENCE and not self.list_id:
            problems.append("destination.list_id: required for mode 'audience'")
        for name in context.fields:
            if not PROPERTY_NAME.match(name):
                problems.append(
                    f"fields.{name}: Klaviyo property names are letters, digits and _ here"
                )
        return problems
