"""Read-only access to the identity tables of the DuckDB warehouse, for `cdp identity`."""

from __future__ import annotations

from pathlib import Path

import duckdb


class IdentityDataMissing(RuntimeError):
    """The warehouse has no identity tables yet (run `cdp build` first)."""


def connect(warehouse_path: Path) -> duckdb.DuckDBPyConnection:
    """Open the warehouse read-only; fail clearly when identity was never built."""
    if not Path(warehouse_path).exists():
        raise IdentityDataMissing(f"no warehouse at {warehouse_path}; run `cdp run` or `cdp build`")
    connection = duckdb.connect(str(warehouse_path), read_only=True)
    found = connection.execute(
        "select count(*) from information_schema.tables "
        "where table_schema = 'marts' and table_name = 'customer_source_records'"
    ).fetchone()
    if not found or not found[0]:
        connection.close()
        raise IdentityDataMissing(
            f"{warehouse_path} has no marts.customer_source_records; run `cdp build` first"
        )
    return connection
