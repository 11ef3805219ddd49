"""Throughput and latency of `cdp serve`'s collection API, durability on.

Starts `cdp serve` as its own process (uvicorn, one worker) on a scratch data
folder, then drives it from this process with a minimal asyncio HTTP/1.1
client over keep-alive connections (so the client costs little of the two
cores): for each scenario, CONCURRENCY connections send back to back for
DURATION seconds, every event with a fresh messageId. Reported: events/s
acknowledged (200 means fsync'ed in the spool), requests/s, p50/p99 request
latency. Then the baseline: the same encoded events appended to a file by a
plain loop (with an fdatasync per 100 events, and without). Then
acknowledgement -> queryable: one batch is acknowledged, the spool rolls it
(CDP_COLLECT_ROLL_SECONDS), `cdp.landing.ingest` lands it, and
`raw_table_counts` sees it.

    python benchmarks/collect/bench_collect.py [--duration 15] [--out results.json]
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import json
import os
import platform
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path

import orjson

REPO = Path(__file__).resolve().parents[2]
CDP = Path(sys.executable).parent / "cdp"
KEY = "bench-key"
AUTH = "Basic " + base64.b64encode(f"{KEY}:".encode()).decode()


def _event(n: int, run: str) -> dict:
    return {
        "type": "track",
        "messageId": f"{run}-{n}",
        "anonymousId": f"anon-{n % 5000}",
        "event": "Product Viewed",
        "properties": {"product_id": f"p-{n % 800}", "price": "19.90", "currency": "EUR"},
        "context": {
            "page": {"url": "https://shop.example/p/1", "path": "/p/1"},
            "userAgent": "Mozilla/5.0 (X11; Linux x86_64) bench",
            "library": {"name": "bench", "version": "1"},
        },
        "timestamp": "2026-12-07T10:00:00.000Z",
    }


def _request(path: str, body: bytes) -> bytes:
    head = (
        f"POST {path} HTTP/1.1\r\nHost: bench\r\nAuthorization: {AUTH}\r\n"
        f"Content-Type: application/json\r\nContent-Length: {len(body)}\r\n\r\n"
    )
    return head.encode() + body


async def _read_response(reader: asyncio.StreamReader) -> int:
    head = await reader.readuntil(b"\r\n\r\n")
    status = int(head[9:12])
    length = 0
    for line in head.split(b"\r\n"):
        if line[:15].lower() == b"content-length:":
            length = int(line[15:])
    if length:
        await reader.readexactly(length)
    return status


async def _drive(port: int, batch: int, concurrency: int, duration: float) -> dict:
    run = uuid.uuid4().hex[:8]
    counter = iter(range(10**12))
    latencies: list[float] = []
    statuses: dict[int, int] = {}
    events = 0
    deadline = time.monotonic() + duration

    async def connection(worker: int) -> None:
        nonlocal events
        reader, writer = await asyncio.open_connection("127.0.0.1", port)
        while time.monotonic() < deadline:
            if batch == 1:
                body = orjson.dumps(_event(next(counter), run))
                request = _request("/v1/track", body)
            else:
                items = [_event(next(counter), run) for _ in range(batch)]
                request = _request("/v1/batch", orjson.dumps({"batch": items}))
            started = time.perf_counter()
            writer.write(request)
            status = await _read_response(reader)
            latencies.append(time.perf_counter() - started)
            statuses[status] = statuses.get(status, 0) + 1
            if status == 200:
                events += batch
        writer.close()

    started = time.monotonic()
    await asyncio.gather(*(connection(n) for n in range(concurrency)))
    elapsed = time.monotonic() - started
    latencies.sort()
    return {
        "batch_size": batch,
        "concurrency": concurrency,
        "seconds": round(elapsed, 2),
        "events_per_second": round(events / elapsed),
        "requests_per_second": round(len(latencies) / elapsed),
        "p50_ms": round(statistics.median(latencies) * 1000, 2),
        "p99_ms": round(latencies[int(len(latencies) * 0.99) - 1] * 1000, 2),
        "statuses": statuses,
    }


def _baseline(folder: Path, total: int) -> dict:
    """The same events, encoded the same way, appended by a plain loop."""
    run = uuid.uuid4().hex[:8]
    out = {}
    for label, sync_every in (("fdatasync per 100 events", 100), ("no sync", 0)):
        path = folder / f"baseline-{sync_every}.jsonl"
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o644)
        started = time.perf_counter()
        for start in range(0, total, 100):
            data = b"".join(orjson.dumps(_event(n, run)) + b"\n" for n in range(start, start + 100))
            os.write(fd, data)
            if sync_every:
                os.fdatasync(fd)
        elapsed = time.perf_counter() - started
        os.close(fd)
        out[label] = round(total / elapsed)
    return out


def _cpu_seconds(pid: int) -> float:
    """User + system CPU time of a process (Linux /proc)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def _start(data: Path, roll_seconds: float) -> tuple[subprocess.Popen[bytes], int]:
    port = _free_port()
    env = dict(os.environ)
    env.update(
        {
            "CDP_HOME": str(REPO),
            "CDP_DATA_DIR": str(data),
            "CDP_COLLECT_WRITE_KEYS": f"bench={KEY}",
            "CDP_COLLECT_ROLL_SECONDS": str(roll_seconds),
            "PYTHONPATH": os.pathsep.join(filter(None, [str(REPO), env.get("PYTHONPATH")])),
        }
    )
    process = subprocess.Popen([str(CDP), "serve", "--port", str(port)], env=env)
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.2):
                return process, port
        except OSError:
            time.sleep(0.05)
    process.kill()
    raise SystemExit("cdp serve did not start")


