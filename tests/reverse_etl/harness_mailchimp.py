"""Test harness for Mailchimp (identity: the email; audience membership: a tag)."""

from __future__ import annotations

from typing import Any

from cdp_demo.contract_servers import MailchimpContractServer
from harness_base import Harness


class MailchimpHarness(Harness):
    kind = "mailchimp"
    secret_env = "RETL_TEST_MAILCHIMP_KEY"
    secret = "0123456789abcdef0123456789abcdef-us6"
    secret_field = "api_key_env"
    enter_writes = ("member_upsert", "tag_add")
    update_writes = ("member_upsert",)
    exit_writes = ("tag_remove",)
    second_step = ("/segments/", "POST")
    server: MailchimpContractServer

    @classmethod
    def make_server(cls, **kwargs: Any) -> MailchimpContractServer:
        return MailchimpContractServer(cls.secret, **kwargs)

    @classmethod
    def refusing_server_kwargs(cls, key: str, email: str, reason: str) -> dict[str, Any]:
        return {"invalid_emails": {email: reason}}

    def destination_settings(self) -> dict[str, Any]:
        return {
            "type": "mailchimp",
            "base_url": self.server.base_url,
            "api_key_env": self.secret_env,
            "list_id": self.server.list_id,
            "tag": "VIP",
        }

    def fields(self) -> dict[str, Any]:
        return {"email_address": {"source": "email", "type": "email"}, "FNAME": "first_name"}

    def wrong_secret(self, wrong: str) -> str:
        return wrong + "-us6"  # the data centre suffix routes the request

    def audience(self) -> dict[str, str]:
        server = self.server
        with server.lock:
            tagged = server.tagged_emails("VIP") if self.mode == "audience" else None
            return {
                m["email_address"]: m["merge_fields"].get("FNAME", "")
                for m in server.members.values()
                if tagged is None or m["email_address"] in tagged
            }

    def was_reconciled(self) -> bool:
        return any("/members/" in path for _, path, _ in self.server.requests)
