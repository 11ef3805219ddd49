"""A complete Dagster build marks erasures exactly like `cdp build` (docs/privacy.md).

Two copies of the package's warehouse get the same erasure with `--no-build`;
one is rebuilt by `cdp build`, the other by Dagster's whole-graph job
`full_run` (loaded through orchestration/definitions.py in a fresh process,
without syncs so the package's webhook destination is left alone). Their
erasure log rows must be the same, and no longer awaiting the rebuild. A run of
part of the graph marks nothing.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import duckdb
import pytest
from dagster import AssetSelection, DagsterInstance, Definitions, define_asset_job

from tests.orchestration.conftest import CDP, REPO, Pipeline

# Everything but the ids and the clocks.
LOG_COLUMNS = (
    "requested_by, reason, request_type, request_hash, customer_hashes::varchar, "
    "identifier_hashes::varchar, rows_deleted::varchar, syncs_holding::varchar, "
    "destinations::varchar, status, completed_at is null"
)
DAGSTER_BUILD = """
import sys
from dagster import DagsterInstance
from orchestration.definitions import load_definitions

result = load_definitions().resolve_job_def("full_run").execute_in_process(
    instance=DagsterInstance.ephemeral(), raise_on_error=False
)
for event in result.all_events:
    if event.is_failure:
        print(event.message, file=sys.stderr)
sys.exit(0 if result.success else 1)
"""


def _env(pipeline: Pipeline, root: Path) -> dict[str, str]:
    """The package's environment on a copy of its warehouse, with no sync declared.
    DBT_TARGET_PATH stays the package's: the Dagster definitions read its manifest
    (dagster-dbt gives every dbt run its own folder under it)."""
    return (
        dict(os.environ)
        | pipeline.env
        | {
            "CDP_DUCKDB_PATH": str(root / "cdp.duckdb"),
            "DBT_LOG_PATH": str(root / "dbt_logs"),
            "CDP_SYNCS_PATH": str(root / "no-syncs.yml"),
            "CDP_GX_DOCS_DIR": str(root / "gx"),
        }
    )


def _erasure_log(warehouse: Path) -> list[tuple[object, ...]]:
    with duckdb.connect(str(warehouse), read_only=True) as con:
        return con.execute(
            f"select {LOG_COLUMNS} from privacy.erasure_log order by requested_at"
        ).fetchall()


def _start(command: list[str], env: dict[str, str], log: Path) -> subprocess.Popen[str]:
    return subprocess.Popen(
        command, env=env, cwd=REPO, stdout=log.open("w"), stderr=subprocess.STDOUT, text=True
    )


@pytest.mark.slow
def test_a_dagster_build_marks_erasures_like_cdp_build(
    pipeline: Pipeline, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    assert pipeline.result.success
    with duckdb.connect(str(pipeline.warehouse), read_only=True) as con:
        row = con.execute(
            "select customer_id from marts.customers where customer_id not in "
            "(select customer_id from marts.segment_vip_loyalty_members) "
            "order by customer_id limit 1"
        ).fetchone()
    assert row is not None
    customer_id = str(row[0])

    envs = {}
    for name in ("cdp", "dagster"):
        root = tmp_path / name
        root.mkdir()
        shutil.copy(pipeline.warehouse, root / "cdp.duckdb")
        envs[name] = _env(pipeline, root)
        erased = subprocess.run(
            [str(CDP), "privacy", "erase", "--customer-id", customer_id, "--no-build"],
            env=envs[name],
            cwd=REPO,
            capture_output=True,
            text=True,
            check=False,
        )
        assert erased.returncode == 0, erased.stdout + erased.stderr
    awaiting = _erasure_log(tmp_path / "cdp" / "cdp.duckdb")
    assert [r[9] for r in awaiting] == ["awaiting_rebuild"]
    assert _erasure_log(tmp_path / "dagster" / "cdp.duckdb") == awaiting

    # A run of part of the graph (here the marking step alone) marks nothing.
    from orchestration.defs.assets.privacy import ERASURES_KEY

    monkeypatch.setenv("CDP_DUCKDB_PATH", envs["dagster"]["CDP_DUCKDB_PATH"])
    partial = define_asset_job("erasures_only", selection=AssetSelection.assets(ERASURES_KEY))
    defs = Definitions.merge(pipeline.defs, Definitions(jobs=[partial]))
    result = defs.resolve_job_def("erasures_only").execute_in_process(
        instance=DagsterInstance.ephemeral()
    )
    assert result.success
    assert ERASURES_KEY not in {e.asset_key for e in result.get_asset_materialization_events()}
    assert _erasure_log(tmp_path / "dagster" / "cdp.duckdb") == awaiting

    envs["cdp"]["DBT_TARGET_PATH"] = str(tmp_path / "cdp" / "dbt_target")
    cdp_build = _start([str(CDP), "build"], envs["cdp"], tmp_path / "cdp.log")
    dagster_build = _start(
        [sys.executable, "-c", DAGSTER_BUILD], envs["dagster"], tmp_path / "dagster.log"
    )
    assert cdp_build.wait(timeout=900) == 0, (tmp_path / "cdp.log").read_text()[-3000:]
    assert dagster_build.wait(timeout=900) == 0, (tmp_path / "dagster.log").read_text()[-3000:]

    by_cdp = _erasure_log(tmp_path / "cdp" / "cdp.duckdb")
    by_dagster = _erasure_log(tmp_path / "dagster" / "cdp.duckdb")
    assert [r[9] for r in by_cdp] != ["awaiting_rebuild"], by_cdp
    assert by_dagster == by_cdp
    for name in ("cdp", "dagster"):
        with duckdb.connect(envs[name]["CDP_DUCKDB_PATH"], read_only=True) as con:
            left = con.execute(
                "select count(*) from marts.customers where customer_id = ?", [customer_id]
            ).fetchone()
        assert left == (0,), name
