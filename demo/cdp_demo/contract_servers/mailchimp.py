"""A Mailchimp Marketing API 3.0 contract server (the subset the destination uses).

Enforced: HTTP Basic auth with the API key as password (401 problem+json
"API Key Invalid" otherwise); paths under /3.0; 500 members per batch
subscribe and per static-segment call (400 "Invalid Resource" otherwise);
member status values; permanent delete
(POST .../members/{subscriber_hash}/actions/delete-permanent: 204, 404 for no such
member) forgets the member, their merge fields and tags; email syntax per member
(reported in the batch response's "errors", the rest applied); optional rolling-window rate limit
(429 "Too Many Requests"). Errors use Mailchimp's problem-detail shape.

Records: `members` (subscriber hash -> member), `segments` (id -> name, member
hashes), and `deliveries` counted per lower-cased email with kinds
"member_upsert", "tag_add", "tag_remove", "member_delete".
"""

from __future__ import annotations

import base64
import hashlib
import re
import uuid
from typing import Any

from cdp_demo.contract_servers.server import ContractServer, Reply, Request

MAX_MEMBERS = 500
STATUSES = {"subscribed", "unsubscribed", "cleaned", "pending", "transactional"}
EMAIL_RE = re.compile(r"^[^@\s]+@[^@\s]+\.[A-Za-z]{2,}$")


def _problem(status: int, title: str, detail: str, **extra: Any) -> Reply:
    body = {
        "type": "https://mailchimp.com/developer/marketing/docs/errors/",
        "title": title,
        "status": status,
        "detail": detail,
        "instance": str(uuid.uuid4()),
        **extra,
    }
    return Reply(status, body, content_type="application/problem+json")


def _hash(email: str) -> str:
    return hashlib.md5(email.lower().encode()).hexdigest()


