"""The whole graph materialised in-process on generated data, compared with `cdp`."""

from __future__ import annotations

from typing import Any

import duckdb
from dagster import AssetCheckSeverity, AssetKey

from tests.orchestration.conftest import SYNC_NAME, Pipeline


def test_full_run_materialises_every_asset(pipeline: Pipeline) -> None:
    result = pipeline.result
    assert result.success, [e.message for e in result.all_events if e.is_failure]
    materialised = {e.asset_key for e in result.get_asset_materialization_events()}
    expected = set(pipeline.defs.get_repository_def().asset_graph.get_all_asset_keys())
    assert materialised == expected
    errors = [
        (c.asset_key, c.check_name, c.description)
        for c in result.get_asset_check_evaluations()
        if not c.passed and c.severity == AssetCheckSeverity.ERROR
    ]
    assert errors == []


def test_the_sync_sent_exactly_the_consented_segment_members(
    pipeline: Pipeline, sync_destination: Any
) -> None:
    """The sync asset ran after its segment and the webhook holds exactly the segment's
    members with email consent who are not suppressed, keyed by customer id."""
    sync_key = AssetKey(["syncs", SYNC_NAME])
    materialised = {e.asset_key: e for e in pipeline.result.get_asset_materialization_events()}
    assert sync_key in materialised
    with duckdb.connect(str(pipeline.warehouse), read_only=True) as con:
        expected = {
            customer_id: email
            for customer_id, email in con.execute(
                """
                select s.customer_id, lower(trim(s.email))
                from marts.segment_vip_loyalty_members s
                join marts.customer_consent_eligibility c using (customer_id)
                where c.is_email_marketing_eligible and s.email is not null
                    and s.customer_id not in (select customer_id from marts.customer_suppressions)
                """
            ).fetchall()
        }
    with sync_destination.lock:
        held = {key: fields["email"] for key, fields in sync_destination.members.items()}
    assert held == expected
    assert len(held) > 0, "the sample's VIP segment has no consented member to sync"


def test_gx_checks_report_metadata(pipeline: Pipeline) -> None:
    evaluations = {
        (c.asset_key, c.check_name): c for c in pipeline.result.get_asset_check_evaluations()
    }
    customers = evaluations[(AssetKey(["marts", "customers"]), "gx_customers")]
    assert customers.passed
    assert customers.metadata["rows_validated"].value > 0
    assert customers.metadata["expectations_evaluated"].value >= 8
    raw = evaluations[(AssetKey(["raw", "shop_orders"]), "gx_raw_landing")]
    assert raw.passed, raw.description
    docs = pipeline.root / "gx" / "data_docs" / "index.html"
    assert docs.exists(), "GX data docs were not built"


def _staging_tables(con: duckdb.DuckDBPyConnection) -> list[str]:
    rows = con.execute(
        "select table_name from information_schema.tables where table_schema = 'staging' order by 1"
    ).fetchall()
    return [r[0] for r in rows]


def test_same_tables_as_the_cdp_command(pipeline: Pipeline) -> None:
    """`cdp ingest` + `cdp build` (what `cdp run` does after generating) on the same files
    (the shared business, tests/business.py) gives the same staging tables, row for row,
    and the same number of customers."""
    with duckdb.connect(str(pipeline.reference.warehouse), read_only=True) as con:
        con.execute(f"attach '{pipeline.warehouse}' as dagster (read_only)")
        tables = _staging_tables(con)
        assert len(tables) >= 12
        for table in tables:
            # `_loaded_at` (when the ingest landed the row) and `_processed_at` (when a build
            # wrote it) are incremental bookkeeping: two runs differ there and nowhere else.
            columns = ", ".join(
                f'"{name}"'
                for (name,) in con.execute(
                    "select column_name from information_schema.columns "
                    "where table_catalog = 'cdp' and table_schema = 'staging' and table_name = ? "
                    "and column_name not in ('_loaded_at', '_processed_at') "
                    "order by ordinal_position",
                    [table],
                ).fetchall()
            )
            assert columns, table
            for left_db, right_db in (("cdp", "dagster"), ("dagster", "cdp")):
                (diff,) = con.execute(
                    f"select count(*) from (select {columns} from {left_db}.staging.{table} "
                    f"except all select {columns} from {right_db}.staging.{table})"
                ).fetchone()
                assert diff == 0, f"staging.{table} differs ({left_db} minus {right_db})"
        (ours,) = con.execute("select count(*) from dagster.marts.customers").fetchone()
        (theirs,) = con.execute("select count(*) from cdp.marts.customers").fetchone()
        assert ours == theirs > 0
