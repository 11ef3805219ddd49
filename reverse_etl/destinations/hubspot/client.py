"""HubSpot client: contacts batch upsert by email and MANUAL list membership.

API calls (CRM v3, `Authorization: Bearer <private app token>`):
- POST /crm/v3/objects/contacts/batch/upsert
  {"inputs": [{"idProperty": "email", "id", "properties"}]} (<=100). 200, or 207
  multi-status with failures in "errors": [{"status", "category", "message",
  "context": {"ids": [...]}}].
- POST /crm/v3/objects/contacts/batch/read {"idProperty": "email", "inputs", "properties"}:
  read back.
- PUT /crm/v3/lists/{list_id}/memberships/add-and-remove {"recordIdsToAdd", "recordIdsToRemove"}
  -> {"recordIdsAdded", "recordIdsRemoved", "recordIdsMissing"}; takes record ids, so the
  ids returned by the upsert are kept in sync state.
- GET /crm/v3/lists/records/0-1/{record_id}/memberships: lists a contact belongs to (reconcile).
- POST /crm/v3/objects/contacts/gdpr-delete {"objectId": <record id>}: an erasure
  (Phase.ERASE, any mode) permanently deletes the contact; 204. Always by record id
  (read by email first when the state has none): given an email HubSpot does not
  know, it would blocklist the address, keeping it.
- GET /crm/v3/objects/contacts?limit=1 and GET /crm/v3/lists/{list_id}: check().

HubSpot's CRM endpoints take no idempotency key, so writes are not repeatable:
a timeout or 5xx on a write raises AmbiguousDeliveryError and the engine calls
`reconcile`, which reads the contacts (and their list memberships) back.
"""

from __future__ import annotations

from typing import Any

from reverse_etl.batch import Batch, BatchOutcome, Mode, Phase, Rejection, Row, SyncContext
from reverse_etl.destinations.base import Destination
from reverse_etl.destinations.hubspot.config import HubSpotSettings
from reverse_etl.errors import BatchRejectedError, DestinationError
from reverse_etl.http import HttpClient, error_snippet

EMAIL = "email"
CONTACTS = "/crm/v3/objects/contacts"
CONTACT_TYPE = "0-1"


def properties(payload: dict[str, Any]) -> dict[str, str]:
    """HubSpot property values are strings; an empty string clears a property."""
    return {k: "" if v is None else str(v) for k, v in payload.items()}


def _error_ids(error: dict[str, Any]) -> list[str]:
    context = error.get("context") or {}
    ids = context.get("ids") or context.get("id") or []
    return [str(i).lower() for i in ids]


