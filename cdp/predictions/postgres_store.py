"""`PredictionStore` on PostgreSQL, with the connection settings of the landing loader."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import pandas as pd
import psycopg2
import psycopg2.extensions
import psycopg2.extras

from cdp.landing.engines.duckdb.sql import ident
from cdp.landing.engines.postgres import PostgresConfig
from cdp.predictions.errors import ScoringError
from cdp.predictions.store import Column, ColumnType
from cdp.warehouse import WarehouseError, connect_postgres

_TYPES: dict[ColumnType, str] = {
    "varchar": "text",
    "integer": "integer",
    "bigint": "bigint",
    "double": "double precision",
    "boolean": "boolean",
    "date": "date",
}


def _python_value(value: Any) -> Any:
    """A value psycopg2 can adapt: numpy scalars and pandas' missing values made plain."""
    if value is None or (not isinstance(value, str) and pd.isna(value)):
        return None
    return value.item() if hasattr(value, "item") else value


class PostgresStore:
    def __init__(self, con: psycopg2.extensions.connection, config: PostgresConfig) -> None:
        self._con = con
        self._config = config

    @classmethod
    def open(cls) -> PostgresStore:
        config = PostgresConfig.from_env()
        try:
            con = connect_postgres(config)
        except WarehouseError as exc:
            raise ScoringError(str(exc)) from exc
        return cls(con, config)

    def read_relation(self, schema: str, name: str) -> pd.DataFrame:
        try:
            with self._con.cursor() as cur:
                cur.execute(f"select * from {ident(schema)}.{ident(name)}")
                names = [d[0] for d in cur.description or []]
                rows = cur.fetchall()
            self._con.rollback()
        except psycopg2.errors.UndefinedTable as exc:
            self._con.rollback()
            raise ScoringError(f"{schema}.{name} is missing: build the dbt project first") from exc
        return pd.DataFrame.from_records(rows, columns=names)

    def replace_table(
        self, schema: str, name: str, frame: pd.DataFrame, columns: Sequence[Column]
    ) -> None:
        target = f"{ident(schema)}.{ident(name)}"
        definitions = ", ".join(f"{ident(c.name)} {_TYPES[c.data_type]}" for c in columns)
        rows = [
            tuple(_python_value(v) for v in row)
            for row in frame[[c.name for c in columns]].itertuples(index=False)
        ]
        try:
            with self._con.cursor() as cur:
                cur.execute(f"create schema if not exists {ident(schema)}")
                cur.execute(
                    "select column_name from information_schema.columns "
                    "where table_schema = %s and table_name = %s order by ordinal_position",
                    (schema, name),
                )
                if [str(r[0]) for r in cur.fetchall()] == [c.name for c in columns]:
                    # Emptied, not dropped: the dbt views that read it (staging) stay.
                    cur.execute(f"delete from {target}")
                else:
                    cur.execute(f"drop table if exists {target} cascade")
                    cur.execute(f"create table {target} ({definitions})")
                psycopg2.extras.execute_values(cur, f"insert into {target} values %s", rows)
            self._con.commit()
        except psycopg2.Error as exc:
            self._con.rollback()
            raise ScoringError(f"cannot write {schema}.{name}: {exc}") from exc

    def close(self) -> None:
        self._con.close()
