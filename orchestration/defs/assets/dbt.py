"""Every dbt node as an asset (dagster-dbt), read from the manifest, tests as asset checks.

Up to three ops: `dbt_core` (staging, intermediate, identity marts, features, ...);
`dbt_scored`, the models reading the scoring step's `predictions` source, which
run after the scoring asset (orchestration/defs/assets/scoring.py); and, once
segment models exist under GATED_PATH, `dbt_segments`, so that nothing built from
the golden table runs before its blocking checks passed. New models appear by
themselves (re-run `python -m orchestration.prepare`).
"""

import json
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from dagster import AssetExecutionContext, AssetKey
from dagster_dbt import (
    DagsterDbtTranslator,
    DagsterDbtTranslatorSettings,
    DbtCliResource,
    DbtProject,
    dbt_assets,
)

from orchestration.defs.assets.ingestion import raw_asset_key
from orchestration.defs.assets.scoring import GROUP as SCORING_GROUP
from orchestration.defs.assets.scoring import SOURCE_NAME as SCORING_SOURCE
from orchestration.defs.assets.scoring import prediction_asset_key, prediction_tables
from orchestration.defs.project import manifest_path

# Models built from the golden table that must wait for its blocking checks: the
# segments and everything downstream of them (memberships, history), so that the
# core op is wholly upstream of the gated one and runs as one dbt build.
GATED_PATH = "models/marts/segments/"
GATED_SELECT = "path:models/marts/segments+"
# Models built from the scores the scoring step writes (dbt source `predictions`).
SCORED_SELECT = f"source:{SCORING_SOURCE}+"


class CdpDbtTranslator(DagsterDbtTranslator):
    """dbt sources are the ingestion assets (`raw/<table>`); groups are the layers."""

    def get_asset_key(self, dbt_resource_props: Mapping[str, Any]) -> AssetKey:
        if dbt_resource_props["resource_type"] == "source":
            if dbt_resource_props.get("source_name") == SCORING_SOURCE:
                return prediction_asset_key(dbt_resource_props["name"])
            return raw_asset_key(dbt_resource_props["name"])
        return super().get_asset_key(dbt_resource_props)

    def get_group_name(self, dbt_resource_props: Mapping[str, Any]) -> str | None:
        resource_type = dbt_resource_props["resource_type"]
        if resource_type == "source":
            if dbt_resource_props.get("source_name") == SCORING_SOURCE:
                return SCORING_GROUP
            return "raw"
        if resource_type == "seed":
            return "reference"
        fqn = dbt_resource_props.get("fqn") or []
        # fqn: [project, layer, ..., name]; a model at the top of models/ has no layer.
        return fqn[1] if len(fqn) > 2 else "models"


translator = CdpDbtTranslator(settings=DagsterDbtTranslatorSettings(enable_asset_checks=True))


def load_manifest(project: DbtProject) -> dict[str, Any]:
    return json.loads(Path(manifest_path(project)).read_text(encoding="utf-8"))


def has_gated_models(manifest: Mapping[str, Any]) -> bool:
    return any(
        node.get("resource_type") == "model"
        and str(node.get("original_file_path", "")).startswith(GATED_PATH)
        for node in manifest.get("nodes", {}).values()
    )


def _build(context: AssetExecutionContext, dbt: DbtCliResource):  # type: ignore[no-untyped-def]
    yield from dbt.cli(["build"], context=context).stream()


def build_dbt_assets(manifest: dict[str, Any], project: DbtProject) -> list:
    gated = has_gated_models(manifest)
    scored = bool(prediction_tables(manifest))
    later = [s for s, present in ((GATED_SELECT, gated), (SCORED_SELECT, scored)) if present]

    @dbt_assets(
        manifest=manifest,
        project=project,
        dagster_dbt_translator=translator,
        name="dbt_core",
        exclude=" ".join(later) or None,
    )
    def dbt_core(context: AssetExecutionContext, dbt: DbtCliResource):  # type: ignore[no-untyped-def]
        yield from _build(context, dbt)

    ops = [dbt_core]
    if scored:

        @dbt_assets(
            manifest=manifest,
            project=project,
            dagster_dbt_translator=translator,
            name="dbt_scored",
            select=SCORED_SELECT,
            exclude=GATED_SELECT if gated else None,
        )
        def dbt_scored(context: AssetExecutionContext, dbt: DbtCliResource):  # type: ignore[no-untyped-def]
            yield from _build(context, dbt)

        ops.append(dbt_scored)
    if not gated:
        return ops

    @dbt_assets(
        manifest=manifest,
        project=project,
        dagster_dbt_translator=translator,
        name="dbt_segments",
        select=GATED_SELECT,
    )
    def dbt_segments(context: AssetExecutionContext, dbt: DbtCliResource):  # type: ignore[no-untyped-def]
        yield from _build(context, dbt)

    return [*ops, dbt_segments]


def segment_models(manifest: Mapping[str, Any]) -> list[Mapping[str, Any]]:
    """The segment models (for their GX checks)."""
    return [
        node
        for node in manifest.get("nodes", {}).values()
        if node.get("resource_type") == "model"
        and str(node.get("original_file_path", "")).startswith(GATED_PATH)
    ]


def model_asset_key(manifest: Mapping[str, Any], name: str) -> AssetKey | None:
    """The asset key of the model called `name`, or None if there is no such model."""
    for node in manifest.get("nodes", {}).values():
        if node.get("resource_type") == "model" and node.get("name") == name:
            return translator.get_asset_key(node)
    return None


def model_relation(manifest: Mapping[str, Any], name: str) -> tuple[str, str] | None:
    """(schema, table) of the model called `name` in the warehouse."""
    for node in manifest.get("nodes", {}).values():
        if node.get("resource_type") == "model" and node.get("name") == name:
            return str(node["schema"]), str(node.get("alias") or node["name"])
    return None
