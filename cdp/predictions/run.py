"""The scoring step: train on past windows, evaluate on a later one, refit, score.

For each model with horizon H and as-of date T (int_prediction_windows):
fit on features as of T-2H labelled on (T-2H, T-H], evaluate on features as
of T-H labelled on (T-H, T] against a naive baseline, then refit on that
latest labelled window and score every customer as of T. The next-product
recommendations are SQL (int_prediction_recommendations); their holdout
evaluation is copied into the same evaluations table.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date

import numpy as np
import pandas as pd

from cdp.config import Settings
from cdp.predictions import features as f
from cdp.predictions import metrics, models, tables
from cdp.predictions.errors import ScoringError
from cdp.predictions.metrics import Evaluation
from cdp.predictions.store import PredictionStore, open_store

CHURN_MODEL = "churn_90d"
CLV_MODEL = "clv_365d"
MIN_TRAINING_ROWS = 20

Progress = Callable[[str], None]


@dataclass
class ScoringResult:
    """What one scoring run wrote."""

    as_of_date: date
    customers_scored: int
    evaluations: list[Evaluation] = field(default_factory=list)

    def render(self) -> str:
        lines = [f"scored {self.customers_scored:,} customers as of {self.as_of_date}"]
        lines += [f"  {evaluation.describe()}" for evaluation in self.evaluations]
        return "\n".join(lines)


@dataclass(frozen=True)
class _Fitted:
    """A model's holdout evaluation and its scores as of T."""

    evaluations: list[Evaluation]
    calibration: pd.DataFrame
    scores: pd.Series  # indexed by customer_id


def _labelled(rows: pd.DataFrame, label: str, what: str) -> pd.DataFrame:
    labelled = rows[rows[label].notna()]
    if len(labelled) < MIN_TRAINING_ROWS:
        raise ScoringError(
            f"{what}: only {len(labelled)} labelled rows (need {MIN_TRAINING_ROWS}); "
            "the data does not cover the training window"
        )
    return labelled


def _two_classes(labels: np.ndarray, what: str) -> None:
    if len(np.unique(labels)) < 2:
        raise ScoringError(f"{what}: every row has the same label, nothing to learn")


def _calibration_rows(
    model_name: str, predictor: str, actual: np.ndarray, predicted: np.ndarray, cutoff: date
) -> pd.DataFrame:
    table = metrics.calibration_table(actual, predicted)
    table.insert(0, "predictor", predictor)
    table.insert(0, "model_name", model_name)
    table["holdout_cutoff_date"] = cutoff
    return table


def _churn(features: pd.DataFrame, windows: dict[tuple[str, str], f.Window]) -> _Fitted:
    """Churn = no purchase in the 90 days after the cutoff, among customers who bought before."""
    train_w = f.window(windows, CHURN_MODEL, "train")
    holdout_w = f.window(windows, CHURN_MODEL, "evaluate")
    score_w = f.window(windows, CHURN_MODEL, "score")

    def population(cutoff: date) -> pd.DataFrame:
        rows = f.rows_at(features, cutoff)
        return rows[rows["has_purchased"]].reset_index(drop=True)

    train = _labelled(population(train_w.cutoff_date), "purchases_next_90d", "churn training")
    holdout = _labelled(population(holdout_w.cutoff_date), "purchases_next_90d", "churn holdout")
    y_train = (train["purchases_next_90d"] == 0).to_numpy(dtype=int)
    y_holdout = (holdout["purchases_next_90d"] == 0).to_numpy(dtype=int)
    _two_classes(y_train, "churn training")
    _two_classes(y_holdout, "churn holdout")

    model = models.churn_classifier().fit(f.design_matrix(train), y_train)
    baseline = models.recency_only_classifier().fit(f.recency_matrix(train), y_train)
    p_model = model.predict_proba(f.design_matrix(holdout))[:, 1]
    p_recency = baseline.predict_proba(f.recency_matrix(holdout))[:, 1]
    p_base_rate = np.full(len(holdout), y_train.mean())

    def evaluation(
        metric: str, baseline_name: str, value: float, base: float, **kw: bool
    ) -> Evaluation:
        return Evaluation(
            model_name=CHURN_MODEL,
            metric_name=metric,
            baseline_name=baseline_name,
            model_value=value,
            baseline_value=base,
            is_higher_better=kw.get("higher", False),
            is_primary_metric=kw.get("primary", False),
            train_cutoff_date=train_w.cutoff_date,
            holdout_cutoff_date=holdout_w.cutoff_date,
            holdout_label_end_date=holdout_w.label_end_date or holdout_w.cutoff_date,
            holdout_rows=len(holdout),
        )

    evaluations = [
        evaluation(
            "auc",
            "recency_only",
            metrics.auc(y_holdout, p_model),
            metrics.auc(y_holdout, p_recency),
            higher=True,
            primary=True,
        ),
        evaluation(
            "brier_score",
            "recency_only",
            metrics.brier(y_holdout, p_model),
            metrics.brier(y_holdout, p_recency),
        ),
        evaluation(
            "brier_score",
            "base_rate",
            metrics.brier(y_holdout, p_model),
            metrics.brier(y_holdout, p_base_rate),
        ),
        evaluation(
            "expected_calibration_error",
            "recency_only",
            metrics.expected_calibration_error(y_holdout, p_model),
            metrics.expected_calibration_error(y_holdout, p_recency),
        ),
    ]
    calibration = pd.concat(
        [
            _calibration_rows(CHURN_MODEL, "model", y_holdout, p_model, holdout_w.cutoff_date),
            _calibration_rows(
                CHURN_MODEL, "recency_only", y_holdout, p_recency, holdout_w.cutoff_date
            ),
        ]
    )

    # Refit on the latest labelled window and score everyone who bought by T.
    refit = models.churn_classifier().fit(f.design_matrix(holdout), y_holdout)
    scored = population(score_w.cutoff_date)
    scores = pd.Series(
        refit.predict_proba(f.design_matrix(scored))[:, 1] if len(scored) else [],
        index=scored["customer_id"],
        dtype=float,
    )
    return _Fitted(evaluations, calibration, scores)


