"""The warehouse-access layer: the one place that opens a warehouse (docs/engines.md).

- `open_warehouse(settings, read_only=...)`: the configured target (CDP_TARGET:
  duckdb, postgres, spark) as a `Warehouse`: SQL in DuckDB's dialect, translated
  by SQLGlot; rows, Arrow or pandas back; transactions where the engine has them.
- `connect_duckdb(path, read_only=...)`: DuckDB's own connection, for code that
  needs DuckDB's API; waits for another process's lock (CDP_LOCK_TIMEOUT).
- `connect_memory()`: a private in-memory DuckDB.
- `require_duckdb(settings, feature)`: a DuckDB-only feature refuses other
  targets at start-up, in one line.

Every failure is a `WarehouseError` whose message is one line.
"""

from cdp.warehouse.access import (
    TARGETS,
    DuckDBWarehouse,
    Warehouse,
    check_target,
    connect_postgres,
    open_warehouse,
    require_duckdb,
    translate,
)
from cdp.warehouse.duckdb_files import (
    LOCK_TIMEOUT_ENV,
    connect_duckdb,
    connect_memory,
    lock_holder,
    lock_timeout,
    wait_until_free,
)
from cdp.warehouse.errors import TargetUnsupported, WarehouseError, WarehouseLocked, one_line

__all__ = [
    "LOCK_TIMEOUT_ENV",
    "TARGETS",
    "DuckDBWarehouse",
    "TargetUnsupported",
    "Warehouse",
    "WarehouseError",
    "WarehouseLocked",
    "check_target",
    "connect_duckdb",
    "connect_memory",
    "connect_postgres",
    "lock_holder",
    "lock_timeout",
    "one_line",
    "open_warehouse",
    "require_duckdb",
    "translate",
    "wait_until_free",
]
