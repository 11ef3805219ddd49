"""Mailchimp client: batch subscribe (upsert) members and tag membership via static segments.

API calls (Marketing API 3.0, HTTP Basic auth with the API key as password):
- POST /lists/{list_id}  {"members": [...<=500], "update_existing": true}: upsert;
  per-member failures come back in "errors": [{"email_address", "error", "error_code"}].
- POST /lists/{list_id}/segments/{segment_id} {"members_to_add"|"members_to_remove": [...<=500]}:
  a tag is a static segment; adding an address tags it, removing untags it.
- GET /lists/{list_id}/segments?type=static: find the tag's segment id by name.
- GET /lists/{list_id}/members/{subscriber_hash}: read back one member (reconcile).
- POST /lists/{list_id}/members/{subscriber_hash}/actions/delete-permanent: an erasure
  (Phase.ERASE, any mode) deletes the member and their data for good; 204, or 404
  when there is no such member (already gone, so acknowledged).
- GET /ping, GET /lists/{list_id}: check().

Mailchimp has no idempotency keys, so writes are not repeatable: a timeout or
5xx on a write raises AmbiguousDeliveryError and the engine calls `reconcile`,
which reads every member of the batch back and compares merge fields and tags.
"""

from __future__ import annotations

import hashlib
from typing import Any

from reverse_etl.batch import Batch, BatchOutcome, Mode, Phase, Rejection, Row, SyncContext
from reverse_etl.destinations.base import Destination
from reverse_etl.destinations.mailchimp.config import MailchimpSettings
from reverse_etl.errors import BatchRejectedError, ConfigError, DestinationError
from reverse_etl.http import HttpClient, error_snippet

EMAIL = "email_address"


def subscriber_hash(email: str) -> str:
    """Mailchimp's member id: MD5 of the lower-cased address."""
    return hashlib.md5(email.lower().encode()).hexdigest()


def merge_value(value: Any) -> str:
    """Merge fields are sent as text; null clears the field."""
    return "" if value is None else str(value)


def merge_fields(payload: dict[str, Any]) -> dict[str, str]:
    return {k: merge_value(v) for k, v in payload.items() if k != EMAIL}


def _fields_match(member: dict[str, Any], payload: dict[str, Any]) -> bool:
    """The member holds every merge field we send (the list may have others)."""
    held = member.get("merge_fields") or {}
    return all(held.get(k) == v for k, v in merge_fields(payload).items())


