"""The database the engine keeps its state in and diffs in: DuckDB or PostgreSQL.

The engine writes its SQL once and asks `SyncDatabase.dialect` (through
`reverse_etl.engine.dialect`) for the few expressions the two engines spell
differently. Both connections are opened through the warehouse-access layer
(`cdp.warehouse.connect_duckdb`, `connect_postgres`), so lock waiting and the
one-line connection errors are the same as everywhere else.

Every statement outside `transaction()` commits on its own (DuckDB's
autocommit, psycopg2 with `autocommit = True`); inside it, statements commit
together or not at all. A statement the database refuses raises
`StatementError`; a lost connection (the server went away) raises
`WarehouseError`: the run stops there, and what was committed is all that
counts (state.py's ordering rules), so the next run finishes the work.

Where the state lives per target (docs/engines.md, "Syncs on every engine"):
- duckdb: the warehouse file itself (`reverse_etl` schema);
- postgres: the target database (`reverse_etl` schema);
- spark: a DuckDB state file (`CDP_SYNC_STATE_PATH`, default
  `<CDP_SPARK_DIR>/sync_state.duckdb`) into which each run stages the sync's
  source and gate relations read from Spark as Arrow (engine/staging.py).
"""

from __future__ import annotations

import os
import zlib
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from cdp.warehouse import (
    WarehouseError,
    check_target,
    connect_duckdb,
    connect_postgres,
    one_line,
)

if TYPE_CHECKING:
    import duckdb

    from cdp.config import Settings
    from cdp.landing.engines.postgres import PostgresConfig
    from cdp.warehouse import Warehouse
    from reverse_etl.config import SyncDefinition

STATE_PATH_ENV = "CDP_SYNC_STATE_PATH"


class StatementError(WarehouseError):
    """The database refused a statement (missing relation, bad type, ...)."""


class SyncLocked(WarehouseError):
    """Another process runs the same sync on the same database."""


@dataclass(frozen=True)
class PostgresTarget:
    """State and diff in the PostgreSQL target (CDP_PG_* when `config` is None)."""

    config: PostgresConfig | None = None


@dataclass
class SparkTarget:
    """Sources in the Spark catalog (CDP_SPARK_DIR); state and diff in the DuckDB file
    `state_path`. The Spark session starts at the first run that reads a source and
    serves every run of the process until `close()` (one JVM start per command)."""

    state_path: Path
    _spark: Warehouse | None = field(default=None, repr=False, compare=False)

    def spark(self) -> Warehouse:
        if self._spark is None:
            from cdp.warehouse.access import SparkWarehouse

            self._spark = SparkWarehouse()
        return self._spark

    def close(self) -> None:
        if self._spark is not None:
            self._spark.close()
            self._spark = None


SyncTarget = Path | PostgresTarget | SparkTarget
"""Where a sync keeps its state: a DuckDB file, the PostgreSQL target, or (Spark)
a DuckDB state file beside the Spark warehouse."""


class SyncDatabase:
    dialect = ""

    def __init__(self, description: str) -> None:
        self.description = description

    def execute(self, sql: str) -> None:
        raise NotImplementedError

    def rows(self, sql: str) -> list[tuple[Any, ...]]:
        raise NotImplementedError

    def one(self, sql: str) -> tuple[Any, ...] | None:
        found = self.rows(sql)
        return found[0] if found else None

    def begin(self) -> None:
        self.execute("begin")

    def commit(self) -> None:
        self.execute("commit")

    def rollback(self) -> None:
        raise NotImplementedError

    @contextmanager
    def transaction(self) -> Iterator[None]:
        self.begin()
        try:
            yield
        except BaseException:
            self.rollback()
            raise
        self.commit()

    def create_temp(self, name: str, select: str) -> None:
        """Replace temporary table `name` with the result of `select`."""
        raise NotImplementedError

    def stage(self, sync: SyncDefinition) -> None:
        """Make the relations `sync` reads queryable here (a no-op where the state
        lives in the warehouse itself; on Spark, engine/staging.py copies them in).
        Called before the diff, outside any transaction."""

    def lock_sync(self, sync_name: str) -> None:
        """Make sure no other process runs `sync_name` on this database (SyncLocked)."""

    def relations(self) -> set[str]:
        """Lower-cased schema.table of every table and view."""
        return {
            f"{schema}.{table}".lower()
            for schema, table in self.rows(
                "select table_schema, table_name from information_schema.tables"
            )
        }

    def close(self) -> None:
        raise NotImplementedError


