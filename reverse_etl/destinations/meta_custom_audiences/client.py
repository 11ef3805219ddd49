"""Meta Custom Audiences client: hashed members added and removed, one call per batch.

API calls (Graph API, `Authorization: Bearer <access token>`):
- POST   /{version}/{audience_id}/users   add members
- DELETE /{version}/{audience_id}/users   remove members
  body {"payload": {"schema": ["EMAIL", "PHONE"], "data": [[sha256, sha256], ...]},
        "session": {"session_id", "batch_seq": 1, "last_batch_flag": true,
                    "estimated_num_total"}}, at most 10,000 rows; answer
  {"audience_id", "session_id", "num_received", "num_invalid_entries",
   "invalid_entry_samples"}.
- GET /{version}/{audience_id}/sessions?session_id=N: the upload session (reconcile).
- GET /{version}/{audience_id}?fields=id,name,subtype,operation_status: check().

Errors come as {"error": {"message", "type", "code", "error_subcode", "fbtrace_id"}}.
Codes 102/190 (bad token) become `AuthError`; throttling codes (4, 17, 32, 613,
80003) are waited out like a 429, since a throttled call was not applied.

Exactly-once: the users edge takes no idempotency key and the audience cannot be
read back, but every call carries an upload *session* whose id is derived from
the batch (id, phase and keys). A write whose answer was lost is reconciled by
reading that session: if Meta received the batch's rows, the batch was applied
and is not sent again; if the session does not exist, nothing was applied.
"""

from __future__ import annotations

import hashlib
import json
import re
import time
from typing import Any

import requests

from reverse_etl.batch import Batch, BatchOutcome, Phase, Rejection, Row, SyncContext
from reverse_etl.destinations.base import Destination
from reverse_etl.destinations.meta_custom_audiences.config import MetaCustomAudiencesSettings
from reverse_etl.errors import AuthError, BatchRejectedError, DestinationError, RateLimitedError
from reverse_etl.http import HttpClient

SHA256_HEX = re.compile(r"^[0-9a-f]{64}$")
AUTH_CODES = frozenset({102, 190})
THROTTLE_CODES = frozenset({4, 17, 32, 613, 80003})


def session_id(batch: Batch) -> int:
    """A positive int64 naming this batch's upload session (same batch -> same id)."""
    seed = f"{batch.batch_id}:{batch.phase.value}:{','.join(batch.keys)}"
    return int(hashlib.sha256(seed.encode()).hexdigest()[:15], 16)


def meta_error(response: requests.Response) -> dict[str, Any]:
    try:
        body = response.json()
    except ValueError:
        return {}
    error = body.get("error") if isinstance(body, dict) else None
    return error if isinstance(error, dict) else {}


def describe(error: dict[str, Any], status: int) -> str:
    code = error.get("code", "?")
    sub = error.get("error_subcode")
    parts = [f"HTTP {status}, Meta error {code}" + (f"/{sub}" if sub else "")]
    if error.get("type"):
        parts.append(str(error["type"]))
    message = error.get("error_user_msg") or error.get("message")
    if message:
        parts.append(str(message)[:200])
    if error.get("fbtrace_id"):
        parts.append(f"fbtrace_id {error['fbtrace_id']}")
    return ": ".join(parts)


def _regain_seconds(response: requests.Response) -> float | None:
    """Minutes until the ad account is unthrottled, from X-Business-Use-Case-Usage."""
    raw = response.headers.get("X-Business-Use-Case-Usage")
    if not raw:
        return None
    try:
        usage = json.loads(raw)
        minutes = max(
            float(entry.get("estimated_time_to_regain_access") or 0)
            for entries in usage.values()
            for entry in entries
        )
    except (ValueError, AttributeError, TypeError):
        return None
    return minutes * 60 if minutes > 0 else None


