"""The hostile-input corpus (tests/landing/corpus.py) lands on PostgreSQL exactly as
on DuckDB: the same manifest, the same rejects, the same rows at the same lines,
and the same new columns (capped; none from a file whose rows all fail)."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import duckdb
import pytest

from cdp.landing import ingest
from tests.engines.conftest import PostgresServer
from tests.landing.corpus import cases, write_corpus
from tests.test_landing import SOURCES_YAML

MANIFEST = (
    "select source_file, status, rows_in, rows_loaded, rows_rejected, error "
    "from raw._landed_files order by source_file"
)
REJECTS = (
    "select source_file, line_number, reason, raw_record from raw._rejects "
    "order by source_file, line_number"
)
COLUMNS = (
    "select table_name, column_name from information_schema.columns "
    "where table_schema = 'raw' and table_name in ('orders', 'events', 'order_lines') "
    "order by table_name, ordinal_position"
)


def _rows(table: str) -> str:
    return f"select _source_file, _source_line from raw.{table} order by 1, 2"


QUERIES = [MANIFEST, REJECTS, COLUMNS, _rows("orders"), _rows("events"), _rows("order_lines")]


@pytest.fixture
def pg_corpus(postgres_server: PostgresServer, monkeypatch: pytest.MonkeyPatch) -> PostgresServer:
    """A fresh database of its own on the session's server, set in CDP_PG_*."""
    import psycopg2

    con = psycopg2.connect(**postgres_server.connect_kwargs())
    con.autocommit = True
    with con.cursor() as cur:
        cur.execute('drop database if exists "landing_corpus"')
        cur.execute('create database "landing_corpus"')
    con.close()
    server = replace(postgres_server, database="landing_corpus")
    for key, value in server.env().items():
        monkeypatch.setenv(key, value)
    return server


def test_the_corpus_lands_on_postgres_as_on_duckdb(
    pg_corpus: PostgresServer, tmp_path: Path
) -> None:
    import psycopg2

    folder = tmp_path / "dbt_project" / "models" / "staging" / "shop"
    folder.mkdir(parents=True)
    (folder / "_shop__sources.yml").write_text(SOURCES_YAML)
    project = tmp_path / "dbt_project"
    landing = tmp_path / "landing"
    for table in ("orders", "events", "order_lines"):
        (landing / table).mkdir(parents=True)
    write_corpus(landing, cases())
    duckdb_path = tmp_path / "cdp.duckdb"

    on_duckdb = ingest(landing, duckdb_path, project)
    on_postgres = ingest(landing, duckdb_path, project, target="postgres")

    assert on_postgres.all_warnings() == on_duckdb.all_warnings()
    with duckdb.connect(str(duckdb_path), read_only=True) as con:
        expected = [con.execute(q).fetchall() for q in QUERIES]
    pg = psycopg2.connect(**pg_corpus.connect_kwargs())
    try:
        with pg.cursor() as cur:
            found = []
            for q in QUERIES:
                cur.execute(q)
                found.append(cur.fetchall())
    finally:
        pg.close()
    assert expected[0], "the corpus landed nothing"
    for query, want, got in zip(QUERIES, expected, found, strict=True):
        assert got == want, query
