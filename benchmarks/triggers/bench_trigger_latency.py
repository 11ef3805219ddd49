"""Build end -> trigger webhook latency: from `cdp build` returning success to the
webhook contract server receiving the segment_entered / segment_left events.

    python benchmarks/triggers/bench_trigger_latency.py --warehouse PATH/cdp.duckdb [--runs 20]

PATH is a built warehouse (any `cdp build`/`cdp run`; it needs the event models of
dbt_project/models/marts/audiences); the script works on a copy in a scratch folder.
Each run is a real build: one member of a segment is taken out of, and one customer
put into, marts.segment_memberships, and `cdp build --select
segment_membership_history+` runs as of the next day (so the history, the changes,
the event log and the trigger view are rebuilt by dbt, the way a full build ends).
The clock starts when that `cdp build` process has returned 0, then the trigger
runs, alternately
  in-process  run_sync in the same process, as `cdp run`'s sync step and the
              Dagster asset triggers/<name> do right after the build, and
  cdp sync    `cdp sync --sync <trigger>` started as a new process (cron, by hand),
and stops at the contract server's receipt of the last of the run's two events
(time.time() of the same machine). p50/p99 per way; `uptime` before and after.
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import date, timedelta
from pathlib import Path

import yaml
from cdp_demo.contract_servers import WebhookContractServer

from cdp.warehouse import connect_duckdb
from reverse_etl.config import parse_syncs
from reverse_etl.engine.runner import run_sync

REPO = Path(__file__).resolve().parents[2]
BIN = Path(sys.executable).parent
SECRET_ENV = "CDP_BENCH_TRIGGER_SECRET"
SECRET = "bench-secret"
NAME = "bench_trigger"
SUPPRESSED = "select customer_id from marts.customer_suppressions"


def uptime() -> str:
    return subprocess.run(["uptime"], capture_output=True, text=True, check=False).stdout.strip()


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    rank = max(0, min(len(ordered) - 1, round(q * (len(ordered) - 1))))
    return ordered[rank]


def change_one_member_each_way(warehouse: Path, run: int) -> None:
    """Take the run-th member out of its segment and put a non-member in it."""
    with connect_duckdb(warehouse) as con:
        segment, leaver = con.execute(
            "select segment_name, customer_id from marts.segment_memberships "
            f"where customer_id not in ({SUPPRESSED}) "
            "order by segment_name, customer_id limit 1"
        ).fetchone()  # type: ignore[misc]
        (enterer,) = con.execute(
            "select customer_id from marts.customers where customer_id not in "
            "(select customer_id from marts.segment_memberships where segment_name = ?) "
            f"and customer_id not in ({SUPPRESSED}) "
            f"order by customer_id limit 1 offset {run}",
            [segment],
        ).fetchone()  # type: ignore[misc]
        con.execute(
            "delete from marts.segment_memberships where segment_name = ? and customer_id = ?",
            [segment, leaver],
        )
        con.execute(
            "insert into marts.segment_memberships (segment_name, customer_id) values (?, ?)",
            [segment, enterer],
        )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--warehouse", type=Path, required=True)
    parser.add_argument("--runs", type=int, default=20)
    args = parser.parse_args()

    scratch = Path(tempfile.mkdtemp(prefix="bench_triggers_"))
    warehouse = scratch / "cdp.duckdb"
    shutil.copy(args.warehouse, warehouse)
    env = {
        **os.environ,
        "CDP_HOME": str(REPO),
        "CDP_DUCKDB_PATH": str(warehouse),
        "CDP_DATA_DIR": str(scratch / "data"),
        "DBT_TARGET_PATH": str(scratch / "dbt_target"),
        "DBT_LOG_PATH": str(scratch / "dbt_logs"),
        "DBT_SEND_ANONYMOUS_USAGE_STATS": "false",
        "CDP_STORE_REFRESH": "off",  # the serving store is not what is measured
        SECRET_ENV: SECRET,
    }
    os.environ[SECRET_ENV] = SECRET
    with connect_duckdb(warehouse) as con:
        (customers,) = con.execute("select count(*) from marts.customers").fetchone()  # type: ignore[misc]
        (newest,) = con.execute(
            "select max(change_date) from marts.segment_membership_changes"
        ).fetchone()  # type: ignore[misc]
    start_day: date = newest

    print(f"warehouse: {customers} customers; {args.runs} builds; machine: {os.cpu_count()} CPUs")
    print(f"uptime before: {uptime()}")
    latencies: dict[str, list[float]] = {"in-process": [], "cdp sync": []}
    with WebhookContractServer(SECRET) as hook:
        config = scratch / "syncs.yml"
        privacy = yaml.safe_load((REPO / "syncs.yml").read_text())["privacy"]
        config.write_text(
            yaml.safe_dump(
                {
                    "privacy": privacy,
                    "triggers": [
                        {
                            "name": NAME,
                            "destination": {
                                "type": "webhook",
                                "url": hook.endpoint,
                                "signing_secret_env": SECRET_ENV,
                            },
                            "traits": {"first_name": "first_name"},
                        }
                    ],
                }
            )
        )
        (sync,) = parse_syncs(yaml.safe_load(config.read_text()))
        # the backlog (everyone's first entry) is not a build's change: send it first
        assert run_sync(sync, warehouse).status == "succeeded"
        for run in range(args.runs):
            change_one_member_each_way(warehouse, run)
            day = start_day + timedelta(days=run + 1)
            seen = len(hook.events)
            build = subprocess.run(
                [
                    str(BIN / "cdp"),
                    "build",
                    "--select",
                    "segment_membership_history+",
                    "--vars",
                    f"{{cdp__as_of_date: '{day}'}}",
                ],
                env=env,
                capture_output=True,
                text=True,
                check=False,
            )
            built_at = time.time()
            if build.returncode != 0:
                sys.exit(f"build {run} failed:\n{build.stdout[-3000:]}{build.stderr[-2000:]}")
            way = "in-process" if run % 2 == 0 else "cdp sync"
            if way == "in-process":
                result = run_sync(sync, warehouse)
                ok = result.status == "succeeded"
            else:
                done = subprocess.run(
                    [str(BIN / "cdp"), "sync", "--config", str(config), "--sync", NAME],
                    env=env,
                    capture_output=True,
                    text=True,
                    check=False,
                )
                ok = done.returncode == 0
            new = hook.events[seen:]
            if not ok or len(new) != 2:
                sys.exit(f"run {run} ({way}): expected 2 events, got {len(new)} (ok={ok})")
            latency = max(e["received_at"] for e in new) - built_at
            latencies[way].append(latency)
            print(f"run {run + 1:2d} {way:10s} {latency * 1000:8.1f} ms")
    print(f"uptime after: {uptime()}")
    for way, values in latencies.items():
        print(
            f"{way:10s} n={len(values)} p50 {statistics.median(values) * 1000:.0f} ms, "
            f"p99 {percentile(values, 0.99) * 1000:.0f} ms, max {max(values) * 1000:.0f} ms"
        )
    shutil.rmtree(scratch, ignore_errors=True)


if __name__ == "__main__":
    main()
