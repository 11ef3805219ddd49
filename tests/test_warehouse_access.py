"""The warehouse-access layer (cdp/warehouse): the one place that opens a warehouse,
its lock waiting, its SQL translation and its errors."""

from __future__ import annotations

import re
import time
from pathlib import Path

import duckdb
import pytest

from cdp.config import Settings
from cdp.warehouse import (
    TargetUnsupported,
    WarehouseError,
    WarehouseLocked,
    connect_duckdb,
    lock_timeout,
    open_warehouse,
    require_duckdb,
    translate,
)
from tests.lock_holder import SCRIPT_NAME, holding

REPO = Path(__file__).resolve().parent.parent
PRODUCT = ("cdp", "reverse_etl", "orchestration", "expectations", "demo/cdp_demo")
LAYER = REPO / "cdp" / "warehouse"
CONNECT = re.compile(r"\bduckdb\s*\.\s*connect\s*\(|\bfrom\s+duckdb\s+import\s+[^\n]*\bconnect\b")


def test_no_duckdb_connect_outside_the_layer() -> None:
    offenders = []
    for package in PRODUCT:
        for path in sorted((REPO / package).rglob("*.py")):
            if LAYER in path.parents:
                continue
            for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
                if CONNECT.search(line):
                    offenders.append(f"{path.relative_to(REPO)}:{number}: {line.strip()}")
    assert not offenders, "open the warehouse through cdp.warehouse:\n" + "\n".join(offenders)


def test_the_scan_finds_a_connect(tmp_path: Path) -> None:
    """The pattern the test above relies on matches the spellings it must catch."""
    assert CONNECT.search("con = duckdb.connect(str(path), read_only=True)")
    assert CONNECT.search("from duckdb import connect")
    assert not CONNECT.search("con = connect_duckdb(path)")


@pytest.fixture
def warehouse_file(tmp_path: Path) -> Path:
    path = tmp_path / "cdp.duckdb"
    with duckdb.connect(str(path)) as con:
        con.execute("create schema raw; create table raw.orders as select 1 as order_id")
    return path


def test_a_held_file_fails_in_one_line_naming_the_holder(warehouse_file: Path) -> None:
    said: list[str] = []
    with holding(warehouse_file) as holder:
        started = time.monotonic()
        with pytest.raises(WarehouseLocked) as raised:
            connect_duckdb(warehouse_file, read_only=True, timeout=0.6, say=said.append)
        waited = time.monotonic() - started
    message = str(raised.value)
    assert "\n" not in message
    assert f"is in use by pid {holder.pid} (" in message
    assert SCRIPT_NAME in message  # the command line, from /proc
    assert "CDP_LOCK_TIMEOUT" in message
    assert waited >= 0.6
    assert len(said) == 1 and f"pid {holder.pid}" in said[0] and "waiting up to 0.6s" in said[0]


def test_an_open_waits_until_the_holder_lets_go(warehouse_file: Path) -> None:
    said: list[str] = []
    with holding(warehouse_file, seconds=1.5):
        con = connect_duckdb(warehouse_file, timeout=30, say=said.append)
    with con:
        assert con.execute("select count(*) from raw.orders").fetchone() == (1,)
    assert len(said) == 1 and "waiting up to 30s" in said[0]


def test_readers_share_the_file(warehouse_file: Path) -> None:
    with (
        holding(warehouse_file, mode="ro"),
        connect_duckdb(warehouse_file, read_only=True, timeout=0) as con,
    ):
        assert con.execute("select order_id from raw.orders").fetchall() == [(1,)]


def test_a_read_only_open_of_a_missing_file_says_so(tmp_path: Path) -> None:
    with pytest.raises(WarehouseError, match=r"warehouse not found: .*missing\.duckdb"):
        connect_duckdb(tmp_path / "missing.duckdb", read_only=True)
    assert not (tmp_path / "missing.duckdb").exists()


def test_a_file_that_is_no_database_is_one_line(tmp_path: Path) -> None:
    path = tmp_path / "cdp.duckdb"
    path.write_text("not a database\n" * 100)
    with pytest.raises(WarehouseError) as raised:
        connect_duckdb(path, read_only=True)
    assert "\n" not in str(raised.value) and str(path) in str(raised.value)


@pytest.mark.parametrize("value", ["soon", "-1", "nan"])
def test_a_bad_lock_timeout_is_refused(monkeypatch: pytest.MonkeyPatch, value: str) -> None:
    monkeypatch.setenv("CDP_LOCK_TIMEOUT", value)
    with pytest.raises(WarehouseError, match="CDP_LOCK_TIMEOUT must be a number"):
        lock_timeout()


