"""The scoring step as one asset per table it writes (the dbt source `predictions`).

`cdp.predictions.run_scoring` (the same code `cdp build` runs between its dbt phases)
reads the prediction feature models, fits churn and CLV models with scikit-learn,
and writes `predictions.*`. The dbt translator maps the `predictions` source to
these assets, so the models reading the scores hang below them in one graph:
feature models -> scoring -> stg_predictions__* -> customer_predictions.
"""

import dataclasses
from collections.abc import Iterator, Mapping
from typing import Any

from dagster import AssetExecutionContext, AssetKey, AssetSpec, MaterializeResult, multi_asset

from orchestration.defs.project import settings
from orchestration.defs.resources import WarehouseResource

SOURCE_NAME = "predictions"
GROUP = "predictions"
# The models run_scoring reads (cdp/predictions/features.py).
FEATURE_MODELS = (
    "int_prediction_windows",
    "int_prediction_features",
    "int_prediction_recommendation_evaluation",
)


def prediction_asset_key(table: str) -> AssetKey:
    return AssetKey([SOURCE_NAME, table])


def prediction_tables(manifest: Mapping[str, Any]) -> list[str]:
    return sorted(
        source["name"]
        for source in manifest.get("sources", {}).values()
        if source.get("source_name") == SOURCE_NAME
    )


def build_scoring_assets(manifest: Mapping[str, Any]) -> list:
    from orchestration.defs.assets.dbt import model_asset_key

    tables = prediction_tables(manifest)
    if not tables:
        return []
    deps = [key for name in FEATURE_MODELS if (key := model_asset_key(manifest, name))]

    @multi_asset(
        name="scoring",
        specs=[
            AssetSpec(
                prediction_asset_key(table),
                deps=deps,
                group_name=GROUP,
                kinds={"python", "scikit-learn"},
                description=f"predictions.{table}, written by the scoring step "
                "(docs/predictions.md).",
            )
            for table in tables
        ],
    )
    def scoring(
        context: AssetExecutionContext, warehouse: WarehouseResource
    ) -> Iterator[MaterializeResult]:
        from cdp.predictions import run_scoring

        result = run_scoring(
            dataclasses.replace(settings(), warehouse_path=warehouse.path),
            progress=context.log.info,
        )
        context.log.info(result.render())
        metrics = {
            f"{e.model_name}.{e.metric_name}": float(e.model_value) for e in result.evaluations
        }
        for table in tables:
            metadata: dict[str, Any] = {"as_of_date": str(result.as_of_date)}
            if table == "customer_scores":
                metadata["customers_scored"] = result.customers_scored
            if table == "model_evaluations":
                metadata.update(metrics)
            yield MaterializeResult(asset_key=prediction_asset_key(table), metadata=metadata)

    return [scoring]
