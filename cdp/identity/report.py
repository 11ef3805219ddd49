"""`cdp identity report`: how identity resolution went.

Match rate, cluster-size distribution (optionally as a PNG), largest clusters,
edges per rule, blocked values that were hit, the stitching iterations, and
pairwise precision/recall/F1 when a ground-truth file is given.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

from cdp.identity.evaluate import PairwiseMetrics, pairwise_metrics, read_ground_truth
from cdp.warehouse import Warehouse

SIZE_BUCKETS = [(1, 1), (2, 2), (3, 5), (6, 10), (11, 20), (21, 50), (51, 100), (101, None)]


@dataclass
class WeightDistribution:
    """Fellegi-Sunter match weights of the scored pairs in buckets of `width`:
    per bucket the pairs the ground truth calls the same person (matches) and
    the others, or, without a ground truth, the pairs above and below the
    threshold."""

    threshold: float
    width: float
    buckets: pd.DataFrame  # low, first, second (counts)
    labels: tuple[str, str]  # what `first` and `second` count

    def render(self, bar: int = 40) -> list[str]:
        first, second = self.labels
        lines = [
            f"Match weights of the scored pairs (threshold {self.threshold:g}; "
            f"# {first}, . {second})"
        ]
        most = max(1, int((self.buckets["first"] + self.buckets["second"]).max() or 1))
        for row in self.buckets.itertuples(index=False):
            low = float(row.low)
            marker = " <- threshold" if low <= self.threshold < low + self.width else ""
            hashes = "#" * round(bar * int(row.first) / most)
            dots = "." * round(bar * int(row.second) / most)
            lines.append(
                f"  {low:>6.0f} to {low + self.width:<4.0f}"
                f"{int(row.first):>7,}{int(row.second):>7,}  {hashes}{dots}{marker}"
            )
        return lines


@dataclass
class IdentityReport:
    """Figures of one warehouse's identity resolution."""

    records: int
    customers: int
    matched_records: int
    iterations: int
    size_distribution: pd.DataFrame
    largest_clusters: pd.DataFrame
    edges_per_rule: pd.DataFrame
    blocked_values: pd.DataFrame
    records_per_source: pd.DataFrame
    metrics: PairwiseMetrics | None = None
    weights: WeightDistribution | None = None
    notes: list[str] = field(default_factory=list)

    @property
    def match_rate(self) -> float:
        """Share of records linked to at least one other record."""
        return self.matched_records / self.records if self.records else 0.0

    def render(self) -> str:
        lines = [
            "Identity resolution",
            f"  records {self.records:,}  customers {self.customers:,}  "
            f"match rate {self.match_rate:.1%} (records linked to another record)",
            f"  connected components converged in {self.iterations} iterations",
            "",
            "Records per source (records, customers)",
        ]
        for row in self.records_per_source.itertuples(index=False):
            lines.append(f"  {row.source_name:<22}{row.records:>10,}{row.customers:>10,}")
        lines += ["", "Cluster sizes (records per customer)"]
        for row in self.size_distribution.itertuples(index=False):
            lines.append(
                f"  {row.bucket:<10}{row.customers:>10,} customers{row.records:>10,} records"
            )
        lines += ["", "Largest clusters"]
        for row in self.largest_clusters.itertuples(index=False):
            lines.append(f"  {row.customer_id}  {row.record_count:>6,} records  {row.sources}")
        lines += ["", "Edges per rule"]
        for row in self.edges_per_rule.itertuples(index=False):
            lines.append(f"  {row.rule_order:>3} {row.rule_name:<28}{row.edges:>10,}")
        lines += ["", "Blocked values hit (never used for linking)"]
        if self.blocked_values.empty:
            lines.append("  none")
        for row in self.blocked_values.itertuples(index=False):
            lines.append(
                f"  {row.identifier_type:<6}{row.identifier_value:<40}"
                f"{row.record_count:>7,} records  {row.block_reason}"
            )
        if self.weights is not None:
            lines += ["", *self.weights.render()]
        if self.metrics is not None:
            lines += [
                "",
                "Against the ground truth (pairwise)",
                "  " + self.metrics.render().replace("\n", "\n  "),
            ]
        lines += [f"note: {note}" for note in self.notes]
        return "\n".join(lines)


def _size_bucket(size: int) -> str:
    for low, high in SIZE_BUCKETS:
        if high is None and size >= low:
            return f"{low}+"
        if high is not None and low <= size <= high:
            return str(low) if low == high else f"{low}-{high}"
    return "?"


