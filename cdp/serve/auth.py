"""Profile API access tokens: who may read which field groups of which space.

A token is the HTTP Basic user name with an empty password, as Segment's
Profile API takes it. Each token belongs to one space and holds field groups
(`traits`, `pii`, `scores`, `identifiers`, `events`, `segments`, `consent`,
or `*` for all). Tokens come from `CDP_PROFILE_TOKENS`
(`name:space:group+group=token`, comma-separated) or the YAML file named by
`CDP_PROFILE_TOKENS_FILE`:

    tokens:
      - {name: website, space: shop, groups: [traits, segments], token: 3f9a...}
      - {name: service, space: shop, groups: ["*"], token: 77c1..., rate_limit: 50}

`require_scope(group)` is the FastAPI dependency: 401 for a missing or unknown
token, 403 for a token of another space or without the group, 429 with
`Retry-After` over the token's rate limit (a token bucket of `rate_limit`
requests per second, default `CDP_PROFILE_RATE_LIMIT`, Segment's 100).
The customer page (`/ui`) reuses `check_token` for its sign-in.
"""

from __future__ import annotations

import hmac
import math
import re
import threading
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from pathlib import Path

from fastapi import Request

from cdp.serve.credentials import basic_user, read_yaml_file

FIELD_GROUPS = ("traits", "pii", "scores", "identifiers", "events", "segments", "consent")
ALL_GROUPS = "*"
DEFAULT_RATE_LIMIT = 100.0  # requests per second per token (Segment's default per space)
_NAME = re.compile(r"^[A-Za-z0-9_.-]{1,64}$")


class ApiError(Exception):
    """An answer other than 200, in Segment's error shape:
    `{"error": {"code": ..., "message": ...}}`."""

    def __init__(
        self, status: int, code: str, message: str, headers: dict[str, str] | None = None
    ) -> None:
        super().__init__(message)
        self.status = status
        self.code = code
        self.message = message
        self.headers = headers or {}


@dataclass(frozen=True)
class AccessToken:
    name: str
    space: str
    groups: frozenset[str]
    secret: str = field(repr=False)
    rate_limit: float = DEFAULT_RATE_LIMIT

    def holds(self, group: str) -> bool:
        return ALL_GROUPS in self.groups or group in self.groups


@dataclass(frozen=True)
class Grant:
    """What a request may read: the token's name, its space and field groups."""

    token: str
    space: str
    groups: frozenset[str]

    def holds(self, group: str) -> bool:
        return ALL_GROUPS in self.groups or group in self.groups


@dataclass(frozen=True)
class AccessTokens:
    tokens: tuple[AccessToken, ...] = ()

    def find(self, secret: str | None) -> AccessToken | None:
        """The token with this secret, compared in constant time."""
        if not secret:
            return None
        found = None
        for token in self.tokens:
            if hmac.compare_digest(token.secret.encode(), secret.encode()):
                found = token
        return found

    @property
    def names(self) -> list[str]:
        return sorted(token.name for token in self.tokens)

    def __repr__(self) -> str:  # secrets never print
        return f"AccessTokens(names={self.names})"


class RateLimiter:
    """A token bucket per access token: `rate` requests per second, bursts of
    `rate` (at least 1). Lives on `app.state`, one per app."""

    def __init__(self, clock: Callable[[], float] = time.monotonic) -> None:
        self._clock = clock
        self._buckets: dict[str, tuple[float, float]] = {}  # name -> (tokens, at)
        self._lock = threading.Lock()

    def take(self, name: str, rate: float) -> float:
        """0.0 if the request may go; else the seconds until it may."""
        capacity = max(rate, 1.0)
        with self._lock:
            now = self._clock()
            tokens, at = self._buckets.get(name, (capacity, now))
            tokens = min(capacity, tokens + (now - at) * rate)
            if tokens >= 1.0:
                self._buckets[name] = (tokens - 1.0, now)
                return 0.0
            self._buckets[name] = (tokens, now)
            return (1.0 - tokens) / rate


def _groups(raw: object, origin: str) -> frozenset[str]:
    items = raw.split("+") if isinstance(raw, str) else raw
    if not isinstance(items, list | tuple) or not items:
        raise ValueError(f"{origin}: groups must be a non-empty list")
    groups = frozenset(str(item).strip() for item in items)
    unknown = sorted(groups - {*FIELD_GROUPS, ALL_GROUPS})
    if unknown:
        raise ValueError(
            f"{origin}: unknown field group {unknown[0]!r} (known: {', '.join(FIELD_GROUPS)}, *)"
        )
    return groups


