"""Privacy by construction, end to end on generated data (docs/privacy.md).

The tests share one warehouse and two contract servers (conftest.py) and run
in file order: a consent revocation, an access export, an erasure,
re-landing the original files after the erasure, and an erasure whose
rebuild is left to the next `cdp build`.
"""

from __future__ import annotations

import hashlib
import json
import re
from pathlib import Path
from typing import Any

import duckdb
import pytest

from tests.privacy.conftest import TAG, Business

# The environment of the package's builds but the erasure's rebuild: models and
# seeds only. The erasure's rebuild (`cdp privacy erase`) runs every data test on
# the warehouse after the revocation, the new records and the erasure; the other
# two builds need the models, or the build completing (what marks an erasure).
MODELS_ONLY = {"DBT_EXCLUDE_RESOURCE_TYPES": "unit_test test"}


def _customer_of(business: Business, source: str, record_id: str) -> str | None:
    rows = business.query(
        "select customer_id from marts.customer_source_records "
        "where source_name = ? and source_record_id = ?",
        [source, record_id],
    )
    return str(rows[0][0]) if rows else None


@pytest.fixture(scope="module")
def subject(business: Business) -> dict[str, Any]:
    """A generated person to erase: every ground-truth record resolved to one customer
    that holds nobody else's records, with email, phone and a name no other person
    has, present at the webhook and the Mailchimp audience."""
    persons, records = business.ground_truth()
    owner = {rec: pid for pid, recs in records.items() for rec in recs}
    emails = [p["email"].lower() for p in persons.values()]
    phones = [p["phone_e164"] for p in persons.values()]
    last_names = [p["last_name"].lower() for p in persons.values()]
    mailchimp = {e.lower() for e in business.mailchimp.tagged_emails(TAG)}
    candidates = sorted(records.items(), key=lambda item: -len(item[1]))
    for person_id, recs in candidates:
        person = persons[person_id]
        if not (person["email"] and person["phone_e164"]) or len(recs) < 4:
            continue
        if (
            emails.count(person["email"].lower()) != 1
            or phones.count(person["phone_e164"]) != 1
            or last_names.count(person["last_name"].lower()) != 1
            or person["previous_email"]
        ):
            continue
        customers = {_customer_of(business, table, rid) for table, rid in recs}
        if len(customers) != 1 or None in customers:
            continue
        customer_id = customers.pop()
        assert customer_id is not None
        members = business.query(
            "select source_name, source_record_id from marts.customer_source_records "
            "where customer_id = ?",
            [customer_id],
        )
        if any(owner.get((str(s), str(r))) != person_id for s, r in members):
            continue
        email = business.query(
            "select email from marts.customers where customer_id = ?", [customer_id]
        )[0][0]
        if customer_id not in business.webhook.members or str(email).lower() not in mailchimp:
            continue
        return {
            "person_id": person_id,
            "customer_id": customer_id,
            "records": recs,
            "email": person["email"].lower(),
            "phone": person["phone_e164"],
            "first_name": person["first_name"],
            "last_name": person["last_name"],
            "synced_email": str(email).lower(),
        }
    pytest.fail("no generated person fits: change SEED or PEOPLE in tests/business.py")


def _traces(business: Business, needles: list[str]) -> list[tuple[str, str, str, str]]:
    """(needle, schema, table, column) wherever a text, JSON or list column of any table
    in the warehouse contains a needle (case-insensitive).

    One query per table counts every (column, needle) pair, on one connection.
    """
    columns = business.query(
        "select c.schema_name, c.table_name, c.column_name from duckdb_columns() c "
        "join duckdb_tables() t using (database_name, schema_name, table_name) "
        "where c.database_name = current_database() "
        "and (c.data_type in ('VARCHAR', 'JSON') or c.data_type like '%[]') "
        "order by 1, 2, 3"
    )
    by_table: dict[tuple[str, str], list[str]] = {}
    for schema, table, column in columns:
        by_table.setdefault((str(schema), str(table)), []).append(str(column))
    hits = []
    with duckdb.connect(str(business.warehouse), read_only=True) as con:
        for (schema, table), names in by_table.items():
            pairs = [(column, needle) for column in names for needle in needles]
            counts = ", ".join(
                f'count(*) filter (where contains(lower(cast("{column}" as varchar)), lower(?)))'
                for column, _ in pairs
            )
            row = con.execute(
                f'select {counts} from "{schema}"."{table}"', [needle for _, needle in pairs]
            ).fetchone()
            assert row is not None
            hits += [
                (needle, schema, table, column)
                for (column, needle), count in zip(pairs, row, strict=True)
                if count
            ]
    return hits


