"""Scoring pieces of the linkage benchmark (bench_linkage.py), kept apart so a cheap
test can check them on a hand-made truth (tests/identity/test_linkage_scoring.py).

- `components`: clusters (connected components) of a set of records under a
  set of edges, the way every method's pairs become clusters before scoring;
- `febrl_truth`: the ground truth of a FEBRL data set from its record ids
  (`rec-<entity>-org`, `rec-<entity>-dup-<k>`);
- `truth_pairs`: the true pairs of a truth, listed (small data sets only),
  to check a truth against the links the package ships;
- `split_pairs`, `merged_pairs`: a few missed and wrongly linked record pairs
  of a clustering, for the examples in the results.

Precision, recall and F1 are `cdp.identity.evaluate.pairwise_metrics` and
`linkable_recall`, the same code `cdp identity report` uses.
"""

from __future__ import annotations

import itertools
from collections.abc import Iterable

import pandas as pd


def components(record_keys: Iterable[str], edges: Iterable[tuple[str, str]]) -> pd.DataFrame:
    """(record_key, cluster) for every record; cluster is the smallest key of its component.

    Edges naming a record outside `record_keys` add that record too."""
    parent: dict[str, str] = {key: key for key in record_keys}

    def find(key: str) -> str:
        root = parent.setdefault(key, key)
        while root != parent[root]:
            root = parent[root]
        while parent[key] != root:  # path compression
            parent[key], key = root, parent[key]
        return root

    for left, right in edges:
        a, b = find(left), find(right)
        if a != b:
            parent[max(a, b)] = min(a, b)
    keys = list(parent)
    return pd.DataFrame({"record_key": keys, "cluster": [find(key) for key in keys]})


def febrl_entity(rec_id: str) -> str:
    """The entity a FEBRL record id stands for: rec-12-dup-0 -> 12."""
    parts = rec_id.split("-")
    if len(parts) < 3 or parts[0] != "rec":
        raise ValueError(f"not a FEBRL record id: {rec_id!r}")
    return parts[1]


def febrl_truth(rec_ids: Iterable[str], source_name: str) -> pd.DataFrame:
    """(record_key, person_id) of FEBRL records landed as `source_name`."""
    ids = list(rec_ids)
    return pd.DataFrame(
        {
            "record_key": [f"{source_name}:{rec_id}" for rec_id in ids],
            "person_id": [febrl_entity(rec_id) for rec_id in ids],
        }
    )


def truth_pairs(truth: pd.DataFrame) -> set[frozenset[str]]:
    """Every true pair of record keys (enumerated: for small data sets)."""
    pairs: set[frozenset[str]] = set()
    for _, group in truth.groupby("person_id"):
        for a, b in itertools.combinations(sorted(group["record_key"]), 2):
            pairs.add(frozenset((a, b)))
    return pairs


def split_pairs(truth: pd.DataFrame, predicted: pd.DataFrame, limit: int) -> list[tuple[str, str]]:
    """Up to `limit` true pairs the clustering keeps apart (missed), in key order."""
    frame = _joined(truth, predicted)
    found: list[tuple[str, str]] = []
    for _, person in frame.sort_values("record_key").groupby("person_id", sort=True):
        if person["cluster"].nunique() < 2:
            continue
        for (key_a, cluster_a), (key_b, cluster_b) in itertools.combinations(
            zip(person["record_key"], person["cluster"], strict=True), 2
        ):
            if cluster_a != cluster_b:
                found.append((key_a, key_b))
                break
        if len(found) >= limit:
            break
    return found


def merged_pairs(truth: pd.DataFrame, predicted: pd.DataFrame, limit: int) -> list[tuple[str, str]]:
    """Up to `limit` pairs of different people the clustering puts together."""
    frame = _joined(truth, predicted)
    found: list[tuple[str, str]] = []
    for _, cluster in frame.sort_values("record_key").groupby("cluster", sort=True):
        if cluster["person_id"].nunique() < 2:
            continue
        for (key_a, person_a), (key_b, person_b) in itertools.combinations(
            zip(cluster["record_key"], cluster["person_id"], strict=True), 2
        ):
            if person_a != person_b:
                found.append((key_a, key_b))
                break
        if len(found) >= limit:
            break
    return found


def _joined(truth: pd.DataFrame, predicted: pd.DataFrame) -> pd.DataFrame:
    frame = truth.merge(predicted[["record_key", "cluster"]], on="record_key", how="left")
    frame["cluster"] = frame["cluster"].astype(object)
    missing = frame["cluster"].isna()
    frame.loc[missing, "cluster"] = "unmatched:" + frame.loc[missing, "record_key"]
    return frame
