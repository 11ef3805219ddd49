"""Google Ads Customer Match: hashed-only config, jobs, polling, partial failure."""

from __future__ import annotations

import hashlib
from pathlib import Path

import duckdb
import pytest
import requests
from harness_google_ads_customer_match import DEVELOPER_TOKEN_ENV
from retl_support import harness_for, people, query, write_source

from reverse_etl.config import parse_syncs
from reverse_etl.destinations import build_destination
from reverse_etl.engine.runner import run_sync
from reverse_etl.errors import AuthError, ConfigError, DestinationError

KIND = "google_ads_customer_match"


def sha(value: str) -> str:
    return hashlib.sha256(value.encode()).hexdigest()


def test_config_refuses_unhashed_fields():
    with harness_for(KIND) as h:
        plain = h.sync_dict()
        plain.pop("hashed_identifiers")
        with pytest.raises(ConfigError) as raised:
            parse_syncs([plain])
    assert "fields.hashedEmail: would be sent unhashed" in str(raised.value)


def test_phone_is_hashed_in_e164_with_plus(tmp_path: Path):
    warehouse = tmp_path / "w.duckdb"
    con = duckdb.connect(str(warehouse))
    con.execute("create schema marts")
    con.execute(
        "create table marts.audience as select 1 as customer_id, "
        "'ann@example.com' as email, '0049 151 12345678' as phone"
    )
    con.close()
    with harness_for(KIND) as h:
        fields = {**h.fields(), "hashedPhoneNumber": {"source": "phone", "type": "phone"}}
        sync = h.sync(fields=fields, hashed_identifiers=["hashedEmail", "hashedPhoneNumber"])
        assert run_sync(sync, warehouse).status == "succeeded"
        member = h.server.members[h.server.user_list_id][sha("ann@example.com")]
    assert member == {
        "hashedEmail": sha("ann@example.com"),
        "hashedPhoneNumber": sha("+4915112345678"),
    }


def test_server_rejects_identifiers_that_are_not_sha256():
    with harness_for(KIND) as h:
        server = h.server
        headers = {"Authorization": f"Bearer {h.secret}", "developer-token": "dev-token-0123456789"}
        base = f"{server.url}/v21/customers/{server.customer_id}"
        job = {
            "type": "CUSTOMER_MATCH_USER_LIST",
            "customerMatchUserListMetadata": {
                "userList": f"customers/{server.customer_id}/userLists/{server.user_list_id}"
            },
        }
        created = requests.post(
            f"{base}/offlineUserDataJobs:create", json={"job": job}, headers=headers, timeout=5
        )
        job_id = created.json()["resourceName"].rsplit("/", 1)[1]
        ops = [
            {"create": {"userIdentifiers": [{"hashedEmail": "ann@example.com"}]}},
            {"create": {"userIdentifiers": [{"hashedEmail": sha("b@x.io")}]}},
        ]
        add = f"{base}/offlineUserDataJobs/{job_id}:addOperations"
        whole = requests.post(add, json={"operations": ops}, headers=headers, timeout=5)
        assert whole.status_code == 400
        assert whole.json()["error"]["status"] == "INVALID_ARGUMENT"
        partial = requests.post(
            add, json={"operations": ops, "enablePartialFailure": True}, headers=headers, timeout=5
        ).json()
        error = partial["partialFailureError"]["details"][0]["errors"][0]
        assert error["errorCode"] == {"offlineUserDataJobError": "INVALID_SHA256_FORMAT"}
        assert error["location"]["fieldPathElements"][0] == {"fieldName": "operations", "index": 0}
        requests.post(
            f"{base}/offlineUserDataJobs/{job_id}:run", json={}, headers=headers, timeout=5
        )
        assert server.member_hashes() == {sha("b@x.io")}
        assert server.unhashed_received == 2
        again = requests.post(
            f"{base}/offlineUserDataJobs/{job_id}:run", json={}, headers=headers, timeout=5
        )
        assert again.status_code == 400  # a job runs once


def test_a_job_still_running_at_the_deadline_is_finished_by_the_next_run(warehouse: Path):
    with harness_for(KIND, run_polls=10_000) as h:
        sync = h.sync(destination={"batch_size": 10, "poll_timeout_seconds": 0.2})
        failed = run_sync(sync, warehouse)
        assert failed.status == "failed" and "still RUNNING" in (failed.error or "")
        assert query(warehouse, "select count(*) from reverse_etl.sync_outbox") == [(1,)]
        for job in h.server.jobs.values():
            job["pollsLeft"] = 0  # Google finishes the job meanwhile
        h.server.run_polls = 1
        done = run_sync(sync, warehouse)
        assert done.status == "succeeded", done.error
        assert done.reconciled_batches == 1
        assert h.writes() == h.expected_writes(enter=people(30))
        assert h.audience() == h.expected_audience(people(30))


def test_a_lost_run_is_retried_on_a_fresh_job(warehouse: Path):
    """A :run answered 500 (not applied) leaves a PENDING job: abandoned, never run."""
    with harness_for(KIND) as h:
        h.server.faults.fail(1, 500, path_contains=":run")
        result = run_sync(h.sync(destination={"batch_size": 10}), warehouse)
        assert result.status == "succeeded", result.error
        assert h.writes() == h.expected_writes(enter=people(30))
        statuses = sorted(j["status"] for j in h.server.jobs.values())
        assert statuses == ["PENDING", "SUCCESS", "SUCCESS", "SUCCESS"]


def test_without_partial_failure_a_bad_row_fails_the_batch(tmp_path: Path):
    warehouse = tmp_path / "w.duckdb"
    refused = {"refused": {sha("person2@example.com"): "blocked by destination"}}
    with harness_for(KIND, **refused) as h:
        write_source(warehouse, people(3))
        sync = h.sync(destination={"enable_partial_failure": False})
        result = run_sync(sync, warehouse)
        assert result.status == "failed"
        assert "addOperations refused" in (result.error or "")
        assert "blocked by destination" in (result.error or "")
        assert h.writes() == {}


def test_check_and_credentials(monkeypatch: pytest.MonkeyPatch):
    with harness_for(KIND) as h:
        sync = h.sync(destination={"user_list_id": "999"})
        with pytest.raises(DestinationError) as raised:
            build_destination(sync.destination, sync.context).check()
        assert "user_list_id: user list 999 not found" in str(raised.value)

        monkeypatch.setenv(DEVELOPER_TOKEN_ENV, "wrong-dev-token-123")
        sync = h.sync()
        with pytest.raises(AuthError) as denied:
            build_destination(sync.destination, sync.context).check()
        assert "destination.developer_token_env" in str(denied.value)
        assert "wrong-dev-token-123" not in str(denied.value)
