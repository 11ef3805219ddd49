"""A Klaviyo contract server: bulk profile import jobs, profiles, list relationships.

Enforced (Klaviyo API, JSON:API):
- `Authorization: Klaviyo-API-Key <key>` (401 `not_authenticated` otherwise) and a
  `revision: YYYY-MM-DD` header (400 `invalid` otherwise) on every request;
- POST /api/profile-bulk-import-jobs: `type` "profile-bulk-import-job", at most 10,000
  profiles and 5 MB per job (400 otherwise); each profile needs a valid email, otherwise
  it fails in the job's import-errors (Klaviyo's error shape with a `source.pointer` to
  the profile) and is not imported. The job answers 202 and reports `queued` /
  `processing` for its first `job_reads` status reads, then `complete`;
- list relationships: at most 1,000 profile ids per call, only existing profiles
  (400 otherwise); 204;
- reads: `page[size]` at most 100, `links.next` cursors, `filter=any(field,[...])` or
  `equals(field,"...")` on email (profiles, list profiles) and status (jobs);
- POST /api/data-privacy-deletion-jobs: `type` "data-privacy-deletion-job" and exactly
  one of email, phone_number or id on the profile (400 otherwise); 202. Every
  matching profile is deleted with its list memberships, its place in import jobs
  and the import errors that quoted it (applied at once, though Klaviyo documents
  the deletion as asynchronous);
- two rolling windows, burst (`rate_limit`, default 10/s) and steady (`steady_limit`,
  default 150/min), answered with 429 `throttled` and Retry-After;
- every error in Klaviyo's shape {"errors": [{"id", "status", "code", "title",
  "detail", "source"}]}.

Simplification: a job's profiles are applied when the job is created (the status
still goes through queued/processing), so a client killed right after creating a job
finds the profiles imported. Records: `profiles` (id -> attributes), `lists` (list id
-> profile ids), `jobs`, and `deliveries` counted per lower-cased email with kinds
"profile_import", "list_add", "list_remove", "profile_delete".
"""

from __future__ import annotations

import json
import math
import re
import uuid
from datetime import UTC, datetime
from typing import Any
from urllib.parse import urlencode

from cdp_demo.contract_servers.server import ContractServer, Reply, Request, _RollingWindow

MAX_PROFILES_PER_JOB = 10_000
MAX_JOB_BYTES = 5 * 1024 * 1024
MAX_RELATIONSHIPS = 1000
MAX_PAGE = 100
EMAIL_RE = re.compile(r"^[^@\s]+@[^@\s]+\.[A-Za-z]{2,}$")
FILTER_RE = re.compile(r"^(any|equals)\((\w+),(.*)\)$")
REVISION_RE = re.compile(r"^\d{4}-\d{2}-\d{2}(\.[a-z]+)?$")
JOBS = "/api/profile-bulk-import-jobs"


def _error(status: int, code: str, title: str, detail: str, pointer: str = "/data/") -> Reply:
    return Reply(
        status,
        {
            "errors": [
                {
                    "id": str(uuid.uuid4()),
                    "status": status,
                    "code": code,
                    "title": title,
                    "detail": detail,
                    "source": {"pointer": pointer},
                }
            ]
        },
        content_type="application/vnd.api+json",
    )


def _now() -> str:
    return datetime.now(UTC).isoformat()


