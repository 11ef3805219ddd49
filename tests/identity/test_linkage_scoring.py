"""The linkage benchmark's scoring (benchmarks/identity/linkage_scoring.py) counts pairs
right on a truth small enough to count by hand. The benchmark itself is not in the suite."""

from __future__ import annotations

import pandas as pd
import pytest

from benchmarks.identity.linkage_scoring import (
    components,
    febrl_entity,
    febrl_truth,
    merged_pairs,
    split_pairs,
    truth_pairs,
)
from cdp.identity.evaluate import linkable_recall, pairwise_metrics

# Three people: A has three records, B two, C one. True pairs: A 3, B 1 = 4.
TRUTH = pd.DataFrame(
    {
        "record_key": ["s:a1", "s:a2", "s:a3", "s:b1", "s:b2", "s:c1"],
        "person_id": ["A", "A", "A", "B", "B", "C"],
    }
)


def test_clusters_from_edges_are_scored_pair_by_pair() -> None:
    # a1-a2 right; a3-b1 wrong; a chain b2-x-c1 through a record the truth lacks
    edges = [("s:a2", "s:a1"), ("s:b1", "s:a3"), ("s:b2", "s:x"), ("s:x", "s:c1")]
    predicted = components(TRUTH["record_key"], edges)

    clusters = predicted.set_index("record_key")["cluster"].to_dict()
    assert clusters == {
        "s:a1": "s:a1",
        "s:a2": "s:a1",
        "s:a3": "s:a3",
        "s:b1": "s:a3",
        "s:b2": "s:b2",
        "s:c1": "s:b2",
        "s:x": "s:b2",
    }
    metrics = pairwise_metrics(TRUTH, predicted)
    # predicted pairs among truth records: {a1,a2}, {a3,b1}, {b2,c1} = 3, one right
    assert (metrics.true_pairs, metrics.predicted_pairs, metrics.correct_pairs) == (4, 3, 1)
    assert metrics.precision == pytest.approx(1 / 3)
    assert metrics.recall == pytest.approx(1 / 4)
    assert metrics.f1 == pytest.approx(2 * (1 / 3) * (1 / 4) / (1 / 3 + 1 / 4))

    # b2 unlinkable: B's only pair leaves the linkable pairs (A's 3 remain, 1 found)
    unlinkable = pd.DataFrame({"record_key": ["s:b2"], "island": ["record:s:b2"]})
    linkable = linkable_recall(TRUTH, predicted, unlinkable)
    assert (linkable.true_pairs, linkable.correct_pairs) == (3, 1)

    assert split_pairs(TRUTH, predicted, limit=5) == [("s:a1", "s:a3"), ("s:b1", "s:b2")]
    assert merged_pairs(TRUTH, predicted, limit=5) == [("s:a3", "s:b1"), ("s:b2", "s:c1")]


def test_febrl_truth_comes_from_the_record_ids() -> None:
    ids = ["rec-7-org", "rec-7-dup-0", "rec-7-dup-1", "rec-12-org", "rec-12-dup-0", "rec-3-org"]
    truth = febrl_truth(ids, "febrl_people")

    assert truth["record_key"].iloc[0] == "febrl_people:rec-7-org"
    pairs = truth_pairs(truth)
    assert pairs == {
        frozenset(("febrl_people:rec-7-org", "febrl_people:rec-7-dup-0")),
        frozenset(("febrl_people:rec-7-org", "febrl_people:rec-7-dup-1")),
        frozenset(("febrl_people:rec-7-dup-0", "febrl_people:rec-7-dup-1")),
        frozenset(("febrl_people:rec-12-org", "febrl_people:rec-12-dup-0")),
    }
    # a clustering that is the truth itself scores 1.0, pair counts equal
    perfect = truth.rename(columns={"person_id": "cluster"})
    metrics = pairwise_metrics(truth, perfect)
    assert (metrics.true_pairs, metrics.correct_pairs, metrics.predicted_pairs) == (4, 4, 4)
    with pytest.raises(ValueError, match="not a FEBRL record id"):
        febrl_entity("12-org")
