"""The suites' inputs: what they read from the warehouse, on every engine, and the
baselines kept there.

Everything goes through the warehouse-access layer (`cdp/warehouse`): queries are
written once in DuckDB's SQL and run on the target CDP_TARGET names (DuckDB,
PostgreSQL, Spark); each checked relation comes back as a pandas DataFrame that
the suites validate with GX's pandas datasource (expectations/README.md says why).

Baselines (the last accepted build's customer ids and segment sizes) live in the
`quality` schema of the same warehouse and are written only after a check passed,
so a bad build never becomes the yardstick for the next one. On DuckDB and
PostgreSQL each write is one transaction; Spark's plain Parquet tables have none,
so there a baseline table is replaced whole (`insert overwrite`).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pandas as pd

from cdp.config import Settings
from cdp.warehouse import DuckDBWarehouse, Warehouse, open_warehouse

QUALITY_SCHEMA = "quality"
CUSTOMER_IDS = f"{QUALITY_SCHEMA}.customer_ids_last_build"
SEGMENT_SIZES = f"{QUALITY_SCHEMA}.segment_sizes_last_build"


@contextmanager
def connect(warehouse: Settings | Path, *, read_only: bool = True) -> Iterator[Warehouse]:
    """The warehouse of `warehouse`'s target; a path is a DuckDB file (CDP_TARGET from the
    environment)."""
    settings = (
        warehouse
        if isinstance(warehouse, Settings)
        else dataclasses.replace(Settings.from_env(), warehouse_path=Path(warehouse))
    )
    with open_warehouse(settings, read_only=read_only) as opened:
        yield opened


def as_warehouse(con: Any) -> Warehouse:
    """A `Warehouse`, or a DuckDB connection opened elsewhere (tests) wrapped as one."""
    return con if isinstance(con, Warehouse) else DuckDBWarehouse.of(con)


def _quote(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def relation_exists(con: Warehouse, schema: str, name: str) -> bool:
    return con.has_relation(schema, name)


def read_relation(con: Warehouse, schema: str, name: str) -> pd.DataFrame:
    return con.df(f"select * from {_quote(schema)}.{_quote(name)}")


def raw_rows_before_last_load(con: Warehouse, table: str) -> int | None:
    """Rows the raw table held before its latest load; None if it was loaded once or never."""
    row = con.one(
        f"select count(distinct _loaded_at), "
        f"count(*) filter (where _loaded_at < (select max(_loaded_at) from raw.{_quote(table)})) "
        f"from raw.{_quote(table)}"
    )
    if not row or row[0] < 2:
        return None
    return int(row[1])


def consent_frame(con: Warehouse) -> pd.DataFrame:
    return con.df(
        "select *, (subject_email is not null or subject_phone_e164 is not null "
        "or source_record_id is not null) as has_subject "
        "from staging.stg_consent__consent_events"
    )


# --- baselines ---------------------------------------------------------------------


def _ensure_quality(con: Warehouse) -> None:
    # Spark: Parquet tables, as the loader's (no Hive SerDe tables)
    using = " using parquet" if con.target == "spark" else ""
    con.execute(f"create schema if not exists {QUALITY_SCHEMA}")
    con.execute(f"create table if not exists {CUSTOMER_IDS} (customer_id varchar){using}")
    con.execute(
        f"create table if not exists {SEGMENT_SIZES} "
        f"(segment varchar, members bigint, recorded_at timestamp){using}"
    )


def customer_id_changes(con: Warehouse) -> pd.DataFrame | None:
    """One row per id of the last accepted or the current build: change = kept | new | gone.
    None when there is no accepted build yet."""
    if not relation_exists(con, QUALITY_SCHEMA, "customer_ids_last_build"):
        return None
    row = con.one(f"select count(*) from {CUSTOMER_IDS}")
    if not row or not row[0]:
        return None
    return con.df(
        f"""
        select
            coalesce(current_ids.customer_id, last_ids.customer_id) as customer_id,
            case
                when last_ids.customer_id is null then 'new'
                when current_ids.customer_id is null then 'gone'
                else 'kept'
            end as change
        from (select distinct customer_id from marts.customers) as current_ids
        full outer join {CUSTOMER_IDS} as last_ids
            on current_ids.customer_id = last_ids.customer_id
        """
    )


def record_customer_ids(con: Warehouse) -> None:
    _ensure_quality(con)
    current = "select distinct customer_id from marts.customers where customer_id is not null"
    if not con.has_transactions:  # Spark: replace the table's files in one statement
        con.execute(f"insert overwrite table {CUSTOMER_IDS} {current}")
        return
    with con.transaction():
        con.execute(f"delete from {CUSTOMER_IDS}")
        con.execute(f"insert into {CUSTOMER_IDS} {current}")


def previous_segment_size(con: Warehouse, segment: str) -> int | None:
    if not relation_exists(con, QUALITY_SCHEMA, "segment_sizes_last_build"):
        return None
    row = con.one(f"select members from {SEGMENT_SIZES} where segment = ?", [segment])
    return int(row[0]) if row else None


def record_segment_size(con: Warehouse, segment: str, members: int) -> None:
    _ensure_quality(con)
    now = datetime.now(UTC).replace(tzinfo=None)
    if not con.has_transactions:
        # Spark: read the other segments' rows first, then replace the table with them
        # and this one (a statement that reads the table it overwrites is refused).
        kept = con.rows(
            f"select segment, members, recorded_at from {SEGMENT_SIZES} where segment <> ?",
            [segment],
        )
        rows = [*kept, (segment, members, now)]
        values = ", ".join("(?, ?, ?)" for _ in rows)
        params = [value for row in rows for value in row]
        con.execute(f"insert overwrite table {SEGMENT_SIZES} values {values}", params)
        return
    with con.transaction():
        con.execute(f"delete from {SEGMENT_SIZES} where segment = ?", [segment])
        con.execute(f"insert into {SEGMENT_SIZES} values (?, ?, ?)", [segment, members, now])
