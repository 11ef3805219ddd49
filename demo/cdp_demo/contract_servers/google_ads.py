"""A Google Ads API (REST) contract server for Customer Match offline user data jobs.

Enforced: `Authorization: Bearer <token>` and the `developer-token` header (401
UNAUTHENTICATED otherwise); `login-customer-id`, when the server is given one;
paths /v<N>/customers/{customer_id}/...; jobs of type CUSTOMER_MATCH_USER_LIST
for a user list that exists; operations only on PENDING jobs; a job runs once;
at most 100,000 user identifiers per addOperations request and 20 per operation
(TOO_MANY_USER_IDENTIFIERS otherwise); only hashedEmail / hashedPhoneNumber
identifiers, each a 64-character lower-case SHA-256 hex string (anything else is
INVALID_SHA256_FORMAT and counted in `unhashed_received`); invalid operations are
reported per operation in `partialFailureError` when `enablePartialFailure` is set,
otherwise the whole request fails and nothing is added; an optional rolling-window
limit answered with 429 RESOURCE_EXHAUSTED. Errors use Google's
`{"error": {"code", "message", "status", "details": [GoogleAdsFailure]}}`.

Jobs are applied when run (membership changes then; the job then keeps only its
metadata and the number of operations, as the API shows a job: no identifiers), and
report RUNNING for the next `run_polls` status reads before SUCCESS. GAQL is
understood only as far as the client uses it:
`FROM offline_user_data_job WHERE ...external_id = N` or
`...resource_name = '...'`, and `FROM user_list WHERE user_list.id = N`.

Records: `members` (user list id -> {member key: identifiers}; the key is the
hashedEmail), `jobs`, and `deliveries` counted per hashedEmail with kinds
"member_add" and "member_remove", one for every operation a run applied,
including re-adding a member already in the list.
"""

from __future__ import annotations

import itertools
import re
import uuid
from typing import Any

from cdp_demo.contract_servers.server import ContractServer, Reply, Request

MAX_IDENTIFIERS_PER_REQUEST = 100_000
MAX_IDENTIFIERS_PER_OPERATION = 20
SHA256_HEX = re.compile(r"^[0-9a-f]{64}$")
IDENTIFIER_KINDS = ("hashedEmail", "hashedPhoneNumber")
VERSION = re.compile(r"^v[0-9]+$")
CONDITION = re.compile(r"([a-z_.]+)\s*=\s*('([^']*)'|[0-9]+)")

STATUS_NAMES = {400: "INVALID_ARGUMENT", 401: "UNAUTHENTICATED", 403: "PERMISSION_DENIED"}
STATUS_NAMES |= {404: "NOT_FOUND", 429: "RESOURCE_EXHAUSTED"}


def ads_error(
    status: int, error_code: dict[str, str], message: str, errors: list[Any] | None = None
) -> Reply:
    """Google's error body with one GoogleAdsFailure detail."""
    failure = errors if errors is not None else [{"errorCode": error_code, "message": message}]
    body = {
        "error": {
            "code": status,
            "message": "Request contains an invalid argument." if status == 400 else message,
            "status": STATUS_NAMES.get(status, "UNKNOWN"),
            "details": [
                {
                    "@type": "type.googleapis.com/google.ads.googleads.v21.errors.GoogleAdsFailure",
                    "errors": failure,
                    "requestId": uuid.uuid4().hex[:22],
                }
            ],
        }
    }
    return Reply(status, body)


def _op_error(index: int, kind: str, code: dict[str, str], message: str) -> dict[str, Any]:
    return {
        "errorCode": code,
        "message": message,
        "location": {
            "fieldPathElements": [
                {"fieldName": "operations", "index": index},
                {"fieldName": kind},
                {"fieldName": "user_identifiers"},
            ]
        },
    }