def _clv(features: pd.DataFrame, windows: dict[tuple[str, str], f.Window]) -> _Fitted:
    """12-month CLV = net revenue in the 365 days after the cutoff, for every known customer."""
    train_w = f.window(windows, CLV_MODEL, "train")
    holdout_w = f.window(windows, CLV_MODEL, "evaluate")
    score_w = f.window(windows, CLV_MODEL, "score")
    label = "revenue_next_365d"
    train = _labelled(f.rows_at(features, train_w.cutoff_date), label, "CLV training")
    holdout = _labelled(f.rows_at(features, holdout_w.cutoff_date), label, "CLV holdout")
    y_train = train[label].to_numpy(dtype=float)
    y_holdout = holdout[label].to_numpy(dtype=float)
    if y_train.sum() <= 0:
        raise ScoringError("CLV training: no revenue in the label window, nothing to learn")

    model = models.clv_regressor().fit(f.design_matrix(train), y_train)
    predicted = model.predict(f.design_matrix(holdout))
    naive = holdout["revenue_365d"].to_numpy(dtype=float)

    def evaluation(metric: str, value: float, base: float, **kw: bool) -> Evaluation:
        return Evaluation(
            model_name=CLV_MODEL,
            metric_name=metric,
            baseline_name="last_365d_revenue",
            model_value=value,
            baseline_value=base,
            is_higher_better=kw.get("higher", False),
            is_primary_metric=kw.get("primary", False),
            train_cutoff_date=train_w.cutoff_date,
            holdout_cutoff_date=holdout_w.cutoff_date,
            holdout_label_end_date=holdout_w.label_end_date or holdout_w.cutoff_date,
            holdout_rows=len(holdout),
        )

    evaluations = [
        evaluation(
            "rmse", metrics.rmse(y_holdout, predicted), metrics.rmse(y_holdout, naive), primary=True
        ),
        evaluation("mae", metrics.mae(y_holdout, predicted), metrics.mae(y_holdout, naive)),
        evaluation(
            "top_decile_revenue_share",
            metrics.top_decile_share(y_holdout, predicted),
            metrics.top_decile_share(y_holdout, naive),
            higher=True,
        ),
    ]
    calibration = pd.concat(
        [
            _calibration_rows(CLV_MODEL, "model", y_holdout, predicted, holdout_w.cutoff_date),
            _calibration_rows(
                CLV_MODEL, "last_365d_revenue", y_holdout, naive, holdout_w.cutoff_date
            ),
        ]
    )

    refit = models.clv_regressor().fit(f.design_matrix(holdout), y_holdout)
    scored = f.rows_at(features, score_w.cutoff_date)
    scores = pd.Series(
        refit.predict(f.design_matrix(scored)) if len(scored) else [],
        index=scored["customer_id"],
        dtype=float,
    )
    return _Fitted(evaluations, calibration, scores)


