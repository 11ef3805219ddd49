"""A real PostgreSQL 15 server for tests, started from the installed binaries.

The server comes from the PostgreSQL binaries installed on the machine
(CDP_PG_BIN, default /usr/lib/postgresql/15/bin). `initdb` refuses to run as
root, so when the tests run as root the server runs as the unprivileged
`postgres` system user (created by the Debian package; `runuser` switches to
it), in a private folder under the system temp dir that this user owns. It
listens on 127.0.0.1 on a free port and on a unix socket in that folder, with
trust authentication for the local superuser `cdp`; it is stopped and its
folder removed afterwards, whether the tests passed or not.

Used by the session fixtures of tests/engines (landing, cross-engine builds)
and tests/reverse_etl (the postgres destination).
"""

from __future__ import annotations

import os
import pwd
import shutil
import socket
import subprocess
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

PG_BIN = Path(os.environ.get("CDP_PG_BIN", "/usr/lib/postgresql/15/bin"))
SERVER_USER = "postgres"  # only used when the tests run as root
START_TIMEOUT_S = 60


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


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _as_server_user(command: list[str]) -> list[str]:
    if os.geteuid() != 0:
        return command
    return ["runuser", "-u", SERVER_USER, "--", *command]


def _run(command: list[str]) -> None:
    done = subprocess.run(
        _as_server_user(command), capture_output=True, text=True, check=False, timeout=120
    )
    if done.returncode != 0:
        raise RuntimeError(f"{' '.join(command)} failed:\n{done.stdout}\n{done.stderr}")


def skip_unless_available() -> None:
    """pytest.skip when psycopg2, the binaries or (as root) the server user are missing."""
    pytest.importorskip(
        "psycopg2", reason="psycopg2 is not installed (pip install 'cdp[postgres]')"
    )
    if not (PG_BIN / "initdb").exists():
        pytest.skip(f"PostgreSQL binaries not found in {PG_BIN} (set CDP_PG_BIN)")
    if os.geteuid() == 0:
        try:
            pwd.getpwnam(SERVER_USER)
        except KeyError:
            pytest.skip(f"running as root and there is no {SERVER_USER!r} user to run the server")


@contextmanager
def running_postgres() -> Iterator[PostgresServer]:
    """A fresh PostgreSQL server with an empty database `cdp`; stopped on exit."""
    skip_unless_available()
    root = Path(tempfile.mkdtemp(prefix="cdp-pg-"))
    data, sockets, log = root / "data", root / "sockets", root / "server.log"
    sockets.mkdir()
    if os.geteuid() == 0:
        shutil.chown(root, user=SERVER_USER)
        shutil.chown(sockets, user=SERVER_USER)
    port = _free_port()
    started = False
    try:
        _run(
            [
                str(PG_BIN / "initdb"),
                "-D",
                str(data),
                "-U",
                "cdp",
                "--auth=trust",
                "--encoding=UTF8",
                "--lc-collate=C",
                "--lc-ctype=C.UTF-8",
                "--no-sync",
            ]
        )
        options = (
            f"-c listen_addresses=127.0.0.1 -c port={port} "
            f"-c unix_socket_directories={sockets} -c fsync=off "
            "-c synchronous_commit=off -c full_page_writes=off -c timezone=UTC"
        )
        _run(
            [
                str(PG_BIN / "pg_ctl"),
                "start",
                "-D",
                str(data),
                "-l",
                str(log),
                "-o",
                options,
                "-w",
                "-t",
                str(START_TIMEOUT_S),
            ]
        )
        started = True
        _run([str(PG_BIN / "createdb"), "-h", "127.0.0.1", "-p", str(port), "-U", "cdp", "cdp"])
        yield PostgresServer(host="127.0.0.1", port=port, user="cdp", database="cdp")
    finally:
        if started:
            try:
                _run([str(PG_BIN / "pg_ctl"), "stop", "-D", str(data), "-m", "fast", "-w"])
            except (RuntimeError, subprocess.TimeoutExpired):
                with suppress(RuntimeError, subprocess.TimeoutExpired):
                    _run([str(PG_BIN / "pg_ctl"), "stop", "-D", str(data), "-m", "immediate"])
        shutil.rmtree(root, ignore_errors=True)
