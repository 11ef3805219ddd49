"""The scoring step on generated data: every customer scored, valid values, honest
evaluation rows, recommendations that exclude what was bought, reproducible reruns."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pandas as pd
import pytest

from cdp.config import Settings
from cdp.predictions import run_scoring
from tests.predictions.conftest import Warehouse

pytestmark = pytest.mark.slow

SCORES = "select * from predictions.customer_scores order by customer_id"


def test_every_customer_is_scored_once(scored_warehouse: Warehouse) -> None:
    customers = scored_warehouse.query("select customer_id from marts.customers")
    scores = scored_warehouse.query(SCORES)
    assert scores["customer_id"].is_unique
    assert set(scores["customer_id"]) == set(customers["customer_id"])
    predictions = scored_warehouse.query("select * from marts.customer_predictions")
    assert len(predictions) == len(customers)
    assert predictions["predicted_clv_365d"].notna().all()


def test_scores_are_valid(scored_warehouse: Warehouse) -> None:
    scores = scored_warehouse.query(SCORES)
    buyers = scores[scores["has_purchased"]]
    assert len(buyers) > 0
    assert buyers["churn_probability_90d"].between(0, 1).all()
    # Churn is defined among customers who bought before: null for the others.
    assert scores.loc[~scores["has_purchased"], "churn_probability_90d"].isna().all()
    assert (scores["predicted_clv_365d"] >= 0).all()
    # Scores vary between customers (the models learned something).
    assert buyers["churn_probability_90d"].nunique() > 10
    assert scores["predicted_clv_365d"].nunique() > 10


def test_churn_probability_follows_recency(scored_warehouse: Warehouse) -> None:
    frame = scored_warehouse.query(
        "select m.days_since_last_purchase, s.churn_probability_90d "
        "from predictions.customer_scores as s "
        "inner join marts.customer_measures as m on s.customer_id = m.customer_id "
        "where s.has_purchased"
    )
    recent = frame[frame["days_since_last_purchase"] <= 30]["churn_probability_90d"].mean()
    lapsed = frame[frame["days_since_last_purchase"] > 365]["churn_probability_90d"].mean()
    assert recent < lapsed


def test_evaluations_present_and_each_model_beats_its_baseline(
    scored_warehouse: Warehouse,
) -> None:
    evaluations = scored_warehouse.query("select * from predictions.model_evaluations")
    keys = set(zip(evaluations["model_name"], evaluations["metric_name"], strict=True))
    assert {
        ("churn_90d", "auc"),
        ("churn_90d", "brier_score"),
        ("churn_90d", "expected_calibration_error"),
        ("clv_365d", "rmse"),
        ("clv_365d", "mae"),
        ("next_product_top5", "hit_rate_at_5"),
    } <= keys
    assert (evaluations["holdout_rows"] > 0).all()
    assert evaluations[["model_value", "baseline_value"]].notna().all().all()
    primary = evaluations[evaluations["is_primary_metric"]]
    assert sorted(primary["model_name"]) == ["churn_90d", "clv_365d", "next_product_top5"]
    assert primary["beats_baseline"].all(), primary.to_string()
    # beats_baseline is computed, not asserted: it agrees with the values.
    for row in evaluations.itertuples():
        better = (
            row.model_value > row.baseline_value
            if row.is_higher_better
            else row.model_value < row.baseline_value
        )
        assert row.beats_baseline == better
    churn_auc = evaluations.query("model_name == 'churn_90d' and metric_name == 'auc'")
    assert churn_auc["model_value"].iloc[0] > 0.6
    calibration = scored_warehouse.query(
        "select * from predictions.model_calibration where predictor = 'model'"
    )
    assert sorted(calibration["model_name"].unique()) == ["churn_90d", "clv_365d"]
    assert calibration.groupby("model_name")["decile"].nunique().eq(10).all()


def test_holdout_windows_follow_the_horizons(scored_warehouse: Warehouse) -> None:
    evaluations = scored_warehouse.query(
        "select distinct model_name, train_cutoff_date, holdout_cutoff_date, "
        "holdout_label_end_date from predictions.model_evaluations"
    ).set_index("model_name")
    churn = evaluations.loc["churn_90d"]
    assert str(churn["train_cutoff_date"].date()) == "2026-01-01"
    assert str(churn["holdout_cutoff_date"].date()) == "2026-04-01"
    assert str(churn["holdout_label_end_date"].date()) == "2026-06-30"
    clv = evaluations.loc["clv_365d"]
    assert str(clv["train_cutoff_date"].date()) == "2024-06-30"
    assert str(clv["holdout_cutoff_date"].date()) == "2025-06-30"


def test_recommendations_exclude_already_bought_products(scored_warehouse: Warehouse) -> None:
    recommendations = scored_warehouse.query("select * from marts.customer_product_recommendations")
    customers = scored_warehouse.query("select customer_id from marts.customers")
    assert set(recommendations["customer_id"]) == set(customers["customer_id"])
    assert recommendations.groupby("customer_id").size().eq(5).all()
    # Recomputed from the staging order and receipt lines, not from the model's own input.
    bought = scored_warehouse.query(
        """
        select a.customer_id, l.product_id
        from marts.customer_activities as a
        inner join staging.stg_shop__orders as o
            on a.activity_id = cast(o.order_id as varchar)
        inner join staging.stg_shop__order_lines as l
            on o.order_id = l.order_id
        where a.activity_type = 'online_order' and o.status != 'cancelled'
        union
        select a.customer_id, l.product_id
        from marts.customer_activities as a
        inner join staging.stg_pos__store_transaction_lines as l
            on a.activity_id = l.store_transaction_id
        where a.activity_type = 'store_purchase'
        """
    )
    assert len(bought) > 0
    overlap = recommendations.merge(bought, on=["customer_id", "product_id"])
    assert overlap.empty, overlap.head().to_string()


def test_rerun_gives_identical_scores(scored_warehouse: Warehouse, tmp_path: Path) -> None:
    before = scored_warehouse.query(SCORES)
    evaluations_sql = (
        "select * from predictions.model_evaluations "
        "order by model_name, metric_name, baseline_name"
    )
    evaluations_before = scored_warehouse.query(evaluations_sql)
    copy = tmp_path / "cdp.duckdb"
    shutil.copy(scored_warehouse.path, copy)
    settings = Settings(
        home=Path(scored_warehouse.env["CDP_HOME"]), data_dir=tmp_path, warehouse_path=copy
    )
    result = run_scoring(settings)
    assert result.customers_scored == len(before)
    rerun = Warehouse(copy, scored_warehouse.env, "")
    pd.testing.assert_frame_equal(rerun.query(SCORES), before)
    pd.testing.assert_frame_equal(rerun.query(evaluations_sql), evaluations_before)


def test_build_prints_phases_and_merges_run_results(scored_warehouse: Warehouse) -> None:
    output = scored_warehouse.build_output
    for phase in ("phase 1/3", "phase 2/3", "phase 3/3"):
        assert phase in output
    assert "churn_90d auc" in output
    results = json.loads(
        (Path(scored_warehouse.env["DBT_TARGET_PATH"]) / "run_results.json").read_text()
    )
    nodes = {node["unique_id"] for node in results["results"]}
    # One file for the whole build: phase 1 (measures) and phase 3 (customer_predictions).
    assert "model.cdp.customer_measures" in nodes
    assert "model.cdp.customer_predictions" in nodes
