"""Every dbt node as an asset (dagster-dbt), tests as asset checks: three `@dbt_assets`
on the build routine's selectors (cdp/build.py).

- `dbt_core`: everything but what reads the scores (`READS_SCORES`) and the
  segments (`SEGMENTS`): staging, intermediate, identity, `customers`, the
  features the scoring reads;
- `dbt_scored`: what reads the scores, after the predictions asset
  (orchestration/defs/assets/predictions.py);
- `dbt_segments`: the segment folder and what is built from it, after the
  blocking checks on `customers` passed.

They are module-level and read the manifest `python -m orchestration.prepare`
wrote when this module is imported (never `dbt parse`). New models appear by
themselves once the manifest is prepared again.

Data tests follow the build routine's policy (`cdp.build.choose_data_tests`,
docs/testing.md#which-data-tests-run-when): each op's config `tests` is auto (the
default: every test on a full build, a warehouse without a build that started
before this run; the gate otherwise), gate or all; CDP_BUILD_TESTS sets auto's
answer as for `cdp build`. The daily schedule runs the full suite
(orchestration/defs/schedules.py). A test the gate leaves out reports no
asset-check result in that run.
"""

from datetime import UTC, datetime

from dagster import AssetExecutionContext, Config
from dagster_dbt import DbtCliResource, dbt_assets

from cdp.build import READS_SCORES, SEGMENTS, BuildOptions, DataTests, choose_data_tests, utc_now
from cdp.config import Settings
from orchestration.defs.project import build_dbt_project, load_manifest
from orchestration.defs.resources import WarehouseResource
from orchestration.defs.translator import translator

DBT_OPS = ("dbt_core", "dbt_scored", "dbt_segments")


class DbtBuildConfig(Config):
    """Which data tests the op's `dbt build` runs: auto, gate or all (cdp/build.py)."""

    tests: str = "auto"


dbt_project = build_dbt_project()
dbt_manifest = load_manifest(dbt_project)


def _on(name: str, select: str = "fqn:*", exclude: str | None = None):  # type: ignore[no-untyped-def]
    """`@dbt_assets` of the prepared manifest for one selection (an op of that name)."""
    return dbt_assets(
        manifest=dbt_manifest,
        project=dbt_project,
        dagster_dbt_translator=translator,
        name=name,
        select=select,
        exclude=exclude,
    )


def run_started_at(context: AssetExecutionContext) -> datetime:
    """When the run started, naive UTC (the clock of privacy.erasure_log and of the
    change set's built_at)."""
    record = context.instance.get_run_record_by_id(context.run_id)
    if record is None or record.start_time is None:
        return utc_now()
    return datetime.fromtimestamp(record.start_time, UTC).replace(tzinfo=None)


def build_args(settings: Settings, tests: str, started_at: datetime) -> tuple[list[str], DataTests]:
    """The `dbt build` arguments of an op in a run that started at `started_at`, with the
    data tests the build routine's policy gives (every op of a run gets the same: a run's
    own change set rows are not an earlier build)."""
    options = BuildOptions(tests=None if tests == "auto" else tests)
    policy = choose_data_tests(settings, options, started_at)
    args = ["build"]
    if policy.exclude:
        args += ["--exclude", *policy.exclude]
    build_vars = policy.dbt_vars(None)
    if build_vars:
        args += ["--vars", build_vars]
    return args, policy


def _build(  # type: ignore[no-untyped-def]
    context: AssetExecutionContext,
    dbt: DbtCliResource,
    warehouse: WarehouseResource,
    config: DbtBuildConfig,
):
    """`dbt build` of the op's selection (dagster-dbt passes it on, with the excludes)."""
    args, policy = build_args(warehouse.settings(), config.tests, run_started_at(context))
    context.log.info(policy.describe())
    yield from dbt.cli(args, context=context).stream()


@_on("dbt_core", exclude=f"{READS_SCORES} {SEGMENTS}")
def dbt_core(  # type: ignore[no-untyped-def]
    context: AssetExecutionContext,
    dbt: DbtCliResource,
    warehouse: WarehouseResource,
    config: DbtBuildConfig,
):
    yield from _build(context, dbt, warehouse, config)


@_on("dbt_scored", select=READS_SCORES, exclude=SEGMENTS)
def dbt_scored(  # type: ignore[no-untyped-def]
    context: AssetExecutionContext,
    dbt: DbtCliResource,
    warehouse: WarehouseResource,
    config: DbtBuildConfig,
):
    yield from _build(context, dbt, warehouse, config)


@_on("dbt_segments", select=SEGMENTS)
def dbt_segments(  # type: ignore[no-untyped-def]
    context: AssetExecutionContext,
    dbt: DbtCliResource,
    warehouse: WarehouseResource,
    config: DbtBuildConfig,
):
    yield from _build(context, dbt, warehouse, config)
