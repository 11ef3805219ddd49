"""Test harness for Meta Custom Audiences (identity: the SHA-256 of the email).

The destination holds only hashes, so a record's identity is sha256(normalised
email) and no first name is kept.
"""

from __future__ import annotations

import hashlib
from typing import Any

from harness_base import Harness, Person

from reverse_etl.testing import MetaContractServer


def email_hash(email: str) -> str:
    return hashlib.sha256(email.strip().lower().encode()).hexdigest()


class MetaCustomAudiencesHarness(Harness):
    kind = "meta_custom_audiences"
    secret_env = "RETL_TEST_META_TOKEN"
    secret = "EAAB-test-0123456789abcdef"
    secret_field = "access_token_env"
    enter_writes = ("member_add",)
    # The shared tests update only first names, which an ad audience never receives
    # (a change of match keys would be a "member_add" of the new keys).
    update_writes = ()
    exit_writes = ("member_remove",)
    server: MetaContractServer

    @classmethod
    def make_server(cls, **kwargs: Any) -> MetaContractServer:
        return MetaContractServer(cls.secret, **kwargs)

    @classmethod
    def refusing_server_kwargs(cls, key: str, email: str, reason: str) -> dict[str, Any]:
        return {"refused": {email_hash(email): reason}}

    def destination_settings(self) -> dict[str, Any]:
        return {
            "type": "meta_custom_audiences",
            "base_url": self.server.url,
            "access_token_env": self.secret_env,
            "audience_id": self.server.audience_id,
        }

    def fields(self) -> dict[str, Any]:
        return {"EMAIL": {"source": "email", "type": "email"}}

    def sync_dict(self, name: str = "audience_sync", **overrides: Any) -> dict[str, Any]:
        return {"hashed_identifiers": ["EMAIL"], **super().sync_dict(name, **overrides)}

    def audience(self) -> dict[str, str]:
        return dict.fromkeys(self.server.member_hashes(), "")

    def expected_audience(
        self, rows: list[Person], invalid: set[str] = frozenset()
    ) -> dict[str, str]:
        return {email_hash(email): "" for _, email, _ in rows if email not in invalid}

    def ident(self, row: Person) -> str:
        return email_hash(row[1])

    def was_reconciled(self) -> bool:
        return any(path.endswith("/sessions") for _, path, _ in self.server.requests)
