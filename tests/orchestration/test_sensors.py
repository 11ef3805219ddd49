"""The new-file sensor: triggers on a complete new file, never on a half-written one;
the run it asks for lands exactly that file and refuses it if it changed since."""

from __future__ import annotations

import json
import os
import shutil
from pathlib import Path

import pytest
from dagster import AssetKey, DagsterInstance, RunRequest, build_sensor_context

from tests.orchestration.conftest import Pipeline


@pytest.fixture
def landing(
    pipeline: Pipeline, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> tuple[Path, object]:
    """A landing folder holding the generated shop_orders files, and the definitions."""
    data = tmp_path / "data"
    shutil.copytree(
        pipeline.root / "data" / "landing" / "shop_orders", data / "landing" / "shop_orders"
    )
    monkeypatch.setenv("CDP_DATA_DIR", str(data))
    monkeypatch.setenv("CDP_SENSOR_SETTLE_SECONDS", "0")
    warehouse = tmp_path / "warehouse.duckdb"
    shutil.copy(pipeline.warehouse, warehouse)
    monkeypatch.setenv("CDP_DUCKDB_PATH", str(warehouse))
    from orchestration.definitions import load_definitions as build_definitions

    return data / "landing", build_definitions()


def _tick(defs, cursor: str | None):  # type: ignore[no-untyped-def]
    sensor = defs.resolve_sensor_def("new_raw_files")
    context = build_sensor_context(cursor=cursor, repository_def=defs.get_repository_def())
    result = sensor.evaluate_tick(context)
    return result.run_requests or [], result.cursor


def _age(path: Path) -> None:
    """Make a file look written a minute ago (the sensor also wants files to settle)."""
    old = path.stat().st_mtime - 60
    os.utime(path, (old, old))


def test_sensor_triggers_on_new_complete_file_only(landing) -> None:  # type: ignore[no-untyped-def]
    folder, defs = landing
    folder = folder / "shop_orders"
    # First tick only sees the existing files, the second finds them settled.
    requests, cursor = _tick(defs, None)
    assert requests == []
    requests, cursor = _tick(defs, cursor)
    assert len(requests) == 1
    requests, cursor = _tick(defs, cursor)
    assert requests == [], "files already requested must not trigger again"

    # A half-written file: a temporary name is never picked up, even when old.
    part = folder / "shop_orders__2026-07.csv.part"
    part.write_text("order_id,customer_id\n1,", encoding="utf-8")
    _age(part)
    # A file still growing: seen with a new size on every tick, so never settled.
    growing = folder / "shop_orders__2026-08.csv"
    header = (folder / sorted(p.name for p in folder.glob("*.csv"))[0]).read_text().splitlines()[0]
    growing.write_text(header + "\n", encoding="utf-8")
    requests, cursor = _tick(defs, cursor)
    assert requests == []
    with growing.open("a", encoding="utf-8") as handle:
        handle.write("990001,,x@example.com,2026-08-01T10:00:00,completed,EUR,1,0,0,1,0,")
    requests, cursor = _tick(defs, cursor)
    assert requests == [], "a file that changed since the last tick is not complete yet"

    # Finished: the rename of the temporary file and the end of the growing one.
    with growing.open("a", encoding="utf-8") as handle:
        handle.write("2026-08-01T10:00:00\n")
    _age(growing)
    done = folder / "shop_orders__2026-07.csv"
    part.rename(done)
    done.write_text(
        header + "\n990002,,y@example.com,2026-07-02T10:00:00,completed,EUR,"
        "2,0,0,2,0,2026-07-02T10:00:00\n",
        encoding="utf-8",
    )
    _age(done)
    requests, cursor = _tick(defs, cursor)
    assert requests == []  # first sighting of the final sizes
    requests, cursor = _tick(defs, cursor)
    (request,) = requests
    assert isinstance(request, RunRequest)
    config = request.run_config["ops"]["ingest_shop"]["config"]
    assert sorted(config["files"]) == [
        "shop_orders/shop_orders__2026-07.csv",
        "shop_orders/shop_orders__2026-08.csv",
    ]
    assert not any(f.endswith(".part") for f in config["files"])
    selected = set(request.asset_selection)
    assert AssetKey(["raw", "shop_orders"]) in selected
    assert AssetKey(["staging", "stg_shop__orders"]) in selected
    assert AssetKey(["marts", "customers"]) in selected
    assert AssetKey(["raw", "web_events"]) not in selected
    assert AssetKey(["staging", "stg_web__events"]) not in selected
    assert json.loads(cursor)["requested"]


def test_requested_file_that_changed_is_refused(landing) -> None:  # type: ignore[no-untyped-def]
    folder, defs = landing
    new = folder / "shop_orders" / "shop_orders__2026-09.csv"
    header = next((folder / "shop_orders").glob("*.csv")).read_text().splitlines()[0]
    new.write_text(
        header + "\n990003,,z@example.com,2026-09-02T10:00:00,completed,EUR,"
        "3,0,0,3,0,2026-09-02T10:00:00\n",
        encoding="utf-8",
    )
    relative = "shop_orders/shop_orders__2026-09.csv"
    job = defs.resolve_implicit_global_asset_job_def()
    config = {"files": [relative], "sizes": {relative: new.stat().st_size - 5}}
    refused = job.execute_in_process(
        run_config={"ops": {"ingest_shop": {"config": config}}},
        asset_selection=[AssetKey(["raw", "shop_orders"])],
        instance=DagsterInstance.ephemeral(),
        raise_on_error=False,
    )
    assert not refused.success
    (failure,) = [e for e in refused.all_events if e.is_step_failure]
    assert "still being written" in failure.step_failure_data.error.message

    config["sizes"][relative] = new.stat().st_size
    landed = job.execute_in_process(
        run_config={"ops": {"ingest_shop": {"config": config}}},
        asset_selection=[AssetKey(["raw", "shop_orders"])],
        instance=DagsterInstance.ephemeral(),
        raise_on_error=False,
    )
    assert landed.success
    (event,) = landed.get_asset_materialization_events()
    metadata = event.materialization.metadata
    assert metadata["files_loaded"].value == 1
    assert metadata["rows_loaded"].value == 1
