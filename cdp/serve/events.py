"""One Segment call → one canonical `raw.web_events` row, or a reason it is refused.

The rules are Segment's (HTTP Tracking API and the common spec): every call
needs a `userId` or an `anonymousId`; `track` needs `event`, `group` needs
`groupId`, `alias` needs `previousId` and `userId`; `properties`, `traits` and
`context` are objects; timestamps are ISO-8601. `timestamp` is corrected for
the client's clock as Segment does it:

    timestamp = receivedAt - (sentAt - originalTimestamp)

when the call (or its batch) has `sentAt`; the client's own `timestamp` as
given when it has no `sentAt`; `receivedAt` when it has neither. The row keeps
all four (`original_timestamp` is what the client called `timestamp`).
"""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from typing import Any

import orjson

CALL_TYPES = ("track", "identify", "page", "screen", "group", "alias")
# analytics.js (analytics-next) posts each call to the first letter of its type.
SHORT_PATHS = {name[0]: name for name in CALL_TYPES}

# The columns of raw.web_events the collector fills, in file order
# (dbt_project/models/staging/web/_web__sources.yml).
COLUMNS = (
    "message_id",
    "type",
    "event",
    "name",
    "category",
    "anonymous_id",
    "user_id",
    "group_id",
    "previous_id",
    "session_id",
    "timestamp",
    "original_timestamp",
    "sent_at",
    "received_at",
    "source_name",
    "properties",
    "traits",
    "context",
)


class EventError(ValueError):
    """Why one call is refused (one line, returned to the client as `reason`)."""


def _id(value: Any, field: str) -> str | None:
    """Segment ids are strings; libraries also send numbers."""
    if value is None:
        return None
    if type(value) is str and len(value) <= 1024:  # the common case, first
        return value.strip() or None
    if isinstance(value, bool) or not isinstance(value, str | int):
        raise EventError(f"'{field}' must be a string, found {type(value).__name__}")
    text = str(value).strip()
    if len(text) > 1024:
        raise EventError(f"'{field}' is longer than 1024 characters")
    return text or None


def _text(value: Any, field: str) -> str | None:
    if value is None:
        return None
    if not isinstance(value, str):
        raise EventError(f"'{field}' must be a string, found {type(value).__name__}")
    return value.strip() or None


def _object(value: Any, field: str) -> dict[str, Any] | None:
    if value is None or type(value) is dict:
        return value
    if not isinstance(value, dict):
        raise EventError(f"'{field}' must be an object, found {type(value).__name__}")
    return value


def parse_time(value: Any, field: str) -> datetime | None:
    """An ISO-8601 date-time (offset or `Z`; none means UTC), as aware UTC."""
    if value is None:
        return None
    if not isinstance(value, str):
        raise EventError(f"'{field}' must be an ISO-8601 string, found {type(value).__name__}")
    try:
        parsed = datetime.fromisoformat(value.strip())
    except ValueError:
        raise EventError(f"'{field}': {value[:40]!r} is not an ISO-8601 date-time") from None
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=UTC)
    return parsed.astimezone(UTC)


def corrected_timestamp(
    received_at: datetime, sent_at: datetime | None, original: datetime | None
) -> datetime:
    """Segment's clock-skew correction (see the module docstring)."""
    if original is None:
        return received_at
    if sent_at is None:
        return original
    return received_at - (sent_at - original)


def canonical_row(
    call: Any,
    call_type: str | None,
    *,
    received_at: datetime,
    source_name: str,
    batch_sent_at: datetime | None = None,
) -> dict[str, Any]:
    """Validate one call and return its row (keys in COLUMNS order; times as
    aware UTC datetimes, which `encode_row` writes as RFC 3339 with `Z`).

    `call_type` is the endpoint's type (`/v1/track`); None for a batch item,
    whose own `type` decides."""
    if not isinstance(call, dict):
        raise EventError(f"an event must be a JSON object, found {type(call).__name__}")
    kind = call.get("type") if call_type is None else call_type
    if call_type is None:
        if kind is None:
            raise EventError("'type' is missing (track, identify, page, screen, group or alias)")
        if not isinstance(kind, str) or kind.strip().lower() not in CALL_TYPES:
            raise EventError(f"'type' {str(kind)[:40]!r} is not one of {', '.join(CALL_TYPES)}")
        kind = kind.strip().lower()
    user_id = _id(call.get("userId"), "userId")
    anonymous_id = _id(call.get("anonymousId"), "anonymousId")
    if user_id is None and anonymous_id is None:
        raise EventError("'userId' or 'anonymousId' is required")
    message_id = _id(call.get("messageId"), "messageId") or f"cdp-{uuid.uuid4()}"
    event = _text(call.get("event"), "event")
    if kind == "track" and event is None:
        raise EventError("a track call needs 'event'")
    group_id = _id(call.get("groupId"), "groupId")
    if kind == "group" and group_id is None:
        raise EventError("a group call needs 'groupId'")
    previous_id = _id(call.get("previousId"), "previousId")
    if kind == "alias" and (previous_id is None or user_id is None):
        raise EventError("an alias call needs 'previousId' and 'userId'")
    properties = _object(call.get("properties"), "properties")
    traits = _object(call.get("traits"), "traits")
    context = _object(call.get("context"), "context")
    original = parse_time(call.get("timestamp"), "timestamp")
    sent_at = parse_time(call.get("sentAt"), "sentAt") or batch_sent_at
    session = None
    if context is not None:
        session = context.get("sessionId", context.get("session_id"))
    return {
        "message_id": message_id,
        "type": kind,
        "event": event,
        "name": _text(call.get("name"), "name"),
        "category": _text(call.get("category"), "category"),
        "anonymous_id": anonymous_id,
        "user_id": user_id,
        "group_id": group_id,
        "previous_id": previous_id,
        "session_id": _id(session, "context.sessionId"),
        "timestamp": corrected_timestamp(received_at, sent_at, original),
        "original_timestamp": original,
        "sent_at": sent_at,
        "received_at": received_at,
        "source_name": source_name,
        "properties": properties,
        "traits": traits,
        "context": context,
    }


def encode_row(row: dict[str, Any]) -> bytes:
    """One JSON line of the spool (orjson writes datetimes as `...Z`)."""
    return orjson.dumps(row, option=orjson.OPT_UTC_Z | orjson.OPT_APPEND_NEWLINE)
