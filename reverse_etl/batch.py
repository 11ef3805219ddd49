"""What the engine hands a destination and what it gets back.

A `Batch` is homogeneous: one sync, one mode, one phase (add, change or remove),
rows in key order, sized so each API step is one call. The destination answers
with a `BatchOutcome` saying, per key, acknowledged (with the destination's own
record id when it has one) or rejected (with a reason, and whether a later run
may retry it).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any


class Mode(StrEnum):
    """What a sync does with the diff. See README "Modes"."""

    AUDIENCE = "audience"  # adds enter the audience, removes leave it, changes update fields
    UPSERT = "upsert"  # adds and changes are upserted; rows leaving the model are forgotten
    UPDATE_ONLY = "update-only"  # adds and changes update existing records only
    INSERT_ONLY = "insert-only"  # only keys never sent before are inserted
    MIRROR = "mirror"  # adds and changes upserted, removes deleted at the destination


class Phase(StrEnum):
    """The kind of difference between the model and the acknowledged state."""

    ADD = "add"
    CHANGE = "change"
    REMOVE = "remove"
    ERASE = "erase"  # an erased person's key left the model: delete them, in every mode


PHASE_ORDER: tuple[Phase, ...] = (Phase.ERASE, Phase.REMOVE, Phase.ADD, Phase.CHANGE)
"""Erasures and removes go first so that an identity change (old address out, new
address in) lands in that order; within a phase rows go in key order.

An erase row is a key that left the model and belongs to an erased person
(`cdp privacy erase`, docs/privacy.md): whatever the sync's mode, the destination
deletes everything it holds about the record (its payload is the last acknowledged
one), as far as its API allows; `DestinationSettings.erasure` says how far."""


@dataclass(frozen=True)
class Row:
    """One key's difference.

    payload:  the mapped fields to send (for a remove: the last acknowledged payload).
    previous: the last acknowledged payload for a change, else None.
    destination_id: the destination's record id from the last acknowledgement, if any.
    """

    key: str
    payload: dict[str, Any]
    content_hash: str | None = None
    previous: dict[str, Any] | None = None
    destination_id: str | None = None

    def to_json(self) -> dict[str, Any]:
        return {
            "key": self.key,
            "payload": self.payload,
            "content_hash": self.content_hash,
            "previous": self.previous,
            "destination_id": self.destination_id,
        }

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Row:
        return cls(
            key=data["key"],
            payload=data["payload"],
            content_hash=data.get("content_hash"),
            previous=data.get("previous"),
            destination_id=data.get("destination_id"),
        )


@dataclass(frozen=True)
class Batch:
    batch_id: str
    sync_name: str
    mode: Mode
    phase: Phase
    rows: tuple[Row, ...]

    def only(self, keys: set[str]) -> Batch:
        """The same batch (same id) restricted to `keys`."""
        return Batch(
            self.batch_id,
            self.sync_name,
            self.mode,
            self.phase,
            tuple(r for r in self.rows if r.key in keys),
        )

    @property
    def keys(self) -> list[str]:
        return [r.key for r in self.rows]


@dataclass(frozen=True)
class Rejection:
    """A row the destination refused. `retryable` rows are resent on later runs
    up to the sync's `max_row_retries`; others are terminal for this content."""

    reason: str
    retryable: bool = True


@dataclass
class BatchOutcome:
    """Per-key result of delivering or reconciling a batch.

    acknowledged: key -> destination record id (or None) the destination now holds.
    rejected:     key -> why the destination refused the row.
    unapplied:    keys a reconcile found not applied at all (never set by deliver).
    """

    acknowledged: dict[str, str | None] = field(default_factory=dict)
    rejected: dict[str, Rejection] = field(default_factory=dict)
    unapplied: set[str] = field(default_factory=set)

    def merge(self, other: BatchOutcome) -> BatchOutcome:
        self.acknowledged.update(other.acknowledged)
        self.rejected.update(other.rejected)
        self.unapplied -= set(other.acknowledged) | set(other.rejected)
        self.unapplied |= other.unapplied - set(self.acknowledged) - set(self.rejected)
        return self


@dataclass(frozen=True)
class SyncContext:
    """What a destination may know about the sync it serves."""

    sync_name: str
    mode: Mode
    fields: tuple[str, ...]
    hashed_fields: frozenset[str] = frozenset()
    """Fields sent as SHA-256 hex (the sync's `hashed_identifiers`)."""
    field_types: tuple[tuple[str, str], ...] = ()
    """(field, type) pairs: "string", "email" or "phone"."""

    @property
    def label(self) -> str:
        return f"sync '{self.sync_name}'"
