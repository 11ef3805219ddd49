"""Mailchimp Marketing API destination: batch member upsert plus tag (static segment) membership."""

from reverse_etl.destinations.mailchimp.client import MailchimpDestination, subscriber_hash
from reverse_etl.destinations.mailchimp.config import MailchimpSettings

__all__ = ["MailchimpDestination", "MailchimpSettings", "subscriber_hash"]
