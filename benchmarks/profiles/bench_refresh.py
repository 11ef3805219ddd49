"""Refresh time: a 1% incremental refresh (10k customers rewritten) of a synthetic 1M
SQLite store, with a reader process running; run bench_lookups.py first to make it.

    python benchmarks/profiles/bench_refresh.py --path /tmp/cdp-bench-profiles.sqlite
"""

from __future__ import annotations

import argparse
import os
import time
from pathlib import Path

from bench_lookups import synthetic  # beside this script

from cdp.serve.store.sqlite import SQLiteStore


def main() -> None:
    p = argparse.ArgumentParser()
    p.add_argument("--path", default="/tmp/cdp-bench-profiles.sqlite")
    p.add_argument("--customers", type=int, default=1_000_000)
    p.add_argument("--share", type=float, default=0.01)
    a = p.parse_args()
    store = SQLiteStore(Path(a.path))
    changed = int(a.customers * a.share)
    rows = list(synthetic(changed, seed=99))
    print(f"uptime before: {os.popen('uptime').read().strip()}")
    t0 = time.perf_counter()
    store.write_build("incremental-1pct", rows, replace=[r.customer_id for r in rows])
    seconds = time.perf_counter() - t0
    print(f"uptime after:  {os.popen('uptime').read().strip()}")
    print(f"incremental refresh: {changed} of {a.customers} customers rewritten in {seconds:.1f}s")


if __name__ == "__main__":
    main()
