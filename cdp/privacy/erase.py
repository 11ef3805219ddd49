"""Erasure: delete a person from the warehouse, keep a hashed tombstone and an audit record.

One request (or a batch) runs in one transaction over the warehouse:

1. resolve the request to customer ids and hashed keys (subject.py);
2. snapshot which syncs hold the customers (reverse_etl.sync_state);
3. write the keys to `privacy.erasure_tombstones` (the loader's check);
4. delete the matched rows from every raw table and from `raw._rejects`
   (a rejected record whose text holds an erased email address);
5. delete the customers' rows from every derived table keyed by
   `customer_id` (incremental models such as segment_membership_history are
   never rebuilt, so this is what purges them);
6. write `privacy.erasure_log`: who, when, why, rows deleted per table, the
   hashed identifiers, the syncs that must send removes. No raw PII;
7. after the commit, delete the earlier access exports of the person
   (`cdp privacy export` writes them to <data>/privacy/exports/access-*.json;
   one is the person's when its `customer_ids` name an erased customer). An
   export written elsewhere with `--out` is the requester's copy, not tracked.

Then the caller rebuilds the dbt project (every derived model without them)
and runs the syncs (destinations.py): the normal remove path takes them out of
audience and mirror destinations, after which their sync history is scrubbed.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

from cdp.landing.tombstones import (
    TABLE_KEYS,
    TOMBSTONES,
    erased_predicate,
    sha256_hex,
    text_email_predicate,
)
from cdp.privacy import destinations
from cdp.privacy.connection import (
    Connection,
    SparkConnection,
    delete_rows,
    dialect_of,
    tables_of,
    text_type,
    update_rows,
)
from cdp.privacy.subject import (
    SUBJECT_KEYS,
    ErasureRequest,
    collect_keys,
    quoted,
    raw_predicate,
    raw_tables,
    relation_exists,
    request_hash,
    resolve_customers,
    start_keys,
)

ERASURE_LOG = "privacy.erasure_log"
# Schemas whose tables are derived from raw and may be keyed by customer_id.
# Not staging: a staging customer_id is a source system's id (shop customers),
# never ours; the incremental staging tables purge erased rows themselves on
# the rebuild (dbt macro purge_erased_rows, docs/incremental.md).
DERIVED_SCHEMAS = ("intermediate", "marts", "predictions")

Progress = Callable[[str], None]


@dataclass
class ErasureResult:
    erasure_id: str
    identifier_type: str
    customers: int
    keys: int
    rows_deleted: dict[str, int] = field(default_factory=dict)
    syncs_holding: dict[str, int] = field(default_factory=dict)
    unsearched_tables: list[str] = field(default_factory=list)
    access_exports: list[Path] = field(default_factory=list)
    attribution: dict[str, dict[str, int]] = field(default_factory=dict)
    """table -> {"other_customers": n, "no_customer": m}: matched raw rows that identity
    had not put on the person (found through their identifiers and devices)."""

    def render(self) -> str:
        """Counts only: never an identifier."""
        raw = {t: n for t, n in self.rows_deleted.items() if n and not t.startswith("derived.")}
        derived = sum(n for t, n in self.rows_deleted.items() if t.startswith("derived."))
        lines = [
            f"erasure {self.erasure_id} ({self.identifier_type}): "
            f"{self.customers} customer(s), {self.keys} hashed key(s) in the tombstone",
            "  raw rows deleted: "
            + (", ".join(f"{t} {n}" for t, n in sorted(raw.items())) or "none"),
            f"  derived rows deleted before the rebuild: {derived}",
            f"  earlier access exports deleted: {len(self.access_exports)}",
            "  syncs holding them (removes on the next sync): "
            + (", ".join(f"{s} ({n})" for s, n in sorted(self.syncs_holding.items())) or "none"),
        ]
        if self.attribution:
            lines.append(
                "  found through their identifiers though identity put them elsewhere: "
                + ", ".join(
                    f"{t} {c['other_customers']} on other customers, {c['no_customer']} on none"
                    for t, c in sorted(self.attribution.items())
                )
            )
        if self.unsearched_tables:
            lines.append(
                "  WARNING: raw tables without erasure keys, not searched: "
                + ", ".join(self.unsearched_tables)
            )
        return "\n".join(lines)


def ensure_privacy_tables(con: Connection) -> None:
    con.execute("create schema if not exists privacy")
    if isinstance(con, SparkConnection):  # Parquet: no key, JSON as text
        con.execute(
            f"create table if not exists {TOMBSTONES} (erasure_id string, "
            "identifier_type string, identifier_hash string) using parquet"
        )
        con.execute(
            f"""create table if not exists {ERASURE_LOG} (
                erasure_id string, requested_at timestamp, requested_by string,
                reason string, request_type string, request_hash string,
                customer_hashes string, identifier_hashes string, rows_deleted string,
                syncs_holding string, destinations string, status string,
                completed_at timestamp, attribution string) using parquet"""
        )
        return
    con.execute(
        f"create table if not exists {TOMBSTONES} (erasure_id varchar, "
        "identifier_type varchar, identifier_hash varchar)"
    )
    con.execute(
        f"""create table if not exists {ERASURE_LOG} (
            erasure_id varchar primary key,
            requested_at timestamp,
            requested_by varchar,
            reason varchar,
            request_type varchar,
            request_hash varchar,
            customer_hashes json,
            identifier_hashes json,
            rows_deleted json,
            syncs_holding json,
            destinations json,
            status varchar,
            completed_at timestamp)"""
    )
    con.execute(f"alter table {ERASURE_LOG} add column if not exists attribution json")


def access_exports_of(exports_dir: Path | None, customers: list[str]) -> list[Path]:
    """The access exports in `exports_dir` whose `customer_ids` name one of `customers`.

    A file that is not a readable export document is left alone (and not counted)."""
    if exports_dir is None or not exports_dir.is_dir() or not customers:
        return []
    wanted = set(customers)
    found = []
    for path in sorted(exports_dir.glob("access-*.json")):
        try:
            document = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, UnicodeDecodeError, ValueError):
            continue
        ids = document.get("customer_ids") if isinstance(document, dict) else None
        if isinstance(ids, list) and wanted.intersection(str(i) for i in ids):
            found.append(path)
    return found


def erase_one(
    con: Connection,
    request: ErasureRequest,
    now: datetime | None = None,
    exports_dir: Path | None = None,
) -> ErasureResult:
    """Steps 1-6 for one request, inside the caller's transaction; the access exports
    to delete (step 7, after the commit) are returned in the result. On Spark, which
    has no transactions, the steps of cdp/privacy/erase_spark.py instead."""
    if isinstance(con, SparkConnection):
        from cdp.privacy import erase_spark

        return erase_spark.erase_one(con, request, now, exports_dir)
    ensure_privacy_tables(con)
    dialect = dialect_of(con)
    now = now or datetime.now(UTC).replace(tzinfo=None)
    erasure_id = f"er-{uuid.uuid4().hex[:12]}"
    customers = resolve_customers(con, request)
    start_keys(con, request, customers)
    unsearched = collect_keys(con)
    holding = destinations.syncs_holding(con)
    con.execute(
        f"insert into {TOMBSTONES} select ?, identifier_type, identifier_hash from {SUBJECT_KEYS}",
        [erasure_id],
    )
    deleted: dict[str, int] = {}
    present = raw_tables(con)
    attribution = _attribution(con, present)
    for table in TABLE_KEYS:
        if table in present:
            deleted[table] = _delete(con, f"raw.{quoted(table)}", raw_predicate(table, dialect))
    deleted["_rejects"] = _delete(
        con, "raw._rejects", text_email_predicate("raw_record", SUBJECT_KEYS, dialect)
    )
    for relation in _derived_customer_tables(con):
        count = _delete(
            con,
            relation,
            "customer_id in (select customer_id from privacy_subject_customers)",
        )
        if count:
            deleted[f"derived.{relation}"] = count
    row = con.execute(f"select count(*) from {SUBJECT_KEYS}").fetchone()
    key_count = int(row[0]) if row else 0
    key_hashes = _json_list(
        con.execute(
            f"select distinct identifier_hash from {SUBJECT_KEYS} order by identifier_hash"
        ).fetchall()
    )
    exports = access_exports_of(exports_dir, customers)
    deleted["access_exports"] = len(exports)
    customer_hashes = _json_list(
        con.execute(
            f"select {sha256_hex('customer_id', dialect)} from privacy_subject_customers "
            "order by customer_id"
        ).fetchall()
    )
    con.execute(
        f"""insert into {ERASURE_LOG} (erasure_id, requested_at, requested_by, reason,
            request_type, request_hash, customer_hashes, identifier_hashes, rows_deleted,
            syncs_holding, status, attribution)
        values (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)""",
        [
            erasure_id,
            now,
            request.requested_by,
            request.reason,
            request.identifier_type,
            request_hash(con, request),
            customer_hashes,
            key_hashes,
            json.dumps(deleted, sort_keys=True),
            json.dumps(holding, sort_keys=True),
            "awaiting_rebuild",
            json.dumps(attribution, sort_keys=True),
        ],
    )
    return ErasureResult(
        erasure_id,
        request.identifier_type,
        len(customers),
        key_count,
        deleted,
        holding,
        unsearched,
        exports,
        attribution,
    )


def _json_list(rows: list[tuple[object, ...]]) -> str:
    """The first column of `rows` as a JSON array text (the order kept)."""
    return json.dumps([str(r[0]) for r in rows], separators=(",", ":"))


def mark_rebuilt(con: Connection, erasure_ids: list[str]) -> None:
    """After the dbt rebuild: wait for removes where syncs held the person, else done."""
    held = f"cast(syncs_holding as {text_type(con)})"
    for erasure_id in erasure_ids:
        update_rows(
            con,
            ERASURE_LOG,
            {
                "status": f"case when {held} = '{{}}' then 'completed' else 'awaiting_removal' end",
                "completed_at": f"case when {held} = '{{}}' then cast(? as timestamp) end",
            },
            "erasure_id = ? and status = 'awaiting_rebuild'",
            [datetime.now(UTC).replace(tzinfo=None), erasure_id],
        )


def mark_rebuilt_before(con: Connection, started_at: datetime) -> list[str]:
    """After a complete, successful `cdp build` that started at `started_at` (naive UTC):
    every erasure still awaiting its rebuild that was requested before then has had it
    (`cdp privacy erase --no-build`, or its own rebuild failed). Returns their ids."""
    if not relation_exists(con, "privacy", "erasure_log"):
        return []
    rows = con.execute(
        f"select erasure_id from {ERASURE_LOG} "
        "where status = 'awaiting_rebuild' and requested_at < ? order by requested_at",
        [started_at],
    ).fetchall()
    ids = [str(row[0]) for row in rows]
    mark_rebuilt(con, ids)
    return ids


def _attribution(con: Connection, present: list[str]) -> dict[str, dict[str, int]]:
    """Per identity-source raw table: matched rows whose source record identity put on
    another customer, or on none (not built yet, or linked by nothing identity uses).

    A table is an identity source when its first record key is its own
    (`<table>:<id>`), which is how `marts.customer_source_records` names it."""
    if not relation_exists(con, "marts", "customer_source_records"):
        return {}
    dialect = dialect_of(con)
    text = text_type(con)
    found: dict[str, dict[str, int]] = {}
    for table, keys in TABLE_KEYS.items():
        if table not in present or not keys.records or keys.records[0][0] != table:
            continue
        template = keys.records[0][1]
        names = [part.split("}", 1)[0] for part in template.split("{")[1:]]

        def column(name: str) -> str:
            return f"r.{quoted(name, dialect)}"

        record_id = template.format(**{n: column(n) for n in names})
        row = con.execute(
            f"""with owners as (
                select upper(trim(source_record_id)) as record_id, min(customer_id) as owner
                from marts.customer_source_records where source_name = ? group by 1
            )
            select
                count(*) filter (where o.owner is not null and s.customer_id is null),
                count(*) filter (where o.owner is null)
            from raw.{quoted(table, dialect)} r
            left join owners o on o.record_id = upper(trim(cast({record_id} as {text})))
            -- a join, not `not in (select ...)`: Spark takes no subquery in a filter clause
            left join privacy_subject_customers s on s.customer_id = o.owner
            where {erased_predicate(table, column, SUBJECT_KEYS, dialect)}""",
            [table],
        ).fetchone()
        elsewhere, nowhere = (int(row[0]), int(row[1])) if row else (0, 0)
        if elsewhere or nowhere:
            found[table] = {"other_customers": elsewhere, "no_customer": nowhere}
    return found


def _delete(con: Connection, relation: str, where: str) -> int:
    row = con.execute(f"select count(*) from {relation} where {where}").fetchone()
    count = int(row[0]) if row else 0
    if count:
        delete_rows(con, relation, where)
    return count


def _derived_customer_tables(con: Connection) -> list[str]:
    """Base tables (not views) of the derived schemas that have a customer_id column."""
    if isinstance(con, SparkConnection):
        return [
            f"{quoted(schema, 'spark')}.{quoted(name, 'spark')}"
            for schema in DERIVED_SCHEMAS
            for name, kind in sorted(tables_of(con, schema).items())
            if kind == "BASE TABLE" and "customer_id" in con.columns(f"{schema}.{name}")
        ]
    marks = ", ".join("?" for _ in DERIVED_SCHEMAS)
    rows = con.execute(
        f"""select distinct c.table_schema, c.table_name
        from information_schema.columns c join information_schema.tables t
          on t.table_catalog = c.table_catalog and t.table_schema = c.table_schema
         and t.table_name = c.table_name
        where c.table_catalog = current_database() and c.column_name = 'customer_id'
          and t.table_type = 'BASE TABLE' and c.table_schema in ({marks})
        order by 1, 2""",
        list(DERIVED_SCHEMAS),
    ).fetchall()
    return [f"{quoted(str(s))}.{quoted(str(t))}" for s, t in rows]


def erase_requests(
    con: Connection,
    requests: list[ErasureRequest],
    progress: Progress,
    exports_dir: Path | None = None,
) -> list[ErasureResult]:
    """Erase every request in one transaction: all of them or none; then delete the
    people's access exports in `exports_dir` (files go only once the erasure holds)."""
    results = []
    con.execute("begin")
    try:
        for number, request in enumerate(requests, start=1):
            result = erase_one(con, request, exports_dir=exports_dir)
            progress(f"request {number}/{len(requests)}: {result.render()}")
            results.append(result)
        con.execute("commit")
    except BaseException:
        con.execute("rollback")
        raise
    for result in results:
        for path in result.access_exports:
            path.unlink(missing_ok=True)
    return results
