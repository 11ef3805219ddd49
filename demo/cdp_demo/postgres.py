"""The demo on PostgreSQL: `make demo-postgres` (`python -m cdp_demo.postgres`).

Runs `cdp run --demo-destinations` (generate, ingest, build, the example syncs to the
demo's contract servers, summary) with CDP_TARGET=postgres:

- on the server CDP_PG_* names, when CDP_PG_HOST or CDP_PG_PORT is set (the database
  must exist; its data stays);
- otherwise on a throwaway PostgreSQL started for the run from the binaries in
  CDP_PG_BIN (default /usr/lib/postgresql/15/bin, Debian's `postgresql-15`): a
  fresh cluster in a temporary folder, listening on 127.0.0.1 on a free port, trust
  authentication for the superuser `cdp`, `LC_COLLATE=C` and a UTF-8 `LC_CTYPE`
  (docs/engines.md, "Running PostgreSQL locally"), database `cdp`. It is stopped
  and its folder removed when the run ends, however it ends. `initdb` refuses to
  run as root, so as root the server runs as the `postgres` system user.

Options after `--` go to `cdp run` (`python -m cdp_demo.postgres -- --customers 500`).
Exit status: `cdp run`'s; 2 with one line when no server can be had.
"""

from __future__ import annotations

import argparse
import os
import pwd
import shutil
import socket
import subprocess
import sys
import tempfile
from collections.abc import Iterator, Sequence
from contextlib import contextmanager, suppress
from pathlib import Path

PG_BIN_ENV = "CDP_PG_BIN"
DEFAULT_PG_BIN = "/usr/lib/postgresql/15/bin"
SERVER_USER = "postgres"  # only when run as root
USER = DATABASE = "cdp"
TIMEOUT_S = 120


class ServerError(RuntimeError):
    """The throwaway server could not be started; the message is one line."""


def pg_bin() -> Path:
    return Path(os.environ.get(PG_BIN_ENV) or DEFAULT_PG_BIN)


def uses_given_server(env: dict[str, str] | os._Environ[str]) -> bool:
    """CDP_PG_HOST or CDP_PG_PORT set: use that server, start none."""
    return bool(env.get("CDP_PG_HOST") or env.get("CDP_PG_PORT"))


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _as_server_user(command: list[str]) -> list[str]:
    return ["runuser", "-u", SERVER_USER, "--", *command] if os.geteuid() == 0 else command


def _run(command: list[str]) -> None:
    try:
        done = subprocess.run(
            _as_server_user(command), capture_output=True, text=True, timeout=TIMEOUT_S
        )
    except (OSError, subprocess.TimeoutExpired) as exc:
        raise ServerError(f"{Path(command[0]).name}: {exc}") from exc
    if done.returncode != 0:
        last = (done.stderr or done.stdout).strip().splitlines()
        reason = last[-1] if last else f"exit {done.returncode}"
        raise ServerError(f"{Path(command[0]).name} failed: {reason}")


def _check_binaries(folder: Path) -> None:
    missing = [name for name in ("initdb", "pg_ctl", "createdb") if not (folder / name).exists()]
    if missing:
        raise ServerError(
            f"PostgreSQL binaries not found in {folder} ({', '.join(missing)}): install "
            f"Debian's postgresql-15, set {PG_BIN_ENV} to another bin/ folder, or point "
            "CDP_PG_HOST/CDP_PG_PORT at a running server"
        )
    if os.geteuid() == 0:
        try:
            pwd.getpwnam(SERVER_USER)
        except KeyError:
            raise ServerError(
                f"running as root and there is no {SERVER_USER!r} user to run the server as "
                "(initdb refuses root); run as an ordinary user or set CDP_PG_HOST/CDP_PG_PORT"
            ) from None


@contextmanager
def throwaway_server(say: object = print, server_options: str = "") -> Iterator[dict[str, str]]:
    """A fresh PostgreSQL with an empty database `cdp`; yields its CDP_PG_* settings.
    Stopped and removed on exit. `server_options`: more `-c name=value` settings
    (the tests' server turns durability off with them: tests/pg_server.py)."""
    emit = say if callable(say) else print
    folder = pg_bin()
    _check_binaries(folder)
    root = Path(tempfile.mkdtemp(prefix="cdp-demo-pg-"))
    data, sockets, log = root / "data", root / "sockets", root / "server.log"
    sockets.mkdir()
    if os.geteuid() == 0:
        shutil.chown(root, user=SERVER_USER)
        shutil.chown(sockets, user=SERVER_USER)
    port = _free_port()
    started = False
    try:
        emit(f"starting a throwaway PostgreSQL ({folder}) on 127.0.0.1:{port} in {root}")
        _run(
            [
                str(folder / "initdb"),
                "-D",
                str(data),
                "-U",
                USER,
                "--auth=trust",
                "--encoding=UTF8",
                "--lc-collate=C",
                "--lc-ctype=C.UTF-8",
                "--no-sync",
            ]
        )
        options = (
            f"-c listen_addresses=127.0.0.1 -c port={port} "
            f"-c unix_socket_directories={sockets} -c timezone=UTC {server_options}"
        ).strip()
        start = ["start", "-D", str(data), "-l", str(log), "-o", options, "-w", "-t", "60"]
        _run([str(folder / "pg_ctl"), *start])
        started = True
        _run([str(folder / "createdb"), "-h", "127.0.0.1", "-p", str(port), "-U", USER, DATABASE])
        yield {
            "CDP_PG_HOST": "127.0.0.1",
            "CDP_PG_PORT": str(port),
            "CDP_PG_USER": USER,
            "CDP_PG_DATABASE": DATABASE,
        }
    finally:
        if started:
            try:
                _run([str(folder / "pg_ctl"), "stop", "-D", str(data), "-m", "fast", "-w"])
            except ServerError:
                with suppress(ServerError):
                    _run([str(folder / "pg_ctl"), "stop", "-D", str(data), "-m", "immediate"])
        shutil.rmtree(root, ignore_errors=True)
        if started:
            emit(f"stopped the throwaway PostgreSQL on port {port} and removed {root}")


def cdp_command() -> list[str]:
    """The `cdp` of this interpreter's environment (the virtualenv's)."""
    beside = Path(sys.executable).parent / "cdp"
    return [str(beside)] if beside.exists() else [sys.executable, "-m", "cdp.cli"]


def run_demo(cdp_args: Sequence[str], env: dict[str, str]) -> int:
    """`cdp run --demo-destinations ...` on the postgres target of `env`."""
    command = [*cdp_command(), "run", "--demo-destinations", *cdp_args]
    return subprocess.call(command, env={**env, "CDP_TARGET": "postgres"})


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m cdp_demo.postgres", description=__doc__.splitlines()[0]
    )
    parser.add_argument("cdp_args", nargs="*", help="options for `cdp run`, after --")
    options = parser.parse_args(argv)
    env = dict(os.environ)
    if uses_given_server(env):
        where = f"{env.get('CDP_PG_HOST', 'localhost')}:{env.get('CDP_PG_PORT', '5432')}"
        print(f"using the PostgreSQL server of CDP_PG_* ({where}); starting none", flush=True)
        return run_demo(options.cdp_args, env)
    try:
        with throwaway_server(lambda line: print(line, flush=True)) as server:
            return run_demo(options.cdp_args, env | server)
    except ServerError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        return 130


if __name__ == "__main__":
    sys.exit(main())
