"""A HubSpot CRM v3 contract server (contacts batch upsert/read, MANUAL list membership).

Enforced: `Authorization: Bearer <token>` (401 INVALID_AUTHENTICATION otherwise);
100 inputs per batch call (400 VALIDATION_ERROR otherwise); `idProperty` must be
"email"; invalid emails fail per input in a 207 multi-status answer with HubSpot's
error shape; GDPR delete (POST .../contacts/gdpr-delete {"objectId", "idProperty"?}:
204; the contact, its properties and list memberships are forgotten; an unknown id is
404, an unknown email is blocklisted as HubSpot documents); a rolling 10-second limit
(default 190 requests) answered with 429 RATE_LIMIT / TEN_SECONDLY_ROLLING and
Retry-After; lists only accept record ids.

Records: `contacts` (record id -> properties), `lists` (list id -> member ids),
and `deliveries` counted per lower-cased email with kinds "contact_upsert",
"list_add", "list_remove", "gdpr_delete".
"""

from __future__ import annotations

import math
import re
import uuid
from datetime import UTC, datetime
from typing import Any

from cdp_demo.contract_servers.server import ContractServer, Reply, Request

MAX_INPUTS = 100
EMAIL_RE = re.compile(r"^[^@\s]+@[^@\s]+\.[A-Za-z]{2,}$")


def _error(status: int, category: str, message: str, **extra: Any) -> Reply:
    body = {
        "status": "error",
        "message": message,
        "correlationId": str(uuid.uuid4()),
        "category": category,
        **extra,
    }
    return Reply(status, body)


def _now() -> str:
    return datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z"


