"""Predictive scores: churn probability and 12-month CLV (scikit-learn), with their
holdout evaluation and that of the SQL next-product recommendations.

`run_scoring(settings)` reads the feature tables dbt built
(intermediate.int_prediction_*), writes predictions.customer_scores,
predictions.model_evaluations and predictions.model_calibration, and returns
a `ScoringResult`. Design and measured figures: docs/predictions.md.
"""

from cdp.predictions.errors import ScoringError
from cdp.predictions.run import ScoringResult, run_scoring

__all__ = ["ScoringError", "ScoringResult", "run_scoring"]
