"""Sync state, outbox, runs and rejections in a real PostgreSQL 15 target (tests/pg_server.py,
the package's shared server: conftest.py).

The same engine as on DuckDB, with the state tables in the target's `reverse_etl`
schema and the diff computed there: a run, changes, a no-op run; the connection
lost between batches; wrong credentials are one line naming the setting. `cdp
sync` (CDP_TARGET=postgres) killed at the engine's checkpoints and by the
destination, then re-run, is test_retl_kill.py's chain on PostgreSQL.
"""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest
from retl_support import (
    Person,
    harness_for,
    people,
    pg_rows,
    subprocess_env,
    sync_command,
    write_pg_source,
)

from cdp.warehouse import WarehouseError
from reverse_etl.engine.db import PostgresTarget
from reverse_etl.engine.runner import run_sync
from tests.pg_server import PostgresServer

pytestmark = pytest.mark.slow


@pytest.fixture
def server(postgres_server: PostgresServer) -> PostgresServer:
    return postgres_server


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
        write_pg_source(server, first)
        assert run_sync(sync, PostgresTarget()).status == "succeeded"
        assert h.audience() == h.expected_audience(first)
        second = changed(first)
        write_pg_source(server, second)
        result = run_sync(sync, PostgresTarget())
        assert result.status == "succeeded", result.error
        assert (result.rows_added, result.rows_removed) == (3, 6)
        assert h.audience() == h.expected_audience(second)
        keys = pg_rows(
            server, "select key from reverse_etl.sync_state where sync_name = 'pg_state'"
        )
        assert {k for (k,) in keys} == {str(r[0]) for r in second}
        assert run_sync(sync, PostgresTarget()).requests == 0


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
    write_pg_source(server, rows)
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
