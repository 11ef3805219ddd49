"""The bookkeeping the loader keeps beside the raw tables, in portable terms.

`raw._landed_files` has one row per landing attempt of a file: a `loaded` row
makes later runs skip any file with the same content (sha256) for that table;
a `failed` row records why a whole file could not be landed (it is tried
again on the next run). `raw._rejects` has one row per rejected record.
Every raw table carries three load metadata columns.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Literal

from cdp.landing.registry import DataType

MANIFEST_TABLE = "_landed_files"
REJECTS_TABLE = "_rejects"

BIGINT = DataType("bigint")
VARCHAR = DataType("varchar")
TIMESTAMP = DataType("timestamp")

# Load metadata columns of every raw table, after the declared columns.
LOADED_AT = "_loaded_at"
SOURCE_FILE = "_source_file"
SOURCE_LINE = "_source_line"
METADATA_COLUMNS: tuple[tuple[str, DataType], ...] = (
    (LOADED_AT, TIMESTAMP),  # UTC start of the ingest run that landed the row
    (SOURCE_FILE, VARCHAR),  # path relative to the input folder
    (SOURCE_LINE, BIGINT),  # 1-based line where the record starts (row number for Parquet)
)

MANIFEST_COLUMNS: tuple[tuple[str, DataType], ...] = (
    ("source_file", VARCHAR),
    ("table_name", VARCHAR),
    ("sha256", VARCHAR),
    ("size_bytes", BIGINT),
    ("status", VARCHAR),  # loaded | failed
    ("rows_in", BIGINT),
    ("rows_loaded", BIGINT),
    ("rows_rejected", BIGINT),
    ("error", VARCHAR),  # why a failed file could not be landed
    ("loaded_at", TIMESTAMP),
)

REJECTS_COLUMNS: tuple[tuple[str, DataType], ...] = (
    ("table_name", VARCHAR),
    ("source_file", VARCHAR),
    ("line_number", BIGINT),
    ("reason", VARCHAR),
    ("raw_record", VARCHAR),  # the record's whole text (JSON of the row for Parquet)
    ("rejected_at", TIMESTAMP),
)

FileStatus = Literal["loaded", "failed"]


@dataclass(frozen=True)
class ManifestEntry:
    """One row of `raw._landed_files`."""

    source_file: str
    table_name: str
    sha256: str | None
    size_bytes: int | None
    status: FileStatus
    rows_in: int
    rows_loaded: int
    rows_rejected: int
    error: str | None
    loaded_at: datetime

    @classmethod
    def loaded(
        cls,
        source_file: str,
        table_name: str,
        sha256: str,
        size_bytes: int,
        rows_in: int,
        rows_rejected: int,
        loaded_at: datetime,
    ) -> ManifestEntry:
        """The entry of a file that landed: every row in is loaded or rejected."""
        return cls(
            source_file=source_file,
            table_name=table_name,
            sha256=sha256,
            size_bytes=size_bytes,
            status="loaded",
            rows_in=rows_in,
            rows_loaded=rows_in - rows_rejected,
            rows_rejected=rows_rejected,
            error=None,
            loaded_at=loaded_at,
        )

    def values(self) -> tuple[object, ...]:
        """The row in MANIFEST_COLUMNS order."""
        return tuple(getattr(self, name) for name, _ in MANIFEST_COLUMNS)
