"""Salesforce Bulk API 2.0: modes, job life cycle, reconciliation and the contract server."""

from __future__ import annotations

from pathlib import Path

import pytest
import requests
from cdp_demo.contract_servers import SalesforceContractServer
from retl_support import REGISTRY, harness_for, people, query, write_source

from reverse_etl.batch import Batch, Mode, Phase, Row
from reverse_etl.config import parse_syncs
from reverse_etl.destinations import build_destination
from reverse_etl.destinations.salesforce import SalesforceDestination
from reverse_etl.destinations.salesforce.client import from_csv, to_csv
from reverse_etl.engine.runner import run_sync
from reverse_etl.errors import AmbiguousDeliveryError, ConfigError, DestinationError

TOKEN = "00D000000000001!AQ4AQFakeAccessToken0123456789"
ROOT = "/services/data/v62.0"


def ops(h) -> dict[str, set[str]]:  # type: ignore[no-untyped-def]
    found: dict[str, set[str]] = {}
    for (kind, key), _ in h.writes().items():
        found.setdefault(kind, set()).add(key)
    return found


def test_insert_only_inserts_new_keys_once_and_ignores_changes(tmp_path: Path):
    warehouse = tmp_path / "w.duckdb"
    with harness_for("salesforce", mode="insert-only") as h:
        write_source(warehouse, people(5))
        assert run_sync(h.sync(), warehouse).rows_added == 5
        assert ops(h) == {"record_insert": {"1", "2", "3", "4", "5"}}
        write_source(warehouse, [(1, "person1@example.com", "Changed"), *people(5, start=2)])
        again = run_sync(h.sync(), warehouse)
        assert again.rows_added == 1
        assert ops(h)["record_insert"] == {"1", "2", "3", "4", "5", "6"}
        assert h.server.by_external_id()["1"]["First_Name__c"] == "First1"  # not updated


def test_update_only_updates_existing_records_and_rejects_unknown_keys(tmp_path: Path):
    warehouse = tmp_path / "w.duckdb"
    with harness_for("salesforce", mode="upsert") as h:
        write_source(warehouse, people(3))
        run_sync(h.sync(name="seed"), warehouse)
        h.mode = "update-only"
        write_source(warehouse, [(i, e, f"New{i}") for i, e, _ in people(4)])
        result = run_sync(h.sync(name="updater"), warehouse)
        assert (result.rows_added, result.rows_rejected) == (3, 1)
        assert ops(h)["record_update"] == {"1", "2", "3"}
        assert h.server.by_external_id()["2"]["First_Name__c"] == "New2"
        reason = query(warehouse, "select reason from reverse_etl.sync_rejections")[0][0]
        assert "no Customer__c with Customer_Id__c = 4" in reason


def test_nulls_commas_quotes_and_newlines_round_trip_through_csv(tmp_path: Path):
    warehouse = tmp_path / "w.duckdb"
    with harness_for("salesforce", mode="upsert") as h:
        odd = 'Ann, "the" \nSecond'
        write_source(warehouse, [(1, "a@example.com", odd), (2, "b@example.com", "B")])
        assert run_sync(h.sync(), warehouse).status == "succeeded"
        assert h.server.by_external_id()["1"]["First_Name__c"] == odd
        write_source(warehouse, [(1, "a@example.com", odd), (2, "b@example.com", None)])  # type: ignore[list-item]
        assert run_sync(h.sync(), warehouse).rows_updated == 1
        assert h.server.by_external_id()["2"]["First_Name__c"] is None  # sent as #N/A
    records = [{"A": 'x,"y"', "B": "#N/A"}]
    assert from_csv(to_csv(["A", "B"], records).decode()) == records


def _destination(h, **overrides) -> SalesforceDestination:  # type: ignore[no-untyped-def]
    sync = h.sync(destination=overrides)
    destination = build_destination(sync.destination, sync.context)
    assert isinstance(destination, SalesforceDestination)
    return destination


def _batch(mode: Mode, rows: list[Row], phase: Phase = Phase.ADD) -> Batch:
    return Batch("b1", "audience_sync", mode, phase, tuple(rows))


def _row(i: int, first: str = "") -> Row:
    payload = {"Email__c": f"person{i}@example.com", "First_Name__c": first or f"First{i}"}
    return Row(str(i), payload)


def test_reconcile_waits_for_a_job_a_crashed_run_closed():
    with harness_for("salesforce", job_reads=4) as h:
        destination = _destination(h)
        batch = _batch(Mode.MIRROR, [_row(1), _row(2)])
        # A run closed the job and died before reading its outcome.
        job_id = destination._create_job("upsert")
        records = [{"Customer_Id__c": r.key, **r.payload} for r in batch.rows]
        destination._upload_and_close(
            job_id, to_csv(["Customer_Id__c", *sorted(_row(1).payload)], records)
        )
        assert h.server.jobs[job_id]["state"] == "UploadComplete"
        outcome = destination.reconcile(batch)
        assert set(outcome.acknowledged) == {"1", "2"} and not outcome.unapplied
        assert h.server.jobs[job_id]["state"] == "JobComplete"  # it was waited for
        listings = [p for m, p, _ in h.server.requests if m == "GET" and p == f"{ROOT}/jobs/ingest"]
        assert len(listings) >= 5
        # A row that does not hold the sent values is sent again.
        changed = destination.reconcile(_batch(Mode.MIRROR, [_row(1, "Other"), _row(3)]))
        assert changed.unapplied == {"1", "3"}


