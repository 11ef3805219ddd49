"""Salesforce client: one Bulk API 2.0 ingest job per batch, keyed by an external id field.

API calls (REST, `Authorization: Bearer <access token>`, under /services/data/vXX.X):
- POST jobs/ingest {"object", "operation", "externalIdFieldName", "contentType": "CSV",
  "lineEnding": "LF", "columnDelimiter": "COMMA"} -> the job (state Open).
- PUT jobs/ingest/{id}/batches (text/csv, one upload per job) -> 201.
- PATCH jobs/ingest/{id} {"state": "UploadComplete"}: the commit point. Nothing of a job
  is applied before it; an Open job is never processed. {"state": "Aborted"} drops a job
  whose upload failed.
- GET jobs/ingest/{id}: polled until JobComplete / Failed / Aborted, at most
  `job_timeout_seconds` (never an unbounded loop).
- GET jobs/ingest/{id}/successfulResults (CSV: sf__Id, sf__Created, the columns sent) and
  .../failedResults (CSV: sf__Id, sf__Error, the columns sent): per-row outcome.
- GET query?q=SELECT Id, <external id>, <fields> FROM <object> WHERE <external id> IN (...):
  read back by external id (reconcile; record ids for update and delete jobs).
- GET jobs/ingest: jobs still UploadComplete / InProgress (reconcile waits for them).
- GET limits and GET sobjects/{object}/describe: check().
- Erasure (Phase.ERASE, any mode): a `hardDelete` job by record Id (the records skip
  the Recycle Bin; the API user needs the "Bulk API Hard Delete" permission), then
  DELETE jobs/ingest/{id} for every finished ingest job on the object, since a job
  keeps the uploaded rows and its results (with every column sent) for days.

Operations by mode: upsert and mirror upsert by `external_id_field` (and mirror deletes
removed keys with a `delete` job by record Id); insert-only inserts with the external id
column set; update-only looks the record Ids up by external id first (rows with no record
are rejected) and runs an `update` job by Id.

Exactly once: Bulk API 2.0 has no client-supplied job id or idempotency key. A job is
applied only once it is closed (UploadComplete). If the outcome of a close, a poll or a
result read is unknown (timeout, crash, job_timeout_seconds), `reconcile` first waits
until no ingest job on the object is UploadComplete or InProgress, so every job a
crashed run closed has been applied or failed, then reads the batch's records back by
external id with SOQL. Rows that hold the sent values are acknowledged; the rest are
sent again. An upload that failed before the close leaves an Open job that is never
processed (it is aborted when the client is still alive to do so).
"""

from __future__ import annotations

import contextlib
import csv
import io
import time
from collections.abc import Callable, Iterator
from typing import Any

from reverse_etl.batch import Batch, BatchOutcome, Mode, Phase, Rejection, Row, SyncContext
from reverse_etl.destinations.base import Destination
from reverse_etl.destinations.salesforce.config import SalesforceSettings
from reverse_etl.errors import AmbiguousDeliveryError, BatchRejectedError, DestinationError
from reverse_etl.http import HttpClient, error_snippet

RUNNING = ("UploadComplete", "InProgress")
FINAL = ("JobComplete", "Failed", "Aborted")
NULL = "#N/A"  # the Bulk API's way to set a field to null (an empty cell leaves it as is)
SOQL_KEYS = 200  # external ids per SOQL query: well under the 100,000-character limit
MAX_PAGES = 1000


def cell(value: Any) -> str:
    if value is None:
        return NULL
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def to_csv(columns: list[str], records: list[dict[str, str]]) -> bytes:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(columns)
    for record in records:
        writer.writerow([record[c] for c in columns])
    return out.getvalue().encode()


def from_csv(text: str) -> list[dict[str, str]]:
    return list(csv.DictReader(io.StringIO(text)))


def soql_literal(value: str) -> str:
    return "'" + value.replace("\\", "\\\\").replace("'", "\\'") + "'"


def _matches(record: dict[str, Any], payload: dict[str, Any]) -> bool:
    """The record holds every value we send (compared as text; null as null)."""
    for name, value in payload.items():
        held = record.get(name)
        if value is None or held is None:
            if value is not held:
                return False
        elif cell(held) != cell(value):
            return False
    return True


def _chunks(items: list[str], size: int) -> Iterator[list[str]]:
    for start in range(0, len(items), size):
        yield items[start : start + size]


