"""The Profile API over real HTTP (uvicorn on a free port, `requests` with
Basic auth as Segment's docs show): Segment's shapes, scopes, consent gates,
pagination and every error."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.serve.profiles_fixture import OTHER, SCORES, SLOW, WEB, ProfileService, running


@pytest.fixture(scope="module")
def api(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ProfileService]:
    yield from running(Path(tmp_path_factory.mktemp("profiles")))


def test_traits_in_segment_shape(api: ProfileService) -> None:
    answer = api.get("user_id:u-c1/traits", limit=200)
    assert answer.status_code == 200
    body = answer.json()
    assert body["traits"] == {
        "churn_probability": 0.25,
        "city": "Leeds",
        "email": "ann@example.com",
        "first_name": "Ann",
        "lifetime_value": 120.5,
    }
    assert body["cursor"]["has_more"] is False and body["cursor"]["next"] == ""
    assert body["cursor"]["url"].endswith("/profiles/user_id:u-c1/traits?limit=200")


@pytest.mark.parametrize(
    "external_id",
    ["email:ann@example.com", "email:ANN@example.com ", "anonymous_id:anon-c1", "customer_id:c1"],
)
def test_lookup_by_every_id_type(api: ProfileService, external_id: str) -> None:
    assert api.get(f"{external_id}/traits", include="city").json()["traits"] == {"city": "Leeds"}


def test_traits_pagination_and_include(api: ProfileService) -> None:
    first = api.get("customer_id:c1/traits", limit=2).json()
    assert list(first["traits"]) == ["churn_probability", "city"]
    assert first["cursor"]["has_more"] is True and first["cursor"]["next"] == "email"
    second = api.get("customer_id:c1/traits", limit=2, next=first["cursor"]["next"]).json()
    assert list(second["traits"]) == ["email", "first_name"]
    third = api.get("customer_id:c1/traits", limit=2, next=second["cursor"]["next"]).json()
    assert list(third["traits"]) == ["lifetime_value"] and third["cursor"]["has_more"] is False
    picked = api.get("customer_id:c1/traits", include="city,first_name,nope").json()
    assert picked["traits"] == {"city": "Leeds", "first_name": "Ann"}


def test_external_ids(api: ProfileService) -> None:
    body = api.get("user_id:u-c1/external_ids").json()
    assert {(row["type"], row["id"]) for row in body["data"]} == {
        ("email", "ann@example.com"),
        ("user_id", "u-c1"),
        ("anonymous_id", "anon-c1"),
    }
    assert all(row["collection"] == "users" and row["encoding"] == "none" for row in body["data"])
    assert {row["source_id"] for row in body["data"]} == {"crm, shop", "shop", "web"}
    only = api.get("user_id:u-c1/external_ids", include="user_id").json()["data"]
    assert [row["id"] for row in only] == ["u-c1"]
    page = api.get("user_id:u-c1/external_ids", limit=2).json()
    assert len(page["data"]) == 2 and page["cursor"] == {
        **page["cursor"],
        "has_more": True,
        "next": "2",
    }
    rest = api.get("user_id:u-c1/external_ids", limit=2, next="2").json()
    assert len(rest["data"]) == 1 and rest["cursor"]["has_more"] is False


def test_events_paginate_newest_first(api: ProfileService) -> None:
    seen: list[str] = []
    cursor = ""
    while True:
        body = api.get("user_id:u-c1/events", limit=10, next=cursor).json()
        seen.extend(row["message_id"] for row in body["data"])
        assert all(row["type"] == "track" and row["event"] == "order" for row in body["data"])
        if not body["cursor"]["has_more"]:
            break
        cursor = body["cursor"]["next"]
    assert seen == [f"c1-a{i}" for i in range(25)]
    first = api.get("user_id:u-c1/events", limit=1).json()["data"][0]
    assert first["timestamp"] == "2026-06-30T10:00:00" and first["properties"]["amount"] == 10.0


def test_segments_and_consent(api: ProfileService) -> None:
    segments = api.get("user_id:u-c1/segments").json()
    assert segments["data"] == [
        {"segment": "at_risk", "entered_at": "2026-06-01"},
        {"segment": "vip", "entered_at": "2026-05-01"},
    ]
    consent = api.get("user_id:u-c2/consent").json()
    assert consent["consent"]["marketing"][0]["status"] == "denied"
    assert consent["consent"]["marketing"][0]["is_granted"] is False


def test_consent_gate_withholds_pii(api: ProfileService) -> None:
    # c2 has not granted `marketing`, the purpose the pii group needs
    traits = api.get("user_id:u-c2/traits", limit=200).json()["traits"]
    assert "email" not in traits and "first_name" not in traits and traits["city"] == "Leeds"
    ids = {row["type"] for row in api.get("user_id:u-c2/external_ids").json()["data"]}
    assert ids == {"user_id", "anonymous_id"}


def test_scopes_per_field_group(api: ProfileService) -> None:
    web = api.get("user_id:u-c1/traits", token=WEB, limit=200).json()["traits"]
    assert web == {"city": "Leeds", "lifetime_value": 120.5}  # no pii, no scores
    assert api.get("user_id:u-c1/segments", token=WEB).status_code == 200
    for path in ("external_ids", "consent"):
        refused = api.get(f"user_id:u-c1/{path}", token=WEB)
        assert refused.status_code == 403 and refused.json()["error"]["code"] == "forbidden"
    scores = api.get("user_id:u-c1/traits", token=SCORES).json()["traits"]
    assert scores == {"churn_probability": 0.25}
    assert api.get("user_id:u-c1/segments", token=SCORES).status_code == 403


@pytest.mark.parametrize(
    ("token", "status", "code"),
    [
        (None, 401, "authentication_error"),
        ("wrong", 401, "authentication_error"),
        (OTHER, 403, "forbidden"),
    ],
)
def test_auth_errors(api: ProfileService, token: str | None, status: int, code: str) -> None:
    answer = api.get("user_id:u-c1/traits", token=token)
    assert answer.status_code == status and answer.json()["error"]["code"] == code


@pytest.mark.parametrize(
    ("path", "params", "status"),
    [
        ("user_id:nobody/traits", {}, 404),
        ("customer_id:c9/segments", {}, 404),
        ("no-colon/traits", {}, 400),
        ("User_Id:u-c1/traits", {}, 400),
        ("user_id:u-c1/traits", {"limit": "0"}, 400),
        ("user_id:u-c1/traits", {"limit": "201"}, 400),
        ("user_id:u-c1/traits", {"next": "not-a-trait"}, 400),
        ("user_id:u-c1/events", {"next": "zz"}, 400),
        ("user_id:u-c1/external_ids", {"next": "x"}, 400),
    ],
)
def test_bad_requests(api: ProfileService, path: str, params: dict[str, str], status: int) -> None:
    answer = api.get(path, **params)
    assert answer.status_code == status
    error = answer.json()["error"]
    assert error["code"] and error["message"]
    if status == 404:
        assert error == {"code": "not_found", "message": "Profile was not found."}


def test_rate_limit_answers_429_with_retry_after(api: ProfileService) -> None:
    answers = [api.get("user_id:u-c1/segments", token=SLOW) for _ in range(3)]
    assert answers[0].status_code == 200
    limited = [a for a in answers if a.status_code == 429]
    assert limited and limited[0].headers["Retry-After"] == "1"
    assert limited[0].json()["error"]["code"] == "rate_limit_error"


def test_store_unavailable_then_recovers(api: ProfileService) -> None:
    api.store.available = False
    try:
        down = api.get("user_id:u-c1/traits")
        assert down.status_code == 503 and "missing" in down.json()["error"]["message"]
        assert down.headers["Retry-After"] == "1"
    finally:
        api.store.available = True
    assert api.get("user_id:u-c1/traits").status_code == 200