def _stop(process: subprocess.Popen[bytes]) -> None:
    process.send_signal(signal.SIGTERM)
    process.wait(timeout=30)


def _ack_to_queryable(data: Path, warehouse: Path, port: int) -> dict:
    from cdp.landing import ingest, raw_table_counts

    async def one_batch() -> float:
        reader, writer = await asyncio.open_connection("127.0.0.1", port)
        items = [_event(n, "q" + uuid.uuid4().hex[:6]) for n in range(100)]
        writer.write(_request("/v1/batch", orjson.dumps({"batch": items})))
        assert await _read_response(reader) == 200
        writer.close()
        return time.monotonic()

    landing = data / "landing" / "web_events"
    before = set(landing.glob("collect-*.jsonl"))
    rows_before = raw_table_counts(warehouse)["web_events"][0] if warehouse.exists() else 0
    acked = asyncio.run(one_batch())
    while not (set(landing.glob("collect-*.jsonl")) - before):
        time.sleep(0.02)
    rolled = time.monotonic()
    ingest(data / "landing", warehouse, REPO / "dbt_project")
    rows = raw_table_counts(warehouse)["web_events"][0]
    queryable = time.monotonic()
    assert rows >= rows_before + 100, (rows_before, rows)
    return {
        "ack_to_rolled_s": round(rolled - acked, 2),
        "ingest_s": round(queryable - rolled, 2),
        "ack_to_queryable_s": round(queryable - acked, 2),
    }


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--duration", type=float, default=15.0)
    parser.add_argument("--out", type=Path, default=Path(__file__).with_name("results.json"))
    args = parser.parse_args()
    os.environ.setdefault("CDP_HOME", str(REPO))
    scratch = Path(tempfile.mkdtemp(prefix="bench-collect-"))
    results: dict = {
        "commit": subprocess.run(
            ["git", "rev-parse", "--short", "HEAD"], cwd=REPO, capture_output=True, text=True
        ).stdout.strip(),
        "machine": (
            f"{os.cpu_count()} cores, {platform.platform()}, Python {platform.python_version()}"
        ),
        "uptime_before": subprocess.run(["uptime"], capture_output=True, text=True).stdout.strip(),
        "duration_s": args.duration,
        "scenarios": [],
    }
    try:
        process, port = _start(scratch / "data", roll_seconds=5)
        try:
            for batch, concurrency in ((100, 16), (100, 64), (1, 16), (1, 64)):
                cpu_before = _cpu_seconds(process.pid)
                outcome = asyncio.run(_drive(port, batch, concurrency, args.duration))
                cpu = _cpu_seconds(process.pid) - cpu_before
                acked = outcome["events_per_second"] * outcome["seconds"]
                # The server's own CPU per acknowledged event: steadier than wall
                # time on a shared machine, and what one free core would give.
                outcome["server_cpu_s"] = round(cpu, 2)
                outcome["server_cpu_us_per_event"] = round(cpu / acked * 1e6, 1)
                outcome["events_per_server_cpu_second"] = round(acked / cpu)
                print(json.dumps(outcome), flush=True)
                results["scenarios"].append(outcome)
        finally:
            _stop(process)
        results["baseline_events_per_second"] = _baseline(scratch, 200_000)
        print(json.dumps(results["baseline_events_per_second"]), flush=True)
        quick = scratch / "quick"
        process, port = _start(quick, roll_seconds=1)
        try:
            warehouse = scratch / "warehouse" / "cdp.duckdb"
            runs = [_ack_to_queryable(quick, warehouse, port) for _ in range(3)]
        finally:
            _stop(process)
        results["ack_to_queryable_roll_1s"] = runs
        print(json.dumps(runs), flush=True)
    finally:
        results["uptime_after"] = subprocess.run(
            ["uptime"], capture_output=True, text=True
        ).stdout.strip()
        shutil.rmtree(scratch, ignore_errors=True)
    args.out.write_text(json.dumps(results, indent=2) + "\n")
    print(f"wrote {args.out}")


if __name__ == "__main__":
    main()