class HubSpotContractServer(ContractServer):
    name = "hubspot"

    def __init__(
        self,
        token: str,
        *,
        list_ids: tuple[str, ...] = ("42",),
        rate_limit: tuple[int, float] | None = (190, 10.0),
        retry_after_on_429: bool = True,
        invalid_emails: dict[str, str] | None = None,
    ) -> None:
        super().__init__(rate_limit=rate_limit)
        self.token = token
        self.retry_after_on_429 = retry_after_on_429
        self.contacts: dict[str, dict[str, Any]] = {}
        self.by_email: dict[str, str] = {}
        self.lists: dict[str, set[str]] = {list_id: set() for list_id in list_ids}
        self.invalid_emails = {k.lower(): v for k, v in (invalid_emails or {}).items()}
        self.blocklist: set[str] = set()
        self._next_id = 1001

    # -- inspection ----------------------------------------------------------------
    def contact_emails(self) -> set[str]:
        with self.lock:
            return set(self.by_email)

    def list_emails(self, list_id: str) -> set[str]:
        with self.lock:
            return {self.contacts[rid]["properties"]["email"] for rid in self.lists[list_id]}

    def properties_of(self, email: str) -> dict[str, str]:
        with self.lock:
            return dict(self.contacts[self.by_email[email.lower()]]["properties"])

    # -- contract ------------------------------------------------------------------
    def rate_limited_reply(self, retry_after: float) -> Reply:
        reply = _error(
            429,
            "RATE_LIMITS",
            "You have reached your ten_secondly_rolling limit.",
            errorType="RATE_LIMIT",
            policyName="TEN_SECONDLY_ROLLING",
        )
        if self.retry_after_on_429:
            reply.headers["Retry-After"] = str(max(1, math.ceil(retry_after)))
        return reply

    def authenticate(self, request: Request) -> Reply | None:
        if request.headers.get("authorization") != f"Bearer {self.token}":
            return _error(
                401,
                "INVALID_AUTHENTICATION",
                "Authentication credentials not found. This API supports OAuth 2.0 "
                "authentication and you can find more details at https://developers.hubspot.com/docs/methods/auth/oauth-overview",
            )
        return None

    def route(self, request: Request) -> Reply:
        path, method = request.path.rstrip("/"), request.method
        contacts = "/crm/v3/objects/contacts"
        if path == contacts and method == "GET":
            limit = int(request.query.get("limit", 10))
            results = [self._view(rid) for rid in list(self.contacts)[:limit]]
            return Reply(200, {"results": results})
        if path == f"{contacts}/batch/upsert" and method == "POST":
            return self._upsert(request.json())
        if path == f"{contacts}/batch/read" and method == "POST":
            return self._read(request.json())
        if path == f"{contacts}/gdpr-delete" and method == "POST":
            return self._gdpr_delete(request.json())
        parts = path.strip("/").split("/")
        if parts[:3] == ["crm", "v3", "lists"]:
            rest = parts[3:]
            if rest[:2] == ["records", "0-1"] and len(rest) == 4 and rest[3] == "memberships":
                return self._record_memberships(rest[2])
            if len(rest) == 1 and method == "GET":
                if rest[0] not in self.lists:
                    return _error(404, "OBJECT_NOT_FOUND", f"List {rest[0]} does not exist.")
                return Reply(200, {"list": {"listId": rest[0], "processingType": "MANUAL"}})
            if len(rest) == 3 and rest[1:] == ["memberships", "add-and-remove"] and method == "PUT":
                return self._membership(rest[0], request.json())
        return _error(404, "OBJECT_NOT_FOUND", f"No route for {method} {path}")

    def _view(self, rid: str, props: list[str] | None = None) -> dict[str, Any]:
        contact = self.contacts[rid]
        shown = contact["properties"]
        if props is not None:
            shown = {k: shown.get(k) for k in {*props, "email", "hs_object_id"}}
        return {
            "id": rid,
            "properties": shown,
            "createdAt": contact["createdAt"],
            "updatedAt": contact["updatedAt"],
            "archived": False,
        }

    def _too_many(self, inputs: list[Any]) -> Reply | None:
        if len(inputs) > MAX_INPUTS:
            return _error(
                400,
                "VALIDATION_ERROR",
                f"Batch input size {len(inputs)} exceeds the limit of {MAX_INPUTS}.",
            )
        return None

    def _upsert(self, body: Any) -> Reply:
        inputs = body.get("inputs") if isinstance(body, dict) else None
        if not isinstance(inputs, list):
            return _error(400, "VALIDATION_ERROR", "inputs is required")
        if (reply := self._too_many(inputs)) is not None:
            return reply
        started = _now()
        results, errors, writes = [], [], []
        for item in inputs:
            if item.get("idProperty") != "email":
                return _error(400, "VALIDATION_ERROR", "idProperty must be a unique property")
            email = str(item.get("id", "")).lower()
            problem = self.invalid_emails.get(email)
            if problem is None and not EMAIL_RE.match(email):
                problem = f"Email address {email} is invalid"
            if problem is not None:
                errors.append(
                    {
                        "status": "error",
                        "category": "VALIDATION_ERROR",
                        "message": f'Property values were not valid: [{{"isValid":false,'
                        f'"message":"{problem}","error":"INVALID_EMAIL","name":"email"}}]',
                        "context": {"ids": [email]},
                    }
                )
                continue
            known = self.by_email.get(email)
            new = known is None
            rid = known or str(self._next_id)
            if new:
                self._next_id += 1
                self.by_email[email] = rid
                self.contacts[rid] = {"properties": {"hs_object_id": rid}, "createdAt": _now()}
            contact = self.contacts[rid]
            props = {str(k): str(v) for k, v in (item.get("properties") or {}).items()}
            contact["properties"].update({**props, "email": email})
            contact["updatedAt"] = _now()
            results.append({**self._view(rid), "new": new})
            writes.append(("contact_upsert", email))
        answer: dict[str, Any] = {
            "status": "COMPLETE",
            "results": results,
            "startedAt": started,
            "completedAt": _now(),
        }
        if errors:
            answer["numErrors"] = len(errors)
            answer["errors"] = errors
        return Reply(207 if errors else 200, answer, writes=writes)

    def _read(self, body: Any) -> Reply:
        inputs = body.get("inputs") if isinstance(body, dict) else None
        if not isinstance(inputs, list):
            return _error(400, "VALIDATION_ERROR", "inputs is required")
        if (reply := self._too_many(inputs)) is not None:
            return reply
        props = [str(p) for p in body.get("properties") or []]
        results, missing = [], []
        for item in inputs:
            email = str(item.get("id", "")).lower()
            rid = self.by_email.get(email)
            if rid is None:
                missing.append(email)
            else:
                results.append(self._view(rid, props))
        answer: dict[str, Any] = {"status": "COMPLETE", "results": results}
        if missing:
            answer["numErrors"] = 1
            answer["errors"] = [
                {
                    "status": "error",
                    "category": "OBJECT_NOT_FOUND",
                    "message": "Could not get some CONTACT objects, they may be deleted or not "
                    "exist. Check that ids are valid.",
                    "context": {"ids": missing},
                }
            ]
        return Reply(207 if missing else 200, answer)

    def _gdpr_delete(self, body: Any) -> Reply:
        body = body if isinstance(body, dict) else {}
        object_id = str(body.get("objectId") or "")
        if not object_id:
            return _error(400, "VALIDATION_ERROR", "objectId is required")
        if body.get("idProperty") == "email":
            email = object_id.lower()
            rid = self.by_email.get(email)
            if rid is None:  # documented: an unknown address is blocklisted
                self.blocklist.add(email)
                return Reply(204)
        elif body.get("idProperty") not in (None, "hs_object_id"):
            return _error(400, "VALIDATION_ERROR", "idProperty must be email or hs_object_id")
        else:
            rid = object_id
        contact = self.contacts.pop(rid, None)
        if contact is None:
            return _error(404, "OBJECT_NOT_FOUND", f"Contact {rid} does not exist.")
        email = contact["properties"].get("email", "")
        self.by_email.pop(email, None)
        for members in self.lists.values():
            members.discard(rid)
        return Reply(204, writes=[("gdpr_delete", email)])

    def _membership(self, list_id: str, body: Any) -> Reply:
        if list_id not in self.lists:
            return _error(404, "OBJECT_NOT_FOUND", f"List {list_id} does not exist.")
        body = body if isinstance(body, dict) else {}
        to_add = [str(i) for i in body.get("recordIdsToAdd") or []]
        to_remove = [str(i) for i in body.get("recordIdsToRemove") or []]
        if len(to_add) + len(to_remove) > 100_000:
            return _error(400, "VALIDATION_ERROR", "At most 100000 record ids per request.")
        members = self.lists[list_id]
        added, removed, missing, writes = [], [], [], []
        for rid in to_add:
            if rid not in self.contacts:
                missing.append(rid)
                continue
            if rid not in members:  # documented: records already in the list are ignored
                added.append(rid)
            members.add(rid)
            writes.append(("list_add", self.contacts[rid]["properties"]["email"]))
        for rid in to_remove:
            if rid not in self.contacts:
                missing.append(rid)
                continue
            if rid in members:
                removed.append(rid)
            members.discard(rid)
            writes.append(("list_remove", self.contacts[rid]["properties"]["email"]))
        answer = {"recordIdsAdded": added, "recordIdsRemoved": removed, "recordIdsMissing": missing}
        return Reply(200, answer, writes=writes)

    def _record_memberships(self, rid: str) -> Reply:
        if rid not in self.contacts:
            return _error(404, "OBJECT_NOT_FOUND", f"Record {rid} does not exist.")
        results = [
            {"listId": list_id, "firstAddedTimestamp": None}
            for list_id, members in sorted(self.lists.items())
            if rid in members
        ]
        return Reply(200, {"results": results, "total": len(results)})
