"""Bad data stops the graph: a failed blocking check on the golden table keeps the
downstream sync from running, and the run says why."""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Any

import duckdb
import pytest
from dagster import (
    AssetCheckKey,
    AssetCheckSeverity,
    AssetKey,
    AssetSelection,
    DagsterInstance,
    Definitions,
    define_asset_job,
)

from tests.orchestration.conftest import SYNC_NAME, Pipeline

CUSTOMERS = AssetKey(["marts", "customers"])
SEGMENT = AssetKey(["marts", "segment_vip_loyalty_members"])
SYNC = AssetKey(["syncs", SYNC_NAME])


def _copy_warehouse(pipeline: Pipeline, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    copy = tmp_path / "broken.duckdb"
    shutil.copy(pipeline.warehouse, copy)
    monkeypatch.setenv("CDP_DUCKDB_PATH", str(copy))
    return copy


def test_duplicate_customer_ids_block_the_downstream_sync(
    pipeline: Pipeline, sync_destination: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The declared sync (segment -> webhook) never runs on a broken golden table: the
    blocking GX check on `customers` fails, so the segment is not rebuilt and the sync
    after it is skipped; the destination receives no request."""
    warehouse = _copy_warehouse(pipeline, tmp_path, monkeypatch)
    with duckdb.connect(str(warehouse)) as con:
        con.execute(
            "create or replace table marts.customers as "
            "select * from marts.customers union all (select * from marts.customers limit 3)"
        )
    from orchestration.definitions import load_definitions as build_definitions

    gate = define_asset_job(
        "golden_gate",
        selection=AssetSelection.assets(SEGMENT, SYNC)
        | AssetSelection.checks(AssetCheckKey(CUSTOMERS, "gx_customers")),
    )
    defs = Definitions.merge(build_definitions(), Definitions(jobs=[gate]))
    requests_before = sync_destination.request_count
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
    assert SEGMENT not in materialised and SYNC not in materialised
    assert sync_destination.request_count == requests_before
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
    from orchestration.definitions import load_definitions as build_definitions

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
