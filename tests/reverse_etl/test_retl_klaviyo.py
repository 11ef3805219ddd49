"""Klaviyo: import jobs, list membership, reconciliation and the contract server."""

from __future__ import annotations

from pathlib import Path

import pytest
import requests
from cdp_demo.contract_servers import KlaviyoContractServer
from retl_support import harness_for, people, write_source

from reverse_etl.batch import Batch, Mode, Phase, Row
from reverse_etl.config import parse_syncs
from reverse_etl.destinations import build_destination
from reverse_etl.destinations.klaviyo import KlaviyoDestination
from reverse_etl.destinations.klaviyo.client import profile_attributes
from reverse_etl.engine.runner import run_sync
from reverse_etl.errors import AmbiguousDeliveryError, ConfigError

KEY = "pk_0123456789abcdef0123456789abcdef01"
JOBS = "/api/profile-bulk-import-jobs"


def _destination(h, **overrides) -> KlaviyoDestination:  # type: ignore[no-untyped-def]
    sync = h.sync(destination=overrides)
    destination = build_destination(sync.destination, sync.context)
    assert isinstance(destination, KlaviyoDestination)
    return destination


def _batch(rows: list[Row], phase: Phase = Phase.ADD) -> Batch:
    return Batch("b1", "audience_sync", Mode.AUDIENCE, phase, tuple(rows))


def _row(i: int) -> Row:
    return Row(str(i), {"email": f"person{i}@example.com", "first_name": f"First{i}"})


def test_standard_attributes_stay_on_top_custom_ones_go_to_properties_nulls_are_left_out():
    payload = {"email": "a@example.com", "first_name": "A", "tier": "gold", "last_name": None}
    assert profile_attributes(payload) == {
        "email": "a@example.com",
        "first_name": "A",
        "properties": {"tier": "gold"},
    }


def test_upsert_mode_imports_profiles_without_touching_the_list(tmp_path: Path):
    warehouse = tmp_path / "w.duckdb"
    with harness_for("klaviyo", mode="upsert") as h:
        write_source(warehouse, people(5))
        result = run_sync(h.sync(), warehouse)
        assert result.status == "succeeded", result.error
        kinds = {kind for kind, _ in h.writes()}
        assert kinds == {"profile_import"}
        assert h.audience() == h.expected_audience(people(5))
        assert h.server.list_emails("Xy12Ab") == set()


def test_reconcile_waits_for_an_import_job_a_crashed_run_started():
    with harness_for("klaviyo", job_reads=4) as h:
        destination = _destination(h)
        batch = _batch([_row(1), _row(2)])
        job_id = destination._start_import(list(batch.rows))  # then the run died
        outcome = destination.reconcile(batch)
        assert set(outcome.acknowledged) == {"1", "2"} and not outcome.unapplied
        assert h.server.jobs[job_id]["status"] == "complete"
        # the list step was finished for rows whose import landed
        assert h.server.list_emails("Xy12Ab") == {"person1@example.com", "person2@example.com"}
        listings = [p for m, p, _ in h.server.requests if m == "GET" and p == JOBS]
        assert len(listings) >= 5
        assert destination.reconcile(_batch([_row(3)])).unapplied == {"3"}


def test_polling_is_bounded_by_job_timeout_seconds():
    with harness_for("klaviyo", job_reads=10_000) as h:
        destination = _destination(h, job_timeout_seconds=0.2)
        with pytest.raises(AmbiguousDeliveryError, match="job_timeout_seconds") as raised:
            destination.deliver(_batch([_row(1)]))
        assert raised.value.maybe_applied
        with pytest.raises(AmbiguousDeliveryError, match="still running"):
            destination.reconcile(_batch([_row(1)]))


def test_audience_mode_needs_a_list_id():
    with harness_for("klaviyo") as h:
        bad = h.sync_dict()
        del bad["destination"]["list_id"]
        with pytest.raises(
            ConfigError, match=r"destination\.list_id: required for mode 'audience'"
        ):
            parse_syncs([bad])


def test_contract_server_enforces_the_documented_contract():
    with KlaviyoContractServer(KEY, list_ids=("L1",), rate_limit=(4, 60)) as server:
        s = requests.Session()
        s.headers.update({"Authorization": f"Klaviyo-API-Key {KEY}", "revision": "2024-10-15"})
        denied = requests.get(f"{server.url}/api/accounts", timeout=5)
        assert denied.status_code == 401
        error = denied.json()["errors"][0]
        assert {"id", "status", "code", "title", "detail", "source"} <= set(error)
        assert error["code"] == "not_authenticated"
        no_revision = requests.get(
            f"{server.url}/api/accounts",
            headers={"Authorization": f"Klaviyo-API-Key {KEY}"},
            timeout=5,
        )
        assert no_revision.status_code == 400

        profiles = [{"type": "profile", "attributes": {"email": "a@example.com"}}] * 10_001
        body = {"data": {"type": "profile-bulk-import-job", "attributes": {"profiles": {}}}}
        body["data"]["attributes"]["profiles"]["data"] = profiles
        too_many = s.post(f"{server.url}{JOBS}", json=body, timeout=5)
        assert too_many.status_code == 400
        ids = [{"type": "profile", "id": str(i)} for i in range(1001)]
        relationships = f"{server.url}/api/lists/L1/relationships/profiles"
        assert s.post(relationships, json={"data": ids}, timeout=5).status_code == 400
        throttled = s.get(f"{server.url}/api/profiles", params={"page[size]": 101}, timeout=5)
        assert throttled.status_code == 429 and throttled.headers["Retry-After"]
        assert throttled.json()["errors"][0]["code"] == "throttled"
    with KlaviyoContractServer(KEY, rate_limit=None, steady_limit=(2, 60)) as server:
        statuses = [s.get(f"{server.url}/api/accounts", timeout=5).status_code for _ in range(3)]
        assert statuses == [200, 200, 429] and server.rate_limited == 1
    with KlaviyoContractServer(KEY, rate_limit=None, steady_limit=None) as server:
        s.headers.update({"Authorization": f"Klaviyo-API-Key {KEY}"})
        too_big_page = s.get(f"{server.url}/api/profiles", params={"page[size]": 101}, timeout=5)
        assert too_big_page.status_code == 400
        bad_filter = s.get(f"{server.url}/api/profiles", params={"filter": "nope"}, timeout=5)
        assert bad_filter.status_code == 400
