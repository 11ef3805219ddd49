"""Helpers for the reverse ETL tests: source data, and the harness registry.

Everything runs over real HTTP to contract servers on free localhost ports and
against a real DuckDB file in tmp_path. (A module with its own name rather than
conftest.py, so tests can import it without clashing with tests/conftest.py.)

Each destination's harness lives in `harness_<kind>.py` and registers itself by
subclassing `harness_base.Harness`; this module imports every such file, so adding
a destination to the shared tests is adding one file.
"""

from __future__ import annotations

import importlib
import os
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any

import duckdb
from cdp_demo.contract_servers import ContractServer
from harness_base import FAST_RETRY, REGISTRY, UNTHROTTLED, Harness, Person

if TYPE_CHECKING:
    from tests.pg_server import PostgresServer

REPO = Path(__file__).resolve().parents[2]
HERE = Path(__file__).resolve().parent

for _module in sorted(HERE.glob("harness_*.py")):
    if _module.stem != "harness_base":
        importlib.import_module(_module.stem)

KINDS: list[str] = sorted(REGISTRY)
"""Every destination with a harness; the shared tests are parametrised over these."""

SECRETS: dict[str, tuple[str, str]] = {k: (h.secret_env, h.secret) for k, h in REGISTRY.items()}


def people(n: int, start: int = 1) -> list[Person]:
    return [(i, f"person{i}@example.com", f"First{i}") for i in range(start, start + n)]


def write_source(warehouse: Path, rows: list[Person]) -> None:
    """Replace marts.audience with `rows`."""
    con = duckdb.connect(str(warehouse))
    try:
        con.execute("create schema if not exists marts")
        con.execute(
            "create or replace table marts.audience "
            "(customer_id integer, email varchar, first_name varchar)"
        )
        if rows:
            con.executemany("insert into marts.audience values (?, ?, ?)", rows)
    finally:
        con.close()


def write_pg_source(server: PostgresServer, rows: list[Person]) -> None:
    """Replace marts.audience with `rows` in the PostgreSQL `server`'s database."""
    import psycopg2

    con = psycopg2.connect(**server.connect_kwargs())
    con.autocommit = True
    try:
        with con.cursor() as cur:
            cur.execute("create schema if not exists marts")
            cur.execute("drop table if exists marts.audience")
            cur.execute(
                "create table marts.audience (customer_id integer, email text, first_name text)"
            )
            cur.executemany("insert into marts.audience values (%s, %s, %s)", rows)
    finally:
        con.close()


def pg_rows(server: PostgresServer, sql: str) -> list[tuple[Any, ...]]:
    import psycopg2

    con = psycopg2.connect(**server.connect_kwargs())
    try:
        with con.cursor() as cur:
            cur.execute(sql)
            return cur.fetchall()
    finally:
        con.close()


def query(warehouse: Path, sql: str) -> list[tuple[Any, ...]]:
    con = duckdb.connect(str(warehouse))
    try:
        return con.execute(sql).fetchall()
    finally:
        con.close()


def expected_audience(rows: list[Person], invalid: set[str] = frozenset()) -> dict[str, str]:
    return {email: first for _, email, first in rows if email not in invalid}


def make_server(kind: str, **kwargs: Any) -> ContractServer:
    return REGISTRY[kind].make_server(**kwargs)


@contextmanager
def harness_for(kind: str, mode: str = "audience", **server_kwargs: Any) -> Iterator[Harness]:
    """A started contract server for `kind` and its harness; stopped afterwards."""
    with make_server(kind, **server_kwargs) as server:
        yield REGISTRY[kind](server, mode)


def subprocess_env(**extra: str) -> dict[str, str]:
    """Environment for running the CLI in a child process from this checkout (this
    folder included, for crashing_sync)."""
    env = dict(os.environ)
    path = [str(REPO), str(HERE), env.get("PYTHONPATH")]
    env["PYTHONPATH"] = os.pathsep.join(filter(None, path))
    env.update(extra)
    return env


PYTHON = sys.executable


def sync_command(crash_at: str | None = None) -> list[str]:
    """`cdp sync` for a child process; with `crash_at` ("<point>:<n>,..."), the same
    command run by crashing_sync.py, which exits at those engine checkpoints."""
    if crash_at is None:
        return [PYTHON, "-m", "reverse_etl.cli"]
    return [PYTHON, "-m", "crashing_sync", crash_at]


__all__ = [
    "FAST_RETRY",
    "KINDS",
    "PYTHON",
    "REGISTRY",
    "REPO",
    "SECRETS",
    "UNTHROTTLED",
    "Harness",
    "Person",
    "expected_audience",
    "harness_for",
    "make_server",
    "people",
    "pg_rows",
    "query",
    "subprocess_env",
    "sync_command",
    "write_pg_source",
    "write_source",
]
