"""The tables the scoring step writes, declared as the dbt source `predictions`
(dbt_project/models/staging/predictions/_predictions__sources.yml)."""

from __future__ import annotations

from cdp.predictions.store import Column

SCHEMA = "predictions"

CUSTOMER_SCORES = "customer_scores"
CUSTOMER_SCORES_COLUMNS = (
    Column("customer_id", "varchar", "The customer (every row of marts.customers)."),
    Column("as_of_date", "date", "The date the scores are computed as of."),
    Column("has_purchased", "boolean", "The customer bought at least once by the as-of date."),
    Column(
        "churn_probability_90d",
        "double",
        "Probability of no purchase in the 90 days after the as-of date; null without purchases.",
    ),
    Column(
        "predicted_clv_365d",
        "double",
        "Expected net revenue in the 365 days after the as-of date, reporting currency.",
    ),
)

MODEL_EVALUATIONS = "model_evaluations"
MODEL_EVALUATIONS_COLUMNS = (
    Column("model_name", "varchar", "churn_90d, clv_365d or next_product_top5."),
    Column("metric_name", "varchar", "The holdout metric."),
    Column("baseline_name", "varchar", "The naive baseline the model is compared with."),
    Column("model_value", "double", "The model's metric on the holdout window."),
    Column("baseline_value", "double", "The baseline's metric on the same rows."),
    Column("is_higher_better", "boolean", "Whether a higher value of the metric is better."),
    Column("beats_baseline", "boolean", "The model is better than the baseline on this metric."),
    Column("is_primary_metric", "boolean", "The metric the model is judged by."),
    Column("train_cutoff_date", "date", "Feature date of the training rows (null: none)."),
    Column("holdout_cutoff_date", "date", "Feature date of the holdout rows."),
    Column("holdout_label_end_date", "date", "Last day of the holdout label window."),
    Column("holdout_rows", "bigint", "Rows (customers) evaluated."),
    Column("as_of_date", "date", "The as-of date of the build."),
)

MODEL_CALIBRATION = "model_calibration"
MODEL_CALIBRATION_COLUMNS = (
    Column("model_name", "varchar", "churn_90d or clv_365d."),
    Column("predictor", "varchar", "model, or the name of the baseline."),
    Column("decile", "integer", "Decile of the prediction on the holdout (10 = highest)."),
    Column("rows", "bigint", "Holdout rows in the decile."),
    Column("mean_predicted", "double", "Mean prediction in the decile."),
    Column("mean_observed", "double", "Mean observed label in the decile."),
    Column("holdout_cutoff_date", "date", "Feature date of the holdout rows."),
)
