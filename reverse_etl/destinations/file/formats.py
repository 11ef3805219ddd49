"""Atomic, durable writes of CSV and Parquet tables, and reading them back.

A file is written to a hidden temporary file in the target's own directory,
flushed and fsynced, then renamed over the target with `os.replace` (atomic on
POSIX within one file system), and the directory is fsynced so the rename
survives a power cut. A reader therefore sees the old file or the new one,
never half a file. Temporary files left by a killed process start with `.` and
end in `.tmp`; `remove_stale_temporaries` deletes them.

Every value is text (or NULL): CSV has no types, and Parquet columns are
nullable strings so files of one sync always share a schema. CSV cannot tell
NULL from an empty string; both are written as an empty field.
"""

from __future__ import annotations

import contextlib
import csv
import io
import os
import tempfile
from collections.abc import Callable, Iterable, Sequence
from pathlib import Path
from typing import IO, Protocol

import pyarrow as pa
import pyarrow.parquet as pq

Cell = str | None
Record = dict[str, Cell]

TEMP_SUFFIX = ".tmp"


def _fsync_directory(directory: Path) -> None:
    fd = os.open(directory, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def atomic_write(path: Path, write: Callable[[IO[bytes]], None]) -> None:
    """Write `path` through `write(binary file)` so readers never see a partial file."""
    fd, temporary = tempfile.mkstemp(prefix=f".{path.name}.", suffix=TEMP_SUFFIX, dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as handle:
            write(handle)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(temporary, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(temporary)
        raise
    _fsync_directory(path.parent)


def remove_stale_temporaries(directory: Path, stem: str) -> int:
    """Delete `.{stem}*.tmp` files a killed writer left behind; returns how many."""
    removed = 0
    if directory.is_dir():
        for leftover in directory.glob(f".{stem}*{TEMP_SUFFIX}"):
            with contextlib.suppress(OSError):
                leftover.unlink()
                removed += 1
    return removed


class TableFormat(Protocol):
    extension: str

    def cell(self, value: Cell) -> Cell:
        """How a value looks after a round trip through this format."""

    def write(self, path: Path, columns: Sequence[str], records: Iterable[Record]) -> None: ...

    def read(self, path: Path) -> list[Record]: ...


class CsvFormat:
    """UTF-8 CSV with a header row, excel dialect (CRLF, minimal quoting)."""

    extension = "csv"

    def cell(self, value: Cell) -> Cell:
        return "" if value is None else value

    def write(self, path: Path, columns: Sequence[str], records: Iterable[Record]) -> None:
        def write(handle: IO[bytes]) -> None:
            text = io.TextIOWrapper(handle, encoding="utf-8", newline="")
            writer = csv.writer(text)
            writer.writerow(columns)
            for record in records:
                writer.writerow([self.cell(record.get(c)) for c in columns])
            text.flush()
            text.detach()

        atomic_write(path, write)

    def read(self, path: Path) -> list[Record]:
        with path.open(encoding="utf-8", newline="") as handle:
            return [dict(row) for row in csv.DictReader(handle)]


class ParquetFormat:
    """Parquet with one nullable string column per field."""

    extension = "parquet"

    def cell(self, value: Cell) -> Cell:
        return value

    def write(self, path: Path, columns: Sequence[str], records: Iterable[Record]) -> None:
        rows = list(records)
        table = pa.table({c: pa.array([r.get(c) for r in rows], type=pa.string()) for c in columns})
        atomic_write(path, lambda handle: pq.write_table(table, handle))

    def read(self, path: Path) -> list[Record]:
        return [
            {k: None if v is None else str(v) for k, v in row.items()}
            for row in pq.read_table(path).to_pylist()
        ]


FORMATS: dict[str, TableFormat] = {"csv": CsvFormat(), "parquet": ParquetFormat()}
