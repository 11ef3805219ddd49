"""Webhook destination: signed JSON batches with an idempotency key per batch."""

from reverse_etl.destinations.webhook.client import WebhookDestination
from reverse_etl.destinations.webhook.config import WebhookSettings

__all__ = ["WebhookDestination", "WebhookSettings"]
