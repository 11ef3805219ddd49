"""Klaviyo client: profile upserts as bulk import jobs, list membership by profile id.

API calls (JSON:API, `Authorization: Klaviyo-API-Key <key>` and a `revision` header):
- POST /api/profile-bulk-import-jobs  {"data": {"type": "profile-bulk-import-job",
  "attributes": {"profiles": {"data": [{"type": "profile", "attributes": {...}}]}}}}
  (<= 10,000 profiles, 5 MB) -> 202 with the job id. The job runs asynchronously.
- GET /api/profile-bulk-import-jobs/{id}: status queued / processing / complete / cancelled,
  polled until final or `job_timeout_seconds` (never an unbounded loop).
- GET /api/profile-bulk-import-jobs/{id}/import-errors: per-profile errors in Klaviyo's
  error shape ({"code", "title", "detail", "source": {"pointer": ".../profiles/data/<i>"}}).
- GET /api/profile-bulk-import-jobs/{id}/profiles: the job's profiles (ids for the list).
- POST / DELETE /api/lists/{list_id}/relationships/profiles {"data": [{"type": "profile",
  "id"}]} (<= 1,000): add to / remove from the list. 204.
- GET /api/profiles?filter=any(email,[...]) and GET /api/lists/{id}/profiles?filter=...
  (100 per page): read back (reconcile, ids for removes).
- GET /api/profile-bulk-import-jobs?filter=any(status,["queued","processing"]): jobs still
  running (reconcile waits for them first).
- GET /api/accounts and GET /api/lists/{list_id}: check().
- POST /api/data-privacy-deletion-jobs {"data": {"type": "data-privacy-deletion-job",
  "attributes": {"profile": {"data": {"type": "profile", "attributes": {"email"}}}}}}
  -> 202: an erasure (Phase.ERASE, any mode) deletes every profile with the address
  (a GDPR deletion, asynchronous at Klaviyo); one call per person. Repeating it is
  harmless, so it is retried like a read.

Klaviyo takes no idempotency key, so writes are not repeatable. A write whose outcome
is unknown raises AmbiguousDeliveryError; `reconcile` first waits until no import job is
queued or processing (a job created by a crashed run finishes or is seen to), then reads
the profiles and the list back by email.
"""

from __future__ import annotations

import json
import re
import time
from collections.abc import Callable, Iterator
from typing import Any

from reverse_etl.batch import Batch, BatchOutcome, Mode, Phase, Rejection, Row, SyncContext
from reverse_etl.destinations.base import Destination
from reverse_etl.destinations.klaviyo.config import KlaviyoSettings
from reverse_etl.errors import AmbiguousDeliveryError, BatchRejectedError, DestinationError
from reverse_etl.http import HttpClient, error_snippet

EMAIL = "email"
JOBS = "/api/profile-bulk-import-jobs"
PROFILE_ATTRIBUTES = frozenset(
    {
        "email",
        "phone_number",
        "external_id",
        "first_name",
        "last_name",
        "organization",
        "title",
        "image",
        "locale",
    }
)
"""Standard profile attributes; every other field is sent as a custom property."""
PAGE_SIZE = 100  # the maximum page[size] of profile reads
RUNNING = ("queued", "processing")
POINTER = re.compile(r"/profiles/data/(\d+)")


def profile_attributes(payload: dict[str, Any]) -> dict[str, Any]:
    """A profile's attributes: standard ones at the top, the rest under `properties`.

    Null values are left out: a bulk import cannot clear a field (Klaviyo documents that
    nulls are ignored), so sending them would promise what the API does not do.
    """
    attributes: dict[str, Any] = {}
    properties: dict[str, Any] = {}
    for name, value in sorted(payload.items()):
        if value is None:
            continue
        (attributes if name in PROFILE_ATTRIBUTES else properties)[name] = value
    if properties:
        attributes["properties"] = properties
    return attributes


def _holds(profile: dict[str, Any], payload: dict[str, Any]) -> bool:
    """The profile holds every non-null value we send."""
    attributes = profile.get("attributes") or {}
    properties = attributes.get("properties") or {}
    for name, value in payload.items():
        if value is None:
            continue
        held = attributes.get(name) if name in PROFILE_ATTRIBUTES else properties.get(name)
        if name == EMAIL:
            held = str(held or "").lower()
        if held != value:
            return False
    return True