class GoogleAdsContractServer(ContractServer):
    name = "google_ads"

    def __init__(
        self,
        access_token: str,
        developer_token: str,
        *,
        customer_id: str = "1234567890",
        user_list_ids: tuple[str, ...] = ("4000000001",),
        login_customer_id: str | None = None,
        rate_limit: tuple[int, float] | None = None,
        refused: dict[str, str] | None = None,
        run_polls: int = 1,
    ) -> None:
        super().__init__(rate_limit=rate_limit)
        self.access_token = access_token
        self.developer_token = developer_token
        self.customer_id = customer_id
        self.login_customer_id = login_customer_id
        self.members: dict[str, dict[str, dict[str, str]]] = {u: {} for u in user_list_ids}
        self.jobs: dict[str, dict[str, Any]] = {}
        self.refused = dict(refused or {})  # hash -> reason the operation is refused with
        self.run_polls = run_polls
        self.unhashed_received = 0
        self.external_id_searches = 0
        self._ids = itertools.count(700_000_001)

    @property
    def user_list_id(self) -> str:
        return next(iter(self.members))

    # -- inspection ----------------------------------------------------------------
    def member_hashes(self, user_list_id: str | None = None) -> set[str]:
        with self.lock:
            return set(self.members[user_list_id or self.user_list_id])

    # -- contract ------------------------------------------------------------------
    def authenticate(self, request: Request) -> Reply | None:
        if request.headers.get("authorization") != f"Bearer {self.access_token}":
            return ads_error(
                401,
                {"authenticationError": "OAUTH_TOKEN_INVALID"},
                "Request had invalid authentication credentials.",
            )
        if request.headers.get("developer-token") != self.developer_token:
            return ads_error(
                401,
                {"authenticationError": "DEVELOPER_TOKEN_INVALID"},
                "The developer token is not valid.",
            )
        if self.login_customer_id and request.headers.get("login-customer-id") != (
            self.login_customer_id
        ):
            return ads_error(
                403,
                {"authorizationError": "USER_PERMISSION_DENIED"},
                "User doesn't have permission to access customer. Note: If you're accessing "
                "a client customer, the manager's customer ID must be set in the "
                "'login-customer-id' header.",
            )
        return None

    def rate_limited_reply(self, retry_after: float) -> Reply:
        seconds = max(1, round(retry_after))
        errors = [
            {
                "errorCode": {"quotaError": "RESOURCE_EXHAUSTED"},
                "message": f"Too many requests. Retry in {seconds} seconds.",
                "details": {
                    "quotaErrorDetails": {
                        "rateScope": "DEVELOPER",
                        "rateName": "Number of operations for basic access",
                        "retryDelay": f"{seconds}s",
                    }
                },
            }
        ]
        return ads_error(429, {}, "Resource has been exhausted (e.g. check quota).", errors)

    def route(self, request: Request) -> Reply:
        parts = request.path.strip("/").split("/")
        if (
            request.method != "POST"
            or len(parts) < 4
            or not VERSION.match(parts[0])
            or parts[1] != "customers"
        ):
            return ads_error(404, {"requestError": "UNKNOWN"}, f"No route for {request.path}")
        if parts[2] != self.customer_id:
            return ads_error(
                403,
                {"authorizationError": "USER_PERMISSION_DENIED"},
                "User doesn't have permission to access customer.",
            )
        rest = parts[3:]
        body = request.json() if request.body else {}
        body = body if isinstance(body, dict) else {}
        if rest == ["googleAds:search"]:
            return self._search(str(body.get("query", "")))
        if rest == ["offlineUserDataJobs:create"]:
            return self._create(body.get("job") or {})
        if len(rest) == 2 and rest[0] == "offlineUserDataJobs" and ":" in rest[1]:
            job_id, verb = rest[1].split(":", 1)
            job = self.jobs.get(job_id)
            if job is None:
                return ads_error(
                    404, {"requestError": "RESOURCE_NAME_MALFORMED"}, f"Job {job_id} not found"
                )
            if verb == "addOperations":
                return self._add(job, body)
            if verb == "run":
                return self._run(job)
        return ads_error(404, {"requestError": "UNKNOWN"}, f"No route for {request.path}")

    # -- jobs ----------------------------------------------------------------------
    def _create(self, job: dict[str, Any]) -> Reply:
        if job.get("type") != "CUSTOMER_MATCH_USER_LIST":
            return ads_error(
                400,
                {"offlineUserDataJobError": "INVALID_JOB_TYPE"},
                "Only CUSTOMER_MATCH_USER_LIST jobs are supported here.",
            )
        user_list = (job.get("customerMatchUserListMetadata") or {}).get("userList", "")
        list_id = str(user_list).rsplit("/", 1)[-1]
        prefix = f"customers/{self.customer_id}/userLists/"
        if not str(user_list).startswith(prefix) or list_id not in self.members:
            return ads_error(
                400,
                {"offlineUserDataJobError": "INVALID_USER_LIST_ID"},
                "The user list ID provided for the job is invalid.",
            )
        job_id = str(next(self._ids))
        resource = f"customers/{self.customer_id}/offlineUserDataJobs/{job_id}"
        self.jobs[job_id] = {
            "resourceName": resource,
            "id": job_id,
            "externalId": str(job.get("externalId", "")),
            "type": "CUSTOMER_MATCH_USER_LIST",
            "status": "PENDING",
            "userList": list_id,
            "operations": [],
            "pollsLeft": self.run_polls,
        }
        return Reply(200, {"resourceName": resource})

    def _add(self, job: dict[str, Any], body: dict[str, Any]) -> Reply:
        if job["status"] != "PENDING":
            return ads_error(
                400,
                {"offlineUserDataJobError": "INVALID_JOB_STATUS"},  # job already run
                f"Operations can only be added to a PENDING job; this job is {job['status']}.",
            )
        operations = body.get("operations")
        if not isinstance(operations, list) or not operations:
            return ads_error(400, {"requestError": "EMPTY_OPERATIONS"}, "operations is empty")
        total = sum(
            len((next(iter(op.values()), {}) or {}).get("userIdentifiers") or [])
            for op in operations
            if isinstance(op, dict)
        )
        if total > MAX_IDENTIFIERS_PER_REQUEST:
            return ads_error(
                400,
                {"offlineUserDataJobError": "TOO_MANY_USER_IDENTIFIERS"},
                f"Maximum number of user identifiers allowed per request is "
                f"{MAX_IDENTIFIERS_PER_REQUEST:,} and per operation is "
                f"{MAX_IDENTIFIERS_PER_OPERATION}.",
            )
        accepted, errors = [], []
        for index, op in enumerate(operations):
            problem = self._operation_problem(index, op)
            if problem is not None:
                errors.append(problem)
            else:
                accepted.append(op)
        if errors and not body.get("enablePartialFailure"):
            return ads_error(400, {}, "", errors)
        job["operations"].extend(accepted)
        if not errors:
            return Reply(200, {})
        failure = {
            "code": 3,
            "message": f"{len(errors)} operation(s) failed; see details.",
            "details": [
                {
                    "@type": "type.googleapis.com/google.ads.googleads.v21.errors.GoogleAdsFailure",
                    "errors": errors,
                }
            ],
        }
        return Reply(200, {"partialFailureError": failure})

    def _operation_problem(self, index: int, op: Any) -> dict[str, Any] | None:
        kind = next(iter(op), "") if isinstance(op, dict) and len(op) == 1 else ""
        if kind not in ("create", "remove"):
            return _op_error(
                index, "operation", {"requestError": "INVALID_INPUT"}, "create or remove"
            )
        identifiers = (op[kind] or {}).get("userIdentifiers") or []
        if not identifiers or len(identifiers) > MAX_IDENTIFIERS_PER_OPERATION:
            return _op_error(
                index,
                kind,
                {"offlineUserDataJobError": "TOO_MANY_USER_IDENTIFIERS"},
                "Each operation needs 1 to 20 user identifiers.",
            )
        for identifier in identifiers:
            if not isinstance(identifier, dict) or len(identifier) != 1:
                return _op_error(
                    index, kind, {"requestError": "INVALID_INPUT"}, "one identifier per entry"
                )
            ((field, value),) = identifier.items()
            if field not in IDENTIFIER_KINDS:
                return _op_error(
                    index,
                    kind,
                    {"offlineUserDataJobError": "UNSUPPORTED_USER_IDENTIFIER"},
                    f"{field} is not accepted by this contract server",
                )
            if not isinstance(value, str) or not SHA256_HEX.match(value):
                self.unhashed_received += 1
                return _op_error(
                    index,
                    kind,
                    {"offlineUserDataJobError": "INVALID_SHA256_FORMAT"},
                    "The SHA256 encoded value is malformed.",
                )
            if value in self.refused:
                return _op_error(
                    index, kind, {"offlineUserDataJobError": "UNKNOWN"}, self.refused[value]
                )
        return None

    def _run(self, job: dict[str, Any]) -> Reply:
        if job["status"] != "PENDING":
            return ads_error(
                400,
                {"offlineUserDataJobError": "INVALID_JOB_STATUS"},
                f"The job is {job['status']}; a job can be run only once.",
            )
        job["status"] = "RUNNING" if job["pollsLeft"] > 0 else "SUCCESS"
        members = self.members[job["userList"]]
        writes = []
        for op in job["operations"]:
            kind = next(iter(op))
            identifiers = {k: v for item in op[kind]["userIdentifiers"] for k, v in item.items()}
            key = identifiers.get("hashedEmail") or identifiers["hashedPhoneNumber"]
            if kind == "create":
                members[key] = identifiers
                writes.append(("member_add", key))
            else:
                members.pop(key, None)
                writes.append(("member_remove", key))
        job["operationCount"] = len(job["operations"])
        job["operations"] = []  # applied: a job exposes no identifiers afterwards
        operation = {
            "name": f"customers/{self.customer_id}/operations/{uuid.uuid4().hex[:16]}",
            "metadata": {
                "@type": "type.googleapis.com/google.ads.googleads.v21.resources."
                "OfflineUserDataJobMetadata",
                "resourceName": job["resourceName"],
            },
        }
        return Reply(200, operation, writes=writes)

    # -- GAQL ----------------------------------------------------------------------
    def _search(self, query: str) -> Reply:
        source = re.search(r"\bFROM\s+([a-z_]+)", query, re.IGNORECASE)
        where = dict((m.group(1), m.group(3) or m.group(2)) for m in CONDITION.finditer(query))
        if source is None:
            return ads_error(400, {"queryError": "PROHIBITED_RESOURCE_TYPE_IN_SELECT_CLAUSE"}, "")
        resource = source.group(1)
        if resource == "user_list":
            list_id = where.get("user_list.id")
            rows = [
                {
                    "userList": {
                        "resourceName": f"customers/{self.customer_id}/userLists/{u}",
                        "id": u,
                        "name": f"Customer Match list {u}",
                        "type": "CRM_BASED",
                        "membershipStatus": "OPEN",
                    }
                }
                for u in self.members
                if list_id is None or u == list_id
            ]
            return Reply(200, {"results": rows, "fieldMask": "userList.id"})
        if resource == "offline_user_data_job":
            ext = where.get("offline_user_data_job.external_id")
            name = where.get("offline_user_data_job.resource_name")
            if ext is not None:
                self.external_id_searches += 1
            jobs = [
                j
                for j in self.jobs.values()
                if (ext is None or j["externalId"] == ext)
                and (name is None or j["resourceName"] == name)
            ]
            return Reply(200, {"results": [{"offlineUserDataJob": self._view(j)} for j in jobs]})
        return ads_error(400, {"queryError": "PROHIBITED_RESOURCE_TYPE_IN_FROM_CLAUSE"}, resource)

    @staticmethod
    def _view(job: dict[str, Any]) -> dict[str, Any]:
        """A status read: a RUNNING job reports SUCCESS after `run_polls` reads."""
        if job["status"] == "RUNNING":
            if job["pollsLeft"] <= 0:
                job["status"] = "SUCCESS"
            job["pollsLeft"] -= 1
        return {
            "resourceName": job["resourceName"],
            "id": job["id"],
            "externalId": job["externalId"],
            "status": job["status"],
        }
