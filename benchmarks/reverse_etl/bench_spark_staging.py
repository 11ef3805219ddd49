"""Benchmark: what a sync on Spark pays to read its source from Spark and stage it.

    .venv/bin/python benchmarks/reverse_etl/bench_spark_staging.py [--rows N ...]

A local Spark session (CDP_SPARK_DIR in a temporary folder) holds an external
Parquet table `marts.audience` (customer_id, email, first_name, city); for each
size the table's file is replaced (written by DuckDB) and the engine's Spark
state database (reverse_etl/engine/staging.py) stages it, then diffs it against
empty state, exactly as a run does:

    stage   Spark query of the mapped columns -> Arrow record batches ->
            a table of the in-memory DuckDB database attached as `marts`
    diff    engine/diff.py's compute_diff in the DuckDB state file

The first measured size pays nothing for the session start and the metastore's
first query (reported apart: every `cdp sync` process pays them once).
"""

from __future__ import annotations

import argparse
import os
import tempfile
import time
from pathlib import Path

import duckdb

from reverse_etl.config import SyncDefinition, parse_syncs
from reverse_etl.engine.db import SparkTarget
from reverse_etl.engine.diff import compute_diff
from reverse_etl.engine.schema import ensure_schema


def _sync() -> SyncDefinition:
    return parse_syncs(
        [
            {
                "name": "bench",
                "source": "marts.audience",
                "primary_key": "customer_id",
                "mode": "audience",
                "destination": {
                    "type": "webhook",
                    "url": "http://127.0.0.1:9/unused",
                    "signing_secret_env": "CDP_BENCH_WEBHOOK_SECRET",
                },
                "fields": {
                    "email": {"source": "email", "type": "email"},
                    "first_name": "first_name",
                    "city": "city",
                },
            }
        ]
    )[0]


def _write_source(folder: Path, rows: int) -> None:
    con = duckdb.connect()
    try:
        con.execute(
            f"""copy (select cast(i as integer) as customer_id,
                        'person' || i || '@example.com' as email,
                        'First' || (i % 5000) as first_name, 'City' || (i % 300) as city
                    from range(1, {rows + 1}) t(i))
                to '{folder.parent / "next.parquet"}' (format parquet)"""
        )
    finally:
        con.close()
    (folder.parent / "next.parquet").replace(folder / "part-0.parquet")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--rows", type=int, nargs="+", default=[100_000, 500_000, 1_000_000], help="sizes"
    )
    args = parser.parse_args()
    from reverse_etl.engine.staging import StagedSyncDatabase

    with tempfile.TemporaryDirectory(prefix="retl-spark-bench-") as tmp:
        root = Path(tmp)
        data = root / "audience"
        data.mkdir()
        _write_source(data, 10)
        os.environ["CDP_SPARK_DIR"] = str(root / "spark")
        target = SparkTarget(root / "sync_state.duckdb")
        started = time.perf_counter()
        db = StagedSyncDatabase.open_state(target)
        spark = target.spark().spark  # the pyspark session, for the DDL
        spark.sql("create database if not exists marts")
        spark.sql(
            "create table marts.audience (customer_id int, email string, first_name string, "
            f"city string) using parquet location '{data}'"
        )
        ensure_schema(db)
        sync = _sync()
        db.stage(sync)
        first = time.perf_counter() - started
        print(f"session start, first metastore query, 10-row stage: {first:.1f} s")
        print(
            "| rows | stage (Spark -> Arrow -> DuckDB) | diff (empty state) | stage per 100k rows |"
        )
        print("| ---: | ---: | ---: | ---: |")
        for rows in args.rows:
            _write_source(data, rows)
            spark.sql("refresh table marts.audience")
            started = time.perf_counter()
            db.stage(sync)
            staged = time.perf_counter() - started
            assert db.staged_rows("marts.audience") == rows
            started = time.perf_counter()
            counts = compute_diff(db, sync, 0)
            diffed = time.perf_counter() - started
            assert counts.adds == rows, counts
            print(
                f"| {rows:,} | {staged:.2f} s | {diffed:.2f} s | {staged / rows * 100_000:.2f} s |"
            )
        db.close()
        target.close()


if __name__ == "__main__":
    main()
