"""Erasure on Spark: the steps of erase.py in an order that a crash cannot break.

Spark's Parquet tables have no transactions and no `DELETE`, so an erasure
cannot commit as one; each table is rewritten instead
(`SparkConnection.rewrite`: the rows to keep staged in a scratch table of
`privacy_rewrite`, then `insert overwrite` from it). The steps are recorded in
`privacy.erasure_steps` (erasure id, step, relation, rows; hashes and counts,
never an identifier), and each is done once:

1. `planned`: the request's type and hash, the customers' hashes, the syncs
   holding them, the attribution and the access exports to delete, found
   while the warehouse still holds the person;
2. `tombstoned`: the hashed keys written to `privacy.erasure_tombstones`, so
   from here on the loaders keep the person out, and the keys every later
   step matches by are stored (the marts that found them are about to lose
   the person);
3. per table, raw ones first (erase.py's order), then `raw._rejects`, then the
   derived tables keyed by customer_id (matched by the customer id's hash):
   `staged` with the rows to delete once the scratch copy holds every row to
   keep, then `rewritten` once the table has been overwritten from it;
4. the audit record in `privacy.erasure_log` (status `awaiting_rebuild`),
   with the rows deleted summed from the steps; then the access exports go.

A run stopped anywhere is finished by running the same request again: an
erasure `planned` for the same request type and hash that has no audit record
resumes where it stopped. A table `staged` whose scratch copy still exists is
overwritten from that copy (the overwrite may have been cut short: the copy
has every row to keep); `staged` without a copy was overwritten; a table not
`staged` was not touched. Each table's count is recorded once, so nothing is
counted twice. What Spark cannot give: between the steps, a reader sees some
tables without the person and others still with them, until the audit record
is written (run nothing else on the catalog meanwhile; the Derby metastore
admits one process anyway).
"""

from __future__ import annotations

import json
import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from cdp.landing.tombstones import TABLE_KEYS, TOMBSTONES, sha256_hex, text_email_predicate
from cdp.privacy import destinations
from cdp.privacy.connection import SparkConnection, scratch_of, spark_literal, temp_table
from cdp.privacy.erase import (
    ERASURE_LOG,
    ErasureResult,
    _attribution,
    _derived_customer_tables,
    _json_list,
    access_exports_of,
    ensure_privacy_tables,
)
from cdp.privacy.subject import (
    SUBJECT_KEYS,
    ErasureRequest,
    collect_keys,
    quoted,
    raw_predicate,
    raw_tables,
    request_hash,
    resolve_customers,
    start_keys,
)

STEPS = "privacy.erasure_steps"
CUSTOMER_HASHES = "privacy_subject_customer_hashes"


@dataclass
class Plan:
    """What step 1 found, kept in the `planned` step's detail (JSON)."""

    requested_at: str
    requested_by: str
    reason: str
    customers: int
    customer_hashes: list[str]
    syncs_holding: dict[str, int]
    attribution: dict[str, dict[str, int]]
    unsearched: list[str]
    access_exports: list[str] = field(default_factory=list)


def ensure_steps_table(con: SparkConnection) -> None:
    con.execute(
        f"create table if not exists {STEPS} (erasure_id string, step string, "
        "relation string, rows bigint, detail string, recorded_at timestamp) using parquet"
    )


def record_step(
    con: SparkConnection, erasure_id: str, step: str, relation: str, rows: int, detail: str = ""
) -> None:
    """Append one step (one small Parquet file: it is there whole or not at all)."""
    con.execute(
        f"insert into {STEPS} values (?, ?, ?, ?, ?, ?)",
        [erasure_id, step, relation, rows, detail, datetime.now(UTC).replace(tzinfo=None)],
    )


