"""Test harness for Google Ads Customer Match (identity: the SHA-256 of the email).

The destination holds only hashes, so a record's identity is sha256(normalised
email) and no first name is kept. The client needs two secrets; the shared tests
vary the access token (the harness's `secret_env`), and the developer token's
variable is set here for this process and the CLI processes it starts.
"""

from __future__ import annotations

import os
from typing import Any

from cdp_demo.contract_servers import GoogleAdsContractServer
from harness_base import HashedEmailHarness

DEVELOPER_TOKEN_ENV = "RETL_TEST_GOOGLE_ADS_DEVELOPER_TOKEN"
DEVELOPER_TOKEN = "dev-token-0123456789"
os.environ.setdefault(DEVELOPER_TOKEN_ENV, DEVELOPER_TOKEN)


class GoogleAdsCustomerMatchHarness(HashedEmailHarness):
    kind = "google_ads_customer_match"
    secret_env = "RETL_TEST_GOOGLE_ADS_TOKEN"
    secret = "ya29.test-0123456789abcdef"
    secret_field = "access_token_env"
    email_field = "hashedEmail"
    server: GoogleAdsContractServer

    @classmethod
    def make_server(cls, **kwargs: Any) -> GoogleAdsContractServer:
        return GoogleAdsContractServer(cls.secret, DEVELOPER_TOKEN, **kwargs)

    def destination_settings(self) -> dict[str, Any]:
        return {
            "type": "google_ads_customer_match",
            "base_url": self.server.url,
            "access_token_env": self.secret_env,
            "developer_token_env": DEVELOPER_TOKEN_ENV,
            "customer_id": self.server.customer_id,
            "user_list_id": self.server.user_list_id,
            "poll_interval_seconds": 0.01,
            "poll_timeout_seconds": 5,
        }

    def was_reconciled(self) -> bool:
        return self.server.external_id_searches > 0
