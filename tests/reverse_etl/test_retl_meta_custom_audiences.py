"""Meta Custom Audiences: hashed-only config, the contract server's rules, sessions."""

from __future__ import annotations

import hashlib
from pathlib import Path

import duckdb
import pytest
import requests
from harness_base import FAST_RETRY
from retl_support import harness_for, people, query, write_source

from reverse_etl.config import parse_syncs
from reverse_etl.destinations import build_destination
from reverse_etl.engine.runner import run_sync
from reverse_etl.errors import ConfigError, DestinationError

KIND = "meta_custom_audiences"


def sha(value: str) -> str:
    return hashlib.sha256(value.encode()).hexdigest()


def test_config_refuses_unhashed_or_unknown_fields():
    with harness_for(KIND) as h:
        plain = h.sync_dict()
        plain.pop("hashed_identifiers")
        plain["fields"] = {**plain["fields"], "PHONE": {"source": "phone", "type": "string"}}
        plain["fields"]["first_name"] = "first_name"
        with pytest.raises(ConfigError) as raised:
            parse_syncs([plain])
    message = str(raised.value)
    assert "fields.EMAIL: would be sent unhashed" in message
    assert "list 'EMAIL' in hashed_identifiers" in message
    assert "fields.PHONE.type: must be 'phone'" in message
    assert "fields.first_name: Meta Custom Audiences takes only the match keys" in message


def test_phone_is_hashed_as_digits_without_plus(tmp_path: Path):
    warehouse = tmp_path / "w.duckdb"
    con = duckdb.connect(str(warehouse))
    con.execute("create schema marts")
    con.execute(
        "create table marts.audience as select 1 as customer_id, "
        "'Ann@Example.com ' as email, '+49 151 1234-5678' as phone"
    )
    con.close()
    with harness_for(KIND) as h:
        fields = {**h.fields(), "PHONE": {"source": "phone", "type": "phone"}}
        sync = h.sync(fields=fields, hashed_identifiers=["EMAIL", "PHONE"])
        assert run_sync(sync, warehouse).status == "succeeded"
        member = h.server.members[sha("ann@example.com")]
    assert member == {"EMAIL": sha("ann@example.com"), "PHONE": sha("4915112345678")}
    assert h.server.unhashed_received == 0


def test_server_rejects_identifiers_that_are_not_sha256():
    with harness_for(KIND) as h:
        url = f"{h.server.url}/v25.0/{h.server.audience_id}/users"
        auth = {"Authorization": f"Bearer {h.secret}"}
        body = {"payload": {"schema": ["EMAIL"], "data": [["ann@example.com"], [sha("b@x.io")]]}}
        answer = requests.post(url, json=body, headers=auth, timeout=5).json()
        assert answer["num_received"] == 2 and answer["num_invalid_entries"] == 1
        assert "ann@example.com" in answer["invalid_entry_samples"]
        assert h.server.member_hashes() == {sha("b@x.io")}
        assert h.server.unhashed_received == 1

        too_many = {"payload": {"schema": "EMAIL", "data": [sha("x")] * 10_001}}
        refused = requests.post(url, json=too_many, headers=auth, timeout=5)
        assert refused.status_code == 400 and refused.json()["error"]["code"] == 100

        wrong = requests.get(
            url[: -len("/users")], headers={"Authorization": "Bearer x"}, timeout=5
        )
        assert wrong.status_code == 400 and wrong.json()["error"]["code"] == 190


def test_a_session_read_back_prevents_a_resend(warehouse: Path):
    """A write whose answer is lost is found in its upload session, not sent again."""
    with harness_for(KIND) as h:
        h.server.faults.slow_writes(1, 1.0)
        retry = {**FAST_RETRY, "read_timeout_seconds": 0.3}
        result = run_sync(h.sync(destination={"batch_size": 10, "retry": retry}), warehouse)
        assert result.status == "succeeded", result.error
        assert h.writes() == h.expected_writes(enter=people(30))
        assert len(h.server.sessions) == 3  # one session per batch, never a second one
        assert {s["num_received"] for s in h.server.sessions.values()} == {"10"}


def test_throttling_error_80003_is_waited_out(warehouse: Path):
    with harness_for(KIND, rate_limit=(2, 0.5)) as h:
        retry = {**FAST_RETRY, "initial_backoff_seconds": 0.2, "max_backoff_seconds": 0.5}
        result = run_sync(h.sync(destination={"batch_size": 5, "retry": retry}), warehouse)
        assert result.status == "succeeded", result.error
        assert h.server.rate_limited > 0
        assert h.writes() == h.expected_writes(enter=people(30))


def test_check_names_a_missing_audience(monkeypatch: pytest.MonkeyPatch):
    with harness_for(KIND) as h:
        sync = h.sync(destination={"audience_id": "999"})
        with pytest.raises(DestinationError) as raised:
            build_destination(sync.destination, sync.context).check()
        assert "audience_id: custom audience 999 cannot be read" in str(raised.value)
        assert "Meta error 100/33" in str(raised.value)


def test_removed_rows_leave_the_audience(warehouse: Path):
    with harness_for(KIND) as h:
        sync = h.sync()
        assert run_sync(sync, warehouse).status == "succeeded"
        write_source(warehouse, people(20))
        result = run_sync(sync, warehouse)
        assert (result.rows_removed, result.status) == (10, "succeeded")
        assert h.audience() == h.expected_audience(people(20))
        assert query(warehouse, "select count(*) from reverse_etl.sync_state") == [(20,)]
