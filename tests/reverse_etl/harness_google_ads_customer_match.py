"""Test harness for Google Ads Customer Match (identity: the SHA-256 of the email).

The destination holds only hashes, so a record's identity is sha256(normalised
email) and no first name is kept. The client needs two secrets; the shared tests
vary the access token (the harness's `secret_env`), and the developer token's
variable is set here for this process and the CLI processes it starts.
"""

from __future__ import annotations

import hashlib
import os
from typing import Any

from harness_base import Harness, Person

from reverse_etl.testing import GoogleAdsContractServer

DEVELOPER_TOKEN_ENV = "RETL_TEST_GOOGLE_ADS_DEVELOPER_TOKEN"
DEVELOPER_TOKEN = "dev-token-0123456789"
os.environ.setdefault(DEVELOPER_TOKEN_ENV, DEVELOPER_TOKEN)


def email_hash(email: str) -> str:
    return hashlib.sha256(email.strip().lower().encode()).hexdigest()


class GoogleAdsCustomerMatchHarness(Harness):
    kind = "google_ads_customer_match"
    secret_env = "RETL_TEST_GOOGLE_ADS_TOKEN"
    secret = "ya29.test-0123456789abcdef"
    secret_field = "access_token_env"
    enter_writes = ("member_add",)
    # The shared tests update only first names, which an ad audience never receives.
    update_writes = ()
    exit_writes = ("member_remove",)
    server: GoogleAdsContractServer

    @classmethod
    def make_server(cls, **kwargs: Any) -> GoogleAdsContractServer:
        return GoogleAdsContractServer(cls.secret, DEVELOPER_TOKEN, **kwargs)

    @classmethod
    def refusing_server_kwargs(cls, key: str, email: str, reason: str) -> dict[str, Any]:
        return {"refused": {email_hash(email): reason}}

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

    def fields(self) -> dict[str, Any]:
        return {"hashedEmail": {"source": "email", "type": "email"}}

    def sync_dict(self, name: str = "audience_sync", **overrides: Any) -> dict[str, Any]:
        return {"hashed_identifiers": ["hashedEmail"], **super().sync_dict(name, **overrides)}

    def audience(self) -> dict[str, str]:
        return dict.fromkeys(self.server.member_hashes(), "")

    def expected_audience(
        self, rows: list[Person], invalid: set[str] = frozenset()
    ) -> dict[str, str]:
        return {email_hash(email): "" for _, email, _ in rows if email not in invalid}

    def ident(self, row: Person) -> str:
        return email_hash(row[1])

    def was_reconciled(self) -> bool:
        return self.server.external_id_searches > 0
