"""Raw landing: CSV, JSON lines and Parquet files into the warehouse's `raw` schema.

    from cdp.landing import ingest
    result = ingest(input_dir, warehouse_path, dbt_project_dir, progress=print)
    print(result.render())

What lands where is declared in the dbt source YAMLs (see registry.py); how
rows are checked, rejected and kept idempotent is described in README.md.
"""

from cdp.landing.engines.duckdb import raw_table_counts
from cdp.landing.errors import LandingError
from cdp.landing.ingest import ingest
from cdp.landing.registry import Registry, TableSpec, load_registry
from cdp.landing.result import FileResult, IngestResult, TableResult

__all__ = [
    "FileResult",
    "IngestResult",
    "LandingError",
    "Registry",
    "TableResult",
    "TableSpec",
    "ingest",
    "load_registry",
    "raw_table_counts",
]
