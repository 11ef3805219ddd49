"""HubSpot CRM v3 destination: contacts batch upsert by email plus list membership."""

from reverse_etl.destinations.hubspot.client import HubSpotDestination
from reverse_etl.destinations.hubspot.config import HubSpotSettings

__all__ = ["HubSpotDestination", "HubSpotSettings"]
