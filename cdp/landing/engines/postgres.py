"""The PostgreSQL warehouse: lands files into the `raw` schema of a PostgreSQL database.

Each file is validated by the DuckDB rules in a private in-memory DuckDB
(`duckdb/validator.py`), so rows, rejects and reasons are the same as on DuckDB.
Then one PostgreSQL transaction copies its good rows and its rejects in with
COPY and writes its manifest row: they commit together or not at all.

Erased people (`cdp privacy erase` on this target) do not come back: the
run reads `privacy.erasure_tombstones` once, the validator drops the staged
rows that match it (the DuckDB loader's check, cdp/landing/tombstones.py),
and the file's transaction counts them in `privacy.erasure_skips`.
"""

from __future__ import annotations

import os
from collections.abc import Iterator, Sequence
from contextlib import contextmanager, suppress
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import psycopg2
import psycopg2.extensions

from cdp.landing.columns import ColumnPlan
from cdp.landing.engines.duckdb.sql import ident
from cdp.landing.engines.duckdb.staging import one_line
from cdp.landing.engines.duckdb.validator import DuckDBValidator, StagedFile
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
from cdp.landing.tombstones import SKIPS, TOMBSTONE_SCHEMA, TOMBSTONES

# One ingest run at a time per database (pg_try_advisory_lock key: "cdp land").
_LOCK_KEY = 0x63647020_6C616E64

_SIMPLE_TYPES = {
    "bigint": "bigint",
    "integer": "integer",
    "varchar": "text",
    "boolean": "boolean",
    "date": "date",
    "timestamp": "timestamp without time zone",
    # json, not jsonb: the text is kept as landed, like DuckDB's JSON type.
    "json": "json",
}


def column_type(data_type: DataType) -> str:
    """The PostgreSQL type of a portable type, spelled as format_type() spells it."""
    if data_type.name == "decimal":
        return f"numeric({data_type.precision},{data_type.scale})"
    return _SIMPLE_TYPES[data_type.name]


def _column_defs(columns: Sequence[tuple[str, DataType]]) -> str:
    return ", ".join(f"{ident(name)} {column_type(t)}" for name, t in columns)


@dataclass(frozen=True)
class PostgresConfig:
    """Connection settings, from the same variables profiles.yml reads.

    The password never prints (repr=False); leave CDP_PG_PASSWORD unset for
    trust or peer authentication.
    """

    host: str = "localhost"
    port: int = 5432
    user: str = "cdp"
    database: str = "cdp"
    password: str | None = field(default=None, repr=False)

    @classmethod
    def from_env(cls) -> PostgresConfig:
        return cls(
            host=os.environ.get("CDP_PG_HOST", "localhost"),
            port=int(os.environ.get("CDP_PG_PORT", "5432")),
            user=os.environ.get("CDP_PG_USER", "cdp"),
            database=os.environ.get("CDP_PG_DATABASE", "cdp"),
            password=os.environ.get("CDP_PG_PASSWORD") or None,
        )

    def describe(self) -> str:
        return f"postgresql://{self.user}@{self.host}:{self.port}/{self.database}"

    def connect(self) -> psycopg2.extensions.connection:
        kwargs: dict[str, Any] = {
            "host": self.host,
            "port": self.port,
            "user": self.user,
            "dbname": self.database,
            "application_name": "cdp-ingest",
        }
        if self.password:
            kwargs["password"] = self.password
        return psycopg2.connect(**kwargs)


