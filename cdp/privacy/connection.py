"""Where `cdp privacy` runs its SQL: the target warehouse, through one connection.

- DuckDB: DuckDB's own connection (`cdp.warehouse.connect_duckdb`), as ever.
- Spark: `SparkConnection`, a local Spark session of CDP_SPARK_DIR's catalog
  (the loader's and dbt's settings) with the same calls. Spark has no
  transactions and no `DELETE`/`UPDATE` on Parquet tables: `begin`/`commit`
  are no-ops there, and privacy deletes and updates through `delete_rows` and
  `update_rows`, which rewrite the table (`SparkConnection.rewrite`). The
  erasure's step order makes that safe (cdp/privacy/steps.py).
- PostgreSQL: `PostgresConnection`, a psycopg2 connection from
  `cdp.warehouse.connect_postgres` (wrong credentials: one line naming the
  target and the setting, never the password) with the calls privacy uses of
  DuckDB's (`execute`, `executemany`, `fetchone`, `fetchall`, `description`;
  `begin`/`commit`/`rollback` as statements). Outside `begin` ... `commit`
  every statement commits by itself, as on DuckDB.

Privacy's SQL is written once where the engines take it as it is; the few
expressions they spell differently (SHA-256 as hex, the emails in a text, a
JSON field, a JSON array's elements, a replaced temporary table, the text
type, the tables of a schema, a delete or update) are written per dialect
(`cdp.landing.tombstones`, `temp_table`, `text_type`, `tables_of`,
`delete_rows`, `update_rows` here, the sync state's JSON in
cdp/privacy/destinations.py), not translated, because a hash must be byte for
byte the one the loader and the sync engine compute. Parameters are `?` on
every engine (on Spark inlined as escaped literals).
"""

from __future__ import annotations

import re
import shutil
from collections.abc import Iterable, Sequence
from contextlib import suppress
from datetime import date, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any, Union

from cdp.warehouse import WarehouseError, connect_postgres, one_line

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


# Spark's scratch databases: the request's working tables (dropped when the
# connection closes, and at the next open after a crash: they hold customer ids),
# and the copies a table rewrite stages through (kept until the rewrite is done,
# so a crash mid-rewrite can be finished from them).
SPARK_WORK = "privacy_work"
SPARK_REWRITE = "privacy_rewrite"


