"""A Meta Marketing API contract server for customer-list Custom Audiences.

Enforced: an access token (`Authorization: Bearer` or `access_token`), else HTTP 400
with error 190 OAuthException; paths /v<major>.<minor>/{audience_id}[/users|/sessions];
the users payload `{"schema", "data"}` with at most 10,000 rows (error 100 otherwise);
known schema keys only; every identifier must be a 64-character lower-case SHA-256
hex string: anything else (a plaintext email, say) is an invalid entry, counted in
`num_invalid_entries`, listed in `invalid_entry_samples`, never stored, and counted
in `unhashed_received`; an optional rolling-window limit answered the way the
Marketing API throttles an ad account (HTTP 400, error 80003, with
X-Business-Use-Case-Usage). Errors use Graph's
`{"error": {"message", "type", "code", "error_subcode", "fbtrace_id"}}`.

Upload sessions: every users call may carry `session` {session_id, batch_seq,
last_batch_flag, estimated_num_total}; the server keeps per session the counts
Meta documents for CustomAudienceSession (num_received, num_invalid_entries,
num_matched, stage) and serves them at GET /{audience_id}/sessions?session_id=N.

Records: `members` (member key -> {schema key: hash}; the key is the EMAIL hash),
`sessions`, and `deliveries` counted per EMAIL hash with kinds "member_add" and
"member_remove": every entry an accepted call carried counts, including a re-add
of a member already present (Meta answers such a call like any other), so a
client that resends shows up as a double delivery.
"""

from __future__ import annotations

import json
import math
import re
import time
import uuid
from typing import Any

from cdp_demo.contract_servers.server import ContractServer, Reply, Request

MAX_USERS = 10_000
SHA256_HEX = re.compile(r"^[0-9a-f]{64}$")
HASHED_KEYS = frozenset(
    {
        "EMAIL",
        "PHONE",
        "FN",
        "LN",
        "FI",
        "CT",
        "ST",
        "ZIP",
        "COUNTRY",
        "DOBY",
        "DOBM",
        "DOBD",
        "GEN",
    }
)
VERSION = re.compile(r"^v[0-9]+\.[0-9]+$")


def graph_error(
    message: str,
    *,
    code: int = 100,
    error_type: str = "OAuthException",
    subcode: int | None = None,
    status: int = 400,
) -> Reply:
    error: dict[str, Any] = {
        "message": message,
        "type": error_type,
        "code": code,
        "fbtrace_id": uuid.uuid4().hex[:11],
    }
    if subcode is not None:
        error["error_subcode"] = subcode
    return Reply(status, {"error": error})


def _param(value: Any) -> Any:
    """Graph takes JSON parameters either as objects or as JSON-encoded strings."""
    if isinstance(value, str):
        try:
            return json.loads(value)
        except ValueError:
            return value
    return value


