"""Segment's Profile API: `/v1/spaces/{space}/collections/users/profiles/{id_type}:{value}/...`.

`/traits`, `/external_ids` and `/events` answer in Segment's shapes
(`{"traits": {...}, "cursor": {...}}`, `{"data": [...], "cursor": {...}}`),
with `include`, `limit` and `next` as Segment documents them; `/segments` and
`/consent` are ours, in the same shape. Errors are Segment's
`{"error": {"code", "message"}}`: 400 malformed id or parameter, 401 bad
token, 403 token without the space or field group, 404 unknown profile,
429 over the token's rate limit, 503 store unavailable.

What a token sees: the field groups it holds (cdp/serve/auth.py), minus the
groups a consent gate withholds when the profile has not granted the purpose.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from datetime import date, datetime
from typing import Annotated, Any
from urllib.parse import quote, urlencode

import orjson
from fastapi import APIRouter, Depends, FastAPI, Request
from fastapi.responses import Response

from cdp.serve.auth import ApiError, Grant, RateLimiter, require_scope
from cdp.serve.profiles.store_api import (
    Profile,
    ProfileStore,
    StoreOpener,
    StoreUnavailable,
    unavailable_reason,
)
from cdp.serve.settings import ServeSettings

# Lookup types: the customer's own id, the identifier types of
# customer_identifiers, and the collector's anonymous id; any other
# `[a-z][a-z0-9_.]*` type is passed to the store, which knows the rest.
ID_TYPES = ("customer_id", "user_id", "email", "phone", "anonymous_id")
_ID = re.compile(r"^(?P<type>[a-z][a-z0-9_.]{0,63}):(?P<value>.+)$", re.DOTALL)
PII_ID_TYPES = frozenset({"email", "phone"})
TRAIT_GROUPS = ("traits", "pii", "scores")
GRANTED = frozenset({"granted", "opted_in", "opt_in", "yes", "true"})
LIMITS = {
    "traits": (10, 200),
    "external_ids": (25, 100),
    "events": (10, 100),
    "segments": (25, 100),
}

TraitsGrant = Annotated[Grant, Depends(require_scope(*TRAIT_GROUPS))]
IdentifiersGrant = Annotated[Grant, Depends(require_scope("identifiers"))]
EventsGrant = Annotated[Grant, Depends(require_scope("events"))]
SegmentsGrant = Annotated[Grant, Depends(require_scope("segments"))]
ConsentGrant = Annotated[Grant, Depends(require_scope("consent"))]

router = APIRouter(prefix="/v1/spaces/{space}/collections/users/profiles", tags=["profiles"])


def _json(body: Any, status: int = 200, headers: Mapping[str, str] | None = None) -> Response:
    return Response(
        orjson.dumps(body, default=_default),
        status_code=status,
        media_type="application/json",
        headers=dict(headers or {}),
    )


def _default(value: object) -> object:
    if isinstance(value, datetime | date):
        return value.isoformat()
    return str(value)


async def _api_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, ApiError)
    return _json({"error": {"code": exc.code, "message": exc.message}}, exc.status, exc.headers)


class StoreHandle:
    """Opens the store on first use and again after it was unavailable, so the
    API recovers (file back, Redis up) without a restart."""

    def __init__(self, opener: StoreOpener | None) -> None:
        self._opener = opener
        self._store: ProfileStore | None = None

    def get(self) -> ProfileStore:
        if self._store is None:
            if self._opener is None:
                raise StoreUnavailable("no profile store is configured for this service")
            self._store = self._opener()
        return self._store

    def failed(self) -> None:
        self._store = None


def install(app: FastAPI, settings: ServeSettings, opener: StoreOpener | None = None) -> None:
    """Mount the Profile API on `app`: its state, error shape and router."""
    app.state.access_tokens = settings.access_tokens
    app.state.rate_limiter = RateLimiter()
    app.state.consent_gates = dict(settings.consent_gates)
    app.state.profile_store = StoreHandle(opener)
    app.add_exception_handler(ApiError, _api_error)
    app.include_router(router)


def _limit(request: Request, endpoint: str) -> int:
    default, maximum = LIMITS[endpoint]
    raw = request.query_params.get("limit")
    if raw is None or raw == "":
        return default
    if not raw.isdigit() or not 1 <= int(raw) <= maximum:
        raise ApiError(400, "validation_error", f"limit must be a whole number from 1 to {maximum}")
    return int(raw)


def _include(request: Request) -> set[str] | None:
    raw = request.query_params.get("include")
    if not raw:
        return None
    return {item.strip() for item in raw.split(",") if item.strip()}


def _cursor(request: Request, limit: int, next_value: str | None) -> dict[str, Any]:
    query = {key: value for key, value in request.query_params.items() if key != "next"}
    url = quote(request.url.path, safe="/:@")
    if query:
        url += "?" + urlencode(query)
    return {
        "url": url,
        "has_more": next_value is not None,
        "next": next_value or "",
        "limit": limit,
    }


def _unavailable(handle: StoreHandle, reason: str) -> ApiError:
    """Mark the store for reopening and give the 503 to raise (the next request retries)."""
    handle.failed()
    return ApiError(
        503, "unavailable", f"the profile store is unavailable: {reason}", {"Retry-After": "1"}
    )


def _lookup(request: Request, external_id: str) -> tuple[ProfileStore, Profile]:
    match = _ID.match(external_id)
    if match is None:
        raise ApiError(
            400,
            "validation_error",
            f"the profile id {external_id!r} must be <id_type>:<value>, e.g. user_id:42",
        )
    id_type, value = match["type"], match["value"]
    handle: StoreHandle = request.app.state.profile_store
    try:
        store = handle.get()
        known = getattr(store, "identifier_types", None)
        if id_type not in ID_TYPES and callable(known) and id_type not in known():
            raise ApiError(
                400,
                "validation_error",
                f"unknown id type {id_type!r} (known: {', '.join(ID_TYPES)} and the "
                "identifier types of customer_identifiers)",
            )
        customer_id = value if id_type == "customer_id" else store.resolve(id_type, value)
        profile = store.profile(customer_id) if customer_id else None
    except Exception as exc:
        reason = unavailable_reason(exc)
        if reason is None:
            raise
        raise _unavailable(handle, reason) from None
    if profile is None:
        raise ApiError(404, "not_found", "Profile was not found.")
    return store, profile


def _withheld(request: Request, profile: Profile) -> set[str]:
    """Field groups this profile's consent withholds: a gate's purpose is
    granted when some channel of it is (marts.customer_consent_state)."""
    granted = {state.purpose for state in profile.consent if state.is_granted}
    return {
        group
        for group, purpose in request.app.state.consent_gates.items()
        if purpose not in granted
    }


def _readable(grant: Grant, request: Request, profile: Profile, group: str) -> bool:
    return grant.holds(group) and group not in _withheld(request, profile)


def _page(keys: list[str], limit: int, next_value: str | None) -> tuple[list[str], str | None]:
    start = 0
    if next_value:
        if next_value not in keys:
            raise ApiError(
                400, "invalid_request_error", f"next={next_value!r} is not a cursor of this list"
            )
        start = keys.index(next_value)
    page = keys[start : start + limit]
    more = keys[start + limit] if start + limit < len(keys) else None
    return page, more


@router.get("/{external_id}/traits")
async def traits(request: Request, external_id: str, grant: TraitsGrant) -> Response:
    """The profile's golden traits and scores, filtered by the token's field groups."""
    limit = _limit(request, "traits")
    _, profile = _lookup(request, external_id)
    values: dict[str, Any] = {}
    for name, value in profile.traits.items():
        if _readable(grant, request, profile, profile.field_groups.get(name, "traits")):
            values[name] = value
    for name, value in profile.scores.items():
        if _readable(grant, request, profile, profile.field_groups.get(name, "scores")):
            values[name] = value
    include = _include(request)
    keys = sorted(name for name in values if include is None or name in include)
    page, more = _page(keys, limit, request.query_params.get("next"))
    return _json(
        {"traits": {name: values[name] for name in page}, "cursor": _cursor(request, limit, more)}
    )


@router.get("/{external_id}/external_ids")
async def external_ids(request: Request, external_id: str, grant: IdentifiersGrant) -> Response:
    """Every identifier linked to the profile; email and phone need `pii`."""
    limit = _limit(request, "external_ids")
    _, profile = _lookup(request, external_id)
    include = _include(request)
    pii = _readable(grant, request, profile, "pii")
    rows = []
    for item in profile.identifiers:
        id_type, value, source = item.type, item.value, item.source
        if (id_type in PII_ID_TYPES and not pii) or (
            include is not None and id_type not in include
        ):
            continue
        rows.append(
            {
                "source_id": source,
                "collection": "users",
                "id": value,
                "type": id_type,
                "created_at": None,
                "encoding": "none",
            }
        )
    start = _offset(request)
    more = str(start + limit) if start + limit < len(rows) else None
    return _json({"data": rows[start : start + limit], "cursor": _cursor(request, limit, more)})


def _offset(request: Request) -> int:
    raw = request.query_params.get("next") or "0"
    if not raw.isdigit():
        raise ApiError(400, "invalid_request_error", f"next={raw!r} is not a cursor of this list")
    return int(raw)


@router.get("/{external_id}/events")
async def events(request: Request, external_id: str, grant: EventsGrant) -> Response:
    """The profile's recent events, newest first, a page at a time."""
    limit = _limit(request, "events")
    store, profile = _lookup(request, external_id)
    if "events" in _withheld(request, profile):
        raise ApiError(403, "forbidden", "events are withheld: the profile has not consented")
    handle: StoreHandle = request.app.state.profile_store
    try:
        rows, more = store.events(
            profile.customer_id, limit, request.query_params.get("next") or None
        )
    except Exception as exc:
        reason = unavailable_reason(exc)
        if reason is None and isinstance(exc, ValueError):  # a cursor the store refuses
            raise ApiError(400, "invalid_request_error", str(exc)) from None
        if reason is None:
            raise
        raise _unavailable(handle, reason) from None
    data = [
        {
            "type": "track",
            "event": row.type,
            "message_id": row.activity_id,
            "source_id": row.source,
            "timestamp": row.occurred_at,
            "properties": {"detail": row.detail, "amount": row.amount},
            "external_ids": [
                {
                    "collection": "users",
                    "type": "customer_id",
                    "id": profile.customer_id,
                    "encoding": "none",
                }
            ],
        }
        for row in rows
    ]
    return _json({"data": data, "cursor": _cursor(request, limit, more)})


