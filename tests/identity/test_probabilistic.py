"""Fellegi-Sunter edges on the shared business: with feed_edges on (the var
cdp__identity_probabilistic_feed_edges, for this run), pairs above the threshold
become edges of rule `probabilistic` unless the conflict guard vetoes them, end
up in the clusters, and `cdp identity explain` shows each one's weight,
comparison levels and partial weights; `cdp identity report` charts the weight
distribution."""

from __future__ import annotations

from pathlib import Path

import duckdb

from cdp.identity.explain import explain
from cdp.identity.report import build_report
from cdp.warehouse import DuckDBWarehouse
from tests.identity.conftest import IDENTITY_SELECTION, Warehouse, run_dbt


def test_probabilistic_edges_feed_clusters_and_explain(
    identity_warehouse: Warehouse, warehouse_copy: Path
) -> None:
    work = warehouse_copy.parent
    completed = run_dbt(
        work,
        warehouse_copy,
        [
            "run",
            "--select",
            *IDENTITY_SELECTION[1:],
            "--vars",
            "{cdp__identity_probabilistic_feed_edges: true}",
        ],
    )
    assert completed.returncode == 0, completed.stdout[-6000:] + completed.stderr[-2000:]
    with duckdb.connect(str(warehouse_copy), read_only=True) as con:
        fed = con.execute(
            "select e.customer_id, e.left_record_key, e.right_record_key, p.match_weight "
            "from marts.identity_edges as e "
            "join intermediate.int_identity_pairs_probabilistic as p "
            "using (left_record_key, right_record_key) "
            "where e.rule_name = 'probabilistic' order by p.match_weight desc"
        ).fetchall()
        threshold = con.execute(
            "select match_threshold from intermediate.int_identity_fs_prior"
        ).fetchone()[0]
        assert fed, "no probabilistic edge reached identity_edges"
        assert all(weight >= threshold for *_, weight in fed)
        # the conflict guard: a match whose strong clusters hold different
        # emails, phones or birth dates is no edge, and says which
        vetoed = con.execute(
            "select p.left_record_key, p.right_record_key, p.conflicting_guards, "
            "e.rule_name from intermediate.int_identity_pairs_probabilistic as p "
            "left join intermediate.int_identity_edges_matched as e "
            "using (left_record_key, right_record_key) "
            "where p.is_match and not p.is_edge"
        ).fetchall()
        assert vetoed, "the guard vetoed no pair on the shared business"
        assert all(guards for _, _, guards, _ in vetoed)
        assert not [pair for pair in vetoed if pair[3] == "probabilistic"]
        fed_guards = con.execute(
            "select count(*) from marts.identity_edges as e "
            "join intermediate.int_identity_pairs_probabilistic as p "
            "using (left_record_key, right_record_key) "
            "where e.rule_name = 'probabilistic' and p.conflicting_guards is not null"
        ).fetchone()[0]
        assert fed_guards == 0
        # explain shows a vetoed match on the customer of its first record
        left_vetoed, right_vetoed, guards, _ = vetoed[0]
        owner = con.execute(
            "select customer_id from marts.customer_source_records where record_key = ?",
            [left_vetoed],
        ).fetchone()[0]
        kept = explain(DuckDBWarehouse.of(con), owner)
        shown = kept.kept_apart.set_index(["left_record_key", "right_record_key"])
        assert shown.loc[(left_vetoed, right_vetoed), "conflicting_guards"] == guards
        assert f"different: {guards}" in kept.render()
        customer_id, left, right, weight = fed[0]
        both = con.execute(
            "select count(distinct customer_id) from marts.customer_source_records "
            "where record_key in (?, ?)",
            [left, right],
        ).fetchone()[0]
        assert both == 1
        explanation = explain(DuckDBWarehouse.of(con), customer_id)
        text = explanation.render()
        evidence = explanation.evidence[(left, right)]
        assert abs(evidence.match_weight - weight) < 1e-6
        names = [name for name, _, _ in evidence.comparisons]
        assert {"first_name", "last_name", "postal_code"} <= set(names)
        assert evidence.prior_match_weight is not None
        # the parts add up to the weight the model stored
        total = evidence.prior_match_weight + sum(w for _, _, w in evidence.comparisons)
        assert abs(total - weight) < 0.01
        assert f"match weight {weight:.2f}" in text and "probabilistic" in text
        report = build_report(DuckDBWarehouse.of(con), ground_truth=identity_warehouse.ground_truth)
        assert report.weights is not None
        chart = "\n".join(report.weights.render())
        assert "<- threshold" in chart and "same person (ground truth)" in chart
        assert int(report.weights.buckets["first"].sum()) > 0
