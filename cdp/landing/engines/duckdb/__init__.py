"""The DuckDB engine: lands files into the `raw` schema of a DuckDB file.

It is also where the landing rules live as SQL: every engine stages its files
with this code, so rows, rejects and reasons are the same everywhere.

| module | job |
| --- | --- |
| `loader.py` | `DuckDBWarehouse`: tables, manifest, one transaction per file |
| `staging.py` | runs the staging SQL for one file |
| `sql.py` | SQL text: reading lines and CSV records, inserts |
| `casting.py` | SQL text: casting values and reject reasons |
| `validator.py` | stages a file in a private DuckDB, exports it for the other engines |
"""

from cdp.landing.engines.duckdb.loader import DuckDBWarehouse, raw_table_counts

__all__ = ["DuckDBWarehouse", "raw_table_counts"]
