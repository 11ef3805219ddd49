"""`PredictionStore` on the DuckDB warehouse file."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import duckdb
import pandas as pd

from cdp.landing.engines.duckdb.sql import ident
from cdp.predictions.errors import ScoringError
from cdp.predictions.store import Column
from cdp.warehouse import WarehouseError, connect_duckdb


class DuckDBStore:
    def __init__(self, con: duckdb.DuckDBPyConnection) -> None:
        self._con = con

    @classmethod
    def open(cls, path: Path) -> DuckDBStore:
        try:
            return cls(connect_duckdb(path))
        except WarehouseError as exc:
            raise ScoringError(str(exc)) from exc

    def read_relation(self, schema: str, name: str) -> pd.DataFrame:
        try:
            return self._con.sql(f"select * from {ident(schema)}.{ident(name)}").df()
        except duckdb.CatalogException as exc:
            raise ScoringError(f"{schema}.{name} is missing: build the dbt project first") from exc

    def replace_table(
        self, schema: str, name: str, frame: pd.DataFrame, columns: Sequence[Column]
    ) -> None:
        target = f"{ident(schema)}.{ident(name)}"
        definitions = ", ".join(f"{ident(c.name)} {c.data_type}" for c in columns)
        casts = ", ".join(f"cast({ident(c.name)} as {c.data_type})" for c in columns)
        self._con.register("scoring_frame", frame[[c.name for c in columns]])
        try:
            self._con.begin()
            self._con.execute(f"create schema if not exists {ident(schema)}")
            self._con.execute(f"create or replace table {target} ({definitions})")
            self._con.execute(f"insert into {target} select {casts} from scoring_frame")
            self._con.commit()
        except duckdb.Error as exc:
            self._con.rollback()
            raise ScoringError(f"cannot write {schema}.{name}: {exc}") from exc
        finally:
            self._con.unregister("scoring_frame")

    def close(self) -> None:
        self._con.close()
