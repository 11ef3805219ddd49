"""Test harness for HubSpot (identity: the email; audience membership: a static list)."""

from __future__ import annotations

from typing import Any

from cdp_demo.contract_servers import HubSpotContractServer
from harness_base import Harness

LIST_ID = "42"


class HubSpotHarness(Harness):
    kind = "hubspot"
    secret_env = "RETL_TEST_HUBSPOT_TOKEN"
    secret = "pat-na1-11111111-2222-3333-4444-555555555555"
    secret_field = "access_token_env"
    enter_writes = ("contact_upsert", "list_add")
    update_writes = ("contact_upsert",)
    exit_writes = ("list_remove",)
    second_step = ("/memberships/", "PUT")
    server: HubSpotContractServer

    @classmethod
    def make_server(cls, **kwargs: Any) -> HubSpotContractServer:
        return HubSpotContractServer(
            cls.secret, rate_limit=kwargs.pop("rate_limit", None), **kwargs
        )

    @classmethod
    def refusing_server_kwargs(cls, key: str, email: str, reason: str) -> dict[str, Any]:
        return {"invalid_emails": {email: reason}}

    def destination_settings(self) -> dict[str, Any]:
        return {
            "type": "hubspot",
            "base_url": self.server.url,
            "access_token_env": self.secret_env,
            "list_id": LIST_ID,
        }

    def fields(self) -> dict[str, Any]:
        return {"email": {"source": "email", "type": "email"}, "firstname": "first_name"}

    def audience(self) -> dict[str, str]:
        server = self.server
        with server.lock:
            emails = server.list_emails(LIST_ID) if self.mode == "audience" else server.by_email
            return {e: server.properties_of(e).get("firstname", "") for e in emails}

    def was_reconciled(self) -> bool:
        return any("/batch/read" in path for _, path, _ in self.server.requests)
