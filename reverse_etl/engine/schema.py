"""The `reverse_etl` schema in the warehouse.

sync_state       what each destination acknowledged, per sync and key: the content
                 hash and payload last acknowledged, and the destination's record id.
                 A NULL content_hash marks a row to resend in full (--full-resync).
sync_outbox      batches written before sending and deleted in the transaction that
                 records their acknowledgement; a row left here means "outcome unknown".
sync_runs        one row per run with counts, timings, status and error.
sync_rejections  one row per refused row per run: reason, attempts so far for that
                 content, and whether it is terminal (not retried until the content changes).
"""

from __future__ import annotations

from typing import Protocol

SCHEMA = "reverse_etl"

DDL = f"""
create schema if not exists {SCHEMA};
create sequence if not exists {SCHEMA}.sync_run_id_seq start 1;
create table if not exists {SCHEMA}.sync_state (
    sync_name varchar not null,
    key varchar not null,
    content_hash varchar,
    payload json,
    destination_id varchar,
    acknowledged_at timestamptz not null,
    primary key (sync_name, key)
);
create table if not exists {SCHEMA}.sync_outbox (
    batch_id varchar primary key,
    sync_name varchar not null,
    run_id bigint not null,
    phase varchar not null,
    mode varchar not null,
    rows json not null,
    created_at timestamptz not null
);
create table if not exists {SCHEMA}.sync_runs (
    run_id bigint primary key,
    sync_name varchar not null,
    started_at timestamptz not null,
    finished_at timestamptz,
    status varchar not null,
    full_resync boolean not null default false,
    rows_added bigint not null default 0,
    rows_updated bigint not null default 0,
    rows_removed bigint not null default 0,
    rows_rejected bigint not null default 0,
    rows_sent bigint not null default 0,
    requests bigint not null default 0,
    error varchar
);
create table if not exists {SCHEMA}.sync_rejections (
    run_id bigint not null,
    sync_name varchar not null,
    key varchar not null,
    content_hash varchar,
    reason varchar not null,
    attempts integer not null,
    terminal boolean not null,
    rejected_at timestamptz not null
);
"""


class _Executes(Protocol):
    def execute(self, sql: str) -> object: ...


def ensure_schema(con: _Executes) -> None:
    """Create the schema and tables if missing (idempotent). `con`: a DuckDB
    connection or a `SyncDatabase` (the same DDL runs on DuckDB and PostgreSQL)."""
    con.execute(DDL)