def _needles(subject: dict[str, Any]) -> list[str]:
    return [
        subject["email"],
        subject["synced_email"],
        subject["phone"],
        subject["phone"].lstrip("+"),
        subject["last_name"],
    ]


def _hashes(subject: dict[str, Any]) -> list[str]:
    """What destinations key people by: SHA-256 of the email and phone (with and
    without '+', Meta's form), and Mailchimp's MD5 subscriber hash."""
    emails = {subject["email"], subject["synced_email"]}
    phones = {subject["phone"], subject["phone"].lstrip("+")}
    return sorted(
        {hashlib.sha256(v.encode()).hexdigest() for v in emails | phones}
        | {hashlib.md5(e.encode()).hexdigest() for e in emails}
    )


def _held_at_destinations(business: Business, needles: list[str]) -> dict[str, list[str]]:
    """sync -> the needles its destination still holds (case-insensitive)."""
    found = {}
    for sync, text in business.destination_dumps().items():
        hits = [n for n in needles if n.lower() in text.lower()]
        if hits:
            found[sync] = hits
    return found


# --- consent ---------------------------------------------------------------------------


@pytest.fixture(scope="module")
def revoker(business: Business, subject: dict[str, Any]) -> dict[str, str]:
    """Another person in the Mailchimp audience, who will revoke email consent."""
    rows = business.query(
        "select c.customer_id, lower(c.email) from marts.customers c "
        "join marts.customer_consent_eligibility e using (customer_id) "
        "where e.is_email_marketing_eligible and c.customer_id <> ? order by 1",
        [subject["customer_id"]],
    )
    tagged = {e.lower() for e in business.mailchimp.tagged_emails(TAG)}
    for customer_id, email in rows:
        if email in tagged:
            return {"customer_id": str(customer_id), "email": str(email)}
    pytest.fail("nobody eligible in the Mailchimp audience")


def _web_event(
    message_id: str, kind: str, device: str, traits: dict[str, str] | None
) -> dict[str, Any]:
    return {
        "message_id": message_id,
        "type": kind,
        "event": None,
        "anonymous_id": device,
        "user_id": None,
        "session_id": "zz-session",
        "timestamp": "2026-06-30T09:00:00",
        "properties": {"url": "https://www.lumenandoak.example/"},
        "traits": traits,
        "context": {"device_type": "web", "page_url": "https://www.lumenandoak.example/"},
    }


def _land(business: Business, table: str, name: str, rows: list[dict[str, Any]]) -> None:
    folder = business.landing / table
    text = "".join(json.dumps(row) + "\n" for row in rows)
    (folder / name).write_text(text, encoding="utf-8")


def test_revoked_email_consent_removes_from_email_destination(
    business: Business, revoker: dict[str, str]
) -> None:
    _land(
        business,
        "consent_events",
        "zz_privacy_test_revoke.jsonl",
        [
            {
                "consent_event_id": "privacy-test-revoke-1",
                "subject_email": revoker["email"],
                "subject_phone": None,
                "source_system": "email",
                "source_record_id": None,
                "channel": "email",
                "purpose": "marketing",
                "status": "revoked",
                "method": "preference_centre",
                "occurred_at": "2026-06-30T08:00:00Z",
                "confirmed_at": None,
            }
        ],
    )
    business.cdp("ingest")
    business.cdp("build", env=MODELS_ONLY)
    business.cdp("sync")
    state = business.query(
        "select consent_status, decided_by_evidence from marts.customer_consent_state "
        "where customer_id = ? and channel = 'email' and purpose = 'marketing'",
        [revoker["customer_id"]],
    )
    assert state == [("revoked", "explicit")]
    assert revoker["email"] not in {e.lower() for e in business.mailchimp.tagged_emails(TAG)}
    assert business.mailchimp.delivery_counts("tag_remove").get(revoker["email"], 0) == 1


def test_access_export_holds_every_ground_truth_record(
    business: Business, subject: dict[str, Any]
) -> None:
    out = business.root / "access.json"
    output = business.cdp("privacy", "export", "--email", subject["email"], "--out", str(out))
    assert not [n for n in _needles(subject) if n.lower() in output.lower()]
    document = json.loads(out.read_text(encoding="utf-8"))
    assert document["customer_ids"] == [subject["customer_id"]]
    held = {(r["source_name"], r["source_record_id"]) for r in document["source_records"]}
    assert set(subject["records"]) <= held
    key_columns = {
        "shop_customers": "customer_id",
        "shop_orders": "order_id",
        "crm_contacts": "contact_id",
        "email_subscribers": "subscriber_id",
        "loyalty_members": "loyalty_number",
        "support_tickets": "ticket_id",
        "consent_events": "consent_event_id",
        "web_events": "anonymous_id",
    }
    for table, record_id in subject["records"]:
        raw = document["raw_rows"][table]
        assert any(str(row[key_columns[table]]) == record_id for row in raw), (table, record_id)
    assert document["profile"][0]["email"].lower() == subject["synced_email"]
    assert document["consent_ledger"] is not None
    assert "all_to_webhook" in document["syncs"]
    held_payload = document["syncs"]["all_to_webhook"]["held"][0]
    assert held_payload["key"] == subject["customer_id"] and held_payload["acknowledged_at"]


