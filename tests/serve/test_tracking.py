"""The Tracking API over real HTTP: every endpoint, auth, limits, bad input,
de-duplication, clock-skew correction, CORS, 429 and a slow client.

Assertions read what the service acknowledged and what it wrote to its
landing files (after a graceful stop rolls the spool)."""

from __future__ import annotations

import gzip
import json
import socket
import time
import uuid
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
import requests

from tests.serve.conftest import APP_KEY, WRITE_KEY, Collector, landed_rows


@pytest.fixture(scope="module")
def service(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Collector]:
    collector = Collector(
        tmp_path_factory.mktemp("serve") / "data", {"CDP_COLLECT_ROLL_SECONDS": "0.2"}
    ).start()
    yield collector
    collector.stop()


def _rows_by_id(service: Collector) -> dict[str, dict]:
    """Rows landed so far (segments roll every 0.2 s)."""
    time.sleep(0.6)
    return {row["message_id"]: row for row in landed_rows(service.landing_dir)}


def _mid() -> str:
    return f"test-{uuid.uuid4()}"


CALLS = {
    "track": {"userId": "u1", "event": "Product Viewed", "properties": {"product_id": "p1"}},
    "identify": {"anonymousId": "a1", "userId": "u1", "traits": {"email": "ann@example.com"}},
    "page": {"anonymousId": "a1", "name": "Home", "category": "Docs", "properties": {"url": "/"}},
    "screen": {"userId": "u1", "name": "Cart"},
    "group": {"userId": "u1", "groupId": "acme", "traits": {"name": "Acme"}},
    "alias": {"previousId": "a1", "userId": "u1"},
}


@pytest.mark.parametrize("call_type", sorted(CALLS))
def test_each_call_lands_as_one_canonical_row(service: Collector, call_type: str) -> None:
    message_id = _mid()
    response = service.post(f"/v1/{call_type}", {**CALLS[call_type], "messageId": message_id})
    assert response.status_code == 200, response.text
    assert response.json() == {"success": True, "accepted": 1, "duplicates": 0}
    row = _rows_by_id(service)[message_id]
    assert row["type"] == call_type
    assert row["source_name"] == "website"
    call = CALLS[call_type]
    assert row["user_id"] == call.get("userId")
    assert row["anonymous_id"] == call.get("anonymousId")
    assert row["event"] == call.get("event")
    assert row["group_id"] == call.get("groupId")
    assert row["previous_id"] == call.get("previousId")
    assert row["name"] == call.get("name")
    assert row["properties"] == call.get("properties")
    assert row["traits"] == call.get("traits")


def test_analytics_js_short_paths_and_text_plain(service: Collector) -> None:
    message_id = _mid()
    body = {**CALLS["track"], "messageId": message_id, "writeKey": APP_KEY}
    response = service.post("/v1/t", body, key=None, headers={"Content-Type": "text/plain"})
    assert response.status_code == 200, response.text
    row = _rows_by_id(service)[message_id]
    assert (row["type"], row["source_name"]) == ("track", "app")


def test_batch_keeps_good_events_and_gives_a_reason_per_bad_one(service: Collector) -> None:
    good = [_mid(), _mid()]
    batch = [
        {"type": "track", "userId": "u1", "event": "A", "messageId": good[0]},
        {"type": "track", "userId": "u1", "messageId": "bad-no-event"},
        {"type": "page", "messageId": "bad-no-ids"},
        {"type": "identify", "anonymousId": "a9", "messageId": good[1], "traits": {"x": 1}},
        {
            "type": "track",
            "userId": "u1",
            "event": "A",
            "properties": [1],
            "messageId": "bad-props",
        },
        {"type": "wave", "userId": "u1", "messageId": "bad-type"},
        {"type": "track", "userId": {"id": 1}, "event": "A", "messageId": "bad-user"},
        {
            "type": "track",
            "userId": "u",
            "event": "A",
            "timestamp": "yesterday",
            "messageId": "bad-ts",
        },
        "not an object",
    ]
    response = service.post("/v1/batch", {"batch": batch})
    assert response.status_code == 400
    answer = response.json()
    assert answer["accepted"] == 2
    reasons = {error["index"]: error["reason"] for error in answer["errors"]}
    assert reasons == {
        1: "a track call needs 'event'",
        2: "'userId' or 'anonymousId' is required",
        4: "'properties' must be an object, found list",
        5: "'type' 'wave' is not one of track, identify, page, screen, group, alias",
        6: "'userId' must be a string, found dict",
        7: "'timestamp': 'yesterday' is not an ISO-8601 date-time",
        8: "an event must be a JSON object, found str",
    }
    landed = _rows_by_id(service)
    assert set(good) <= landed.keys()
    assert (
        not {"bad-no-event", "bad-no-ids", "bad-props", "bad-type", "bad-user", "bad-ts"}
        & landed.keys()
    )


