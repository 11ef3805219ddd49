"""A `cdp serve` app with the Profile API on a free port, in-process (uvicorn
in a thread), over the real serving store (tests/serve/test_profiles_store.py)
or a small in-memory store of the read API's shape.

`MemoryStore` is a test double of the serving store (cdp/serve/store) for the
routes' contract: shapes, scopes, errors, pagination. It can be switched off
(`available = False`) to test the 503 and the recovery."""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import requests
import uvicorn

from cdp.serve.app import create_app
from cdp.serve.auth import AccessToken, AccessTokens, load_access_tokens
from cdp.serve.keys import WriteKeys
from cdp.serve.profiles.store_api import StoreUnavailable
from cdp.serve.settings import ServeSettings

SPACE = "shop"
FULL, WEB, SCORES, OTHER, SLOW = (
    "full-token",
    "web-token",
    "score-token",
    "bank-token",
    "slow-token",
)
TOKENS = (
    f"service:{SPACE}:*={FULL},web:{SPACE}:traits+segments+events={WEB},"
    f"scoring:{SPACE}:scores={SCORES},bank:bank:*={OTHER}"
)


@dataclass(frozen=True)
class Ident:
    type: str
    value: str
    source: str | None


@dataclass(frozen=True)
class Member:
    segment: str
    entered_at: str | None


@dataclass(frozen=True)
class Consent:
    channel: str
    purpose: str
    status: str
    is_granted: bool
    as_of: str | None


@dataclass(frozen=True)
class Activity:
    activity_id: str
    type: str
    occurred_at: str
    source: str | None
    detail: str | None
    amount: float | None


@dataclass(frozen=True)
class Person:
    customer_id: str
    build_id: str
    traits: dict[str, object]
    field_groups: dict[str, str]
    identifiers: list[Ident]
    segments: list[Member]
    consent: list[Consent]
    scores: dict[str, object]
    activity: dict[str, object] = field(default_factory=dict)


def person(
    customer_id: str, email: str, granted: bool, events: int
) -> tuple[Person, list[Activity]]:
    traits = {"first_name": "Ann", "email": email, "city": "Leeds", "lifetime_value": 120.5}
    groups = {"first_name": "pii", "email": "pii", "city": "traits", "lifetime_value": "traits"}
    groups["churn_probability"] = "scores"
    return (
        Person(
            customer_id=customer_id,
            build_id="b1",
            traits=traits,
            field_groups=groups,
            identifiers=[
                Ident("email", email, "crm, shop"),
                Ident("user_id", f"u-{customer_id}", "shop"),
                Ident("anonymous_id", f"anon-{customer_id}", "web"),
            ],
            segments=[Member("vip", "2026-05-01"), Member("at_risk", "2026-06-01")],
            consent=[
                Consent(
                    "email",
                    "marketing",
                    "granted" if granted else "denied",
                    granted,
                    "2026-01-02T00:00:00",
                ),
            ],
            scores={"churn_probability": 0.25},
        ),
        [
            Activity(
                f"{customer_id}-a{i}",
                "order",
                f"2026-06-{30 - i:02d}T10:00:00",
                "shop",
                "order",
                10.0 + i,
            )
            for i in range(events)
        ],
    )


class MemoryStore:
    def __init__(self) -> None:
        self.available = True
        self.people: dict[str, Person] = {}
        self.activities: dict[str, list[Activity]] = {}
        for customer_id, email, granted, events in (
            ("c1", "ann@example.com", True, 25),
            ("c2", "bob@example.com", False, 2),
        ):
            self.people[customer_id], self.activities[customer_id] = person(
                customer_id, email, granted, events
            )

    def _check(self) -> None:
        if not self.available:
            raise StoreUnavailable("the store file /tmp/x/profiles.sqlite is missing")

    def build_id(self) -> str | None:
        self._check()
        return "b1"

    def resolve(self, id_type: str, value: str) -> str | None:
        self._check()
        for customer_id, found in self.people.items():
            if any(
                i.type == id_type and i.value == value.strip().lower() for i in found.identifiers
            ):
                return customer_id
        return None

    def profile(self, customer_id: str) -> Person | None:
        self._check()
        return self.people.get(customer_id)

    def events(
        self, customer_id: str, limit: int, cursor: str | None = None
    ) -> tuple[list[Activity], str | None]:
        self._check()
        rows = self.activities[customer_id]
        if cursor is not None and not cursor.isdigit():
            raise ValueError(f"next={cursor!r} is not a cursor of this list")
        start = int(cursor or 0)
        more = str(start + limit) if start + limit < len(rows) else None
        return rows[start : start + limit], more


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


class ProfileService:
    def __init__(self, tmp: Path, store: Any, rate_limit: float = 1000.0) -> None:
        tokens = load_access_tokens(TOKENS, None, rate_limit)
        # one token limited to 1 request/s, for the 429 test
        slow = AccessToken("slow", SPACE, frozenset({"*"}), SLOW, rate_limit=1.0)
        tokens = AccessTokens((*tokens.tokens, slow))
        settings = ServeSettings(
            write_keys=WriteKeys((("collect-key", "website"),)),
            spool_dir=tmp / "spool",
            landing_dir=tmp / "landing" / "web_events",
            access_tokens=tokens,
            consent_gates=(("pii", "marketing"),),
        )
        self.store = store
        app = create_app(settings, profile_store=lambda: store)
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}/v1/spaces/{SPACE}/collections/users/profiles"
        self.server = uvicorn.Server(uvicorn.Config(app, port=self.port, log_level="warning"))
        self.thread = threading.Thread(target=self.server.run, daemon=True)

    def __enter__(self) -> ProfileService:
        self.thread.start()
        deadline = time.monotonic() + 20
        while not self.server.started:
            if time.monotonic() > deadline:
                raise RuntimeError("the profile API did not start")
            time.sleep(0.02)
        return self

    def __exit__(self, *exc: object) -> None:
        self.server.should_exit = True
        self.thread.join(timeout=10)

    def get(self, path: str, token: str | None = FULL, **params: object) -> requests.Response:
        auth = (token, "") if token else None
        return requests.get(f"{self.url}/{path}", auth=auth, params=params, timeout=10)


def running(tmp: Path) -> Iterator[ProfileService]:
    with ProfileService(tmp, MemoryStore()) as service:
        yield service
