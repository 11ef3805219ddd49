"""Pairwise metrics counted by group sizes."""

from __future__ import annotations

import pandas as pd

from cdp.identity.evaluate import linkable_recall, pairwise_metrics


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


def test_linkable_recall_ignores_pairs_with_an_unlinkable_record() -> None:
    truth = pd.DataFrame({"record_key": list("abcd"), "person_id": ["p"] * 4})
    # d carries no evidence; c and d hang on one device, e is not in the warehouse
    predicted = pd.DataFrame({"record_key": list("abcd"), "cluster": ["x", "x", "y", "y"]})
    unlinkable = pd.DataFrame({"record_key": ["c", "d"], "island": ["device:1", "device:1"]})
    result = linkable_recall(truth, predicted, unlinkable)
    # linkable pairs: a-b and c-d (same device); both found
    assert result.true_pairs == 2 and result.correct_pairs == 2
    assert result.recall == 1.0 and result.unlinkable_records == 2
    assert pairwise_metrics(truth, predicted).recall == 2 / 6
