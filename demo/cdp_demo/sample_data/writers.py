"""Landing files: batches of rows appended to CSV, JSON-lines and Parquet files.

A batch holds columns in the table's declared types (see `Batch`); the writer
renders them in the file format, splits them into file parts, breaks a few
CSV/JSONL rows on purpose and records every file with its row count and the
physical line of each broken row.
"""

from __future__ import annotations

import csv
import io
import itertools
import json
import random
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq

from cdp_demo.sample_data.malformed import CSV_KINDS, JSONL_KINDS, corrupt_csv, corrupt_jsonl
from cdp_demo.sample_data.tables import (
    BIGINT,
    BOOLEAN,
    DATE,
    DECIMAL,
    INTEGER,
    JSON,
    TIMESTAMP,
    VARCHAR,
    Table,
)
from cdp_demo.sample_data.timeline import NO_TIME

ColumnValues = Sequence[Any] | np.ndarray
MIN_ROWS_FOR_FORCED_MALFORMED = 10
_NEEDS_ESCAPE = re.compile(r'["\\\x00-\x1f]')

_ARROW_TYPES: dict[str, pa.DataType] = {
    VARCHAR: pa.string(),
    BIGINT: pa.int64(),
    INTEGER: pa.int32(),
    DECIMAL: pa.decimal128(12, 2),
    BOOLEAN: pa.bool_(),
    TIMESTAMP: pa.timestamp("us"),
    DATE: pa.date32(),
    JSON: pa.string(),
}


@dataclass
class Batch:
    """Rows for one table, column by column, with the file part of each row.

    Value conventions per declared type (None is null wherever a list is used):
    varchar/json: str (json columns hold encoded JSON text); bigint/integer: int;
    decimal: int cents; timestamp: int seconds since 1970 (None or NO_TIME is null);
    date: datetime.date; boolean: bool. `sort_key` orders rows within a file.
    """

    table: Table
    columns: Mapping[str, ColumnValues]
    part: np.ndarray
    sort_key: np.ndarray

    def __post_init__(self) -> None:
        expected = set(self.table.column_names)
        if set(self.columns) != expected:
            raise ValueError(f"{self.table.name}: columns {sorted(self.columns)} != declared")
        n = len(self.part)
        for name, values in self.columns.items():
            if len(values) != n:
                raise ValueError(f"{self.table.name}.{name}: {len(values)} values for {n} rows")

    def __len__(self) -> int:
        return len(self.part)


@dataclass
class MalformedRow:
    line: int
    kind: str
    column: str | None


@dataclass
class FileRecord:
    """One written file: its table, path relative to the output folder, rows, broken rows."""

    table: str
    path: str
    format: str
    rows: int = 0
    malformed: list[MalformedRow] = field(default_factory=list)


# --- rendering -----------------------------------------------------------------------


def _cents_text(values: ColumnValues) -> list[str]:
    out = []
    for c in values.tolist() if isinstance(values, np.ndarray) else values:
        if c is None:
            out.append("")
        else:
            sign = "-" if c < 0 else ""
            a = abs(int(c))
            out.append(f"{sign}{a // 100}.{a % 100:02d}")
    return out


def _seconds(values: ColumnValues) -> np.ndarray:
    if isinstance(values, np.ndarray) and values.dtype != object:
        return values.astype(np.int64, copy=False)
    seq = values.tolist() if isinstance(values, np.ndarray) else values
    return np.array([NO_TIME if v is None else v for v in seq], dtype=np.int64)


def _timestamp_text(values: ColumnValues) -> list[str]:
    arr = _seconds(values).astype("datetime64[s]")
    text = np.datetime_as_string(arr, unit="s").tolist()
    return ["" if t == "NaT" else t for t in text]


def render_text(values: ColumnValues, data_type: str) -> list[str]:
    """Values as CSV text: ISO times, dot decimals, true/false, empty for null."""
    if data_type == TIMESTAMP:
        return _timestamp_text(values)
    if data_type == DECIMAL:
        return _cents_text(values)
    seq = values.tolist() if isinstance(values, np.ndarray) else values
    if data_type == BOOLEAN:
        return ["" if v is None else ("true" if v else "false") for v in seq]
    if data_type == DATE:
        return ["" if v is None else v.isoformat() for v in seq]
    if data_type in (BIGINT, INTEGER):
        return ["" if v is None else str(int(v)) for v in seq]
    return ["" if v is None else v for v in seq]


