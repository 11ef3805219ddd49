"""Klaviyo destination: bulk profile import jobs by email plus list membership."""

from reverse_etl.destinations.klaviyo.client import KlaviyoDestination
from reverse_etl.destinations.klaviyo.config import KlaviyoSettings

__all__ = ["KlaviyoDestination", "KlaviyoSettings"]
