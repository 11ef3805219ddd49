"""The suites' inputs: what they read from the DuckDB warehouse, and the baselines kept there.

Baselines (the last accepted build's customer ids and segment sizes) live in the
`quality` schema and are written only after a check passed, so a bad build never
becomes the yardstick for the next one.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import duckdb
import pandas as pd

from cdp.warehouse import connect_duckdb

QUALITY_SCHEMA = "quality"


@contextmanager
def connect(warehouse: Path, *, read_only: bool = True) -> Iterator[duckdb.DuckDBPyConnection]:
    con = connect_duckdb(warehouse, read_only=read_only)
    try:
        yield con
    finally:
        con.close()


def _quote(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def relation_exists(con: duckdb.DuckDBPyConnection, schema: str, name: str) -> bool:
    row = con.execute(
        "select count(*) from information_schema.tables where table_schema = ? and table_name = ?",
        [schema, name],
    ).fetchone()
    return bool(row and row[0])


def read_relation(con: duckdb.DuckDBPyConnection, schema: str, name: str) -> pd.DataFrame:
    return con.execute(f"select * from {_quote(schema)}.{_quote(name)}").df()


def raw_rows_before_last_load(con: duckdb.DuckDBPyConnection, table: str) -> int | None:
    """Rows the raw table held before its latest load; None if it was loaded once or never."""
    row = con.execute(
        f"select count(distinct _loaded_at), "
        f"count(*) filter (where _loaded_at < (select max(_loaded_at) from raw.{_quote(table)})) "
        f"from raw.{_quote(table)}"
    ).fetchone()
    if not row or row[0] < 2:
        return None
    return int(row[1])


def consent_frame(con: duckdb.DuckDBPyConnection) -> pd.DataFrame:
    return con.execute(
        "select *, (subject_email is not null or subject_phone_e164 is not null "
        "or source_record_id is not null) as has_subject "
        "from staging.stg_consent__consent_events"
    ).df()


# --- baselines ---------------------------------------------------------------------


def _ensure_quality(con: duckdb.DuckDBPyConnection) -> None:
    con.execute(f"create schema if not exists {QUALITY_SCHEMA}")
    con.execute(
        f"create table if not exists {QUALITY_SCHEMA}.customer_ids_last_build "
        "(customer_id varchar primary key)"
    )
    con.execute(
        f"create table if not exists {QUALITY_SCHEMA}.segment_sizes_last_build "
        "(segment varchar primary key, members bigint, recorded_at timestamp)"
    )


def customer_id_changes(con: duckdb.DuckDBPyConnection) -> pd.DataFrame | None:
    """One row per id of the last accepted or the current build: change = kept | new | gone.
    None when there is no accepted build yet."""
    if not relation_exists(con, QUALITY_SCHEMA, "customer_ids_last_build"):
        return None
    row = con.execute(f"select count(*) from {QUALITY_SCHEMA}.customer_ids_last_build").fetchone()
    if not row or not row[0]:
        return None
    return con.execute(
        f"""
        select
            coalesce(current_ids.customer_id, last_ids.customer_id) as customer_id,
            case
                when last_ids.customer_id is null then 'new'
                when current_ids.customer_id is null then 'gone'
                else 'kept'
            end as change
        from (select distinct customer_id from marts.customers) as current_ids
        full outer join {QUALITY_SCHEMA}.customer_ids_last_build as last_ids
            on current_ids.customer_id = last_ids.customer_id
        """
    ).df()


def record_customer_ids(con: duckdb.DuckDBPyConnection) -> None:
    _ensure_quality(con)
    con.execute("begin")
    con.execute(f"delete from {QUALITY_SCHEMA}.customer_ids_last_build")
    con.execute(
        f"insert into {QUALITY_SCHEMA}.customer_ids_last_build "
        "select distinct customer_id from marts.customers where customer_id is not null"
    )
    con.execute("commit")


def previous_segment_size(con: duckdb.DuckDBPyConnection, segment: str) -> int | None:
    if not relation_exists(con, QUALITY_SCHEMA, "segment_sizes_last_build"):
        return None
    row = con.execute(
        f"select members from {QUALITY_SCHEMA}.segment_sizes_last_build where segment = ?",
        [segment],
    ).fetchone()
    return int(row[0]) if row else None


def record_segment_size(con: duckdb.DuckDBPyConnection, segment: str, members: int) -> None:
    _ensure_quality(con)
    con.execute(
        f"insert or replace into {QUALITY_SCHEMA}.segment_sizes_last_build "
        "values (?, ?, current_timestamp::timestamp)",
        [segment, members],
    )