def test_the_lock_timeout_setting(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("CDP_LOCK_TIMEOUT", raising=False)
    assert lock_timeout() == 60
    monkeypatch.setenv("CDP_LOCK_TIMEOUT", "2.5")
    assert lock_timeout() == 2.5


def test_queries_are_translated_for_each_engine() -> None:
    query = (
        "select string_agg(distinct s, ', ' order by s), x::varchar from t "
        "where a = ? and b = lower(trim(?))"
    )
    assert translate(query, "duckdb") == query
    postgres = translate(query, "postgres")
    assert "%s" in postgres and "?" not in postgres and "CAST(x AS TEXT)" in postgres
    spark = translate(query, "spark")
    assert "CAST(x AS STRING)" in spark and "LISTAGG" in spark


def test_duckdb_through_the_portable_api(warehouse_file: Path, tmp_path: Path) -> None:
    settings = Settings(home=REPO, data_dir=tmp_path, warehouse_path=warehouse_file)
    with open_warehouse(settings, read_only=False) as wh:
        assert ("raw", "orders") in wh.relations()
        with wh.transaction():
            wh.execute("insert into raw.orders values (?)", [2])
        with pytest.raises(RuntimeError, match="boom"), wh.transaction():
            wh.execute("insert into raw.orders values (?)", [3])
            raise RuntimeError("boom")
        assert wh.rows("select order_id from raw.orders order by 1") == [(1,), (2,)]
        assert wh.arrow("select order_id from raw.orders where order_id > ?", [1]).to_pylist() == [
            {"order_id": 2}
        ]
        assert list(wh.df("select * from raw.orders")["order_id"]) == [1, 2]
        with pytest.raises(WarehouseError) as raised:
            wh.rows("select * from raw.no_such_table")
        assert "\n" not in str(raised.value)


def test_duckdb_only_features_refuse_other_targets(tmp_path: Path) -> None:
    settings = Settings(home=REPO, data_dir=tmp_path, warehouse_path=tmp_path / "w", target="spark")
    with pytest.raises(TargetUnsupported, match=r"^cdp sync works on the DuckDB warehouse only"):
        require_duckdb(settings, "cdp sync")
    require_duckdb(Settings(home=REPO, data_dir=tmp_path, warehouse_path=tmp_path / "w"), "x")
    with pytest.raises(WarehouseError, match="CDP_TARGET must be one of"):
        require_duckdb(
            Settings(home=REPO, data_dir=tmp_path, warehouse_path=tmp_path, target="oracle"), "x"
        )


def test_postgres_that_is_not_there_is_one_line(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    import socket

    with socket.socket() as sock:  # a port nothing listens on
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    monkeypatch.setenv("CDP_PG_HOST", "127.0.0.1")
    monkeypatch.setenv("CDP_PG_PORT", str(port))
    monkeypatch.setenv("CDP_PG_PASSWORD", "s3cret-never-printed")
    settings = Settings(home=REPO, data_dir=tmp_path, warehouse_path=tmp_path, target="postgres")
    with pytest.raises(WarehouseError) as raised:
        open_warehouse(settings)
    message = str(raised.value)
    assert message.startswith(
        f"cannot connect to the postgres target postgresql://cdp@127.0.0.1:{port}/cdp"
    )
    assert "check CDP_PG_HOST and CDP_PG_PORT" in message
    assert "\n" not in message and "s3cret" not in message


def test_dbt_connect_attempts_cover_the_lock_timeout() -> None:
    from cdp.dbt import connect_attempts

    # dbt-duckdb sleeps 1, 2, 4, ... s after each failed attempt.
    assert connect_attempts(0) == 1
    assert connect_attempts(1) == 2
    assert connect_attempts(60) == 7  # 1 + 2 + 4 + 8 + 16 + 32 = 63 s >= 60 s


def test_dbt_waits_for_a_held_file(
    warehouse_file: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A dbt command (a phase of `cdp build`) waits while another process holds the
    file, as long as CDP_LOCK_TIMEOUT allows; with 0 it fails at once, naming the holder."""
    from cdp.dbt import run_dbt

    settings = Settings(home=REPO, data_dir=tmp_path, warehouse_path=warehouse_file)
    monkeypatch.setenv("DBT_LOG_PATH", str(tmp_path / "dbt_logs"))
    monkeypatch.setenv("DBT_TARGET_PATH", str(tmp_path / "dbt_target"))
    monkeypatch.setenv("CDP_LOCK_TIMEOUT", "0")
    with holding(warehouse_file), pytest.raises(WarehouseLocked, match="is in use by"):
        run_dbt(settings, ["debug"], quiet=True)
    monkeypatch.setenv("CDP_LOCK_TIMEOUT", "60")
    with holding(warehouse_file, seconds=20):  # lets go while dbt retries (its start: ~10 s)
        output = run_dbt(settings, ["debug"], quiet=True)
    assert "Connection test: [OK connection ok]" in output.replace("\x1b[32m", "").replace(
        "\x1b[0m", ""
    )
