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
- spark: a DuckDB state file (`CDP_SYNC_STATE_PATH`) into which each run
  stages the sync's source relation and gate relations read from Spark as Arrow.
"""

from __future__ import annotations

import zlib
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from cdp.warehouse import (
    TargetUnsupported,
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


class StatementError(WarehouseError):
    """The database refused a statement (missing relation, bad type, ...)."""


class SyncLocked(WarehouseError):
    """Another process runs the same sync on the same database."""


@dataclass(frozen=True)
class PostgresTarget:
    """State and diff in the PostgreSQL target (CDP_PG_* when `config` is None)."""

    config: PostgresConfig | None = None


SyncTarget = Path | PostgresTarget
"""Where a sync keeps its state: a DuckDB file, or the PostgreSQL target."""


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
    return DuckDBSyncDatabase.open(target)


def target_for(settings: Settings, warehouse: Path | None = None) -> SyncTarget:
    """Where syncs keep their state for the configured target (CDP_TARGET): the DuckDB
    file (`warehouse`, else CDP_DUCKDB_PATH), or the PostgreSQL target."""
    target = check_target(settings.target)
    if target == "postgres":
        return PostgresTarget()
    if target == "spark":
        raise TargetUnsupported(
            "cdp sync on the spark target needs a state store; not available yet "
            "(docs/engines.md, 'Syncs on every engine')"
        )
    return warehouse or settings.warehouse_path
