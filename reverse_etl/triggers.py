"""Triggers: who entered or left a segment, sent as signed events after each build.

A trigger is a sync, compiled from the `triggers:` section of the sync YAML:

    triggers:
      - name: vip_journey
        consent_purpose: email_marketing      # optional, as for a sync
        destination: {type: webhook, url: ..., signing_secret_env: HOOK_SECRET}
        traits:                               # optional: trait -> column of the source
          email: {source: email, type: email}
          first_name: first_name

becomes a sync of the event model `marts.segment_trigger_events` (one row per
entry or exit, keyed by `event_id`: dbt_project/models/marts/audiences) in mode
`insert-only` into the webhook destination with `payload: events`. So the
engine's guarantees hold unchanged: each event is delivered once (its key is
never inserted twice), retries and the reconcile after a crash replay the same
signed body under the same Idempotency-Key, and the privacy gate withholds the
events of people without the consent (`customer_key: customer_id`) or on the
suppression list. The event's envelope (`ENVELOPE`: type, customer_id, segment,
at, build_id) is mapped from the model's columns; the traits are the trigger's.

`parse_syncs` (config.py) calls `trigger_syncs` and validates what it returns as
ordinary syncs with `kind: trigger`; `cdp sync` and `cdp run` run them with the
syncs, the Dagster asset `triggers/<name>` runs each below the memberships. On
CDP_TARGET=spark they are left out at start-up with one line (`spark_runnable`):
the event log they read is not built there.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated, Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from reverse_etl.destinations.webhook.config import EVENT_ENVELOPE
from reverse_etl.errors import ConfigError

if TYPE_CHECKING:
    from reverse_etl.config import SyncDefinition

DEFAULT_SOURCE = "marts.segment_trigger_events"
EVENT_KEY = "event_id"
CUSTOMER_KEY = "customer_id"
ENVELOPE: dict[str, str] = {
    "type": "event_type",
    "customer_id": "customer_id",
    "segment": "segment_name",
    "at": "occurred_at",
    "build_id": "build_id",
}
"""Event field -> column of the event model, the same for every trigger."""
assert tuple(ENVELOPE) == EVENT_ENVELOPE

TraitName = Annotated[str, Field(pattern=r"^[A-Za-z_][A-Za-z0-9_]*$", max_length=128)]


class TriggerDefinition(BaseModel):
    """One trigger as written in the YAML (the keys a sync's would be derived)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    name: str = Field(pattern=r"^[a-z0-9][a-z0-9_-]*$", max_length=100)
    description: str | None = None
    source: str = Field(
        DEFAULT_SOURCE,
        pattern=r"^[A-Za-z_][A-Za-z0-9_]*\.[A-Za-z_][A-Za-z0-9_]*$",
        description="An event model with the columns of marts.segment_trigger_events.",
    )
    destination: dict[str, Any]
    traits: dict[TraitName, Any] = Field(default_factory=dict)
    consent_purpose: str | None = None
    schedule: str | None = None
    max_row_retries: int = Field(3, ge=1, le=100)

    @field_validator("destination")
    @classmethod
    def _webhook(cls, value: dict[str, Any]) -> dict[str, Any]:
        if value.get("type") != "webhook":
            raise ValueError("a trigger sends to a destination of type 'webhook'")
        if value.get("payload", "events") != "events":
            raise ValueError("payload: a trigger always sends 'events'")
        return value

    @field_validator("traits")
    @classmethod
    def _not_envelope(cls, value: dict[str, Any]) -> dict[str, Any]:
        clash = sorted(set(value) & set(ENVELOPE))
        if clash:
            raise ValueError(f"{', '.join(clash)}: already a field of every event")
        return value

    def sync(self) -> dict[str, Any]:
        """The sync this trigger is, as YAML would write it."""
        return {
            "name": self.name,
            "kind": "trigger",
            "description": self.description
            or f"Segment entries and exits from {self.source} as events.",
            "source": self.source,
            "primary_key": EVENT_KEY,
            "customer_key": CUSTOMER_KEY,
            "mode": "insert-only",
            "destination": {**self.destination, "payload": "events"},
            "fields": {**ENVELOPE, **self.traits},
            "consent_purpose": self.consent_purpose,
            "schedule": self.schedule,
            "max_row_retries": self.max_row_retries,
        }


def trigger_syncs(data: Any) -> tuple[list[tuple[str, dict[str, Any]]], list[str]]:
    """([(name, sync mapping)], problems) for the `triggers:` list of a sync file.

    Problems read `trigger '<name>': <field>: <problem>`, never echoing values."""
    if not isinstance(data, list):
        return [], ["triggers: expected a list of triggers"]
    found: list[tuple[str, dict[str, Any]]] = []
    problems: list[str] = []
    for index, raw in enumerate(data):
        label = f"#{index + 1}"
        if isinstance(raw, dict) and raw.get("name"):
            label = str(raw["name"])
        try:
            trigger = TriggerDefinition.model_validate(raw)
        except ValidationError as exc:
            for err in exc.errors(include_input=False, include_url=False):
                where = ".".join(str(p) for p in err["loc"])
                message = err["msg"].removeprefix("Value error, ")
                problems.append(f"trigger '{label}': {where + ': ' if where else ''}{message}")
            continue
        found.append((trigger.name, trigger.sync()))
    return found, problems


SPARK_REFUSAL = (
    "triggers do not run on spark: their event log (segment_membership_history and "
    "segment_membership_events) is incremental by key, which plain Parquet tables "
    "cannot keep, so it is not built there (docs/engines.md, 'Known gaps')"
)


def spark_runnable(
    syncs: list[SyncDefinition], named: tuple[str, ...] = ()
) -> tuple[list[SyncDefinition], str | None]:
    """(the syncs to run on CDP_TARGET=spark, a one-line note or None).

    Triggers are left out there (SPARK_REFUSAL); naming one with `--sync` is bad input
    (TriggerRefused), so the refusal comes at start-up, never half-way."""
    triggers = [s.name for s in syncs if s.kind == "trigger"]
    if not triggers:
        return syncs, None
    asked = sorted(set(triggers) & set(named))
    if asked:
        raise TriggerRefused(f"trigger {', '.join(asked)}: {SPARK_REFUSAL}")
    return (
        [s for s in syncs if s.kind != "trigger"],
        f"skipping trigger(s) {', '.join(triggers)}: {SPARK_REFUSAL}",
    )


class TriggerRefused(ConfigError):
    """A trigger named to run on an engine that cannot build its event log."""
