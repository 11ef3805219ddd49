"""Holdout metrics and the evaluation rows they become."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

import numpy as np
import pandas as pd
from sklearn.metrics import brier_score_loss, mean_absolute_error, mean_squared_error, roc_auc_score

DECILES = 10


@dataclass(frozen=True)
class Evaluation:
    """One metric of a model on its holdout window, beside a naive baseline's."""

    model_name: str
    metric_name: str
    baseline_name: str
    model_value: float
    baseline_value: float
    is_higher_better: bool
    is_primary_metric: bool
    train_cutoff_date: date | None
    holdout_cutoff_date: date
    holdout_label_end_date: date
    holdout_rows: int

    @property
    def beats_baseline(self) -> bool:
        if self.is_higher_better:
            return self.model_value > self.baseline_value
        return self.model_value < self.baseline_value

    def describe(self) -> str:
        verdict = "beats" if self.beats_baseline else "does NOT beat"
        return (
            f"{self.model_name} {self.metric_name} {self.model_value:.4f} {verdict} "
            f"{self.baseline_name} {self.baseline_value:.4f} ({self.holdout_rows:,} rows)"
        )


def auc(actual: np.ndarray, predicted: np.ndarray) -> float:
    return float(roc_auc_score(actual, predicted))


def brier(actual: np.ndarray, predicted: np.ndarray) -> float:
    return float(brier_score_loss(actual, predicted))


def mae(actual: np.ndarray, predicted: np.ndarray) -> float:
    return float(mean_absolute_error(actual, predicted))


def rmse(actual: np.ndarray, predicted: np.ndarray) -> float:
    return float(np.sqrt(mean_squared_error(actual, predicted)))


def deciles(predicted: np.ndarray) -> np.ndarray:
    """Decile 1 (lowest predictions) to 10 (highest), equal counts, ties by position."""
    order = np.argsort(predicted, kind="mergesort")
    ranks = np.empty(len(predicted), dtype=int)
    ranks[order] = np.arange(len(predicted))
    return ranks * DECILES // max(len(predicted), 1) + 1


def calibration_table(actual: np.ndarray, predicted: np.ndarray) -> pd.DataFrame:
    """Per decile of the prediction: rows, mean predicted, mean observed."""
    frame = pd.DataFrame({"decile": deciles(predicted), "p": predicted, "y": actual})
    grouped = frame.groupby("decile", sort=True)
    return pd.DataFrame(
        {
            "decile": grouped.size().index.astype(int),
            "rows": grouped.size().to_numpy(dtype=int),
            "mean_predicted": grouped["p"].mean().to_numpy(),
            "mean_observed": grouped["y"].mean().to_numpy(),
        }
    )


def expected_calibration_error(actual: np.ndarray, predicted: np.ndarray) -> float:
    """Row-weighted mean gap between predicted and observed rates over deciles."""
    table = calibration_table(actual, predicted)
    gaps = (table["mean_predicted"] - table["mean_observed"]).abs()
    return float((gaps * table["rows"]).sum() / table["rows"].sum())


def top_decile_share(actual: np.ndarray, predicted: np.ndarray) -> float:
    """Share of the actual total that the tenth of rows with the highest predictions hold."""
    total = float(actual.sum())
    if total <= 0:
        return 0.0
    return float(actual[deciles(predicted) == DECILES].sum() / total)
