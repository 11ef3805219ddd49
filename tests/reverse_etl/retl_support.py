"""Helpers for the reverse ETL tests: source data, and a harness per destination
(contract server + sync definition + views of what the destination holds).

Everything runs over real HTTP to contract servers on free localhost ports and
against a real DuckDB file in tmp_path. (A module with its own name rather than
conftest.py, so tests can import it without clashing with tests/conftest.py.)
"""

from __future__ import annotations

import os
import sys
from collections import Counter
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import duckdb
import yaml

from reverse_etl.config import SyncDefinition, parse_syncs
from reverse_etl.testing import (
    ContractServer,
    HubSpotContractServer,
    MailchimpContractServer,
    WebhookContractServer,
)

REPO = Path(__file__).resolve().parents[2]

FAST_RETRY = {
    "max_attempts": 6,
    "initial_backoff_seconds": 0.01,
    "max_backoff_seconds": 0.05,
    "connect_timeout_seconds": 2.0,
    "read_timeout_seconds": 2.0,
}
UNTHROTTLED = {"max_requests": 100_000, "per_seconds": 1}

SECRETS = {
    "webhook": ("RETL_TEST_WEBHOOK_SECRET", "whsec-test-0123456789"),
    "mailchimp": ("RETL_TEST_MAILCHIMP_KEY", "0123456789abcdef0123456789abcdef-us6"),
    "hubspot": ("RETL_TEST_HUBSPOT_TOKEN", "pat-na1-11111111-2222-3333-4444-555555555555"),
}

Person = tuple[int, str, str]  # customer_id, email, first_name


def people(n: int, start: int = 1) -> list[Person]:
    return [(i, f"person{i}@example.com", f"First{i}") for i in range(start, start + n)]


def write_source(warehouse: Path, rows: list[Person]) -> None:
    """Replace marts.audience with `rows`."""
    con = duckdb.connect(str(warehouse))
    try:
        con.execute("create schema if not exists marts")
        con.execute(
            "create or replace table marts.audience "
            "(customer_id integer, email varchar, first_name varchar)"
        )
        if rows:
            con.executemany("insert into marts.audience values (?, ?, ?)", rows)
    finally:
        con.close()


def query(warehouse: Path, sql: str) -> list[tuple[Any, ...]]:
    con = duckdb.connect(str(warehouse))
    try:
        return con.execute(sql).fetchall()
    finally:
        con.close()


@dataclass
class Harness:
    """One destination under test: its contract server and how to read it."""

    kind: str
    server: ContractServer
    mode: str = "audience"

    @property
    def secret_env(self) -> str:
        return SECRETS[self.kind][0]

    @property
    def secret(self) -> str:
        return SECRETS[self.kind][1]

    def destination(self, **overrides: Any) -> dict[str, Any]:
        common = {"retry": FAST_RETRY, "rate_limit": UNTHROTTLED}
        if isinstance(self.server, WebhookContractServer):
            dest = {
                "type": "webhook",
                "url": self.server.endpoint,
                "signing_secret_env": self.secret_env,
            }
        elif isinstance(self.server, MailchimpContractServer):
            dest = {
                "type": "mailchimp",
                "base_url": self.server.base_url,
                "api_key_env": self.secret_env,
                "list_id": self.server.list_id,
                "tag": "VIP",
            }
        else:
            dest = {
                "type": "hubspot",
                "base_url": self.server.url,
                "access_token_env": self.secret_env,
                "list_id": "42",
            }
        return {**dest, **common, **overrides}

    def fields(self) -> dict[str, Any]:
        email, first = {
            "webhook": ("email", "first_name"),
            "mailchimp": ("email_address", "FNAME"),
            "hubspot": ("email", "firstname"),
        }[self.kind]
        return {email: {"source": "email", "type": "email"}, first: "first_name"}

    def sync_dict(self, name: str = "audience_sync", **overrides: Any) -> dict[str, Any]:
        destination = self.destination(**overrides.pop("destination", {}))
        return {
            "name": name,
            "source": "marts.audience",
            "primary_key": "customer_id",
            "mode": self.mode,
            "destination": destination,
            "fields": self.fields(),
            **overrides,
        }

    def sync(self, **overrides: Any) -> SyncDefinition:
        return parse_syncs([self.sync_dict(**overrides)])[0]

    def write_config(self, path: Path, **overrides: Any) -> Path:
        path.write_text(yaml.safe_dump({"syncs": [self.sync_dict(**overrides)]}))
        return path

    def audience(self) -> dict[str, str]:
        """email -> first name, for every record the destination counts as in the audience."""
        server = self.server
        with server.lock:
            if isinstance(server, WebhookContractServer):
                return {f["email"]: f["first_name"] for f in server.members.values()}
            if isinstance(server, MailchimpContractServer):
                tagged = server.tagged_emails("VIP") if self.mode == "audience" else None
                return {
                    m["email_address"]: m["merge_fields"].get("FNAME", "")
                    for m in server.members.values()
                    if tagged is None or m["email_address"] in tagged
                }
            assert isinstance(server, HubSpotContractServer)
            emails = server.list_emails("42") if self.mode == "audience" else server.by_email
            return {e: server.properties_of(e).get("firstname", "") for e in emails}

    def writes(self) -> Counter[tuple[str, str]]:
        """(write kind, email or key) -> accepted writes, as counted by the server."""
        with self.server.lock:
            return Counter(self.server.deliveries)


def expected_audience(rows: list[Person], invalid: set[str] = frozenset()) -> dict[str, str]:
    return {email: first for _, email, first in rows if email not in invalid}


def make_server(kind: str, **kwargs: Any) -> ContractServer:
    secret = SECRETS[kind][1]
    if kind == "webhook":
        return WebhookContractServer(secret, **kwargs)
    if kind == "mailchimp":
        return MailchimpContractServer(secret, **kwargs)
    return HubSpotContractServer(secret, rate_limit=kwargs.pop("rate_limit", None), **kwargs)


def subprocess_env(**extra: str) -> dict[str, str]:
    """Environment for running the CLI in a child process from this checkout."""
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(REPO), env.get("PYTHONPATH")]))
    env.update(extra)
    return env


PYTHON = sys.executable
