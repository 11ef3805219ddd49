"""The HTTP layer every destination uses: timeouts, bounded retries, rate limiting.

Retry rules (one place, so every destination behaves the same):

- 429: never applied by the server. Wait `Retry-After` (seconds or HTTP date) if
  given, else exponential backoff, then resend. At most `max_rate_limited_waits`
  times; a Retry-After above `max_retry_after_seconds` fails at once.
- Connection never established (refused, connect timeout): nothing was sent;
  resend after backoff.
- 5xx, read timeout, connection dropped after sending: the server may have
  applied the request. Resent here only if the caller says the request is
  `repeatable` (reads, and writes the server deduplicates by idempotency key);
  otherwise `AmbiguousDeliveryError` goes up so the engine can reconcile first.
- 401/403: `AuthError` naming the config field that holds the secret. Never retried.
- Any other status is returned to the caller, which knows the API's error shape.

Every attempt takes a token from the destination's `TokenBucket` first and
counts in `request_count`, which the engine records per run.
"""

from __future__ import annotations

import random
import time
from collections.abc import Callable, Mapping
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from typing import Any

import requests
import urllib3
from pydantic import BaseModel, ConfigDict, Field

from reverse_etl.errors import (
    AmbiguousDeliveryError,
    AuthError,
    DestinationError,
    RateLimitedError,
    TransientError,
)
from reverse_etl.ratelimit import TokenBucket