def recorded(con: SparkConnection, erasure_id: str) -> dict[tuple[str, str], int]:
    """(step, relation) -> rows of every step recorded for the erasure."""
    rows = con.execute(
        f"select step, relation, max(rows) from {STEPS} where erasure_id = ? group by 1, 2",
        [erasure_id],
    ).fetchall()
    return {(str(s), str(r)): int(n) for s, r, n in rows}


def unfinished(con: SparkConnection, request_key: str) -> tuple[str, Plan] | None:
    """The erasure planned for this request whose audit record was never written."""
    row = con.execute(
        f"""select erasure_id, detail from {STEPS}
        where step = 'planned' and relation = ?
          and erasure_id not in (select erasure_id from {ERASURE_LOG})
        order by recorded_at desc limit 1""",
        [request_key],
    ).fetchone()
    return (str(row[0]), Plan(**json.loads(str(row[1])))) if row else None


def erase_one(
    con: SparkConnection,
    request: ErasureRequest,
    now: datetime | None = None,
    exports_dir: Path | None = None,
) -> ErasureResult:
    """Steps 1-4 for one request, or the rest of them for a run that stopped."""
    ensure_privacy_tables(con)
    ensure_steps_table(con)
    request_key = f"{request.identifier_type}:{request_hash(con, request)}"
    resumed = unfinished(con, request_key)
    if resumed is None:
        erasure_id, plan = _plan(con, request, now, exports_dir)
        record_step(con, erasure_id, "planned", request_key, plan.customers, _dump(plan))
    else:
        erasure_id, plan = resumed
    done = recorded(con, erasure_id)
    if ("tombstoned", TOMBSTONES) not in done:
        if resumed is not None:  # stopped before the tombstones: nothing was deleted yet
            start_keys(con, request, resolve_customers(con, request))
            collect_keys(con)
        _tombstone(con, erasure_id)
    _load_keys(con, erasure_id, plan)
    deleted = {
        label: _rewrite_step(con, erasure_id, relation, where, done)
        for label, relation, where in _targets(con)
    }
    deleted = {label: n for label, n in deleted.items() if not label.startswith("derived.") or n}
    exports = [Path(p) for p in plan.access_exports if Path(p).exists()]
    deleted["access_exports"] = len(plan.access_exports)
    row = con.execute(f"select count(*) from {SUBJECT_KEYS}").fetchone()
    key_count = int(row[0]) if row else 0
    key_hashes = _json_list(
        con.execute(
            f"select distinct identifier_hash from {SUBJECT_KEYS} order by identifier_hash"
        ).fetchall()
    )
    con.execute(
        f"""insert into {ERASURE_LOG} (erasure_id, requested_at, requested_by, reason,
            request_type, request_hash, customer_hashes, identifier_hashes, rows_deleted,
            syncs_holding, destinations, status, completed_at, attribution)
        values (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, null, ?, null, ?)""",
        [
            erasure_id,
            datetime.fromisoformat(plan.requested_at),
            plan.requested_by,
            plan.reason,
            request.identifier_type,
            request_key.split(":", 1)[1],
            json.dumps(plan.customer_hashes, separators=(",", ":")),
            key_hashes,
            json.dumps(deleted, sort_keys=True),
            json.dumps(plan.syncs_holding, sort_keys=True),
            "awaiting_rebuild",
            json.dumps(plan.attribution, sort_keys=True),
        ],
    )
    return ErasureResult(
        erasure_id,
        request.identifier_type,
        plan.customers,
        key_count,
        deleted,
        plan.syncs_holding,
        plan.unsearched,
        exports,
        plan.attribution,
    )


def _dump(plan: Plan) -> str:
    return json.dumps(plan.__dict__, sort_keys=True)


