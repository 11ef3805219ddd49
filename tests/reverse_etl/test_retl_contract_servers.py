"""The contract servers enforce their API's documented limits and error shapes."""

from __future__ import annotations

import hashlib
import hmac
import json
import time

import requests
from cdp_demo.contract_servers import (
    HubSpotContractServer,
    MailchimpContractServer,
    WebhookContractServer,
)
from retl_support import SECRETS


def test_mailchimp_auth_batch_limit_and_per_member_errors():
    key = SECRETS["mailchimp"][1]
    with MailchimpContractServer(key, invalid_emails={"blocked@example.com": "blocked"}) as server:
        url = f"{server.base_url}/lists/{server.list_id}"
        denied = requests.get(server.base_url + "/ping", auth=("x", "nope-us6"), timeout=5)
        assert denied.status_code == 401
        assert denied.json()["title"] == "API Key Invalid"
        assert denied.headers["Content-Type"] == "application/problem+json"
        members = [
            {"email_address": f"m{i}@example.com", "status": "subscribed"} for i in range(501)
        ]
        too_many = requests.post(url, json={"members": members}, auth=("x", key), timeout=5)
        assert too_many.status_code == 400 and too_many.json()["title"] == "Invalid Resource"
        mixed = [
            {"email_address": "ok@example.com", "status": "subscribed"},
            {"email_address": "blocked@example.com", "status": "subscribed"},
            {"email_address": "no-at-sign", "status": "subscribed"},
        ]
        answer = requests.post(url, json={"members": mixed}, auth=("x", key), timeout=5).json()
        assert (answer["total_created"], answer["error_count"]) == (1, 2)
        assert {e["email_address"] for e in answer["errors"]} == {
            "blocked@example.com",
            "no-at-sign",
        }
        member = hashlib.md5(b"ok@example.com").hexdigest()
        read = requests.get(f"{url}/members/{member}", auth=("x", key), timeout=5).json()
        assert read["email_address"] == "ok@example.com" and read["tags"] == []
        assert server.delivery_counts("member_upsert") == {"ok@example.com": 1}


def test_hubspot_auth_batch_limit_and_multi_status_errors():
    token = SECRETS["hubspot"][1]
    with HubSpotContractServer(token) as server:
        upsert = server.url + "/crm/v3/objects/contacts/batch/upsert"
        denied = requests.post(upsert, json={"inputs": []}, timeout=5)
        assert denied.status_code == 401 and denied.json()["category"] == "INVALID_AUTHENTICATION"
        headers = {"Authorization": f"Bearer {token}"}
        inputs = [
            {"idProperty": "email", "id": f"c{i}@example.com", "properties": {}} for i in range(101)
        ]
        too_many = requests.post(upsert, json={"inputs": inputs}, headers=headers, timeout=5)
        assert too_many.status_code == 400 and too_many.json()["category"] == "VALIDATION_ERROR"
        inputs = [
            {"idProperty": "email", "id": "a@example.com", "properties": {"firstname": "A"}},
            {"idProperty": "email", "id": "bad@", "properties": {}},
        ]
        partial = requests.post(upsert, json={"inputs": inputs}, headers=headers, timeout=5)
        assert partial.status_code == 207
        body = partial.json()
        assert body["numErrors"] == 1 and body["errors"][0]["context"] == {"ids": ["bad@"]}
        assert body["results"][0]["properties"]["firstname"] == "A"
        record = body["results"][0]["id"]
        change = server.url + "/crm/v3/lists/42/memberships/add-and-remove"
        moved = requests.put(
            change, json={"recordIdsToAdd": [record, "999"]}, headers=headers, timeout=5
        ).json()
        assert moved == {
            "recordIdsAdded": [record],
            "recordIdsRemoved": [],
            "recordIdsMissing": ["999"],
        }
        lists = requests.get(
            f"{server.url}/crm/v3/lists/records/0-1/{record}/memberships",
            headers=headers,
            timeout=5,
        ).json()
        assert [m["listId"] for m in lists["results"]] == ["42"]


