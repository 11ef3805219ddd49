"""A Salesforce contract server: Bulk API 2.0 ingest jobs, SOQL read-back, describe.

Enforced (REST API under /services/data/vXX.X, version 41.0 or later):
- `Authorization: Bearer <token>` (401 [{"errorCode": "INVALID_SESSION_ID"}] otherwise);
- jobs/ingest POST: a known object, operation insert / upsert / update / delete /
  hardDelete (delete moves a record to the Recycle Bin, `recycle_bin`, where it stays;
  hardDelete removes it for good), upsert
  needs `externalIdFieldName` naming an External ID field, contentType CSV, lineEnding
  LF or CRLF, columnDelimiter COMMA (400 [{"errorCode", "message"}] otherwise);
- jobs/ingest/{id}/batches PUT: `Content-Type: text/csv`, only while the job is Open,
  one upload per job, at most 150 MB once base64-encoded (400 otherwise); 201;
- jobs/ingest/{id} PATCH: UploadComplete from Open with data (processes the job), or
  Aborted from Open;
- processing: an unknown column fails the whole job (state Failed, errorMessage);
  per-row errors land in failedResults with `sf__Error` in Salesforce's
  `CODE:message:fields` form (invalid emails in email fields, duplicate external ids on
  insert, unknown Ids on update/delete, missing external ids on upsert, rows refused by
  `refuse_keys`); `#N/A` sets a field to null, an empty cell leaves it unchanged;
- jobs/ingest/{id} DELETE: only a job in a final state (or UploadComplete), 204; the
  job goes with its uploaded data and results;
- job reads: UploadComplete, then InProgress for `job_reads` reads, then JobComplete
  (or Failed); results only once the job is final;
- query: `SELECT <fields> FROM <object> WHERE <field> IN ('...')` (400 MALFORMED_QUERY /
  INVALID_FIELD otherwise);
- a rolling-window rate limit (429 with Retry-After and REQUEST_LIMIT_EXCEEDED in the
  error body), when configured.

Simplification: a job's rows are applied when it is closed (UploadComplete), though its
state still goes through InProgress; a client killed right after the close finds the
rows applied once the job reads as final. Records: `records` (Id -> fields), `jobs`, and
`deliveries` counted per external id with kinds "record_upsert", "record_insert",
"record_update", "record_delete", "record_hardDelete", "job_delete".
"""

from __future__ import annotations

import csv
import io
import math
import re
from datetime import UTC, datetime
from typing import Any

from cdp_demo.contract_servers.server import ContractServer, Reply, Request

MAX_UPLOAD_BASE64_BYTES = 150 * 1024 * 1024
FINAL = ("JobComplete", "Failed", "Aborted")
OPERATIONS = ("insert", "upsert", "update", "delete", "hardDelete")
EMAIL_RE = re.compile(r"^[^@\s]+@[^@\s]+\.[A-Za-z]{2,}$")
VERSION_RE = re.compile(r"^/services/data/v(\d+)\.(\d)(/.*)?$")
SOQL_RE = re.compile(
    r"^SELECT\s+(?P<columns>.+?)\s+FROM\s+(?P<object>\w+)\s+WHERE\s+(?P<field>\w+)\s+IN\s*"
    r"\((?P<values>.*)\)\s*$",
    re.IGNORECASE | re.DOTALL,
)
LITERAL_RE = re.compile(r"'((?:[^'\\]|\\.)*)'")


def _error(status: int, code: str, message: str) -> Reply:
    return Reply(status, [{"message": message, "errorCode": code}])


def _now() -> str:
    return datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%S.000+0000")


def _csv(columns: list[str], rows: list[dict[str, str]]) -> bytes:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(columns)
    for row in rows:
        writer.writerow([row.get(c, "") for c in columns])
    return out.getvalue().encode()


