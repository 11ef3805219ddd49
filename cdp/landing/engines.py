"""Which warehouse the ingest run writes to: CDP_TARGET picks duckdb, postgres or spark.

The engine modules are imported only when chosen, so psycopg2 and pyspark are
needed only by the targets that use them.
"""

from __future__ import annotations

from pathlib import Path

from cdp.landing.errors import LandingError
from cdp.landing.warehouse import Warehouse

TARGETS = ("duckdb", "postgres", "spark")


def check_target(target: str) -> str:
    """The target name, or LandingError naming the allowed ones."""
    if target not in TARGETS:
        raise LandingError(
            f"unknown target {target!r} (CDP_TARGET must be one of {', '.join(TARGETS)})"
        )
    return target


def describe_warehouse(target: str, warehouse_path: Path) -> str:
    """Where a target's raw schema lives, for progress lines."""
    if target == "postgres":
        from cdp.landing.postgres_loader import PostgresConfig

        return PostgresConfig.from_env().describe()
    if target == "spark":
        from cdp.landing.spark_loader import SparkConfig

        return SparkConfig.from_env().describe()
    return str(warehouse_path)


def open_warehouse(target: str, warehouse_path: Path) -> Warehouse:
    """Open the warehouse of `target`; LandingError if it cannot be opened."""
    check_target(target)
    if target == "postgres":
        from cdp.landing.postgres_loader import PostgresConfig, PostgresWarehouse

        return PostgresWarehouse.open(PostgresConfig.from_env())
    if target == "spark":
        from cdp.landing.spark_loader import SparkConfig, SparkWarehouse

        return SparkWarehouse.open(SparkConfig.from_env())
    from cdp.landing.duckdb_loader import DuckDBWarehouse

    return DuckDBWarehouse.open(Path(warehouse_path))
