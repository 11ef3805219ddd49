"""`PredictionStore` on the local Spark catalog the `spark` target of profiles.yml uses.

The scoring step runs inside the `cdp build` process, between two dbt
subprocesses that open the same embedded Derby metastore. Derby admits one
JVM at a time and `SparkSession.stop()` leaves pyspark's JVM (and its lock
on the metastore) running until Python exits, so `close()` also ends that
JVM. Exercised by tests/engines/test_cross_engine_spark.py (`cdp build` on
Spark, predictions tables compared with DuckDB's).
"""

from __future__ import annotations

import subprocess
from collections.abc import Sequence
from typing import Any

import pandas as pd

from cdp.landing.engines.spark import SparkConfig
from cdp.predictions.errors import ScoringError
from cdp.predictions.store import Column, ColumnType

_TYPES: dict[ColumnType, str] = {
    "varchar": "string",
    "integer": "int",
    "bigint": "bigint",
    "double": "double",
    "boolean": "boolean",
    "date": "date",
}


def _bq(name: str) -> str:
    return "`" + name.replace("`", "``") + "`"


class SparkStore:
    def __init__(self, spark: Any) -> None:
        self._spark = spark

    @classmethod
    def open(cls) -> SparkStore:
        config = SparkConfig.from_env()
        try:
            return cls(config.session())
        except Exception as exc:  # py4j and JVM start-up errors have no common base
            raise ScoringError(f"cannot open warehouse {config.describe()}: {exc}") from exc

    def read_relation(self, schema: str, name: str) -> pd.DataFrame:
        if not self._spark.catalog.tableExists(f"{schema}.{name}"):
            raise ScoringError(f"{schema}.{name} is missing: build the dbt project first")
        return self._spark.table(f"{_bq(schema)}.{_bq(name)}").toPandas()

    def replace_table(
        self, schema: str, name: str, frame: pd.DataFrame, columns: Sequence[Column]
    ) -> None:
        schema_ddl = ", ".join(f"{_bq(c.name)} {_TYPES[c.data_type]}" for c in columns)
        data = frame[[c.name for c in columns]].astype(object)
        data = data.where(pd.notna(data), None)
        self._spark.sql(f"create database if not exists {_bq(schema)}")
        written = self._spark.createDataFrame(
            [tuple(row) for row in data.itertuples(index=False)], schema=schema_ddl
        )
        written.write.mode("overwrite").format("parquet").saveAsTable(f"{_bq(schema)}.{_bq(name)}")

    def close(self) -> None:
        """Stop the session and end pyspark's JVM, so the Derby metastore is free for dbt."""
        stop_session(self._spark)


def stop_session(spark: Any) -> None:
    """Stop `spark` and end the JVM pyspark launched (also used by cdp/warehouse).

    A JVM this process attached to (PYSPARK_GATEWAY_PORT: spark-submit's, or the
    one the Spark kill test shares between `cdp sync` processes) is left running:
    only this process's connections to it are closed."""
    from pyspark import SparkContext

    spark.stop()
    gateway = SparkContext._gateway
    if gateway is None:
        return
    process = getattr(gateway, "proc", None)  # the JVM pyspark launched, if it did
    if process is None:
        gateway.close()
    else:
        gateway.shutdown()
    SparkContext._gateway = None
    SparkContext._jvm = None
    if process is not None:
        # The JVM exits when its stdin closes (pyspark's launch contract).
        process.stdin.close()
        try:
            process.wait(timeout=60)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=10)
