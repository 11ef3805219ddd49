"""The Dagster definitions load and materialise the whole graph on a real PostgreSQL 15,
and the GX suites run (and fail on a bad row) there.

With CDP_TARGET=postgres the `full_run` job lands the shared business's files through
cdp/landing's PostgreSQL engine, builds every dbt model on the postgres target, runs
the GX checks on the tables in PostgreSQL, scores, syncs one segment to a webhook
contract server and refreshes the serving store, in a database of its own on the
session's server (`postgres_server`). dbt's unit tests are left out of this build
(`DBT_EXCLUDE_RESOURCE_TYPES`): test_cross_engine.py's PostgreSQL build runs every one
of them on the same SQL; dbt's data tests stay (they are asset checks here).
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import pytest

from tests.engines.conftest import PostgresServer

pytestmark = pytest.mark.slow

DATABASE = "dagster"
SYNC_NAME = "vip_events_hook"
WEBHOOK_SECRET = "whsec-dagster-postgres-test"
SYNCS_YML = """
privacy:
  consent:
    relation: marts.customer_consent_eligibility
    customer_key: customer_id
    purposes:
      email_marketing: {{column: is_email_marketing_eligible, unknown: deny}}
  suppression: {{relation: marts.customer_suppressions, customer_key: customer_id}}
syncs:
  - name: {name}
    source: marts.segment_vip_loyalty_members
    primary_key: customer_id
    mode: mirror
    consent_purpose: email_marketing
    destination:
      type: webhook
      url: {url}
      signing_secret_env: CDP_TEST_WEBHOOK_SECRET
    fields:
      email: {{source: email, type: email}}
      first_name: first_name