def _json_string(value: str) -> str:
    if _NEEDS_ESCAPE.search(value):
        return json.dumps(value, ensure_ascii=False)
    return f'"{value}"'


def render_json(values: ColumnValues, data_type: str) -> list[str]:
    """Values as JSON fragments: strings quoted, numbers bare, objects as given, null."""
    if data_type == JSON:
        return ["null" if v is None else v for v in values]
    if data_type == TIMESTAMP:
        return ["null" if t == "" else f'"{t}"' for t in _timestamp_text(values)]
    if data_type in (BIGINT, INTEGER, DECIMAL, BOOLEAN):
        return ["null" if t == "" else t for t in render_text(values, data_type)]
    if data_type == DATE:
        return ["null" if t == "" else f'"{t}"' for t in render_text(values, data_type)]
    seq = values.tolist() if isinstance(values, np.ndarray) else values
    if not _NEEDS_ESCAPE.search("".join(v for v in seq if v is not None)):
        return ["null" if v is None else f'"{v}"' for v in seq]
    return ["null" if v is None else _json_string(v) for v in seq]


def _decimal_array(values: ColumnValues) -> pa.Array:
    cents = np.asarray(values, dtype=np.int64)
    words = np.empty((len(cents), 2), dtype=np.int64)
    words[:, 0] = cents
    words[:, 1] = np.where(cents < 0, -1, 0)
    buffer = pa.py_buffer(words.tobytes())
    return pa.Array.from_buffers(pa.decimal128(12, 2), len(cents), [None, buffer])


def render_arrow(values: ColumnValues, data_type: str) -> pa.Array:
    """Values as an Arrow array of the declared type."""
    if data_type == DECIMAL:
        return _decimal_array(values)
    if data_type == TIMESTAMP:
        seconds = _seconds(values)
        missing = seconds == NO_TIME
        micros = np.where(missing, 0, seconds) * 1_000_000
        return pa.array(micros, type=pa.timestamp("us"), mask=missing)
    if data_type == DATE:
        return pa.array(list(values), type=pa.date32())
    if isinstance(values, np.ndarray) and values.dtype != object:
        return pa.array(values, type=_ARROW_TYPES[data_type])
    return pa.array(list(values), type=_ARROW_TYPES[data_type])


# --- writing -------------------------------------------------------------------------