def build_report(
    connection: Warehouse,
    ground_truth: Path | None = None,
    largest: int = 10,
) -> IdentityReport:
    """Collect the report's figures from the identity tables."""
    sizes = connection.df(
        "select customer_id, count(*) as record_count from marts.customer_source_records "
        "group by customer_id"
    )
    sizes["bucket"] = sizes["record_count"].map(_size_bucket)
    order = {
        (f"{low}+" if high is None else (str(low) if low == high else f"{low}-{high}")): i
        for i, (low, high) in enumerate(SIZE_BUCKETS)
    }
    distribution = (
        sizes.groupby("bucket")
        .agg(customers=("customer_id", "size"), records=("record_count", "sum"))
        .reset_index()
    )
    distribution["order"] = distribution["bucket"].map(order)
    distribution = distribution.sort_values("order").drop(columns="order")
    largest_clusters = _largest_clusters(connection, largest)
    edges_per_rule = connection.df(
        "select rule_order, rule_name, count(*) as edges from marts.identity_edges "
        "group by rule_order, rule_name order by rule_order"
    )
    blocked = connection.df(
        "select identifier_type, identifier_value, record_count, block_reason "
        "from intermediate.int_identity_identifiers_screened where is_blocked "
        "order by record_count desc, identifier_value limit 20"
    )
    per_source = connection.df(
        "select source_name, count(*) as records, count(distinct customer_id) as customers "
        "from marts.customer_source_records group by source_name order by source_name"
    )
    iterations_row = connection.one(
        "select coalesce(max(iterations), 0) from intermediate.int_identity_clusters"
    )
    iterations = iterations_row[0] if iterations_row else 0
    records = int(sizes["record_count"].sum())
    matched = int(sizes.loc[sizes["record_count"] > 1, "record_count"].sum())
    report = IdentityReport(
        records=records,
        customers=len(sizes),
        matched_records=matched,
        iterations=int(iterations),
        size_distribution=distribution,
        largest_clusters=largest_clusters,
        edges_per_rule=edges_per_rule,
        blocked_values=blocked,
        records_per_source=per_source,
    )
    truth = read_ground_truth(ground_truth) if ground_truth is not None else None
    report.weights = weight_distribution(connection, truth)
    if truth is not None:
        predicted = connection.df(
            "select record_key, customer_id as cluster from marts.customer_source_records"
        )
        report.metrics = pairwise_metrics(truth, predicted)
        missing = len(set(truth["record_key"]) - set(predicted["record_key"]))
        if missing:
            report.notes.append(
                f"{missing:,} ground-truth records are not in the warehouse (rejected at landing); "
                "they count as unlinked"
            )
    return report


def _largest_clusters(connection: Warehouse, largest: int) -> pd.DataFrame:
    """The `largest` customers by records, with their sources joined in name order.

    The sources are joined here, not by `string_agg(... order by ...)`: SQLGlot
    writes that as Spark 4's `listagg ... within group`, which Spark 3.5 cannot
    parse."""
    top = (
        "select customer_id, count(*) as record_count from marts.customer_source_records "
        f"group by customer_id order by record_count desc, customer_id limit {int(largest)}"
    )
    clusters = connection.df(top)
    pairs = connection.df(
        "select distinct customer_id, source_name from marts.customer_source_records "
        f"where customer_id in (select customer_id from ({top}) as top)"
    )
    joined = pairs.groupby("customer_id")["source_name"].agg(lambda s: ", ".join(sorted(s)))
    clusters["sources"] = clusters["customer_id"].map(joined)
    return clusters


def weight_distribution(
    connection: Warehouse, truth: pd.DataFrame | None = None, width: float = 4.0
) -> WeightDistribution | None:
    """The match weights of intermediate.int_identity_pairs_probabilistic, bucketed;
    None when the model scored no pair."""
    pairs = connection.df(
        "select left_record_key, right_record_key, match_weight, is_match "
        "from intermediate.int_identity_pairs_probabilistic"
    )
    if pairs.empty:
        return None
    threshold_row = connection.one("select match_threshold from intermediate.int_identity_fs_prior")
    threshold = float(threshold_row[0]) if threshold_row and threshold_row[0] is not None else 0.0
    if truth is not None:
        person = dict(zip(truth["record_key"], truth["person_id"], strict=True))
        first = [
            person.get(a) is not None and person.get(a) == person.get(b)
            for a, b in zip(pairs["left_record_key"], pairs["right_record_key"], strict=True)
        ]
        labels = ("same person (ground truth)", "different people")
    else:
        first = list(pairs["is_match"].astype(bool))
        labels = ("at or above the threshold", "below")
    pairs["first"] = first
    pairs["low"] = (pairs["match_weight"] // width) * width
    buckets = (
        pairs.groupby("low")
        .agg(first=("first", "sum"), second=("first", lambda s: int((~s).sum())))
        .reset_index()
        .sort_values("low")
    )
    return WeightDistribution(threshold, width, buckets, labels)


def plot_cluster_sizes(report: IdentityReport, path: Path) -> Path:
    """Write the cluster-size distribution as a PNG bar chart."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    figure, axis = plt.subplots(figsize=(7, 4))
    axis.bar(
        report.size_distribution["bucket"], report.size_distribution["customers"], color="#4c72b0"
    )
    axis.set_xlabel("records per customer")
    axis.set_ylabel("customers")
    axis.set_yscale("log")
    axis.set_title(f"Cluster sizes: {report.customers:,} customers from {report.records:,} records")
    figure.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    figure.savefig(path, dpi=110)
    plt.close(figure)
    return path