def _export_path(output: str) -> Path:
    match = re.search(r"wrote (\S+\.json):", output)
    assert match, output
    return Path(match.group(1))


@pytest.fixture(scope="module")
def kept_exports(business: Business, subject: dict[str, Any], revoker: dict[str, str]) -> dict:
    """Two access exports in the product's folder, the subject's and someone else's,
    made before the erasure (same second: they must not overwrite each other)."""
    mine = _export_path(business.cdp("privacy", "export", "--email", subject["email"]))
    other = _export_path(business.cdp("privacy", "export", "--customer-id", revoker["customer_id"]))
    assert mine != other and mine.is_file() and other.is_file()
    assert mine.parent == business.root / "data" / "privacy" / "exports"
    return {"subject": mine, "other": other}


def test_erasure_leaves_no_trace_in_warehouse_or_destinations(
    business: Business, subject: dict[str, Any], revoker: dict[str, str], kept_exports: dict
) -> None:
    needles = _needles(subject)
    assert _traces(business, [subject["email"]]), "the person must be found before erasure"
    everywhere = _held_at_destinations(business, [subject["synced_email"], *_hashes(subject)])
    assert sorted(everywhere) == sorted(business.destination_dumps()), (
        "the person must be at all nine destinations before erasure"
    )
    # An inferred opt-in after the explicit revoke: it must not bring the revoker back.
    (business.landing / "email_subscribers" / "zz_privacy_test_resubscribe.csv").write_text(
        "subscriber_id,email_address,first_name,last_name,phone,status,opted_in_at,"
        "confirmed_at,language,updated_at\n"
        f"privtest01,{revoker['email']},,,,subscribed,2026-06-30T09:00:00Z,,en,"
        "2026-06-30T09:00:00Z\n",
        encoding="utf-8",
    )
    # Records identity would not put on the person: a new device whose only link is
    # one identify call with their email (its page view carries nothing of them), and
    # a consent event naming their record in the collecting system but another address.
    systems = {"shop_customers": "shop", "crm_contacts": "crm", "email_subscribers": "email"}
    table, record_id = next((t, r) for t, r in subject["records"] if t in systems)
    device = "zz-erasure-device-0001"
    _land(
        business,
        "web_events",
        "zz_privacy_test_device.jsonl",
        [
            _web_event("zz-msg-identify", "identify", device, {"email": subject["email"]}),
            _web_event("zz-msg-page", "page", device, None),
        ],
    )
    _land(
        business,
        "consent_events",
        "zz_privacy_test_consent.jsonl",
        [
            {
                "consent_event_id": "zz-consent-elsewhere",
                "subject_email": "zz-someone-else@example.org",
                "subject_phone": None,
                "source_system": systems[table],
                "source_record_id": record_id,
                "channel": "email",
                "purpose": "marketing",
                "status": "granted",
                "method": "checkbox",
                "occurred_at": "2026-06-30T09:00:00",
                "confirmed_at": None,
            }
        ],
    )
    business.cdp("ingest")

    output = business.cdp(
        "privacy",
        "erase",
        "--email",
        subject["email"],
        "--requested-by",
        "dpo@test",
        "--reason",
        "test erasure",
    )
    assert not [n for n in needles if n.lower() in output.lower()], output
    assert subject["customer_id"] not in output

    # Destinations: deleted, not unlisted or forgotten, at all nine: no destination
    # holds the email, phone or name, nor their hashes (Mailchimp's MD5 included).
    assert _held_at_destinations(business, [*needles, *_hashes(subject)]) == {}
    assert business.webhook.deliveries[("erase", subject["customer_id"])] == 1
    assert subject["synced_email"] not in business.mailchimp.member_emails()
    assert business.mailchimp.delivery_counts("member_delete").get(subject["synced_email"]) == 1
    # The revoker stays out of the email audience despite the later inferred opt-in.
    assert revoker["email"] not in {e.lower() for e in business.mailchimp.tagged_emails(TAG)}
    assert business.mailchimp.delivery_counts("tag_add").get(revoker["email"]) == 1

    # Every table of every schema: no email, phone or name left.
    assert _traces(business, needles) == []
    # Found by every identifier of the erased records, devices included.
    assert business.query(
        "select count(*) from raw.web_events where anonymous_id = ?", [device]
    ) == [(0,)]
    assert business.query(
        "select count(*) from raw.consent_events where consent_event_id = 'zz-consent-elsewhere'"
    ) == [(0,)]

    # The audit record: who, what, where, with hashes only.
    log = business.query(
        "select requested_by, reason, status, rows_deleted::varchar, destinations::varchar, "
        "identifier_hashes::varchar, attribution::varchar from privacy.erasure_log"
    )
    assert len(log) == 1
    requested_by, reason, status, deleted, destinations, hashes, attribution = log[0]
    # Landed after the last build, so identity had put them on no customer yet.
    found = json.loads(attribution)
    assert found["web_events"]["no_customer"] >= 2
    assert found["consent_events"]["no_customer"] >= 1
    assert "identity put them elsewhere" in output
    assert (requested_by, reason, status) == ("dpo@test", "test erasure", "completed")
    outcomes = json.loads(destinations)
    assert sorted(outcomes) == sorted(business.destination_dumps())
    assert all(o.startswith("deleted: ") for o in outcomes.values()), outcomes
    assert "delete-permanent" in outcomes["all_to_mailchimp"]
    assert "gdpr-delete" in outcomes["all_to_hubspot"]
    counts = json.loads(deleted)
    # The subject's earlier access export went with them; someone else's stays.
    assert counts["access_exports"] == 1
    assert not kept_exports["subject"].exists() and kept_exports["other"].exists()
    tables = {table for table, _ in subject["records"]}
    assert all(counts[table] >= 1 for table in tables)
    assert all(re.fullmatch(r"[0-9a-f]{64}", h) for h in json.loads(hashes))
    assert business.query(
        "select count(*) from reverse_etl.sync_state where key = ?", [subject["customer_id"]]
    ) == [(0,)]


