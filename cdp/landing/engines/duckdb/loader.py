"""The DuckDB warehouse: lands files into the `raw` schema of a DuckDB file.

A file is first staged into temporary tables (nothing persistent), then one
transaction writes its good rows, its rejects and its manifest row: they
commit together or not at all.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from contextlib import contextmanager, suppress
from datetime import datetime
from pathlib import Path

import duckdb

from cdp.landing.columns import ColumnPlan
from cdp.landing.engines.duckdb import sql
from cdp.landing.engines.duckdb.staging import drop_staging, file_error, one_line, stage_file
from cdp.landing.errors import FileFailed, LandingError
from cdp.landing.files import FileStats, SourceFile
from cdp.landing.limits import ColumnLimits
from cdp.landing.manifest import (
    MANIFEST_COLUMNS,
    MANIFEST_TABLE,
    METADATA_COLUMNS,
    REJECTS_COLUMNS,
    REJECTS_TABLE,
    ManifestEntry,
)
from cdp.landing.registry import RAW_SCHEMA, DataType, Registry, TableSpec
from cdp.landing.result import FileResult
from cdp.landing.tombstones import SKIPS, drop_erased_staged, ensure_skips_table
from cdp.warehouse import WarehouseError, connect_duckdb

_METADATA_NAMES = [name for name, _ in METADATA_COLUMNS]


def _column_defs(columns: Sequence[tuple[str, DataType]]) -> str:
    return ", ".join(f"{sql.ident(name)} {sql.column_type(t)}" for name, t in columns)


class DuckDBWarehouse:
    """Implements `warehouse.Warehouse` on a DuckDB database file."""

    def __init__(self, con: duckdb.DuckDBPyConnection, path: Path) -> None:
        self._con = con
        self._path = path
        # Columns of each raw table as last read; dropped whenever a transaction
        # that may have altered the table rolls back.
        self._known_columns: dict[str, dict[str, str]] = {}
        # Text without an offset is UTC, and TIMESTAMPTZ casts read it so.
        self._con.execute("set TimeZone = 'UTC'")

    @classmethod
    def open(cls, path: Path) -> DuckDBWarehouse:
        """Open (creating if needed) the warehouse file; LandingError if it cannot be."""
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            return cls(connect_duckdb(path), path)
        except WarehouseError as exc:
            raise LandingError(str(exc)) from exc
        except (OSError, duckdb.Error) as exc:
            raise LandingError(f"cannot open warehouse {path}: {one_line(exc)}") from exc

    def close(self) -> None:
        self._con.close()

    @contextmanager
    def _transaction(self) -> Iterator[None]:
        self._con.execute("begin")
        try:
            yield
            self._con.execute("commit")
        except BaseException:
            self._known_columns.clear()
            with suppress(duckdb.Error):
                self._con.execute("rollback")
            raise

    # --- tables -----------------------------------------------------------------

    def prepare(self, registry: Registry) -> list[str]:
        try:
            with self._transaction():
                return self._create_tables(registry)
        except duckdb.Error as exc:
            raise LandingError(f"cannot prepare warehouse {self._path}: {one_line(exc)}") from exc

    def _create_tables(self, registry: Registry) -> list[str]:
        self._con.execute(f"create schema if not exists {RAW_SCHEMA}")
        for table, columns in (
            (MANIFEST_TABLE, MANIFEST_COLUMNS),
            (REJECTS_TABLE, REJECTS_COLUMNS),
        ):
            self._con.execute(
                f"create table if not exists raw.{sql.ident(table)} ({_column_defs(columns)})"
            )
        warnings: list[str] = []
        for spec in registry:
            wanted = [(c.name, c.data_type) for c in spec.columns] + list(METADATA_COLUMNS)
            existing = self._columns(spec.name)
            if not existing:
                self._con.execute(
                    f"create table raw.{sql.ident(spec.name)} ({_column_defs(wanted)})"
                )
                continue
            for name, data_type in wanted:
                if name not in existing:
                    self._add_column(spec.name, name, data_type)
                elif existing[name] != sql.column_type(data_type):
                    warnings.append(
                        f"raw.{spec.name}.{name} is {existing[name]} but declared "
                        f"{data_type}: values are converted to {existing[name]}"
                    )
        return warnings

    def _columns(self, table: str) -> dict[str, str]:
        if table in self._known_columns:
            return self._known_columns[table]
        rows = self._con.execute(
            "select column_name, data_type from duckdb_columns() "
            "where database_name = current_database() and schema_name = ? and table_name = ?",
            [RAW_SCHEMA, table],
        ).fetchall()
        columns = {str(name): str(data_type) for name, data_type in rows}
        if columns:
            self._known_columns[table] = columns
        return columns

    def _add_column(self, table: str, column: str, data_type: DataType) -> None:
        self._con.execute(
            f"alter table raw.{sql.ident(table)} add column {sql.ident(column)} "
            f"{sql.column_type(data_type)}"
        )
        self._known_columns.pop(table, None)

    def _ensure_columns(self, table: str, plan: ColumnPlan, rows_loaded: int) -> list[str]:
        """Add the file's columns the raw table lacks; a warning per undeclared column."""
        to_add, notes = plan.schema_changes(table, self._columns(table), rows_loaded)
        for column in to_add:
            self._add_column(table, column.target, column.data_type)
        return notes

    # --- manifest ---------------------------------------------------------------

    def landed_as(self, table: str, sha256: str) -> str | None:
        row = self._con.execute(
            f"select source_file from raw.{MANIFEST_TABLE} "
            "where table_name = ? and sha256 = ? and status = 'loaded' "
            "order by loaded_at limit 1",
            [table, sha256],
        ).fetchone()
        return str(row[0]) if row else None

    def record_failure(self, entry: ManifestEntry) -> None:
        self._insert_manifest(entry)

    def _insert_manifest(self, entry: ManifestEntry) -> None:
        marks = ", ".join("?" for _ in MANIFEST_COLUMNS)
        self._con.execute(
            f"insert into raw.{MANIFEST_TABLE} values ({marks})", list(entry.values())
        )

    # --- landing ----------------------------------------------------------------

    def land_file(
        self,
        spec: TableSpec,
        file: SourceFile,
        stats: FileStats,
        loaded_at: datetime,
        limits: ColumnLimits,
    ) -> FileResult:
        # Staging only fills temporary tables, so it runs before the transaction:
        # DuckDB reads tables created outside a transaction faster.
        try:
            existing = self._columns(spec.name)
            plan = stage_file(self._con, spec, file, stats, existing, limits)
            with self._transaction():
                return self._write(spec, file, stats, loaded_at, plan)
        except duckdb.Error as exc:
            raise FileFailed(f"cannot be landed: {file_error(exc, file)}") from exc
        finally:
            with suppress(duckdb.Error):
                drop_staging(self._con)

    def _write(
        self,
        spec: TableSpec,
        file: SourceFile,
        stats: FileStats,
        loaded_at: datetime,
        plan: ColumnPlan | None,
    ) -> FileResult:
        """Insert the staged rows and rejects, and the manifest row (inside the transaction)."""
        con = self._con
        rows_in = rejected = erased = 0
        if plan is None:
            warnings = ["file is empty: no header, no rows"]
        else:
            stamp = loaded_at.isoformat(sep=" ")
            targets = [c.target for c in plan.columns]
            erased = self._drop_erased(spec, file, targets, loaded_at)
            good = con.execute(sql.staged_good()).fetchone()
            rows_loaded = int(good[0]) if good else 0
            warnings = plan.warnings() + self._ensure_columns(spec.name, plan, rows_loaded)
            if rows_loaded:
                con.execute(
                    sql.insert_loaded(spec.name, targets, _METADATA_NAMES, stamp, file.relative)
                )
            con.execute(sql.insert_rejects(spec.name, REJECTS_TABLE, stamp, file.relative))
            counts = con.execute(sql.staged_counts()).fetchone()
            rows_in, rejected = (int(counts[0]), int(counts[1])) if counts else (0, 0)
        self._insert_manifest(
            ManifestEntry.loaded(
                file.relative, spec.name, stats.sha256, stats.size, rows_in, rejected, loaded_at
            )
        )
        landed = FileResult.loaded(file.relative, rows_in, rejected, warnings)
        landed.rows_erased = erased
        return landed

    def _drop_erased(
        self, spec: TableSpec, file: SourceFile, targets: list[str], loaded_at: datetime
    ) -> int:
        """Drop staged rows of erased people (cdp/landing/tombstones.py) and count them."""
        staged_columns = {name: f"t_{i}" for i, name in enumerate(targets, start=1)}
        erased = drop_erased_staged(self._con, spec.name, sql.STAGED, staged_columns)
        if erased:
            ensure_skips_table(self._con)
            self._con.execute(
                f"insert into {SKIPS} values (?, ?, ?, ?)",
                [spec.name, file.relative, erased, loaded_at],
            )
        return erased