class MetaContractServer(ContractServer):
    name = "meta"

    def __init__(
        self,
        token: str,
        *,
        audience_id: str = "23850000000000001",
        rate_limit: tuple[int, float] | None = None,
        refused: dict[str, str] | None = None,
    ) -> None:
        super().__init__(rate_limit=rate_limit)
        self.token = token
        self.audience_id = audience_id
        self.members: dict[str, dict[str, str]] = {}
        self.sessions: dict[str, dict[str, Any]] = {}
        self.refused = dict(refused or {})  # hash -> reason Meta gives for the entry
        self.unhashed_received = 0

    # -- inspection ----------------------------------------------------------------
    def member_hashes(self) -> set[str]:
        with self.lock:
            return set(self.members)

    # -- contract ------------------------------------------------------------------
    def authenticate(self, request: Request) -> Reply | None:
        header = request.headers.get("authorization", "")
        token = header[7:] if header.startswith("Bearer ") else request.query.get("access_token")
        if token != self.token:
            return graph_error("Invalid OAuth access token - Cannot parse access token", code=190)
        return None

    def rate_limited_reply(self, retry_after: float) -> Reply:
        usage = {
            "act_1": [
                {
                    "type": "custom_audience",
                    "call_count": 100,
                    "total_cputime": 30,
                    "total_time": 40,
                    "estimated_time_to_regain_access": math.floor(retry_after / 60),
                }
            ]
        }
        reply = graph_error(
            "There have been too many calls to this ad-account. Wait a bit and try again.",
            code=80003,
        )
        reply.headers["X-Business-Use-Case-Usage"] = json.dumps(usage)
        return reply

    def route(self, request: Request) -> Reply:
        parts = request.path.strip("/").split("/")
        if len(parts) < 2 or not VERSION.match(parts[0]):
            return graph_error("Unknown path components", code=2500)
        node, edge = parts[1], parts[2:]
        if node != self.audience_id:
            return graph_error(
                f"Unsupported {request.method.lower()} request. Object with ID '{node}' does "
                "not exist, cannot be loaded due to missing permissions, or does not support "
                "this operation.",
                subcode=33,
            )
        if not edge and request.method == "GET":
            return Reply(
                200,
                {
                    "id": self.audience_id,
                    "name": "Contract server audience",
                    "subtype": "CUSTOM",
                    "operation_status": {"code": 200, "description": "Normal"},
                },
            )
        if edge == ["users"] and request.method in ("POST", "DELETE"):
            return self._users(request)
        if edge == ["sessions"] and request.method == "GET":
            sid = request.query.get("session_id")
            found = [self.sessions[sid]] if sid in self.sessions else []
            if sid is None:
                found = list(self.sessions.values())
            return Reply(200, {"data": found, "paging": {}})
        return graph_error(f"Unsupported {request.method.lower()} request.", subcode=33)

    def _users(self, request: Request) -> Reply:
        try:
            body = request.json()
        except ValueError:
            return graph_error("(#100) Invalid JSON body")
        body = body if isinstance(body, dict) else {}
        payload = _param(body.get("payload"))
        if not isinstance(payload, dict):
            return graph_error("(#100) The parameter payload is required")
        schema = payload.get("schema")
        schema = [schema] if isinstance(schema, str) else schema
        data = payload.get("data")
        if not isinstance(schema, list) or not schema or not isinstance(data, list):
            return graph_error("(#100) payload must have schema and data")
        unknown = [k for k in schema if k not in HASHED_KEYS]
        if unknown:
            return graph_error(f"(#100) Invalid schema keys: {', '.join(map(str, unknown))}")
        if len(data) > MAX_USERS:
            return graph_error(
                f"(#100) Too many users in one request: {len(data)}; at most {MAX_USERS}"
            )
        adding = request.method == "POST"
        invalid: dict[str, str] = {}
        writes: list[tuple[str, str]] = []
        for raw in data:
            entry = [raw] if isinstance(raw, str) else raw
            label = ",".join(map(str, entry)) if isinstance(entry, list) else str(raw)
            reason = self._problem(schema, entry)
            if reason is not None:
                invalid[label] = reason
                continue
            values = dict(zip(schema, entry, strict=True))
            key = values.get("EMAIL") or label
            if adding:
                self.members[key] = {k: v for k, v in values.items() if v}
            else:
                self.members.pop(key, None)
            writes.append(("member_add" if adding else "member_remove", key))
        session = _param(body.get("session"))
        sid = self._record_session(session, len(data), len(invalid))
        answer = {
            "audience_id": self.audience_id,
            "session_id": sid,
            "num_received": len(data),
            "num_invalid_entries": len(invalid),
            "invalid_entry_samples": dict(list(invalid.items())[:100]),
        }
        return Reply(200, answer, writes=writes)

    def _problem(self, schema: list[str], entry: Any) -> str | None:
        if not isinstance(entry, list) or len(entry) != len(schema):
            return "entry does not match the schema"
        values = [str(v) for v in entry if v not in (None, "")]
        if not values:
            return "empty entry"
        for value in values:
            if not SHA256_HEX.match(value):
                self.unhashed_received += 1
                return "value is not a SHA-256 hash"
            if value in self.refused:
                return self.refused[value]
        return None

    def _record_session(self, session: Any, received: int, invalid: int) -> str:
        if not isinstance(session, dict) or "session_id" not in session:
            return str(uuid.uuid4().int % 2**62)
        sid = str(session["session_id"])
        now = str(int(time.time()))
        record = self.sessions.setdefault(
            sid,
            {
                "session_id": sid,
                "start_time": now,
                "end_time": None,
                "num_received": "0",
                "num_invalid_entries": "0",
                "num_matched": "0",
                "progress": "0",
                "stage": "uploading",
            },
        )
        record["num_received"] = str(int(record["num_received"]) + received)
        record["num_invalid_entries"] = str(int(record["num_invalid_entries"]) + invalid)
        record["num_matched"] = str(int(record["num_matched"]) + received - invalid)
        if session.get("last_batch_flag"):
            record["stage"], record["progress"], record["end_time"] = "finished", "100", now
        return sid