class DuckDBSyncDatabase(SyncDatabase):
    """A DuckDB file: the process holds DuckDB's file lock, so no second run can interleave."""

    dialect = "duckdb"

    def __init__(self, con: duckdb.DuckDBPyConnection, description: str) -> None:
        super().__init__(description)
        self.con = con

    @classmethod
    def open(cls, path: Path) -> DuckDBSyncDatabase:
        return cls(connect_duckdb(path), str(path))

    def execute(self, sql: str) -> None:
        self._run(sql)

    def rows(self, sql: str) -> list[tuple[Any, ...]]:
        return self._run(sql).fetchall()

    def _run(self, sql: str) -> duckdb.DuckDBPyConnection:
        import duckdb

        try:
            return self.con.execute(sql)
        except duckdb.Error as exc:
            raise StatementError(one_line(exc)) from exc

    def begin(self) -> None:
        self.con.begin()

    def commit(self) -> None:
        self.con.commit()

    def rollback(self) -> None:
        self.con.rollback()

    def create_temp(self, name: str, select: str) -> None:
        self.execute(f"create or replace temp table {name} as {select}")

    def close(self) -> None:
        self.con.close()


class PostgresSyncDatabase(SyncDatabase):
    """The PostgreSQL target. A session advisory lock per sync name keeps two runs
    of one sync apart (DuckDB's file lock does this on DuckDB)."""

    dialect = "postgres"

    def __init__(self, config: PostgresConfig | None = None) -> None:
        from cdp.landing.engines.postgres import PostgresConfig

        config = config or PostgresConfig.from_env()
        super().__init__(f"the postgres target {config.describe()}")
        self.con = connect_postgres(config)
        self.con.autocommit = True

    def _cursor_run(self, sql: str, fetch: bool) -> list[tuple[Any, ...]]:
        import psycopg2

        try:
            with self.con.cursor() as cursor:
                cursor.execute(sql)
                return cursor.fetchall() if fetch and cursor.description else []
        except (psycopg2.OperationalError, psycopg2.InterfaceError) as exc:
            if self.con.closed or isinstance(exc, psycopg2.InterfaceError):
                raise WarehouseError(
                    f"lost the connection to {self.description}: {one_line(exc)} "
                    "(the next run finishes the work)"
                ) from exc
            raise StatementError(one_line(exc)) from exc
        except psycopg2.Error as exc:
            raise StatementError(one_line(exc)) from exc

    def execute(self, sql: str) -> None:
        self._cursor_run(sql, fetch=False)

    def rows(self, sql: str) -> list[tuple[Any, ...]]:
        return self._cursor_run(sql, fetch=True)

    def rollback(self) -> None:
        if not self.con.closed:
            # when the connection is gone, the server rolled the transaction back
            with suppress(WarehouseError):
                self.execute("rollback")

    def create_temp(self, name: str, select: str) -> None:
        self.execute(f"drop table if exists pg_temp.{name}")
        self.execute(f"create temp table {name} as {select}")

    def lock_sync(self, sync_name: str) -> None:
        key = zlib.crc32(f"reverse_etl:{sync_name}".encode())
        row = self.one(f"select pg_try_advisory_lock({0x72657466}, {key - (1 << 31)})")
        if not row or not row[0]:
            raise SyncLocked(
                f"sync '{sync_name}' is already running on {self.description} "
                "(another cdp sync process holds its lock)"
            )

    def close(self) -> None:
        if not self.con.closed:
            self.con.close()


def open_sync_database(target: SyncTarget) -> SyncDatabase:
    """The state database of `target` (WarehouseError in one line when it cannot be opened)."""
    if isinstance(target, PostgresTarget):
        return PostgresSyncDatabase(target.config)
    if isinstance(target, SparkTarget):
        from reverse_etl.engine.staging import StagedSyncDatabase

        return StagedSyncDatabase.open_state(target)
    return DuckDBSyncDatabase.open(target)


def close_target(target: SyncTarget) -> None:
    """Release what `target` holds open across runs (the Spark session)."""
    if isinstance(target, SparkTarget):
        target.close()


def target_for(settings: Settings, warehouse: Path | None = None) -> SyncTarget:
    """Where syncs keep their state for the configured target (CDP_TARGET): the DuckDB
    file (`warehouse`, else CDP_DUCKDB_PATH), or the PostgreSQL target."""
    target = check_target(settings.target)
    if target == "postgres":
        return PostgresTarget()
    if target == "spark":
        return SparkTarget(spark_state_path(settings))
    return warehouse or settings.warehouse_path


def spark_state_path(settings: Settings) -> Path:
    """The DuckDB state file of syncs on Spark; WarehouseError in one line when its
    folder does not exist (nothing was built there, or the setting is wrong)."""
    path = Path(os.environ.get(STATE_PATH_ENV) or settings.spark_dir / "sync_state.duckdb")
    if not path.parent.is_dir():
        raise WarehouseError(
            f"cdp sync on spark keeps its state in a DuckDB file, and the folder of "
            f"{path} does not exist (set {STATE_PATH_ENV}; docs/engines.md, "
            "'Syncs on every engine')"
        )
    return path
