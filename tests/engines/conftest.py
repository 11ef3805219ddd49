"""Fixtures for the engine tests: the generated data and the DuckDB reference build
both comparisons use (test_cross_engine.py with PostgreSQL, test_cross_engine_spark.py
with Spark), which are the suite's shared business (tests/business.py), and a real
PostgreSQL 15 server started per session.

The DuckDB build runs in a background thread from the moment a test first
needs it, so that it overlaps the PostgreSQL build. The server itself
(binaries, running as the `postgres` user under root, trust authentication
for the superuser `cdp`) is started by tests/pg_server.py, which the reverse
ETL tests share.
"""

from __future__ import annotations

from collections.abc import Iterator
from concurrent.futures import Future
from pathlib import Path

import pytest

from tests.business import Business
from tests.engines.engine_builds import EngineBuild, base_env, land_and_build
from tests.pg_server import PostgresServer, running_postgres

__all__ = ["PostgresServer", "postgres_server"]


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line(
        "markers", "spark: cross-engine tests on Spark (slow; only with CDP_TEST_SPARK=1)"
    )


@pytest.fixture(scope="session")
def postgres_server() -> Iterator[PostgresServer]:
    """A fresh PostgreSQL server with an empty database `cdp`, for the whole session."""
    pytest.importorskip("psycopg2", reason="dbt-postgres (and psycopg2) is not installed")
    pytest.importorskip("dbt.adapters.postgres", reason="dbt-postgres is not installed")
    with running_postgres() as server:
        yield server


@pytest.fixture(scope="session")
def engine_data(shared_business_data: Path) -> Path:
    """The generated landing files every engine lands and builds (read only):
    the shared business's."""
    return shared_business_data


@pytest.fixture(scope="session")
def duckdb_build_started(shared_business_started: Future[Business]) -> Future[Business]:
    """The DuckDB reference build (`cdp ingest`, `cdp build`): the shared business's,
    running in the background."""
    return shared_business_started


@pytest.fixture
def duckdb_build(shared_business_started: Future[Business]) -> EngineBuild:
    """The DuckDB reference build, finished (the tests check that it succeeded).

    Function-scoped on purpose: pytest sets up wider-scoped fixtures first, so as a
    session fixture this wait came before test_cross_engine's module fixture
    `postgres_build`, and PostgreSQL landed and built only after DuckDB had
    finished. Waiting on the future per test costs nothing."""
    return shared_business_started.result().build


@pytest.fixture(scope="session")
def postgres_build(
    engine_data: Path,
    duckdb_build_started: Future[Business],
    postgres_server: PostgresServer,
    tmp_path_factory: pytest.TempPathFactory,
) -> EngineBuild:
    """The shared business landed and built on PostgreSQL (`cdp ingest`, `cdp build`, in
    database `cdp`), while the DuckDB reference builds beside it. Session-wide, so that
    every module of the package reads the one build: test_cross_engine.py compares it
    with DuckDB, then test_demo_postgres.py runs the demo's syncs and summary on it, and
    test_privacy_postgres.py erases in a copy of it (`CREATE DATABASE ... TEMPLATE cdp`)."""
    work = tmp_path_factory.mktemp("postgres")
    return land_and_build(
        "postgres", base_env(work, engine_data, "postgres") | postgres_server.env(), work
    )
