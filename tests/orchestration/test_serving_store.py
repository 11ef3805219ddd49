"""The serving-store asset: below the build's last assets, and it refreshes the store."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.business import Business


def test_serving_store_asset_refreshes_after_the_build(
    orchestration_env: dict[str, str],
    shared_business: Business,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from dagster import materialize

    from cdp.serve.store.sqlite import SQLiteStore
    from orchestration.definitions import load_definitions
    from orchestration.defs.assets.privacy import _last_build_keys
    from orchestration.defs.assets.serving import STORE_KEY, serving_store
    from orchestration.defs.resources import WarehouseResource

    graph = load_definitions().get_repository_def().asset_graph
    assert set(graph.get(STORE_KEY).parent_keys) == set(_last_build_keys())
    warehouse = shared_business.copy_warehouse(tmp_path / "wh")
    monkeypatch.setenv("CDP_STORE_PATH", str(tmp_path / "profiles.sqlite"))
    result = materialize(
        [serving_store], resources={"warehouse": WarehouseResource(duckdb_path=str(warehouse))}
    )
    assert result.success
    (event,) = result.get_asset_materialization_events()
    assert event.asset_key == STORE_KEY
    metadata = event.materialization.metadata
    assert metadata["mode"].value == "full"
    store = SQLiteStore(tmp_path / "profiles.sqlite")
    assert store.build_id() == metadata["build_id"].value
    assert metadata["customers_written"].value == len(store.search("cus_", limit=100_000))