def spark_literal(value: Any) -> str:
    """A Python value as a Spark SQL literal (Spark's string literals take backslash
    escapes, so backslashes and quotes are both escaped)."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return repr(value)
    if isinstance(value, datetime):
        return f"timestamp'{value.isoformat(sep=' ')}'"
    if isinstance(value, date):
        return f"date'{value.isoformat()}'"
    text = str(value).replace("\\", "\\\\").replace("'", "\\'")
    return f"'{text}'"


def _inline(query: str, parameters: Sequence[Any] | None) -> str:
    """`?` parameters (outside string literals) replaced by Spark literals."""
    if not parameters:
        return query
    values = iter(parameters)
    parts = query.split("'")
    for index in range(0, len(parts), 2):  # outside quotes
        pieces = parts[index].split("?")
        parts[index] = pieces[0] + "".join(spark_literal(next(values)) + p for p in pieces[1:])
    return "'".join(parts)


class SparkConnection:
    """The Spark target (a local session of CDP_SPARK_DIR's catalog), with the DuckDB
    connection's calls privacy uses. No transactions: `begin`, `commit` and
    `rollback` do nothing, and each statement stands alone."""

    dialect = "spark"

    def __init__(self) -> None:
        from cdp.landing.engines.spark import SparkConfig

        self.config = SparkConfig.from_env()
        try:
            self.spark = self.config.session()
        except Exception as exc:  # Java missing, metastore held by another JVM, ...
            raise WarehouseError(
                f"cannot start the spark target {self.config.describe()}: {one_line(exc)} "
                "(check CDP_SPARK_DIR, CDP_SPARK_MASTER and Java 17)"
            ) from exc
        self._rows: list[tuple[Any, ...]] = []
        self._description: list[tuple[str]] | None = None
        # the working tables are the unqualified names privacy's SQL uses
        self._sql(f"drop database if exists {SPARK_WORK} cascade")
        self._sql(f"create database {SPARK_WORK}")
        self._sql(f"use {SPARK_WORK}")

    def _sql(self, query: str) -> Any:
        try:
            return self.spark.sql(query)
        except Exception as exc:  # pyspark raises AnalysisException and friends
            raise WarehouseError(f"{self.config.describe()}: {one_line(exc)}") from exc

    # --- DuckDB's calls ------------------------------------------------------------

    def execute(self, query: str, parameters: Sequence[Any] | None = None) -> SparkConnection:
        word = query.strip().lower()
        if word in ("begin", "begin transaction", "commit", "rollback", "checkpoint"):
            return self
        frame = self._sql(_inline(query, parameters))
        self._description = [(name,) for name in frame.columns]
        try:
            self._rows = [tuple(row) for row in frame.collect()] if frame.columns else []
        except Exception as exc:
            raise WarehouseError(f"{self.config.describe()}: {one_line(exc)}") from exc
        return self

    def executemany(self, query: str, parameters: Iterable[Sequence[Any]]) -> SparkConnection:
        """`insert into t values (?, ...)` for many rows, as one statement."""
        rows = [list(row) for row in parameters]
        if not rows:
            return self
        head, _, template = query.partition(" values ")
        values = ", ".join(_inline(template, row) for row in rows)
        return self.execute(f"{head} values {values}")

    def fetchone(self) -> tuple[Any, ...] | None:
        return self._rows[0] if self._rows else None

    def fetchall(self) -> list[tuple[Any, ...]]:
        return list(self._rows)

    @property
    def description(self) -> Any:
        return self._description

    def close(self) -> None:
        from cdp.predictions.spark_store import stop_session

        with suppress(Exception):
            self.spark.sql("use default")
            self.spark.sql(f"drop database if exists {SPARK_WORK} cascade")
        with suppress(Exception):
            stop_session(self.spark)

    def __enter__(self) -> SparkConnection:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # --- Spark's own ------------------------------------------------------------------

    def tables(self, schema: str) -> dict[str, str]:
        """name -> 'BASE TABLE' or 'VIEW' for every table of `schema` (none if absent)."""
        catalog = self.spark.catalog
        if not catalog.databaseExists(schema):
            return {}
        return {
            t.name: "VIEW" if t.tableType == "VIEW" else "BASE TABLE"
            for t in catalog.listTables(schema)
            if not t.isTemporary
        }

    def columns(self, relation: str) -> dict[str, str]:
        """column -> Spark type (its simple string) of `relation`, in table order."""
        schema = self._sql(f"select * from {relation} limit 0").schema
        return {f.name: f.dataType.simpleString() for f in schema.fields}

    def rewrite(self, relation: str, select: str, scratch: str) -> None:
        """Replace `relation`'s rows by `select`'s (a query over `relation`), staged
        through the table `scratch` (Spark cannot overwrite a Parquet table it reads
        in the same statement). The caller recovers a rewrite cut short
        (cdp/privacy/steps.py): while `scratch` exists it holds every row to keep."""
        self.stage(relation, select, scratch)
        self.overwrite_from(relation, scratch)

    def stage(self, relation: str, select: str, scratch: str) -> None:
        """The scratch table `scratch` created from `select` (the rows of `relation` to
        keep); any earlier one, or a folder a cut-short create left, replaced."""
        del relation  # named for the reader: the rows come from `select`
        self.drop_scratch(scratch)
        self._sql(f"create table {scratch} using parquet as {select}")

    def overwrite_from(self, relation: str, scratch: str) -> None:
        """`relation`'s rows replaced by those of `scratch` (same columns), then the
        scratch table dropped."""
        self._sql(f"insert overwrite table {relation} select * from {scratch}")
        self.drop_scratch(scratch)

    def drop_scratch(self, scratch: str) -> None:
        """Drop `scratch`, and its folder if a create was cut short before the
        catalog knew the table (Spark refuses to create a table over a non-empty one)."""
        self._sql(f"create database if not exists {SPARK_REWRITE}")
        self._sql(f"drop table if exists {scratch}")
        schema, _, name = scratch.partition(".")
        folder = self.spark.conf.get("spark.sql.warehouse.dir").removeprefix("file:")
        leftover = Path(folder) / f"{schema}.db" / name
        if leftover.exists():
            shutil.rmtree(leftover)

    def scratch_exists(self, scratch: str) -> bool:
        schema, _, name = scratch.partition(".")
        return bool(self.spark.catalog.databaseExists(schema)) and name in self.tables(schema)


Connection = Union["duckdb.DuckDBPyConnection", PostgresConnection, SparkConnection]


def dialect_of(con: Connection) -> str:
    return str(getattr(con, "dialect", "duckdb"))


def open_connection(settings: Any) -> Connection:
    """The target's connection for privacy: DuckDB's file, the PostgreSQL target or
    the Spark catalog of CDP_SPARK_DIR."""
    from cdp.warehouse import check_target, connect_duckdb

    target = check_target(settings.target)
    if target == "postgres":
        return PostgresConnection()
    if target == "spark":
        return SparkConnection()
    if not settings.warehouse_path.is_file():
        from cdp.privacy.subject import PrivacyError

        raise PrivacyError(f"warehouse not found: {settings.warehouse_path}")
    return connect_duckdb(settings.warehouse_path)


def temp_table(con: Connection, name: str, body: str) -> None:
    """(Re)create the temporary table `name` from `body` (`(columns)` or `as select ...`)."""
    if dialect_of(con) == "postgres":
        con.execute(f"drop table if exists pg_temp.{name}")
        con.execute(f"create temp table {name} {body}")
    elif dialect_of(con) == "spark":  # a table of the working database (SPARK_WORK)
        con.execute(f"drop table if exists {name}")
        if body.lstrip().startswith("("):
            columns = VARCHAR.sub("string", body)
            con.execute(f"create table {name} {columns} using parquet")
        else:
            con.execute(f"create table {name} using parquet {body}")
    else:
        con.execute(f"create or replace temp table {name} {body}")


VARCHAR = re.compile(r"\bvarchar\b")


def scratch_of(relation: str) -> str:
    """The scratch table a rewrite of `relation` stages through (SPARK_REWRITE)."""
    return f"{SPARK_REWRITE}." + relation.replace('"', "").replace("`", "").replace(".", "__")


def text_type(con: Connection) -> str:
    """The type to cast text to: Spark has no `varchar` without a length."""
    return "string" if dialect_of(con) == "spark" else "varchar"


def tables_of(con: Connection, schema: str) -> dict[str, str]:
    """name -> table type ('BASE TABLE', 'VIEW') of every relation of `schema`."""
    if isinstance(con, SparkConnection):
        return con.tables(schema)
    rows = con.execute(
        "select table_name, table_type from information_schema.tables "
        "where table_catalog = current_database() and table_schema = ?",
        [schema],
    ).fetchall()
    return {str(name): str(kind) for name, kind in rows}


def delete_rows(con: Connection, relation: str, where: str | None = None) -> None:
    """`delete from relation [where ...]`; on Spark the table rewritten without them."""
    if not isinstance(con, SparkConnection):
        con.execute(f"delete from {relation}" + (f" where {where}" if where else ""))
    elif where is None:
        con.execute(f"truncate table {relation}")
    else:
        con.rewrite(
            relation,
            f"select * from {relation} where coalesce(not ({where}), true)",
            scratch_of(relation),
        )


def update_rows(
    con: Connection,
    relation: str,
    assignments: dict[str, str],
    where: str,
    parameters: Sequence[Any] = (),
) -> None:
    """`update relation set col = expr, ... where ...` (parameters in the order they
    appear in the assignments, then the where); on Spark a rewrite of the table."""
    if not isinstance(con, SparkConnection):
        sets = ", ".join(f"{column} = {expr}" for column, expr in assignments.items())
        con.execute(f"update {relation} set {sets} where {where}", list(parameters))
        return
    inlined = _inline(" \x00 ".join([*assignments.values(), where]), list(parameters)).split(
        " \x00 "
    )
    values, condition = dict(zip(assignments, inlined[:-1], strict=True)), inlined[-1]
    select = ", ".join(
        f"cast(case when {condition} then {values[column]} else {column} end as {kind}) as {column}"
        if column in values
        else column
        for column, kind in con.columns(relation).items()
    )
    con.rewrite(
        relation,
        f"select {select} from {relation}",
        scratch_of(relation),
    )
