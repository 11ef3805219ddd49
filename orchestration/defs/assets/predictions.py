"""The scoring step as one asset per table it writes (the dbt source `predictions`).

`cdp.build.score` (the step `cdp build` runs between its dbt phases) reads the
prediction feature models (`cdp.build.SCORING_INPUTS`), fits churn and CLV
models with scikit-learn, and writes `predictions.*`. The dbt translator maps
the `predictions` source to these assets, so the models reading the scores hang
below them in one graph: feature models -> predictions -> stg_predictions__* ->
customer_predictions.
"""

from collections.abc import Iterator
from typing import Any

from dagster import AssetExecutionContext, AssetSpec, MaterializeResult, multi_asset

from cdp.build import SCORING_INPUTS, score
from orchestration.defs.assets import dbt
from orchestration.defs.resources import WarehouseResource
from orchestration.defs.translator import (
    PREDICTIONS_GROUP,
    model_asset_key,
    prediction_asset_key,
    prediction_tables,
)

TABLES = prediction_tables(dbt.dbt_manifest)
_INPUTS = [key for name in SCORING_INPUTS if (key := model_asset_key(dbt.dbt_manifest, name))]


@multi_asset(
    name="predictions",
    specs=[
        AssetSpec(
            prediction_asset_key(table),
            deps=_INPUTS,
            group_name=PREDICTIONS_GROUP,
            kinds={"python", "scikit-learn"},
            description=f"predictions.{table}, written by the scoring step (docs/predictions.md).",
        )
        for table in TABLES
    ],
)
def predictions(
    context: AssetExecutionContext, warehouse: WarehouseResource
) -> Iterator[MaterializeResult]:
    result = score(warehouse.settings(), progress=context.log.info)
    context.log.info(result.render())
    metrics = {f"{e.model_name}.{e.metric_name}": float(e.model_value) for e in result.evaluations}
    for table in TABLES:
        metadata: dict[str, Any] = {"as_of_date": str(result.as_of_date)}
        if table == "customer_scores":
            metadata["customers_scored"] = result.customers_scored
        if table == "model_evaluations":
            metadata.update(metrics)
        yield MaterializeResult(asset_key=prediction_asset_key(table), metadata=metadata)