class HubSpotDestination(Destination):
    settings_class = HubSpotSettings

    def __init__(self, settings: HubSpotSettings, context: SyncContext) -> None:
        super().__init__(settings, context)
        self.settings: HubSpotSettings = settings
        token = settings.resolve_secret("access_token_env", context.sync_name)
        self._http = self.http_client(
            base_url=settings.base_url or "https://api.hubapi.com",
            auth_field=settings.secret_label("access_token_env"),
            headers={
                "Authorization": f"Bearer {token.get_secret_value()}",
                "User-Agent": "cdp-reverse-etl",
            },
        )

    @property
    def http(self) -> HttpClient:
        return self._http

    # -- API calls -----------------------------------------------------------------
    def _answer(self, response: Any, what: str) -> dict[str, Any]:
        if response.status_code not in (200, 207):
            raise BatchRejectedError(self.label, f"{what} refused: {error_snippet(response)}")
        return response.json()

    def _upsert(self, rows: list[Row]) -> tuple[dict[str, str], dict[str, str]]:
        """Returns (email -> record id, email -> error message)."""
        inputs = [
            {"idProperty": EMAIL, "id": row.payload[EMAIL], "properties": properties(row.payload)}
            for row in rows
        ]
        response = self._http.request(
            "POST", f"{CONTACTS}/batch/upsert", json_body={"inputs": inputs}, repeatable=False
        )
        answer = self._answer(response, "contacts batch upsert")
        ids = {
            str(r["properties"].get(EMAIL, "")).lower(): str(r["id"])
            for r in answer.get("results") or []
        }
        errors: dict[str, str] = {}
        for error in answer.get("errors") or []:
            message = f"{error.get('category', 'ERROR')}: {error.get('message', '')}"
            for email in _error_ids(error):
                errors[email] = message
        return ids, errors

    def _read(self, emails: list[str]) -> dict[str, tuple[str, dict[str, str]]]:
        """email -> (record id, properties) for contacts that exist."""
        body = {
            "idProperty": EMAIL,
            "inputs": [{"id": e} for e in emails],
            "properties": list(self.context.fields),
        }
        response = self._http.request(
            "POST", f"{CONTACTS}/batch/read", json_body=body, repeatable=True
        )
        answer = self._answer(response, "contacts batch read")
        found = {}
        for result in answer.get("results") or []:
            props = {k: v for k, v in (result.get("properties") or {}).items() if v is not None}
            found[str(props.get(EMAIL, "")).lower()] = (str(result["id"]), props)
        return found

    def _membership(self, add: list[str], remove: list[str]) -> set[str]:
        """Change list membership; returns record ids HubSpot reported missing."""
        response = self._http.request(
            "PUT",
            f"/crm/v3/lists/{self.settings.list_id}/memberships/add-and-remove",
            json_body={"recordIdsToAdd": add, "recordIdsToRemove": remove},
            repeatable=False,
        )
        answer = self._answer(response, "list membership update")
        return {str(i) for i in answer.get("recordIdsMissing") or []}

    def _is_member(self, record_id: str) -> bool:
        response = self._http.request(
            "GET", f"/crm/v3/lists/records/{CONTACT_TYPE}/{record_id}/memberships", repeatable=True
        )
        if response.status_code == 404:
            return False
        answer = self._answer(response, "list membership read")
        return any(str(m.get("listId")) == self.settings.list_id for m in answer.get("results", []))

    # -- Destination -----------------------------------------------------------------
    def deliver(self, batch: Batch) -> BatchOutcome:
        outcome = BatchOutcome()
        rows = list(batch.rows)
        audience = batch.mode is Mode.AUDIENCE
        if batch.phase is Phase.ERASE:
            self._gdpr_delete(rows, outcome)
            return outcome
        if batch.phase is Phase.REMOVE:
            if audience:
                self._remove_from_list(rows, outcome)
            return outcome
        ids, errors = self._upsert(rows)
        upserted: list[tuple[Row, str]] = []
        for row in rows:
            email = row.payload[EMAIL].lower()
            if email in errors:
                outcome.rejected[row.key] = Rejection(f"HubSpot {errors[email]}")
            elif email in ids:
                upserted.append((row, ids[email]))
            else:
                outcome.rejected[row.key] = Rejection("HubSpot returned no result for this email")
        if audience and batch.phase is Phase.ADD and upserted:
            try:
                self._add_to_list(upserted, outcome)
            except DestinationError as exc:
                self.after_first_write(exc)
                raise
        else:
            outcome.acknowledged.update({row.key: rid for row, rid in upserted})
        return outcome

    def _add_to_list(self, rows: list[tuple[Row, str]], outcome: BatchOutcome) -> None:
        missing = self._membership([rid for _, rid in rows], [])
        for row, rid in rows:
            if rid in missing:
                outcome.rejected[row.key] = Rejection(f"HubSpot: record {rid} missing for list add")
            else:
                outcome.acknowledged[row.key] = rid

    def _gdpr_delete(self, rows: list[Row], outcome: BatchOutcome) -> None:
        """GDPR-delete each contact by record id; a contact HubSpot no longer has (by
        email) is already gone. Deleting twice answers 404: idempotent in effect."""
        found = self._read([row.payload[EMAIL] for row in rows])
        for row in rows:
            hit = found.get(row.payload[EMAIL].lower())
            if hit is None:
                outcome.acknowledged[row.key] = row.destination_id
                continue
            response = self._http.request(
                "POST",
                f"{CONTACTS}/gdpr-delete",
                json_body={"objectId": hit[0]},
                repeatable=True,
            )
            if response.status_code in (200, 204, 404):
                outcome.acknowledged[row.key] = hit[0]
            else:
                outcome.rejected[row.key] = Rejection(
                    f"HubSpot GDPR delete refused: {error_snippet(response)}"
                )

    def _remove_from_list(self, rows: list[Row], outcome: BatchOutcome) -> None:
        ids: dict[str, str | None] = {row.key: row.destination_id for row in rows}
        unknown = [row.payload[EMAIL] for row in rows if row.destination_id is None]
        if unknown:
            found = self._read(unknown)
            for row in rows:
                if row.destination_id is None:
                    hit = found.get(row.payload[EMAIL].lower())
                    ids[row.key] = hit[0] if hit else None
        to_remove = [rid for rid in ids.values() if rid is not None]
        if to_remove:
            self._membership([], to_remove)  # missing ids are not members: nothing to remove
        outcome.acknowledged.update(ids)

    def reconcile(self, batch: Batch) -> BatchOutcome:
        """Read contacts back; finish the list add for rows whose upsert landed."""
        outcome = BatchOutcome()
        audience = batch.mode is Mode.AUDIENCE
        found = self._read([row.payload[EMAIL] for row in batch.rows])
        to_add: list[tuple[Row, str]] = []
        for row in batch.rows:
            hit = found.get(row.payload[EMAIL].lower())
            if batch.phase is Phase.ERASE:
                if hit is None:
                    outcome.acknowledged[row.key] = row.destination_id
                else:
                    outcome.unapplied.add(row.key)
                continue
            if batch.phase is Phase.REMOVE:
                if hit is not None and audience and self._is_member(hit[0]):
                    outcome.unapplied.add(row.key)
                else:
                    outcome.acknowledged[row.key] = hit[0] if hit else row.destination_id
                continue
            wanted = properties(row.payload)
            if hit is None or any(hit[1].get(k, "") != v for k, v in wanted.items()):
                outcome.unapplied.add(row.key)
            elif audience and batch.phase is Phase.ADD and not self._is_member(hit[0]):
                to_add.append((row, hit[0]))
            else:
                outcome.acknowledged[row.key] = hit[0]
        if to_add:
            self._add_to_list(to_add, outcome)
        return outcome

    def check(self) -> None:
        """Read one contact with the token; in audience mode confirm the list exists."""
        response = self._http.request("GET", CONTACTS, params={"limit": 1}, repeatable=True)
        self._answer(response, "contacts read")
        if self.settings.list_id:
            response = self._http.request(
                "GET", f"/crm/v3/lists/{self.settings.list_id}", repeatable=True
            )
            if response.status_code == 404:
                raise DestinationError(
                    self.label, f"list_id: list {self.settings.list_id} does not exist"
                )
            self._answer(response, "list read")
