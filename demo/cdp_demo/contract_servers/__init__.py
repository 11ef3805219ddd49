"""Contract servers: local HTTP servers that enforce a destination API's documented
contract (paths, auth, batch limits, rate limits, error shapes) and record what
they accepted, so tests and the demo can sync over real HTTP without a SaaS account.
"""

from cdp_demo.contract_servers.google_ads import GoogleAdsContractServer
from cdp_demo.contract_servers.hubspot import HubSpotContractServer
from cdp_demo.contract_servers.klaviyo import KlaviyoContractServer
from cdp_demo.contract_servers.mailchimp import MailchimpContractServer
from cdp_demo.contract_servers.meta import MetaContractServer
from cdp_demo.contract_servers.salesforce import SalesforceContractServer
from cdp_demo.contract_servers.server import ContractServer, Faults
from cdp_demo.contract_servers.webhook import WebhookContractServer

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
