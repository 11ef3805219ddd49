"""Test harness for Klaviyo (identity: the email; audience membership: a list)."""

from __future__ import annotations

from typing import Any

from cdp_demo.contract_servers import KlaviyoContractServer
from harness_base import Harness

LIST_ID = "Xy12Ab"


class KlaviyoHarness(Harness):
    kind = "klaviyo"
    secret_env = "RETL_TEST_KLAVIYO_KEY"
    secret = "pk_0123456789abcdef0123456789abcdef01"
    secret_field = "api_key_env"
    enter_writes = ("profile_import", "list_add")
    update_writes = ("profile_import",)
    exit_writes = ("list_remove",)
    second_step = ("/relationships/profiles", "POST")
    server: KlaviyoContractServer

    @classmethod
    def make_server(cls, **kwargs: Any) -> KlaviyoContractServer:
        limits = {"rate_limit": kwargs.pop("rate_limit", None), "steady_limit": None}
        return KlaviyoContractServer(cls.secret, list_ids=(LIST_ID,), **limits, **kwargs)

    @classmethod
    def refusing_server_kwargs(cls, key: str, email: str, reason: str) -> dict[str, Any]:
        return {"invalid_emails": {email: reason}}

    def destination_settings(self) -> dict[str, Any]:
        return {
            "type": "klaviyo",
            "base_url": self.server.url,
            "api_key_env": self.secret_env,
            "list_id": LIST_ID,
            "poll_interval_seconds": 0.01,
            "job_timeout_seconds": 5,
        }

    def fields(self) -> dict[str, Any]:
        return {"email": {"source": "email", "type": "email"}, "first_name": "first_name"}

    def audience(self) -> dict[str, str]:
        server = self.server
        with server.lock:
            emails = server.list_emails(LIST_ID) if self.mode == "audience" else server.by_email
            return {e: server.attributes_of(e).get("first_name", "") for e in emails}

    def was_reconciled(self) -> bool:
        return any(path == "/api/profiles" for _, path, _ in self.server.requests)