class MailchimpDestination(Destination):
    settings_class = MailchimpSettings

    def __init__(self, settings: MailchimpSettings, context: SyncContext) -> None:
        super().__init__(settings, context)
        self.settings: MailchimpSettings = settings
        key = settings.resolve_secret("api_key_env", context.sync_name)
        base_url = settings.base_url
        if base_url is None:
            prefix = settings.server_prefix
            if prefix is None:
                suffix = key.get_secret_value().rsplit("-", 1)
                if len(suffix) != 2 or not suffix[1]:
                    raise ConfigError(
                        f"sync '{context.sync_name}': mailchimp destination: api_key_env: the "
                        "key has no '-<dc>' suffix; set server_prefix (e.g. us6)"
                    )
                prefix = suffix[1]
            base_url = f"https://{prefix}.api.mailchimp.com/3.0"
        self._http = self.http_client(
            base_url=base_url,
            auth_field=settings.secret_label("api_key_env"),
            auth=("cdp", key.get_secret_value()),
            headers={"User-Agent": "cdp-reverse-etl"},
        )
        self._segment_id: int | None = None
        self._list = f"/lists/{settings.list_id}"

    @property
    def http(self) -> HttpClient:
        return self._http

    # -- API calls -----------------------------------------------------------------
    def _json(self, response: Any, what: str) -> dict[str, Any]:
        if response.status_code != 200:
            raise BatchRejectedError(self.label, f"{what} refused: {error_snippet(response)}")
        return response.json()

    def segment_id(self) -> int:
        """The static segment behind the configured tag (looked up once, by name)."""
        if self._segment_id is not None:
            return self._segment_id
        offset = 0
        while True:
            response = self._http.request(
                "GET",
                f"{self._list}/segments",
                params={"type": "static", "count": 1000, "offset": offset},
                repeatable=True,
            )
            page = self._json(response, "segment lookup")
            segments = page.get("segments") or []
            for segment in segments:
                if segment.get("name") == self.settings.tag:
                    self._segment_id = int(segment["id"])
                    return self._segment_id
            offset += len(segments)
            if not segments or offset >= int(page.get("total_items") or 0):
                raise DestinationError(
                    self.label,
                    f"tag '{self.settings.tag}' does not exist in list {self.settings.list_id}; "
                    "create it in Mailchimp first",
                )

    def _upsert(self, rows: list[Row]) -> dict[str, str]:
        """Batch subscribe; returns email -> error for members Mailchimp refused."""
        body = {
            "members": [
                {
                    EMAIL: row.payload[EMAIL],
                    "status": self.settings.member_status,
                    "merge_fields": merge_fields(row.payload),
                }
                for row in rows
            ],
            "update_existing": True,
        }
        response = self._http.request("POST", self._list, json_body=body, repeatable=False)
        answer = self._json(response, "batch subscribe")
        return {
            str(e.get(EMAIL, "")).lower(): str(e.get("error") or e.get("error_code") or "error")
            for e in answer.get("errors") or []
        }

    def _tag(self, emails: list[str], *, add: bool) -> dict[str, str]:
        """Tag or untag addresses; returns email -> error."""
        field = "members_to_add" if add else "members_to_remove"
        response = self._http.request(
            "POST",
            f"{self._list}/segments/{self.segment_id()}",
            json_body={field: emails},
            repeatable=False,
        )
        answer = self._json(response, "tag update")
        failed: dict[str, str] = {}
        for error in answer.get("errors") or []:
            for email in error.get("email_addresses") or []:
                failed[str(email).lower()] = str(error.get("error") or "error")
        return failed

    def _read_member(self, email: str) -> dict[str, Any] | None:
        response = self._http.request(
            "GET",
            f"{self._list}/members/{subscriber_hash(email)}",
            params={"fields": "email_address,status,merge_fields,tags"},
            repeatable=True,
        )
        if response.status_code == 404:
            return None
        return self._json(response, "member read")

    # -- Destination -----------------------------------------------------------------
    def deliver(self, batch: Batch) -> BatchOutcome:
        outcome = BatchOutcome()
        rows = list(batch.rows)
        audience = batch.mode is Mode.AUDIENCE
        if audience:
            self.segment_id()  # resolve the tag before the first write
        if batch.phase is Phase.ERASE:
            for row in rows:
                self._delete_permanently(row, outcome)
            return outcome
        if batch.phase is Phase.REMOVE:
            if audience:
                self._tag_rows(rows, add=False, outcome=outcome)
            return outcome
        errors = self._upsert(rows)
        upserted = []
        for row in rows:
            error = errors.get(row.payload[EMAIL].lower())
            if error is not None:
                outcome.rejected[row.key] = Rejection(f"Mailchimp: {error}")
            else:
                upserted.append(row)
        if audience and batch.phase is Phase.ADD and upserted:
            try:
                self._tag_rows(upserted, add=True, outcome=outcome)
            except DestinationError as exc:
                self.after_first_write(exc)
                raise
        else:
            outcome.acknowledged.update({row.key: None for row in upserted})
        return outcome

    def _delete_permanently(self, row: Row, outcome: BatchOutcome) -> None:
        """Permanent delete is idempotent in effect (a second call finds no member),
        so a timeout is retried like a read."""
        response = self._http.request(
            "POST",
            f"{self._list}/members/{subscriber_hash(row.payload[EMAIL])}/actions/delete-permanent",
            repeatable=True,
        )
        if response.status_code in (200, 204, 404):
            outcome.acknowledged[row.key] = None
        else:
            outcome.rejected[row.key] = Rejection(
                f"Mailchimp permanent delete refused: {error_snippet(response)}"
            )

    def _tag_rows(self, rows: list[Row], *, add: bool, outcome: BatchOutcome) -> None:
        errors = self._tag([row.payload[EMAIL] for row in rows], add=add)
        for row in rows:
            error = errors.get(row.payload[EMAIL].lower())
            if error is not None:
                outcome.rejected[row.key] = Rejection(f"Mailchimp tag: {error}")
            else:
                outcome.acknowledged[row.key] = None

    def reconcile(self, batch: Batch) -> BatchOutcome:
        """Read each member back; finish the tag step for rows whose upsert landed."""
        outcome = BatchOutcome()
        tag = self.settings.tag
        audience = batch.mode is Mode.AUDIENCE
        to_tag: list[Row] = []
        for row in batch.rows:
            member = self._read_member(row.payload[EMAIL])
            tagged = member is not None and any(t.get("name") == tag for t in member["tags"])
            if batch.phase is Phase.ERASE:
                if member is None:
                    outcome.acknowledged[row.key] = None
                else:
                    outcome.unapplied.add(row.key)
                continue
            if batch.phase is Phase.REMOVE:
                if tagged:
                    outcome.unapplied.add(row.key)
                else:
                    outcome.acknowledged[row.key] = None
                continue
            if member is None or not _fields_match(member, row.payload):
                outcome.unapplied.add(row.key)
            elif audience and batch.phase is Phase.ADD and not tagged:
                to_tag.append(row)
            else:
                outcome.acknowledged[row.key] = None
        if to_tag:
            self._tag_rows(to_tag, add=True, outcome=outcome)
        return outcome

    def check(self) -> None:
        """Ping with the key, confirm the list exists, and that the tag resolves."""
        self._json(self._http.request("GET", "/ping", repeatable=True), "ping")
        response = self._http.request("GET", self._list, repeatable=True)
        if response.status_code == 404:
            raise DestinationError(
                self.label, f"list_id: list {self.settings.list_id} does not exist"
            )
        self._json(response, "list lookup")
        if self.context.mode is Mode.AUDIENCE:
            self.segment_id()
