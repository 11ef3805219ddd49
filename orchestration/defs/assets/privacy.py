"""The erasure marking of a complete build (`cdp.build.mark_erasures_rebuilt`) as an asset.

`privacy/erasures_rebuilt` hangs below the last assets of the build (every
dbt asset and the predictions), so it runs after them and only when all of
them succeeded: a failed step or a failed blocking check skips it, as a
failed `cdp build` marks nothing. It marks only in a run that built every dbt
model and the scores (the `full_run` job, the daily schedule); in a run of
part of the graph (the new-file sensor's, a selection in the UI) it logs why
it marked nothing and records no materialisation. The erasures it marks are
those requested before the run started, exactly as `cdp build` marks those
requested before it started (docs/privacy.md).
"""

from collections.abc import Iterator
from dataclasses import replace

from dagster import AssetExecutionContext, AssetKey, MaterializeResult, asset

from cdp.build import mark_erasures_rebuilt
from orchestration.defs.assets import dbt
from orchestration.defs.assets import predictions as scores
from orchestration.defs.project import settings
from orchestration.defs.resources import WarehouseResource

ERASURES_KEY = AssetKey(["privacy", "erasures_rebuilt"])
_BUILD = (dbt.dbt_core, dbt.dbt_scored, dbt.dbt_segments, scores.predictions)
BUILD_KEYS = frozenset(key for assets in _BUILD for key in assets.keys)


def _last_build_keys() -> list[AssetKey]:
    """The build's assets that no other build asset reads (what the marking waits for)."""
    read = {parent for assets in _BUILD for deps in assets.asset_deps.values() for parent in deps}
    return sorted(BUILD_KEYS - read, key=lambda k: k.to_user_string())


def _run_asset_keys(context: AssetExecutionContext) -> set[AssetKey]:
    """The assets this run materialises: its own selection, else (empty when the whole
    job runs) the job's."""
    selection = context.run.asset_selection
    if not selection:
        selection = context.job_def.asset_layer.selected_asset_keys
    return set(selection)


@asset(
    key=ERASURES_KEY,
    deps=_last_build_keys(),
    group_name="privacy",
    kinds={"duckdb"},
    output_required=False,
    description="Marks the erasures awaiting their rebuild (cdp privacy erase --no-build) as "
    "rebuilt after a run that built every dbt model and the scores; the same step as a "
    "complete `cdp build` (cdp/build.py).",
)
def erasures_rebuilt(
    context: AssetExecutionContext, warehouse: WarehouseResource
) -> Iterator[MaterializeResult]:
    missing = BUILD_KEYS - _run_asset_keys(context)
    if missing:
        context.log.info(
            f"not a complete build ({len(missing)} dbt/predictions assets not in this run); "
            "erasures awaiting their rebuild stay awaiting it"
        )
        return
    started_at = dbt.run_started_at(context)
    # the target's warehouse (DuckDB's file from the resource, or PostgreSQL)
    marked = mark_erasures_rebuilt(replace(settings(), warehouse_path=warehouse.path), started_at)
    for erasure_id in marked:
        context.log.info(
            f"erasure {erasure_id}: models rebuilt without the person; "
            "the syncs then `cdp privacy finish` complete it"
        )
    yield MaterializeResult(
        metadata={
            "erasures_marked": len(marked),
            "erasure_ids": ", ".join(marked) or "none",
            "build_started_at": started_at.isoformat(),
        }
    )
