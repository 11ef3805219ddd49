"""Landing on PostgreSQL keeps the DuckDB loader's semantics, file by file.

Small hand-written inputs: bad rows, a file that cannot be landed, an
undeclared column, then the same files again. The raw tables, rejects and
manifest must equal DuckDB's, and a file whose load fails half-way must
leave nothing behind.
"""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import pytest

from cdp.landing import ingest, load_registry
from cdp.landing.engines.postgres import PostgresWarehouse
from tests.engines import digest
from tests.engines.conftest import PostgresServer
from tests.engines.engine_builds import EXCLUDED_COLUMNS, REPO, raw_relations

DBT_PROJECT = REPO / "dbt_project"


@pytest.fixture
def pg_env(
    postgres_server: PostgresServer, monkeypatch: pytest.MonkeyPatch, request: pytest.FixtureRequest
) -> PostgresServer:
    """A fresh database of its own on the session's server, set in CDP_PG_*."""
    import psycopg2

    name = "landing_" + request.node.name.removeprefix("test_")[:40]
    con = psycopg2.connect(**postgres_server.connect_kwargs())
    con.autocommit = True
    with con.cursor() as cur:
        cur.execute(f'drop database if exists "{name}"')
        cur.execute(f'create database "{name}"')
    con.close()
    server = replace(postgres_server, database=name)
    for key, value in server.env().items():
        monkeypatch.setenv(key, value)
    return server


def _write_inputs(root: Path) -> Path:
    landing = root / "landing"
    orders = landing / "shop_orders"
    orders.mkdir(parents=True)
    header = "order_id,customer_id,email,ordered_at,status,currency,total,coupon_code\n"
    (orders / "2026-01.csv").write_text(
        header
        + "1,10,a@x.com,2026-01-02 10:00:00,paid,EUR,19.99,SPRING\n"
        + '2,11,"b@x.com",2026-01-03T11:00:00+02:00,paid,EUR,abc,\n'
        + ",12,c@x.com,2026-01-04,paid,EUR,5,\n"
        + '3,13,"multi\nline",2026-01-05,paid,EUR,7.5,\n'
        + "4,14,d@x.com,2026-01-06,paid\n",
        encoding="utf-8",
    )
    (orders / "2026-02.csv").write_bytes(
        header.encode() + b"5,15,\xff\xfe,2026-02-01,paid,EUR,1,\n"
    )
    return landing


def test_postgres_landing_equals_duckdb(pg_env: PostgresServer, tmp_path: Path) -> None:
    landing = _write_inputs(tmp_path)
    duckdb_path = tmp_path / "cdp.duckdb"
    on_duckdb = ingest(landing, duckdb_path, DBT_PROJECT)
    on_postgres = ingest(landing, duckdb_path, DBT_PROJECT, target="postgres")
    assert on_postgres.rows_loaded == on_duckdb.rows_loaded == 2
    assert on_postgres.rows_rejected == on_duckdb.rows_rejected == 3
    assert on_postgres.files_failed == on_duckdb.files_failed == 1
    assert on_postgres.all_warnings() == on_duckdb.all_warnings()

    relations = raw_relations(sorted(load_registry(DBT_PROJECT).tables))
    expected = digest.duckdb_digests(duckdb_path, relations, EXCLUDED_COLUMNS)
    found = digest.postgres_digests(pg_env.connect_kwargs(), relations, EXCLUDED_COLUMNS)
    assert digest.differences(expected, found, relations) == []

    again = ingest(landing, duckdb_path, DBT_PROJECT, target="postgres")
    # the landed file is skipped; the failed one is tried again and fails again
    assert (again.files_loaded, again.files_skipped, again.files_failed) == (0, 1, 1)
    data = [r for r in relations if r != "raw._landed_files"]
    after = digest.postgres_digests(pg_env.connect_kwargs(), data, EXCLUDED_COLUMNS)
    assert after == {r: found[r] for r in data}


def test_failure_mid_file_leaves_nothing(
    pg_env: PostgresServer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import psycopg2

    landing = _write_inputs(tmp_path)
    (landing / "shop_orders" / "2026-02.csv").unlink()
    real_copy = PostgresWarehouse._copy
    calls = {"n": 0}

    def copy_then_fail(cur: object, target: str, path: object) -> None:
        real_copy(cur, target, path)  # type: ignore[arg-type]
        calls["n"] += 1
        if calls["n"] == 2:  # rows and rejects are in, the manifest row is next
            raise psycopg2.OperationalError("connection lost (simulated)")

    monkeypatch.setattr(PostgresWarehouse, "_copy", staticmethod(copy_then_fail))
    result = ingest(landing, tmp_path / "unused.duckdb", DBT_PROJECT, target="postgres")
    assert result.files_failed == 1
    assert "connection lost (simulated)" in (result.tables["shop_orders"].files[0].error or "")

    con = psycopg2.connect(**pg_env.connect_kwargs())
    with con.cursor() as cur:
        cur.execute("select count(*) from raw.shop_orders")
        assert cur.fetchone() == (0,)
        cur.execute("select count(*) from raw._rejects")
        assert cur.fetchone() == (0,)
        cur.execute("select status from raw._landed_files")
        assert cur.fetchall() == [("failed",)]
    con.close()

    monkeypatch.setattr(PostgresWarehouse, "_copy", staticmethod(real_copy))
    retried = ingest(landing, tmp_path / "unused.duckdb", DBT_PROJECT, target="postgres")
    assert retried.files_loaded == 1 and retried.rows_loaded == 2
