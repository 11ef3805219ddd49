"""Compaction: rewrite the DuckDB warehouse into a fresh file and swap it in atomically.

A deletion leaves the deleted rows' bytes in the file's free blocks until DuckDB
reuses them: an erased person's email and phone can still be read from the file
with `strings`. Compaction copies every live object (schemas, tables with their
constraints, views, sequences at their current values, macros) into a new file
and replaces the old one, so the free blocks go with it.

Two steps, because the file cannot be replaced while a connection holds it:

1. `copy_to_fresh_file(con, warehouse)`, on the connection the privacy command
   already has (no new connection): `checkpoint`, then `ATTACH` a new file next
   to the warehouse and `COPY FROM DATABASE` into it, then `DETACH`. The
   connection's write lock keeps every other process out meanwhile.
2. `swap_in(fresh, warehouse)`, after that connection is closed: the fresh
   file is fsynced and renamed over the warehouse (`os.replace`, atomic on one
   file system), then the folder is fsynced. A reader sees the old file or the
   new one, never half of either. If a write-ahead log appeared next to the
   warehouse (another process wrote in the moment between close and rename), the
   swap is refused and the fresh copy removed: nothing is lost, run it again.

`cdp privacy finish --compact` runs both after completing erasures. The old
file's inode is freed by the rename; whether its blocks are overwritten on the
disk is up to the file system (docs/privacy.md, Limits).
"""

from __future__ import annotations

import os
import stat
import uuid
from dataclasses import dataclass
from pathlib import Path

import duckdb

from cdp.privacy.subject import PrivacyError, quoted

ALIAS = "cdp_compact"


@dataclass(frozen=True)
class Compaction:
    fresh: Path
    bytes_before: int

    def render(self, bytes_after: int, seconds: float) -> str:
        mib = 1024 * 1024
        return (
            f"compacted the warehouse: {self.bytes_before / mib:.1f} MiB -> "
            f"{bytes_after / mib:.1f} MiB in {seconds:.1f}s (free blocks dropped)"
        )


def _wal(path: Path) -> Path:
    return path.with_name(path.name + ".wal")


def copy_to_fresh_file(con: duckdb.DuckDBPyConnection, warehouse: Path) -> Compaction:
    """Copy the open warehouse into a new file beside it; return the new file's path."""
    fresh = warehouse.with_name(f".{warehouse.name}.compact-{uuid.uuid4().hex[:8]}")
    row = con.execute("select current_database()").fetchone()
    assert row is not None
    source = str(row[0])
    con.execute("checkpoint")
    bytes_before = warehouse.stat().st_size
    literal = "'" + str(fresh).replace("'", "''") + "'"
    try:
        con.execute(f"attach {literal} as {ALIAS}")
        try:
            con.execute(f"copy from database {quoted(source)} to {ALIAS}")
        finally:
            con.execute(f"detach {ALIAS}")
    except BaseException:
        fresh.unlink(missing_ok=True)
        _wal(fresh).unlink(missing_ok=True)
        raise
    if _wal(fresh).exists():  # DETACH checkpoints; a log left means it did not finish
        fresh.unlink(missing_ok=True)
        _wal(fresh).unlink(missing_ok=True)
        raise PrivacyError("compaction: the fresh copy was not checkpointed; nothing swapped")
    return Compaction(fresh, bytes_before)


def swap_in(compaction: Compaction, warehouse: Path) -> int:
    """Atomically replace `warehouse` by the fresh copy (the copying connection must be
    closed). Returns the new file's size."""
    fresh = compaction.fresh
    if _wal(warehouse).exists():
        fresh.unlink(missing_ok=True)
        raise PrivacyError(
            "compaction: another process wrote to the warehouse after the copy "
            f"({_wal(warehouse).name} exists); nothing swapped, run it again"
        )
    os.chmod(fresh, stat.S_IMODE(warehouse.stat().st_mode))
    with fresh.open("rb+") as handle:
        os.fsync(handle.fileno())
    os.replace(fresh, warehouse)
    directory = os.open(warehouse.parent, os.O_RDONLY)
    try:
        os.fsync(directory)
    finally:
        os.close(directory)
    return warehouse.stat().st_size
