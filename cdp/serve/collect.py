"""The Segment HTTP Tracking API: `/v1/track|identify|page|screen|group|alias|batch`.

Paths, auth and limits follow Segment's documentation so that its libraries
work unchanged but for the host: the write key is the HTTP Basic user name (or
`writeKey` in the body); a call is at most 32 KB, a batch at most 500 KB with
32 KB per event. analytics.js posts to the short paths (`/v1/t`, `/v1/p`, ...,
`/v1/b` for batches) with `Content-Type: text/plain`; both are accepted.

Answers: 200 `{"success": true}` once every event is durable; 400 with one
reason per bad event (the good events of the batch are kept and counted in
`accepted`); 401 for a missing or unknown key; 408 for a body that does not
arrive in time; 413 too large; 429 with `Retry-After` while the spool is
behind; 503 with `Retry-After` when its disk is full.
"""

from __future__ import annotations

import inspect
import logging
from collections.abc import Awaitable, Callable, Sequence
from datetime import UTC, datetime
from typing import Any

import orjson
from fastapi import APIRouter, Request
from fastapi.responses import Response
from starlette.routing import Route

from cdp.serve.body import BodyError, read_body
from cdp.serve.credentials import basic_user
from cdp.serve.events import CALL_TYPES, SHORT_PATHS, EventError, canonical_row, parse_time
from cdp.serve.models import Accepted, EventRefusal, Refused
from cdp.serve.settings import ServeSettings
from cdp.serve.spool import DiskFull, Spool, SpoolBusy, SpoolError

log = logging.getLogger("cdp.serve.collect")

# Called with the identify rows of every acknowledged request: the hook the
# profile store's identity overlay attaches to (docs/collect.md, "Hot path").
IdentifyListener = Callable[[list[dict[str, Any]]], Awaitable[None] | None]

router = APIRouter(prefix="/v1", tags=["collect"])


def _json(
    model: Accepted | Refused, status: int, headers: dict[str, str] | None = None
) -> Response:
    fields = model.model_dump(exclude_defaults=status not in (200, 400))
    return Response(
        orjson.dumps({"success": model.success, **fields}),
        status_code=status,
        media_type="application/json",
        headers=headers,
    )


def _refuse(status: int, reason: str, headers: dict[str, str] | None = None) -> Response:
    return _json(Refused(reason=reason), status, headers)


async def handle(request: Request, call_type: str | None) -> Response:
    """One Tracking API request; `call_type` None is a batch."""
    settings: ServeSettings = request.app.state.settings
    spool: Spool = request.app.state.spool
    received_at = datetime.now(UTC)
    header_key = basic_user(request.headers.get("authorization"))
    source = settings.write_keys.source_for(header_key)
    if header_key is not None and source is None:
        return _refuse(401, "unknown write key")
    limit = settings.max_batch_bytes if call_type is None else settings.max_event_bytes
    try:
        body = await read_body(request, limit, settings.body_timeout)
    except BodyError as exc:
        return _refuse(exc.status, exc.reason)
    try:
        payload = orjson.loads(body)
    except orjson.JSONDecodeError as exc:
        return _refuse(400, f"malformed JSON: {str(exc).splitlines()[0][:120]}")
    if not isinstance(payload, dict):
        return _refuse(400, f"the body must be a JSON object, found {type(payload).__name__}")
    if source is None:
        body_key = payload.get("writeKey")
        source = settings.write_keys.source_for(body_key if isinstance(body_key, str) else None)
        if source is None:
            reason = (
                "unknown write key" if body_key else "missing write key (Basic user or writeKey)"
            )
            return _refuse(401, reason)

    errors: list[EventRefusal] = []
    rows: list[dict[str, Any]] = []
    if call_type is None:
        items = payload.get("batch")
        if not isinstance(items, list):
            return _refuse(400, "a batch needs 'batch': a list of events")
        try:
            batch_sent_at = parse_time(payload.get("sentAt"), "sentAt")
        except EventError as exc:
            return _refuse(400, str(exc))
        check_size = True
    else:
        items = [payload]
        batch_sent_at = None
        check_size = False
    for index, item in enumerate(items):
        try:
            if check_size:
                size = len(orjson.dumps(item))
                if size > settings.max_event_bytes:
                    raise EventError(
                        f"the event is {size} bytes; the limit is {settings.max_event_bytes}"
                    )
            rows.append(
                canonical_row(
                    item,
                    call_type,
                    received_at=received_at,
                    source_name=source,
                    batch_sent_at=batch_sent_at,
                )
            )
        except EventError as exc:
            message_id = item.get("messageId") if isinstance(item, dict) else None
            errors.append(
                EventRefusal(
                    index=index,
                    messageId=message_id if isinstance(message_id, str) else None,
                    reason=str(exc),
                )
            )
    try:
        accepted = await spool.append(rows)
    except SpoolBusy:
        return _refuse(429, "the spool is behind; retry later", {"Retry-After": "1"})
    except DiskFull:
        return _refuse(503, "the collector's disk is full; retry later", {"Retry-After": "5"})
    except SpoolError as exc:
        return _refuse(503, str(exc), {"Retry-After": "5"})
    await _notify(request.app.state.identify_listeners, rows)
    duplicates = len(rows) - accepted
    if errors:
        reason = f"{len(errors)} of {len(items)} events refused"
        refused = Refused(reason=reason, accepted=accepted, duplicates=duplicates, errors=errors)
        return _json(refused, 400)
    return _json(Accepted(accepted=accepted, duplicates=duplicates), 200)


async def _notify(listeners: Sequence[IdentifyListener], rows: list[dict[str, Any]]) -> None:
    if not listeners:
        return
    identifies = [row for row in rows if row["type"] in ("identify", "alias")]
    if not identifies:
        return
    for listener in listeners:
        try:
            result = listener(identifies)
            if inspect.isawaitable(result):
                await result
        except Exception:  # a listener must never cost an acknowledged event
            log.exception("identify listener %r failed", listener)


def _endpoint(call_type: str | None) -> Callable[[Request], Awaitable[Response]]:
    async def endpoint(request: Request) -> Response:
        return await handle(request, call_type)

    endpoint.__name__ = f"collect_{call_type or 'batch'}"
    return endpoint


# The Tracking API's paths as plain Starlette routes (app.py mounts them): the
# hot path skips FastAPI's dependency and parameter machinery, about a third
# of a single call's CPU. The shapes are Segment's (docs/collect.md) and the
# answers the models above.
routes: list[Route] = [
    *(Route(f"/v1/{name}", _endpoint(name), methods=["POST"]) for name in CALL_TYPES),
    *(
        Route(f"/v1/{short}", _endpoint(name), methods=["POST"])
        for short, name in SHORT_PATHS.items()
    ),
    *(
        Route(path, _endpoint(None), methods=["POST"])
        for path in ("/v1/batch", "/v1/import", "/v1/b")
    ),
]


@router.post("/m", include_in_schema=False)
async def client_metrics() -> Response:
    """analytics.js's own delivery metrics: accepted and discarded."""
    return Response(status_code=200)
