"""The serving store on a real redis-server (started on a free port per test)."""

from __future__ import annotations

import dataclasses
import shutil
import subprocess
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import redis

from cdp.config import Settings
from cdp.serve.store.extract import StoreRows, read_build
from cdp.serve.store.protocol import StoreUnavailable
from cdp.serve.store.redis_store import RedisStore
from cdp.serve.store.refresh import refresh
from cdp.serve.store.settings import StoreSettings
from cdp.serve.store.sqlite import SQLiteStore
from cdp.warehouse import open_warehouse
from tests.business import Business
from tests.serve.conftest import free_port

REDIS_SERVER = shutil.which("redis-server") or "/usr/bin/redis-server"


class RedisServer:
    def __init__(self, folder: Path) -> None:
        self.port = free_port()
        self.folder = folder
        self.process: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def start(self) -> None:
        self.process = subprocess.Popen(
            [
                REDIS_SERVER,
                "--port",
                str(self.port),
                "--bind",
                "127.0.0.1",
                "--save",
                "",
                "--appendonly",
                "no",
                "--dir",
                str(self.folder),
            ],
            stdout=subprocess.DEVNULL,
        )
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            try:
                if redis.Redis(port=self.port).ping():
                    return
            except redis.ConnectionError:
                time.sleep(0.05)
        raise RuntimeError("redis-server did not start")

    def stop(self) -> None:
        if self.process is not None:
            self.process.terminate()
            self.process.wait(timeout=10)
            self.process = None


@pytest.fixture
def server(tmp_path: Path) -> Iterator[RedisServer]:
    if not Path(REDIS_SERVER).exists():
        pytest.fail("redis-server is not installed: run `make redis`")
    started = RedisServer(tmp_path)
    started.start()
    yield started
    started.stop()


@pytest.fixture(scope="module")
def built(shared_business: Business, tmp_path_factory: pytest.TempPathFactory) -> Path:
    return shared_business.copy_warehouse(tmp_path_factory.mktemp("redis_wh"))


def _settings(warehouse: Path) -> Settings:
    return Settings(home=Path.cwd(), data_dir=warehouse.parent, warehouse_path=warehouse)


def test_redis_answers_as_the_embedded_store(
    built: Path, server: RedisServer, tmp_path: Path
) -> None:
    on_redis = refresh(_settings(built), StoreSettings("redis", tmp_path, server.url, 5))
    refresh(_settings(built), StoreSettings("sqlite", tmp_path / "p.sqlite", None, 5))
    sqlite, store = SQLiteStore(tmp_path / "p.sqlite"), RedisStore(server.url)
    assert store.build_id() == on_redis.build_id
    people = sqlite.search("@", limit=30)
    assert len(people) == 30
    for person in people:
        cid = person.customer_id
        assert store.profile(cid) == sqlite.profile(cid)
        assert store.explain(cid) == sqlite.explain(cid)
        assert store.segment_history(cid) == sqlite.segment_history(cid)
        assert store.events(cid, 3) == sqlite.events(cid, 3)
        assert store.resolve("email", str(person.email).upper()) == cid
    assert store.search(str(people[0].email)) == sqlite.search(str(people[0].email))
    store.overlay(people[0].customer_id, [("anonymous_id", "anon-redis-1")])
    assert store.resolve("anonymous_id", "anon-redis-1") == people[0].customer_id
    store.erase([people[0].customer_id])
    assert store.profile(people[0].customer_id) is None
    assert store.resolve("anonymous_id", "anon-redis-1") is None
    assert store.resolve("email", str(people[0].email)) is None


def _marked(rows: dict[str, StoreRows], mark: str) -> list[StoreRows]:
    return [dataclasses.replace(r, traits={**r.traits, "first_name": mark}) for r in rows.values()]


def test_a_reader_never_sees_two_generations_mixed(built: Path, server: RedisServer) -> None:
    with open_warehouse(_settings(built)) as wh:
        rows = read_build(wh, None, 5)
    store = RedisStore(server.url)
    store.write_build("build-0", _marked(rows, "build-0"), replace=None)
    ids = sorted(rows)[:40]
    stop = threading.Event()
    seen: list[tuple[str, object]] = []
    errors: list[BaseException] = []

    def hammer() -> None:
        reader = RedisStore(server.url)
        try:
            while not stop.is_set():
                for cid in ids:
                    p = reader.profile(cid)
                    assert p is not None
                    seen.append((p.build_id, p.traits["first_name"]))
        except BaseException as exc:
            errors.append(exc)

    threads = [threading.Thread(target=hammer) for _ in range(2)]
    for t in threads:
        t.start()
    try:
        for n in range(1, 4):
            store.write_build(f"build-{n}", _marked(rows, f"build-{n}"), replace=None)
        changed = ids[:5]
        store.write_build("build-4", _marked({c: rows[c] for c in changed}, "build-4"), changed)
    finally:
        stop.set()
        for t in threads:
            t.join()
    assert not errors, errors[:1]
    assert len({b for b, _ in seen}) >= 2
    mixed = [(b, n) for b, n in seen if b != n and not (b == "build-4" and n == "build-3")]
    assert mixed == [], mixed[:5]
    assert store.profile(ids[0]).traits["first_name"] == "build-4"  # type: ignore[union-attr]
    assert store.profile(ids[-1]).traits["first_name"] == "build-3"  # type: ignore[union-attr]


def test_redis_killed_is_unavailable_then_recovers(built: Path, server: RedisServer) -> None:
    store_settings = StoreSettings("redis", Path("."), server.url, 5)
    refresh(_settings(built), store_settings)
    store = RedisStore(server.url)
    assert store.build_id() is not None
    server.stop()
    with pytest.raises(StoreUnavailable, match=str(server.port)):
        store.build_id()
    server.start()  # an empty server (no persistence): the next refresh fills it
    assert store.build_id() is None
    result = refresh(_settings(built), store_settings)
    assert result.mode == "full" and store.build_id() == result.build_id
