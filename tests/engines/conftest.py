"""Fixtures for the engine tests: a real PostgreSQL 15 server started per session.

The server itself (binaries, running as the `postgres` user under root, trust
authentication for the superuser `cdp`) is started by tests/pg_server.py,
which the reverse ETL tests share.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.pg_server import PostgresServer, running_postgres

__all__ = ["PostgresServer", "postgres_server"]


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line(
        "markers", "spark: cross-engine tests on Spark (slow; run with CDP_TEST_SPARK=1)"
    )


@pytest.fixture(scope="session")
def postgres_server() -> Iterator[PostgresServer]:
    """A fresh PostgreSQL server with an empty database `cdp`, for the whole session."""
    pytest.importorskip("psycopg2", reason="dbt-postgres (and psycopg2) is not installed")
    pytest.importorskip("dbt.adapters.postgres", reason="dbt-postgres is not installed")
    with running_postgres() as server:
        yield server