@pytest.mark.parametrize(
    ("body", "reason"),
    [
        (b"{not json", "malformed JSON"),
        (b"[1, 2]", "the body must be a JSON object, found list"),
        (b'{"batch": {"a": 1}}', "a batch needs 'batch': a list of events"),
        (b'{"batch": [], "sentAt": 5}', "'sentAt' must be an ISO-8601 string, found int"),
    ],
)
def test_malformed_bodies_get_400_with_a_reason(
    service: Collector, body: bytes, reason: str
) -> None:
    response = service.post("/v1/batch", body)
    assert response.status_code == 400
    assert response.json()["success"] is False
    assert response.json()["reason"].startswith(reason)


def test_auth(service: Collector) -> None:
    call = {**CALLS["track"], "messageId": _mid()}
    assert service.post("/v1/track", call, key="wrong").status_code == 401
    missing = service.post("/v1/track", call, key=None)
    assert missing.status_code == 401
    assert missing.json() == {
        "success": False,
        "reason": "missing write key (Basic user or writeKey)",
    }
    assert service.post("/v1/track", {**call, "writeKey": "wrong"}, key=None).status_code == 401
    assert call["messageId"] not in _rows_by_id(service)
    # The body's writeKey alone is enough (Segment's second way to authenticate).
    assert service.post("/v1/track", {**call, "writeKey": WRITE_KEY}, key=None).status_code == 200
    assert _rows_by_id(service)[call["messageId"]]["source_name"] == "website"


def test_size_limits_give_413(service: Collector) -> None:
    big = {"userId": "u1", "event": "Big", "properties": {"blob": "x" * 33_000}}
    assert service.post("/v1/track", big).status_code == 413
    # A 10 MB body is refused from its Content-Length, before it is read.
    huge = service.post("/v1/batch", b"{" + b" " * 10_000_000 + b"}")
    assert huge.status_code == 413
    assert "limit is 512000" in huge.json()["reason"]
    # A batch over 500 KB, made of events under 32 KB each.
    events = [
        {"type": "track", "userId": "u", "event": "E", "properties": {"p": "y" * 20_000}}
    ] * 30
    assert service.post("/v1/batch", {"batch": events}).status_code == 413
    # An event over 32 KB inside a batch is refused alone.
    keep = _mid()
    mixed = [
        {"type": "track", "userId": "u", "event": "E", "properties": {"p": "y" * 40_000}},
        {"type": "track", "userId": "u", "event": "E", "messageId": keep},
    ]
    response = service.post("/v1/batch", {"batch": mixed})
    assert response.status_code == 400
    assert response.json()["errors"][0]["reason"].startswith("the event is 400")
    assert keep in _rows_by_id(service)


def test_gzip_bodies(service: Collector) -> None:
    message_id = _mid()
    body = gzip.compress(
        json.dumps({"batch": [{**CALLS["page"], "type": "page", "messageId": message_id}]}).encode()
    )
    response = service.post("/v1/batch", body, headers={"Content-Encoding": "gzip"})
    assert response.status_code == 200, response.text
    assert message_id in _rows_by_id(service)
    bomb = gzip.compress(b'{"batch": [' + b" " * 2_000_000 + b"]}")
    assert service.post("/v1/batch", bomb, headers={"Content-Encoding": "gzip"}).status_code == 413


def test_message_id_dedupe(service: Collector) -> None:
    message_id = _mid()
    call = {**CALLS["track"], "messageId": message_id}
    first = service.post("/v1/track", call)
    again = service.post(
        "/v1/batch", {"batch": [{**call, "type": "track"}, {**call, "type": "track"}]}
    )
    assert first.json()["accepted"] == 1
    assert again.status_code == 200
    assert again.json() == {"success": True, "accepted": 0, "duplicates": 2}
    time.sleep(0.6)
    assert [row["message_id"] for row in landed_rows(service.landing_dir)].count(message_id) == 1


