"""The per-destination test harness: a contract server plus how to drive and read it.

Each destination has one subclass in `harness_<kind>.py` (found by retl_support);
the shared end-to-end, fault and kill tests run against every registered kind.
A subclass says how the sync is configured, how to read what the destination holds,
and which writes one entering, updated or exiting member causes at the server.
"""

from __future__ import annotations

import hashlib
from abc import ABC, abstractmethod
from collections import Counter
from pathlib import Path
from typing import Any, ClassVar

import yaml
from cdp_demo.contract_servers import ContractServer

from reverse_etl.config import SyncDefinition, parse_syncs

FAST_RETRY = {
    "max_attempts": 6,
    "initial_backoff_seconds": 0.01,
    "max_backoff_seconds": 0.05,
    "connect_timeout_seconds": 2.0,
    "read_timeout_seconds": 2.0,
}
UNTHROTTLED = {"max_requests": 100_000, "per_seconds": 1}

Person = tuple[int, str, str]  # customer_id, email, first_name

REGISTRY: dict[str, type[Harness]] = {}


class Harness(ABC):
    """One destination under test: its contract server and how to read it."""

    kind: ClassVar[str]
    secret_env: ClassVar[str]
    secret: ClassVar[str]
    secret_field: ClassVar[str]
    """The settings field naming the secret's variable (e.g. api_key_env)."""
    enter_writes: ClassVar[tuple[str, ...]]
    update_writes: ClassVar[tuple[str, ...]]
    exit_writes: ClassVar[tuple[str, ...]]
    keyed_by_primary_key: ClassVar[bool] = False
    """True if the destination identifies a record by the sync's primary key (so an
    address change is an update); False if by email (a remove and an add)."""
    second_step: ClassVar[tuple[str, str] | None] = None
    """(path fragment, HTTP method) of a batch's second API call, if it has one:
    failing it after the first write landed leaves the batch for reconciliation."""

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        if "kind" in cls.__dict__:
            REGISTRY[cls.kind] = cls

    def __init__(self, server: ContractServer, mode: str = "audience") -> None:
        self.server = server
        self.mode = mode

    # --- the server -------------------------------------------------------------
    @classmethod
    @abstractmethod
    def make_server(cls, **kwargs: Any) -> ContractServer: ...

    @classmethod
    @abstractmethod
    def refusing_server_kwargs(cls, key: str, email: str, reason: str) -> dict[str, Any]:
        """make_server arguments that make the destination refuse one row per-row."""

    # --- the sync ---------------------------------------------------------------
    @abstractmethod
    def destination_settings(self) -> dict[str, Any]: ...

    @abstractmethod
    def fields(self) -> dict[str, Any]: ...

    def destination(self, **overrides: Any) -> dict[str, Any]:
        common = {"retry": FAST_RETRY, "rate_limit": UNTHROTTLED}
        return {**self.destination_settings(), **common, **overrides}

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

    def wrong_secret(self, wrong: str) -> str:
        """A wrong secret in the shape the destination expects."""
        return wrong

    # --- what the destination holds ----------------------------------------------
    @abstractmethod
    def audience(self) -> dict[str, str]:
        """Record identity -> first name (or "" where the destination keeps no name),
        for every record the destination counts as in the audience."""

    def expected_audience(
        self, rows: list[Person], invalid: set[str] = frozenset()
    ) -> dict[str, str]:
        return {email: first for _, email, first in rows if email not in invalid}

    def ident(self, row: Person) -> str:
        """How the server counts a row's writes: by key or by email."""
        return str(row[0]) if self.keyed_by_primary_key else row[1]

    def writes(self) -> Counter[tuple[str, str]]:
        """(write kind, identity) -> accepted writes, as counted by the server."""
        with self.server.lock:
            return Counter(self.server.deliveries)

    def expected_writes(
        self, enter: Any = (), update: Any = (), exit: Any = ()
    ) -> Counter[tuple[str, str]]:
        counts: Counter[tuple[str, str]] = Counter()
        for rows, kinds in (
            (enter, self.enter_writes),
            (update, self.update_writes),
            (exit, self.exit_writes),
        ):
            for row in rows:
                for kind in kinds:
                    counts[(kind, self.ident(row))] += 1
        return counts

    @abstractmethod
    def was_reconciled(self) -> bool:
        """After a write timed out: the engine read the outcome back (or replayed the
        request idempotently) rather than resending blindly."""


def email_hash(email: str) -> str:
    """SHA-256 hex of the normalised email: what an ad destination holds."""
    return hashlib.sha256(email.strip().lower().encode()).hexdigest()


class HashedEmailHarness(Harness):
    """An ad destination: it receives and holds only the SHA-256 of the email
    (field `email_field`), so a record's identity is that hash and no name is kept.
    The shared tests update only first names, which such an audience never
    receives, so an update causes no write."""

    email_field: ClassVar[str]
    enter_writes = ("member_add",)
    update_writes = ()
    exit_writes = ("member_remove",)

    @classmethod
    def refusing_server_kwargs(cls, key: str, email: str, reason: str) -> dict[str, Any]:
        return {"refused": {email_hash(email): reason}}

    def fields(self) -> dict[str, Any]:
        return {self.email_field: {"source": "email", "type": "email"}}

    def sync_dict(self, name: str = "audience_sync", **overrides: Any) -> dict[str, Any]:
        return {"hashed_identifiers": [self.email_field], **super().sync_dict(name, **overrides)}

    def audience(self) -> dict[str, str]:
        return dict.fromkeys(self.server.member_hashes(), "")  # type: ignore[attr-defined]

    def expected_audience(
        self, rows: list[Person], invalid: set[str] = frozenset()
    ) -> dict[str, str]:
        return {email_hash(email): "" for _, email, _ in rows if email not in invalid}

    def ident(self, row: Person) -> str:
        return email_hash(row[1])
