"""How dbt nodes become Dagster assets: keys, groups, and look-ups in the manifest.

dbt sources are the ingestion assets (`raw/<table>`), except the `predictions`
source, which is the predictions asset (`predictions/<table>`); groups are the
layer folders. Plain functions of a manifest, importable without one.
"""

from collections.abc import Mapping
from typing import Any

from dagster import AssetKey
from dagster_dbt import DagsterDbtTranslator, DagsterDbtTranslatorSettings

from cdp.build import PREDICTIONS_SOURCE
from orchestration.defs.assets.ingestion import raw_asset_key

PREDICTIONS_GROUP = "predictions"
# The segment models (their GX checks; Dagster builds them after `customers`' checks).
SEGMENTS_PATH = "models/marts/segments/"


def prediction_asset_key(table: str) -> AssetKey:
    return AssetKey([PREDICTIONS_SOURCE, table])


def prediction_tables(manifest: Mapping[str, Any]) -> list[str]:
    """The tables of the dbt source `predictions` (what the scoring step writes)."""
    return sorted(
        source["name"]
        for source in manifest.get("sources", {}).values()
        if source.get("source_name") == PREDICTIONS_SOURCE
    )


class CdpDbtTranslator(DagsterDbtTranslator):
    """dbt sources are the ingestion assets (`raw/<table>`); groups are the layers."""

    def get_asset_key(self, dbt_resource_props: Mapping[str, Any]) -> AssetKey:
        if dbt_resource_props["resource_type"] == "source":
            if dbt_resource_props.get("source_name") == PREDICTIONS_SOURCE:
                return prediction_asset_key(dbt_resource_props["name"])
            return raw_asset_key(dbt_resource_props["name"])
        return super().get_asset_key(dbt_resource_props)

    def get_group_name(self, dbt_resource_props: Mapping[str, Any]) -> str | None:
        resource_type = dbt_resource_props["resource_type"]
        if resource_type == "source":
            if dbt_resource_props.get("source_name") == PREDICTIONS_SOURCE:
                return PREDICTIONS_GROUP
            return "raw"
        if resource_type == "seed":
            return "reference"
        fqn = dbt_resource_props.get("fqn") or []
        # fqn: [project, layer, ..., name]; a model at the top of models/ has no layer.
        return fqn[1] if len(fqn) > 2 else "models"


translator = CdpDbtTranslator(settings=DagsterDbtTranslatorSettings(enable_asset_checks=True))


def segment_models(manifest: Mapping[str, Any]) -> list[Mapping[str, Any]]:
    """The segment models (for their GX checks)."""
    return [
        node
        for node in manifest.get("nodes", {}).values()
        if node.get("resource_type") == "model"
        and str(node.get("original_file_path", "")).startswith(SEGMENTS_PATH)
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
