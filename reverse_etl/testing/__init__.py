"""Contract servers: local HTTP servers that enforce a destination API's documented
contract (paths, auth, batch limits, rate limits, error shapes) and record what
they accepted, so tests and the demo can sync over real HTTP without a SaaS account.
"""

from reverse_etl.testing.google_ads_server import GoogleAdsContractServer
from reverse_etl.testing.hubspot_server import HubSpotContractServer
from reverse_etl.testing.klaviyo_server import KlaviyoContractServer
from reverse_etl.testing.mailchimp_server import MailchimpContractServer
from reverse_etl.testing.meta_server import MetaContractServer
from reverse_etl.testing.salesforce_server import SalesforceContractServer
from reverse_etl.testing.server import ContractServer, Faults
from reverse_etl.testing.webhook_server import WebhookContractServer

__all__ = [
    "ContractServer",
    "Faults",
    "GoogleAdsContractServer",
    "HubSpotContractServer",
    "KlaviyoContractServer",
    "MailchimpContractServer",
    "MetaContractServer",
    "SalesforceContractServer",
    "WebhookContractServer",
]
