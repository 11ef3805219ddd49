"""The definitions load from the manifest and form one connected, layered graph."""

from __future__ import annotations

from pathlib import Path

import pytest
from dagster import AssetCheckKey, AssetKey

RAW_TABLES = {
    "shop_customers",
    "shop_orders",
    "shop_order_lines",
    "crm_contacts",
    "email_subscribers",
    "email_events",
    "loyalty_members",
    "store_transactions",
    "store_transaction_lines",
    "consent_events",
    "support_tickets",
    "web_events",
}


_built: dict[str, object] = {}


def _definitions():  # type: ignore[no-untyped-def]
    """Built once for this module (the environment does not change between its tests)."""
    if "defs" not in _built:
        from orchestration.definitions import load_definitions as build_definitions

        _built["defs"] = build_definitions()
    return _built["defs"]


def test_definitions_load_with_every_layer(orchestration_env: dict[str, str]) -> None:
    defs = _definitions()
    graph = defs.get_repository_def().asset_graph
    keys = set(graph.get_all_asset_keys())
    assert {AssetKey(["raw", t]) for t in RAW_TABLES} <= keys
    assert AssetKey(["staging", "stg_shop__customers"]) in keys
    assert AssetKey(["marts", "customers"]) in keys
    groups = {graph.get(k).group_name for k in keys}
    assert {"raw", "staging", "intermediate", "marts", "reference"} <= groups
    assert graph.get(AssetKey(["raw", "shop_customers"])).group_name == "raw"
    assert graph.get(AssetKey(["staging", "stg_shop__customers"])).group_name == "staging"


def test_dbt_sources_are_the_ingestion_assets(orchestration_env: dict[str, str]) -> None:
    """One connected graph: staging models hang off raw/<table>, which ingestion produces."""
    graph = _definitions().get_repository_def().asset_graph
    staging = [k for k in graph.get_all_asset_keys() if k.path[0] == "staging"]
    assert staging
    for key in staging:
        parents = graph.get(key).parent_keys
        assert parents, key
        raw_parents = {p for p in parents if p.path[0] == "raw"}
        for parent in raw_parents:
            node = graph.get(parent)
            assert node.is_materializable, f"{parent} is a stub, not the ingestion asset"
    customers_ancestors = graph.upstream_key_iterator(AssetKey(["marts", "customers"]))
    assert AssetKey(["raw", "shop_customers"]) in set(customers_ancestors)


def test_gx_and_dbt_checks_are_defined(orchestration_env: dict[str, str]) -> None:
    graph = _definitions().get_repository_def().asset_graph
    checks = set(graph.asset_check_keys)
    customers = AssetKey(["marts", "customers"])
    assert AssetCheckKey(customers, "gx_customers") in checks
    assert AssetCheckKey(customers, "unique_customers_customer_id") in checks  # a dbt test
    assert AssetCheckKey(AssetKey(["raw", "shop_orders"]), "gx_raw_landing") in checks
    assert AssetCheckKey(AssetKey(["raw", "shop_orders"]), "freshness_check") in checks
    consent = AssetKey(["staging", "stg_consent__consent_events"])
    assert AssetCheckKey(consent, "gx_consent") in checks
    assert graph.get_check_spec(AssetCheckKey(customers, "gx_customers")).blocking
    assert not graph.get_check_spec(AssetCheckKey(consent, "gx_consent")).blocking


def test_schedules_sensors_and_jobs(orchestration_env: dict[str, str]) -> None:
    defs = _definitions()
    assert defs.resolve_job_def("full_run")
    assert defs.resolve_schedule_def("daily_full_run").cron_schedule == "0 3 * * *"
    for name in ("new_raw_files", "run_failure_webhook", "raw_freshness"):
        assert defs.resolve_sensor_def(name)


def test_sync_assets_attach_to_their_model(
    orchestration_env: dict[str, str], tmp_path: Path
) -> None:
    """No sync YAML, no sync asset; a declared sync becomes syncs/<name> after its model."""
    from orchestration.defs.assets.syncs import build_sync_assets
    from orchestration.defs.project import load_manifest

    manifest = load_manifest()
    syncs_file = tmp_path / "syncs.yml"
    assert build_sync_assets(manifest, syncs_file) == []
    syncs_file.write_text(
        "syncs:\n"
        "  - name: all_customers_to_hook\n"
        "    source: marts.customers\n"
        "    primary_key: customer_id\n"
        "    mode: upsert\n"
        "    destination: {type: webhook, url: 'http://127.0.0.1:9/x', "
        "signing_secret_env: CDP_TEST_SECRET}\n"
        "    fields: {email: {source: email, type: email}}\n",
        encoding="utf-8",
    )
    (sync,) = build_sync_assets(manifest, syncs_file)
    assert sync.key == AssetKey(["syncs", "all_customers_to_hook"])
    assert sync.asset_deps[sync.key] == {AssetKey(["marts", "customers"])}


def test_spark_is_refused_at_load_with_the_reason(
    orchestration_env: dict[str, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """Spark is refused before anything loads, in one line saying why (PostgreSQL loads:
    tests/engines/test_dagster_postgres.py)."""
    from orchestration.definitions import load_definitions as build_definitions
    from orchestration.defs.project import UnsupportedTarget

    monkeypatch.setenv("CDP_TARGET", "spark")
    with pytest.raises(UnsupportedTarget, match=r"CDP_TARGET=spark.*Derby") as refused:
        build_definitions()
    assert "\n" not in str(refused.value)
    monkeypatch.setenv("CDP_TARGET", "oracle")
    with pytest.raises(UnsupportedTarget, match="CDP_TARGET=oracle: unknown target"):
        build_definitions()


def test_the_build_steps_hang_together(orchestration_env: dict[str, str]) -> None:
    """The predictions asset sits between the features and what reads the scores, and
    the erasure marking waits for every dbt asset and the predictions."""
    from orchestration.defs.assets.privacy import BUILD_KEYS, ERASURES_KEY

    graph = _definitions().get_repository_def().asset_graph
    scores = AssetKey(["predictions", "customer_scores"])
    assert graph.get(scores).group_name == "predictions"
    assert AssetKey(["intermediate", "int_prediction_features"]) in graph.get(scores).parent_keys
    assert (
        scores in graph.get(AssetKey(["staging", "stg_predictions__customer_scores"])).parent_keys
    )
    assert AssetKey(["marts", "customers"]) in BUILD_KEYS and scores in BUILD_KEYS
    assert set(graph.upstream_key_iterator(ERASURES_KEY)) >= BUILD_KEYS
    assert graph.get(ERASURES_KEY).group_name == "privacy"
