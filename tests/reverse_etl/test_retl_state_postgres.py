"""Sync state, outbox, runs and rejections in a real PostgreSQL 15 target (tests/pg_server.py).

The same engine as on DuckDB, with the state tables in the target's `reverse_etl`
schema and the diff computed there: a run, changes, a no-op run; `cdp sync`
(CDP_TARGET=postgres) killed at the engine's checkpoints then re-run delivers
every row exactly once; wrong credentials are one line naming the setting.
"""

from __future__ import annotations

import subprocess
from collections.abc import Iterator
from pathlib import Path

import psycopg2
import pytest
from retl_support import Person, harness_for, people, subprocess_env, sync_command
from retl_support import write_source as write_duckdb

from cdp.warehouse import WarehouseError
from reverse_etl.engine.db import PostgresTarget
from reverse_etl.engine.runner import run_sync
from tests.pg_server import PostgresServer, running_postgres

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def server() -> Iterator[PostgresServer]:
    with running_postgres() as pg:
        yield pg


def write_source(server: PostgresServer, rows: list[Person]) -> None:
    con = psycopg2.connect(**server.connect_kwargs())
    con.autocommit = True
    with con.cursor() as cur:
        cur.execute("create schema if not exists marts")
        cur.execute("drop table if exists marts.audience")
        cur.execute(
            "create table marts.audience (customer_id integer, email text, first_name text)"
        )
        cur.executemany("insert into marts.audience values (%s, %s, %s)", rows)
    con.close()


def pg_rows(server: PostgresServer, sql: str) -> list[tuple[object, ...]]:
    con = psycopg2.connect(**server.connect_kwargs())
    try:
        with con.cursor() as cur:
            cur.execute(sql)
            return cur.fetchall()
    finally:
        con.close()


def changed(rows: list[Person]) -> list[Person]:
    kept = [(i, e, f"Renamed{i}") if i % 4 == 0 else (i, e, f) for i, e, f in rows if i % 5]
    return [(7, "moved7@example.com", "First7") if r[0] == 7 else r for r in kept] + people(
        3, start=100
    )


def test_runs_keep_state_in_postgres(server: PostgresServer, monkeypatch: pytest.MonkeyPatch):
    for name, value in server.env().items():
        monkeypatch.setenv(name, value)
    with harness_for("webhook") as h:
        sync = h.sync(name="pg_state", destination={"batch_size": 10})
        first = people(30)
        write_source(server, first)
        assert run_sync(sync, PostgresTarget()).status == "succeeded"
        assert h.audience() == h.expected_audience(first)
        second = changed(first)
        write_source(server, second)
        result = run_sync(sync, PostgresTarget())
        assert result.status == "succeeded", result.error
        assert (result.rows_added, result.rows_removed) == (3, 6)
        assert h.audience() == h.expected_audience(second)
        keys = pg_rows(
            server, "select key from reverse_etl.sync_state where sync_name = 'pg_state'"
        )
        assert {k for (k,) in keys} == {str(r[0]) for r in second}
        assert run_sync(sync, PostgresTarget()).requests == 0


def _cli(config: Path, env: dict[str, str], crash_at: str | None) -> int:
    done = subprocess.run(
        [*sync_command(crash_at), "--config", str(config)],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert done.returncode in (0, 137, -9), done.stdout + done.stderr
    return done.returncode


def test_killed_cli_runs_on_postgres_deliver_every_row_once(server: PostgresServer, tmp_path: Path):
    env = subprocess_env(CDP_TARGET="postgres", **server.env())
    with harness_for("webhook") as h, harness_for("webhook") as ref:
        overrides = {"name": "pg_kill", "destination": {"batch_size": 4}}
        config = h.write_config(tmp_path / "syncs.yaml", **overrides)
        ref_warehouse = tmp_path / "ref.duckdb"
        killed = 0
        for rows in (people(20), changed(people(20))):
            write_source(server, rows)
            write_duckdb(ref_warehouse, rows)
            assert run_sync(ref.sync(**overrides), ref_warehouse).status == "succeeded"
            for crash in ("acknowledged:2", "outbox_written:1", "reconciled:1", "committed:1"):
                killed += _cli(config, env, crash) != 0
            assert _cli(config, env, None) == 0
            assert h.writes() == ref.writes()
            assert h.audience() == h.expected_audience(rows)
            assert pg_rows(server, "select count(*) from reverse_etl.sync_outbox") == [(0,)]
        assert killed >= 5


def test_wrong_credentials_are_one_line_without_the_secret(server: PostgresServer, tmp_path: Path):
    with harness_for("webhook") as h:
        config = h.write_config(tmp_path / "syncs.yaml")
        wrong = server.env() | {"CDP_PG_USER": "nobody", "CDP_PG_PASSWORD": "s3cr3t-pw"}
        env = subprocess_env(CDP_TARGET="postgres", **wrong)
        done = subprocess.run(
            [*sync_command(), "--config", str(config)],
            env=env,
            capture_output=True,
            text=True,
            check=False,
        )
    assert done.returncode == 2
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1, done.stderr
    assert "postgres target" in lines[0] and "CDP_PG_USER" in lines[0]
    assert "s3cr3t-pw" not in done.stdout + done.stderr


def test_connection_lost_between_batches_next_run_finishes(
    server: PostgresServer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
):
    """The server ends the sync's session after its first committed batch
    (pg_terminate_backend, as a restart would): the run stops with one line, the
    next run finishes, and the destination got each row once."""
    for name, value in server.env().items():
        monkeypatch.setenv(name, value)
    rows = people(12)
    write_source(server, rows)
    seen: list[str] = []

    def cut_after_first_commit(point: str) -> None:
        seen.append(point)
        if seen.count("committed") == 1 and point == "committed":
            pg_rows(
                server,
                "select pg_terminate_backend(pid) from pg_stat_activity "
                "where datname = 'cdp' and pid <> pg_backend_pid()",
            )

    with harness_for("webhook") as h:
        sync = h.sync(name="pg_cut", destination={"batch_size": 4})
        with pytest.raises(WarehouseError, match=r"^lost the connection to the postgres target"):
            run_sync(sync, PostgresTarget(), checkpoint=cut_after_first_commit)
        assert len(h.audience()) == 4
        result = run_sync(sync, PostgresTarget())
        assert result.status == "succeeded", result.error
        assert h.audience() == h.expected_audience(rows)
        assert max(h.writes().values()) == 1
