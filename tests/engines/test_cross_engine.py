"""The same generated data, landed and built on DuckDB and on PostgreSQL, gives the same tables.

A real PostgreSQL 15 server is started by the `postgres_server` fixture. Each
engine lands the files with `cdp ingest` and builds with `cdp build` (dbt
build). Compared, by row count and order-independent checksum (digest.py):
every raw table with its rejects and manifest, and every model of the
staging and marts schemas that dbt built (the list comes from dbt's
run_results, so new models are compared as soon as they exist). Columns that
legitimately differ (run timestamps, invocation ids) are listed in
engine_builds.EXCLUDED_COLUMNS. The Spark half is test_cross_engine_spark.py.
"""

from __future__ import annotations

import pytest

from cdp.landing import load_registry
from tests.engines import digest
from tests.engines.conftest import PostgresServer
from tests.engines.engine_builds import (
    EXCLUDED_COLUMNS,
    REPO,
    EngineBuild,
    check_models,
    raw_relations,
    run_cdp,
    xfail_if_incomplete,
)

pytestmark = pytest.mark.slow


def _raw_relations() -> list[str]:
    return raw_relations(sorted(load_registry(REPO / "dbt_project").tables))


def test_landing_matches(
    duckdb_build: EngineBuild, postgres_build: EngineBuild, postgres_server: PostgresServer
) -> None:
    relations = _raw_relations()
    expected = digest.duckdb_digests(duckdb_build.work / "cdp.duckdb", relations, EXCLUDED_COLUMNS)
    found = digest.postgres_digests(postgres_server.connect_kwargs(), relations, EXCLUDED_COLUMNS)
    assert expected["raw._rejects"].rows > 0, "the sample data should exercise the rejects path"
    assert digest.differences(expected, found, relations) == []


def test_landing_twice_adds_nothing_on_postgres(
    postgres_build: EngineBuild, postgres_server: PostgresServer
) -> None:
    relations = _raw_relations()
    kwargs = postgres_server.connect_kwargs()
    before = digest.postgres_digests(kwargs, relations, {})
    again = run_cdp(["ingest"], postgres_build.env)
    assert again.returncode == 0, again.stdout + again.stderr
    assert "landed 0 row(s) from 0 file(s)" in again.stdout
    assert digest.postgres_digests(kwargs, relations, {}) == before


def test_models_match(
    duckdb_build: EngineBuild, postgres_build: EngineBuild, postgres_server: PostgresServer
) -> None:
    assert duckdb_build.built, "DuckDB built no model:\n" + duckdb_build.build_output
    assert duckdb_build.build_ok, "dbt build failed on DuckDB:\n" + "\n".join(
        duckdb_build.failed_nodes or [duckdb_build.build_output]
    )
    relations = check_models(duckdb_build, postgres_build)
    assert {r for r in duckdb_build.built if r.startswith("staging.")} <= set(relations)
    expected = digest.duckdb_digests(duckdb_build.work / "cdp.duckdb", relations, EXCLUDED_COLUMNS)
    found = digest.postgres_digests(postgres_server.connect_kwargs(), relations, EXCLUDED_COLUMNS)
    assert digest.differences(expected, found, relations) == []
    xfail_if_incomplete(duckdb_build, postgres_build)


# --- the commands that read the warehouse, on PostgreSQL (cdp/warehouse) -----------------


@pytest.mark.parametrize("args", [["summary"], ["identity", "report"]])
def test_reports_read_postgres(
    duckdb_build: EngineBuild, postgres_build: EngineBuild, args: list[str]
) -> None:
    """`cdp summary` and `cdp identity report` on PostgreSQL print what they print on DuckDB."""
    on_duckdb = run_cdp(args, duckdb_build.env)
    on_postgres = run_cdp(args, postgres_build.env)
    assert on_duckdb.returncode == 0, on_duckdb.stdout + on_duckdb.stderr
    assert on_postgres.returncode == 0, on_postgres.stdout + on_postgres.stderr
    assert "Customers (golden profiles)" in on_duckdb.stdout or "Identity" in on_duckdb.stdout
    assert on_postgres.stdout == on_duckdb.stdout


def test_identity_explain_reads_postgres(
    duckdb_build: EngineBuild, postgres_build: EngineBuild, postgres_server: PostgresServer
) -> None:
    import psycopg2

    with psycopg2.connect(**postgres_server.connect_kwargs()) as con, con.cursor() as cur:
        cur.execute(
            "select i.identifier_value from marts.customer_identifiers as i "
            "join marts.customer_source_records as r using (customer_id) "
            "where i.identifier_type = 'email' group by i.identifier_value "
            "having count(distinct r.record_key) > 2 order by i.identifier_value limit 1"
        )
        row = cur.fetchone()
    assert row is not None
    email = str(row[0])
    on_duckdb = run_cdp(["identity", "explain", email.upper()], duckdb_build.env)
    on_postgres = run_cdp(["identity", "explain", email.upper()], postgres_build.env)
    assert on_postgres.returncode == 0, on_postgres.stdout + on_postgres.stderr
    # The records and links are the same; profile values print per driver (Decimal or
    # float) and the id history holds each build's own time, so compare what is between.
    out = on_duckdb.stdout
    tail = out[out.index(" source records") - 2 : out.index("\nid history")]
    assert on_postgres.stdout.splitlines()[0] == on_duckdb.stdout.splitlines()[0]
    assert tail in on_postgres.stdout
    assert " links" in tail and email in on_postgres.stdout
    assert on_postgres.stdout.count("\n  ") == on_duckdb.stdout.count("\n  ")


@pytest.mark.parametrize(
    ("setting", "value", "hint"),
    [("CDP_PG_USER", "nobody", "CDP_PG_USER"), ("CDP_PG_DATABASE", "nowhere", "CDP_PG_DATABASE")],
)
def test_wrong_postgres_settings_are_one_line(
    postgres_build: EngineBuild, setting: str, value: str, hint: str
) -> None:
    env = postgres_build.env | {setting: value, "CDP_PG_PASSWORD": "s3cret-never-shown"}
    done = run_cdp(["summary"], env)
    output = done.stdout + done.stderr
    assert done.returncode == 2, output
    assert "Traceback" not in output and "s3cret" not in output
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1, output
    assert lines[0].startswith("error: cannot connect to the postgres target postgresql://")
    assert value in lines[0] and f"check {hint}" in lines[0]


# `cdp sync` runs on PostgreSQL (tests/reverse_etl/test_retl_state_postgres.py).
@pytest.mark.parametrize("args", [["privacy", "log"]])
def test_duckdb_only_commands_refuse_postgres_at_start_up(
    postgres_build: EngineBuild, args: list[str]
) -> None:
    env = postgres_build.env | {"CDP_SYNCS_PATH": str(REPO / "syncs.yml")}
    done = run_cdp(args, env)
    output = done.stdout + done.stderr
    assert done.returncode == 2, output
    assert "Traceback" not in output
    assert done.stderr.strip().splitlines() == [
        f"error: {'cdp sync' if args[0] == 'sync' else 'cdp privacy'} works on the DuckDB "
        "warehouse only for now; CDP_TARGET is postgres (docs/engines.md, 'What runs where')"
    ]