class MailchimpContractServer(ContractServer):
    name = "mailchimp"

    def __init__(
        self,
        api_key: str,
        *,
        list_id: str = "a1b2c3d4e5",
        tags: tuple[str, ...] = ("VIP",),
        rate_limit: tuple[int, float] | None = None,
        invalid_emails: dict[str, str] | None = None,
    ) -> None:
        super().__init__(rate_limit=rate_limit)
        self.api_key = api_key
        self.list_id = list_id
        self.members: dict[str, dict[str, Any]] = {}
        self.segments: dict[int, dict[str, Any]] = {
            1000 + i: {"name": tag, "members": set()} for i, tag in enumerate(tags)
        }
        self.invalid_emails = {k.lower(): v for k, v in (invalid_emails or {}).items()}

    @property
    def base_url(self) -> str:
        return self.url + "/3.0"

    # -- inspection ----------------------------------------------------------------
    def member_emails(self) -> set[str]:
        with self.lock:
            return {m["email_address"] for m in self.members.values()}

    def tagged_emails(self, tag: str) -> set[str]:
        with self.lock:
            for segment in self.segments.values():
                if segment["name"] == tag:
                    return {self.members[h]["email_address"] for h in segment["members"]}
        raise KeyError(tag)

    # -- contract ------------------------------------------------------------------
    def rate_limited_reply(self, retry_after: float) -> Reply:
        reply = _problem(429, "Too Many Requests", "You have exceeded the limit of requests.")
        reply.headers["Retry-After"] = str(max(1, round(retry_after + 0.5)))
        return reply

    def authenticate(self, request: Request) -> Reply | None:
        header = request.headers.get("authorization", "")
        password = None
        if header.startswith("Basic "):
            try:
                decoded = base64.b64decode(header[6:]).decode()
                password = decoded.split(":", 1)[1]
            except (ValueError, IndexError):
                password = None
        if password != self.api_key:
            return _problem(
                401,
                "API Key Invalid",
                "Your API key may be invalid, or you've attempted to access the wrong datacenter.",
            )
        return None

    def route(self, request: Request) -> Reply:
        parts = request.path.strip("/").split("/")
        if parts[:1] != ["3.0"]:
            return _problem(404, "Resource Not Found", "The requested resource could not be found.")
        parts = parts[1:]
        method = request.method
        if parts == ["ping"] and method == "GET":
            return Reply(200, {"health_status": "Everything's Chimpy!"})
        if len(parts) < 2 or parts[0] != "lists" or parts[1] != self.list_id:
            return _problem(404, "Resource Not Found", "The requested resource could not be found.")
        rest = parts[2:]
        if not rest and method == "GET":
            return Reply(200, {"id": self.list_id, "name": "Contract list"})
        if not rest and method == "POST":
            return self._batch_subscribe(request.json())
        if len(rest) == 2 and rest[0] == "members" and method == "GET":
            return self._get_member(rest[1])
        if (
            len(rest) == 4
            and rest[0] == "members"
            and rest[2:] == ["actions", "delete-permanent"]
            and method == "POST"
        ):
            return self._delete_permanent(rest[1])
        if rest == ["segments"] and method == "GET":
            return self._list_segments(request.query)
        if len(rest) == 2 and rest[0] == "segments" and method == "POST":
            return self._segment_members(rest[1], request.json())
        return _problem(
            405, "Method Not Allowed", "The requested method and resource are not compatible."
        )

    def _invalid(self, email: str) -> str | None:
        if email.lower() in self.invalid_emails:
            return self.invalid_emails[email.lower()]
        if not EMAIL_RE.match(email):
            return f"{email} looks fake or invalid, please enter a real email address."
        return None

    def _batch_subscribe(self, body: Any) -> Reply:
        members = body.get("members") if isinstance(body, dict) else None
        if not isinstance(members, list):
            return _problem(400, "Invalid Resource", "members is required.")
        if len(members) > MAX_MEMBERS:
            return _problem(
                400,
                "Invalid Resource",
                "The resource submitted could not be validated.",
                errors=[{"field": "members", "message": f"At most {MAX_MEMBERS} members."}],
            )
        update_existing = bool(body.get("update_existing"))
        new: list[dict[str, Any]] = []
        updated: list[dict[str, Any]] = []
        errors: list[dict[str, Any]] = []
        writes: list[tuple[str, str]] = []
        for member in members:
            email = str(member.get("email_address", ""))
            problem = self._invalid(email)
            if problem is None and member.get("status") not in STATUSES:
                problem = "Invalid status."
            if problem is not None:
                errors.append(
                    {"email_address": email, "error": problem, "error_code": "ERROR_GENERIC"}
                )
                continue
            key = _hash(email)
            existing = self.members.get(key)
            if existing is not None and not update_existing:
                errors.append(
                    {
                        "email_address": email,
                        "error": f"{email} is already a list member",
                        "error_code": "ERROR_CONTACT_EXISTS",
                    }
                )
                continue
            record = existing or {"id": key, "email_address": email.lower(), "merge_fields": {}}
            record["status"] = member["status"]
            record["merge_fields"] = {
                **record["merge_fields"],
                **(member.get("merge_fields") or {}),
            }
            self.members[key] = record
            (updated if existing else new).append(self._member_view(key))
            writes.append(("member_upsert", email.lower()))
        answer = {
            "new_members": new,
            "updated_members": updated,
            "errors": errors,
            "total_created": len(new),
            "total_updated": len(updated),
            "error_count": len(errors),
        }
        return Reply(200, answer, writes=writes)

    def _member_view(self, key: str) -> dict[str, Any]:
        record = self.members[key]
        tags = [
            {"id": seg_id, "name": seg["name"]}
            for seg_id, seg in sorted(self.segments.items())
            if key in seg["members"]
        ]
        return {**record, "list_id": self.list_id, "tags": tags}

    def _get_member(self, key: str) -> Reply:
        if key not in self.members:
            return _problem(404, "Resource Not Found", "The requested resource could not be found.")
        return Reply(200, self._member_view(key))

    def _delete_permanent(self, key: str) -> Reply:
        record = self.members.pop(key.lower(), None)
        if record is None:
            return _problem(404, "Resource Not Found", "The requested resource could not be found.")
        for segment in self.segments.values():
            segment["members"].discard(key.lower())
        return Reply(204, None, writes=[("member_delete", record["email_address"])])

    def _list_segments(self, query: dict[str, str]) -> Reply:
        count = min(int(query.get("count", 10)), 1000)
        offset = int(query.get("offset", 0))
        items = [
            {
                "id": seg_id,
                "name": seg["name"],
                "type": "static",
                "member_count": len(seg["members"]),
            }
            for seg_id, seg in sorted(self.segments.items())
        ]
        return Reply(200, {"segments": items[offset : offset + count], "total_items": len(items)})

    def _segment_members(self, segment: str, body: Any) -> Reply:
        seg = self.segments.get(int(segment)) if segment.isdigit() else None
        if seg is None:
            return _problem(404, "Resource Not Found", "The requested resource could not be found.")
        body = body if isinstance(body, dict) else {}
        to_add = body.get("members_to_add") or []
        to_remove = body.get("members_to_remove") or []
        if len(to_add) > MAX_MEMBERS or len(to_remove) > MAX_MEMBERS:
            return _problem(
                400,
                "Invalid Resource",
                "The resource submitted could not be validated.",
                errors=[{"field": "members_to_add", "message": f"At most {MAX_MEMBERS} emails."}],
            )
        # Documented: addresses that are not list members are ignored.
        added, removed, writes = [], [], []
        for email in to_add:
            key = _hash(email)
            if key in self.members:
                seg["members"].add(key)
                added.append(self._member_view(key))
                writes.append(("tag_add", email.lower()))
        for email in to_remove:
            key = _hash(email)
            if key in self.members:
                seg["members"].discard(key)
                removed.append(self._member_view(key))
                writes.append(("tag_remove", email.lower()))
        errors: list[dict[str, Any]] = []
        answer = {
            "members_added": added,
            "members_removed": removed,
            "errors": errors,
            "total_added": len(added),
            "total_removed": len(removed),
            "error_count": 0,
        }
        return Reply(200, answer, writes=writes)
