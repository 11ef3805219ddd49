"""Pairwise metrics counted by group sizes."""

from __future__ import annotations

import pandas as pd

from cdp.identity.evaluate import pairwise_metrics


def test_pairwise_metrics_by_hand() -> None:
    truth = pd.DataFrame({"record_key": list("abcde"), "person_id": ["p1", "p1", "p1", "p2", "p2"]})
    # a+b together, c alone, d+e together with c? no: c, d, e in one cluster
    predicted = pd.DataFrame({"record_key": list("abcde"), "cluster": ["x", "x", "y", "y", "y"]})
    metrics = pairwise_metrics(truth, predicted)
    assert metrics.true_pairs == 3 + 1
    assert metrics.predicted_pairs == 1 + 3
    assert metrics.correct_pairs == 1 + 1
    assert metrics.precision == 0.5 and metrics.recall == 0.5


def test_unknown_records_are_singletons() -> None:
    truth = pd.DataFrame({"record_key": ["a", "b"], "person_id": ["p", "p"]})
    predicted = pd.DataFrame({"record_key": ["a"], "cluster": ["x"]})
    metrics = pairwise_metrics(truth, predicted)
    assert metrics.recall == 0.0 and metrics.precision == 1.0
