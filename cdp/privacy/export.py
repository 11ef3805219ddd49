"""Access: everything the warehouse holds about a person, as one JSON document.

The document has the golden profile, identifiers, source records with their
raw rows (every raw row the erasure would delete: the same keys and
predicate, cdp/landing/tombstones.py), activities, consent history and state,
measures and predictions, segment membership and its history, the trigger
events (entries and exits), suppressions, and per sync what was sent (the
acknowledged payload and when: for a trigger, each event id sent) plus the runs
of those syncs.
"""

from __future__ import annotations

import json
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any

from cdp.landing.tombstones import TABLE_KEYS
from cdp.privacy.connection import Connection, dialect_of
from cdp.privacy.destinations import subject_held_sql, sync_state
from cdp.privacy.subject import (
    ErasureRequest,
    PrivacyError,
    collect_keys,
    quoted,
    raw_predicate,
    raw_tables,
    relation_exists,
    resolve_customers,
    start_keys,
)

# (section, relation) read per customer by customer_id, when the relation exists.
CUSTOMER_SECTIONS = (
    ("profile", "marts.customers"),
    ("identifiers", "marts.customer_identifiers"),
    ("source_records", "marts.customer_source_records"),
    ("id_history", "marts.customer_id_history"),
    ("activities", "marts.customer_activities"),
    ("consent_ledger", "marts.customer_consent_ledger"),
    ("consent_state", "marts.customer_consent_state"),
    ("consent_eligibility", "marts.customer_consent_eligibility"),
    ("suppressions", "marts.customer_suppressions"),
    ("measures", "marts.customer_measures"),
    ("predictions", "marts.customer_predictions"),
    ("product_recommendations", "marts.customer_product_recommendations"),
    ("segment_memberships", "marts.segment_memberships"),
    ("segment_membership_history", "marts.segment_membership_history"),
    ("segment_membership_changes", "marts.segment_membership_changes"),
    ("segment_membership_events", "marts.segment_membership_events"),
)


def _json_value(value: Any) -> Any:
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, bytes):
        return value.hex()
    return str(value)


def _rows(con: Connection, sql: str, params: list[Any]) -> list[dict[str, Any]]:
    cursor = con.execute(sql, params)
    names = [d[0] for d in cursor.description or []]
    return [dict(zip(names, row, strict=True)) for row in cursor.fetchall()]


def export_person(con: Connection, request: ErasureRequest) -> dict[str, Any]:
    """The access document for the person the request names; PrivacyError if unknown."""
    customers = resolve_customers(con, request)
    if not customers:
        raise PrivacyError(f"no customer found for the given {request.identifier_type}")
    start_keys(con, request, customers)
    collect_keys(con)
    document: dict[str, Any] = {
        "generated_at": datetime.now(UTC).isoformat(),
        "request": {"identifier_type": request.identifier_type},
        "customer_ids": customers,
    }
    where = "customer_id in (select customer_id from privacy_subject_customers)"
    for section, relation in CUSTOMER_SECTIONS:
        schema, table = relation.split(".")
        if relation_exists(con, schema, table):
            document[section] = _rows(con, f"select * from {relation} where {where}", [])
    present = raw_tables(con)
    document["raw_rows"] = {
        table: _rows(
            con,
            f"select * from raw.{quoted(table, dialect_of(con))} "
            f"where {raw_predicate(table, dialect_of(con))} "
            "order by _source_file, _source_line",
            [],
        )
        for table in TABLE_KEYS
        if table in present
    }
    with sync_state(con) as state:  # on Spark the syncs' DuckDB state file
        document["syncs"] = _syncs(state) if state is not None else {}
    return document


def _syncs(con: Connection) -> dict[str, Any]:
    """Per sync: the acknowledged payload and time per key, rejections, and the runs."""
    if not relation_exists(con, "reverse_etl", "sync_state"):
        return {}
    held = subject_held_sql(dialect_of(con))  # a trigger's event ids too, by the customer_id sent
    state = _rows(
        con,
        "select sync_name, key, payload::varchar as payload, acknowledged_at "
        f"from reverse_etl.sync_state where {held} order by sync_name, key",
        [],
    )
    keys = (
        "key in (select customer_id from privacy_subject_customers) or key in "
        f"(select key from reverse_etl.sync_state where {held})"
    )
    syncs: dict[str, Any] = {}
    for row in state:
        entry = syncs.setdefault(row["sync_name"], {"held": [], "rejections": [], "runs": []})
        entry["held"].append(
            {
                "key": row["key"],
                "payload": json.loads(row["payload"]) if row["payload"] else None,
                "acknowledged_at": row["acknowledged_at"],
            }
        )
    if relation_exists(con, "reverse_etl", "sync_rejections"):
        for row in _rows(
            con,
            "select sync_name, key, reason, attempts, terminal, rejected_at "
            f"from reverse_etl.sync_rejections where {keys} order by rejected_at",
            [],
        ):
            syncs.setdefault(row["sync_name"], {"held": [], "rejections": [], "runs": []})[
                "rejections"
            ].append(row)
    if syncs and relation_exists(con, "reverse_etl", "sync_runs"):
        names = sorted(syncs)
        marks = ", ".join("?" for _ in names)
        for row in _rows(
            con,
            "select run_id, sync_name, started_at, finished_at, status, rows_added, "
            f"rows_updated, rows_removed from reverse_etl.sync_runs where sync_name in ({marks}) "
            "order by started_at",
            names,
        ):
            syncs[row["sync_name"]]["runs"].append(row)
    return syncs


def dumps(document: dict[str, Any]) -> str:
    return json.dumps(document, indent=2, sort_keys=True, default=_json_value, ensure_ascii=False)
