"""Fixtures for the reverse ETL tests; helpers live in retl_support.py."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from retl_support import KINDS, SECRETS, Harness, harness_for, people, write_source

from tests.pg_server import PostgresServer, running_postgres


@pytest.fixture
def warehouse(tmp_path: Path) -> Path:
    path = tmp_path / "warehouse.duckdb"
    write_source(path, people(30))
    return path


@pytest.fixture(autouse=True)
def secrets_env(monkeypatch: pytest.MonkeyPatch) -> None:
    for variable, value in SECRETS.values():
        monkeypatch.setenv(variable, value)


@pytest.fixture(params=KINDS)
def harness(request: pytest.FixtureRequest) -> Iterator[Harness]:
    with harness_for(request.param) as h:
        yield h


@pytest.fixture(scope="session")
def postgres_server() -> Iterator[PostgresServer]:
    """A real PostgreSQL 15 (tests/pg_server.py) with an empty database `cdp`, shared by
    this package's tests that run on one worker (each uses its own sync names)."""
    pytest.importorskip("psycopg2", reason="psycopg2 is not installed")
    with running_postgres() as server:
        yield server
