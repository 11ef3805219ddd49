"""Test harness for Salesforce (identity: the primary key, held in an external id field).

Salesforce has no audience (list) concept, so the shared tests, which ask for the
default mode "audience", run this destination in mode `mirror`: an entering key is
upserted, a changed key upserted again, a key leaving the model is deleted. That is
the same add / update / remove cycle, and every shared test applies to it; none is
skipped (`skipped_shared_tests` says so explicitly).
"""

from __future__ import annotations

from typing import Any, ClassVar

from cdp_demo.contract_servers import SalesforceContractServer
from cdp_demo.contract_servers.server import ContractServer
from harness_base import Harness


class SalesforceHarness(Harness):
    kind = "salesforce"
    secret_env = "RETL_TEST_SALESFORCE_TOKEN"
    secret = "00D000000000001!AQ4AQFakeAccessToken0123456789"
    secret_field = "access_token_env"
    enter_writes = ("record_upsert",)
    update_writes = ("record_upsert",)
    exit_writes = ("record_delete",)
    keyed_by_primary_key = True
    second_step = ("/successfulResults", "GET")  # after the close (the job's one write)
    audience_mode_as: ClassVar[str] = "mirror"
    """The mode used where the shared tests ask for "audience" (unsupported here)."""
    skipped_shared_tests: ClassVar[dict[str, str]] = {}
    """Shared test name -> why it cannot apply to Salesforce. Empty: all apply."""
    server: SalesforceContractServer

    def __init__(self, server: ContractServer, mode: str = "audience") -> None:
        super().__init__(server, self.audience_mode_as if mode == "audience" else mode)

    @classmethod
    def make_server(cls, **kwargs: Any) -> SalesforceContractServer:
        return SalesforceContractServer(cls.secret, **kwargs)

    @classmethod
    def refusing_server_kwargs(cls, key: str, email: str, reason: str) -> dict[str, Any]:
        return {"refuse_keys": {key: reason}}

    def destination_settings(self) -> dict[str, Any]:
        return {
            "type": "salesforce",
            "instance_url": self.server.url,
            "access_token_env": self.secret_env,
            "object": "Customer__c",
            "external_id_field": "Customer_Id__c",
            "poll_interval_seconds": 0.01,
            "job_timeout_seconds": 5,
        }

    def fields(self) -> dict[str, Any]:
        return {"Email__c": {"source": "email", "type": "email"}, "First_Name__c": "first_name"}

    def audience(self) -> dict[str, str]:
        records = self.server.by_external_id().values()
        return {r["Email__c"]: r["First_Name__c"] or "" for r in records}

    def was_reconciled(self) -> bool:
        return any(path.endswith("/query") for _, path, _ in self.server.requests)
