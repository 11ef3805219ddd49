"""The short end-of-run report: what landed, what was rejected, what was built.

Sections appear only for what exists in the warehouse, so the report grows as
later stages (identity resolution, segments, syncs) are added. It reads the
configured target (CDP_TARGET) through the warehouse-access layer; on Spark the
rows synced come from the syncs' DuckDB state file (CDP_SYNC_STATE_PATH).
"""

from __future__ import annotations

from dataclasses import dataclass, field

from cdp.config import Settings
from cdp.landing.manifest import REJECTS_TABLE
from cdp.landing.registry import RAW_SCHEMA
from cdp.warehouse import Warehouse, WarehouseError, connect_duckdb, open_warehouse


@dataclass(frozen=True)
class RunSummary:
    raw: dict[str, tuple[int, int]] = field(default_factory=dict)
    staging: dict[str, int] = field(default_factory=dict)
    customers: int | None = None
    reachable_customers: int | None = None
    segments: dict[str, int] = field(default_factory=dict)
    rows_synced: dict[str, int] = field(default_factory=dict)

    def render(self) -> str:
        lines: list[str] = []
        if self.raw:
            lines.append("Raw landing (rows landed / rejected)")
            width = max(len(name) for name in self.raw)
            for name, (landed, rejected) in sorted(self.raw.items()):
                lines.append(f"  {name:<{width}}  {landed:>10,}  {rejected:>6,}")
            total_landed = sum(v[0] for v in self.raw.values())
            total_rejected = sum(v[1] for v in self.raw.values())
            lines.append(f"  {'total':<{width}}  {total_landed:>10,}  {total_rejected:>6,}")
            if total_rejected:
                lines.append("  rejected rows and their reasons: select * from raw._rejects")
        if self.staging:
            lines.append("Staging models (rows)")
            width = max(len(name) for name in self.staging)
            for name, rows in sorted(self.staging.items()):
                lines.append(f"  {name:<{width}}  {rows:>10,}")
        if self.customers is not None:
            lines.append(f"Customers (golden profiles): {self.customers:,}")
            if self.reachable_customers is not None:
                anonymous = self.customers - self.reachable_customers
                lines.append(
                    f"  with an email or phone: {self.reachable_customers:,}; "
                    f"without either: {anonymous:,}"
                )
        if self.segments:
            lines.append("Segments (members)")
            for name, size in sorted(self.segments.items()):
                lines.append(f"  {name}: {size:,}")
        if self.rows_synced:
            lines.append("Rows synced")
            for name, rows in sorted(self.rows_synced.items()):
                lines.append(f"  {name}: {rows:,}")
        if not lines:
            return "The warehouse is empty: run `cdp run` first."
        return "\n".join(lines)


def _count(wh: Warehouse, schema: str, name: str) -> int:
    row = wh.one(f'select count(*) from "{schema}"."{name}"')
    return int(row[0]) if row else 0


def _raw_counts(wh: Warehouse, relations: set[tuple[str, str]]) -> dict[str, tuple[int, int]]:
    """Rows landed and rejected per raw table (what `raw_table_counts` reports on DuckDB)."""
    rejected: dict[str, int] = {}
    if (RAW_SCHEMA, REJECTS_TABLE) in relations:
        rows = wh.rows(
            f"select table_name, count(*) from {RAW_SCHEMA}.{REJECTS_TABLE} group by table_name"
        )
        rejected = {str(name): int(n) for name, n in rows}
    counts: dict[str, tuple[int, int]] = {}
    for schema, table in sorted(relations):
        if schema == RAW_SCHEMA and not table.startswith("_"):
            counts[table] = (_count(wh, schema, table), rejected.pop(table, 0))
    counts.update({table: (0, n) for table, n in rejected.items()})
    return counts


SYNCED_SQL = "select sync_name, sum(rows_sent) from reverse_etl.sync_runs group by 1"


def _spark_synced(settings: Settings) -> dict[str, int]:
    """Rows sent per sync on Spark, whose sync state lives in a DuckDB state file
    (CDP_SYNC_STATE_PATH, reverse_etl/engine/db.py), not in the Spark catalog."""
    from reverse_etl.engine.db import spark_state_path

    try:
        path = spark_state_path(settings)
    except WarehouseError:
        return {}  # no Spark folder: nothing was synced
    if not path.is_file():
        return {}
    con = connect_duckdb(path, read_only=True)
    try:
        present = con.execute(
            "select count(*) from duckdb_tables() where schema_name = 'reverse_etl' "
            "and table_name = 'sync_runs'"
        ).fetchone()
        if not present or not present[0]:
            return {}
        rows = con.execute(SYNCED_SQL).fetchall()
    finally:
        con.close()
    return {str(name): int(n or 0) for name, n in rows}


def collect_summary(settings: Settings) -> RunSummary:
    """Read the report's figures from the configured warehouse (read-only)."""
    if settings.target == "duckdb" and not settings.warehouse_path.exists():
        return RunSummary()
    with open_warehouse(settings, read_only=True) as wh:
        relations = wh.relations()
        raw = _raw_counts(wh, relations)
        staging = {
            name: _count(wh, schema, name)
            for schema, name in sorted(relations)
            if schema == "staging"
        }
        customers = reachable = None
        if ("marts", "customers") in relations:
            customers = _count(wh, "marts", "customers")
            row = wh.one(
                "select count(*) from marts.customers "
                "where email is not null or phone_e164 is not null"
            )
            reachable = int(row[0]) if row else 0
        segments: dict[str, int] = {}
        if ("marts", "segment_memberships") in relations:
            segments = {
                str(name): int(n)
                for name, n in wh.rows(
                    "select segment_name, count(*) from marts.segment_memberships "
                    "group by segment_name"
                )
            }
        synced: dict[str, int] = {}
        if ("reverse_etl", "sync_runs") in relations:
            synced = {str(name): int(n or 0) for name, n in wh.rows(SYNCED_SQL)}
    if settings.target == "spark":
        synced = _spark_synced(settings)
    return RunSummary(
        raw=raw,
        staging=staging,
        customers=customers,
        reachable_customers=reachable,
        segments=segments,
        rows_synced=synced,
    )
