"""`cdp sync` on Spark (local): the source read from the Spark catalog, the state in a
DuckDB state file (reverse_etl/engine/staging.py).

Two tests, few JVM starts (~25 s each on 2 cores):

* the kill-point chain of test_retl_kill.py on Spark: `cdp sync` with
  CDP_TARGET=spark killed at the engine's checkpoints (crashing_sync.py) and by
  the contract server right after it applied a write, then re-run; the writes
  the server counted equal an uninterrupted DuckDB reference sync of the same
  rows, per key and kind, and the destination holds exactly the source. The
  source is an external Parquet table of a small catalog of the test's own,
  whose file the test rewrites between the phases (no Spark job for that).
  Every process of the chain attaches to one JVM the fixture starts
  (`SharedJvm`: pyspark's PYSPARK_GATEWAY_PORT, as under spark-submit), and the
  test stops the SparkContext a killed process left behind, so a kill costs a
  context, not a JVM. Then `cdp summary` (on the same JVM) shows the rows the
  chain synced, read from the state file;
* a demo segment of the Spark-built shared business (tests/conftest.py's Spark
  build, the one test_cross_engine_spark.py compares; nothing is built again),
  with the demo's consent and suppression gates, synced with `cdp sync` on
  Spark and with the engine on the DuckDB-built shared business: the same
  rows reach the destination and the state holds the same content hashes, so
  the payload text is byte for byte the same on both engines.

Marked `spark`, run only with CDP_TEST_SPARK=1 (make test sets it), in the
Spark group (tests/scheduling.py).
"""

from __future__ import annotations

import os
import subprocess
from collections.abc import Iterator
from concurrent.futures import Future
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import duckdb
import pytest
from retl_support import Harness, Person, harness_for, people, subprocess_env
from retl_support import sync_command as cli_command
from retl_support import write_source as write_duckdb

from reverse_etl.engine.runner import run_sync
from tests.business import Business
from tests.engines.engine_builds import EngineBuild, run_cdp

pytestmark = [
    pytest.mark.slow,
    pytest.mark.spark,
    pytest.mark.skipif(
        os.environ.get("CDP_TEST_SPARK") != "1",
        reason="Spark sync tests start a JVM per cdp sync: they run with CDP_TEST_SPARK=1",
    ),
]

CLI_TIMEOUT = 240


def state_rows(path: Path, sql: str) -> list[tuple[object, ...]]:
    con = duckdb.connect(str(path), read_only=True)
    try:
        return con.execute(sql).fetchall()
    finally:
        con.close()


