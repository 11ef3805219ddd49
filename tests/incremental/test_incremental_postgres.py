"""The incremental build on a real PostgreSQL server: a new batch of events is
processed incrementally (delete+insert), identity stitching runs incrementally,
and the result equals a --full-refresh build of the same data."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.engines.digest import differences, postgres_digests
from tests.engines.engine_builds import base_env, run_cdp
from tests.incremental.conftest import COMPARED, BatchFiles, build
from tests.pg_server import PostgresServer, running_postgres

pytestmark = pytest.mark.slow

CLUSTERS = ("intermediate.int_identity_clusters",)
NOT_COMPARED = {"*": {"_processed_at", "iterations"}}


@pytest.fixture(scope="module")
def postgres() -> Iterator[PostgresServer]:
    pytest.importorskip("psycopg2", reason="dbt-postgres (and psycopg2) is not installed")
    with running_postgres() as server:
        yield server


def _land(folder: Path, env: dict[str, str]) -> None:
    landed = run_cdp(["ingest", "--input", str(folder)], env)
    assert landed.returncode == 0, landed.stdout + landed.stderr


def test_incremental_build_on_postgres_equals_a_full_build(
    batch_files: BatchFiles, postgres: PostgresServer, tmp_path: Path
) -> None:
    env = base_env(tmp_path, batch_files.data, "postgres") | postgres.env()
    warehouse = tmp_path / "unused.duckdb"
    _land(batch_files.landing, env)
    build(tmp_path, warehouse, engine_env=env)
    _land(batch_files.held_back, env)

    output = build(tmp_path, warehouse, engine_env=env)

    assert "int_identity_clusters: connected components incremental" in output
    import psycopg2

    with psycopg2.connect(**postgres.connect_kwargs()) as con, con.cursor() as cur:
        # two builds wrote stg_web__events: the first batch's rows kept theirs
        cur.execute("select count(distinct _processed_at) from staging.stg_web__events")
        assert cur.fetchone() == (2,)
    relations = (*COMPARED, *CLUSTERS)
    incremental = postgres_digests(postgres.connect_kwargs(), relations, NOT_COMPARED)
    build(tmp_path, warehouse, "--full-refresh", engine_env=env)
    full = postgres_digests(postgres.connect_kwargs(), relations, NOT_COMPARED)
    assert differences(incremental, full, relations) == []