def _error_text(error: dict[str, Any]) -> str:
    return f"{error.get('code', 'error')}: {error.get('detail') or error.get('title') or ''}"


def _chunks(items: list[str], size: int) -> Iterator[list[str]]:
    for start in range(0, len(items), size):
        yield items[start : start + size]


def _any_filter(field: str, values: list[str]) -> str:
    return f"any({field},{json.dumps(values, separators=(',', ':'))})"


class KlaviyoDestination(Destination):
    settings_class = KlaviyoSettings

    def __init__(
        self,
        settings: KlaviyoSettings,
        context: SyncContext,
        *,
        sleep: Callable[[float], None] = time.sleep,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        super().__init__(settings, context)
        self.settings: KlaviyoSettings = settings
        self._sleep = sleep
        self._clock = clock
        key = settings.resolve_secret("api_key_env", context.sync_name)
        self._http = self.http_client(
            base_url=settings.base_url or "https://a.klaviyo.com",
            auth_field=settings.secret_label("api_key_env"),
            headers={
                "Authorization": f"Klaviyo-API-Key {key.get_secret_value()}",
                "revision": settings.revision,
                "Accept": "application/vnd.api+json",
                "Content-Type": "application/vnd.api+json",
                "User-Agent": "cdp-reverse-etl",
            },
        )

    @property
    def http(self) -> HttpClient:
        return self._http

    # -- API calls -----------------------------------------------------------------
    def _answer(self, response: Any, what: str) -> dict[str, Any]:
        if response.status_code not in (200, 201, 202, 204):
            raise BatchRejectedError(self.label, f"{what} refused: {self._describe(response)}")
        if response.status_code == 204 or not response.content:
            return {}
        return response.json()

    @staticmethod
    def _describe(response: Any) -> str:
        """Klaviyo's JSON:API errors as `code: detail`, else the raw snippet."""
        try:
            errors = response.json().get("errors") or []
        except (ValueError, AttributeError):
            errors = []
        if errors:
            return f"HTTP {response.status_code} " + "; ".join(_error_text(e) for e in errors)
        return error_snippet(response)

    def _pages(self, path: str, params: dict[str, str | int], what: str) -> list[dict[str, Any]]:
        """Every resource of a paginated GET, following links.next (bounded)."""
        found: list[dict[str, Any]] = []
        url: str | None = path
        query: dict[str, str | int] | None = params
        for _ in range(1000):  # 100,000 resources at most; far above one batch
            if url is None:
                break
            response = self._http.request("GET", url, params=query, repeatable=True)
            answer = self._answer(response, what)
            found.extend(answer.get("data") or [])
            url, query = (answer.get("links") or {}).get("next"), None
        return found

    def _start_import(self, rows: list[Row]) -> str:
        body = {
            "data": {
                "type": "profile-bulk-import-job",
                "attributes": {
                    "profiles": {
                        "data": [
                            {"type": "profile", "attributes": profile_attributes(row.payload)}
                            for row in rows
                        ]
                    }
                },
            }
        }
        response = self._http.request("POST", JOBS, json_body=body, repeatable=False)
        return str(self._answer(response, "bulk profile import")["data"]["id"])

    def _wait_for_job(self, job_id: str) -> dict[str, Any]:
        """Poll the job until it is complete or cancelled; bounded by job_timeout_seconds."""
        deadline = self._clock() + self.settings.job_timeout_seconds
        while True:
            response = self._http.request("GET", f"{JOBS}/{job_id}", repeatable=True)
            job = self._answer(response, "import job read")["data"]
            status = job["attributes"].get("status")
            if status not in RUNNING:
                return job
            if self._clock() >= deadline:
                raise AmbiguousDeliveryError(
                    self.label,
                    f"import job {job_id} still {status} after "
                    f"{self.settings.job_timeout_seconds:.0f}s (job_timeout_seconds)",
                )
            self._sleep(self.settings.poll_interval_seconds)

    def _import(self, rows: list[Row]) -> tuple[str, dict[str, str]]:
        """Run one import job; returns (job id, email -> error text for failed profiles)."""
        job_id = self._start_import(rows)
        try:
            job = self._wait_for_job(job_id)
            if job["attributes"].get("status") != "complete":
                raise BatchRejectedError(
                    self.label, f"import job {job_id} refused: {job['attributes'].get('status')}"
                )
            errors: dict[str, str] = {}
            if job["attributes"].get("failed_count"):
                for error in self._pages(
                    f"{JOBS}/{job_id}/import-errors", {"page[size]": PAGE_SIZE}, "import errors"
                ):
                    attributes = error.get("attributes") or error
                    pointer = str((attributes.get("source") or {}).get("pointer", ""))
                    match = POINTER.search(pointer)
                    if match and int(match.group(1)) < len(rows):
                        email = rows[int(match.group(1))].payload[EMAIL]
                        errors[email] = _error_text(attributes)
            return job_id, errors
        except DestinationError as exc:
            self.after_first_write(exc)
            raise

    def _job_profile_ids(self, job_id: str) -> dict[str, str]:
        profiles = self._pages(
            f"{JOBS}/{job_id}/profiles", {"page[size]": PAGE_SIZE}, "import job profiles"
        )
        return {str(p["attributes"].get(EMAIL, "")).lower(): str(p["id"]) for p in profiles}

    def _read_profiles(self, emails: list[str]) -> dict[str, dict[str, Any]]:
        """email -> profile resource, for the profiles that exist."""
        found: dict[str, dict[str, Any]] = {}
        for chunk in _chunks(emails, PAGE_SIZE):
            params: dict[str, str | int] = {
                "filter": _any_filter(EMAIL, chunk),
                "page[size]": PAGE_SIZE,
            }
            for profile in self._pages("/api/profiles", params, "profiles read"):
                found[str(profile["attributes"].get(EMAIL, "")).lower()] = profile
        return found

    def _list_members(self, emails: list[str]) -> set[str]:
        """The subset of `emails` that are members of the list."""
        members: set[str] = set()
        path = f"/api/lists/{self.settings.list_id}/profiles"
        for chunk in _chunks(emails, PAGE_SIZE):
            params: dict[str, str | int] = {
                "filter": _any_filter(EMAIL, chunk),
                "page[size]": PAGE_SIZE,
            }
            for profile in self._pages(path, params, "list members read"):
                members.add(str(profile["attributes"].get(EMAIL, "")).lower())
        return members

    def _membership(self, method: str, profile_ids: list[str]) -> None:
        body = {"data": [{"type": "profile", "id": pid} for pid in profile_ids]}
        what = "list add" if method == "POST" else "list remove"
        response = self._http.request(
            method,
            f"/api/lists/{self.settings.list_id}/relationships/profiles",
            json_body=body,
            repeatable=False,
        )
        self._answer(response, what)

    # -- Destination -----------------------------------------------------------------
    def deliver(self, batch: Batch) -> BatchOutcome:
        outcome = BatchOutcome()
        rows = list(batch.rows)
        audience = batch.mode is Mode.AUDIENCE
        if batch.phase is Phase.ERASE:
            for row in rows:
                self._request_deletion(row)
                outcome.acknowledged[row.key] = row.destination_id
            return outcome
        if batch.phase is Phase.REMOVE:
            if audience:
                self._remove_from_list(rows, outcome)
            return outcome
        job_id, errors = self._import(rows)
        imported = []
        for row in rows:
            email = row.payload[EMAIL]
            if email in errors:
                outcome.rejected[row.key] = Rejection(f"Klaviyo {errors[email]}")
            else:
                imported.append(row)
        if audience and batch.phase is Phase.ADD and imported:
            try:
                ids = self._job_profile_ids(job_id)
                self._add_to_list(imported, ids, outcome)
            except DestinationError as exc:
                self.after_first_write(exc)
                raise
        else:
            outcome.acknowledged.update({row.key: None for row in imported})
        return outcome

    def _add_to_list(self, rows: list[Row], ids: dict[str, str], outcome: BatchOutcome) -> None:
        adding = []
        for row in rows:
            profile_id = ids.get(row.payload[EMAIL])
            if profile_id is None:
                outcome.rejected[row.key] = Rejection("Klaviyo: the import returned no profile")
            else:
                adding.append((row, profile_id))
        if adding:
            self._membership("POST", [pid for _, pid in adding])
        outcome.acknowledged.update({row.key: pid for row, pid in adding})

    def _request_deletion(self, row: Row) -> None:
        profile = {"type": "profile", "attributes": {EMAIL: row.payload[EMAIL]}}
        body = {
            "data": {
                "type": "data-privacy-deletion-job",
                "attributes": {"profile": {"data": profile}},
            }
        }
        response = self._http.request(
            "POST", "/api/data-privacy-deletion-jobs", json_body=body, repeatable=True
        )
        self._answer(response, "profile deletion request")

    def _remove_from_list(self, rows: list[Row], outcome: BatchOutcome) -> None:
        ids: dict[str, str | None] = {row.key: row.destination_id for row in rows}
        unknown = [row.payload[EMAIL] for row in rows if row.destination_id is None]
        if unknown:
            found = self._read_profiles(unknown)
            for row in rows:
                if row.destination_id is None:
                    profile = found.get(row.payload[EMAIL])
                    ids[row.key] = str(profile["id"]) if profile else None
        to_remove = sorted({pid for pid in ids.values() if pid is not None})
        if to_remove:
            self._membership("DELETE", to_remove)
        outcome.acknowledged.update(ids)  # a profile that does not exist is not a member

    def _wait_for_running_jobs(self) -> None:
        """Until no import job is queued or processing (bounded): a job created by a run
        that crashed must have landed, or visibly not, before profiles are read back."""
        deadline = self._clock() + self.settings.job_timeout_seconds
        params: dict[str, str | int] = {"filter": _any_filter("status", list(RUNNING))}
        while self._pages(JOBS, params, "import jobs read"):
            if self._clock() >= deadline:
                raise AmbiguousDeliveryError(
                    self.label,
                    "import jobs still running after "
                    f"{self.settings.job_timeout_seconds:.0f}s (job_timeout_seconds)",
                )
            self._sleep(self.settings.poll_interval_seconds)

    def reconcile(self, batch: Batch) -> BatchOutcome:
        """Wait for running import jobs, read profiles (and list membership) back by email;
        finish the list add for rows whose import landed."""
        outcome = BatchOutcome()
        audience = batch.mode is Mode.AUDIENCE
        emails = [row.payload[EMAIL] for row in batch.rows]
        if batch.phase not in (Phase.REMOVE, Phase.ERASE):
            self._wait_for_running_jobs()
        found = self._read_profiles(emails)
        members = self._list_members(emails) if audience else set()
        to_add: list[Row] = []
        for row in batch.rows:
            email = row.payload[EMAIL]
            profile = found.get(email)
            profile_id = str(profile["id"]) if profile else None
            if batch.phase is Phase.ERASE:
                if profile is None:
                    outcome.acknowledged[row.key] = row.destination_id
                else:  # not requested yet, or Klaviyo has not finished the deletion
                    outcome.unapplied.add(row.key)
            elif batch.phase is Phase.REMOVE:
                if audience and email in members:
                    outcome.unapplied.add(row.key)
                else:
                    outcome.acknowledged[row.key] = profile_id or row.destination_id
            elif profile is None or not _holds(profile, row.payload):
                outcome.unapplied.add(row.key)
            elif audience and batch.phase is Phase.ADD and email not in members:
                to_add.append(row)
            else:
                outcome.acknowledged[row.key] = profile_id
        if to_add:
            ids = {r.payload[EMAIL]: str(found[r.payload[EMAIL]]["id"]) for r in to_add}
            self._add_to_list(to_add, ids, outcome)
        return outcome

    def check(self) -> None:
        """Read the account with the key; in audience mode confirm the list exists."""
        self._answer(self._http.request("GET", "/api/accounts", repeatable=True), "account read")
        if self.settings.list_id:
            response = self._http.request(
                "GET", f"/api/lists/{self.settings.list_id}", repeatable=True
            )
            if response.status_code == 404:
                raise DestinationError(
                    self.label, f"list_id: list {self.settings.list_id} does not exist"
                )
            self._answer(response, "list read")
