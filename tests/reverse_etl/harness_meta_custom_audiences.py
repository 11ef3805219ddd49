"""Test harness for Meta Custom Audiences (identity: the SHA-256 of the email).

The destination holds only hashes, so a record's identity is sha256(normalised
email) and no first name is kept.
"""

from __future__ import annotations

from typing import Any

from cdp_demo.contract_servers import MetaContractServer
from harness_base import HashedEmailHarness


class MetaCustomAudiencesHarness(HashedEmailHarness):
    kind = "meta_custom_audiences"
    secret_env = "RETL_TEST_META_TOKEN"
    secret = "EAAB-test-0123456789abcdef"
    secret_field = "access_token_env"
    email_field = "EMAIL"
    server: MetaContractServer

    @classmethod
    def make_server(cls, **kwargs: Any) -> MetaContractServer:
        return MetaContractServer(cls.secret, **kwargs)

    def destination_settings(self) -> dict[str, Any]:
        return {
            "type": "meta_custom_audiences",
            "base_url": self.server.url,
            "access_token_env": self.secret_env,
            "audience_id": self.server.audience_id,
        }

    def was_reconciled(self) -> bool:
        return any(path.endswith("/sessions") for _, path, _ in self.server.requests)
