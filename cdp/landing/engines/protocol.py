"""The interface the ingest run needs from a warehouse.

Implemented by `duckdb.DuckDBWarehouse`, `postgres.PostgresWarehouse` and
`spark.SparkWarehouse` (modules of `cdp.landing.engines`); `open_warehouse` in
`cdp/landing/engines/__init__.py` picks one.
"""

from __future__ import annotations

from datetime import datetime
from typing import Protocol

from cdp.landing.files import FileStats, SourceFile
from cdp.landing.limits import ColumnLimits
from cdp.landing.manifest import ManifestEntry
from cdp.landing.registry import Registry, TableSpec
from cdp.landing.result import FileResult


class Warehouse(Protocol):
    def prepare(self, registry: Registry) -> list[str]:
        """Create the raw schema, bookkeeping tables and missing raw tables; return warnings."""
        ...

    def landed_as(self, table: str, sha256: str) -> str | None:
        """The file already landed into `table` with this content hash, if any."""
        ...

    def land_file(
        self,
        spec: TableSpec,
        file: SourceFile,
        stats: FileStats,
        loaded_at: datetime,
        limits: ColumnLimits,
    ) -> FileResult:
        """Land one file in one transaction: its rows, its rejects and its manifest row.

        New columns are capped by `limits`; a file none of whose rows land adds none.

        Raises FileFailed (after rolling back) when the file as a whole cannot be landed.
        """
        ...

    def record_failure(self, entry: ManifestEntry) -> None:
        """Record a file that could not be landed (a `failed` manifest row)."""
        ...

    def close(self) -> None: ...
