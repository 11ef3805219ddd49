"""The Spark warehouse: lands files into the `raw` database of a Spark catalog.

Each file is validated by the DuckDB rules in a private in-memory DuckDB
(`duckdb/validator.py`) and exported as Parquet files typed like the Spark tables.
The tables are Parquet tables of the catalog (`using parquet`) in
`spark.sql.warehouse.dir`; a file's good rows, then its rejects, then its
manifest row are each *moved* into the folder of `raw.<table>`,
`raw._rejects` and `raw._landed_files` (a rename, so each appears whole or
not at all). No Spark job runs per file, which keeps landing fast; Spark
queries the tables by listing their folders. The session (used for DDL and
the manifest lookup) has the same settings as the `spark` target of
profiles.yml (local master, warehouse folder and embedded Derby metastore
under CDP_SPARK_DIR), so dbt finds what was landed. Because the files are
moved on the local file system, this loader serves the local session only;
see docs/engines.md for clusters.

Spark has no multi-table transaction. What holds: each of the three moves is
atomic, and the manifest row comes last, so a file counts as landed only once
its rows and rejects are in. A crash between the moves leaves rows without a
manifest row: the next run lands the file again, and the staging models'
latest-version pick (by key, then `_loaded_at`) keeps one copy.

Erased people do not come back: `prepare` reads `privacy.erasure_tombstones`
from the catalog once, and the validator drops the staged rows that match it
(the DuckDB loader's check, cdp/landing/tombstones.py) before the export; the
ingest summary counts them.
"""

from __future__ import annotations

import os
import shutil
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any
from urllib.parse import unquote, urlparse

from cdp.landing.columns import ColumnPlan
from cdp.landing.engines.duckdb.validator import Casts, DuckDBValidator
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

_SIMPLE_TYPES = {
    "bigint": "bigint",
    "integer": "int",
    "varchar": "string",
    "boolean": "boolean",
    "date": "date",
    "timestamp": "timestamp",
    "json": "string",  # Spark keeps JSON as text
}


def column_type(data_type: DataType) -> str:
    """The Spark SQL type of a portable type, spelled as Spark's catalog spells it."""
    if data_type.name == "decimal":
        return f"decimal({data_type.precision},{data_type.scale})"
    return _SIMPLE_TYPES[data_type.name]


def _column_defs(columns: Sequence[tuple[str, DataType]]) -> str:
    return ", ".join(f"{_bq(name)} {column_type(t)}" for name, t in columns)


def _bq(name: str) -> str:
    """A Spark identifier (backquoted)."""
    return "`" + name.replace("`", "``") + "`"


@dataclass(frozen=True)
class SparkConfig:
    """Session settings shared with the `spark` target of profiles.yml.

    spark_dir  CDP_SPARK_DIR (default <CDP_HOME>/warehouse/spark): holds
               `warehouse/` (spark.sql.warehouse.dir) and `metastore_db/` (Derby)
    master     CDP_SPARK_MASTER (default local[2])
    """

    spark_dir: Path
    master: str = "local[2]"
    driver_memory: str = "2g"

    @classmethod
    def from_env(cls) -> SparkConfig:
        from cdp.config import Settings

        return cls(
            spark_dir=Settings.from_env().spark_dir,
            master=os.environ.get("CDP_SPARK_MASTER", "local[2]"),
            driver_memory=os.environ.get("CDP_SPARK_DRIVER_MEMORY", "2g"),
        )

    def describe(self) -> str:
        return f"spark ({self.master}, metastore in {self.spark_dir})"

    def session_conf(self) -> dict[str, str]:
        """The same keys and values as `server_side_parameters` in profiles.yml."""
        home = str(self.spark_dir)
        return {
            "spark.master": self.master,
            "spark.app.name": "cdp-ingest",
            "spark.sql.warehouse.dir": f"{home}/warehouse",
            "spark.hadoop.javax.jdo.option.ConnectionURL": (
                f"jdbc:derby:;databaseName={home}/metastore_db;create=true"
            ),
            "spark.driver.extraJavaOptions": f"-Dderby.system.home={home}",
            "spark.driver.memory": self.driver_memory,
            "spark.sql.shuffle.partitions": "4",
            "spark.sql.session.timeZone": "UTC",
            "spark.ui.enabled": "false",
        }

    def session(self) -> Any:
        from pyspark.sql import SparkSession

        self.spark_dir.mkdir(parents=True, exist_ok=True)
        builder = SparkSession.builder.enableHiveSupport()
        for key, value in self.session_conf().items():
            builder = builder.config(key, value)
        return builder.getOrCreate()


