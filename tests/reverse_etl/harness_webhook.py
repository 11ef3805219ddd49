"""Test harness for the webhook destination (identity: the sync's primary key)."""

from __future__ import annotations

from typing import Any

from cdp_demo.contract_servers import WebhookContractServer
from harness_base import Harness


class WebhookHarness(Harness):
    kind = "webhook"
    secret_env = "RETL_TEST_WEBHOOK_SECRET"
    secret = "whsec-test-0123456789"
    secret_field = "signing_secret_env"
    enter_writes = ("enter",)
    update_writes = ("update",)
    exit_writes = ("exit",)
    keyed_by_primary_key = True
    server: WebhookContractServer

    @classmethod
    def make_server(cls, **kwargs: Any) -> WebhookContractServer:
        return WebhookContractServer(cls.secret, **kwargs)

    @classmethod
    def refusing_server_kwargs(cls, key: str, email: str, reason: str) -> dict[str, Any]:
        return {"reject_keys": {key: reason}}

    def destination_settings(self) -> dict[str, Any]:
        return {
            "type": "webhook",
            "url": self.server.endpoint,
            "signing_secret_env": self.secret_env,
        }

    def fields(self) -> dict[str, Any]:
        return {"email": {"source": "email", "type": "email"}, "first_name": "first_name"}

    def audience(self) -> dict[str, str]:
        with self.server.lock:
            return {f["email"]: f["first_name"] for f in self.server.members.values()}

    def was_reconciled(self) -> bool:
        return self.server.replays == 1  # replayed under the same Idempotency-Key
