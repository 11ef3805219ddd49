"""Typed settings of the HubSpot destination."""

from __future__ import annotations

import re
from typing import ClassVar, Literal

from pydantic import Field

from reverse_etl.batch import Mode, SyncContext
from reverse_etl.destinations.base import DestinationSettings, EnvVarName
from reverse_etl.http import RateLimit

PROPERTY_NAME = re.compile(r"^[a-z][a-z0-9_]*$")


class HubSpotSettings(DestinationSettings):
    """Sync contacts into HubSpot, identified by email.

    access_token_env: variable holding a private app access token (Bearer).
    list_id:          audience mode: the MANUAL (static) list whose membership is synced.
    """

    type: Literal["hubspot"]
    access_token_env: EnvVarName
    list_id: str | None = Field(None, pattern=r"^[0-9]+$")

    erasure: ClassVar[str] = (
        "deleted: the contact is permanently deleted with HubSpot's GDPR delete "
        "(POST /crm/v3/objects/contacts/gdpr-delete), with its list memberships"
    )
    supported_modes: ClassVar[frozenset[Mode]] = frozenset({Mode.AUDIENCE, Mode.UPSERT})
    identity_field: ClassVar[str | None] = "email"
    max_batch_size: ClassVar[int] = 100  # CRM batch endpoints take 100 inputs
    # Private apps on Professional/Enterprise: 190 requests per 10 s (rolling).
    default_rate_limit: ClassVar[RateLimit | None] = RateLimit(max_requests=190, per_seconds=10)

    def sync_problems(self, context: SyncContext) -> list[str]:
        problems = []
        if context.mode is Mode.AUDIENCE and not self.list_id:
            problems.append("destination.list_id: required for mode 'audience'")
        for name in context.fields:
            if not PROPERTY_NAME.match(name):
                problems.append(
                    f"fields.{name}: HubSpot property names are lower-case letters, digits, _"
                )
        return problems