class SparkWarehouse:
    """Implements `warehouse.Warehouse` on a Spark catalog (Parquet tables)."""

    def __init__(self, spark: Any, config: SparkConfig) -> None:
        self._spark = spark
        self._config = config
        self._validator = DuckDBValidator("parquet")
        # The manifest's loaded hashes, read once: a Spark query per file is slow.
        self._landed: dict[tuple[str, str], str] | None = None
        self._locations: dict[str, Path] = {}

    @classmethod
    def open(cls, config: SparkConfig) -> SparkWarehouse:
        try:
            spark = config.session()
        except Exception as exc:  # py4j and JVM start-up errors have no common base
            raise LandingError(f"cannot open warehouse {config.describe()}: {exc}") from exc
        return cls(spark, config)

    def close(self) -> None:
        self._validator.close()
        # Stop the session so that the Derby metastore is free for dbt.
        self._spark.stop()

    def _sql(self, statement: str) -> Any:
        return self._spark.sql(statement)

    # --- tables -----------------------------------------------------------------

    def prepare(self, registry: Registry) -> list[str]:
        try:
            return self._create_tables(registry)
        except Exception as exc:
            raise LandingError(
                f"cannot prepare warehouse {self._config.describe()}: {exc}"
            ) from exc

    def _tombstones(self) -> list[tuple[str, str]]:
        """The erased people's hashed keys (none before the first erasure)."""
        catalog = self._spark.catalog
        if not (
            catalog.databaseExists("privacy") and catalog.tableExists("privacy.erasure_tombstones")
        ):
            return []
        rows = self._sql(
            "select identifier_type, identifier_hash from privacy.erasure_tombstones"
        ).collect()
        return [(str(r[0]), str(r[1])) for r in rows]

    def _create_tables(self, registry: Registry) -> list[str]:
        self._validator.load_tombstones(self._tombstones())
        self._sql(f"create database if not exists {RAW_SCHEMA}")
        for table, columns in (
            (MANIFEST_TABLE, MANIFEST_COLUMNS),
            (REJECTS_TABLE, REJECTS_COLUMNS),
        ):
            self._sql(
                f"create table if not exists {RAW_SCHEMA}.{_bq(table)} "
                f"({_column_defs(columns)}) using parquet"
            )
        warnings: list[str] = []
        for spec in registry:
            wanted = [(c.name, c.data_type) for c in spec.columns] + list(METADATA_COLUMNS)
            existing = self._columns(spec.name)
            if not existing:
                self._sql(
                    f"create table {RAW_SCHEMA}.{_bq(spec.name)} ({_column_defs(wanted)}) "
                    "using parquet"
                )
                continue
            for name, data_type in wanted:
                if name not in existing:
                    self._add_column(spec.name, name, data_type)
                elif existing[name] != column_type(data_type):
                    warnings.append(
                        f"raw.{spec.name}.{name} is {existing[name]} but declared "
                        f"{data_type}: values are converted to {existing[name]}"
                    )
        return warnings

    def _columns(self, table: str) -> dict[str, str]:
        if not self._spark.catalog.tableExists(table, RAW_SCHEMA):
            return {}
        schema = self._spark.table(f"{RAW_SCHEMA}.{_bq(table)}").schema
        return {field.name: field.dataType.simpleString() for field in schema.fields}

    def _add_column(self, table: str, column: str, data_type: DataType) -> None:
        self._sql(
            f"alter table {RAW_SCHEMA}.{_bq(table)} add columns "
            f"({_bq(column)} {column_type(data_type)})"
        )

    # --- manifest ---------------------------------------------------------------

    def landed_as(self, table: str, sha256: str) -> str | None:
        if self._landed is None:
            rows = self._sql(
                "select table_name, sha256, min_by(source_file, loaded_at) "
                f"from {RAW_SCHEMA}.{MANIFEST_TABLE} where status = 'loaded' "
                "group by table_name, sha256"
            ).collect()
            self._landed = {(str(r[0]), str(r[1])): str(r[2]) for r in rows}
        return self._landed.get((table, sha256))

    def record_failure(self, entry: ManifestEntry) -> None:
        self._insert_manifest(entry)

    def _insert_manifest(self, entry: ManifestEntry) -> None:
        columns = [(name, _duckdb_type(column_type(t))) for name, t in MANIFEST_COLUMNS]
        path = self._validator.export_row(columns, entry.values(), "manifest")
        self._move_into(MANIFEST_TABLE, path)
        if entry.status == "loaded" and entry.sha256 is not None and self._landed is not None:
            self._landed.setdefault((entry.table_name, entry.sha256), entry.source_file)

    # --- landing ----------------------------------------------------------------

    def land_file(
        self,
        spec: TableSpec,
        file: SourceFile,
        stats: FileStats,
        loaded_at: datetime,
        limits: ColumnLimits,
    ) -> FileResult:
        existing = self._columns(spec.name)

        def casts(plan: ColumnPlan) -> Casts:
            """DuckDB types matching the Spark columns (existing, or about to be added)."""
            types = {
                c.target: existing.get(c.target, column_type(c.data_type)) for c in plan.columns
            }
            types.update({name: column_type(t) for name, t in METADATA_COLUMNS})
            rows = {name: _duckdb_type(t) for name, t in types.items()}
            rejects = {name: _duckdb_type(column_type(t)) for name, t in REJECTS_COLUMNS}
            return rows, rejects

        staged = self._validator.stage(spec, file, stats, loaded_at, casts, existing, limits)
        try:
            if staged.plan is None:
                warnings = ["file is empty: no header, no rows"]
            else:
                warnings = staged.plan.warnings() + self._ensure_columns(
                    spec.name, staged.plan, staged.rows_in - staged.rows_rejected
                )
                if staged.rows_in > staged.rows_rejected:
                    self._move_into(spec.name, staged.rows_path)
                if staged.rows_rejected:
                    self._move_into(REJECTS_TABLE, staged.rejects_path)
            rows_in, rejected = staged.rows_in, staged.rows_rejected
            self._insert_manifest(
                ManifestEntry.loaded(
                    file.relative, spec.name, stats.sha256, stats.size, rows_in, rejected, loaded_at
                )
            )
        except OSError as exc:
            raise FileFailed(f"cannot be landed: {exc}") from exc
        except Exception as exc:  # Spark analysis and py4j errors have no common base
            first = str(exc).strip().splitlines()
            raise FileFailed(f"cannot be landed: {first[0] if first else exc!r}") from exc
        landed = FileResult.loaded(file.relative, rows_in, rejected, warnings)
        landed.rows_erased = staged.rows_erased
        return landed

    def _ensure_columns(self, table: str, plan: ColumnPlan, rows_loaded: int) -> list[str]:
        """Add the file's columns the raw table lacks; a warning per undeclared column."""
        to_add, notes = plan.schema_changes(table, self._columns(table), rows_loaded)
        for column in to_add:
            self._add_column(table, column.target, column.data_type)
        return notes

    def _location(self, table: str) -> Path:
        """The local folder holding raw.<table>'s Parquet files."""
        if table not in self._locations:
            rows = self._sql(f"describe formatted {RAW_SCHEMA}.{_bq(table)}").collect()
            found = next((str(r[1]) for r in rows if str(r[0]).strip() == "Location"), None)
            parsed = urlparse(found or "")
            if parsed.scheme not in ("", "file"):
                raise FileFailed(
                    f"raw.{table} is stored at {found}: the Spark loader writes local folders only"
                )
            self._locations[table] = Path(unquote(parsed.path))
        return self._locations[table]

    def _move_into(self, table: str, path: Path | None) -> None:
        """Move a Parquet file into the table's folder under a fresh name, atomically."""
        if path is None:
            return
        folder = self._location(table)
        folder.mkdir(parents=True, exist_ok=True)
        name = f"part-cdp-{uuid.uuid4().hex}.parquet"
        hidden = folder / f".{name}.tmp"  # Spark skips names starting with '.'
        shutil.copyfile(path, hidden)
        os.replace(hidden, folder / name)
        path.unlink()


def _duckdb_type(spark_type: str) -> str:
    """The DuckDB type whose Parquet encoding Spark reads as `spark_type`."""
    simple = {
        "bigint": "BIGINT",
        "int": "INTEGER",
        "string": "VARCHAR",
        "boolean": "BOOLEAN",
        "date": "DATE",
        # Parquet timestamps adjusted to UTC: Spark's TIMESTAMP (session zone UTC).
        "timestamp": "TIMESTAMPTZ",
        "double": "DOUBLE",
    }
    if spark_type in simple:
        return simple[spark_type]
    if spark_type.startswith("decimal("):
        return spark_type.upper()
    return "VARCHAR"