def _add(found: dict[str, AccessToken], token: AccessToken, origin: str) -> None:
    for label, value in (("token name", token.name), ("space", token.space)):
        if not _NAME.match(value):
            raise ValueError(f"{origin}: {label} {value!r} must be 1-64 letters, digits, _ . -")
    if not token.secret:
        raise ValueError(f"{origin}: token {token.name!r} has an empty secret")
    if token.rate_limit <= 0:
        raise ValueError(f"{origin}: token {token.name!r} needs a rate_limit above 0")
    if token.secret in found or any(t.name == token.name for t in found.values()):
        raise ValueError(f"{origin}: token {token.name!r} (or its secret) is listed twice")
    found[token.secret] = token


def load_access_tokens(
    env_value: str | None, file_path: str | None, rate_limit: float = DEFAULT_RATE_LIMIT
) -> AccessTokens:
    """Read the tokens; raises ValueError with a one-line reason. No tokens is
    allowed (the Profile API then answers 401 to everyone)."""
    found: dict[str, AccessToken] = {}
    if env_value:
        origin = "CDP_PROFILE_TOKENS"
        for item in env_value.split(","):
            if not item.strip():
                continue
            scope, sep, secret = item.strip().rpartition("=")
            parts = scope.split(":")
            if not sep or len(parts) != 3:
                raise ValueError(
                    f"{origin}: expected name:space:group+group=token, comma-separated"
                )
            name, space, groups = (part.strip() for part in parts)
            token = AccessToken(name, space, _groups(groups, origin), secret.strip(), rate_limit)
            _add(found, token, origin)
    if file_path:
        path = Path(file_path)
        data = read_yaml_file(path, "CDP_PROFILE_TOKENS_FILE")
        entries = data.get("tokens") if isinstance(data, dict) else None
        if not isinstance(entries, list):
            raise ValueError(f"{path}: expected a `tokens:` list of {{name, space, groups, token}}")
        for entry in entries:
            if (
                not isinstance(entry, dict)
                or not {"name", "space", "groups", "token"} <= entry.keys()
            ):
                raise ValueError(f"{path}: each token needs `name`, `space`, `groups` and `token`")
            try:
                limit = float(entry.get("rate_limit", rate_limit))
            except (TypeError, ValueError):
                raise ValueError(
                    f"{path}: token {entry['name']!r}: rate_limit is not a number"
                ) from None
            token = AccessToken(
                str(entry["name"]),
                str(entry["space"]),
                _groups(entry["groups"], str(path)),
                str(entry["token"]),
                limit,
            )
            _add(found, token, str(path))
    return AccessTokens(tuple(found.values()))


def check_token(
    tokens: AccessTokens, limiter: RateLimiter, secret: str | None, space: str | None
) -> Grant:
    """The grant of `secret` in `space` (None: any space), or ApiError 401/403/429."""
    token = tokens.find(secret)
    if token is None:
        reason = "unknown access token" if secret else "missing access token (HTTP Basic user)"
        raise ApiError(401, "authentication_error", reason)
    if space is not None and token.space != space:
        raise ApiError(403, "forbidden", f"token {token.name!r} is not for space {space!r}")
    wait = limiter.take(token.name, token.rate_limit)
    if wait > 0:
        raise ApiError(
            429,
            "rate_limit_error",
            f"token {token.name!r} is over {token.rate_limit:g} requests/s",
            {"Retry-After": str(max(1, math.ceil(wait)))},
        )
    return Grant(token.name, token.space, token.groups)


def require_scope(*groups: str) -> Callable[[Request], Awaitable[Grant]]:
    """A FastAPI dependency: the request's grant, holding at least one of
    `groups` (none given: any valid token of the path's `space`)."""

    async def dependency(request: Request) -> Grant:
        grant = check_token(
            request.app.state.access_tokens,
            request.app.state.rate_limiter,
            basic_user(request.headers.get("authorization")),
            request.path_params.get("space"),
        )
        if groups and not any(grant.holds(group) for group in groups):
            raise ApiError(
                403,
                "forbidden",
                f"token {grant.token!r} may not read {' or '.join(groups)}",
            )
        return grant

    return dependency
