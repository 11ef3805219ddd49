"""Two commands at once on one DuckDB file (issue #21, "Commands that run at the same time").

DuckDB admits one writing process, or readers only. Every command that writes
(ingest, build, sync, privacy erase and finish) and every reader (summary,
identity report and explain, privacy log and export, sync --plan, freshness) is run while another
process holds the warehouse: with a short CDP_LOCK_TIMEOUT it fails in one line
naming that process (pid and command line), never with a traceback; with a long
one it waits and succeeds once the holder lets go. Two real writers at once both
finish. The warehouse is a copy of the suite's shared business (tests/business.py).
"""

from __future__ import annotations

import subprocess
from pathlib import Path

import duckdb
import pytest

from tests.business import Business
from tests.conftest import CDP, REPO
from tests.engines.engine_builds import base_env, run_cdp
from tests.lock_holder import SCRIPT_NAME, holding

WRITERS = {
    "ingest": ["ingest"],
    "build": ["build"],
    "sync": ["sync"],
    "privacy erase": ["privacy", "erase", "--email", "nobody@example.com", "--no-build"],
    "privacy finish": ["privacy", "finish"],
}
READERS = {
    "summary": ["summary"],
    "identity report": ["identity", "report"],
    "identity explain": ["identity", "explain", "nobody@example.com"],
    "privacy log": ["privacy", "log"],
    "privacy export": ["privacy", "export", "--email", "nobody@example.com", "--out", "-"],
    "freshness": ["freshness"],
    "sync --plan": ["sync", "--plan"],
}


@pytest.fixture
def copy_env(shared_business: Business, tmp_path: Path) -> dict[str, str]:
    """A private copy of the shared warehouse (and dbt target) for the `cdp` command."""
    work = tmp_path / "work"
    shared_business.copy_warehouse(work)
    shared_business.copy_dbt_target(work / "dbt_target")
    return base_env(work, shared_business.data, "duckdb") | {
        "CDP_SYNCS_PATH": str(REPO / "syncs.yml"),
    }


@pytest.mark.parametrize("command", [*WRITERS, *READERS])
def test_a_held_warehouse_fails_in_one_line_naming_the_holder(
    copy_env: dict[str, str], command: str
) -> None:
    args = {**WRITERS, **READERS}[command]
    warehouse = Path(copy_env["CDP_DUCKDB_PATH"])
    before = warehouse.read_bytes()
    with holding(warehouse) as holder:
        done = run_cdp(args, copy_env | {"CDP_LOCK_TIMEOUT": "1"})
    output = done.stdout + done.stderr
    assert done.returncode == 2, output
    assert "Traceback" not in output
    errors = [line for line in done.stderr.splitlines() if line.startswith("error:")]
    assert len(errors) == 1, output
    assert f"is in use by pid {holder.pid} (" in errors[0]
    assert SCRIPT_NAME in errors[0]  # the holder's command line
    assert "gave up after 1s" in errors[0]
    assert "waiting up to 1s" in done.stderr
    assert warehouse.read_bytes() == before  # nothing was written


@pytest.mark.parametrize(
    "command",
    ["summary", "privacy log", "sync --plan", "ingest", "privacy erase"],
)
def test_a_second_command_waits_for_the_first(copy_env: dict[str, str], command: str) -> None:
    """The command waits (saying so) while the holder runs, and finishes once it ends."""
    args = {**WRITERS, **READERS}[command]
    warehouse = Path(copy_env["CDP_DUCKDB_PATH"])
    with holding(warehouse) as holder:
        process = subprocess.Popen(
            [str(CDP), *args],
            env=copy_env | {"CDP_LOCK_TIMEOUT": "600"},
            cwd=REPO,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        assert process.stderr is not None
        said = []
        for line in process.stderr:  # until the command says it waits
            said.append(line)
            if "waiting up to" in line:
                break
        assert f"in use by pid {holder.pid} (" in said[-1], "".join(said)
        assert "waiting up to 600s (CDP_LOCK_TIMEOUT)" in said[-1]
        assert process.poll() is None  # still waiting
        holder.kill()
        holder.wait()
        out, err = process.communicate(timeout=600)
    output = out + "".join(said) + err
    assert process.returncode == 0, output
    assert "Traceback" not in output


def test_two_erasures_at_once_both_finish(copy_env: dict[str, str]) -> None:
    """Two real writers at the same moment: the second waits for the first."""
    warehouse = Path(copy_env["CDP_DUCKDB_PATH"])
    with duckdb.connect(str(warehouse), read_only=True) as con:
        emails = [
            row[0]
            for row in con.execute(
                "select identifier_value from marts.customer_identifiers "
                "where identifier_type = 'email' order by identifier_value limit 2"
            ).fetchall()
        ]
    env = copy_env | {"CDP_LOCK_TIMEOUT": "300"}
    processes = [
        subprocess.Popen(
            [str(CDP), "privacy", "erase", "--email", email, "--no-build"],
            env=env,
            cwd=REPO,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for email in emails
    ]
    outputs = [process.communicate(timeout=600) for process in processes]
    for process, (out, err) in zip(processes, outputs, strict=True):
        assert process.returncode == 0, out + err
        assert "Traceback" not in out + err
    with duckdb.connect(str(warehouse), read_only=True) as con:
        logged = con.execute("select count(*) from privacy.erasure_log").fetchone()
    assert logged == (2,)


def test_identity_on_an_unbuilt_warehouse_is_one_line(
    shared_business: Business, tmp_path: Path
) -> None:
    """Landed but never built: `cdp identity report` and `explain` name what is missing."""
    work = tmp_path / "work"
    work.mkdir()
    with duckdb.connect(str(work / "cdp.duckdb")) as con:
        con.execute("create schema raw; create table raw.orders (order_id bigint)")
    env = base_env(work, shared_business.data, "duckdb")
    for args in (["identity", "report"], ["identity", "explain", "someone@example.com"]):
        done = run_cdp(args, env)
        assert done.returncode == 2, done.stdout + done.stderr
        assert "Traceback" not in done.stdout + done.stderr
        lines = done.stderr.strip().splitlines()
        assert len(lines) == 1
        assert "has no marts.customers, marts.customer_source_records" in lines[0]
        assert lines[0].endswith("run `cdp build` first")
