"""The short end-of-run report: what landed, what was rejected, what was built.

Sections appear only for what exists in the warehouse, so the report grows as
later stages (identity resolution, segments, syncs) are added.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import duckdb

from cdp.landing import raw_table_counts


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


def _relations(con: duckdb.DuckDBPyConnection) -> set[tuple[str, str]]:
    rows = con.execute("select table_schema, table_name from information_schema.tables").fetchall()
    return {(schema, name) for schema, name in rows}


def _count(con: duckdb.DuckDBPyConnection, schema: str, name: str) -> int:
    row = con.execute(f'select count(*) from "{schema}"."{name}"').fetchone()
    return int(row[0]) if row else 0


def collect_summary(warehouse_path: Path) -> RunSummary:
    """Read the report's figures from the warehouse (read-only)."""
    if not warehouse_path.exists():
        return RunSummary()
    raw = raw_table_counts(warehouse_path)
    with duckdb.connect(str(warehouse_path), read_only=True) as con:
        relations = _relations(con)
        staging = {
            name: _count(con, schema, name)
            for schema, name in sorted(relations)
            if schema == "staging"
        }
        customers = reachable = None
        if ("marts", "customers") in relations:
            customers = _count(con, "marts", "customers")
            row = con.execute(
                "select count(*) from marts.customers "
                "where email is not null or phone_e164 is not null"
            ).fetchone()
            reachable = int(row[0]) if row else 0
        segments: dict[str, int] = {}
        if ("marts", "segment_memberships") in relations:
            segments = dict(
                con.execute(
                    "select segment_name, count(*) from marts.segment_memberships "
                    "group by segment_name"
                ).fetchall()
            )
        synced: dict[str, int] = {}
        if ("reverse_etl", "sync_runs") in relations:
            synced = dict(
                con.execute(
                    "select sync_name, sum(rows_sent) from reverse_etl.sync_runs group by sync_name"
                ).fetchall()
            )
    return RunSummary(
        raw=raw,
        staging=staging,
        customers=customers,
        reachable_customers=reachable,
        segments=segments,
        rows_synced=synced,
    )
