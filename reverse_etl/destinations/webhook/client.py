"""Webhook client: one POST per batch, signed, with the batch id as Idempotency-Key.

Request body (keys sorted, compact JSON):
    {"sync": "...", "batch_id": "...", "mode": "audience", "operation": "enter",
     "records": [{"key": "42", "fields": {...}}, ...]}
Headers: X-CDP-Timestamp (unix seconds), X-CDP-Signature ("sha256=" + hex
HMAC-SHA256 of "<timestamp>." + body), Idempotency-Key (the batch id).

With `payload: events` (a trigger, reverse_etl/triggers.py) the body is an event
stream instead, one event per record, its envelope fields at the top and every
other mapped field under `traits`:
    {"type": "events", "sync": "...", "batch_id": "...",
     "events": [{"id": "<key>", "type": "segment_entered", "customer_id": "...",
                 "segment": "...", "at": "2026-07-01T06:00:00.123456Z",
                 "build_id": "...", "traits": {...}}, ...]}
`at` is ISO 8601 in UTC with microseconds (`...T06:00:00.123456Z`, always that
width) whatever engine the warehouse runs on.

Operation "erase" (any mode) is an erased person (`cdp privacy erase`): the
receiver must delete everything it holds about the record's key, not only take it
out of an audience; its `fields` are the last ones sent, to find copies by. With
`payload: events` too the erase comes in this records shape, one record per event
id the trigger sent the person (key: the event id, fields: the event's fields,
`customer_id` among them), so a receiver can delete by event or by person.

The receiver must answer 2xx, optionally with {"rejected": [{"key", "reason"}]},
and must apply a given Idempotency-Key at most once (answering repeats with the
first result). Because of that contract every POST is repeatable: timeouts and
5xx are retried with the same key and body, and `reconcile` simply replays it.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import time
import uuid
from collections.abc import Mapping
from datetime import UTC, datetime

from reverse_etl.batch import Batch, BatchOutcome, Mode, Phase, Rejection, SyncContext
from reverse_etl.destinations.base import Destination
from reverse_etl.destinations.webhook.config import EVENT_ENVELOPE, WebhookSettings
from reverse_etl.errors import BatchRejectedError
from reverse_etl.http import HttpClient, error_snippet

OPERATIONS: dict[tuple[Mode, Phase], str] = {
    (Mode.AUDIENCE, Phase.ADD): "enter",
    (Mode.AUDIENCE, Phase.CHANGE): "update",
    (Mode.AUDIENCE, Phase.REMOVE): "exit",
    (Mode.UPSERT, Phase.ADD): "upsert",
    (Mode.UPSERT, Phase.CHANGE): "upsert",
    (Mode.MIRROR, Phase.ADD): "upsert",
    (Mode.MIRROR, Phase.CHANGE): "upsert",
    (Mode.MIRROR, Phase.REMOVE): "delete",
    (Mode.INSERT_ONLY, Phase.ADD): "insert",
    (Mode.UPDATE_ONLY, Phase.ADD): "update",
    (Mode.UPDATE_ONLY, Phase.CHANGE): "update",
}


class WebhookDestination(Destination):
    settings_class = WebhookSettings

    def __init__(self, settings: WebhookSettings, context: SyncContext) -> None:
        super().__init__(settings, context)
        self.settings: WebhookSettings = settings
        self._secret = settings.resolve_secret("signing_secret_env", context.sync_name)
        self._http = self.http_client(
            base_url=settings.url,
            auth_field=settings.secret_label("signing_secret_env"),
            headers={"Content-Type": "application/json", "User-Agent": "cdp-reverse-etl"},
        )

    @property
    def http(self) -> HttpClient:
        return self._http

    def _signature_headers(self, body: bytes) -> Mapping[str, str]:
        timestamp = str(int(time.time()))
        digest = hmac.new(
            self._secret.get_secret_value().encode(),
            timestamp.encode() + b"." + body,
            hashlib.sha256,
        ).hexdigest()
        return {"X-CDP-Timestamp": timestamp, "X-CDP-Signature": f"sha256={digest}"}

    def _post(self, body: bytes, idempotency_key: str) -> dict:
        response = self._http.request(
            "POST",
            self.settings.url,
            data=body,
            headers={"Idempotency-Key": idempotency_key},
            headers_factory=lambda: self._signature_headers(body),
            repeatable=True,
        )
        if not 200 <= response.status_code < 300:
            raise BatchRejectedError(self.label, f"POST refused: {error_snippet(response)}")
        try:
            answer = response.json() if response.content else {}
        except ValueError:
            answer = {}
        return answer if isinstance(answer, dict) else {}

    def body(self, batch: Batch) -> bytes:
        if self.settings.payload == "events" and batch.phase is not Phase.ERASE:
            return _compact(
                {
                    "type": "events",
                    "sync": batch.sync_name,
                    "batch_id": batch.batch_id,
                    "events": [_event(row.key, row.payload) for row in batch.rows],
                }
            )
        document = {
            "sync": batch.sync_name,
            "batch_id": batch.batch_id,
            "mode": batch.mode.value,
            "operation": "erase"
            if batch.phase is Phase.ERASE
            else OPERATIONS[(batch.mode, batch.phase)],
            "records": [{"key": row.key, "fields": row.payload} for row in batch.rows],
        }
        return _compact(document)

    def deliver(self, batch: Batch) -> BatchOutcome:
        answer = self._post(self.body(batch), batch.batch_id)
        outcome = BatchOutcome()
        keys = set(batch.keys)
        for item in answer.get("rejected") or []:
            key = str(item.get("key"))
            if key in keys:
                reason = str(item.get("reason") or "rejected by receiver")
                outcome.rejected[key] = Rejection(reason, bool(item.get("retryable", True)))
        for key in batch.keys:
            if key not in outcome.rejected:
                outcome.acknowledged[key] = None
        return outcome

    def reconcile(self, batch: Batch) -> BatchOutcome:
        """Replay the identical request: the receiver applies an Idempotency-Key once."""
        return self.deliver(batch)

    def check(self) -> None:
        """POST a signed ping; proves the URL answers and accepts the signing secret."""
        body = json.dumps({"type": "ping", "sync": self.context.sync_name}).encode()
        self._post(body, f"ping-{uuid.uuid4().hex}")


def _compact(document: dict) -> bytes:
    return json.dumps(document, sort_keys=True, separators=(",", ":")).encode()


def _event(key: str, payload: Mapping[str, object]) -> dict[str, object]:
    event: dict[str, object] = {"id": key}
    traits = {}
    for name, value in payload.items():
        if name in EVENT_ENVELOPE:
            event[name] = _utc_iso(value) if name == "at" else value
        else:
            traits[name] = value
    event["traits"] = traits
    return event


def _utc_iso(value: object) -> object:
    """A warehouse timestamp (naive UTC, as DuckDB or PostgreSQL render it in JSON) as
    ISO 8601 in UTC with microseconds and a Z, always the same width: DuckDB renders
    `.437010` as `.43701`, so the text as given would change length with the value."""
    if not isinstance(value, str) or not value:
        return value
    try:
        moment = datetime.fromisoformat(value)
    except ValueError:
        return value  # not a timestamp: sent as the warehouse gave it
    if moment.tzinfo is not None:
        moment = moment.astimezone(UTC).replace(tzinfo=None)
    return moment.strftime("%Y-%m-%dT%H:%M:%S.%fZ")
