"""One door to the configured warehouse for every Python part: `open_warehouse`.

A `Warehouse` runs SQL written once, in DuckDB's dialect with `?` parameters,
on the target CDP_TARGET names: DuckDB as it is, PostgreSQL and Spark after
SQLGlot has translated it (docs/engines.md says why this and not Ibis or
SQLAlchemy). Results come back as rows, Arrow tables or pandas frames;
`transaction()` groups statements where the engine has transactions.

Code that needs DuckDB's own API (registering a data frame, `insert or
replace`, the sync engine's temporary tables) opens the file with
`connect_duckdb` (cdp/warehouse/duckdb_files.py) and, when the feature exists
on DuckDB only, calls `require_duckdb` first, so that it says so at start-up
instead of failing half-way.
"""

from __future__ import annotations

import functools
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pyarrow as pa
import sqlglot

from cdp.warehouse.duckdb_files import Say, connect_duckdb
from cdp.warehouse.errors import TargetUnsupported, WarehouseError, one_line

if TYPE_CHECKING:
    import duckdb
    import pandas as pd
    import psycopg2.extensions

    from cdp.landing.engines.postgres import PostgresConfig

    from cdp.config import Settings

TARGETS = ("duckdb", "postgres", "spark")
Params = Sequence[Any]


def check_target(target: str) -> str:
    if target not in TARGETS:
        raise WarehouseError(
            f"unknown target {target!r} (CDP_TARGET must be one of {', '.join(TARGETS)})"
        )
    return target


def require_duckdb(settings: Settings, feature: str) -> None:
    """Refuse at start-up, in one line, a feature that runs on DuckDB only."""
    target = check_target(settings.target)
    if target != "duckdb":
        raise TargetUnsupported(
            f"{feature} works on the DuckDB warehouse only for now; CDP_TARGET is {target} "
            "(docs/engines.md, 'What runs where')"
        )


@functools.lru_cache(maxsize=512)
def translate(query: str, dialect: str) -> str:
    """`query` (DuckDB SQL, `?` parameters) in `dialect`'s SQL."""
    if dialect == "duckdb":
        return query
    return ";\n".join(sqlglot.transpile(query, read="duckdb", write=dialect))


class Warehouse:
    """The configured warehouse, open read-only or read-write. Use as a context manager."""

    target: str = ""
    dialect: str = ""
    has_transactions: bool = True

    def __init__(self, description: str) -> None:
        self.description = description

    # --- what each engine implements ------------------------------------------

    def _run(self, query: str, params: Params) -> tuple[list[str], list[tuple[Any, ...]]]:
        raise NotImplementedError

    def _begin(self) -> None:
        raise NotImplementedError

    def _commit(self) -> None:
        raise NotImplementedError

    def _rollback(self) -> None:
        raise NotImplementedError

    def close(self) -> None:
        raise NotImplementedError

    def relations(self) -> set[tuple[str, str]]:
        """Every (schema, table or view) the warehouse holds."""
        return {
            (str(s), str(n))
            for s, n in self.rows("select table_schema, table_name from information_schema.tables")
        }

    # --- shared ---------------------------------------------------------------

    def sql(self, query: str) -> str:
        return translate(query, self.dialect)

    def execute(self, query: str, params: Params = ()) -> None:
        self._run(query, params)

    def fetch(self, query: str, params: Params = ()) -> tuple[list[str], list[tuple[Any, ...]]]:
        """The result's column names and its rows."""
        return self._run(query, params)

    def rows(self, query: str, params: Params = ()) -> list[tuple[Any, ...]]:
        return self._run(query, params)[1]

    def one(self, query: str, params: Params = ()) -> tuple[Any, ...] | None:
        found = self.rows(query, params)
        return found[0] if found else None

    def arrow(self, query: str, params: Params = ()) -> pa.Table:
        names, rows = self._run(query, params)
        columns = list(zip(*rows, strict=True)) if rows else [() for _ in names]
        return pa.table(
            {name: pa.array(list(values)) for name, values in zip(names, columns, strict=True)}
        )

    def df(self, query: str, params: Params = ()) -> pd.DataFrame:
        import pandas as pd

        names, rows = self._run(query, params)
        return pd.DataFrame.from_records(rows, columns=names)

    def has_relation(self, schema: str, name: str) -> bool:
        return (schema, name) in self.relations()

    @contextmanager
    def transaction(self) -> Iterator[None]:
        """Statements inside commit together or not at all."""
        if not self.has_transactions:
            raise TargetUnsupported(f"{self.target} has no multi-statement transactions")
        self._begin()
        try:
            yield
        except BaseException:
            self._rollback()
            raise
        self._commit()

    def __enter__(self) -> Warehouse:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


