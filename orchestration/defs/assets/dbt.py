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
"""

from dagster import AssetExecutionContext
from dagster_dbt import DbtCliResource, dbt_assets

from cdp.build import READS_SCORES, SEGMENTS
from orchestration.defs.project import build_dbt_project, load_manifest
from orchestration.defs.translator import translator

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


def _build(context: AssetExecutionContext, dbt: DbtCliResource):  # type: ignore[no-untyped-def]
    """`dbt build` of the op's selection (dagster-dbt passes it on)."""
    yield from dbt.cli(["build"], context=context).stream()


@_on("dbt_core", exclude=f"{READS_SCORES} {SEGMENTS}")
def dbt_core(context: AssetExecutionContext, dbt: DbtCliResource):  # type: ignore[no-untyped-def]
    yield from _build(context, dbt)


@_on("dbt_scored", select=READS_SCORES, exclude=SEGMENTS)
def dbt_scored(context: AssetExecutionContext, dbt: DbtCliResource):  # type: ignore[no-untyped-def]
    yield from _build(context, dbt)


@_on("dbt_segments", select=SEGMENTS)
def dbt_segments(context: AssetExecutionContext, dbt: DbtCliResource):  # type: ignore[no-untyped-def]
    yield from _build(context, dbt)