class PostgresWarehouse:
    """Implements `warehouse.Warehouse` on a PostgreSQL database."""

    def __init__(self, con: psycopg2.extensions.connection, config: PostgresConfig) -> None:
        self._con = con
        self._config = config
        self._validator = DuckDBValidator("csv")
        self._known_columns: dict[str, dict[str, str]] = {}

    @classmethod
    def open(cls, config: PostgresConfig) -> PostgresWarehouse:
        """Connect and take the run lock; LandingError if either fails."""
        try:
            con = config.connect()
        except psycopg2.Error as exc:
            raise LandingError(
                f"cannot open warehouse {config.describe()}: {one_line(exc)}"
            ) from exc
        con.autocommit = True
        with con.cursor() as cur:
            cur.execute("set timezone = 'UTC'")
            cur.execute("select pg_try_advisory_lock(%s)", (_LOCK_KEY,))
            row = cur.fetchone()
        if not row or not row[0]:
            con.close()
            raise LandingError(
                f"cannot open warehouse {config.describe()}: another ingest run holds its lock"
            )
        con.autocommit = False
        return cls(con, config)

    def close(self) -> None:
        self._validator.close()
        with suppress(psycopg2.Error):
            self._con.close()  # also releases the advisory lock

    @contextmanager
    def _transaction(self) -> Iterator[psycopg2.extensions.cursor]:
        try:
            with self._con.cursor() as cur:
                yield cur
            self._con.commit()
        except BaseException:
            self._known_columns.clear()
            with suppress(psycopg2.Error):
                self._con.rollback()
            raise

    # --- tables -----------------------------------------------------------------

    def prepare(self, registry: Registry) -> list[str]:
        try:
            with self._transaction() as cur:
                self._validator.load_tombstones(self._tombstones(cur))
                return self._create_tables(cur, registry)
        except psycopg2.Error as exc:
            raise LandingError(
                f"cannot prepare warehouse {self._config.describe()}: {one_line(exc)}"
            ) from exc

    def _create_tables(self, cur: psycopg2.extensions.cursor, registry: Registry) -> list[str]:
        cur.execute(f"create schema if not exists {RAW_SCHEMA}")
        for table, columns in (
            (MANIFEST_TABLE, MANIFEST_COLUMNS),
            (REJECTS_TABLE, REJECTS_COLUMNS),
        ):
            cur.execute(f"create table if not exists raw.{ident(table)} ({_column_defs(columns)})")
        warnings: list[str] = []
        for spec in registry:
            wanted = [(c.name, c.data_type) for c in spec.columns] + list(METADATA_COLUMNS)
            existing = self._columns(cur, spec.name)
            if not existing:
                cur.execute(f"create table raw.{ident(spec.name)} ({_column_defs(wanted)})")
                continue
            for name, data_type in wanted:
                if name not in existing:
                    self._add_column(cur, spec.name, name, data_type)
                elif existing[name] != column_type(data_type):
                    warnings.append(
                        f"raw.{spec.name}.{name} is {existing[name]} but declared "
                        f"{data_type}: values are converted to {existing[name]}"
                    )
        return warnings

    @staticmethod
    def _tombstones(cur: psycopg2.extensions.cursor) -> list[tuple[str, str]]:
        """The erased people's hashed keys (none before the first erasure)."""
        cur.execute("select to_regclass(%s) is not null", (TOMBSTONES,))
        row = cur.fetchone()
        if not row or not row[0]:
            return []
        cur.execute(f"select identifier_type, identifier_hash from {TOMBSTONES}")
        return [(str(kind), str(value)) for kind, value in cur.fetchall()]

    def _columns(self, cur: psycopg2.extensions.cursor, table: str) -> dict[str, str]:
        if table in self._known_columns:
            return self._known_columns[table]
        cur.execute(
            "select a.attname, format_type(a.atttypid, a.atttypmod) "
            "from pg_attribute as a "
            "join pg_class as c on c.oid = a.attrelid "
            "join pg_namespace as n on n.oid = c.relnamespace "
            "where n.nspname = %s and c.relname = %s and a.attnum > 0 "
            "and not a.attisdropped order by a.attnum",
            (RAW_SCHEMA, table),
        )
        columns = {str(name): str(data_type) for name, data_type in cur.fetchall()}
        if columns:
            self._known_columns[table] = columns
        return columns

    def _add_column(
        self, cur: psycopg2.extensions.cursor, table: str, column: str, data_type: DataType
    ) -> None:
        cur.execute(
            f"alter table raw.{ident(table)} add column {ident(column)} {column_type(data_type)}"
        )
        self._known_columns.pop(table, None)

    def _ensure_columns(
        self, cur: psycopg2.extensions.cursor, table: str, plan: ColumnPlan, rows_loaded: int
    ) -> list[str]:
        """Add the file's columns the raw table lacks; a warning per undeclared column."""
        to_add, notes = plan.schema_changes(table, self._columns(cur, table), rows_loaded)
        for column in to_add:
            self._add_column(cur, table, column.target, column.data_type)
        return notes

    # --- manifest ---------------------------------------------------------------

    def landed_as(self, table: str, sha256: str) -> str | None:
        with self._transaction() as cur:
            cur.execute(
                f"select source_file from raw.{MANIFEST_TABLE} "
                "where table_name = %s and sha256 = %s and status = 'loaded' "
                "order by loaded_at limit 1",
                (table, sha256),
            )
            row = cur.fetchone()
        return str(row[0]) if row else None

    def record_failure(self, entry: ManifestEntry) -> None:
        with self._transaction() as cur:
            self._insert_manifest(cur, entry)

    def _insert_manifest(self, cur: psycopg2.extensions.cursor, entry: ManifestEntry) -> None:
        marks = ", ".join("%s" for _ in MANIFEST_COLUMNS)
        cur.execute(f"insert into raw.{MANIFEST_TABLE} values ({marks})", entry.values())

    # --- landing ----------------------------------------------------------------

    def land_file(
        self,
        spec: TableSpec,
        file: SourceFile,
        stats: FileStats,
        loaded_at: datetime,
        limits: ColumnLimits,
    ) -> FileResult:
        with self._transaction() as cur:
            existing = dict(self._columns(cur, spec.name))
        staged = self._validator.stage(spec, file, stats, loaded_at, None, existing, limits)
        try:
            with self._transaction() as cur:
                return self._write(cur, spec, file, stats, loaded_at, staged)
        except psycopg2.Error as exc:
            raise FileFailed(f"cannot be landed: {one_line(exc)}") from exc

    def _write(
        self,
        cur: psycopg2.extensions.cursor,
        spec: TableSpec,
        file: SourceFile,
        stats: FileStats,
        loaded_at: datetime,
        staged: StagedFile,
    ) -> FileResult:
        """Copy the staged rows and rejects in, and the manifest row (inside the transaction)."""
        if staged.plan is None:
            warnings = ["file is empty: no header, no rows"]
        else:
            rows_loaded = staged.rows_in - staged.rows_rejected
            warnings = staged.plan.warnings() + self._ensure_columns(
                cur, spec.name, staged.plan, rows_loaded
            )
            if rows_loaded:
                names = ", ".join(ident(n) for n in staged.targets)
                self._copy(cur, f"raw.{ident(spec.name)} ({names})", staged.rows_path)
            self._copy(cur, f"raw.{ident(REJECTS_TABLE)}", staged.rejects_path)
        rows_in, rejected = staged.rows_in, staged.rows_rejected
        if staged.rows_erased:
            cur.execute(f"create schema if not exists {TOMBSTONE_SCHEMA}")
            cur.execute(
                f"create table if not exists {SKIPS} (table_name text, source_file text, "
                "rows_skipped bigint, skipped_at timestamp)"
            )
            cur.execute(
                f"insert into {SKIPS} values (%s, %s, %s, %s)",
                (spec.name, file.relative, staged.rows_erased, loaded_at),
            )
        self._insert_manifest(
            cur,
            ManifestEntry.loaded(
                file.relative, spec.name, stats.sha256, stats.size, rows_in, rejected, loaded_at
            ),
        )
        landed = FileResult.loaded(file.relative, rows_in, rejected, warnings)
        landed.rows_erased = staged.rows_erased
        return landed

    @staticmethod
    def _copy(cur: psycopg2.extensions.cursor, target: str, path: object) -> None:
        if path is None:
            return
        with open(str(path), encoding="utf-8") as rows:
            cur.copy_expert(f"copy {target} from stdin with (format csv)", rows)