class SalesforceDestination(Destination):
    settings_class = SalesforceSettings

    def __init__(
        self,
        settings: SalesforceSettings,
        context: SyncContext,
        *,
        sleep: Callable[[float], None] = time.sleep,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        super().__init__(settings, context)
        self.settings: SalesforceSettings = settings
        self._sleep = sleep
        self._clock = clock
        token = settings.resolve_secret("access_token_env", context.sync_name)
        self._http = self.http_client(
            base_url=settings.base_url or settings.instance_url,
            auth_field=settings.secret_label("access_token_env"),
            headers={
                "Authorization": f"Bearer {token.get_secret_value()}",
                "Accept": "application/json",
                "User-Agent": "cdp-reverse-etl",
            },
        )
        self._root = settings.root
        self._ext = settings.external_id_field
        self._fields = sorted(context.fields)

    @property
    def http(self) -> HttpClient:
        return self._http

    # -- API calls -----------------------------------------------------------------
    def _ok(self, response: Any, what: str, expected: tuple[int, ...] = (200,)) -> Any:
        if response.status_code not in expected:
            raise BatchRejectedError(self.label, f"{what} refused: {self._describe(response)}")
        return response

    @staticmethod
    def _describe(response: Any) -> str:
        """Salesforce's errors ([{"errorCode", "message"}]) as `code: message`."""
        try:
            errors = response.json()
        except ValueError:
            errors = None
        if isinstance(errors, list) and errors and isinstance(errors[0], dict):
            text = "; ".join(f"{e.get('errorCode')}: {e.get('message')}" for e in errors)
            return f"HTTP {response.status_code} {text}"
        return error_snippet(response)

    def _job_path(self, job_id: str = "") -> str:
        return f"{self._root}/jobs/ingest" + (f"/{job_id}" if job_id else "")

    def _create_job(self, operation: str) -> str:
        body = {
            "object": self.settings.object,
            "operation": operation,
            "contentType": "CSV",
            "columnDelimiter": "COMMA",
            "lineEnding": "LF",
        }
        if operation == "upsert":
            body["externalIdFieldName"] = self._ext
        # Creating a job applies nothing: a repeat leaves at most an Open job that is
        # never processed, so the request is safe to retry.
        response = self._http.request("POST", self._job_path(), json_body=body, repeatable=True)
        return str(self._ok(response, "ingest job create").json()["id"])

    def _abort(self, job_id: str) -> None:
        """Best effort: an Open job is never processed anyway."""
        with contextlib.suppress(DestinationError):
            self._http.request(
                "PATCH", self._job_path(job_id), json_body={"state": "Aborted"}, repeatable=True
            )

    def _upload_and_close(self, job_id: str, data: bytes) -> None:
        try:
            response = self._http.request(
                "PUT",
                f"{self._job_path(job_id)}/batches",
                data=data,
                headers={"Content-Type": "text/csv"},
                repeatable=False,  # one upload per job
            )
            self._ok(response, "job data upload", (201,))
        except DestinationError:
            self._abort(job_id)  # not closed, so nothing of it was applied
            raise
        response = self._http.request(
            "PATCH",
            self._job_path(job_id),
            json_body={"state": "UploadComplete"},
            repeatable=False,  # the commit point: its outcome must be read back
        )
        self._ok(response, "job close (UploadComplete)")

    def _wait_for_job(self, job_id: str) -> dict[str, Any]:
        deadline = self._clock() + self.settings.job_timeout_seconds
        while True:
            response = self._http.request("GET", self._job_path(job_id), repeatable=True)
            job: dict[str, Any] = self._ok(response, "job read").json()
            if job.get("state") in FINAL:
                return job
            if self._clock() >= deadline:
                raise AmbiguousDeliveryError(
                    self.label,
                    f"ingest job {job_id} still {job.get('state')} after "
                    f"{self.settings.job_timeout_seconds:.0f}s (job_timeout_seconds)",
                )
            self._sleep(self.settings.poll_interval_seconds)

    def _results(self, job_id: str, kind: str) -> list[dict[str, str]]:
        response = self._http.request("GET", f"{self._job_path(job_id)}/{kind}", repeatable=True)
        return from_csv(self._ok(response, f"job {kind} read").text)

    def _run_job(
        self, operation: str, columns: list[str], records: list[dict[str, str]]
    ) -> tuple[dict[str, Any], list[dict[str, str]], list[dict[str, str]]]:
        """One job end to end: (job info, successful rows, failed rows)."""
        job_id = self._create_job(operation)
        self._upload_and_close(job_id, to_csv(columns, records))
        try:
            job = self._wait_for_job(job_id)
            return (
                job,
                self._results(job_id, "successfulResults"),
                self._results(job_id, "failedResults"),
            )
        except DestinationError as exc:
            self.after_first_write(exc)  # the job was closed: it may have been applied
            raise

    def _query(self, keys: list[str]) -> dict[str, dict[str, Any]]:
        """external id -> record (Id and the mapped fields), for records that exist."""
        found: dict[str, dict[str, Any]] = {}
        columns = ", ".join(["Id", self._ext, *self._fields])
        for chunk in _chunks(keys, SOQL_KEYS):
            soql = (
                f"SELECT {columns} FROM {self.settings.object} WHERE {self._ext} IN "
                f"({', '.join(soql_literal(k) for k in chunk)})"
            )
            path: str | None = f"{self._root}/query"
            params: dict[str, str | int] | None = {"q": soql}
            for _ in range(MAX_PAGES):
                if path is None:
                    break
                response = self._http.request("GET", path, params=params, repeatable=True)
                answer = self._ok(response, "SOQL query").json()
                for record in answer.get("records") or []:
                    found[str(record.get(self._ext))] = record
                path = None if answer.get("done", True) else answer.get("nextRecordsUrl")
                params = None
        return found

    # -- Destination -----------------------------------------------------------------
    def deliver(self, batch: Batch) -> BatchOutcome:
        if batch.phase is Phase.ERASE:
            outcome = self._delete(list(batch.rows), operation="hardDelete")
            self._delete_finished_jobs()
            return outcome
        if batch.phase is Phase.REMOVE:
            return self._delete(list(batch.rows)) if batch.mode is Mode.MIRROR else BatchOutcome()
        if batch.mode is Mode.UPDATE_ONLY:
            return self._update(list(batch.rows))
        operation = "insert" if batch.mode is Mode.INSERT_ONLY else "upsert"
        rows = {row.key: row for row in batch.rows}
        records = [
            {self._ext: row.key, **{f: cell(row.payload.get(f)) for f in self._fields}}
            for row in batch.rows
        ]
        job, ok, failed = self._run_job(operation, [self._ext, *self._fields], records)
        return self._outcome(rows, job, ok, failed, lambda r: r.get(self._ext, ""))

    def _ids(self, rows: list[Row]) -> dict[str, str]:
        """key -> record Id: the acknowledged one, else looked up by external id."""
        ids = {row.key: row.destination_id for row in rows if row.destination_id}
        missing = [row.key for row in rows if not row.destination_id]
        if missing:
            found = self._query(missing)
            ids.update({k: str(found[k]["Id"]) for k in missing if k in found})
        return ids  # type: ignore[return-value]

    def _update(self, rows: list[Row]) -> BatchOutcome:
        ids = self._ids(rows)
        outcome = BatchOutcome()
        present = []
        for row in rows:
            if row.key in ids:
                present.append(row)
            else:
                outcome.rejected[row.key] = Rejection(
                    f"Salesforce: no {self.settings.object} with {self._ext} = {row.key} "
                    "(update-only never creates records)"
                )
        if not present:
            return outcome
        records = [
            {"Id": ids[r.key], **{f: cell(r.payload.get(f)) for f in self._fields}} for r in present
        ]
        job, ok, failed = self._run_job("update", ["Id", *self._fields], records)
        by_id = {ids[r.key]: r.key for r in present}
        rows_by_key = {r.key: r for r in present}
        return outcome.merge(
            self._outcome(rows_by_key, job, ok, failed, lambda r: by_id.get(r.get("Id", ""), ""))
        )

    def _delete_finished_jobs(self) -> None:
        """Delete every final ingest job on the object: with it go its uploaded CSV and
        its result rows, the copies Salesforce keeps of what was sent."""
        path: str | None = self._job_path()
        params: dict[str, str | int] | None = {"jobType": "V2Ingest"}
        finished: list[str] = []
        for _ in range(MAX_PAGES):
            if path is None:
                break
            response = self._http.request("GET", path, params=params, repeatable=True)
            answer = self._ok(response, "ingest jobs read").json()
            finished += [
                str(job["id"])
                for job in answer.get("records") or []
                if job.get("object") == self.settings.object and job.get("state") in FINAL
            ]
            path = None if answer.get("done", True) else answer.get("nextRecordsUrl")
            params = None
        for job_id in finished:
            response = self._http.request("DELETE", self._job_path(job_id), repeatable=True)
            self._ok(response, "ingest job delete", expected=(204, 404))

    def _delete(self, rows: list[Row], operation: str = "delete") -> BatchOutcome:
        ids = self._ids(rows)
        outcome = BatchOutcome()
        # a key with no record is already gone: nothing to delete
        outcome.acknowledged.update({r.key: r.destination_id for r in rows if r.key not in ids})
        present = {r.key: r for r in rows if r.key in ids}
        if not present:
            return outcome
        by_id = {ids[k]: k for k in present}
        records = [{"Id": ids[k]} for k in present]
        job, ok, failed = self._run_job(operation, ["Id"], records)
        return outcome.merge(
            self._outcome(present, job, ok, failed, lambda r: by_id.get(r.get("Id", ""), ""))
        )

    def _outcome(
        self,
        rows: dict[str, Row],
        job: dict[str, Any],
        ok: list[dict[str, str]],
        failed: list[dict[str, str]],
        key_of: Callable[[dict[str, str]], str],
    ) -> BatchOutcome:
        outcome = BatchOutcome()
        for result in ok:
            key = key_of(result)
            if key in rows:
                outcome.acknowledged[key] = result.get("sf__Id") or rows[key].destination_id
        for result in failed:
            key = key_of(result)
            if key in rows and key not in outcome.acknowledged:
                outcome.rejected[key] = Rejection(f"Salesforce {result.get('sf__Error', '')}")
        for key in rows:  # unprocessed: the job failed or was aborted before reaching them
            if key not in outcome.acknowledged and key not in outcome.rejected:
                reason = job.get("errorMessage") or "record not processed"
                outcome.rejected[key] = Rejection(
                    f"Salesforce job {job.get('id')} {job.get('state')}: {reason}"
                )
        return outcome

    def _wait_for_running_jobs(self) -> None:
        """Until no ingest job on the object is UploadComplete or InProgress (bounded)."""
        deadline = self._clock() + self.settings.job_timeout_seconds
        while True:
            running = []
            path: str | None = self._job_path()
            params: dict[str, str | int] | None = {"jobType": "V2Ingest"}
            for _ in range(MAX_PAGES):
                if path is None:
                    break
                response = self._http.request("GET", path, params=params, repeatable=True)
                answer = self._ok(response, "ingest jobs read").json()
                running += [
                    job["id"]
                    for job in answer.get("records") or []
                    if job.get("object") == self.settings.object and job.get("state") in RUNNING
                ]
                path = None if answer.get("done", True) else answer.get("nextRecordsUrl")
                params = None
            if not running:
                return
            if self._clock() >= deadline:
                raise AmbiguousDeliveryError(
                    self.label,
                    f"ingest jobs {', '.join(running[:3])} still running after "
                    f"{self.settings.job_timeout_seconds:.0f}s (job_timeout_seconds)",
                )
            self._sleep(self.settings.poll_interval_seconds)

    def reconcile(self, batch: Batch) -> BatchOutcome:
        """Wait for running jobs, then read the batch's records back by external id."""
        self._wait_for_running_jobs()
        found = self._query(batch.keys)
        outcome = BatchOutcome()
        for row in batch.rows:
            record = found.get(row.key)
            if batch.phase is Phase.ERASE:
                if record is None:
                    outcome.acknowledged[row.key] = row.destination_id
                else:
                    outcome.unapplied.add(row.key)
            elif batch.phase is Phase.REMOVE:
                if record is None or batch.mode is not Mode.MIRROR:
                    outcome.acknowledged[row.key] = row.destination_id
                else:
                    outcome.unapplied.add(row.key)
            elif record is not None and (
                batch.mode is Mode.INSERT_ONLY or _matches(record, row.payload)
            ):
                outcome.acknowledged[row.key] = str(record["Id"])
            else:
                outcome.unapplied.add(row.key)
        return outcome

    def check(self) -> None:
        """Read the org's limits with the token, then the object's fields: the object,
        the external id field and every mapped field must exist."""
        self._ok(self._http.request("GET", f"{self._root}/limits", repeatable=True), "limits")
        obj = self.settings.object
        response = self._http.request(
            "GET", f"{self._root}/sobjects/{obj}/describe", repeatable=True
        )
        if response.status_code == 404:
            raise DestinationError(self.label, f"object: {obj} does not exist")
        fields = {f["name"]: f for f in self._ok(response, "describe").json().get("fields", [])}
        ext = fields.get(self._ext)
        if ext is None or not ext.get("externalId"):
            raise DestinationError(
                self.label, f"external_id_field: {self._ext} is not an External ID field of {obj}"
            )
        unknown = [f for f in self._fields if f not in fields]
        if unknown:
            raise DestinationError(self.label, f"fields: {obj} has no field {', '.join(unknown)}")
