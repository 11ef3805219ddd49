"""A real PostgreSQL 15 server for tests, started from the installed binaries.

The server comes from the PostgreSQL binaries installed on the machine
(CDP_PG_BIN, default /usr/lib/postgresql/15/bin). `initdb` refuses to run as
root, so when the tests run as root the server runs as the unprivileged
`postgres` system user (created by the Debian package; `runuser` switches to
it), in a private folder under the system temp dir that this user owns. It
listens on 127.0.0.1 on a free port and on a unix socket in that folder, with
trust authentication for the local superuser `cdp`; it is stopped and its
folder removed afterwards, whether the tests passed or not.

It is the demo's throwaway server (`cdp_demo.postgres.throwaway_server`, the
one routine that starts one), with durability turned off for speed.

Used by the session fixtures of tests/engines (landing, cross-engine builds)
and tests/reverse_etl (the postgres destination).
"""

from __future__ import annotations

import dataclasses
import os
import pwd
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

import pytest
from cdp_demo.postgres import SERVER_USER, pg_bin, throwaway_server

# A test server's data is thrown away: no need to survive a crash of the machine.
FAST_OPTIONS = "-c fsync=off -c synchronous_commit=off -c full_page_writes=off"


@dataclass(frozen=True)
class PostgresServer:
    host: str
    port: int
    user: str
    database: str

    def env(self) -> dict[str, str]:
        """The CDP_PG_* variables profiles.yml and the loader read."""
        return {
            "CDP_PG_HOST": self.host,
            "CDP_PG_PORT": str(self.port),
            "CDP_PG_USER": self.user,
            "CDP_PG_DATABASE": self.database,
        }

    def connect_kwargs(self) -> dict[str, Any]:
        """Keyword arguments for psycopg2.connect (and tests/engines/digest)."""
        return {"host": self.host, "port": self.port, "user": self.user, "dbname": self.database}


def skip_unless_available() -> None:
    """pytest.skip when psycopg2, the binaries or (as root) the server user are missing."""
    pytest.importorskip(
        "psycopg2", reason="psycopg2 is not installed (pip install 'cdp[postgres]')"
    )
    if not (pg_bin() / "initdb").exists():
        pytest.skip(f"PostgreSQL binaries not found in {pg_bin()} (set CDP_PG_BIN)")
    if os.geteuid() == 0:
        try:
            pwd.getpwnam(SERVER_USER)
        except KeyError:
            pytest.skip(f"running as root and there is no {SERVER_USER!r} user to run the server")


@contextmanager
def running_postgres() -> Iterator[PostgresServer]:
    """A fresh PostgreSQL server with an empty database `cdp`; stopped on exit."""
    skip_unless_available()
    with throwaway_server(lambda _line: None, FAST_OPTIONS) as settings:
        yield PostgresServer(
            host=settings["CDP_PG_HOST"],
            port=int(settings["CDP_PG_PORT"]),
            user=settings["CDP_PG_USER"],
            database=settings["CDP_PG_DATABASE"],
        )


def copy_database(server: PostgresServer, name: str) -> PostgresServer:
    """`CREATE DATABASE name TEMPLATE <server's database>` (dropped first if it
    exists): a module that writes (syncs, erasures) works in its own copy of a shared
    build, so no other module sees its state whatever order they run in. The template
    must have no session, so idle connections to it are ended first."""
    import psycopg2

    con = psycopg2.connect(**(server.connect_kwargs() | {"dbname": "postgres"}))
    con.autocommit = True
    try:
        with con.cursor() as cur:
            cur.execute(f'drop database if exists "{name}"')
            for attempt in range(20):
                cur.execute(
                    "select pg_terminate_backend(pid) from pg_stat_activity "
                    "where datname = %s and pid <> pg_backend_pid()",
                    (server.database,),
                )
                try:
                    cur.execute(f'create database "{name}" template "{server.database}"')
                    break
                except psycopg2.errors.ObjectInUse:
                    if attempt == 19:
                        raise
                    time.sleep(0.25)
    finally:
        con.close()
    return dataclasses.replace(server, database=name)