class KlaviyoContractServer(ContractServer):
    name = "klaviyo"

    def __init__(
        self,
        api_key: str,
        *,
        list_ids: tuple[str, ...] = ("Xy12Ab",),
        rate_limit: tuple[int, float] | None = (10, 1.0),
        steady_limit: tuple[int, float] | None = (150, 60.0),
        job_reads: int = 1,
        invalid_emails: dict[str, str] | None = None,
    ) -> None:
        super().__init__(rate_limit=rate_limit)
        self.api_key = api_key
        self._steady = _RollingWindow(*steady_limit) if steady_limit else None
        self.job_reads = job_reads
        self.profiles: dict[str, dict[str, Any]] = {}
        self.by_email: dict[str, str] = {}
        self.lists: dict[str, set[str]] = {list_id: set() for list_id in list_ids}
        self.jobs: dict[str, dict[str, Any]] = {}
        self.invalid_emails = {k.lower(): v for k, v in (invalid_emails or {}).items()}
        self._next_id = 1

    # -- inspection ----------------------------------------------------------------
    def list_emails(self, list_id: str) -> set[str]:
        with self.lock:
            return {self.profiles[pid]["email"] for pid in self.lists[list_id]}

    def attributes_of(self, email: str) -> dict[str, Any]:
        with self.lock:
            return dict(self.profiles[self.by_email[email.lower()]])

    # -- contract ------------------------------------------------------------------
    def rate_limited_reply(self, retry_after: float) -> Reply:
        seconds = max(1, math.ceil(retry_after))
        reply = _error(
            429,
            "throttled",
            "Request was throttled.",
            f"Request was throttled. Expected available in {seconds} second.",
        )
        reply.headers["Retry-After"] = str(seconds)
        return reply

    def authenticate(self, request: Request) -> Reply | None:
        # `rate_limit` (the base class's window) is the burst limit; this is the steady one.
        if self._steady is not None and (wait := self._steady.admit()) is not None:
            self.rate_limited += 1
            return self.rate_limited_reply(wait)
        if request.headers.get("authorization") != f"Klaviyo-API-Key {self.api_key}":
            return _error(
                401,
                "not_authenticated",
                "Authentication credentials were not provided.",
                "Missing or invalid private key.",
            )
        if not REVISION_RE.match(request.headers.get("revision", "")):
            return _error(400, "invalid", "Invalid input.", "Missing or invalid revision header.")
        return None

    def route(self, request: Request) -> Reply:
        try:
            return self._route(request)
        except _FilterError as exc:
            return _error(400, "invalid", "Invalid input.", f"Invalid filter: {exc}")

    def _route(self, request: Request) -> Reply:
        path, method = request.path.rstrip("/"), request.method
        parts = path.strip("/").split("/")
        if path == "/api/accounts" and method == "GET":
            account = {"type": "account", "id": "AcCt01", "attributes": {"test_account": True}}
            return Reply(200, {"data": [account]})
        if path == JOBS and method == "POST":
            return self._create_job(request)
        if path == JOBS and method == "GET":
            jobs = [self._read_job(j) for j in self._filtered(self.jobs.values(), request)]
            return self._page(request, jobs)
        if parts[:2] == ["api", "profile-bulk-import-jobs"] and len(parts) >= 3:
            job = self.jobs.get(parts[2])
            if job is None:
                return _error(404, "not_found", "Not found.", f"Job {parts[2]} not found.")
            if len(parts) == 3 and method == "GET":
                return Reply(200, {"data": self._read_job(job)})
            if parts[3:] == ["import-errors"] and method == "GET":
                return self._page(request, job["errors"])
            if parts[3:] == ["profiles"] and method == "GET":
                return self._page(request, [self._view(pid) for pid in job["profile_ids"]])
        if path == "/api/data-privacy-deletion-jobs" and method == "POST":
            return self._deletion_job(request.json())
        if path == "/api/profiles" and method == "GET":
            views = [self._view(pid) for pid in self.profiles]
            return self._page(request, self._filtered(views, request))
        if parts[:2] == ["api", "lists"] and len(parts) >= 3:
            list_id = parts[2]
            if list_id not in self.lists:
                return _error(404, "not_found", "Not found.", f"List {list_id} does not exist.")
            if len(parts) == 3 and method == "GET":
                return Reply(200, {"data": {"type": "list", "id": list_id, "attributes": {}}})
            if parts[3:] == ["profiles"] and method == "GET":
                views = [self._view(pid) for pid in sorted(self.lists[list_id])]
                return self._page(request, self._filtered(views, request))
            if parts[3:] == ["relationships", "profiles"] and method in ("POST", "DELETE"):
                return self._relationships(list_id, method, request)
        return _error(404, "not_found", "Not found.", f"No route for {method} {path}")

    def _deletion_job(self, body: Any) -> Reply:
        data = body.get("data") if isinstance(body, dict) else None
        if not isinstance(data, dict) or data.get("type") != "data-privacy-deletion-job":
            return _error(
                400,
                "invalid",
                "Invalid input.",
                "data.type must be 'data-privacy-deletion-job'",
                "/data/type",
            )
        profile = ((data.get("attributes") or {}).get("profile") or {}).get("data") or {}
        given = {
            k: str(v).lower()
            for k, v in (profile.get("attributes") or {}).items()
            if k in ("email", "phone_number") and v
        }
        if profile.get("id"):
            given["id"] = str(profile["id"]).lower()
        if len(given) != 1:
            return _error(
                400,
                "invalid",
                "Invalid input.",
                "Exactly one of email, phone_number or id identifies the profile.",
                "/data/attributes/profile/data",
            )
        ((field, value),) = given.items()
        doomed = [
            pid
            for pid, attrs in self.profiles.items()
            if (pid.lower() if field == "id" else str(attrs.get(field, "")).lower()) == value
        ]
        writes = []
        for pid in doomed:
            email = self.profiles.pop(pid)["email"]
            self.by_email.pop(email, None)
            for members in self.lists.values():
                members.discard(pid)
            writes.append(("profile_delete", email))
        for job in self.jobs.values():
            job["profile_ids"] = [p for p in job["profile_ids"] if p not in doomed]
            job["errors"] = [
                e
                for e in job["errors"]
                if str(e["attributes"]["original_payload"].get(field, "")).lower() != value
            ]
        return Reply(202, None, writes=writes)

    # -- helpers -------------------------------------------------------------------
    def _view(self, pid: str) -> dict[str, Any]:
        return {"type": "profile", "id": pid, "attributes": dict(self.profiles[pid])}

    def _filtered(self, items: Any, request: Request) -> list[dict[str, Any]]:
        items = list(items)
        spec = request.query.get("filter")
        if spec is None:
            return items
        match = FILTER_RE.match(spec)
        if match is None:
            raise _FilterError(spec)
        op, field, raw = match.groups()
        try:
            values = json.loads(raw)
        except ValueError as exc:
            raise _FilterError(spec) from exc
        wanted = {str(v).lower() for v in (values if op == "any" else [values])}

        def value(item: dict[str, Any]) -> str:
            attributes = item.get("attributes", item)
            return str(attributes.get(field, "")).lower()

        return [item for item in items if value(item) in wanted]

    def _page(self, request: Request, items: list[dict[str, Any]]) -> Reply:
        try:
            size = int(request.query.get("page[size]", 20))
            start = int(request.query.get("page[cursor]", 0))
        except ValueError:
            return _error(400, "invalid", "Invalid input.", "page parameters must be integers")
        if not 1 <= size <= MAX_PAGE:
            return _error(
                400, "invalid", "Invalid input.", f"page[size] must be between 1 and {MAX_PAGE}"
            )
        data = items[start : start + size]
        links: dict[str, str | None] = {"self": f"{self.url}{request.path}", "next": None}
        if start + size < len(items):
            query = {**request.query, "page[cursor]": str(start + size)}
            links["next"] = f"{self.url}{request.path}?{urlencode(query)}"
        return Reply(200, {"data": data, "links": links})

    def _read_job(self, job: dict[str, Any]) -> dict[str, Any]:
        """A status read: the job moves on from queued/processing after `job_reads` reads."""
        if job["reads_left"] > 0:
            job["reads_left"] -= 1
            job["status"] = "processing"
        else:
            job["status"] = "complete"
            job["completed_at"] = job["completed_at"] or _now()
        total, failed = job["total_count"], len(job["errors"])
        done = job["status"] == "complete"
        return {
            "type": "profile-bulk-import-job",
            "id": job["id"],
            "attributes": {
                "status": job["status"],
                "created_at": job["created_at"],
                "total_count": total,
                "completed_count": total - failed if done else 0,
                "failed_count": failed if done else 0,
                "completed_at": job["completed_at"],
            },
        }

    def _upsert(self, attributes: dict[str, Any]) -> str:
        email = str(attributes["email"]).lower()
        pid = self.by_email.get(email)
        if pid is None:
            pid = f"01PROF{self._next_id:020d}"
            self._next_id += 1
            self.by_email[email] = pid
            self.profiles[pid] = {"email": email, "properties": {}}
        profile = self.profiles[pid]
        for name, value in attributes.items():
            if name == "properties":
                profile["properties"].update(
                    {k: v for k, v in (value or {}).items() if v is not None}
                )
            elif value is not None:  # bulk import never clears a field
                profile[name] = email if name == "email" else value
        return pid

    def _create_job(self, request: Request) -> Reply:
        if len(request.body) > MAX_JOB_BYTES:
            return _error(400, "invalid", "Invalid input.", "The payload exceeds 5MB.")
        body = request.json()
        data = body.get("data") if isinstance(body, dict) else None
        if not isinstance(data, dict) or data.get("type") != "profile-bulk-import-job":
            return _error(
                400,
                "invalid",
                "Invalid input.",
                "data.type must be 'profile-bulk-import-job'",
                "/data/type",
            )
        attributes = data.get("attributes") or {}
        profiles = (attributes.get("profiles") or {}).get("data")
        if not isinstance(profiles, list) or not profiles:
            return _error(
                400,
                "invalid",
                "Invalid input.",
                "profiles are required",
                "/data/attributes/profiles",
            )
        if len(profiles) > MAX_PROFILES_PER_JOB:
            return _error(
                400,
                "invalid",
                "Invalid input.",
                f"A job accepts at most {MAX_PROFILES_PER_JOB} profiles.",
                "/data/attributes/profiles/data",
            )
        list_ids = [
            str(item.get("id"))
            for item in ((data.get("relationships") or {}).get("lists") or {}).get("data") or []
        ]
        for list_id in list_ids:
            if list_id not in self.lists:
                return _error(404, "not_found", "Not found.", f"List {list_id} does not exist.")
        job_id = f"JOB{uuid.uuid4().hex[:20]}"
        errors, imported, writes = [], [], []
        for index, profile in enumerate(profiles):
            pointer = f"/data/attributes/profiles/data/{index}"
            attrs = profile.get("attributes") or {} if isinstance(profile, dict) else {}
            email = str(attrs.get("email") or "").lower()
            problem = self.invalid_emails.get(email)
            if problem is None and not EMAIL_RE.match(email):
                problem = f"Invalid email address: {email}"
            if problem is not None or profile.get("type") != "profile":
                errors.append(
                    {
                        "type": "import-error",
                        "id": str(uuid.uuid4()),
                        "attributes": {
                            "code": "invalid",
                            "title": "Invalid input.",
                            "detail": problem or "type must be 'profile'",
                            "source": {"pointer": pointer},
                            "original_payload": attrs,
                        },
                    }
                )
                continue
            pid = self._upsert(attrs)
            imported.append(pid)
            writes.append(("profile_import", email))
            for list_id in list_ids:
                self.lists[list_id].add(pid)
                writes.append(("list_add", email))
        self.jobs[job_id] = {
            "id": job_id,
            "status": "queued",
            "reads_left": self.job_reads,
            "created_at": _now(),
            "completed_at": None,
            "total_count": len(profiles),
            "errors": errors,
            "profile_ids": imported,
        }
        job = self.jobs[job_id]
        answer = {
            "type": "profile-bulk-import-job",
            "id": job_id,
            "attributes": {
                "status": "queued",
                "created_at": job["created_at"],
                "total_count": len(profiles),
                "completed_count": 0,
                "failed_count": 0,
                "completed_at": None,
            },
        }
        return Reply(202, {"data": answer}, writes=writes)

    def _relationships(self, list_id: str, method: str, request: Request) -> Reply:
        body = request.json()
        data = body.get("data") if isinstance(body, dict) else None
        if not isinstance(data, list) or not data:
            return _error(400, "invalid", "Invalid input.", "data is required")
        if len(data) > MAX_RELATIONSHIPS:
            return _error(
                400,
                "invalid",
                "Invalid input.",
                f"At most {MAX_RELATIONSHIPS} profiles per call.",
            )
        ids = [str(item.get("id")) for item in data if isinstance(item, dict)]
        unknown = [pid for pid in ids if pid not in self.profiles]
        if unknown or len(ids) != len(data):
            return _error(400, "invalid", "Invalid input.", f"Unknown profile ids: {unknown}")
        members = self.lists[list_id]
        kind = "list_add" if method == "POST" else "list_remove"
        for pid in ids:
            (members.add if method == "POST" else members.discard)(pid)
        return Reply(204, None, writes=[(kind, self.profiles[pid]["email"]) for pid in ids])


class _FilterError(ValueError):
    """A `filter` query parameter this server (and Klaviyo) cannot parse."""
