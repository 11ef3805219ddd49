"""The scikit-learn models: churn (logistic regression) and 12-month CLV (Poisson GLM).

Both are generalised linear models on log1p-transformed, standardised
features: deterministic (lbfgs has no randomness, rows come sorted), quick on
millions of rows, and readable through their coefficients. On the sample
data they score as well as gradient boosting (docs/predictions.md).
"""

from __future__ import annotations

import numpy as np
from sklearn.linear_model import LogisticRegression, PoissonRegressor
from sklearn.pipeline import Pipeline, make_pipeline
from sklearn.preprocessing import FunctionTransformer, StandardScaler

MAX_ITER = 5_000


def log1p_nonnegative(values: np.ndarray) -> np.ndarray:
    """log(1 + x) of counts, amounts and days, negatives treated as 0."""
    return np.log1p(np.clip(values, 0, None))


def _inputs() -> list[object]:
    return [FunctionTransformer(log1p_nonnegative), StandardScaler()]


def churn_classifier() -> Pipeline:
    """P(no purchase in the horizon) from the features of features.FEATURE_NAMES."""
    return make_pipeline(*_inputs(), LogisticRegression(C=1.0, max_iter=MAX_ITER))


def recency_only_classifier() -> Pipeline:
    """The churn baseline: the same logistic regression on days since the last purchase."""
    return make_pipeline(*_inputs(), LogisticRegression(C=1.0, max_iter=MAX_ITER))


def clv_regressor() -> Pipeline:
    """Expected revenue in the horizon; the log link keeps predictions positive."""
    return make_pipeline(*_inputs(), PoissonRegressor(alpha=0.1, max_iter=MAX_ITER))
