"""Landing engines, one place each, and the choice between them.

CDP_TARGET picks the warehouse the ingest run writes to:

| target | where |
| --- | --- |
| `duckdb` | `duckdb/` (a subpackage: the landing SQL every engine stages with) |
| `postgres` | `postgres.py` |
| `spark` | `spark.py` |

Each implements `protocol.Warehouse`. The engine modules are imported only
when chosen, so psycopg2 and pyspark are needed only by the targets that use them.
"""

from __future__ import annotations

from pathlib import Path

from cdp.landing.engines.protocol import Warehouse
from cdp.landing.errors import LandingError

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
        from cdp.landing.engines.postgres import PostgresConfig

        return PostgresConfig.from_env().describe()
    if target == "spark":
        from cdp.landing.engines.spark import SparkConfig

        return SparkConfig.from_env().describe()
    return str(warehouse_path)


def open_warehouse(target: str, warehouse_path: Path) -> Warehouse:
    """Open the warehouse of `target`; LandingError if it cannot be opened."""
    check_target(target)
    if target == "postgres":
        from cdp.landing.engines.postgres import PostgresConfig, PostgresWarehouse

        return PostgresWarehouse.open(PostgresConfig.from_env())
    if target == "spark":
        from cdp.landing.engines.spark import SparkConfig, SparkWarehouse

        return SparkWarehouse.open(SparkConfig.from_env())
    from cdp.landing.engines.duckdb import DuckDBWarehouse

    return DuckDBWarehouse.open(Path(warehouse_path))