class DuckDBWarehouse(Warehouse):
    target = dialect = "duckdb"

    def __init__(self, path: Path, *, read_only: bool, say: Say | None = None) -> None:
        super().__init__(str(path))
        self.con = connect_duckdb(path, read_only=read_only, say=say)

    @classmethod
    def of(cls, con: duckdb.DuckDBPyConnection, description: str = "duckdb") -> DuckDBWarehouse:
        """A `Warehouse` over a DuckDB connection opened elsewhere (closing closes it)."""
        wrapped = cls.__new__(cls)
        Warehouse.__init__(wrapped, description)
        wrapped.con = con
        return wrapped

    def _run(self, query: str, params: Params) -> tuple[list[str], list[tuple[Any, ...]]]:
        import duckdb

        try:
            cursor = self.con.execute(query, list(params) if params else None)
            names = [d[0] for d in cursor.description or []]
            return names, cursor.fetchall() if names else []
        except duckdb.Error as exc:
            raise WarehouseError(f"{self.description}: {one_line(exc)}") from exc

    def arrow(self, query: str, params: Params = ()) -> pa.Table:
        """Bulk reads straight from DuckDB's Arrow export (no Python rows in between)."""
        return self.con.execute(query, list(params) if params else None).to_arrow_table()

    def df(self, query: str, params: Params = ()) -> pd.DataFrame:
        return self.con.execute(query, list(params) if params else None).df()

    def _begin(self) -> None:
        self.con.execute("begin")

    def _commit(self) -> None:
        self.con.execute("commit")

    def _rollback(self) -> None:
        self.con.execute("rollback")

    def close(self) -> None:
        self.con.close()


class PostgresWarehouse(Warehouse):
    target = dialect = "postgres"

    def __init__(self, *, read_only: bool) -> None:
        from cdp.landing.engines.postgres import PostgresConfig

        config = PostgresConfig.from_env()
        super().__init__(config.describe())
        self.con = connect_postgres(config)
        self.con.set_session(readonly=read_only, autocommit=False)
        self._in_transaction = False

    def _run(self, query: str, params: Params) -> tuple[list[str], list[tuple[Any, ...]]]:
        import psycopg2

        try:
            with self.con.cursor() as cursor:
                cursor.execute(self.sql(query), tuple(params) if params else None)
                names = [d[0] for d in cursor.description or []]
                found = cursor.fetchall() if names else []
            if not self._in_transaction:
                self.con.commit()
            return names, found
        except psycopg2.Error as exc:
            self.con.rollback()
            raise WarehouseError(f"{self.description}: {one_line(exc)}") from exc

    def _begin(self) -> None:
        self._in_transaction = True

    def _commit(self) -> None:
        self._in_transaction = False
        self.con.commit()

    def _rollback(self) -> None:
        self._in_transaction = False
        self.con.rollback()

    def close(self) -> None:
        self.con.close()


