"""One asset per reverse-ETL sync, downstream of the model it reads (the extension point).

Syncs are declared in the reverse_etl sync YAML (format: reverse_etl/config.py and
reverse_etl/README.md). The file is CDP_SYNCS_PATH, default `<home>/syncs.yml`;
while it does not exist no sync asset is defined. Each sync's `source`
(`schema.table`) names a dbt model; the asset `syncs/<name>` depends on that
model's asset, so a failed blocking check on the segment (or on `customers`
upstream of it) stops the sync. The asset runs `reverse_etl.engine.runner.run_sync`
(the same code as `cdp sync`) and fails when the run did not succeed.
"""

from collections.abc import Mapping
from pathlib import Path
from typing import Any

from dagster import (
    AssetExecutionContext,
    AssetKey,
    Definitions,
    Failure,
    MaterializeResult,
    asset,
    definitions,
)

from orchestration.defs.project import settings
from orchestration.defs.resources import WarehouseResource
from orchestration.defs.translator import model_asset_key

GROUP = "syncs"


def syncs_path() -> Path:
    return settings().syncs_path


def build_sync_assets(manifest: Mapping[str, Any], path: Path | None = None) -> list:
    path = path or syncs_path()
    if not path.exists():
        return []
    # Secrets are read from the environment when a sync runs, never set here: `make dev`
    # exports the demo's (`cdp demo-destinations --print-env`) before it starts Dagster.
    from reverse_etl.config import load_syncs  # only needed once syncs are declared

    # checked against the dbt contracts of the manifest the assets come from
    syncs = load_syncs(path, manifest)
    # triggers (kind "trigger") are the triggers/<name> assets of triggers.py
    return [_sync_asset(sync, manifest) for sync in syncs if sync.kind == "sync"]


def _sync_asset(sync: Any, manifest: Mapping[str, Any]):  # type: ignore[no-untyped-def]
    upstream = model_asset_key(manifest, sync.source_table) or AssetKey(sync.source_table)

    @asset(
        name=sync.name.replace("-", "_"),
        key_prefix=["syncs"],
        deps=[upstream],
        group_name=GROUP,
        kinds={"reverse_etl", sync.destination.type},
        description=sync.description or f"Sync {sync.source} to {sync.destination.type}.",
        metadata={"mode": sync.mode.value, "source": sync.source},
    )
    def _sync(context: AssetExecutionContext, warehouse: WarehouseResource) -> MaterializeResult:
        result = run_sync_in_asset(context, sync, warehouse)
        return MaterializeResult(
            metadata={
                "rows_added": result.rows_added,
                "rows_updated": result.rows_updated,
                "rows_removed": result.rows_removed,
                "rows_rejected": result.rows_rejected,
                "requests": result.requests,
            }
        )

    return _sync


def run_sync_in_asset(
    context: AssetExecutionContext, sync: Any, warehouse: WarehouseResource
) -> Any:
    """Run one sync (or trigger) as `cdp sync` does, logging its progress; a
    run that did not succeed fails the asset."""
    from reverse_etl.engine.db import close_target, target_for
    from reverse_etl.engine.runner import run_sync

    # the state where CDP_TARGET keeps it: this DuckDB file, CDP_PG_*, or Spark's state file
    target = target_for(warehouse.settings(), warehouse.path)
    try:
        result = run_sync(sync, target, progress=context.log.info)
    finally:
        close_target(target)
    context.log.info(result.render())
    if result.status != "succeeded":
        raise Failure(description=result.render())
    return result


@definitions
def defs() -> Definitions:
    """The sync assets of the sync YAML as it is when the definitions load."""
    from orchestration.defs.assets.dbt import dbt_manifest

    return Definitions(assets=build_sync_assets(dbt_manifest))
