"""A complete Dagster build marks erasures exactly like `cdp build` (docs/privacy.md).

Two copies of the package's warehouse get the same erasure with `--no-build`;
one is rebuilt by `cdp build`, the other by Dagster's whole-graph job
`full_run` (the definitions of orchestration/definitions.py loaded again in
this process, without syncs so the package's webhook destination is left
alone). Their erasure log rows must be the same, and no longer awaiting the
rebuild. A run of part of the graph marks nothing.

Both rebuilds leave out what cannot change the erasure log, to keep the test
cheap: dbt's unit tests (SQL on inline rows; the shared business's build ran
every one of them on the same SQL), and, for `cdp build`, the data tests
too (`DBT_EXCLUDE_RESOURCE_TYPES`). What marks is the build completing: both
stay complete builds (no selection), so both mark, and Dagster's keeps its dbt
tests, which are asset checks that could stop the marking asset. The Dagster
copy's dbt profile (its warehouse path) gets its own partial-parse file
first, so its three dbt steps do not each parse the project in full.
"""

from __future__ import annotations

import os
import shutil
import subprocess
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


def _env(pipeline: Pipeline, root: Path) -> dict[str, str]:
    """The package's environment on a copy of its warehouse, with no sync declared
    and dbt's unit tests left out."""
    return pipeline.env | {
        "CDP_DUCKDB_PATH": str(root / "cdp.duckdb"),
        "DBT_TARGET_PATH": str(root / "dbt_target"),
        "DBT_LOG_PATH": str(root / "dbt_logs"),
        "CDP_SYNCS_PATH": str(root / "no-syncs.yml"),
        "CDP_GX_DOCS_DIR": str(root / "gx"),
        "DBT_EXCLUDE_RESOURCE_TYPES": "unit_test",
    }


def _erasure_log(warehouse: Path) -> list[tuple[object, ...]]:
    with duckdb.connect(str(warehouse), read_only=True) as con:
        return con.execute(
            f"select {LOG_COLUMNS} from privacy.erasure_log order by requested_at"
        ).fetchall()


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
            env=dict(os.environ) | envs[name],
            cwd=REPO,
            capture_output=True,
            text=True,
            check=False,
        )
        assert erased.returncode == 0, erased.stdout + erased.stderr
    awaiting = _erasure_log(tmp_path / "cdp" / "cdp.duckdb")
    assert [r[9] for r in awaiting] == ["awaiting_rebuild"]
    assert _erasure_log(tmp_path / "dagster" / "cdp.duckdb") == awaiting

    # `cdp build` in its own process, beside the Dagster run below.
    cdp_log = tmp_path / "cdp.log"
    cdp_build = subprocess.Popen(
        [str(CDP), "build"],
        env=dict(os.environ) | envs["cdp"] | {"DBT_EXCLUDE_RESOURCE_TYPES": "unit_test test"},
        cwd=REPO,
        stdout=cdp_log.open("w"),
        stderr=subprocess.STDOUT,
        text=True,
    )

    for key, value in envs["dagster"].items():
        monkeypatch.setenv(key, value)
    from orchestration.definitions import load_definitions
    from orchestration.defs.assets.privacy import ERASURES_KEY
    from orchestration.prepare import prepare_manifest

    prepare_manifest(retries=3, quiet=True)  # the partial-parse file for this copy's path
    defs = load_definitions()

    # A run of part of the graph (here the marking step alone) marks nothing.
    partial = define_asset_job("erasures_only", selection=AssetSelection.assets(ERASURES_KEY))
    with_partial = Definitions.merge(defs, Definitions(jobs=[partial]))
    result = with_partial.resolve_job_def("erasures_only").execute_in_process(
        instance=DagsterInstance.ephemeral()
    )
    assert result.success
    assert ERASURES_KEY not in {e.asset_key for e in result.get_asset_materialization_events()}
    assert _erasure_log(tmp_path / "dagster" / "cdp.duckdb") == awaiting

    full = defs.resolve_job_def("full_run").execute_in_process(
        instance=DagsterInstance.ephemeral(), raise_on_error=False
    )
    assert full.success, [e.message for e in full.all_events if e.is_failure]
    assert ERASURES_KEY in {e.asset_key for e in full.get_asset_materialization_events()}
    assert cdp_build.wait(timeout=900) == 0, cdp_log.read_text()[-3000:]
    assert "models rebuilt without the person" in cdp_log.read_text()

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
