"""One asset per trigger (`triggers:` in the sync YAML, reverse_etl/triggers.py).

A trigger sends who entered or left a segment as signed events to a webhook. Its
asset `triggers/<name>` depends on the asset of the event model it reads
(`segment_trigger_events`, below the segment memberships and their history), so it
runs after every build of the memberships and never after a failed one. It runs
`reverse_etl.engine.runner.run_sync` on the trigger's sync, the same code as
`cdp sync --sync <name>`, and fails when the run did not succeed. The plain syncs
of the same file are the `syncs/<name>` assets (syncs.py).
"""

from collections.abc import Mapping
from pathlib import Path
from typing import Any

from dagster import (
    AssetExecutionContext,
    AssetKey,
    Definitions,
    MaterializeResult,
    asset,
    definitions,
)

from orchestration.defs.assets.syncs import run_sync_in_asset, syncs_path
from orchestration.defs.resources import WarehouseResource
from orchestration.defs.translator import model_asset_key

GROUP = "triggers"


def build_trigger_assets(manifest: Mapping[str, Any], path: Path | None = None) -> list:
    path = path or syncs_path()
    if not path.exists():
        return []
    from reverse_etl.config import load_syncs

    return [
        _trigger_asset(sync, manifest)
        for sync in load_syncs(path, manifest)
        if sync.kind == "trigger"
    ]


def _trigger_asset(sync: Any, manifest: Mapping[str, Any]):  # type: ignore[no-untyped-def]
    upstream = model_asset_key(manifest, sync.source_table) or AssetKey(sync.source_table)

    @asset(
        name=sync.name.replace("-", "_"),
        key_prefix=["triggers"],
        deps=[upstream],
        group_name=GROUP,
        kinds={"reverse_etl", "webhook"},
        description=sync.description or f"Segment entries and exits from {sync.source}.",
        metadata={"source": sync.source, "url": sync.destination.url},
    )
    def _trigger(context: AssetExecutionContext, warehouse: WarehouseResource) -> MaterializeResult:
        result = run_sync_in_asset(context, sync, warehouse)
        return MaterializeResult(
            metadata={
                "events_sent": result.rows_added,
                "events_rejected": result.rows_rejected,
                "requests": result.requests,
            }
        )

    return _trigger


@definitions
def defs() -> Definitions:
    """The trigger assets of the sync YAML as it is when the definitions load."""
    from orchestration.defs.assets.dbt import dbt_manifest

    return Definitions(assets=build_trigger_assets(dbt_manifest))
