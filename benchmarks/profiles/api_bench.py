"""Profile API latency under concurrency: p50/p99 of `GET .../traits` over HTTP.

    python benchmarks/profiles/api_bench.py --profiles 100000 --clients 16 --seconds 20

Writes `--profiles` synthetic customers into an embedded serving store
(SQLite, the store's own writer), starts `cdp serve`'s app (uvicorn, one
process, the real auth, rate limiter and routes) in a subprocess, and runs
`--clients` threads, each with its own keep-alive `requests` session, looking
up random customers by email for `--seconds`. Prints one JSON line with the
figures and `uptime` before and after (the clients share the machine with the
server: on 2 cores they are part of the load). Results: benchmarks/profiles/README.md.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import socket
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import requests

REPO = Path(__file__).resolve().parents[2]
TOKEN = "bench-token"
SPACE = "bench"


def _rows(count: int):  # type: ignore[no-untyped-def]
    from cdp.serve.store.extract import StoreRows

    for n in range(count):
        cid = f"c{n:07d}"
        yield StoreRows(
            customer_id=cid,
            traits={
                "first_name": f"First{n}",
                "last_name": f"Last{n}",
                "email": f"p{n}@example.com",
                "city": random.choice(["Leeds", "York", "Hull"]),
                "lifetime_value": round(random.random() * 1000, 2),
                "orders_count": n % 17,
            },
            scores={"churn_probability": round(random.random(), 3)},
            identifiers=[("email", f"p{n}@example.com", "crm"), ("user_id", f"u{n}", "shop")],
            segments=[("vip", "2026-05-01")] if n % 5 == 0 else [],
            consent=[],
            events=[],
        )


def write_store(path: Path, count: int) -> float:
    from cdp.serve.store.sqlite import SQLiteStore

    started = time.perf_counter()
    SQLiteStore(path).write_build("bench", _rows(count), replace=None)
    return time.perf_counter() - started


def serve(store: Path, port: int) -> None:
    import uvicorn

    from cdp.serve.app import create_app
    from cdp.serve.auth import load_access_tokens
    from cdp.serve.keys import WriteKeys
    from cdp.serve.settings import ServeSettings
    from cdp.serve.store.sqlite import SQLiteStore

    tmp = Path(tempfile.mkdtemp(prefix="profiles-bench-"))
    settings = ServeSettings(
        write_keys=WriteKeys((("unused", "bench"),)),
        spool_dir=tmp / "spool",
        landing_dir=tmp / "landing",
        access_tokens=load_access_tokens(f"bench:{SPACE}:*={TOKEN}", None, 1e9),
    )
    app = create_app(settings, profile_store=lambda: SQLiteStore(store))
    uvicorn.run(app, host="127.0.0.1", port=port, log_level="warning", access_log=False)


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def run(args: argparse.Namespace) -> dict[str, object]:
    work = Path(tempfile.mkdtemp(prefix="profiles-bench-"))
    store = work / "profiles.sqlite"
    write_seconds = write_store(store, args.profiles)
    port = _free_port()
    env = dict(
        os.environ, PYTHONPATH=os.pathsep.join([str(REPO), os.environ.get("PYTHONPATH", "")])
    )
    server = subprocess.Popen(
        [sys.executable, __file__, "serve", "--store", str(store), "--port", str(port)], env=env
    )
    base = f"http://127.0.0.1:{port}/v1/spaces/{SPACE}/collections/users/profiles"
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                requests.get(f"{base}/email:p0@example.com/traits", auth=(TOKEN, ""), timeout=1)
                break
            except requests.ConnectionError:
                if time.monotonic() > deadline:
                    raise RuntimeError("the server did not start") from None
                time.sleep(0.1)
        load_before = os.getloadavg()
        latencies: list[list[float]] = [[] for _ in range(args.clients)]
        errors = [0] * args.clients
        stop = time.monotonic() + args.seconds

        def client(slot: int) -> None:
            session = requests.Session()
            session.auth = (TOKEN, "")
            rng = random.Random(slot)
            while time.monotonic() < stop:
                n = rng.randrange(args.profiles)
                started = time.perf_counter()
                answer = session.get(f"{base}/email:p{n}@example.com/traits", timeout=10)
                elapsed = time.perf_counter() - started
                if (
                    answer.status_code == 200
                    and answer.json()["traits"]["email"] == f"p{n}@example.com"
                ):
                    latencies[slot].append(elapsed)
                else:
                    errors[slot] += 1

        threads = [threading.Thread(target=client, args=(i,)) for i in range(args.clients)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        load_after = os.getloadavg()
    finally:
        server.terminate()
        server.wait(timeout=20)
    every = sorted(x for part in latencies for x in part)
    if not every:
        raise RuntimeError("no request succeeded")

    def pct(p: float) -> float:
        return round(every[min(len(every) - 1, int(p * len(every)))] * 1000, 2)

    return {
        "profiles": args.profiles,
        "clients": args.clients,
        "seconds": args.seconds,
        "requests": len(every),
        "errors": sum(errors),
        "requests_per_second": round(len(every) / args.seconds, 1),
        "p50_ms": pct(0.50),
        "p90_ms": pct(0.90),
        "p99_ms": pct(0.99),
        "max_ms": round(every[-1] * 1000, 2),
        "store_write_seconds": round(write_seconds, 1),
        "load_before": [round(x, 2) for x in load_before],
        "load_after": [round(x, 2) for x in load_after],
        "cpus": os.cpu_count(),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    sub = parser.add_subparsers(dest="command")
    srv = sub.add_parser("serve")
    srv.add_argument("--store", type=Path, required=True)
    srv.add_argument("--port", type=int, required=True)
    parser.add_argument("--profiles", type=int, default=100_000)
    parser.add_argument("--clients", type=int, default=16)
    parser.add_argument("--seconds", type=float, default=20.0)
    args = parser.parse_args()
    if args.command == "serve":
        serve(args.store, args.port)
        return
    print(json.dumps(run(args)))


if __name__ == "__main__":
    main()
