"""Typed settings of the Google Ads Customer Match destination."""

from __future__ import annotations

from typing import ClassVar, Literal

from pydantic import Field

from reverse_etl.batch import Mode, SyncContext
from reverse_etl.destinations.base import DestinationSettings, EnvVarName
from reverse_etl.destinations.hashed import hashed_field_problems
from reverse_etl.http import RateLimit

USER_IDENTIFIERS: dict[str, str] = {"hashedEmail": "email", "hashedPhoneNumber": "phone"}
"""UserIdentifier fields this destination sends -> the field type they must have.
Google hashes the trimmed lower-case email and the E.164 phone number with '+'."""

Consent = Literal["GRANTED", "DENIED"]


class GoogleAdsCustomerMatchSettings(DestinationSettings):
    """Sync segment membership into a Customer Match (CRM-based) user list.

    access_token_env:    variable holding an OAuth 2.0 access token (Bearer).
    developer_token_env: variable holding the Google Ads API developer token.
    login_customer_id:   manager account id when access goes through a manager.
    customer_id:         the Google Ads account (10 digits, no dashes).
    user_list_id:        the CRM-based user list.
    ad_user_data_consent / ad_personalization_consent: consent sent with every job.
    poll_interval_seconds / poll_timeout_seconds: how a job's status is awaited.
    enable_partial_failure: report invalid operations per row instead of failing the call.

    Fields are UserIdentifier fields (hashedEmail required, hashedPhoneNumber
    optional); every field must be listed in the sync's `hashed_identifiers`.
    """

    type: Literal["google_ads_customer_match"]
    access_token_env: EnvVarName
    developer_token_env: EnvVarName
    login_customer_id: str | None = Field(None, pattern=r"^[0-9]{10}$")
    customer_id: str = Field(pattern=r"^[0-9]{10}$")
    user_list_id: str = Field(pattern=r"^[0-9]+$")
    api_version: str = Field("v21", pattern=r"^v[0-9]+$")
    ad_user_data_consent: Consent | None = None
    ad_personalization_consent: Consent | None = None
    poll_interval_seconds: float = Field(5.0, gt=0, le=300)
    poll_timeout_seconds: float = Field(600.0, gt=0, le=86_400)
    enable_partial_failure: bool = True

    erasure: ClassVar[str] = (
        "deleted: the hashed identifiers are removed from the Customer Match list "
        "(an offline user data job of remove operations), the only place the API keeps them"
    )
    supported_modes: ClassVar[frozenset[Mode]] = frozenset({Mode.AUDIENCE})
    identity_field: ClassVar[str | None] = "hashedEmail"
    identity_hashed: ClassVar[bool] = True
    # One job per batch; addOperations takes at most 100,000 identifiers per request
    # (20 per user), Google recommends about 10,000 per call: 10,000 users per batch.
    max_batch_size: ClassVar[int] = 10_000
    # Google's limits are per developer token (operations per day, requests per
    # second per customer) and answered with 429 RESOURCE_EXHAUSTED; pace at 5/s.
    default_rate_limit: ClassVar[RateLimit | None] = RateLimit(max_requests=5, per_seconds=1)

    def sync_problems(self, context: SyncContext) -> list[str]:
        return hashed_field_problems(context, USER_IDENTIFIERS, "Google Ads Customer Match")