class LandingWriter:
    """Appends batches to landing files and keeps the manifest of what it wrote.

    Files are `landing/<table>/<table>__<part>.<ext>` under `out_dir`. Each CSV
    and JSONL batch gets about `malformed_rate` broken rows; a table gets at least
    one while it has none, if the rate is positive. `excel_parts` names the
    (table, part) files written with a UTF-8 BOM and CRLF line endings.
    """

    def __init__(
        self,
        out_dir: Path,
        malformed_rate: float,
        excel_parts: frozenset[tuple[str, str]] = frozenset(),
    ) -> None:
        self.out_dir = out_dir
        self.malformed_rate = malformed_rate
        self.excel_parts = excel_parts
        self.files: dict[tuple[str, str], FileRecord] = {}
        self._parquet: dict[tuple[str, str], pq.ParquetWriter] = {}
        self._tables_with_malformed: set[str] = set()

    def path_for(self, table: Table, part: str) -> Path:
        return self.out_dir / "landing" / table.name / f"{table.name}__{part}.{table.extension}"

    def write(self, batch: Batch, r: random.Random) -> None:
        """Append a batch, one file part at a time, rows ordered by sort key."""
        if len(batch) == 0:
            return
        parts = np.asarray(batch.part).astype(str)
        order = np.lexsort((np.asarray(batch.sort_key), parts))
        parts = parts[order]
        arrays = {name: _as_array(values) for name, values in batch.columns.items()}
        bounds = np.flatnonzero(np.r_[True, parts[1:] != parts[:-1], True])
        for lo, hi in itertools.pairwise(bounds.tolist()):
            rows = order[lo:hi]
            columns = {name: values[rows] for name, values in arrays.items()}
            self._write_part(batch.table, str(parts[lo]), columns, len(rows), r)

    def _record(self, table: Table, part: str) -> FileRecord:
        key = (table.name, part)
        if key not in self.files:
            path = self.path_for(table, part)
            path.parent.mkdir(parents=True, exist_ok=True)
            rel = path.relative_to(self.out_dir).as_posix()
            self.files[key] = FileRecord(table.name, rel, table.format)
        return self.files[key]

    def _write_part(
        self,
        table: Table,
        part: str,
        columns: Mapping[str, ColumnValues],
        n: int,
        r: random.Random,
    ) -> None:
        record = self._record(table, part)
        path = self.out_dir / record.path
        if table.format == "parquet":
            arrays = [render_arrow(columns[c.name], c.data_type) for c in table.columns]
            schema = pa.schema([(c.name, _ARROW_TYPES[c.data_type]) for c in table.columns])
            if (table.name, part) not in self._parquet:
                self._parquet[(table.name, part)] = pq.ParquetWriter(
                    path,
                    schema,
                    compression="zstd",
                    compression_level=3,
                    use_dictionary=True,
                    write_statistics=True,
                    version="2.6",
                    data_page_version="1.0",
                )
            self._parquet[(table.name, part)].write_table(
                pa.Table.from_arrays(arrays, schema=schema)
            )
            record.rows += n
            return
        excel = (table.name, part) in self.excel_parts
        newline = "\r\n" if excel else "\n"
        first_write = record.rows == 0
        if table.format == "csv":
            lines, fields = _csv_lines(table, columns, n)
        else:
            lines, fields = _jsonl_lines(table, columns, n), None
        self._break_some(table, record, lines, fields, r)
        header = ""
        if first_write and table.format == "csv":
            header = ("\ufeff" if excel else "") + ",".join(table.column_names) + newline
        text = header + newline.join(lines) + newline
        with path.open("ab") as fh:
            fh.write(text.encode("utf-8"))
        record.rows += n

    def _break_some(
        self,
        table: Table,
        record: FileRecord,
        lines: list[str],
        fields: list[list[str]] | None,
        r: random.Random,
    ) -> None:
        if self.malformed_rate <= 0:
            return
        n = len(lines)
        k = int(np.random.default_rng(r.getrandbits(64)).binomial(n, self.malformed_rate))
        if k == 0 and table.name not in self._tables_with_malformed:
            k = 1 if n >= MIN_ROWS_FOR_FORCED_MALFORMED else 0
        if k == 0:
            return
        self._tables_with_malformed.add(table.name)
        first_line = record.rows + (2 if table.format == "csv" else 1)
        kinds = CSV_KINDS if table.format == "csv" else JSONL_KINDS
        for i in sorted(r.sample(range(n), min(k, n))):
            kind = r.choice(kinds)
            if fields is not None:
                line, kind, column = corrupt_csv(fields[i], table, kind, r)
            else:
                line, kind, column = corrupt_jsonl(lines[i], table, kind, r)
            lines[i] = line
            record.malformed.append(MalformedRow(first_line + i, kind, column))

    def close(self) -> list[FileRecord]:
        """Finish Parquet files; the records of every file, sorted by path."""
        for writer in self._parquet.values():
            writer.close()
        self._parquet.clear()
        return sorted(self.files.values(), key=lambda f: f.path)


def _as_array(values: ColumnValues) -> np.ndarray:
    """Values as an array that keeps Python objects (None, str, date) as they are."""
    if isinstance(values, np.ndarray):
        return values
    out = np.empty(len(values), dtype=object)
    out[:] = values
    return out


def _csv_lines(
    table: Table, columns: Mapping[str, ColumnValues], n: int
) -> tuple[list[str], list[list[str]]]:
    texts = [render_text(columns[c.name], c.data_type) for c in table.columns]
    fields = [list(row) for row in zip(*texts, strict=True)]
    buffer = io.StringIO()
    csv.writer(buffer, lineterminator="\n").writerows(fields)
    body = buffer.getvalue()
    lines = body.split("\n")[:-1]
    if len(lines) != n:
        raise ValueError(f"{table.name}: a value contains a line break")
    return lines, fields


def _jsonl_lines(table: Table, columns: Mapping[str, ColumnValues], n: int) -> list[str]:
    fragments = [render_json(columns[c.name], c.data_type) for c in table.columns]
    template = "{" + ",".join(f'"{name}":%s' for name in table.column_names) + "}"
    return [template % row for row in zip(*fragments, strict=True)]
