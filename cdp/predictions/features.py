"""Feature rows from dbt (intermediate.int_prediction_features) turned into model inputs.

Only windowed features are used (last 30/90/365 days, recency capped at 366
days): the sample history starts three years before the as-of date, so
lifetime totals and tenure would mean something different at each cutoff
and the model would learn the length of the history, not the customer.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

import numpy as np
import pandas as pd

from cdp.predictions.errors import ScoringError

FEATURES_SCHEMA = "intermediate"
FEATURES_RELATION = "int_prediction_features"
WINDOWS_RELATION = "int_prediction_windows"
RECOMMENDATION_EVALUATION_RELATION = "int_prediction_recommendation_evaluation"

RECENCY_CAP_DAYS = 366

COUNT_COLUMNS = (
    "purchases_30d",
    "purchases_90d",
    "purchases_365d",
    "revenue_90d",
    "revenue_365d",
    "email_opens_90d",
    "email_clicks_90d",
    "web_events_30d",
    "web_events_90d",
    "support_tickets_365d",
)
FEATURE_NAMES = (
    "days_since_last_purchase",
    *COUNT_COLUMNS,
    "average_order_value_365d",
    "online_purchase_share",
    "is_email_unsubscribed",
)


@dataclass(frozen=True)
class Window:
    """A model's window of one role (train, evaluate, score), from int_prediction_windows."""

    model_name: str
    role: str
    horizon_days: int
    cutoff_date: date
    label_end_date: date | None


def as_date(value: object) -> date:
    return pd.Timestamp(value).date()  # type: ignore[arg-type]


def parse_windows(frame: pd.DataFrame) -> dict[tuple[str, str], Window]:
    """Windows keyed by (model_name, role)."""
    windows = {}
    for row in frame.itertuples(index=False):
        label_end = None if pd.isna(row.label_end_date) else as_date(row.label_end_date)
        window = Window(
            model_name=str(row.model_name),
            role=str(row.window_role),
            horizon_days=int(row.horizon_days),
            cutoff_date=as_date(row.cutoff_date),
            label_end_date=label_end,
        )
        windows[(window.model_name, window.role)] = window
    return windows


def window(windows: dict[tuple[str, str], Window], model_name: str, role: str) -> Window:
    try:
        return windows[(model_name, role)]
    except KeyError:
        raise ScoringError(
            f"int_prediction_windows has no {role} window for {model_name}: rebuild the dbt project"
        ) from None


def normalise(frame: pd.DataFrame) -> pd.DataFrame:
    """Feature rows with plain types whatever the engine returned, in a stable order.

    Engines return decimals as Decimal or float and dates as date or datetime;
    sorting by cutoff and customer makes the fit independent of row order.
    """
    out = frame.copy()
    out["cutoff_date"] = [as_date(v) for v in out["cutoff_date"]]
    out["customer_id"] = out["customer_id"].astype(str)
    numeric = [c for c in out.columns if c not in ("cutoff_date", "customer_id")]
    for column in numeric:
        out[column] = pd.to_numeric(out[column], errors="coerce").astype(float)
    out["has_purchased"] = out["has_purchased"] > 0
    return out.sort_values(["cutoff_date", "customer_id"], kind="mergesort").reset_index(drop=True)


def rows_at(features: pd.DataFrame, cutoff: date) -> pd.DataFrame:
    return features[features["cutoff_date"] == cutoff].reset_index(drop=True)


def design_matrix(rows: pd.DataFrame) -> np.ndarray:
    """The model inputs of FEATURE_NAMES, as floats, no missing values."""
    recency = rows["days_since_last_purchase"].fillna(RECENCY_CAP_DAYS).clip(upper=RECENCY_CAP_DAYS)
    purchases = rows["purchases_365d"]
    aov = np.where(purchases > 0, rows["revenue_365d"] / purchases.clip(lower=1), 0.0)
    columns = [
        recency.to_numpy(),
        *(rows[c].fillna(0).to_numpy() for c in COUNT_COLUMNS),
        aov,
        rows["online_purchase_share"].fillna(0).to_numpy(),
        rows["is_email_unsubscribed"].fillna(0).to_numpy(),
    ]
    return np.column_stack(columns).astype(float)


def recency_matrix(rows: pd.DataFrame) -> np.ndarray:
    """Days since the last purchase alone: the input of the recency-only churn baseline."""
    recency = rows["days_since_last_purchase"].fillna(RECENCY_CAP_DAYS).clip(upper=RECENCY_CAP_DAYS)
    return recency.to_numpy(dtype=float).reshape(-1, 1)
