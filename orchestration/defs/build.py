"""Put the pieces together: `build_definitions()` reads the environment when called."""

from __future__ import annotations

from dagster import Definitions, in_process_executor

from orchestration.defs import checks, jobs, schedules, sensors
from orchestration.defs.assets import dbt, ingestion, scoring, syncs
from orchestration.defs.project import build_dbt_project, settings
from orchestration.defs.resources import build_resources


class UnsupportedTarget(RuntimeError):
    """The orchestration (landing, GX checks, baselines) reads and writes DuckDB only."""


def build_definitions() -> Definitions:
    target = settings().target
    if target != "duckdb":
        raise UnsupportedTarget(
            f"CDP_TARGET={target}: the Dagster definitions support the duckdb target only "
            "(see orchestration/README.md); unset CDP_TARGET to orchestrate the DuckDB warehouse"
        )
    project = build_dbt_project()
    manifest = dbt.load_manifest(project)
    registry = ingestion.load_landing_registry()
    freshness = checks.freshness_checks(manifest, registry)
    return Definitions(
        assets=[
            *ingestion.build_ingestion_assets(registry),
            *dbt.build_dbt_assets(manifest, project),
            *scoring.build_scoring_assets(manifest),
            *syncs.build_sync_assets(manifest),
        ],
        asset_checks=[
            *checks.raw_landing_checks(registry),
            *checks.model_checks(manifest),
            *freshness,
        ],
        jobs=jobs.jobs,
        schedules=schedules.schedules,
        sensors=[
            sensors.build_new_files_sensor(registry),
            sensors.run_failure_webhook,
            checks.freshness_sensor(freshness),
        ],
        resources=build_resources(project),
        # One step at a time: DuckDB allows one writer per file.
        executor=in_process_executor,
    )
