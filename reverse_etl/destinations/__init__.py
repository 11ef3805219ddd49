"""Destination registry: `type` in the YAML -> settings model and client class.

Adding a destination: create `destinations/<name>/` with `config.py` (a
`DestinationSettings` subclass with `type: Literal["<name>"]`) and `client.py`
(a `Destination` subclass), then register both below.
"""

from __future__ import annotations

import typing
from typing import Annotated

from pydantic import Field

from reverse_etl.batch import SyncContext
from reverse_etl.destinations.base import Destination, DestinationSettings
from reverse_etl.destinations.file import FileDestination, FileSettings
from reverse_etl.destinations.google_ads_customer_match import (
    GoogleAdsCustomerMatchDestination,
    GoogleAdsCustomerMatchSettings,
)
from reverse_etl.destinations.hubspot import HubSpotDestination, HubSpotSettings
from reverse_etl.destinations.klaviyo import KlaviyoDestination, KlaviyoSettings
from reverse_etl.destinations.mailchimp import MailchimpDestination, MailchimpSettings
from reverse_etl.destinations.meta_custom_audiences import (
    MetaCustomAudiencesDestination,
    MetaCustomAudiencesSettings,
)
from reverse_etl.destinations.postgres import PostgresDestination, PostgresSettings
from reverse_etl.destinations.salesforce import SalesforceDestination, SalesforceSettings
from reverse_etl.destinations.webhook import WebhookDestination, WebhookSettings

AnyDestinationSettings = Annotated[
    WebhookSettings
    | MailchimpSettings
    | HubSpotSettings
    | KlaviyoSettings
    | SalesforceSettings
    | MetaCustomAudiencesSettings
    | GoogleAdsCustomerMatchSettings
    | FileSettings
    | PostgresSettings,
    Field(discriminator="type"),
]

_CLIENTS: dict[type[DestinationSettings], type[Destination]] = {
    WebhookSettings: WebhookDestination,
    MailchimpSettings: MailchimpDestination,
    HubSpotSettings: HubSpotDestination,
    KlaviyoSettings: KlaviyoDestination,
    SalesforceSettings: SalesforceDestination,
    MetaCustomAudiencesSettings: MetaCustomAudiencesDestination,
    GoogleAdsCustomerMatchSettings: GoogleAdsCustomerMatchDestination,
    FileSettings: FileDestination,
    PostgresSettings: PostgresDestination,
}


SETTINGS_BY_TYPE: dict[str, type[DestinationSettings]] = {
    typing.get_args(cls.model_fields["type"].annotation)[0]: cls for cls in _CLIENTS
}
"""`type` in the YAML -> its settings class (modes, limits, what an erasure does)."""


def build_destination(settings: DestinationSettings, context: SyncContext) -> Destination:
    """The client for `settings`; resolves secrets (ConfigError if a variable is unset)."""
    return _CLIENTS[type(settings)](settings, context)  # type: ignore[call-arg]


__all__ = [
    "SETTINGS_BY_TYPE",
    "AnyDestinationSettings",
    "Destination",
    "DestinationSettings",
    "build_destination",
]