class RetryPolicy(BaseModel):
    """How hard to try one request. Every value can be set per destination in the YAML."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    max_attempts: int = Field(default=6, ge=1, le=20, description="Attempts for 5xx/timeouts.")
    max_rate_limited_waits: int = Field(
        default=20, ge=0, le=200, description="429s tolerated per call."
    )
    initial_backoff_seconds: float = Field(default=0.5, ge=0, le=60)
    max_backoff_seconds: float = Field(default=30.0, ge=0, le=600)
    max_retry_after_seconds: float = Field(default=120.0, ge=0, le=3600)
    connect_timeout_seconds: float = Field(default=5.0, gt=0, le=120)
    read_timeout_seconds: float = Field(default=30.0, gt=0, le=600)

    def backoff(self, attempt: int, rng: Callable[[], float] = random.random) -> float:
        """Exponential backoff with jitter: a random 50-100% of min(cap, initial * 2^(n-1))."""
        ceiling = min(self.max_backoff_seconds, self.initial_backoff_seconds * 2 ** (attempt - 1))
        return ceiling * (0.5 + 0.5 * rng())


class RateLimit(BaseModel):
    """At most `max_requests` in any window of `per_seconds` (the API's documented limit)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    max_requests: int = Field(ge=1)
    per_seconds: float = Field(gt=0)

    def bucket(self) -> TokenBucket:
        return TokenBucket.for_window(self.max_requests, self.per_seconds)


def parse_retry_after(value: str | None, now: datetime | None = None) -> float | None:
    """Seconds to wait from a Retry-After header (delta-seconds or HTTP date), or None."""
    if not value:
        return None
    value = value.strip()
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        when = parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return max(0.0, (when - (now or datetime.now(UTC))).total_seconds())


def _never_sent(exc: requests.RequestException) -> bool:
    """True when the connection was never established, so the server saw nothing."""
    if isinstance(exc, requests.ConnectTimeout):
        return True
    reason = getattr(exc.args[0], "reason", None) if exc.args else None
    return isinstance(
        reason, urllib3.exceptions.NewConnectionError | urllib3.exceptions.ConnectTimeoutError
    )


def _mark(error: DestinationError, uncertain: bool) -> DestinationError:
    """Flag an error as "may have been applied" when an earlier attempt was ambiguous."""
    if uncertain:
        error.maybe_applied = True
    return error


def _snippet(response: requests.Response, limit: int = 300) -> str:
    text = response.text.strip().replace("\n", " ")
    return text[:limit] + ("..." if len(text) > limit else "")


class HttpClient:
    """A `requests.Session` bound to one destination's base URL, retry policy and limiter.

    `destination` labels errors ("mailchimp destination of sync 'x'"); `auth_field`
    is the config field whose secret is sent, named in `AuthError`. Secrets live
    only in the session's headers/auth and never appear in messages.
    """

    def __init__(
        self,
        *,
        destination: str,
        base_url: str,
        auth_field: str,
        retry: RetryPolicy,
        limiter: TokenBucket | None = None,
        headers: Mapping[str, str] | None = None,
        auth: tuple[str, str] | None = None,
        sleep: Callable[[float], None] = time.sleep,
        rng: Callable[[], float] = random.random,
    ) -> None:
        self.destination = destination
        self.base_url = base_url.rstrip("/")
        self.auth_field = auth_field
        self.retry = retry
        self.limiter = limiter
        self.request_count = 0
        self._sleep = sleep
        self._rng = rng
        self._session = requests.Session()
        self._session.headers.update(headers or {})
        if auth is not None:
            self._session.auth = auth

    def __repr__(self) -> str:
        return f"HttpClient(destination={self.destination!r}, base_url={self.base_url!r})"

    def close(self) -> None:
        self._session.close()

    def request(
        self,
        method: str,
        path: str,
        *,
        repeatable: bool,
        json_body: Any = None,
        data: bytes | None = None,
        headers: Mapping[str, str] | None = None,
        params: Mapping[str, str | int] | None = None,
        headers_factory: Callable[[], Mapping[str, str]] | None = None,
    ) -> requests.Response:
        """Send one logical request, retrying as the module docstring describes.

        `headers_factory` is called before every attempt (e.g. a fresh signature
        timestamp). Returns any response that is not 401/403/429/5xx.
        """
        url = path if path.startswith("http") else f"{self.base_url}{path}"
        label = f"{method} {path.split('?')[0]}"
        failures = 0
        rate_limited = 0
        uncertain = False  # an earlier attempt may have been applied (repeatable requests)
        while True:
            if self.limiter is not None:
                self.limiter.acquire()
            self.request_count += 1
            attempt_headers = dict(headers or {})
            if headers_factory is not None:
                attempt_headers.update(headers_factory())
            try:
                response = self._session.request(
                    method,
                    url,
                    json=json_body,
                    data=data,
                    headers=attempt_headers,
                    params=params,
                    timeout=(self.retry.connect_timeout_seconds, self.retry.read_timeout_seconds),
                )
            except requests.RequestException as exc:
                problem = f"{label}: {type(exc).__name__}"
                if not _never_sent(exc) and not repeatable:
                    raise AmbiguousDeliveryError(self.destination, problem) from exc
                uncertain = uncertain or not _never_sent(exc)
                failures += 1
                if failures >= self.retry.max_attempts:
                    raise TransientError(
                        self.destination, f"{problem} after {failures} attempts"
                    ) from exc
                self._sleep(self.retry.backoff(failures, self._rng))
                continue

            status = response.status_code
            if status in (401, 403):
                auth = AuthError(self.destination, self.auth_field, f"HTTP {status}")
                raise _mark(auth, uncertain)
            if status == 429:
                rate_limited += 1
                wait = parse_retry_after(response.headers.get("Retry-After"))
                if wait is None:
                    wait = self.retry.backoff(rate_limited, self._rng)
                if wait > self.retry.max_retry_after_seconds:
                    raise _mark(
                        RateLimitedError(
                            self.destination, f"{label}: asked to wait {wait:.0f}s (Retry-After)"
                        ),
                        uncertain,
                    )
                if rate_limited > self.retry.max_rate_limited_waits:
                    raise _mark(
                        RateLimitedError(
                            self.destination, f"{label}: still 429 after {rate_limited} waits"
                        ),
                        uncertain,
                    )
                self._sleep(wait)
                continue
            if status >= 500:
                problem = f"{label}: HTTP {status} {_snippet(response, 120)}"
                if not repeatable:
                    raise AmbiguousDeliveryError(self.destination, problem)
                uncertain = True
                failures += 1
                if failures >= self.retry.max_attempts:
                    raise TransientError(self.destination, f"{problem} after {failures} attempts")
                wait = parse_retry_after(response.headers.get("Retry-After"))
                if wait is None or wait > self.retry.max_retry_after_seconds:
                    wait = self.retry.backoff(failures, self._rng)
                self._sleep(wait)
                continue
            return response


def error_snippet(response: requests.Response) -> str:
    """Status and a short body excerpt for error messages."""
    return f"HTTP {response.status_code} {_snippet(response)}"
