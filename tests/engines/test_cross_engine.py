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

from concurrent.futures import Future
from pathlib import Path

import pytest

from cdp.landing import load_registry
from tests.business import Business
from tests.engines import digest
from tests.engines.conftest import PostgresServer
from tests.engines.engine_builds import (
    EXCLUDED_COLUMNS,
    REPO,
    EngineBuild,
    base_env,
    check_models,
    land_and_build,
    raw_relations,
    run_cdp,
    xfail_if_incomplete,
)

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def postgres_build(
    engine_data: Path,
    duckdb_build_started: Future[Business],
    postgres_server: PostgresServer,
    tmp_path_factory: pytest.TempPathFactory,
) -> EngineBuild:
    """PostgreSQL lands and builds while the DuckDB reference builds beside it."""
    work = tmp_path_factory.mktemp("postgres")
    return land_and_build(
        "postgres", base_env(work, engine_data, "postgres") | postgres_server.env(), work
    )


def _postgres_kwargs(server: PostgresServer) -> dict[str, object]:
    return {
        "host": server.host,
        "port": server.port,
        "user": server.user,
        "dbname": server.database,
    }


def _raw_relations() -> list[str]:
    return raw_relations(sorted(load_registry(REPO / "dbt_project").tables))


def test_landing_matches(
    duckdb_build: EngineBuild, postgres_build: EngineBuild, postgres_server: PostgresServer
) -> None:
    relations = _raw_relations()
    expected = digest.duckdb_digests(duckdb_build.work / "cdp.duckdb", relations, EXCLUDED_COLUMNS)
    found = digest.postgres_digests(_postgres_kwargs(postgres_server), relations, EXCLUDED_COLUMNS)
    assert expected["raw._rejects"].rows > 0, "the sample data should exercise the rejects path"
    assert digest.differences(expected, found, relations) == []


def test_landing_twice_adds_nothing_on_postgres(
    postgres_build: EngineBuild, postgres_server: PostgresServer
) -> None:
    relations = _raw_relations()
    kwargs = _postgres_kwargs(postgres_server)
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
    found = digest.postgres_digests(_postgres_kwargs(postgres_server), relations, EXCLUDED_COLUMNS)
    assert digest.differences(expected, found, relations) == []
    xfail_if_incomplete(duckdb_build, postgres_build)