def connect_postgres(config: PostgresConfig | None = None) -> psycopg2.extensions.connection:
    """A psycopg2 connection to the postgres target (CDP_PG_*); WarehouseError in one
    line naming the target and the setting to check (never the password)."""
    from cdp.landing.engines.postgres import PostgresConfig

    import psycopg2

    config = config or PostgresConfig.from_env()
    try:
        return config.connect()
    except psycopg2.Error as exc:
        reason = one_line(exc).split("FATAL:")[-1].strip()
        text = str(exc)
        if "password" in text or "authentication" in text:
            setting = "CDP_PG_USER and CDP_PG_PASSWORD"
        elif "database" in text and "does not exist" in text:
            setting = "CDP_PG_DATABASE"
        elif "role" in text and "does not exist" in text:
            setting = "CDP_PG_USER"
        else:
            setting = "CDP_PG_HOST and CDP_PG_PORT"
        raise WarehouseError(
            f"cannot connect to the postgres target {config.describe()}: {reason} (check {setting})"
        ) from exc


class SparkWarehouse(Warehouse):
    """The Spark catalog of CDP_SPARK_DIR (a local session, as the loader and dbt use)."""

    target = dialect = "spark"
    has_transactions = False

    def __init__(self) -> None:
        from cdp.landing.engines.spark import SparkConfig

        config = SparkConfig.from_env()
        super().__init__(config.describe())
        try:
            self.spark = config.session()
        except Exception as exc:  # Java missing, metastore held by another JVM, ...
            raise WarehouseError(
                f"cannot start the spark target {config.describe()}: {one_line(exc)} "
                "(check CDP_SPARK_DIR, CDP_SPARK_MASTER and Java 17)"
            ) from exc

    def _run(self, query: str, params: Params) -> tuple[list[str], list[tuple[Any, ...]]]:
        try:
            frame = self.spark.sql(self.sql(query), args=list(params) if params else None)
            names = list(frame.columns)
            return names, [tuple(row) for row in frame.collect()]
        except Exception as exc:  # pyspark raises AnalysisException and friends
            raise WarehouseError(f"{self.description}: {one_line(exc)}") from exc

    def arrow(self, query: str, params: Params = ()) -> pa.Table:
        """Bulk reads as Arrow record batches from the executors (no Python rows), with
        Spark's TIMESTAMP (session-local time, the session is UTC) as a naive timestamp,
        as DuckDB and PostgreSQL type the same dbt column."""
        from pyspark.sql.pandas.types import to_arrow_schema

        try:
            frame = self.spark.sql(self.sql(query), args=list(params) if params else None)
            collect = getattr(frame, "toArrow", None)  # pyspark 4; 3.5 has the private one
            table = collect() if collect else _arrow_batches(frame, to_arrow_schema(frame.schema))
        except Exception as exc:  # pyspark raises AnalysisException and friends
            raise WarehouseError(f"{self.description}: {one_line(exc)}") from exc
        return _naive_timestamps(table)

    def relations(self) -> set[tuple[str, str]]:
        found: set[tuple[str, str]] = set()
        for database in self.spark.catalog.listDatabases():
            for table in self.spark.catalog.listTables(database.name):
                found.add((database.name, table.name))
        return found

    def close(self) -> None:
        from cdp.predictions.spark_store import stop_session

        stop_session(self.spark)


def _arrow_batches(frame: Any, schema: pa.Schema) -> pa.Table:
    batches = frame._collect_as_arrow()
    return pa.Table.from_batches(batches) if batches else schema.empty_table()


def _naive_timestamps(table: pa.Table) -> pa.Table:
    """Time-zoned timestamp columns as naive ones holding the UTC wall time."""
    for index, column in enumerate(table.schema):
        if pa.types.is_timestamp(column.type) and column.type.tz is not None:
            naive = table.column(index).cast(pa.timestamp(column.type.unit))
            table = table.set_column(index, column.name, naive)
    return table


def open_warehouse(
    settings: Settings, *, read_only: bool = True, say: Say | None = None
) -> Warehouse:
    """The warehouse CDP_TARGET names (settings.target), read-only unless asked.

    WarehouseError (one line, naming the target and the setting to check) when it
    cannot be opened; on DuckDB it first waits for another process's lock."""
    target = check_target(settings.target)
    if target == "postgres":
        return PostgresWarehouse(read_only=read_only)
    if target == "spark":
        return SparkWarehouse()
    return DuckDBWarehouse(settings.warehouse_path, read_only=read_only, say=say)
