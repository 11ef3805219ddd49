"""The serving store (cdp/serve/store) refreshed from the shared business's warehouse."""

from __future__ import annotations

import dataclasses
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest

from cdp.config import Settings
from cdp.serve.store.extract import StoreRows, read_build
from cdp.serve.store.protocol import StoreUnavailable
from cdp.serve.store.refresh import refresh
from cdp.serve.store.settings import StoreSettings
from cdp.serve.store.sqlite import SQLiteStore
from cdp.warehouse import connect_duckdb, open_warehouse
from tests.business import Business


@pytest.fixture(scope="module")
def built(shared_business: Business, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A read-only copy of the shared business's warehouse for this module."""
    return shared_business.copy_warehouse(tmp_path_factory.mktemp("store_wh"))


def _settings(warehouse: Path) -> Settings:
    return Settings(home=Path.cwd(), data_dir=warehouse.parent, warehouse_path=warehouse)


def _store(tmp_path: Path) -> StoreSettings:
    return StoreSettings("sqlite", tmp_path / "profiles.sqlite", None, 5)


def test_full_refresh_holds_every_customer_as_the_warehouse(built: Path, tmp_path: Path) -> None:
    result = refresh(_settings(built), _store(tmp_path))
    store = SQLiteStore(tmp_path / "profiles.sqlite")
    con = connect_duckdb(built, read_only=True)
    try:
        customers = con.execute("select count(*) from marts.customers").fetchone()
        cid, email = con.execute(
            "select customer_id, email from marts.customers where email is not null "
            "order by customer_id limit 1"
        ).fetchone()  # type: ignore[misc]
        activities = con.execute(
            "select count(*) from marts.customer_activities where customer_id = ?", [cid]
        ).fetchone()
    finally:
        con.close()
    assert customers is not None and activities is not None
    assert result.mode == "full" and result.customers == customers[0]
    assert store.build_id() == result.build_id
    assert store.resolve("email", f"  {email.upper()} ") == cid
    profile = store.profile(cid)
    assert profile is not None and profile.traits["email"] == email
    assert profile.field_groups["email"] == "pii"
    assert profile.activity["recent_count"] == min(5, activities[0])
    assert refresh(_settings(built), _store(tmp_path)).mode == "current"


def _marked(rows: dict[str, StoreRows], mark: str) -> list[StoreRows]:
    return [dataclasses.replace(r, traits={**r.traits, "first_name": mark}) for r in rows.values()]


def test_a_reader_never_sees_two_builds_mixed(built: Path, tmp_path: Path) -> None:
    with open_warehouse(_settings(built)) as wh:
        rows = read_build(wh, None, 5)
    store = SQLiteStore(tmp_path / "profiles.sqlite")
    store.write_build("build-0", _marked(rows, "build-0"), replace=None)
    ids = sorted(rows)
    stop = threading.Event()
    seen: list[tuple[str, object]] = []
    errors: list[BaseException] = []

    def hammer() -> None:
        reader = SQLiteStore(store.path)
        try:
            while not stop.is_set():
                for cid in ids[:50]:
                    p = reader.profile(cid)
                    assert p is not None
                    seen.append((p.build_id, p.traits["first_name"]))
        except BaseException as exc:
            errors.append(exc)

    threads = [threading.Thread(target=hammer) for _ in range(2)]
    for t in threads:
        t.start()
    try:
        for n in range(1, 6):
            store.write_build(f"build-{n}", _marked(rows, f"build-{n}"), replace=None)
    finally:
        stop.set()
        for t in threads:
            t.join()
    assert not errors
    assert len({build for build, _ in seen}) >= 2  # the readers did run across refreshes
    mixed = [(build, name) for build, name in seen if build != name]
    assert mixed == [], mixed[:5]


def test_a_refresh_failing_half_way_keeps_the_last_good_build(built: Path, tmp_path: Path) -> None:
    with open_warehouse(_settings(built)) as wh:
        rows = read_build(wh, None, 5)
    store = SQLiteStore(tmp_path / "profiles.sqlite")
    store.write_build("good", _marked(rows, "good"), replace=None)

    def broken() -> Iterator[StoreRows]:
        marked = _marked(rows, "bad")
        yield from marked[: len(marked) // 2]
        raise RuntimeError("the warehouse went away")

    with pytest.raises(RuntimeError):
        store.write_build("bad", broken(), replace=None)
    assert store.build_id() == "good"
    first = store.profile(sorted(rows)[-1])
    assert first is not None and first.traits["first_name"] == "good"


def test_incremental_rewrites_only_the_named_customers(built: Path, tmp_path: Path) -> None:
    with open_warehouse(_settings(built)) as wh:
        rows = read_build(wh, None, 5)
    store = SQLiteStore(tmp_path / "profiles.sqlite")
    store.write_build("one", _marked(rows, "one"), replace=None)
    changed = sorted(rows)[:3]
    store.write_build("two", _marked({c: rows[c] for c in changed}, "two"), replace=changed)
    assert store.build_id() == "two"
    names = {c: store.profile(c).traits["first_name"] for c in rows}  # type: ignore[union-attr]
    assert {c for c, n in names.items() if n == "two"} == set(changed)
    assert len(names) == len(rows)


def test_file_deleted_is_unavailable_then_recovers(built: Path, tmp_path: Path) -> None:
    settings, store_settings = _settings(built), _store(tmp_path)
    refresh(settings, store_settings)
    store = SQLiteStore(store_settings.path)
    assert store.build_id() is not None
    for suffix in ("", "-wal", "-shm"):
        Path(f"{store_settings.path}{suffix}").unlink(missing_ok=True)
    with pytest.raises(StoreUnavailable, match="missing"):
        store.build_id()
    result = refresh(settings, store_settings)
    assert result.mode == "full"
    assert store.build_id() == result.build_id


def test_erase_and_overlay_apply_at_once(built: Path, tmp_path: Path) -> None:
    refresh(_settings(built), _store(tmp_path))
    store = SQLiteStore(tmp_path / "profiles.sqlite")
    cid = store.search("@")[0].customer_id
    assert store.resolve("anonymous_id", "anon-new-123") is None
    store.overlay(cid, [("anonymous_id", "anon-new-123")])
    assert store.resolve("anonymous_id", "anon-new-123") == cid
    assert store.resolve("any", "anon-new-123") == cid
    store.erase([cid])
    assert store.profile(cid) is None
    assert store.resolve("anonymous_id", "anon-new-123") is None
    assert store.resolve("customer_id", cid) is None
    assert store.events(cid, 10) == ([], None)


def test_an_identify_over_http_maps_its_anonymous_id_at_once(built: Path, tmp_path: Path) -> None:
    import requests
    import uvicorn

    from cdp.serve.app import create_app
    from cdp.serve.keys import load_write_keys
    from cdp.serve.settings import ServeSettings
    from cdp.serve.store.hooks import identify_overlay
    from tests.serve.conftest import WRITE_KEY, basic, free_port

    store_settings = _store(tmp_path)
    refresh(_settings(built), store_settings)
    store = SQLiteStore(store_settings.path)
    known = next(s for s in store.search("@") if s.email)
    settings = ServeSettings(
        write_keys=load_write_keys(f"website={WRITE_KEY}", None),
        spool_dir=tmp_path / "spool",
        landing_dir=tmp_path / "landing" / "web_events",
        roll_seconds=60,
    )
    app = create_app(settings, identify_listeners=[identify_overlay(store_settings)])
    port = free_port()
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="error"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    try:
        while not server.started and thread.is_alive():
            threading.Event().wait(0.05)
        call = {
            "type": "identify",
            "anonymousId": "anon-before-build",
            "traits": {"email": f" {str(known.email).upper()} "},
            "messageId": "store-i1",
        }
        answer = requests.post(
            f"http://127.0.0.1:{port}/v1/identify", json=call, headers=basic(WRITE_KEY), timeout=10
        )
        assert answer.status_code == 200, answer.text
    finally:
        server.should_exit = True
        thread.join(timeout=20)
    assert store.resolve("anonymous_id", "anon-before-build") == known.customer_id
    profile = store.profile(known.customer_id)
    assert profile is not None
    assert ("anonymous_id", "anon-before-build") in {(i.type, i.value) for i in profile.identifiers}


def test_cdp_privacy_erase_removes_the_person_from_the_store_at_once(
    shared_business: Business, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from click.testing import CliRunner

    from cdp.cli import main

    warehouse = shared_business.copy_warehouse(tmp_path / "wh")
    store_path = tmp_path / "profiles.sqlite"
    monkeypatch.setenv("CDP_DUCKDB_PATH", str(warehouse))
    monkeypatch.setenv("CDP_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.setenv("CDP_STORE_PATH", str(store_path))
    done = CliRunner().invoke(main, ["store", "refresh"])
    assert done.exit_code == 0 and "full refresh" in done.output, done.output
    store = SQLiteStore(store_path)
    person = next(s for s in store.search("@") if s.email)
    assert store.resolve("email", str(person.email)) == person.customer_id
    erased = CliRunner().invoke(
        main, ["privacy", "erase", "--email", str(person.email), "--no-build"]
    )
    assert erased.exit_code == 0, erased.output
    assert store.resolve("email", str(person.email)) is None
    assert store.profile(person.customer_id) is None
    assert store.search(str(person.email)) == []
