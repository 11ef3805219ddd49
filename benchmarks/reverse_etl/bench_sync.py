"""Benchmark: diff time on a large audience and delivery rate to an unthrottled destination.

    .venv/bin/python benchmarks/reverse_etl/bench_sync.py [--rows N] [--send-rows N]

1. Diff, initial: a `rows`-row source model against empty state (everything is an add).
2. Diff, steady state: the same model against state holding every row (seeded in
   SQL, as if acknowledged), with 1% of rows changed, 0.5% removed, 0.5% added.
3. Delivery: a full sync of `send-rows` rows to the webhook contract server running
   in this process (no rate limit, no faults), through the whole engine: outbox
   write, signed POST, state commit per batch. Rows/s is rows acknowledged / wall time.

Everything happens in a temporary folder that is deleted afterwards.
"""

from __future__ import annotations

import argparse
import os
import tempfile
import time
from pathlib import Path

import duckdb
from cdp_demo.contract_servers import WebhookContractServer

from reverse_etl.config import SyncDefinition, parse_syncs
from reverse_etl.engine.diff import compute_diff
from reverse_etl.engine.runner import run_sync
from reverse_etl.engine.schema import SCHEMA, ensure_schema

SECRET_ENV = "CDP_BENCH_WEBHOOK_SECRET"


def _sync(url: str, batch_size: int) -> SyncDefinition:
    return parse_syncs(
        [
            {
                "name": "bench",
                "source": "marts.audience",
                "primary_key": "customer_id",
                "mode": "audience",
                "destination": {
                    "type": "webhook",
                    "url": url,
                    "signing_secret_env": SECRET_ENV,
                    "batch_size": batch_size,
                },
                "fields": {
                    "email": {"source": "email", "type": "email"},
                    "first_name": "first_name",
                    "city": "city",
                },
            }
        ]
    )[0]


def _make_source(con: duckdb.DuckDBPyConnection, rows: int) -> None:
    con.execute("create schema if not exists marts")
    con.execute(
        f"""create or replace table marts.audience as
            select i as customer_id, 'person' || i || '@example.com' as email,
                   'First' || (i % 5000) as first_name, 'City' || (i % 300) as city
            from range(1, {rows + 1}) t(i)"""
    )


def bench_diff(folder: Path, rows: int) -> tuple[float, float]:
    con = duckdb.connect(str(folder / "diff.duckdb"))
    ensure_schema(con)
    _make_source(con, rows)
    sync = _sync("http://127.0.0.1:9/unused", 1000)

    started = time.perf_counter()
    counts = compute_diff(con, sync, 0)
    initial = time.perf_counter() - started
    assert counts.adds == rows, counts

    # Seed state as if every row had been acknowledged, then change the model.
    con.execute(
        f"""insert into {SCHEMA}.sync_state
            select 'bench', key, content_hash, payload, null, now() from retl_source"""
    )
    con.execute("update marts.audience set city = 'Moved' where customer_id % 100 = 0")
    con.execute("delete from marts.audience where customer_id % 200 = 1")
    con.execute(
        f"""insert into marts.audience select i, 'new' || i || '@example.com', 'New', 'X'
            from range({rows + 1}, {rows + 1 + rows // 200}) t(i)"""
    )
    started = time.perf_counter()
    counts = compute_diff(con, sync, 0)
    steady = time.perf_counter() - started
    print(
        f"  steady-state diff found {counts.adds} adds, {counts.changes} changes, "
        f"{counts.removes} removes"
    )
    con.close()
    return initial, steady


def bench_delivery(folder: Path, rows: int, batch_size: int) -> tuple[float, int, int]:
    warehouse = folder / "send.duckdb"
    con = duckdb.connect(str(warehouse))
    _make_source(con, rows)
    con.close()
    os.environ[SECRET_ENV] = "bench-secret"
    with WebhookContractServer("bench-secret", max_batch_size=batch_size) as server:
        sync = _sync(server.endpoint, batch_size)
        started = time.perf_counter()
        result = run_sync(sync, warehouse)
        seconds = time.perf_counter() - started
        assert result.status == "succeeded", result.error
        assert len(server.members) == rows
    return seconds, result.rows_added, result.requests


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=1_000_000, help="audience size for the diff")
    parser.add_argument("--send-rows", type=int, default=200_000, help="rows to deliver")
    parser.add_argument("--batch-size", type=int, default=1000, help="webhook rows per request")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="retl-bench-") as tmp:
        folder = Path(tmp)
        print(f"diff, {args.rows:,} keys (DuckDB {duckdb.__version__}, {os.cpu_count()} CPUs)")
        initial, steady = bench_diff(folder, args.rows)
        print(f"  initial diff (empty state):      {initial:6.2f} s")
        print(f"  steady-state diff (full state):  {steady:6.2f} s")
        print(f"delivery, {args.send_rows:,} rows to the webhook contract server")
        seconds, acked, requests = bench_delivery(folder, args.send_rows, args.batch_size)
        print(f"  {acked:,} rows in {requests} requests in {seconds:.2f} s")
        print(f"  {acked / seconds:,.0f} rows/s")


if __name__ == "__main__":
    main()