@router.get("/{external_id}/segments")
async def segments(request: Request, external_id: str, grant: SegmentsGrant) -> Response:
    """Ours: the segments the profile is in now, with when it entered each."""
    limit = _limit(request, "segments")
    _, profile = _lookup(request, external_id)
    if "segments" in _withheld(request, profile):
        raise ApiError(403, "forbidden", "segments are withheld: the profile has not consented")
    rows = sorted(
        ({"segment": item.segment, "entered_at": item.entered_at} for item in profile.segments),
        key=lambda row: str(row["segment"]),
    )
    start = _offset(request)
    more = str(start + limit) if start + limit < len(rows) else None
    return _json({"data": rows[start : start + limit], "cursor": _cursor(request, limit, more)})


@router.get("/{external_id}/consent")
async def consent(request: Request, external_id: str, grant: ConsentGrant) -> Response:
    """Ours: the consent state per purpose and since when."""
    _, profile = _lookup(request, external_id)
    out: dict[str, list[dict[str, object]]] = {}
    for state in sorted(profile.consent, key=lambda item: (item.purpose, item.channel)):
        out.setdefault(state.purpose, []).append(
            {
                "channel": state.channel,
                "status": state.status,
                "is_granted": state.is_granted,
                "as_of": state.as_of,
            }
        )
    return _json({"consent": out})
