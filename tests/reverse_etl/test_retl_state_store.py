"""The state store of syncs on Spark, where no Spark session is needed to test it.

`cdp sync` with CDP_TARGET=spark keeps its state in a DuckDB file
(CDP_SYNC_STATE_PATH, reverse_etl/engine/staging.py): a state file that cannot
be opened is one line at start-up, before a JVM starts; and what each run
stages from Spark is only the columns the diff reads. The runs on Spark
themselves are in test_retl_kill_spark.py (CDP_TEST_SPARK=1).
"""

from __future__ import annotations

import subprocess
from pathlib import Path

import duckdb
from retl_support import harness_for, subprocess_env, sync_command

from reverse_etl.config import parse_syncs
from reverse_etl.engine.staging import needed_columns
from reverse_etl.privacy import ERASURE_LOG


def _sync_on_spark(config: Path, **env: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [*sync_command(), "--config", str(config)],
        env=subprocess_env(CDP_TARGET="spark", **env),
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


def test_a_state_folder_that_does_not_exist_is_one_line_at_start_up(tmp_path: Path):
    with harness_for("webhook") as h:
        config = h.write_config(tmp_path / "syncs.yaml")
        missing = tmp_path / "nowhere" / "sync_state.duckdb"
        done = _sync_on_spark(config, CDP_SYNC_STATE_PATH=str(missing))
        assert h.writes() == {}
    assert done.returncode == 2
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1, done.stderr
    assert str(missing) in lines[0] and "CDP_SYNC_STATE_PATH" in lines[0]


def test_a_state_file_held_by_another_process_is_one_line_before_spark_starts(tmp_path: Path):
    state = tmp_path / "sync_state.duckdb"
    holder = duckdb.connect(str(state))
    try:
        with harness_for("webhook") as h:
            config = h.write_config(tmp_path / "syncs.yaml")
            done = _sync_on_spark(
                config,
                CDP_SYNC_STATE_PATH=str(state),
                CDP_LOCK_TIMEOUT="0",
                CDP_SPARK_DIR=str(tmp_path / "spark"),
            )
    finally:
        holder.close()
    assert done.returncode == 2
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1, done.stderr
    assert f"warehouse {state} is in use by" in lines[0]
    assert not (tmp_path / "spark").exists(), "a Spark session started before the state"


def test_a_run_stages_only_the_columns_the_diff_reads():
    destination = {"type": "webhook", "url": "http://127.0.0.1:9/x", "signing_secret_env": "S"}
    sync = parse_syncs(
        {
            "privacy": {"suppression": {"relation": "marts.customer_suppressions"}},
            "syncs": [
                {
                    "name": "gated",
                    "source": "marts.segment_x",
                    "primary_key": "customer_id",
                    "customer_key": "person_id",
                    "mode": "audience",
                    "consent_purpose": "email_marketing",
                    "destination": destination,
                    "fields": {"email": {"source": "email", "type": "email"}, "name": "first_name"},
                }
            ],
        }
    )[0]
    everything = {
        "marts.segment_x",
        "marts.customer_consent_eligibility",
        "marts.customer_suppressions",
        ERASURE_LOG,
    }
    assert needed_columns(sync, everything) == {
        "marts.segment_x": ["customer_id", "email", "first_name", "person_id"],
        "marts.customer_consent_eligibility": ["customer_id", "is_email_marketing_eligible"],
        "marts.customer_suppressions": ["customer_id"],
        ERASURE_LOG: ["customer_hashes"],
    }
    # a gate relation Spark lacks is not staged (the diff names it), nor a missing log
    assert needed_columns(sync, {"marts.segment_x"}) == {
        "marts.segment_x": ["customer_id", "email", "first_name", "person_id"]
    }
