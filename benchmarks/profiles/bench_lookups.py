"""Serving-store lookups under concurrent load: p50/p99 of resolve + profile.

The store rows are SYNTHETIC (generated here, not built by dbt): a 1M-customer
warehouse takes too long to build on the shared 2-core machine, and a lookup's
cost depends on the store's size and row shape, not on where rows came from.
Each synthetic customer has the shape of a real one (17 traits, 4 identifiers,
2 segments, 5 consent states, 10 scores, 5 recent events: the events table
is what makes a 1M store large, and a lookup reads none of them but the first 10).

    python benchmarks/profiles/bench_lookups.py --customers 1000000 --backend sqlite
    python benchmarks/profiles/bench_lookups.py --customers 1000000 --backend redis \
        --redis-url redis://127.0.0.1:PORT/0

One lookup = resolve(email) then profile(customer_id), as the Profile API does.
Workers are processes (--workers), each with its own connection, for --seconds.
"""

from __future__ import annotations

import argparse
import multiprocessing as mp
import os
import random
import statistics
import time
from collections.abc import Iterator
from pathlib import Path

from cdp.serve.store.extract import StoreRows
from cdp.serve.store.protocol import ProfileStore


def synthetic(n: int, seed: int = 7) -> Iterator[StoreRows]:
    rnd = random.Random(seed)
    for i in range(n):
        cid = f"cus_{i:020d}"
        email = f"person{i}@example.com"
        yield StoreRows(
            customer_id=cid,
            traits={
                "first_name": f"First{i % 5000}",
                "last_name": f"Last{i % 20000}",
                "birth_date": "1980-01-01",
                "email": email,
                "phone_e164": f"+4479{i:08d}",
                "address_line_1": f"{i % 300} High Street",
                "postal_code": "AB1 2CD",
                "city": "Leeds",
                "country_code": "GB",
                "emails": [email],
                "phones": [f"+4479{i:08d}"],
                "source_names": ["crm_contacts", "shop_customers"],
                "record_count": 3,
                "first_seen_at": "2024-01-01T00:00:00",
                "last_seen_at": "2026-06-01T00:00:00",
                "customer_id_created_at": "2026-06-30T00:00:00",
            },
            scores={f"score_{k}": rnd.random() for k in range(10)},
            identifiers=[
                ("email", email, "crm_contacts"),
                ("phone", f"+4479{i:08d}", "shop_customers"),
                ("anonymous_id", f"anon-{i}", None),
                ("shop_customer_id", str(10_000_000 + i), None),
            ],
            segments=[("segment_win_back", "2026-06-01"), ("segment_lapsed_buyers", "2026-05-01")],
            segment_changes=[("segment_win_back", "entered", "2026-06-01")],
            consent=[
                {
                    "channel": "email",
                    "purpose": p,
                    "consent_status": "granted",
                    "is_granted": True,
                    "decided_at": "2025-01-01T00:00:00",
                }
                for p in ("marketing", "analytics", "profiling", "ads", "sms")
            ],
            events=[
                {
                    "activity_id": f"a{i}-{k}",
                    "activity_type": "web_page",
                    "occurred_at": f"2026-06-{(k % 28) + 1:02d}T10:00:00",
                    "source_name": "web_events",
                    "activity_detail": "/products",
                    "amount_reporting": None,
                }
                for k in range(5)
            ],
        )


def open_backend(backend: str, path: Path, url: str | None) -> ProfileStore:
    if backend == "redis":
        from cdp.serve.store.redis_store import RedisStore

        assert url
        return RedisStore(url)
    from cdp.serve.store.sqlite import SQLiteStore

    return SQLiteStore(path)


def worker(args: tuple[str, str, str | None, int, float, int]) -> list[float]:
    backend, path, url, n, seconds, seed = args
    store = open_backend(backend, Path(path), url)
    rnd = random.Random(seed)
    times: list[float] = []
    end = time.perf_counter() + seconds
    while time.perf_counter() < end:
        times.append(lookup(store, rnd.randrange(n)))
    return times


def lookup(store: ProfileStore, i: int) -> float:
    """Seconds for one lookup of synthetic customer `i`: resolve its email, read its
    profile (checked: the profile is the one the email names)."""
    t0 = time.perf_counter()
    cid = store.resolve("email", f"person{i}@example.com")
    profile = store.profile(cid) if cid else None
    seconds = time.perf_counter() - t0
    assert profile is not None and profile.traits["email"] == f"person{i}@example.com"
    return seconds


def main() -> None:
    p = argparse.ArgumentParser()
    p.add_argument("--customers", type=int, default=1_000_000)
    p.add_argument("--backend", choices=("sqlite", "redis"), default="sqlite")
    p.add_argument("--path", default="/tmp/cdp-bench-profiles.sqlite")
    p.add_argument("--redis-url")
    p.add_argument("--workers", type=int, default=4)
    p.add_argument("--seconds", type=float, default=20)
    p.add_argument("--reuse", action="store_true", help="keep an existing store of this size")
    a = p.parse_args()
    store = open_backend(a.backend, Path(a.path), a.redis_url)
    if not (a.reuse and store.build_id() == f"synthetic-{a.customers}"):
        if a.backend == "sqlite":
            for suffix in ("", "-wal", "-shm"):
                Path(a.path + suffix).unlink(missing_ok=True)
        t0 = time.perf_counter()
        store.write_build(f"synthetic-{a.customers}", synthetic(a.customers), None)  # type: ignore[attr-defined]
        print(f"loaded {a.customers} synthetic profiles in {time.perf_counter() - t0:.1f}s")
    print(f"uptime before: {os.popen('uptime').read().strip()}")
    jobs = [(a.backend, a.path, a.redis_url, a.customers, a.seconds, s) for s in range(a.workers)]
    with mp.Pool(a.workers) as pool:
        results = pool.map(worker, jobs)
    print(f"uptime after:  {os.popen('uptime').read().strip()}")
    times = sorted(t for r in results for t in r)
    q = statistics.quantiles(times, n=100)
    print(
        f"{a.backend} {a.customers} profiles, {a.workers} worker processes, {a.seconds}s: "
        f"{len(times)} lookups ({len(times) / a.seconds:.0f}/s), "
        f"p50 {q[49] * 1000:.2f} ms, p99 {q[98] * 1000:.2f} ms, max {times[-1] * 1000:.2f} ms"
    )


if __name__ == "__main__":
    main()
