"""Destination registry: `type` in the YAML -> settings model and client class.

Adding a destination: create `destinations/<name>/` with `config.py` (a
`DestinationSettings` subclass with `type: Literal["<name>"]`) and `client.py`
(a `Destination` subclass), then register both below.
"""

from __future__ import annotations

from typing import Annotated

from pydantic import Field

from reverse_etl.batch import SyncContext
from reverse_etl.destinations.base import Destination, DestinationSettings
from reverse_etl.destinations.hubspot import HubSpotDestination, HubSpotSettings
from reverse_etl.destinations.mailchimp import MailchimpDestination, MailchimpSettings
from reverse_etl.destinations.webhook import WebhookDestination, WebhookSettings

AnyDestinationSettings = Annotated[
    WebhookSettings | MailchimpSettings | HubSpotSettings, Field(discriminator="type")
]

_CLIENTS: dict[type[DestinationSettings], type[Destination]] = {
    WebhookSettings: WebhookDestination,
    MailchimpSettings: MailchimpDestination,
    HubSpotSettings: HubSpotDestination,
}


def build_destination(settings: DestinationSettings, context: SyncContext) -> Destination:
    """The client for `settings`; resolves secrets (ConfigError if a variable is unset)."""
    return _CLIENTS[type(settings)](settings, context)  # type: ignore[call-arg]


__all__ = ["AnyDestinationSettings", "Destination", "DestinationSettings", "build_destination"]
