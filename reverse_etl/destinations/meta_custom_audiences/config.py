"""Typed settings of the Meta Custom Audiences destination."""

from __future__ import annotations

from typing import ClassVar, Literal

from pydantic import Field

from reverse_etl.batch import Mode, SyncContext
from reverse_etl.destinations.base import DestinationSettings, EnvVarName
from reverse_etl.destinations.hashed import hashed_field_problems
from reverse_etl.http import RateLimit

MATCH_KEYS: dict[str, str] = {"EMAIL": "email", "PHONE": "phone"}
"""Schema keys this destination sends -> the field type they must have. Meta
normalises EMAIL as trimmed lower case and PHONE as E.164 digits without '+'."""


class MetaCustomAudiencesSettings(DestinationSettings):
    """Sync segment membership into a Meta customer-list Custom Audience.

    access_token_env: variable holding a system-user access token with ads_management.
    audience_id:      the Custom Audience (subtype CUSTOM, customer list).
    api_version:      Graph API version in the path, e.g. v25.0.

    Fields are Meta schema keys (EMAIL required, PHONE optional); every field must
    be listed in the sync's `hashed_identifiers`: only SHA-256 hashes are sent.
    """

    type: Literal["meta_custom_audiences"]
    access_token_env: EnvVarName
    audience_id: str = Field(pattern=r"^[0-9]+$")
    api_version: str = Field("v25.0", pattern=r"^v[0-9]+\.[0-9]+$")

    erasure: ClassVar[str] = (
        "deleted: the hashed identifiers are removed from the Custom Audience "
        "(DELETE /{audience_id}/users), the only place the API keeps them"
    )
    supported_modes: ClassVar[frozenset[Mode]] = frozenset({Mode.AUDIENCE})
    identity_field: ClassVar[str | None] = "EMAIL"
    identity_hashed: ClassVar[bool] = True
    phone_hash_without_plus: ClassVar[bool] = True
    max_batch_size: ClassVar[int] = 10_000  # "only a maximum of 10000 at a time"
    # Meta throttles per ad account (Business Use Case limits, error 80003) without a
    # fixed published rate; this client paces itself at 10 requests/s unless told otherwise.
    default_rate_limit: ClassVar[RateLimit | None] = RateLimit(max_requests=10, per_seconds=1)

    def sync_problems(self, context: SyncContext) -> list[str]:
        return hashed_field_problems(context, MATCH_KEYS, "Meta Custom Audiences")
