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


# A record is "unlinkable" when nothing on it, nor on any record of the same
# web/app device, identifies a person: no email, phone, loyalty number, shop
# customer or order id, CRM contact or email subscriber id, and no full name
# with a birth date or an address. Read from the staged identity records
# (before our blocklists), so the definition does not depend on our rules.
UNLINKABLE_RECORDS_SQL = """
with
records as (select * from intermediate.int_identity_records_unioned),
evidence as (
    select
        record_key,
        anonymous_id,
        (
            email is not null or phone_e164 is not null or secondary_phone_e164 is not null
            or loyalty_number is not null or shop_customer_id is not null
            or shop_order_id is not null or crm_contact_id is not null
            or email_subscriber_id is not null
            or (
                first_name is not null and last_name is not null
                and (birth_date is not null or postal_code is not null
                     or address_line_1 is not null)
            )
        ) as has_evidence
    from records
),
devices as (
    select anonymous_id, bool_or(has_evidence) as has_evidence
    from evidence
    where anonymous_id is not null
    group by anonymous_id
)
select
    evidence.record_key,
    coalesce('device:' || evidence.anonymous_id, 'record:' || evidence.record_key) as island
from evidence
left join devices on evidence.anonymous_id = devices.anonymous_id
where not evidence.has_evidence and not coalesce(devices.has_evidence, false)
"""


@dataclass(frozen=True)
class LinkableRecall:
    """Recall over the true pairs that some evidence in the data could link."""

    unlinkable_records: int
    true_pairs: int
    correct_pairs: int

    @property
    def recall(self) -> float:
        return self.correct_pairs / self.true_pairs if self.true_pairs else 1.0


def unlinkable_records(connection: object) -> pd.DataFrame:
    """(record_key, island) of the unlinkable records in a built warehouse.

    `island` is the device (anonymous id) the record hangs on, or the record
    itself: the only grouping its data allows."""
    return connection.execute(UNLINKABLE_RECORDS_SQL).df()  # type: ignore[attr-defined]


def linkable_recall(
    truth: pd.DataFrame, predicted: pd.DataFrame, unlinkable: pd.DataFrame
) -> LinkableRecall:
    """Recall over linkable true pairs.

    A true pair is linkable when neither record is unlinkable, or when both
    are unlinkable on the same device (the anonymous id links them). Ground
    truth records missing from the warehouse (rejected at landing) carry no
    evidence we can see and count as unlinkable islands of their own. An
    oracle that groups unlinkable records by device and everything else
    perfectly scores 1.0.
    """
    joined = truth.merge(predicted[["record_key", "cluster"]], on="record_key", how="left")
    joined = joined.merge(unlinkable[["record_key", "island"]], on="record_key", how="left")
    missing = joined["cluster"].isna()
    joined["cluster"] = joined["cluster"].astype(object)
    joined.loc[missing, "cluster"] = "unmatched:" + joined.loc[missing, "record_key"]
    joined["island"] = joined["island"].astype(object)
    joined.loc[missing, "island"] = "record:" + joined.loc[missing, "record_key"]
    joined["island"] = joined["island"].fillna("linkable")
    return LinkableRecall(
        unlinkable_records=int((joined["island"] != "linkable").sum()),
        true_pairs=_pairs(joined.groupby(["person_id", "island"]).size()),
        correct_pairs=_pairs(joined.groupby(["cluster", "person_id", "island"]).size()),
    )