def raw_table_counts(warehouse_path: Path) -> dict[str, tuple[int, int]]:
    """Rows landed and rows rejected per raw table, read from the warehouse file itself.

    Raises LandingError when the file does not exist or cannot be opened.
    """
    if not warehouse_path.is_file():
        raise LandingError(f"warehouse not found: {warehouse_path}")
    try:
        con = connect_duckdb(warehouse_path, read_only=True)
    except WarehouseError as exc:
        raise LandingError(str(exc)) from exc
    with con:
        tables = [
            str(row[0])
            for row in con.execute(
                "select table_name from information_schema.tables where table_schema = ?",
                [RAW_SCHEMA],
            ).fetchall()
        ]
        rejected: dict[str, int] = {}
        if REJECTS_TABLE in tables:
            rows = con.execute(
                f"select table_name, count(*) from raw.{REJECTS_TABLE} group by table_name"
            ).fetchall()
            rejected = {str(name): int(n) for name, n in rows}
        counts: dict[str, tuple[int, int]] = {}
        for table in sorted(t for t in tables if not t.startswith("_")):
            row = con.execute(f"select count(*) from raw.{sql.ident(table)}").fetchone()
            counts[table] = (int(row[0]) if row else 0, rejected.pop(table, 0))
        counts.update({table: (0, n) for table, n in rejected.items()})
    return counts
