"""Google Ads Customer Match client: one offline user data job per batch.

API calls (Google Ads REST, `Authorization: Bearer <OAuth token>`, `developer-token`,
optional `login-customer-id`), under /{version}/customers/{customer_id}:
- POST offlineUserDataJobs:create {"job": {"type": "CUSTOMER_MATCH_USER_LIST",
  "externalId", "customerMatchUserListMetadata": {"userList", "consent"?}}}
  -> {"resourceName"}.
- POST offlineUserDataJobs/{id}:addOperations {"operations": [{"create" | "remove":
  {"userIdentifiers": [{"hashedEmail"}, {"hashedPhoneNumber"}]}}], "enablePartialFailure"}
  -> {"partialFailureError"?: {"code", "message", "details": [GoogleAdsFailure]}}.
- POST offlineUserDataJobs/{id}:run -> a long-running operation.
- POST googleAds:search {"query": GAQL}: the job's status (PENDING, RUNNING,
  SUCCESS, FAILED), polled with a deadline; the user list for check().

Errors come as {"error": {"code", "message", "status", "details": [GoogleAdsFailure]}}.

Exactly-once: the job's `externalId` is derived from the batch (id, phase and
keys), and membership changes only when a job is *run*. A batch whose answer was
lost is reconciled by searching jobs by that externalId: a job that ran (RUNNING
or SUCCESS) means applied, so nothing is sent again; only PENDING or FAILED jobs
(or none) mean not applied, and such a job is abandoned, never run.
"""

from __future__ import annotations

import hashlib
import re
import time
from typing import Any

import requests

from reverse_etl.batch import Batch, BatchOutcome, Phase, Rejection, Row, SyncContext
from reverse_etl.destinations.base import Destination
from reverse_etl.destinations.google_ads_customer_match.config import (
    GoogleAdsCustomerMatchSettings,
)
from reverse_etl.errors import BatchRejectedError, DestinationError
from reverse_etl.http import HttpClient

SHA256_HEX = re.compile(r"^[0-9a-f]{64}$")
JOB_FIELDS = (
    "offline_user_data_job.resource_name, offline_user_data_job.status, "
    "offline_user_data_job.external_id, offline_user_data_job.failure_reason"
)


def external_id(batch: Batch) -> int:
    """A positive int64 naming this batch's job (same batch -> same id)."""
    seed = f"{batch.batch_id}:{batch.phase.value}:{','.join(batch.keys)}"
    return int(hashlib.sha256(seed.encode()).hexdigest()[:15], 16)


def google_error(response: requests.Response) -> str:
    """HTTP status, status name, message and the first GoogleAdsFailure error codes."""
    try:
        error = response.json().get("error") or {}
    except (ValueError, AttributeError):
        return f"HTTP {response.status_code}"
    codes = [
        f"{next(iter(e.get('errorCode', {}).items()), ('', ''))[1]}: {e.get('message', '')}"
        for detail in error.get("details") or []
        for e in (detail.get("errors") or [])[:3]
    ]
    text = f"HTTP {response.status_code} {error.get('status', '')}: {error.get('message', '')}"
    return text + (f" ({'; '.join(codes)})" if codes else "")


def operation_failures(failure: dict[str, Any] | None) -> dict[int, str]:
    """Operation index -> reason, from a partialFailureError's GoogleAdsFailure details."""
    found: dict[int, str] = {}
    for detail in (failure or {}).get("details") or []:
        for error in detail.get("errors") or []:
            path = (error.get("location") or {}).get("fieldPathElements") or []
            index = next((p.get("index") for p in path if p.get("fieldName") == "operations"), None)
            if index is None:
                continue
            code = "/".join(f"{k}={v}" for k, v in (error.get("errorCode") or {}).items())
            found.setdefault(int(index), f"{code}: {error.get('message', '')}".strip(": "))
    return found


