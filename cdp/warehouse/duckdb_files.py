"""Opening DuckDB: files read-only or read-write, waiting for another process's lock.

DuckDB admits one process that writes a file, or any number that only read it,
never both. A second process gets an IO error naming the holder's pid. Here
every open retries until the file is free or the lock timeout
(CDP_LOCK_TIMEOUT, seconds, default 60) has passed, printing one line when it
starts waiting, then fails with one line that names the holder: its pid and,
where /proc tells, its command line.
"""

from __future__ import annotations

import os
import re
import sys
import time
from collections.abc import Callable
from pathlib import Path

import duckdb

from cdp.warehouse.errors import WarehouseError, WarehouseLocked, one_line

LOCK_TIMEOUT_ENV = "CDP_LOCK_TIMEOUT"
DEFAULT_LOCK_TIMEOUT_S = 60.0
_POLL_S = 0.25
_HOLDER = re.compile(r"Conflicting lock is held in (?P<program>.*?) \(PID (?P<pid>\d+)\)")

Say = Callable[[str], None]


def lock_timeout() -> float:
    """Seconds to wait for another process's lock (CDP_LOCK_TIMEOUT; 0 = do not wait)."""
    value = os.environ.get(LOCK_TIMEOUT_ENV)
    if value is None or not value.strip():
        return DEFAULT_LOCK_TIMEOUT_S
    try:
        seconds = float(value)
    except ValueError:
        seconds = -1.0
    if not seconds >= 0:  # also rejects nan
        raise WarehouseError(f"{LOCK_TIMEOUT_ENV} must be a number of seconds >= 0, not {value!r}")
    return seconds


def _stderr(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


def command_line(pid: int) -> str | None:
    """The command line of process `pid`, from /proc where the OS has it."""
    try:
        raw = Path(f"/proc/{pid}/cmdline").read_bytes()
    except OSError:
        return None
    words = [w.decode("utf-8", "replace") for w in raw.split(b"\0") if w]
    if not words:
        return None
    text = " ".join(" ".join(words).split())  # one line, whatever the arguments hold
    return text if len(text) <= 160 else text[:157] + "..."


def lock_holder(exc: BaseException) -> str | None:
    """'pid 123 (cdp sync)' for DuckDB's lock conflict error; None for any other error."""
    match = _HOLDER.search(str(exc))
    if not match:
        return None
    pid = int(match["pid"])
    return f"pid {pid} ({command_line(pid) or match['program']})"


def connect_duckdb(
    path: Path | str,
    *,
    read_only: bool = False,
    timeout: float | None = None,
    say: Say | None = None,
) -> duckdb.DuckDBPyConnection:
    """Open the DuckDB file at `path`, waiting up to `timeout` seconds (default
    CDP_LOCK_TIMEOUT) while another process holds it. A read-write open creates
    the file; a read-only open of a missing file is a WarehouseError.

    Raises WarehouseLocked (naming the holder) when the wait ran out, and
    WarehouseError (one line) when the file cannot be opened for another reason.
    """
    path = Path(path)
    if read_only and not path.is_file():
        raise WarehouseError(f"warehouse not found: {path}; run `cdp ingest` and `cdp build`")
    wait = lock_timeout() if timeout is None else timeout
    deadline = time.monotonic() + wait
    announced = False
    while True:
        try:
            return duckdb.connect(str(path), read_only=read_only)
        except duckdb.IOException as exc:
            holder = lock_holder(exc)
            if holder is None:
                raise WarehouseError(f"cannot open warehouse {path}: {one_line(exc)}") from exc
            left = deadline - time.monotonic()
            if left <= 0:
                raise WarehouseLocked(
                    f"warehouse {path} is in use by {holder}; gave up after {wait:g}s "
                    f"(set {LOCK_TIMEOUT_ENV} to wait longer)"
                ) from exc
            if not announced:
                (say or _stderr)(
                    f"warehouse {path} is in use by {holder}; waiting up to {wait:g}s "
                    f"({LOCK_TIMEOUT_ENV})"
                )
                announced = True
            time.sleep(min(_POLL_S, left))
        except duckdb.Error as exc:
            raise WarehouseError(f"cannot open warehouse {path}: {one_line(exc)}") from exc


def wait_until_free(
    path: Path | str, *, timeout: float | None = None, say: Say | None = None
) -> None:
    """Wait until no other process holds the file (for a writer in another process,
    such as dbt): open it read-write and close it again. Nothing to wait for when the
    file does not exist yet."""
    if Path(path).is_file():
        connect_duckdb(path, timeout=timeout, say=say).close()


def connect_memory() -> duckdb.DuckDBPyConnection:
    """A private in-memory DuckDB (validation, scratch work); nothing to wait for."""
    return duckdb.connect(":memory:")