def test_relanding_the_original_files_does_not_restore_the_person(
    business: Business, subject: dict[str, Any]
) -> None:
    # Restore from the archive: empty every raw table and the manifest, land it all again.
    tables = [
        r[0]
        for r in business.query(
            "select table_name from duckdb_tables() where database_name = current_database() "
            "and schema_name = 'raw'"
        )
    ]
    with duckdb.connect(str(business.warehouse)) as con:
        for table in tables:
            con.execute(f'delete from raw."{table}"')
    output = business.cdp("ingest")
    assert "of erased people not landed" in output
    skipped = business.query("select sum(rows_skipped) from privacy.erasure_skips")[0][0]
    assert skipped >= len(subject["records"])
    # Raw holds no trace again (every table is scanned, raw included), so no model
    # built from it can; the rebuild is left out to keep the suite fast.
    assert _traces(business, _needles(subject)) == []


def test_erasure_without_rebuild_completes_after_build_sync_and_finish(
    business: Business, subject: dict[str, Any]
) -> None:
    """`erase --no-build` (or a rebuild that failed) leaves the erasure awaiting its
    rebuild; the next complete `cdp build` marks it, then `cdp sync` sends the delete
    and `cdp privacy finish` completes it."""
    customers = [
        str(r[0]) for r in business.query("select customer_id from marts.customers order by 1")
    ]
    customer_id = next(
        c for c in customers if c != subject["customer_id"] and c in business.webhook.members
    )
    output = business.cdp("privacy", "erase", "--customer-id", customer_id, "--no-build")
    assert "rebuild skipped" in output
    assert customer_id not in output

    def status() -> str:
        rows = business.query(
            "select status from privacy.erasure_log where customer_hashes::varchar "
            "like '%' || sha256(?) || '%'",
            [customer_id],
        )
        assert len(rows) == 1, rows
        return str(rows[0][0])

    assert status() == "awaiting_rebuild"
    output = business.cdp("privacy", "finish")
    assert "waiting for a complete `cdp build`" in output
    assert status() == "awaiting_rebuild"

    output = business.cdp("build", env=MODELS_ONLY)
    assert " START test " not in output, "the build ran dbt's data tests"
    assert "models rebuilt without the person" in output
    assert status() == "awaiting_removal"
    assert business.query(
        "select count(*) from marts.customer_source_records where customer_id = ?", [customer_id]
    ) == [(0,)]

    business.cdp("sync")
    output = business.cdp("privacy", "finish")
    assert "completed" in output
    assert status() == "completed"
    assert customer_id not in business.webhook.members
    assert business.webhook.deliveries[("erase", customer_id)] == 1
