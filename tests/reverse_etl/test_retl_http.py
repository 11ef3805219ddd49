"""The HTTP layer: retry classification, Retry-After, backoff, token bucket, timeouts."""

from __future__ import annotations

import socket
import time
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime

import pytest
import requests
from cdp_demo.contract_servers import HubSpotContractServer, MailchimpContractServer
from retl_support import SECRETS

from reverse_etl.errors import (
    AmbiguousDeliveryError,
    AuthError,
    RateLimitedError,
    TransientError,
)
from reverse_etl.http import HttpClient, RateLimit, RetryPolicy, parse_retry_after
from reverse_etl.ratelimit import TokenBucket

KEY = SECRETS["mailchimp"][1]


class Sleeps(list):
    def __call__(self, seconds: float) -> None:
        self.append(seconds)


def client(base_url: str, sleeps: Sleeps, **retry) -> HttpClient:  # type: ignore[no-untyped-def]
    policy = RetryPolicy(
        **{"max_attempts": 4, "initial_backoff_seconds": 0.1, "max_backoff_seconds": 1, **retry}
    )
    return HttpClient(
        destination="test destination",
        base_url=base_url,
        auth_field="destination.api_key_env (environment variable X)",
        retry=policy,
        auth=("any", KEY),
        sleep=sleeps,
        rng=lambda: 1.0,
    )


def test_parse_retry_after_seconds_and_dates():
    now = datetime(2026, 1, 1, tzinfo=UTC)
    assert parse_retry_after("3") == 3.0
    assert parse_retry_after(format_datetime(now + timedelta(seconds=7)), now) == 7.0
    assert parse_retry_after(format_datetime(now - timedelta(seconds=7)), now) == 0.0
    assert parse_retry_after("soon") is None
    assert parse_retry_after(None) is None


def test_backoff_is_exponential_capped_and_jittered():
    policy = RetryPolicy(initial_backoff_seconds=0.5, max_backoff_seconds=3)
    assert [policy.backoff(n, lambda: 1.0) for n in range(1, 6)] == [0.5, 1.0, 2.0, 3.0, 3.0]
    assert policy.backoff(3, lambda: 0.0) == 1.0  # jitter keeps 50-100% of the step


def test_token_bucket_never_exceeds_the_window():
    now = [0.0]

    def sleep(seconds: float) -> None:
        now[0] += seconds

    bucket = TokenBucket.for_window(190, 10.0)
    bucket._clock = lambda: now[0]  # deterministic time for the test
    bucket._sleep = sleep
    bucket._updated = 0.0
    stamps = []
    for _ in range(1000):
        bucket.acquire()
        stamps.append(now[0])
    worst = max(sum(1 for t in stamps if start <= t < start + 10.0) for start in stamps)
    assert worst <= 190
    assert stamps[-1] < 60  # and it is not needlessly slow: ~1000 requests in ~55 s


def test_429_waits_exactly_retry_after_then_succeeds():
    sleeps = Sleeps()
    with MailchimpContractServer(KEY) as server:
        server.faults.fail(2, 429, retry_after="2")
        response = client(server.base_url, sleeps).request("GET", "/ping", repeatable=False)
    assert response.status_code == 200
    assert sleeps == [2.0, 2.0]


def test_a_retry_after_longer_than_allowed_fails_at_once():
    sleeps = Sleeps()
    with MailchimpContractServer(KEY) as server:
        server.faults.fail(1, 429, retry_after="3600")
        with pytest.raises(RateLimitedError, match="asked to wait 3600s"):
            client(server.base_url, sleeps).request("GET", "/ping", repeatable=True)
    assert sleeps == []


def test_5xx_is_retried_only_when_the_request_is_repeatable():
    sleeps = Sleeps()
    with MailchimpContractServer(KEY) as server:
        http = client(server.base_url, sleeps)
        server.faults.fail(2, 503)
        assert http.request("GET", "/ping", repeatable=True).status_code == 200
        assert sleeps == [0.1, 0.2]
        server.faults.fail(1, 500)
        with pytest.raises(AmbiguousDeliveryError):
            http.request("POST", "/lists/a1b2c3d4e5", json_body={}, repeatable=False)
        server.faults.fail(10, 502)
        with pytest.raises(TransientError, match="after 4 attempts"):
            http.request("GET", "/ping", repeatable=True)
        assert http.request_count == 3 + 1 + 4


def test_refused_connections_are_retried_even_for_writes():
    with socket.socket() as probe:  # a port with nothing listening
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    sleeps = Sleeps()
    with pytest.raises(TransientError, match="ConnectionError after 4 attempts"):
        client(f"http://127.0.0.1:{port}", sleeps).request("POST", "/x", repeatable=False)
    assert len(sleeps) == 3


def test_401_is_terminal_and_names_the_field():
    sleeps = Sleeps()
    with MailchimpContractServer("another-key-us6") as server:
        http = client(server.base_url, sleeps)
        with pytest.raises(AuthError) as raised:
            http.request("GET", "/ping", repeatable=True)
    assert "destination.api_key_env (environment variable X)" in str(raised.value)
    assert KEY not in str(raised.value)
    assert http.request_count == 1 and sleeps == []


def test_client_rate_limit_keeps_hubspot_rolling_window_free_of_429s():
    token = SECRETS["hubspot"][1]
    with HubSpotContractServer(token, rate_limit=(10, 0.5)) as server:
        http = HttpClient(
            destination="hubspot",
            base_url=server.url,
            auth_field="token",
            retry=RetryPolicy(),
            limiter=RateLimit(max_requests=10, per_seconds=0.5).bucket(),
            headers={"Authorization": f"Bearer {token}"},
        )
        started = time.monotonic()
        for _ in range(25):
            http.request("GET", "/crm/v3/objects/contacts", repeatable=True)
        assert server.rate_limited == 0
        assert time.monotonic() - started >= 0.5

        # Without pacing the server enforces the limit with HubSpot's 429 shape.
        session = requests.Session()
        session.headers["Authorization"] = f"Bearer {token}"
        answers = [session.get(server.url + "/crm/v3/objects/contacts") for _ in range(15)]
        limited = [a for a in answers if a.status_code == 429]
        assert limited and limited[0].headers["Retry-After"].isdigit()
        assert limited[0].json()["policyName"] == "TEN_SECONDLY_ROLLING"


def test_an_error_after_an_ambiguous_attempt_is_marked_maybe_applied():
    sleeps = Sleeps()
    with MailchimpContractServer(KEY) as server:
        server.faults.fail(1, 500)
        server.faults.fail(1, 429, retry_after="3600")
        with pytest.raises(RateLimitedError) as raised:
            client(server.base_url, sleeps).request("GET", "/ping", repeatable=True)
    assert raised.value.maybe_applied