def _plan(
    con: SparkConnection,
    request: ErasureRequest,
    now: datetime | None,
    exports_dir: Path | None,
) -> tuple[str, Plan]:
    """Step 1: resolve the request while the warehouse still holds the person."""
    customers = resolve_customers(con, request)
    start_keys(con, request, customers)
    unsearched = collect_keys(con)
    hashes = con.execute(
        f"select {sha256_hex('customer_id', 'spark')} from privacy_subject_customers "
        "order by customer_id"
    ).fetchall()
    plan = Plan(
        requested_at=(now or datetime.now(UTC).replace(tzinfo=None)).isoformat(),
        requested_by=request.requested_by,
        reason=request.reason,
        customers=len(customers),
        customer_hashes=[str(h[0]) for h in hashes],
        syncs_holding=destinations.syncs_holding(con),
        attribution=_attribution(con, raw_tables(con)),
        unsearched=unsearched,
        access_exports=[str(p) for p in access_exports_of(exports_dir, customers)],
    )
    return f"er-{uuid.uuid4().hex[:12]}", plan


def _tombstone(con: SparkConnection, erasure_id: str) -> None:
    """Step 2 (one append), then recorded; a partial write is impossible, but a
    write whose step was not recorded is written again, so clear it first."""
    written = f"select 1 from {TOMBSTONES} where erasure_id = ? limit 1"
    if con.execute(written, [erasure_id]).fetchone():
        con.rewrite(
            TOMBSTONES,
            f"select * from {TOMBSTONES} where erasure_id <> {spark_literal(erasure_id)}",
            scratch_of(TOMBSTONES),
        )
    con.execute(
        f"insert into {TOMBSTONES} select ?, identifier_type, identifier_hash from {SUBJECT_KEYS}",
        [erasure_id],
    )
    record_step(con, erasure_id, "tombstoned", TOMBSTONES, 0)


def _load_keys(con: SparkConnection, erasure_id: str, plan: Plan) -> None:
    """The stored keys as the working tables the predicates read."""
    temp_table(
        con,
        SUBJECT_KEYS,
        f"as select identifier_type, identifier_hash from {TOMBSTONES} "
        f"where erasure_id = {spark_literal(erasure_id)}",
    )
    temp_table(con, CUSTOMER_HASHES, "(h varchar)")
    if plan.customer_hashes:
        con.executemany(
            f"insert into {CUSTOMER_HASHES} values (?)", [[h] for h in plan.customer_hashes]
        )


def _targets(con: SparkConnection) -> list[tuple[str, str, str]]:
    """(label in the audit record, relation, where) of every table to rewrite, in order."""
    present = raw_tables(con)
    found = [
        (table, f"raw.{quoted(table, 'spark')}", raw_predicate(table, "spark"))
        for table in TABLE_KEYS
        if table in present
    ]
    rejects = text_email_predicate("raw_record", SUBJECT_KEYS, "spark")
    found.append(("_rejects", "raw._rejects", rejects))
    erased = (
        f"{sha256_hex('cast(customer_id as string)', 'spark')} in (select h from {CUSTOMER_HASHES})"
    )
    for relation in _derived_customer_tables(con):
        schema, table = (part.strip("`") for part in relation.split("."))
        found.append((f'derived."{schema}"."{table}"', relation, erased))
    return found


def _rewrite_step(
    con: SparkConnection, erasure_id: str, relation: str, where: str, done: dict[Any, int]
) -> int:
    """Step 3 for one table, once: the rows deleted from it."""
    if ("rewritten", relation) in done:
        return done[("rewritten", relation)]
    scratch = scratch_of(relation)
    if ("staged", relation) in done:
        if con.scratch_exists(scratch):  # the overwrite may have been cut short
            con.overwrite_from(relation, scratch)
        rows = done[("staged", relation)]
    else:
        row = con.execute(f"select count(*) from {relation} where {where}").fetchone()
        rows = int(row[0]) if row else 0
        if rows:
            keep = f"select * from {relation} where coalesce(not ({where}), true)"
            con.stage(relation, keep, scratch)
            record_step(con, erasure_id, "staged", relation, rows)
            con.overwrite_from(relation, scratch)
    record_step(con, erasure_id, "rewritten", relation, rows)
    return rows