"""


@dataclass
class PostgresRun:
    server: PostgresServer  # the database the run wrote
    env: dict[str, str]
    defs: Any
    result: Any  # ExecuteInProcessResult of `full_run`
    destination: Any  # the webhook contract server

    def rows(self, query: str) -> list[tuple[Any, ...]]:
        return self.execute(query, fetch=True)

    def execute(self, query: str, fetch: bool = False) -> list[tuple[Any, ...]]:
        import psycopg2

        con = psycopg2.connect(**self.server.connect_kwargs())
        try:
            with con, con.cursor() as cursor:  # commits on leaving
                cursor.execute(query)
                found: list[tuple[Any, ...]] = cursor.fetchall() if fetch else []
        finally:
            con.close()
        return found


def _create_database(server: PostgresServer, name: str) -> PostgresServer:
    import psycopg2

    con = psycopg2.connect(**server.connect_kwargs())
    con.autocommit = True
    with con.cursor() as cursor:
        cursor.execute(f'drop database if exists "{name}"')
        cursor.execute(f'create database "{name}"')
    con.close()
    return replace(server, database=name)


@pytest.fixture(scope="module")
def dagster_on_postgres(
    postgres_server: PostgresServer,
    shared_business_data: Path,
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[PostgresRun]:
    """`full_run` materialised once, in-process, on database `dagster`."""
    from cdp_demo.contract_servers import WebhookContractServer
    from dagster import DagsterInstance

    from tests.engines.engine_builds import REPO

    server = _create_database(postgres_server, DATABASE)
    root = tmp_path_factory.mktemp("dagster_postgres")
    env = {
        "CDP_HOME": str(REPO),
        "CDP_TARGET": "postgres",
        **server.env(),
        "CDP_DATA_DIR": str(shared_business_data),  # read only: ingestion links the files
        "CDP_DUCKDB_PATH": str(root / "warehouse" / "cdp.duckdb"),  # unused on postgres
        "CDP_STORE_PATH": str(root / "profiles.sqlite"),
        "DBT_TARGET_PATH": str(root / "dbt_target"),
        "DBT_LOG_PATH": str(root / "dbt_logs"),
        "DBT_SEND_ANONYMOUS_USAGE_STATS": "false",
        "DBT_EXCLUDE_RESOURCE_TYPES": "unit_test",
        "CDP_GX_DOCS_DIR": str(root / "gx"),
        "CDP_SYNCS_PATH": str(root / "syncs.yml"),
        "DAGSTER_HOME": str(root / "dagster_home"),
        "CDP_TEST_WEBHOOK_SECRET": WEBHOOK_SECRET,
        "TZ": "UTC",
    }
    (root / "dagster_home").mkdir()
    saved = {key: os.environ.get(key) for key in env}
    with WebhookContractServer(WEBHOOK_SECRET) as destination:
        (root / "syncs.yml").write_text(
            SYNCS_YML.format(name=SYNC_NAME, url=destination.endpoint), encoding="utf-8"
        )
        os.environ.update(env)
        try:
            from orchestration.definitions import load_definitions
            from orchestration.prepare import prepare_manifest

            prepare_manifest(retries=3, quiet=True)
            defs = load_definitions()
            result = defs.resolve_job_def("full_run").execute_in_process(
                instance=DagsterInstance.ephemeral(), raise_on_error=False
            )
            yield PostgresRun(server, env, defs, result, destination)
        finally:
            for key, value in saved.items():
                if value is None:
                    os.environ.pop(key, None)
                else:
                    os.environ[key] = value


def test_definitions_load_on_postgres(dagster_on_postgres: PostgresRun) -> None:
    from dagster import AssetCheckKey, AssetKey

    graph = dagster_on_postgres.defs.get_repository_def().asset_graph
    keys = set(graph.get_all_asset_keys())
    for key in (
        AssetKey(["raw", "shop_customers"]),
        AssetKey(["marts", "customers"]),
        AssetKey(["predictions", "customer_scores"]),
        AssetKey(["syncs", SYNC_NAME]),
        AssetKey(["serving", "store"]),
    ):
        assert key in keys
    checks = set(graph.asset_check_keys)
    assert AssetCheckKey(AssetKey(["marts", "customers"]), "gx_customers") in checks
    assert AssetCheckKey(AssetKey(["raw", "shop_orders"]), "gx_raw_landing") in checks
    ingest = graph.get(AssetKey(["raw", "shop_orders"]))
    assert "postgres" in ingest.kinds


def test_full_run_materialises_every_asset_on_postgres(dagster_on_postgres: PostgresRun) -> None:
    from dagster import AssetCheckSeverity

    result = dagster_on_postgres.result
    assert result.success, [e.message for e in result.all_events if e.is_failure][:5]
    materialised = {e.asset_key for e in result.get_asset_materialization_events()}
    expected = set(dagster_on_postgres.defs.get_repository_def().asset_graph.get_all_asset_keys())
    assert materialised == expected
    errors = [
        (c.asset_key, c.check_name, c.description)
        for c in result.get_asset_check_evaluations()
        if not c.passed and c.severity == AssetCheckSeverity.ERROR
    ]
    assert errors == []
    # the tables are in PostgreSQL, written by this run
    ((customers,),) = dagster_on_postgres.rows("select count(*) from marts.customers")
    ((scored,),) = dagster_on_postgres.rows("select count(*) from predictions.customer_scores")
    ((landed,),) = dagster_on_postgres.rows(
        "select count(*) from raw._landed_files where status = 'loaded'"
    )
    assert customers > 0 and scored > 0 and landed > 0


def test_gx_checks_read_postgres(dagster_on_postgres: PostgresRun) -> None:
    """The GX checks validated the PostgreSQL tables and kept their baselines there."""
    from dagster import AssetKey

    evaluations = {
        (c.asset_key, c.check_name): c
        for c in dagster_on_postgres.result.get_asset_check_evaluations()
    }
    customers = evaluations[(AssetKey(["marts", "customers"]), "gx_customers")]
    ((count,),) = dagster_on_postgres.rows("select count(*) from marts.customers")
    assert customers.passed, customers.description
    assert customers.metadata["rows_validated"].value == count
    baseline = dagster_on_postgres.rows("select customer_id from quality.customer_ids_last_build")
    current = dagster_on_postgres.rows("select customer_id from marts.customers")
    assert sorted(baseline) == sorted(current)
    segment = evaluations[(AssetKey(["marts", "segment_vip_loyalty_members"]), "gx_segment")]
    ((members,),) = dagster_on_postgres.rows(
        "select members from quality.segment_sizes_last_build "
        "where segment = 'segment_vip_loyalty_members'"
    )
    assert segment.passed and segment.metadata["members"].value == members
    raw = evaluations[(AssetKey(["raw", "shop_orders"]), "gx_raw_landing")]
    assert raw.passed, raw.description


def test_the_sync_sent_exactly_the_consented_members_from_postgres(
    dagster_on_postgres: PostgresRun,
) -> None:
    expected = dict(
        dagster_on_postgres.rows(
            """
            select s.customer_id, lower(trim(s.email))
            from marts.segment_vip_loyalty_members s
            join marts.customer_consent_eligibility c using (customer_id)
            where c.is_email_marketing_eligible and s.email is not null
                and s.customer_id not in (select customer_id from marts.customer_suppressions)
            """
        )
    )
    destination = dagster_on_postgres.destination
    with destination.lock:
        held = {key: fields["email"] for key, fields in destination.members.items()}
    assert held == expected
    assert held, "the sample's VIP segment has no consented member to sync"
    runs = dagster_on_postgres.rows(
        f"select status from reverse_etl.sync_runs where sync_name = '{SYNC_NAME}'"
    )
    assert runs == [("succeeded",)]


def test_a_bad_row_fails_the_gx_checks_on_postgres(dagster_on_postgres: PostgresRun) -> None:
    """A duplicated customer and a duplicated segment member, in PostgreSQL tables
    beside the built ones, fail their suites with ERROR."""
    import dataclasses

    from dagster import AssetCheckSeverity

    from cdp.config import Settings
    from expectations import inputs
    from expectations.config import Thresholds
    from orchestration.defs.checks import check_customers, check_segment

    for statement in (
        "create schema if not exists scratch",
        "create table scratch.customers as select * from marts.customers "
        "union all (select * from marts.customers order by customer_id limit 1)",
        "create table scratch.segment as select * from marts.segment_vip_loyalty_members "
        "union all (select * from marts.segment_vip_loyalty_members limit 1)",
    ):
        dagster_on_postgres.execute(statement)
    # the module's environment (the fixture's) names database `dagster` on the server
    settings = dataclasses.replace(Settings.from_env(), target="postgres")
    with inputs.connect(settings, read_only=False) as warehouse:
        assert warehouse.target == "postgres"
        bad = check_customers(warehouse, "scratch", "customers", Thresholds())
        bad_segment = check_segment(warehouse, "scratch", "segment", Thresholds())
    assert not bad.passed and bad.severity == AssetCheckSeverity.ERROR
    assert "expect_column_values_to_be_unique" in (bad.description or "")
    assert not bad_segment.passed and bad_segment.severity == AssetCheckSeverity.ERROR
    assert "expect_column_values_to_be_unique" in (bad_segment.description or "")
    # a failed check leaves the baselines as the accepted build left them
    baseline = dagster_on_postgres.rows("select count(*) from quality.customer_ids_last_build")
    ((count,),) = dagster_on_postgres.rows("select count(*) from marts.customers")
    assert baseline == [(count,)]