def test_webhook_signature_size_limit_and_idempotency():
    secret = SECRETS["webhook"][1]
    with WebhookContractServer(secret, max_batch_size=2) as server:

        def post(document: dict, key: str, sign_with: str = secret) -> requests.Response:
            body = json.dumps(document).encode()
            stamp = str(int(time.time()))
            digest = hmac.new(sign_with.encode(), stamp.encode() + b"." + body, hashlib.sha256)
            headers = {
                "X-CDP-Timestamp": stamp,
                "X-CDP-Signature": "sha256=" + digest.hexdigest(),
                "Idempotency-Key": key,
            }
            return requests.post(server.endpoint, data=body, headers=headers, timeout=5)

        batch = {"operation": "enter", "records": [{"key": "1", "fields": {"a": 1}}]}
        assert post(batch, "k1", sign_with="wrong").status_code == 401
        assert post(batch, "k1").json() == {"accepted": 1, "rejected": []}
        replay = post(batch, "k1")
        assert replay.headers["Idempotent-Replayed"] == "true"
        assert server.delivery_counts("enter") == {"1": 1}
        three = {"operation": "enter", "records": [{"key": str(i)} for i in range(3)]}
        assert post(three, "k2").status_code == 413


def test_deletion_endpoints_enforce_their_contracts():
    """The erasure endpoints: auth, shapes, unknown records, and what is forgotten."""
    from cdp_demo.contract_servers import KlaviyoContractServer

    key = SECRETS["mailchimp"][1]
    with MailchimpContractServer(key) as server:
        url = f"{server.base_url}/lists/{server.list_id}"
        member = {"email_address": "gone@example.com", "status": "subscribed"}
        requests.post(url, json={"members": [member]}, auth=("x", key), timeout=5)
        target = f"{url}/members/{hashlib.md5(b'gone@example.com').hexdigest()}"
        action = f"{target}/actions/delete-permanent"
        assert requests.post(action, auth=("x", "bad-us6"), timeout=5).status_code == 401
        assert requests.post(action, auth=("x", key), timeout=5).status_code == 204
        assert requests.get(target, auth=("x", key), timeout=5).status_code == 404
        assert requests.post(action, auth=("x", key), timeout=5).status_code == 404
        assert "gone@example.com" not in server.held_data()

    token = SECRETS["hubspot"][1]
    with HubSpotContractServer(token, rate_limit=None) as server:
        headers = {"Authorization": f"Bearer {token}"}
        base = f"{server.url}/crm/v3/objects/contacts"
        inputs = [{"idProperty": "email", "id": "gone@example.com", "properties": {}}]
        rid = requests.post(
            f"{base}/batch/upsert", json={"inputs": inputs}, headers=headers, timeout=5
        ).json()["results"][0]["id"]
        delete = f"{base}/gdpr-delete"
        assert requests.post(delete, json={}, headers=headers, timeout=5).status_code == 400
        assert requests.post(delete, json={"objectId": rid}, timeout=5).status_code == 401
        assert (
            requests.post(delete, json={"objectId": rid}, headers=headers, timeout=5).status_code
            == 204
        )
        assert (
            requests.post(delete, json={"objectId": rid}, headers=headers, timeout=5).status_code
            == 404
        )
        assert "gone@example.com" not in server.held_data()
        # Documented: an address HubSpot does not know is blocklisted (kept, hence the
        # client always deletes by record id).
        body = {"objectId": "never@example.com", "idProperty": "email"}
        assert requests.post(delete, json=body, headers=headers, timeout=5).status_code == 204
        assert server.blocklist == {"never@example.com"}

    api_key = SECRETS["klaviyo"][1]
    with KlaviyoContractServer(api_key, rate_limit=None, steady_limit=None) as server:
        headers = {"Authorization": f"Klaviyo-API-Key {api_key}", "revision": "2025-01-15"}
        jobs = f"{server.url}/api/data-privacy-deletion-jobs"

        def job(attributes: dict[str, str]) -> dict[str, object]:
            profile = {"type": "profile", "attributes": attributes}
            return {
                "data": {
                    "type": "data-privacy-deletion-job",
                    "attributes": {"profile": {"data": profile}},
                }
            }

        both = job({"email": "a@example.com", "phone_number": "+4915112345678"})
        refused = requests.post(jobs, json=both, headers=headers, timeout=5)
        assert refused.status_code == 400 and refused.json()["errors"][0]["code"] == "invalid"
        no_revision = {"Authorization": headers["Authorization"]}
        assert (
            requests.post(
                jobs, json=job({"email": "a@example.com"}), headers=no_revision, timeout=5
            ).status_code
            == 400
        )
        accepted = requests.post(
            jobs, json=job({"email": "a@example.com"}), headers=headers, timeout=5
        )
        assert accepted.status_code == 202