def cli(config: Path, env: dict[str, str], h: Harness, kill: str | None = None) -> int:
    """`cdp sync --config config` on Spark; `kill` is "<checkpoint>:<n>" (crash hook)
    or "writes:<k>" (the server kills the process after its k-th write)."""
    crash = kill if kill and not kill.startswith("writes:") else None
    proc = subprocess.Popen(
        [*cli_command(crash), "--config", str(config)],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    if kill and kill.startswith("writes:"):
        h.server.faults.kill_after_writes(proc.pid, int(kill.split(":")[1]))
    try:
        out, err = proc.communicate(timeout=CLI_TIMEOUT)
    except subprocess.TimeoutExpired:
        proc.kill()  # no orphan left holding the JVM or the state file
        proc.communicate()
        raise
    h.server.faults.clear()
    errors = "\n".join(line for line in err.splitlines() if "WARN" not in line)[-3000:]
    assert proc.returncode == 0 if kill is None else proc.returncode in (0, 137, -9), (
        out[-3000:] + errors
    )
    return proc.returncode


# --- the kill chain on a small catalog of the test's own -------------------------------


@dataclass
class SharedJvm:
    """One Spark JVM for every `cdp sync` of the kill chain: the processes attach to
    it through pyspark's own PYSPARK_GATEWAY_PORT/SECRET (what spark-submit hands a
    Python driver), so a killed process costs a SparkContext, not a JVM start."""

    gateway: Any
    env: dict[str, str]

    def stop_orphan(self) -> None:
        """Stop the SparkContext a killed process left running in the JVM."""
        session = self.gateway.jvm.org.apache.spark.sql.SparkSession.getDefaultSession()
        if session.isDefined() and not session.get().sparkContext().isStopped():
            session.get().sparkContext().stop()


@pytest.fixture(scope="module")
def spark_catalog(
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[tuple[Path, SharedJvm]]:
    """(the folder of marts.audience's Parquet file, the shared JVM): an external
    Parquet table declared once in CDP_SPARK_DIR, in a session on the shared JVM."""
    pytest.importorskip("pyspark", reason="pyspark is not installed")
    from pyspark import SparkConf
    from pyspark.java_gateway import launch_gateway

    from cdp.landing.engines.spark import SparkConfig
    from cdp.warehouse.access import SparkWarehouse

    root = tmp_path_factory.mktemp("spark_sync")
    spark_dir, data = root / "spark", root / "audience"
    data.mkdir()
    spark_dir.mkdir()
    write_parquet(data, people(1))
    conf = SparkConf(loadDefaults=False)
    for key, value in SparkConfig(spark_dir).session_conf().items():
        conf.set(key, value)
    gateway = launch_gateway(conf)
    attach = {
        "PYSPARK_GATEWAY_PORT": str(gateway.gateway_parameters.port),
        "PYSPARK_GATEWAY_SECRET": str(gateway.gateway_parameters.auth_token),
        "CDP_SPARK_DIR": str(spark_dir),
    }
    jvm = SharedJvm(gateway, attach)
    try:
        with pytest.MonkeyPatch.context() as mp:
            for key, value in attach.items():
                mp.setenv(key, value)
            warehouse = SparkWarehouse()
            try:
                warehouse.spark.sql("create database if not exists marts")
                warehouse.spark.sql(
                    "create table marts.audience (customer_id int, email string, "
                    f"first_name string) using parquet location '{data}'"
                )
            finally:
                warehouse.close()  # stops its context, leaves the JVM running
        yield data, jvm
    finally:
        gateway.shutdown()
        gateway.proc.stdin.close()  # the JVM exits when its stdin closes
        gateway.proc.wait(timeout=60)


def write_parquet(folder: Path, rows: list[Person]) -> None:
    """Replace the table's one Parquet file with `rows` (written aside, then renamed)."""
    con = duckdb.connect()
    try:
        con.execute("create table t (customer_id integer, email varchar, first_name varchar)")
        con.executemany("insert into t values (?, ?, ?)", rows)
        con.execute(f"copy t to '{folder.parent / 'next.parquet'}' (format parquet)")
    finally:
        con.close()
    (folder.parent / "next.parquet").replace(folder / "part-0.parquet")


def changed(rows: list[Person]) -> list[Person]:
    kept = [(i, e, f"Renamed{i}") if i % 4 == 0 else (i, e, f) for i, e, f in rows if i % 5]
    return [(7, "moved7@example.com", "First7") if r[0] == 7 else r for r in kept] + people(
        3, start=100
    )


# Kills per phase (fewer than on DuckDB and PostgreSQL, whose chains cover every
# checkpoint on the same state-file code; what is Spark's own is the staging of the
# source, which each run but the reconciling one does): on the
# initial load, before sending, after an acknowledgement, while reconciling the
# batch that left; on the changes (removes, updates, an address change, adds) the
# server's kill right after a write it applied and did not answer.
PHASES = (
    ("outbox_written:1", "acknowledged:2", "reconciled:1"),
    ("writes:2",),
)


def test_killed_cli_runs_on_spark_deliver_every_row_once(
    spark_catalog: tuple[Path, SharedJvm], tmp_path: Path
):
    data, jvm = spark_catalog
    state = tmp_path / "sync_state.duckdb"
    env = subprocess_env(**jvm.env, CDP_TARGET="spark", CDP_SYNC_STATE_PATH=str(state))
    overrides = {"name": "spark_kill", "destination": {"batch_size": 4}}
    with harness_for("webhook") as h, harness_for("webhook") as ref:
        config = h.write_config(tmp_path / "syncs.yaml", **overrides)
        ref_warehouse = tmp_path / "ref.duckdb"
        killed = 0
        for kills, rows in zip(PHASES, (people(20), changed(people(20))), strict=True):
            write_parquet(data, rows)
            write_duckdb(ref_warehouse, rows)
            assert run_sync(ref.sync(**overrides), ref_warehouse).status == "succeeded"
            for kill in kills:
                killed += cli(config, env, h, kill) != 0
                jvm.stop_orphan()
            assert cli(config, env, h) == 0

            assert h.writes() == ref.writes(), "deliveries differ from the DuckDB reference"
            assert h.audience() == h.expected_audience(rows)
            assert state_rows(state, "select count(*) from reverse_etl.sync_outbox") == [(0,)]
            keys = state_rows(state, "select key from reverse_etl.sync_state")
            assert {k for (k,) in keys} == {str(r[0]) for r in rows}
        assert killed == sum(len(kills) for kills in PHASES)
        assert max(ref.writes().values()) <= 2

    # `cdp summary` on Spark reads the rows synced from the state file (it showed none)
    (sent,) = state_rows(state, "select sum(rows_sent) from reverse_etl.sync_runs")[0]
    summary = run_cdp(["summary"], env)
    assert summary.returncode == 0, summary.stdout + summary.stderr[-2000:]
    assert summary.stdout.endswith(f"Rows synced\n  spark_kill: {sent:,}\n"), summary.stdout
    assert int(sent) >= len(people(20))


# --- a segment of the Spark-built shared business, against DuckDB's -------------------

SEGMENT = "marts.segment_vip_loyalty_members"
PRIVACY = {  # the demo's gates (syncs.yml)
    "consent": {
        "relation": "marts.customer_consent_eligibility",
        "customer_key": "customer_id",
        "purposes": {"email_marketing": {"column": "is_email_marketing_eligible"}},
    },
    "suppression": {"relation": "marts.customer_suppressions", "customer_key": "customer_id"},
}


def write_gated_config(h: Harness, path: Path) -> Path:
    import yaml

    sync = h.sync_dict("vip_spark", source=SEGMENT, consent_purpose="email_marketing")
    path.write_text(yaml.safe_dump({"privacy": PRIVACY, "syncs": [sync]}))
    return path


@pytest.fixture(scope="module")
def spark_business(spark_build_started: Future[EngineBuild] | None) -> EngineBuild:
    pytest.importorskip("pyspark", reason="pyspark is not installed")
    assert spark_build_started is not None, "the Spark build was not started"
    build = spark_build_started.result()
    assert build.build_ok or not build.unexpected_failures(), build.build_output
    return build


def test_a_segment_synced_from_spark_matches_duckdb(
    spark_business: EngineBuild, shared_business: Business, tmp_path: Path
):
    from reverse_etl.config import load_syncs

    state = tmp_path / "sync_state.duckdb"
    settings = {k: v for k, v in spark_business.env.items() if k.startswith("CDP_")}
    env = subprocess_env(**settings, CDP_SYNC_STATE_PATH=str(state))
    with harness_for("webhook") as on_spark, harness_for("webhook") as on_duckdb:
        config = write_gated_config(on_spark, tmp_path / "spark.yaml")
        assert cli(config, env, on_spark) == 0

        warehouse = shared_business.copy_warehouse(tmp_path / "duckdb")
        reference = load_syncs(write_gated_config(on_duckdb, tmp_path / "duckdb.yaml"))[0]
        result = run_sync(reference, warehouse)
        assert result.status == "succeeded", result.error
        assert result.rows_added > 0 and result.diff is not None and result.diff.withheld > 0

        assert on_spark.audience() == on_duckdb.audience()
        assert on_spark.writes() == on_duckdb.writes()
        hashes = "select key, content_hash from reverse_etl.sync_state order by key"
        assert state_rows(state, hashes) == state_rows(warehouse, hashes)