class MetaCustomAudiencesDestination(Destination):
    settings_class = MetaCustomAudiencesSettings

    def __init__(self, settings: MetaCustomAudiencesSettings, context: SyncContext) -> None:
        super().__init__(settings, context)
        self.settings: MetaCustomAudiencesSettings = settings
        token = settings.resolve_secret("access_token_env", context.sync_name)
        self._http = self.http_client(
            base_url=settings.base_url or "https://graph.facebook.com",
            auth_field=settings.secret_label("access_token_env"),
            headers={
                "Authorization": f"Bearer {token.get_secret_value()}",
                "User-Agent": "cdp-reverse-etl",
            },
        )
        self._schema = sorted(context.fields)  # the payload's keys, in a fixed order
        self._node = f"/{settings.api_version}/{settings.audience_id}"

    @property
    def http(self) -> HttpClient:
        return self._http

    # -- API calls -------------------------------------------------------------------
    def _call(
        self,
        method: str,
        path: str,
        what: str,
        *,
        repeatable: bool,
        json_body: Any = None,
        params: dict[str, str | int] | None = None,
    ) -> dict[str, Any]:
        """One Graph call; throttling answers are waited out (bounded), errors raised."""
        retry = self.settings.retry
        throttled = 0
        while True:
            response = self._http.request(
                method, path, json_body=json_body, params=params, repeatable=repeatable
            )
            if response.status_code == 200:
                answer = response.json()
                return answer if isinstance(answer, dict) else {}
            error = meta_error(response)
            code = error.get("code")
            if code in AUTH_CODES:
                raise AuthError(self.label, self._http.auth_field, f"Meta error {code}")
            if code not in THROTTLE_CODES:
                raise BatchRejectedError(
                    self.label, f"{what} refused: {describe(error, response.status_code)}"
                )
            throttled += 1
            wait = _regain_seconds(response) or retry.backoff(throttled)
            if throttled > retry.max_rate_limited_waits or wait > retry.max_retry_after_seconds:
                raise RateLimitedError(
                    self.label, f"{what}: throttled ({describe(error, response.status_code)})"
                )
            time.sleep(wait)

    def _entry(self, row: Row) -> list[str] | None:
        """The row's hashes in schema order, or None if any value is not a SHA-256 hex."""
        values = ["" if row.payload.get(k) is None else str(row.payload[k]) for k in self._schema]
        if not any(values) or any(v and not SHA256_HEX.match(v) for v in values):
            return None
        return values

    def _split(self, batch: Batch, outcome: BatchOutcome) -> list[tuple[Row, list[str]]]:
        """Rows safe to send; anything but hashes is rejected here and never leaves."""
        sendable = []
        for row in batch.rows:
            entry = self._entry(row)
            if entry is None:
                outcome.rejected[row.key] = Rejection(
                    "not sent: identifiers must be SHA-256 hex hashes", retryable=False
                )
            else:
                sendable.append((row, entry))
        return sendable

    # -- Destination -------------------------------------------------------------------
    def deliver(self, batch: Batch) -> BatchOutcome:
        outcome = BatchOutcome()
        sendable = self._split(batch, outcome)
        if not sendable:
            return outcome
        body = {
            "payload": {"schema": self._schema, "data": [entry for _, entry in sendable]},
            "session": {
                "session_id": session_id(batch),
                "batch_seq": 1,
                "last_batch_flag": True,
                "estimated_num_total": len(sendable),
            },
        }
        # Removes and erasures leave the audience; adds and changes (new match keys)
        # are added. The audience is the only place the API holds the hashes.
        method = "DELETE" if batch.phase in (Phase.REMOVE, Phase.ERASE) else "POST"
        answer = self._call(
            method, f"{self._node}/users", f"users {method}", json_body=body, repeatable=False
        )
        invalid = self._invalid(answer, sendable)
        for row, _ in sendable:
            if row.key in invalid:
                outcome.rejected[row.key] = Rejection(f"Meta invalid entry: {invalid[row.key]}")
            else:
                outcome.acknowledged[row.key] = None
        return outcome

    @staticmethod
    def _invalid(answer: dict[str, Any], sendable: list[tuple[Row, list[str]]]) -> dict[str, str]:
        """key -> reason for rows named in `invalid_entry_samples` (Meta sends samples:
        an invalid row missing from them is counted but cannot be identified)."""
        samples = answer.get("invalid_entry_samples") or {}
        if isinstance(samples, list):
            samples = {str(s): "invalid entry" for s in samples}
        found: dict[str, str] = {}
        for sample, reason in samples.items():
            for row, entry in sendable:
                if any(v and v in str(sample) for v in entry):
                    found[row.key] = str(reason)
        return found

    def reconcile(self, batch: Batch) -> BatchOutcome:
        """Read the batch's upload session: received means applied, absent means not."""
        outcome = BatchOutcome()
        sendable = self._split(batch, outcome)
        if not sendable:
            return outcome
        sid = str(session_id(batch))
        answer = self._call(
            "GET",
            f"{self._node}/sessions",
            "upload session read",
            params={"session_id": sid},
            repeatable=True,
        )
        sessions = [s for s in answer.get("data") or [] if str(s.get("session_id")) == sid]
        received = sum(int(s.get("num_received") or 0) for s in sessions)
        invalid = sum(int(s.get("num_invalid_entries") or 0) for s in sessions)
        if received >= len(sendable) and invalid == 0:
            outcome.acknowledged.update({row.key: None for row, _ in sendable})
        else:
            # Not received (or some entries refused and we cannot tell which): send
            # again. Adding or removing a member is idempotent at Meta.
            outcome.unapplied.update(row.key for row, _ in sendable)
        return outcome

    def check(self) -> None:
        """Read the audience with the token; it must be a customer-list audience."""
        try:
            answer = self._call(
                "GET",
                self._node,
                "custom audience read",
                params={"fields": "id,name,subtype,operation_status"},
                repeatable=True,
            )
        except BatchRejectedError as exc:
            raise DestinationError(
                self.label,
                f"audience_id: custom audience {self.settings.audience_id} cannot be read "
                f"({str(exc).removeprefix(self.label + ': ')})",
            ) from exc
        subtype = answer.get("subtype")
        if subtype not in (None, "CUSTOM"):
            raise DestinationError(
                self.label,
                f"audience_id: audience {self.settings.audience_id} is a {subtype} audience, "
                "not a customer list (CUSTOM)",
            )
