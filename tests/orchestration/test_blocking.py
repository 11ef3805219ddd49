"""Bad data stops the graph: a failed blocking check on the golden table keeps the
downstream sync from running, and the run says why."""

from __future__ import annotations

import shutil
from pathlib import Path

import duckdb
import pytest
from dagster import (
    AssetCheckKey,
    AssetCheckSeverity,
    AssetKey,
    AssetSelection,
    DagsterInstance,
    Definitions,
    MaterializeResult,
    asset,
    define_asset_job,
)

from tests.orchestration.conftest import Pipeline

CUSTOMERS = AssetKey(["marts", "customers"])
SYNC = AssetKey(["syncs", "stand_in_sync"])


@asset(key=SYNC, deps=[CUSTOMERS], group_name="syncs")
def stand_in_sync() -> MaterializeResult:
    """Stands in for a reverse-ETL sync (none is declared yet): it must not run."""
    return MaterializeResult(metadata={"ran": True})


def _copy_warehouse(pipeline: Pipeline, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    copy = tmp_path / "broken.duckdb"
    shutil.copy(pipeline.warehouse, copy)
    monkeypatch.setenv("CDP_DUCKDB_PATH", str(copy))
    return copy


def test_duplicate_customer_ids_block_the_downstream_sync(
    pipeline: Pipeline, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    warehouse = _copy_warehouse(pipeline, tmp_path, monkeypatch)
    with duckdb.connect(str(warehouse)) as con:
        con.execute(
            "create or replace table marts.customers as "
            "select * from marts.customers union all (select * from marts.customers limit 3)"
        )
    from orchestration.defs.build import build_definitions

    gate = define_asset_job(
        "golden_gate",
        selection=AssetSelection.assets(SYNC)
        | AssetSelection.checks(AssetCheckKey(CUSTOMERS, "gx_customers")),
    )
    defs = Definitions.merge(build_definitions(), Definitions(assets=[stand_in_sync], jobs=[gate]))
    result = defs.resolve_job_def("golden_gate").execute_in_process(
        instance=DagsterInstance.ephemeral(), raise_on_error=False
    )

    assert not result.success
    (check,) = result.get_asset_check_evaluations()
    assert not check.passed
    assert check.severity == AssetCheckSeverity.ERROR
    assert "customer_id: expect_column_values_to_be_unique failed" in check.description
    failed = [v.value for k, v in check.metadata.items() if k.endswith("failed")]
    assert any("expect_column_values_to_be_unique" in str(v) for v in failed), check.metadata
    materialised = {e.asset_key for e in result.get_asset_materialization_events()}
    assert SYNC not in materialised
    reasons = [e.step_failure_data.error.message for e in result.all_events if e.is_step_failure]
    assert any("blocking asset check failed with ERROR severity" in r for r in reasons), reasons


def test_a_broken_raw_table_stops_dbt(
    pipeline: Pipeline, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A raw table that lost a column fails its blocking landing check, so no dbt model
    is built on it."""
    warehouse = _copy_warehouse(pipeline, tmp_path, monkeypatch)
    with duckdb.connect(str(warehouse)) as con:
        con.execute("alter table raw.shop_customers rename column email to e_mail")
    from orchestration.defs.build import build_definitions

    defs = build_definitions()
    stg = AssetKey(["staging", "stg_shop__customers"])
    job = define_asset_job(
        "raw_gate",
        selection=AssetSelection.assets(stg)
        | AssetSelection.checks(
            AssetCheckKey(AssetKey(["raw", "shop_customers"]), "gx_raw_landing")
        ),
    )
    defs = Definitions.merge(defs, Definitions(jobs=[job]))
    result = defs.resolve_job_def("raw_gate").execute_in_process(
        instance=DagsterInstance.ephemeral(), raise_on_error=False
    )
    assert not result.success
    (check,) = [c for c in result.get_asset_check_evaluations() if c.check_name == "gx_raw_landing"]
    assert not check.passed and check.severity == AssetCheckSeverity.ERROR
    assert "expect_table_columns_to_match_ordered_list" in check.description
    assert stg not in {e.asset_key for e in result.get_asset_materialization_events()}
