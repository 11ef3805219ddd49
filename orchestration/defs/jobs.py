"""Jobs: the whole graph (ingest every source, build every model, run every sync)."""

from __future__ import annotations

from dagster import AssetSelection, define_asset_job

full_run_job = define_asset_job(
    name="full_run",
    selection=AssetSelection.all(),
    description="Land new raw files, build every dbt model with its tests and the scores, "
    "run the GX checks and every sync, and mark the erasures the build completes. The same "
    "steps as `cdp ingest` + `cdp build` (+ syncs).",
)
