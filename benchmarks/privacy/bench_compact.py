"""Benchmark: `cdp privacy finish --compact` on a warehouse of N generated people.

    .venv/bin/python benchmarks/privacy/bench_compact.py --customers 1000000 --activity 0.153

In a temporary folder (deleted afterwards, or kept with --keep DIR):
1. `cdp_demo` generates the business (the scale benchmark's sizes), `cdp ingest`
   lands it into an empty DuckDB file (not timed here: benchmarks/foundation);
2. 1 % of the people's raw rows are deleted (an erasure's deletions, in bulk) and
   checkpointed, so the file has free blocks;
3. timed: `cdp privacy finish --compact` as the user runs it (a subprocess: connect,
   finish, ATTACH + COPY FROM DATABASE, close, atomic rename), with the file sizes
   before and after and the machine's load (`uptime`) before and after.

The raw tables are the bulk of a warehouse (the scale benchmark's marts are a
fraction of them), so this measures the copy at the warehouse's real size order;
a built warehouse adds its marts to the bytes copied. Prints a Markdown table row.
"""

from __future__ import annotations

import argparse
import os
import platform
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import duckdb

REPO = Path(__file__).resolve().parents[2]
CDP = Path(sys.executable).parent / "cdp"
PEOPLE_TABLES = {
    "shop_customers": "customer_id",
    "crm_contacts": "contact_id",
    "email_subscribers": "subscriber_id",
    "loyalty_members": "loyalty_number",
}

GENERATE = """
import sys
from datetime import date
from pathlib import Path
from cdp_demo.sample_data import generate
generate(Path(sys.argv[1]), customers=int(sys.argv[2]), seed=42,
         end_date=date(2026, 6, 30), activity=float(sys.argv[3]))
"""

INGEST = """
import sys
from pathlib import Path
from cdp.landing import ingest
result = ingest(Path(sys.argv[1]), Path(sys.argv[2]), Path(sys.argv[3]))
print(result.rows_loaded)
"""


def _uptime() -> str:
    return subprocess.run(["uptime"], capture_output=True, text=True).stdout.strip()


def _delete_one_percent(warehouse: Path) -> int:
    deleted = 0
    with duckdb.connect(str(warehouse)) as con:
        for table, key in PEOPLE_TABLES.items():
            row = con.execute(
                f"select count(*) from raw.{table} where hash({key}) % 100 = 0"
            ).fetchone()
            deleted += int(row[0]) if row else 0
            con.execute(f"delete from raw.{table} where hash({key}) % 100 = 0")
        con.execute("checkpoint")
    return deleted


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--customers", type=int, default=100_000)
    parser.add_argument("--activity", type=float, default=1.0)
    parser.add_argument("--keep", type=Path, default=None)
    args = parser.parse_args()
    root = args.keep or Path(tempfile.mkdtemp(prefix="cdp-bench-compact-"))
    root.mkdir(parents=True, exist_ok=True)
    env = dict(os.environ) | {
        "CDP_HOME": str(REPO),
        "CDP_TARGET": "duckdb",
        "CDP_DATA_DIR": str(root / "data"),
        "CDP_DUCKDB_PATH": str(root / "warehouse" / "cdp.duckdb"),
        "CDP_SYNCS_PATH": str(root / "no-syncs.yml"),
    }
    warehouse = root / "warehouse" / "cdp.duckdb"
    try:
        if not warehouse.exists():
            warehouse.parent.mkdir(parents=True, exist_ok=True)
            run = [sys.executable, "-c"]
            subprocess.run(
                [*run, GENERATE, str(root / "data"), str(args.customers), str(args.activity)],
                check=True,
                env=env,
            )
            subprocess.run(
                [
                    *run,
                    INGEST,
                    str(root / "data" / "landing"),
                    str(warehouse),
                    str(REPO / "dbt_project"),
                ],
                check=True,
                env=env,
                capture_output=True,
            )
        deleted = _delete_one_percent(warehouse)
        with duckdb.connect(str(warehouse), read_only=True) as con:
            row = con.execute(
                "select sum(estimated_size) from duckdb_tables() where schema_name = 'raw'"
            ).fetchone()
        rows = int(row[0]) if row and row[0] else 0
        before = warehouse.stat().st_size
        load_before = _uptime()
        started = time.perf_counter()
        done = subprocess.run(
            [str(CDP), "privacy", "finish", "--compact"],
            env=env,
            capture_output=True,
            text=True,
            check=True,
        )
        wall = time.perf_counter() - started
        load_after = _uptime()
        after = warehouse.stat().st_size
        mib = 1024 * 1024
        print(done.stdout.strip())
        machine = f"{os.cpu_count()} cores, {platform.platform()}, DuckDB {duckdb.__version__}"
        print(f"machine: {machine}")
        print(f"load before: {load_before}")
        print(f"load after:  {load_after}")
        print("| people | raw rows (est.) | rows deleted | file before | file after | wall s |")
        print(
            f"| {args.customers:,} | {rows:,} | {deleted:,} | {before / mib:,.0f} MiB | "
            f"{after / mib:,.0f} MiB | {wall:.1f} |"
        )
    finally:
        if args.keep is None:
            shutil.rmtree(root, ignore_errors=True)


if __name__ == "__main__":
    main()