class SalesforceContractServer(ContractServer):
    name = "salesforce"

    def __init__(
        self,
        token: str,
        *,
        object_name: str = "Customer__c",
        external_id_field: str = "Customer_Id__c",
        fields: dict[str, str] | None = None,
        rate_limit: tuple[int, float] | None = None,
        job_reads: int = 1,
        refuse_keys: dict[str, str] | None = None,
    ) -> None:
        super().__init__(rate_limit=rate_limit)
        self.token = token
        self.object_name = object_name
        self.external_id_field = external_id_field
        self.fields = {"Id": "id", external_id_field: "string"} | (
            fields or {"Email__c": "email", "First_Name__c": "string"}
        )
        self.job_reads = job_reads
        self.refuse_keys = dict(refuse_keys or {})
        self.records: dict[str, dict[str, Any]] = {}
        self.jobs: dict[str, dict[str, Any]] = {}
        self.recycle_bin: dict[str, dict[str, Any]] = {}
        self._next_record = 1
        self._next_job = 1

    # -- inspection ----------------------------------------------------------------
    def by_external_id(self) -> dict[str, dict[str, Any]]:
        with self.lock:
            return {str(r[self.external_id_field]): dict(r) for r in self.records.values()}

    # -- contract ------------------------------------------------------------------
    def rate_limited_reply(self, retry_after: float) -> Reply:
        reply = _error(429, "REQUEST_LIMIT_EXCEEDED", "TotalRequests Limit exceeded.")
        reply.headers["Retry-After"] = str(max(1, math.ceil(retry_after)))
        return reply

    def authenticate(self, request: Request) -> Reply | None:
        if request.headers.get("authorization") != f"Bearer {self.token}":
            return _error(401, "INVALID_SESSION_ID", "Session expired or invalid")
        return None

    def route(self, request: Request) -> Reply:
        match = VERSION_RE.match(request.path.rstrip("/"))
        if match is None or int(match.group(1)) < 41:
            return _error(404, "NOT_FOUND", "The requested resource does not exist")
        rest = (match.group(3) or "").strip("/").split("/")
        method = request.method
        if rest == ["limits"] and method == "GET":
            return Reply(200, {"DailyApiRequests": {"Max": 100000, "Remaining": 99000}})
        if rest[:1] == ["sobjects"] and rest[2:] == ["describe"] and method == "GET":
            if rest[1] != self.object_name:
                return _error(404, "NOT_FOUND", "The requested resource does not exist")
            fields = [
                {"name": n, "type": t, "externalId": n == self.external_id_field}
                for n, t in self.fields.items()
            ]
            return Reply(200, {"name": self.object_name, "fields": fields})
        if rest == ["query"] and method == "GET":
            return self._query(request.query.get("q", ""))
        if rest[:2] == ["jobs", "ingest"]:
            if len(rest) == 2 and method == "POST":
                return self._create_job(request.json())
            if len(rest) == 2 and method == "GET":
                records = [self._info(job, read=True) for job in self.jobs.values()]
                return Reply(200, {"done": True, "records": records, "nextRecordsUrl": None})
            job = self.jobs.get(rest[2]) if len(rest) > 2 else None
            if job is None:
                return _error(404, "NOT_FOUND", "The requested resource does not exist")
            if len(rest) == 3 and method == "GET":
                return Reply(200, self._info(job, read=True))
            if len(rest) == 3 and method == "DELETE":
                if job["state"] not in (*FINAL, "UploadComplete"):
                    return _error(400, "INVALIDJOBSTATE", f"Job is in state {job['state']}")
                del self.jobs[rest[2]]
                return Reply(204, None, writes=[("job_delete", rest[2])])
            if len(rest) == 3 and method == "PATCH":
                return self._patch(job, request.json())
            if rest[3:] == ["batches"] and method == "PUT":
                return self._upload(job, request)
            if rest[3:] in (["successfulResults"], ["failedResults"]) and method == "GET":
                if job["state"] not in FINAL:
                    return _error(400, "INVALIDJOBSTATE", "Job is not in a final state")
                kind = rest[3]
                rows = job["ok"] if kind == "successfulResults" else job["failed"]
                status = "sf__Created" if kind == "successfulResults" else "sf__Error"
                first = ["sf__Id", status]
                return Reply(200, _csv(first + job["columns"], rows), content_type="text/csv")
        return _error(404, "NOT_FOUND", "The requested resource does not exist")

    # -- jobs ----------------------------------------------------------------------
    def _info(self, job: dict[str, Any], *, read: bool = False) -> dict[str, Any]:
        """Job info; a read moves a closed job on: InProgress for `job_reads` reads."""
        if read and job["state"] in ("UploadComplete", "InProgress"):
            if job["reads_left"] > 0:
                job["reads_left"] -= 1
                job["state"] = "InProgress"
            else:
                job["state"] = "Failed" if job["errorMessage"] else "JobComplete"
        info = {
            k: job[k]
            for k in (
                "id",
                "operation",
                "object",
                "state",
                "contentType",
                "lineEnding",
                "columnDelimiter",
                "apiVersion",
                "createdDate",
            )
        }
        info.update(
            createdById="005000000000001AAA",
            concurrencyMode="Parallel",
            contentUrl=f"services/data/v{job['apiVersion']}/jobs/ingest/{job['id']}/batches",
            jobType="V2Ingest",
            numberRecordsProcessed=len(job["ok"]) + len(job["failed"]),
            numberRecordsFailed=len(job["failed"]),
        )
        if job.get("externalIdFieldName"):
            info["externalIdFieldName"] = job["externalIdFieldName"]
        if job["errorMessage"] and job["state"] == "Failed":
            info["errorMessage"] = job["errorMessage"]
        return info

    def _create_job(self, body: Any) -> Reply:
        if not isinstance(body, dict):
            return _error(400, "JSON_PARSER_ERROR", "The request body must be a JSON object")
        if body.get("object") != self.object_name:
            return _error(400, "INVALIDJOB", f"Unable to find object: {body.get('object')}")
        operation = body.get("operation")
        if operation not in OPERATIONS:
            return _error(400, "INVALIDJOB", f"Invalid operation: {operation}")
        ext = body.get("externalIdFieldName")
        if operation == "upsert" and ext != self.external_id_field:
            return _error(
                400,
                "INVALIDJOB",
                f"InvalidJob : Field name provided, {ext} is not an External "
                f"ID or indexed field for {self.object_name}",
            )
        if body.get("contentType", "CSV") != "CSV":
            return _error(400, "INVALIDJOB", "contentType must be CSV")
        if body.get("lineEnding", "LF") not in ("LF", "CRLF"):
            return _error(400, "INVALIDJOB", "lineEnding must be LF or CRLF")
        if body.get("columnDelimiter", "COMMA") != "COMMA":
            return _error(400, "INVALIDJOB", "this server only takes COMMA-delimited data")
        job_id = f"750{self._next_job:012d}AAA"
        self._next_job += 1
        self.jobs[job_id] = {
            "id": job_id,
            "operation": operation,
            "object": self.object_name,
            "externalIdFieldName": ext if operation == "upsert" else None,
            "state": "Open",
            "contentType": "CSV",
            "lineEnding": body.get("lineEnding", "LF"),
            "columnDelimiter": "COMMA",
            "apiVersion": 62.0,
            "createdDate": _now(),
            "data": None,
            "columns": [],
            "ok": [],
            "failed": [],
            "errorMessage": None,
            "reads_left": 0,
        }
        return Reply(200, self._info(self.jobs[job_id]))

    def _upload(self, job: dict[str, Any], request: Request) -> Reply:
        if not request.headers.get("content-type", "").startswith("text/csv"):
            return _error(400, "INVALIDJOB", "Content-Type must be text/csv")
        if job["state"] != "Open":
            return _error(400, "INVALIDJOBSTATE", f"Job is in state {job['state']}, not Open")
        if job["data"] is not None:
            return _error(400, "INVALIDJOB", "Found multiple contents for job")
        if math.ceil(len(request.body) / 3) * 4 > MAX_UPLOAD_BASE64_BYTES:
            return _error(400, "INVALIDJOB", "Upload exceeds 150 MB of base64-encoded data")
        job["data"] = request.body.decode("utf-8")
        return Reply(201, None)

    def _patch(self, job: dict[str, Any], body: Any) -> Reply:
        state = body.get("state") if isinstance(body, dict) else None
        if job["state"] != "Open" or state not in ("UploadComplete", "Aborted"):
            return _error(
                400, "INVALIDJOBSTATE", f"Cannot change job from {job['state']} to {state}"
            )
        if state == "Aborted":
            job["state"] = "Aborted"
            return Reply(200, self._info(job))
        if job["data"] is None:
            return _error(400, "INVALIDJOBSTATE", "No data was uploaded for this job")
        writes = self._process(job)
        job["state"] = "UploadComplete"
        job["reads_left"] = self.job_reads
        return Reply(200, self._info(job), writes=writes)

    def _process(self, job: dict[str, Any]) -> list[tuple[str, str]]:
        reader = csv.DictReader(io.StringIO(job["data"]))
        columns = list(reader.fieldnames or [])
        job["columns"] = columns
        unknown = [c for c in columns if c not in self.fields]
        needed = {
            "upsert": self.external_id_field,
            "update": "Id",
            "delete": "Id",
            "hardDelete": "Id",
        }.get(job["operation"])
        if unknown or (needed and needed not in columns):
            problem = f"Field name not found : {unknown[0]}" if unknown else f"{needed} missing"
            job["errorMessage"] = f"InvalidBatch : {problem}"
            return []
        writes = []
        for row in reader:
            ok, error, ext = self._apply(job["operation"], row)
            if error is not None:
                job["failed"].append({"sf__Id": "", "sf__Error": error, **row})
            else:
                assert ok is not None
                job["ok"].append({**ok, **row})
                writes.append((f"record_{job['operation']}", ext))
        return writes

    def _apply(
        self, operation: str, row: dict[str, str]
    ) -> tuple[dict[str, str] | None, str | None, str]:
        """Apply one row: (sf__ columns, None, external id) or (None, sf__Error, "")."""
        ext_field = self.external_id_field
        values = {k: (None if v == "#N/A" else v) for k, v in row.items() if k != "Id" and v != ""}
        for name, value in values.items():
            if self.fields.get(name) == "email" and value is not None and not EMAIL_RE.match(value):
                error = f"INVALID_EMAIL_ADDRESS:{name}: invalid email address: {value}:{name} --"
                return None, error, ""
        if operation in ("update", "delete", "hardDelete"):
            record = self.records.get(row.get("Id", ""))
            if record is None:
                return None, "INVALID_CROSS_REFERENCE_KEY:invalid cross reference id:--", ""
            ext = str(record[ext_field])
            if operation in ("delete", "hardDelete"):
                deleted = self.records.pop(row["Id"])
                if operation == "delete":  # Salesforce keeps it restorable for 15 days
                    self.recycle_bin[row["Id"]] = deleted
                return {"sf__Id": row["Id"], "sf__Created": "false"}, None, ext
        else:
            ext = row.get(ext_field, "")
            if not ext:
                return None, f"MISSING_ARGUMENT:{ext_field} not specified:--", ""
            record = next((r for r in self.records.values() if r[ext_field] == ext), None)
            if operation == "insert" and record is not None:
                error = (
                    f"DUPLICATE_VALUE:duplicate value found: {ext_field} duplicates value on "
                    f"record with id: {record['Id']}:--"
                )
                return None, error, ""
        if ext in self.refuse_keys:
            return None, f"FIELD_CUSTOM_VALIDATION_EXCEPTION:{self.refuse_keys[ext]}:--", ""
        created = record is None
        if record is None:
            record_id = f"a01{self._next_record:012d}AAA"
            self._next_record += 1
            record = {"Id": record_id, **{f: None for f in self.fields if f != "Id"}}
            self.records[record_id] = record
        record.update(values)
        return {"sf__Id": record["Id"], "sf__Created": str(created).lower()}, None, ext

    # -- SOQL ------------------------------------------------------------------------
    def _query(self, soql: str) -> Reply:
        match = SOQL_RE.match(soql.strip())
        if match is None:
            return _error(
                400,
                "MALFORMED_QUERY",
                "unexpected token (this server reads SELECT ... FROM ... WHERE field IN (...))",
            )
        if match["object"] != self.object_name:
            return _error(
                400, "INVALID_TYPE", f"sObject type '{match['object']}' is not supported."
            )
        columns = [c.strip() for c in match["columns"].split(",")]
        for name in [*columns, match["field"]]:
            if name not in self.fields:
                return _error(
                    400,
                    "INVALID_FIELD",
                    f"No such column '{name}' on entity '{self.object_name}'.",
                )
        wanted = {re.sub(r"\\(.)", r"\1", v) for v in LITERAL_RE.findall(match["values"])}
        records = [
            {
                "attributes": {
                    "type": self.object_name,
                    "url": f"/services/data/v62.0/sobjects/{self.object_name}/{r['Id']}",
                },
                **{c: r.get(c) for c in columns},
            }
            for r in self.records.values()
            if str(r.get(match["field"])) in wanted
        ]
        return Reply(200, {"totalSize": len(records), "done": True, "records": records})
