"""Kill the sync process at many points; re-running must deliver every row exactly once.

Each destination gets a chain of CLI runs in child processes. Every run but the
last is killed somewhere: by the contract server (SIGKILL right after it applied
the k-th write, before answering: the "acknowledged but not recorded" window) or
by a crash hook on the engine's checkpoints (crashing_sync.py: os._exit before
sending, after the acknowledgement, after the commit, while reconciling a batch left
by the previous crash). The last run completes. The writes the server counted must
then equal, per key and kind,
those of an uninterrupted reference sync of the same data, and the destination
must hold exactly the source model. Two phases: the initial load, then a mix of
updates, removes, adds and an address change.

The same chain runs on every engine: on DuckDB for every destination, on a real
PostgreSQL 15 (CDP_TARGET=postgres, the state and the diff in the target; the
package's shared server, conftest.py) for the webhook, and on Spark in
test_retl_kill_spark.py (the source read from Spark, the state in a DuckDB
state file; a JVM per run, so fewer kills).
"""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest
from retl_support import (
    KINDS,
    Harness,
    harness_for,
    people,
    pg_rows,
    query,
    subprocess_env,
    sync_command,
    write_pg_source,
    write_source,
)

from reverse_etl.engine.runner import run_sync
from tests.pg_server import PostgresServer

Kill = tuple[str, object]  # ("writes", k) or ("crash", "point:n")

PHASES: list[list[Kill]] = [
    [
        ("writes", 1),
        ("crash", "reconciled:1"),
        ("writes", 2),
        ("crash", "acknowledged:2"),
        ("crash", "outbox_written:2"),
        ("writes", 3),
        ("crash", "committed:1"),
    ],
    [
        ("writes", 2),
        ("crash", "acknowledged:1"),
        ("writes", 1),
        ("crash", "reconciled:1"),
        ("crash", "outbox_written:1"),
    ],
]


def phase_rows() -> list[list[tuple[int, str, str]]]:
    initial = people(40)
    changed = [(i, e, f"Renamed{i}") if i % 4 == 0 else (i, e, f) for i, e, f in initial]
    changed = [r for r in changed if r[0] % 5 != 0] + people(6, start=200)
    changed = [(7, "moved7@example.com", "First7") if r[0] == 7 else r for r in changed]
    return [initial, changed]


def run_cli(
    config: Path,
    warehouse: Path | None,
    h: Harness,
    kill: Kill | None,
    env: dict[str, str] | None = None,
) -> int:
    """`cdp sync` in a child process: on the DuckDB `warehouse`, or (None) on the
    target `env` names."""
    crash_at = str(kill[1]) if kill and kill[0] == "crash" else None
    where = ["--warehouse", str(warehouse)] if warehouse else []
    proc = subprocess.Popen(
        [*sync_command(crash_at), "--config", str(config), *where],
        env=env or subprocess_env(),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    if kill and kill[0] == "writes":
        h.server.faults.kill_after_writes(proc.pid, int(kill[1]))  # type: ignore[call-overload]
    out, err = proc.communicate(timeout=60)
    h.server.faults.clear()
    if kill is None:
        assert proc.returncode == 0, out + err
    else:
        assert proc.returncode in (0, 137, -9), out + err
    return proc.returncode


@pytest.mark.parametrize("kind", KINDS)
def test_killed_runs_deliver_every_row_exactly_once(kind: str, tmp_path: Path):
    overrides = {"destination": {"batch_size": 4}}
    with harness_for(kind) as h, harness_for(kind) as ref:
        warehouse, ref_warehouse = tmp_path / "w.duckdb", tmp_path / "ref.duckdb"
        config = h.write_config(tmp_path / "syncs.yaml", **overrides)
        killed = 0
        for kills, rows in zip(PHASES, phase_rows(), strict=True):
            write_source(warehouse, rows)
            write_source(ref_warehouse, rows)
            assert run_sync(ref.sync(**overrides), ref_warehouse).status == "succeeded"
            for kill in kills:
                killed += run_cli(config, warehouse, h, kill) != 0
            run_cli(config, warehouse, h, None)

            assert h.writes() == ref.writes(), f"{kind}: deliveries differ from reference"
            assert h.audience() == h.expected_audience(rows)
            assert query(warehouse, "select count(*) from reverse_etl.sync_outbox") == [(0,)]
            state = {k for (k,) in query(warehouse, "select key from reverse_etl.sync_state")}
            assert state == {str(r[0]) for r in rows}
        assert killed >= 10, f"only {killed} runs were actually killed"
        assert max(ref.writes().values()) <= 2
        # And a run with nothing to do sends nothing.
        assert run_sync(h.sync(**overrides), warehouse).requests == 0


def test_killed_runs_on_postgres_deliver_every_row_exactly_once(
    postgres_server: PostgresServer, tmp_path: Path
):
    """The chain above with CDP_TARGET=postgres: source, state and diff in the target."""
    env = subprocess_env(CDP_TARGET="postgres", **postgres_server.env())
    overrides = {"name": "pg_kill_chain", "destination": {"batch_size": 4}}
    state = "from reverse_etl.{} where sync_name = 'pg_kill_chain'"
    with harness_for("webhook") as h, harness_for("webhook") as ref:
        ref_warehouse = tmp_path / "ref.duckdb"
        config = h.write_config(tmp_path / "syncs.yaml", **overrides)
        killed = 0
        for kills, rows in zip(PHASES, phase_rows(), strict=True):
            write_pg_source(postgres_server, rows)
            write_source(ref_warehouse, rows)
            assert run_sync(ref.sync(**overrides), ref_warehouse).status == "succeeded"
            for kill in kills:
                killed += run_cli(config, None, h, kill, env) != 0
            run_cli(config, None, h, None, env)

            assert h.writes() == ref.writes(), "postgres: deliveries differ from reference"
            assert h.audience() == h.expected_audience(rows)
            outbox = pg_rows(postgres_server, "select count(*) " + state.format("sync_outbox"))
            assert outbox == [(0,)]
            keys = pg_rows(postgres_server, "select key " + state.format("sync_state"))
            assert {k for (k,) in keys} == {str(r[0]) for r in rows}
        assert killed >= 10, f"only {killed} runs were actually killed"


class _Stop(Exception):
    """Raised by a checkpoint observer to leave a batch unrecorded in the outbox."""


def test_the_runner_reports_each_batch_at_its_checkpoints(warehouse: Path):
    """The observer the crash hook rides on: every batch passes outbox_written,
    acknowledged, committed in that order; a batch left in the outbox is reported
    as reconciled by the next run, before anything new is sent."""
    seen: list[str] = []
    with harness_for("webhook") as h:
        sync = h.sync(destination={"batch_size": 10})
        assert run_sync(sync, warehouse, checkpoint=seen.append).status == "succeeded"
        assert seen == ["outbox_written", "acknowledged", "committed"] * 3  # 30 rows

        write_source(warehouse, people(35))  # five new rows: one batch

        def stop_after_acknowledgement(point: str) -> None:
            if point == "acknowledged":
                raise _Stop

        with pytest.raises(_Stop):
            run_sync(sync, warehouse, checkpoint=stop_after_acknowledgement)
        assert query(warehouse, "select count(*) from reverse_etl.sync_outbox") == [(1,)]
        seen.clear()
        assert run_sync(sync, warehouse, checkpoint=seen.append).status == "succeeded"
        assert seen == ["reconciled"]
        assert query(warehouse, "select count(*) from reverse_etl.sync_outbox") == [(0,)]
