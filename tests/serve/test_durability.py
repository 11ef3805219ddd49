"""Durability: `kill -9` at many points loses no acknowledged event and lands
none twice; a full disk answers 503 and keeps what it acknowledged.

The landing check is the real one: `cdp ingest` lands the collector's files
into a fresh DuckDB warehouse and the test counts `raw.web_events` rows per
messageId."""

from __future__ import annotations

import random
import subprocess
import threading
import time
from collections import Counter
from pathlib import Path

import duckdb
import pytest
import requests

from tests.serve.conftest import CDP, REPO, Collector, landed_rows

KILLS = 12


def _ingest(data_dir: Path, tmp: Path) -> Counter[str]:
    """`cdp ingest` the landing folder; messageId -> rows in raw.web_events."""
    warehouse = tmp / "warehouse" / "cdp.duckdb"
    env = {
        "CDP_HOME": str(REPO),
        "CDP_DATA_DIR": str(data_dir),
        "CDP_DUCKDB_PATH": str(warehouse),
        "PATH": "/usr/bin:/bin",
    }
    done = subprocess.run(
        [str(CDP), "ingest"], env=env, capture_output=True, text=True, check=False
    )
    assert done.returncode == 0, done.stderr
    with duckdb.connect(str(warehouse), read_only=True) as con:
        rejects = con.execute(
            "select count(*) from raw._rejects where table_name = 'web_events'"
        ).fetchone()
        assert rejects == (0,)
        rows = con.execute("select message_id, count(*) from raw.web_events group by 1").fetchall()
    return Counter({message_id: count for message_id, count in rows})


def test_kill_9_at_many_points_lands_every_acknowledged_event_exactly_once(tmp_path: Path) -> None:
    service = Collector(tmp_path / "data", {"CDP_COLLECT_ROLL_SECONDS": "0.2"}, light=True).start()
    acked: set[str] = set()
    sent: set[str] = set()
    lock = threading.Lock()
    stop = threading.Event()
    outcomes: Counter[str] = Counter()

    def sender(worker: int) -> None:
        seq = 0
        pending: list[str] | None = None
        while not stop.is_set() or pending:
            if pending is None:
                size = 1 if seq % 5 == 0 else 50
                pending = [f"k-{worker}-{seq}-{i}" for i in range(size)]
                seq += 1
            batch = [
                {"type": "track", "anonymousId": f"a{worker}", "event": "E", "messageId": m}
                for m in pending
            ]
            with lock:
                sent.update(pending)
            try:
                if len(batch) == 1:
                    response = service.post("/v1/track", batch[0])
                else:
                    response = service.post("/v1/batch", {"batch": batch})
            except requests.RequestException:  # refused, reset, or cut mid-answer
                outcomes["connection lost"] += 1
                time.sleep(0.05)
                continue  # the same messageIds again, as a client library retries
            if response.status_code == 200:
                with lock:
                    acked.update(pending)
                pending = None
            else:
                outcomes[f"status {response.status_code}"] += 1
                time.sleep(0.05)

    workers = [threading.Thread(target=sender, args=(n,)) for n in range(4)]
    for worker in workers:
        worker.start()
    rng = random.Random(16)
    try:
        for _ in range(KILLS):
            time.sleep(rng.uniform(0.1, 0.8))
            service.kill()
            time.sleep(rng.uniform(0.0, 0.2))
            service.start()
        time.sleep(0.5)
    finally:
        stop.set()
        for worker in workers:
            worker.join(timeout=120)
        service.stop()
    assert outcomes["connection lost"] >= KILLS  # the kills did hit requests in flight
    assert len(acked) > 1000
    counts = _ingest(service.data_dir, tmp_path)
    assert {m for m in acked if counts[m] != 1} == set()
    assert [m for m, n in counts.items() if n > 1] == []
    assert set(counts) <= sent
    # Every event the senders ended up with an answer for was acknowledged.
    assert set(counts) == acked


@pytest.fixture
def small_disk(tmp_path: Path):  # type: ignore[no-untyped-def]
    mount = tmp_path / "disk"
    mount.mkdir()
    done = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", "size=2m", "tmpfs", str(mount)],
        capture_output=True,
        text=True,
        check=False,
    )
    if done.returncode != 0:
        pytest.skip(f"a small tmpfs cannot be mounted here: {done.stderr.strip()}")
    try:
        yield mount
    finally:
        subprocess.run(["umount", "-l", str(mount)], check=False)


def test_full_disk_answers_503_and_keeps_what_it_acknowledged(
    small_disk: Path, tmp_path: Path
) -> None:
    data = small_disk / "data"
    # First the threshold: 64 MiB free is asked for and a 2 MiB disk has less.
    guarded = Collector(data, {"CDP_COLLECT_MIN_FREE_BYTES": str(64 * 1024 * 1024)}).start()
    try:
        call = {"userId": "u", "event": "E", "messageId": "guarded"}
        response = guarded.post("/v1/track", call)
        assert response.status_code == 503
        assert response.headers["Retry-After"] == "5"
        assert requests.get(f"{guarded.url}/health", timeout=5).json()["status"] == "disk full"
    finally:
        guarded.stop()

    # Then a real ENOSPC: no threshold, and the disk fills up mid-batch.
    service = Collector(data, {"CDP_COLLECT_MIN_FREE_BYTES": "0"}).start()
    filler = small_disk / "filler"
    filler.write_bytes(b"\0" * (1024 * 1024 + 512 * 1024))
    acked: set[str] = set()
    refused: set[str] = set()
    try:
        statuses: Counter[int] = Counter()
        for n in range(200):
            ids = [f"d-{n}-{i}" for i in range(40)]
            batch = [
                {
                    "type": "track",
                    "userId": "u",
                    "event": "E",
                    "properties": {"pad": "p" * 200},
                    "messageId": m,
                }
                for m in ids
            ]
            response = service.post("/v1/batch", {"batch": batch})
            statuses[response.status_code] += 1
            (acked if response.status_code == 200 else refused).update(ids)
            if statuses[503] >= 3:
                break
        assert statuses[503] >= 3 and statuses[200] > 0
        assert set(statuses) <= {200, 503}
        # Space comes back: the service accepts again, including a refused batch.
        filler.unlink()
        time.sleep(0.3)
        retry = sorted(refused)[:40]
        batch = [{"type": "track", "userId": "u", "event": "E", "messageId": m} for m in retry]
        assert service.post("/v1/batch", {"batch": batch}).status_code == 200
        acked.update(retry)
    finally:
        service.stop()
    landed = [row["message_id"] for row in landed_rows(service.landing_dir)]
    assert len(landed) == len(set(landed))
    assert set(landed) == acked
    assert not (refused - set(retry)) & set(landed)
