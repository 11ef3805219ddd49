"""How the scoring step reads dbt's feature tables and writes its own tables.

`PredictionStore` is the small interface the run needs from a warehouse: read
a whole relation into pandas, and replace one table with a data frame in one
go. `duckdb_store`, `postgres_store` and `spark_store` implement it for the
three targets of profiles.yml; `open_store` picks one from CDP_TARGET, with
the same connection settings the landing loader uses (cdp/landing).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal, Protocol

import pandas as pd

from cdp.config import Settings
from cdp.predictions.errors import ScoringError

ColumnType = Literal["varchar", "integer", "bigint", "double", "boolean", "date"]


@dataclass(frozen=True)
class Column:
    """A column of a written table, with a portable type each store spells its own way."""

    name: str
    data_type: ColumnType
    description: str


class PredictionStore(Protocol):
    def read_relation(self, schema: str, name: str) -> pd.DataFrame:
        """Every row of `schema.name`; ScoringError when it does not exist."""
        ...

    def replace_table(
        self, schema: str, name: str, frame: pd.DataFrame, columns: Sequence[Column]
    ) -> None:
        """Create `schema` if needed and replace `schema.name` with `frame`, atomically
        where the engine allows it."""
        ...

    def close(self) -> None: ...


def open_store(settings: Settings) -> PredictionStore:
    """The store of the configured target; ScoringError if it cannot be opened."""
    if settings.target == "duckdb":
        from cdp.predictions.duckdb_store import DuckDBStore

        return DuckDBStore.open(settings.warehouse_path)
    if settings.target == "postgres":
        from cdp.predictions.postgres_store import PostgresStore

        return PostgresStore.open()
    if settings.target == "spark":
        from cdp.predictions.spark_store import SparkStore

        return SparkStore.open()
    raise ScoringError(
        f"unknown target {settings.target!r} (CDP_TARGET must be duckdb, postgres or spark)"
    )