class GoogleAdsCustomerMatchDestination(Destination):
    settings_class = GoogleAdsCustomerMatchSettings

    def __init__(self, settings: GoogleAdsCustomerMatchSettings, context: SyncContext) -> None:
        super().__init__(settings, context)
        self.settings: GoogleAdsCustomerMatchSettings = settings
        token = settings.resolve_secret("access_token_env", context.sync_name)
        developer = settings.resolve_secret("developer_token_env", context.sync_name)
        headers = {
            "Authorization": f"Bearer {token.get_secret_value()}",
            "developer-token": developer.get_secret_value(),
            "User-Agent": "cdp-reverse-etl",
        }
        if settings.login_customer_id:
            headers["login-customer-id"] = settings.login_customer_id
        self._http = self.http_client(
            base_url=settings.base_url or "https://googleads.googleapis.com",
            auth_field=(
                f"{settings.secret_label('access_token_env')} or "
                f"{settings.secret_label('developer_token_env')}"
            ),
            headers=headers,
        )
        self._identifiers = sorted(context.fields)
        self._customer = f"/{settings.api_version}/customers/{settings.customer_id}"
        self._user_list = f"customers/{settings.customer_id}/userLists/{settings.user_list_id}"

    @property
    def http(self) -> HttpClient:
        return self._http

    # -- API calls -------------------------------------------------------------------
    def _post(self, path: str, body: Any, what: str, *, repeatable: bool) -> dict[str, Any]:
        response = self._http.request(
            "POST", f"{self._customer}/{path}", json_body=body, repeatable=repeatable
        )
        if response.status_code != 200:
            raise BatchRejectedError(self.label, f"{what} refused: {google_error(response)}")
        answer = response.json()
        return answer if isinstance(answer, dict) else {}

    def _search(self, query: str, what: str) -> list[dict[str, Any]]:
        answer = self._post("googleAds:search", {"query": query}, what, repeatable=True)
        return list(answer.get("results") or [])

    def _create_job(self, ext_id: int) -> str:
        metadata: dict[str, Any] = {"userList": self._user_list}
        consent = {
            "adUserData": self.settings.ad_user_data_consent,
            "adPersonalization": self.settings.ad_personalization_consent,
        }
        if any(consent.values()):
            metadata["consent"] = {k: v for k, v in consent.items() if v}
        job = {
            "type": "CUSTOMER_MATCH_USER_LIST",
            "externalId": str(ext_id),
            "customerMatchUserListMetadata": metadata,
        }
        # Creating a job applies nothing: an extra PENDING job is never run, so the
        # call may be repeated after a timeout.
        answer = self._post(
            "offlineUserDataJobs:create", {"job": job}, "job create", repeatable=True
        )
        return str(answer["resourceName"])

    def _jobs(self, ext_id: int) -> list[dict[str, Any]]:
        query = (
            f"SELECT {JOB_FIELDS} FROM offline_user_data_job "
            f"WHERE offline_user_data_job.external_id = {ext_id}"
        )
        return [r.get("offlineUserDataJob") or {} for r in self._search(query, "job search")]

    def _job(self, resource: str) -> dict[str, Any]:
        query = (
            f"SELECT {JOB_FIELDS} FROM offline_user_data_job "
            f"WHERE offline_user_data_job.resource_name = '{resource}'"
        )
        results = self._search(query, "job status read")
        if not results:
            raise DestinationError(self.label, f"job {resource} not found")
        return dict(results[0].get("offlineUserDataJob") or {})

    def _wait(self, resource: str) -> None:
        """Poll the job until SUCCESS; FAILED or the deadline raise (batch kept)."""
        deadline = time.monotonic() + self.settings.poll_timeout_seconds
        interval = self.settings.poll_interval_seconds
        while True:
            job = self._job(resource)
            status = job.get("status")
            if status == "SUCCESS":
                return
            if status == "FAILED":
                error = DestinationError(
                    self.label,
                    f"job {resource} FAILED ({job.get('failureReason', 'UNKNOWN')}); the "
                    "next run resends the batch",
                )
                error.maybe_applied = True
                raise error
            if time.monotonic() + interval > deadline:
                error = DestinationError(
                    self.label,
                    f"job {resource} still {status} after {self.settings.poll_timeout_seconds:g}"
                    " s (poll_timeout_seconds); the next run checks it again",
                )
                error.maybe_applied = True
                raise error
            time.sleep(interval)
            interval = min(interval * 2, 60.0)

    def _operations(self, batch: Batch, outcome: BatchOutcome) -> list[tuple[Row, dict[str, Any]]]:
        """(row, operation) for rows safe to send; anything but hashes never leaves."""
        kind = "remove" if batch.phase in (Phase.REMOVE, Phase.ERASE) else "create"
        pairs = []
        for row in batch.rows:
            values = {k: row.payload.get(k) for k in self._identifiers}
            present = {k: str(v) for k, v in values.items() if v not in (None, "")}
            if not present or any(not SHA256_HEX.match(v) for v in present.values()):
                outcome.rejected[row.key] = Rejection(
                    "not sent: identifiers must be SHA-256 hex hashes", retryable=False
                )
                continue
            identifiers = [{k: v} for k, v in present.items()]
            pairs.append((row, {kind: {"userIdentifiers": identifiers}}))
        return pairs

    # -- Destination -------------------------------------------------------------------
    def deliver(self, batch: Batch) -> BatchOutcome:
        outcome = BatchOutcome()
        pairs = self._operations(batch, outcome)
        if not pairs:
            return outcome
        job = self._create_job(external_id(batch))
        body = {
            "operations": [op for _, op in pairs],
            "enablePartialFailure": self.settings.enable_partial_failure,
        }
        # Not repeatable: a lost answer leaves the job PENDING with unknown contents;
        # the engine then reconciles, and a PENDING job is abandoned, never run.
        answer = self._post(
            f"offlineUserDataJobs/{job.rsplit('/', 1)[1]}:addOperations",
            body,
            "addOperations",
            repeatable=False,
        )
        failures = operation_failures(answer.get("partialFailureError"))
        applied = []
        for index, (row, _) in enumerate(pairs):
            if index in failures:
                outcome.rejected[row.key] = Rejection(f"Google Ads: {failures[index]}")
            else:
                applied.append(row)
        if not applied:
            return outcome  # nothing to run: the empty job stays PENDING
        self._post(f"offlineUserDataJobs/{job.rsplit('/', 1)[1]}:run", {}, "run", repeatable=False)
        try:
            self._wait(job)
        except DestinationError as exc:
            self.after_first_write(exc)
            raise
        outcome.acknowledged.update({row.key: None for row in applied})
        return outcome

    def reconcile(self, batch: Batch) -> BatchOutcome:
        """Find the batch's job by externalId: ran means applied, otherwise not."""
        outcome = BatchOutcome()
        pairs = self._operations(batch, outcome)
        if not pairs:
            return outcome
        jobs = self._jobs(external_id(batch))
        ran = [j for j in jobs if j.get("status") in ("SUCCESS", "RUNNING")]
        if ran:
            finished = [j for j in ran if j.get("status") == "SUCCESS"]
            if not finished:
                self._wait(str(ran[0].get("resourceName")))
            # A row refused by addOperations in that job cannot be told apart here:
            # it is recorded as applied (see README, "What is not guaranteed").
            outcome.acknowledged.update({row.key: None for row, _ in pairs})
        else:
            outcome.unapplied.update(row.key for row, _ in pairs)
        return outcome

    def check(self) -> None:
        """Read the user list with the credentials; it must be a CRM-based list."""
        query = (
            "SELECT user_list.id, user_list.name, user_list.type, "
            "user_list.membership_status FROM user_list "
            f"WHERE user_list.id = {self.settings.user_list_id}"
        )
        results = self._search(query, "user list read")
        if not results:
            raise DestinationError(
                self.label, f"user_list_id: user list {self.settings.user_list_id} not found"
            )
        kind = (results[0].get("userList") or {}).get("type")
        if kind not in (None, "CRM_BASED"):
            raise DestinationError(
                self.label,
                f"user_list_id: user list {self.settings.user_list_id} is {kind}, "
                "not a Customer Match (CRM_BASED) list",
            )
