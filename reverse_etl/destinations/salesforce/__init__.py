"""Salesforce destination: Bulk API 2.0 ingest jobs keyed by an external id field."""

from reverse_etl.destinations.salesforce.client import SalesforceDestination
from reverse_etl.destinations.salesforce.config import SalesforceSettings

__all__ = ["SalesforceDestination", "SalesforceSettings"]
