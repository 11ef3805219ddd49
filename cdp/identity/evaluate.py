"""Pairwise precision, recall and F1 of predicted clusters against a ground truth.

A pair of records is a true link when the same person is behind both, a
predicted link when both records are in the same cluster. Pairs are counted
per cluster and per (cluster, person) intersection, never enumerated, so a
million records cost a group-by.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import pandas as pd


@dataclass(frozen=True)
class PairwiseMetrics:
    """Pair counts and the scores derived from them."""

    records: int
    true_pairs: int
    predicted_pairs: int
    correct_pairs: int

    @property
    def precision(self) -> float:
        return self.correct_pairs / self.predicted_pairs if self.predicted_pairs else 1.0

    @property
    def recall(self) -> float:
        return self.correct_pairs / self.true_pairs if self.true_pairs else 1.0

    @property
    def f1(self) -> float:
        p, r = self.precision, self.recall
        return 2 * p * r / (p + r) if p + r else 0.0

    def render(self) -> str:
        return (
            f"records {self.records:,}  true pairs {self.true_pairs:,}  "
            f"predicted pairs {self.predicted_pairs:,}  correct {self.correct_pairs:,}\n"
            f"precision {self.precision:.4f}  recall {self.recall:.4f}  F1 {self.f1:.4f}"
        )


def _pairs(sizes: pd.Series) -> int:
    sizes = sizes.astype("int64")
    return int((sizes * (sizes - 1) // 2).sum())


def read_ground_truth(path: Path) -> pd.DataFrame:
    """record_persons.csv as (record_key, person_id); record_key is '<table>:<id>'."""
    truth = pd.read_csv(path, dtype=str)
    missing = {"source_table", "source_record_id", "person_id"} - set(truth.columns)
    if missing:
        raise ValueError(f"{path}: missing columns {sorted(missing)}")
    truth["record_key"] = truth["source_table"] + ":" + truth["source_record_id"]
    return truth[["record_key", "person_id"]].drop_duplicates("record_key")


def pairwise_metrics(truth: pd.DataFrame, predicted: pd.DataFrame) -> PairwiseMetrics:
    """Score `predicted` (record_key, cluster) against `truth` (record_key, person_id).

    Every ground-truth record counts; one the prediction does not know is a
    cluster of its own (so unlinkable records lower recall, as they should).
    """
    joined = truth.merge(predicted[["record_key", "cluster"]], on="record_key", how="left")
    joined["cluster"] = joined["cluster"].astype(object)
    unknown = joined["cluster"].isna()
    joined.loc[unknown, "cluster"] = "unmatched:" + joined.loc[unknown, "record_key"]
    return PairwiseMetrics(
        records=len(joined),
        true_pairs=_pairs(joined.groupby("person_id").size()),
        predicted_pairs=_pairs(joined.groupby("cluster").size()),
        correct_pairs=_pairs(joined.groupby(["cluster", "person_id"]).size()),
    )
