"""Refresh time: a 1% incremental refresh (10k of 1M customers rewritten) of a synthetic
store, with reader processes doing lookups all through it; run bench_lookups.py first
to make the store (same --path or --redis-url).

    python benchmarks/profiles/bench_refresh.py --backend sqlite  # the default --path
    python benchmarks/profiles/bench_refresh.py --backend redis --redis-url redis://127.0.0.1:PORT/0

The readers start before the refresh and stop when it ends; their p50/p99 is the
latency a Profile API client sees while a build's changes are written (on Redis an
incremental refresh is one MULTI/EXEC transaction, which holds every reader until it
has run; on SQLite readers keep reading the last committed state under WAL).
"""

from __future__ import annotations

import argparse
import multiprocessing as mp
import os
import statistics
import time
from pathlib import Path

from bench_lookups import lookup, open_backend, synthetic  # beside this script


def reader(args: tuple[str, str, str | None, int, int, object]) -> list[float]:
    """Lookups (resolve an email, read the profile) until `stop` is set."""
    import random

    backend, path, url, n, seed, stop = args
    store = open_backend(backend, Path(path), url)
    rnd = random.Random(seed)
    times: list[float] = []
    while not stop.is_set():  # type: ignore[attr-defined]
        times.append(lookup(store, rnd.randrange(n)))
    return times


def main() -> None:
    p = argparse.ArgumentParser()
    p.add_argument("--backend", choices=("sqlite", "redis"), default="sqlite")
    p.add_argument("--path", default="/tmp/cdp-bench-profiles.sqlite")
    p.add_argument("--redis-url")
    p.add_argument("--customers", type=int, default=1_000_000)
    p.add_argument("--share", type=float, default=0.01)
    p.add_argument("--readers", type=int, default=1, help="reader processes during the refresh")
    a = p.parse_args()
    store = open_backend(a.backend, Path(a.path), a.redis_url)
    if store.build_id() is None:
        raise SystemExit(f"no store at {a.redis_url or a.path}: run bench_lookups.py first")
    changed = int(a.customers * a.share)
    rows = list(synthetic(changed, seed=99))
    manager = mp.Manager()
    stop = manager.Event()
    jobs = [(a.backend, a.path, a.redis_url, a.customers, s, stop) for s in range(a.readers)]
    print(f"uptime before: {os.popen('uptime').read().strip()}")
    with mp.Pool(a.readers) as pool:
        pending = pool.map_async(reader, jobs)
        time.sleep(1.0)  # the readers are reading when the refresh starts
        t0 = time.perf_counter()
        store.write_build(  # type: ignore[attr-defined]
            "incremental-1pct", rows, [r.customer_id for r in rows]
        )
        seconds = time.perf_counter() - t0
        stop.set()
        times = sorted(t for r in pending.get() for t in r)
    print(f"uptime after:  {os.popen('uptime').read().strip()}")
    q = statistics.quantiles(times, n=100)
    print(
        f"{a.backend} incremental refresh: {changed} of {a.customers} customers rewritten in "
        f"{seconds:.1f}s; {a.readers} reader(s) during it: {len(times)} lookups, "
        f"p50 {q[49] * 1000:.2f} ms, p99 {q[98] * 1000:.2f} ms, max {times[-1] * 1000:.2f} ms"
    )


if __name__ == "__main__":
    main()