def test_clock_skew_correction(service: Collector) -> None:
    """The client's clock is 3 hours fast: the event happened 10 s before it was sent."""
    fast = datetime.now(UTC) + timedelta(hours=3)
    skewed = {
        **CALLS["track"],
        "messageId": _mid(),
        "timestamp": (fast - timedelta(seconds=10)).isoformat(),
        "sentAt": fast.isoformat(),
    }
    historical = {**CALLS["track"], "messageId": _mid(), "timestamp": "2025-03-01T12:00:00+02:00"}
    bare = {**CALLS["track"], "messageId": _mid()}
    before = datetime.now(UTC)
    for call in (skewed, historical, bare):
        assert service.post("/v1/track", call).status_code == 200
    after = datetime.now(UTC)
    rows = _rows_by_id(service)

    def when(value: str) -> datetime:
        return datetime.fromisoformat(value)

    row = rows[skewed["messageId"]]
    received = when(row["received_at"])
    assert before <= received <= after
    assert when(row["timestamp"]) == received - timedelta(seconds=10)
    assert when(row["original_timestamp"]) == fast - timedelta(seconds=10)
    assert when(rows[historical["messageId"]]["timestamp"]) == datetime(2025, 3, 1, 10, tzinfo=UTC)
    bare_row = rows[bare["messageId"]]
    assert bare_row["timestamp"] == bare_row["received_at"]


def test_cors_preflight_and_response_headers(service: Collector) -> None:
    preflight = requests.options(
        f"{service.url}/v1/batch",
        headers={
            "Origin": "https://shop.example",
            "Access-Control-Request-Method": "POST",
            "Access-Control-Request-Headers": "authorization,content-type",
        },
        timeout=5,
    )
    assert preflight.status_code == 200
    assert preflight.headers["access-control-allow-origin"] in ("*", "https://shop.example")
    assert "POST" in preflight.headers["access-control-allow-methods"]
    response = service.post(
        "/v1/track", {**CALLS["track"]}, headers={"Origin": "https://shop.example"}
    )
    assert response.headers["access-control-allow-origin"] == "*"


def test_slow_client_gets_408(tmp_path: Path) -> None:
    service = Collector(tmp_path / "data", {"CDP_COLLECT_BODY_TIMEOUT": "0.5"}).start()
    try:
        with socket.create_connection(("127.0.0.1", service.port)) as sock:
            sock.sendall(
                b"POST /v1/track HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
                b'Authorization: Basic dGVzdC13ZWIta2V5Og==\r\nContent-Length: 100\r\n\r\n{"user'
            )
            sock.settimeout(5)
            received = b""
            while b"}" not in received and (chunk := sock.recv(4096)):
                received += chunk
            answer = received.decode()
        assert answer.startswith("HTTP/1.1 408"), answer
        assert "did not arrive within 0.5 s" in answer
        # The service still answers others.
        assert service.post("/v1/track", CALLS["track"]).status_code == 200
    finally:
        service.stop()


def test_flood_gets_429_with_retry_after_and_loses_no_acknowledged_event(tmp_path: Path) -> None:
    """A tiny pending-bytes allowance: concurrent batches outrun the disk, some
    are told to come back; every acknowledged event lands, no refused one does."""
    service = Collector(tmp_path / "data", {"CDP_COLLECT_MAX_PENDING_BYTES": "20000"}).start()

    def send(n: int) -> tuple[int, str | None, list[str]]:
        ids = [f"flood-{n}-{i}" for i in range(100)]
        batch = [{"type": "track", "userId": "u", "event": "E", "messageId": m} for m in ids]
        response = service.post("/v1/batch", {"batch": batch})
        return response.status_code, response.headers.get("Retry-After"), ids

    try:
        with ThreadPoolExecutor(32) as pool:
            results = list(pool.map(send, range(400)))
    finally:
        service.stop()
    statuses = {status for status, _, _ in results}
    assert statuses <= {200, 429}
    assert 429 in statuses and 200 in statuses
    assert all(retry == "1" for status, retry, _ in results if status == 429)
    acked = {m for status, _, ids in results if status == 200 for m in ids}
    refused = {m for status, _, ids in results if status == 429 for m in ids}
    landed = [row["message_id"] for row in landed_rows(service.landing_dir)]
    assert len(landed) == len(set(landed))
    assert set(landed) == acked
    assert not refused & set(landed)


def test_bad_settings_fail_with_one_line(tmp_path: Path) -> None:
    service = Collector(tmp_path / "data", {"CDP_COLLECT_WRITE_KEYS": "no-equals-sign"})
    with pytest.raises(RuntimeError, match="expected source=key pairs"):
        service.start()
