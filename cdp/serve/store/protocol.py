"""The serving store's read API: what the Profile API and the customer page read.

One `ProfileStore` holds one build of the warehouse (its `build_id`) plus the
collector's identity overlay. Every read answers from one build: a refresh
switches builds atomically, so a reader never sees two builds mixed. When the
store cannot answer (its file is gone, Redis is down) a read raises
`StoreUnavailable` whose `reason` is one line; the API answers 503.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Protocol, runtime_checkable

# The identifier types `resolve` knows besides the customer id itself; any
# identifier_type of marts.customer_identifiers works too, and "any" tries all.
ID_TYPES = ("customer_id", "user_id", "email", "phone", "anonymous_id", "any")

# Field groups: which group each golden trait belongs to, so the API can
# withhold a group (a token without `pii` sees no email, phone, names, address).
PII = "pii"
TRAITS = "traits"
SCORES = "scores"
FIELD_GROUPS = (PII, TRAITS, SCORES)


class StoreUnavailable(Exception):
    """The store cannot answer now; `reason` says why in one line (the API answers 503)."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


@dataclass(frozen=True)
class Identifier:
    type: str
    value: str
    source: str | None  # the source systems that hold it ("crm, shop"); None from the overlay


@dataclass(frozen=True)
class SegmentMembership:
    segment: str
    entered_at: str | None  # ISO date the current membership began


@dataclass(frozen=True)
class ConsentState:
    channel: str
    purpose: str
    status: str  # granted / denied / ... as marts.customer_consent_state
    is_granted: bool
    as_of: str | None  # ISO timestamp of the deciding signal


@dataclass(frozen=True)
class Event:
    """One activity of a customer (marts.customer_activities)."""

    activity_id: str
    type: str
    occurred_at: str  # ISO timestamp
    source: str | None
    detail: str | None
    amount: float | None


@dataclass(frozen=True)
class Profile:
    customer_id: str
    build_id: str  # the build this profile was read from
    traits: dict[str, object]  # golden columns of marts.customers, JSON-safe values
    field_groups: dict[str, str]  # trait or score name -> field group (pii / traits / scores)
    identifiers: list[Identifier]
    segments: list[SegmentMembership]
    consent: list[ConsentState]
    scores: dict[str, object]  # marts.customer_predictions columns
    activity: dict[str, object]  # summary: count, last_at, by type
    recent_events: list[Event] = field(default_factory=list)


@dataclass(frozen=True)
class ProfileSummary:
    customer_id: str
    name: str | None
    email: str | None
    phone: str | None


@dataclass(frozen=True)
class SourceRecord:
    source: str
    record_id: str
    record_key: str
    first_name: str | None
    last_name: str | None
    email: str | None
    phone: str | None


@dataclass(frozen=True)
class Link:
    left_record_key: str
    right_record_key: str
    rule: str
    rule_order: int
    score: float | None


@dataclass(frozen=True)
class Explain:
    """The records behind a customer and the links that joined them (`cdp identity explain`)."""

    customer_id: str
    build_id: str
    records: list[SourceRecord]
    links: list[Link]


@dataclass(frozen=True)
class SegmentChange:
    segment: str
    change: str  # "entered" or "left"
    at: str  # ISO date


@runtime_checkable
class ProfileStore(Protocol):
    """Read API of the serving store; every method may raise StoreUnavailable."""

    def build_id(self) -> str | None:
        """The build the store holds; None when it holds none yet."""
        ...

    def resolve(self, id_type: str, value: str) -> str | None:
        """The customer_id holding identifier `value` of `id_type` (see ID_TYPES), or None.

        The value is normalised as the warehouse does (emails lower-cased and
        trimmed, phones to E.164 digits). The collector's overlay (identify
        calls seen since the build) answers too."""
        ...

    def profile(self, customer_id: str) -> Profile | None: ...

    def events(
        self, customer_id: str, limit: int, cursor: str | None = None
    ) -> tuple[list[Event], str | None]:
        """Newest first; the second value is the cursor of the next page (None: no more)."""
        ...

    def search(self, text: str, limit: int = 20) -> list[ProfileSummary]:
        """Customers whose name, email, phone or id contains `text` (case-insensitive)."""
        ...

    def explain(self, customer_id: str) -> Explain | None: ...

    def segment_history(self, customer_id: str) -> list[SegmentChange]:
        """Every entry into and exit from a segment, oldest first."""
        ...
