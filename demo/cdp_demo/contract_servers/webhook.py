"""A webhook receiver that follows the contract documented for the webhook destination.

POST <path> with a JSON batch. The receiver:
- verifies `X-CDP-Signature: sha256=<hex>` = HMAC-SHA256(secret, "<timestamp>." + body)
  and that `X-CDP-Timestamp` is within 5 minutes (401 otherwise);
- requires `Idempotency-Key`; a key seen before gets the first answer back with
  `Idempotent-Replayed: true` and nothing is applied again;
- refuses more than `max_batch_size` records with 413;
- answers 200 {"accepted": n, "rejected": [{"key", "reason"}]}.

`members` holds the current record per key (enter/upsert/insert/update set it,
exit/delete remove it; erase, an erased person, removes it and anything else held
about the key: here, the record is all there is); `deliveries[(operation, key)]`
counts applied operations.

An event stream (`{"type": "events", "events": [{id, type, customer_id, segment,
at, build_id, traits}]}`, what a trigger sends) is checked the same way (signature,
Idempotency-Key, size) plus the event's shape (400 naming the first bad event);
`events` keeps every applied event in order of receipt, each with `received_at`
(time.time() when the server applied it), and `deliveries[("event", id)]` counts
them, so a duplicate shows as a count of 2. An erased person's events come back as
`{operation: "erase", records: [{key: <event id>, fields: <the event's fields>}]}`
(one record per event id sent, the ordinary erase body): the receiver deletes the
event with that id, and with it everything it kept of the person through it.
"""

from __future__ import annotations

import hashlib
import hmac
import time
from typing import Any

from cdp_demo.contract_servers.server import ContractServer, Reply, Request

SET_OPERATIONS = {"enter", "upsert", "insert", "update"}
DELETE_OPERATIONS = {"exit", "delete", "erase"}
EVENT_TYPES = {"segment_entered", "segment_left"}
EVENT_KEYS = ("id", "type", "customer_id", "segment", "at", "build_id")


def event_problem(event: Any) -> str | None:
    """Why `event` is not a trigger event, or None."""
    if not isinstance(event, dict):
        return "an event must be an object"
    for key in EVENT_KEYS:
        if not isinstance(event.get(key), str) or not event[key]:
            return f"event {event.get('id')!r}: '{key}' must be a non-empty string"
    if event["type"] not in EVENT_TYPES:
        return f"event {event['id']!r}: type must be one of {', '.join(sorted(EVENT_TYPES))}"
    if not isinstance(event.get("traits"), dict):
        return f"event {event['id']!r}: 'traits' must be an object"
    return None


class WebhookContractServer(ContractServer):
    name = "webhook"

    def __init__(
        self,
        secret: str,
        *,
        path: str = "/hooks/cdp",
        max_batch_size: int = 1000,
        rate_limit: tuple[int, float] | None = None,
        reject_keys: dict[str, str] | None = None,
    ) -> None:
        super().__init__(rate_limit=rate_limit)
        self.secret = secret.encode()
        self.path = path
        self.max_batch_size = max_batch_size
        self.reject_keys = dict(reject_keys or {})
        self.members: dict[str, dict[str, Any]] = {}
        self.idempotency: dict[str, tuple[int, Any]] = {}
        self.replays = 0
        self.events: list[dict[str, Any]] = []

    @property
    def endpoint(self) -> str:
        return self.url + self.path

    def authenticate(self, request: Request) -> Reply | None:
        timestamp = request.headers.get("x-cdp-timestamp", "")
        signature = request.headers.get("x-cdp-signature", "")
        if not timestamp.isdigit() or abs(time.time() - int(timestamp)) > 300:
            return Reply(401, {"error": "missing or stale X-CDP-Timestamp"})
        expected = hmac.new(self.secret, timestamp.encode() + b"." + request.body, hashlib.sha256)
        if not hmac.compare_digest(signature, "sha256=" + expected.hexdigest()):
            return Reply(401, {"error": "invalid signature"})
        return None

    def route(self, request: Request) -> Reply:
        if request.path != self.path:
            return Reply(404, {"error": "not found"})
        if request.method != "POST":
            return Reply(405, {"error": "method not allowed"})
        key = request.headers.get("idempotency-key")
        if not key:
            return Reply(400, {"error": "Idempotency-Key header is required"})
        if key in self.idempotency:
            self.replays += 1
            status, body = self.idempotency[key]
            return Reply(status, body, {"Idempotent-Replayed": "true"})
        body = request.json()
        if isinstance(body, dict) and body.get("type") == "ping":
            return Reply(200, {"ok": True})
        if isinstance(body, dict) and body.get("type") == "events":
            return self._events(key, body.get("events"))
        records = body.get("records") if isinstance(body, dict) else None
        operation = body.get("operation") if isinstance(body, dict) else None
        if not isinstance(records, list) or operation not in SET_OPERATIONS | DELETE_OPERATIONS:
            return Reply(400, {"error": "expected {operation, records: [...]}"})
        if len(records) > self.max_batch_size:
            return Reply(413, {"error": f"at most {self.max_batch_size} records per request"})
        rejected = []
        writes = []
        for record in records:
            record_key = str(record["key"])
            if record_key in self.reject_keys:
                rejected.append({"key": record_key, "reason": self.reject_keys[record_key]})
                continue
            if operation in SET_OPERATIONS:
                self.members[record_key] = dict(record.get("fields") or {})
            else:
                self.members.pop(record_key, None)
            if operation == "erase":
                # an erased person's trigger event: its key is the event id
                self.events = [e for e in self.events if e.get("id") != record_key]
            writes.append((operation, record_key))
        answer = {"accepted": len(writes), "rejected": rejected}
        self.idempotency[key] = (200, answer)
        return Reply(200, answer, writes=writes)

    def _events(self, key: str, events: Any) -> Reply:
        if not isinstance(events, list):
            return Reply(400, {"error": "expected {type: events, events: [...]}"})
        if len(events) > self.max_batch_size:
            return Reply(413, {"error": f"at most {self.max_batch_size} events per request"})
        for event in events:
            problem = event_problem(event)
            if problem:
                return Reply(400, {"error": problem})
        rejected = []
        writes = []
        received_at = time.time()
        for event in events:
            if event["id"] in self.reject_keys:
                rejected.append({"key": event["id"], "reason": self.reject_keys[event["id"]]})
                continue
            self.events.append({**event, "received_at": received_at})
            writes.append(("event", event["id"]))
        answer = {"accepted": len(writes), "rejected": rejected}
        self.idempotency[key] = (200, answer)
        return Reply(200, answer, writes=writes)