def _recommendation_evaluations(store: PredictionStore) -> list[Evaluation]:
    frame = store.read_relation(f.FEATURES_SCHEMA, f.RECOMMENDATION_EVALUATION_RELATION)
    evaluations = []
    for row in frame.itertuples(index=False):
        if pd.isna(row.model_value) or pd.isna(row.baseline_value):
            raise ScoringError(
                "next-product holdout has no customer who bought a new product: nothing to evaluate"
            )
        evaluations.append(
            Evaluation(
                model_name=str(row.model_name),
                metric_name=str(row.metric_name),
                baseline_name=str(row.baseline_name),
                model_value=float(row.model_value),
                baseline_value=float(row.baseline_value),
                is_higher_better=bool(row.is_higher_better),
                is_primary_metric=True,
                train_cutoff_date=None,
                holdout_cutoff_date=f.as_date(row.holdout_cutoff_date),
                holdout_label_end_date=f.as_date(row.holdout_label_end_date),
                holdout_rows=int(row.holdout_rows),
            )
        )
    return evaluations


def _evaluations_frame(evaluations: list[Evaluation], as_of: date) -> pd.DataFrame:
    rows = [
        {
            "model_name": e.model_name,
            "metric_name": e.metric_name,
            "baseline_name": e.baseline_name,
            "model_value": round(e.model_value, 6),
            "baseline_value": round(e.baseline_value, 6),
            "is_higher_better": e.is_higher_better,
            "beats_baseline": e.beats_baseline,
            "is_primary_metric": e.is_primary_metric,
            "train_cutoff_date": e.train_cutoff_date,
            "holdout_cutoff_date": e.holdout_cutoff_date,
            "holdout_label_end_date": e.holdout_label_end_date,
            "holdout_rows": e.holdout_rows,
            "as_of_date": as_of,
        }
        for e in evaluations
    ]
    return pd.DataFrame(rows, columns=[c.name for c in tables.MODEL_EVALUATIONS_COLUMNS])


def _scores_frame(
    features: pd.DataFrame, as_of: date, churn: pd.Series, clv: pd.Series
) -> pd.DataFrame:
    everyone = f.rows_at(features, as_of)
    frame = pd.DataFrame(
        {
            "customer_id": everyone["customer_id"],
            "as_of_date": as_of,
            "has_purchased": everyone["has_purchased"].astype(bool),
        }
    )
    churn_values = frame["customer_id"].map(churn)
    frame["churn_probability_90d"] = churn_values.round(6).astype(object)
    frame.loc[churn_values.isna(), "churn_probability_90d"] = None
    frame["predicted_clv_365d"] = frame["customer_id"].map(clv).clip(lower=0).round(2)
    return frame


def run_scoring(settings: Settings, progress: Progress | None = None) -> ScoringResult:
    """Fit, evaluate and score the churn and CLV models; write the `predictions` tables.

    Reads intermediate.int_prediction_windows, int_prediction_features and
    int_prediction_recommendation_evaluation (built by `dbt build`), writes
    predictions.customer_scores, predictions.model_evaluations and
    predictions.model_calibration. Raises ScoringError when it cannot.
    """
    say = progress or (lambda _message: None)
    store = open_store(settings)
    try:
        windows = f.parse_windows(store.read_relation(f.FEATURES_SCHEMA, f.WINDOWS_RELATION))
        features = f.normalise(store.read_relation(f.FEATURES_SCHEMA, f.FEATURES_RELATION))
        as_of = f.window(windows, CHURN_MODEL, "score").cutoff_date
        say(f"read {len(features):,} feature rows for {len(windows)} windows (as of {as_of})")

        churn = _churn(features, windows)
        say("churn_90d: trained, evaluated and refitted")
        clv = _clv(features, windows)
        say("clv_365d: trained, evaluated and refitted")
        evaluations = churn.evaluations + clv.evaluations + _recommendation_evaluations(store)

        scores = _scores_frame(features, as_of, churn.scores, clv.scores)
        calibration = pd.concat([churn.calibration, clv.calibration], ignore_index=True)
        for column in ("mean_predicted", "mean_observed"):
            calibration[column] = calibration[column].round(6)
        store.replace_table(
            tables.SCHEMA, tables.CUSTOMER_SCORES, scores, tables.CUSTOMER_SCORES_COLUMNS
        )
        store.replace_table(
            tables.SCHEMA,
            tables.MODEL_EVALUATIONS,
            _evaluations_frame(evaluations, as_of),
            tables.MODEL_EVALUATIONS_COLUMNS,
        )
        store.replace_table(
            tables.SCHEMA, tables.MODEL_CALIBRATION, calibration, tables.MODEL_CALIBRATION_COLUMNS
        )
        say(
            f"wrote {tables.SCHEMA}.{tables.CUSTOMER_SCORES} ({len(scores):,} rows), "
            f"{tables.MODEL_EVALUATIONS} ({len(evaluations)} rows), {tables.MODEL_CALIBRATION}"
        )
    finally:
        store.close()
    return ScoringResult(as_of_date=as_of, customers_scored=len(scores), evaluations=evaluations)