def test_an_upload_that_fails_aborts_the_job_so_it_is_never_applied():
    with harness_for("salesforce") as h:
        h.server.faults.fail(1, 500, path_contains="/batches", method="PUT")
        destination = _destination(h)
        with pytest.raises(AmbiguousDeliveryError):
            destination.deliver(_batch(Mode.MIRROR, [_row(1)]))
        assert [job["state"] for job in h.server.jobs.values()] == ["Aborted"]
        assert h.writes() == {}
        assert destination.reconcile(_batch(Mode.MIRROR, [_row(1)])).unapplied == {"1"}


def test_polling_is_bounded_by_job_timeout_seconds():
    with harness_for("salesforce", job_reads=10_000) as h:
        destination = _destination(h, job_timeout_seconds=0.2)
        with pytest.raises(AmbiguousDeliveryError, match="job_timeout_seconds") as raised:
            destination.deliver(_batch(Mode.MIRROR, [_row(1)]))
        assert raised.value.maybe_applied
        with pytest.raises(AmbiguousDeliveryError, match="still running"):
            destination.reconcile(_batch(Mode.MIRROR, [_row(1)]))


def test_a_failed_job_rejects_its_rows_with_the_job_error(tmp_path: Path):
    warehouse = tmp_path / "w.duckdb"
    server = SalesforceContractServer(TOKEN, fields={"Email__c": "email"})  # no First_Name__c
    with server:
        h = REGISTRY["salesforce"](server)
        write_source(warehouse, people(2))
        destination = build_destination(h.sync().destination, h.sync().context)
        with pytest.raises(
            DestinationError, match="fields: Customer__c has no field First_Name__c"
        ):
            destination.check()
        result = run_sync(h.sync(), warehouse)
        assert result.rows_rejected == 2
        reason = query(warehouse, "select reason from reverse_etl.sync_rejections")[0][0]
        assert "Failed" in reason and "Field name not found : First_Name__c" in reason


def test_check_names_a_missing_object_or_external_id_field():
    with harness_for("salesforce") as h:
        with pytest.raises(DestinationError, match="object: Nope__c does not exist"):
            _destination(h, object="Nope__c").check()
        with pytest.raises(DestinationError, match="external_id_field: Name is not an External"):
            _destination(h, external_id_field="Name").check()


def test_config_refuses_audience_mode_and_fields_the_destination_sets():
    with harness_for("salesforce") as h:
        bad = h.sync_dict(mode="audience")
        bad["fields"] = {**bad["fields"], "Id": "customer_id", "Customer_Id__c": "customer_id"}
        with pytest.raises(ConfigError) as raised:
            parse_syncs([bad])
    message = str(raised.value)
    assert "mode: 'audience' is not supported by the salesforce destination" in message
    assert "fields.Id: set by the destination" in message
    assert "fields.Customer_Id__c: set by the destination" in message


def test_contract_server_enforces_the_bulk_api_contract():
    with SalesforceContractServer(TOKEN) as server:
        s = requests.Session()
        s.headers["Authorization"] = f"Bearer {TOKEN}"
        jobs = f"{server.url}{ROOT}/jobs/ingest"

        denied = requests.get(f"{server.url}{ROOT}/limits", timeout=5)
        assert denied.status_code == 401
        assert denied.json() == [
            {"message": "Session expired or invalid", "errorCode": "INVALID_SESSION_ID"}
        ]
        assert s.get(f"{server.url}/services/data/v40.0/limits", timeout=5).status_code == 404

        body = {"object": "Customer__c", "operation": "upsert", "contentType": "CSV"}
        no_ext = s.post(jobs, json=body, timeout=5)
        assert no_ext.status_code == 400 and no_ext.json()[0]["errorCode"] == "INVALIDJOB"
        job = s.post(jobs, json={**body, "externalIdFieldName": "Customer_Id__c"}, timeout=5).json()
        assert job["state"] == "Open"
        batches = f"{jobs}/{job['id']}/batches"
        data = b"Customer_Id__c,Email__c\n1,a@example.com\n2,not-an-email\n"
        assert s.put(batches, data=data, timeout=5).status_code == 400  # no text/csv
        csv_headers = {"Content-Type": "text/csv"}
        assert s.put(batches, data=data, headers=csv_headers, timeout=5).status_code == 201
        again = s.put(batches, data=data, headers=csv_headers, timeout=5)
        assert again.status_code == 400  # one upload per job
        early = s.get(f"{jobs}/{job['id']}/successfulResults", timeout=5)
        assert early.status_code == 400
        closed = s.patch(f"{jobs}/{job['id']}", json={"state": "UploadComplete"}, timeout=5)
        assert closed.json()["state"] == "UploadComplete"
        assert s.get(f"{jobs}/{job['id']}", timeout=5).json()["state"] == "InProgress"
        assert s.get(f"{jobs}/{job['id']}", timeout=5).json()["state"] == "JobComplete"
        ok = from_csv(s.get(f"{jobs}/{job['id']}/successfulResults", timeout=5).text)
        failed = from_csv(s.get(f"{jobs}/{job['id']}/failedResults", timeout=5).text)
        assert [r["Customer_Id__c"] for r in ok] == ["1"] and ok[0]["sf__Created"] == "true"
        assert failed[0]["sf__Error"].startswith("INVALID_EMAIL_ADDRESS:")
        assert server.deliveries == {("record_upsert", "1"): 1}

        soql = "SELECT Id, Email__c FROM Customer__c WHERE Customer_Id__c IN ('1', 'x\\'')"
        found = s.get(f"{server.url}{ROOT}/query", params={"q": soql}, timeout=5).json()
        assert [r["Email__c"] for r in found["records"]] == ["a@example.com"]
        bad = s.get(
            f"{server.url}{ROOT}/query",
            params={"q": "SELECT Nope FROM Customer__c WHERE Id IN ('1')"},
            timeout=5,
        )
        assert bad.status_code == 400 and bad.json()[0]["errorCode"] == "INVALID_FIELD"
