"""Where `cdp privacy` runs its SQL: the target warehouse, through one connection.

- DuckDB: DuckDB's own connection (`cdp.warehouse.connect_duckdb`), as ever.
- PostgreSQL: `PostgresConnection`, a psycopg2 connection from
  `cdp.warehouse.connect_postgres` (wrong credentials: one line naming the
  target and the setting, never the password) with the calls privacy uses of
  DuckDB's (`execute`, `executemany`, `fetchone`, `fetchall`, `description`;
  `begin`/`commit`/`rollback` as statements). Outside `begin` ... `commit`
  every statement commits by itself, as on DuckDB.

Privacy's SQL is written once where both engines take it as it is; the few
expressions they spell differently (SHA-256 as hex, the emails in a text, a
JSON field, a JSON array's elements, a replaced temporary table) are written
per dialect (`cdp.landing.tombstones`, `temp_table` here, the sync state's
JSON in cdp/privacy/destinations.py), not translated, because a hash must be
byte for byte the one the loader and the sync engine compute. Parameters are `?` on both.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from contextlib import suppress
from typing import TYPE_CHECKING, Any, Union

from cdp.warehouse import TargetUnsupported, WarehouseError, connect_postgres, one_line

if TYPE_CHECKING:
    import duckdb

    from cdp.landing.engines.postgres import PostgresConfig

APPLICATION_NAME = "cdp-privacy"


def _placeholders(query: str, has_params: bool) -> str:
    """`?` parameters as psycopg2's `%s` (outside string literals); a literal `%`
    doubled when psycopg2 will interpolate."""
    if not has_params:
        return query
    parts = query.replace("%", "%%").split("'")
    for index in range(0, len(parts), 2):  # outside quotes
        parts[index] = parts[index].replace("?", "%s")
    return "'".join(parts)


class PostgresConnection:
    """The PostgreSQL target, with the DuckDB connection's calls privacy uses."""

    dialect = "postgres"

    def __init__(self, config: PostgresConfig | None = None) -> None:
        from cdp.landing.engines.postgres import PostgresConfig

        self.config = config or PostgresConfig.from_env()
        self._con = connect_postgres(self.config)
        self._cursor: Any = None
        self._explicit = False
        with self._con.cursor() as cursor:
            cursor.execute("set timezone = 'UTC'")
            cursor.execute("set application_name = %s", (APPLICATION_NAME,))
        self._con.commit()

    # --- DuckDB's calls ------------------------------------------------------------

    def execute(self, query: str, parameters: Sequence[Any] | None = None) -> PostgresConnection:
        word = query.strip().lower()
        if word in ("begin", "begin transaction"):
            self._explicit = True
            return self
        if word in ("commit", "rollback"):
            self._explicit = False
            self._end(word)
            return self
        if word == "checkpoint":  # DuckDB's; PostgreSQL writes its pages itself
            return self
        return self._run(
            lambda cursor: cursor.execute(
                _placeholders(query, bool(parameters)), tuple(parameters) if parameters else None
            )
        )

    def executemany(self, query: str, parameters: Iterable[Sequence[Any]]) -> PostgresConnection:
        rows = [tuple(row) for row in parameters]
        return self._run(lambda cursor: cursor.executemany(_placeholders(query, True), rows))

    def fetchone(self) -> tuple[Any, ...] | None:
        return self._cursor.fetchone() if self._cursor is not None else None

    def fetchall(self) -> list[tuple[Any, ...]]:
        return self._cursor.fetchall() if self._cursor is not None else []

    @property
    def description(self) -> Any:
        return self._cursor.description if self._cursor is not None else None

    def close(self) -> None:
        with suppress(Exception):
            self._con.rollback()
        with suppress(Exception):
            self._con.close()

    def __enter__(self) -> PostgresConnection:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # --- PostgreSQL's own -----------------------------------------------------------

    def vacuum_full(self, relations: Iterable[str]) -> int:
        """`VACUUM (FULL)` each relation (outside a transaction): the table is rewritten
        into new files without the deleted rows' old versions. Returns how many."""
        count = 0
        self._con.commit()
        self._con.autocommit = True
        try:
            for relation in relations:
                self._run(lambda cursor, r=relation: cursor.execute(f"vacuum (full) {r}"))
                count += 1
        finally:
            self._con.autocommit = False
        return count

    # --- inside ---------------------------------------------------------------------

    def _run(self, statement: Any) -> PostgresConnection:
        import psycopg2

        cursor = self._con.cursor()
        try:
            statement(cursor)
        except psycopg2.Error as exc:
            self._fail(exc)
        self._cursor = cursor
        if not self._explicit and not self._con.autocommit:
            self._con.commit()
        return self

    def _end(self, word: str) -> None:
        import psycopg2

        try:
            self._con.commit() if word == "commit" else self._con.rollback()
        except psycopg2.Error as exc:
            if word == "rollback" and self._con.closed:
                return  # the server went away: nothing was committed
            self._fail(exc)

    def _fail(self, exc: BaseException) -> None:
        import psycopg2

        with suppress(Exception):
            self._con.rollback()
        if self._con.closed or isinstance(exc, psycopg2.OperationalError):
            raise WarehouseError(
                f"lost the connection to the postgres target {self.config.describe()}: "
                f"{one_line(exc)}; nothing uncommitted was kept, run the command again"
            ) from exc
        raise WarehouseError(f"{self.config.describe()}: {one_line(exc)}") from exc


Connection = Union["duckdb.DuckDBPyConnection", PostgresConnection]


def dialect_of(con: Connection) -> str:
    return str(getattr(con, "dialect", "duckdb"))


def open_connection(settings: Any, feature: str = "cdp privacy") -> Connection:
    """The target's connection for privacy: DuckDB's file or the PostgreSQL target.

    Spark is refused at start-up, in one line (docs/engines.md, 'What runs where')."""
    from cdp.warehouse import check_target, connect_duckdb

    target = check_target(settings.target)
    if target == "postgres":
        return PostgresConnection()
    if target == "spark":
        raise TargetUnsupported(
            f"{feature} works on the DuckDB and PostgreSQL warehouses; CDP_TARGET is spark "
            "(docs/engines.md, 'What runs where')"
        )
    if not settings.warehouse_path.is_file():
        from cdp.privacy.subject import PrivacyError

        raise PrivacyError(f"warehouse not found: {settings.warehouse_path}")
    return connect_duckdb(settings.warehouse_path)


def temp_table(con: Connection, name: str, body: str) -> None:
    """(Re)create the temporary table `name` from `body` (`(columns)` or `as select ...`)."""
    if dialect_of(con) == "postgres":
        con.execute(f"drop table if exists pg_temp.{name}")
        con.execute(f"create temp table {name} {body}")
    else:
        con.execute(f"create or replace temp table {name} {body}")
