"""Read one file into DuckDB's staging table (`_cdp_staged`), whatever its format.

Each function runs the SQL of `sql` (this package) on an open connection inside the
file's transaction, and returns the column plan the staged columns follow.
A file that cannot be staged at all raises FileFailed with the reason.
"""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass

import duckdb

from cdp.landing.columns import ColumnPlan, plan_columns
from cdp.landing.engines.duckdb import casting, sql
from cdp.landing.errors import FileFailed
from cdp.landing.files import FileStats, SourceFile
from cdp.landing.limits import ColumnLimits
from cdp.landing.registry import TableSpec

Connection = duckdb.DuckDBPyConnection


def one_line(exc: BaseException) -> str:
    """The first line of an exception message, without DuckDB's hints below it."""
    text = str(exc).strip().splitlines()
    return text[0] if text else type(exc).__name__


UNREADABLE_PARQUET = (
    "not a readable Parquet file (it may be truncated or not Parquet at all): "
    "export it again from its source, then run cdp ingest again"
)


def file_error(exc: BaseException, file: SourceFile) -> str:
    """A database error about a file in one line, naming it relative to the input folder."""
    return one_line(exc).replace(str(file.path), file.relative)


def drop_staging(con: Connection) -> None:
    """Drop the temporary tables and views of the previous file, in one round trip."""
    drops = [f"drop view if exists temp.{view}" for view in sql.TEMP_VIEWS]
    drops += [f"drop table if exists temp.{table}" for table in sql.TEMP_TABLES]
    con.execute(";\n".join(drops))


def stage_file(
    con: Connection,
    spec: TableSpec,
    file: SourceFile,
    stats: FileStats,
    existing: Collection[str] = (),
    limits: ColumnLimits | None = None,
) -> ColumnPlan | None:
    """Fill the staging table from the file; None for a CSV file without a header.

    `existing` are the raw table's columns now, which `limits` (the limits of
    new columns, ColumnLimits() by default) count against.
    """
    drop_staging(con)
    cap = _Cap(spec, existing, limits or ColumnLimits())
    if spec.format == "parquet":
        return _stage_parquet(con, spec, file, cap)
    _scan_lines(con, file, stats)
    if spec.format == "csv":
        return _stage_csv(con, spec, cap)
    return _stage_jsonl(con, spec, cap)


@dataclass(frozen=True)
class _Cap:
    """What a file's new columns are counted against."""

    spec: TableSpec
    existing: Collection[str]
    limits: ColumnLimits

    def __call__(self, plan: ColumnPlan) -> ColumnPlan:
        return plan.capped(self.spec, self.existing, self.limits)


def _scan_lines(con: Connection, file: SourceFile, stats: FileStats) -> None:
    try:
        if len(stats.crlf_runs) > sql.INLINE_RUNS:
            firsts, counts = zip(*stats.crlf_runs, strict=True)
            con.execute(sql.crlf_runs_table(), [list(firsts), list(counts)])
        con.execute(sql.scan_lines(str(file.path), stats.crlf_runs))
    except duckdb.IOException as exc:
        raise FileFailed(f"cannot read file: {file_error(exc, file)}") from exc
    error = con.execute(sql.first_scan_error()).fetchone()
    if error is not None:
        line, kind, message = error
        if kind == "INVALID ENCODING":
            raise FileFailed(
                f"not valid UTF-8 (first bad byte on line {line}): export it as UTF-8 "
                "(or convert it, e.g. iconv -f latin1 -t utf-8), then run cdp ingest again"
            )
        if kind == "LINE SIZE OVER MAXIMUM":
            raise FileFailed(
                f"line {line} is longer than {sql.MAX_LINE_BYTES // 2**20} MiB: check the "
                "file's line breaks, or split that record, then run cdp ingest again"
            )
        raise FileFailed(f"line {line} cannot be read: {message}")
    read = con.execute(sql.line_bytes()).fetchone()
    lines = stats.reader_lines - stats.phantom_lines
    if read is None or (int(read[0]), int(read[1])) != (lines, stats.text_bytes):
        raise FileFailed(
            "the lines read do not add up to the file's size: it contains the "
            "reserved byte sequence 1F 1E 1D 1C, or it changed while being read; "
            "remove that sequence or wait until the file is complete, then run cdp "
            "ingest again"
        )


# How many rounds of cutting records back to their first line (a quoted value
# left open at the end of the file, a malformed record spanning lines) before
# every later line is read as a record of its own.
MAX_OPEN_QUOTE_ROUNDS = 20


def _frame(con: Connection, open_at_end: list[int], cut: list[int]) -> None:
    con.execute(f"drop view if exists {sql.RECORDS}; drop table if exists {sql.MULTILINE}")
    grouped, view = sql.csv_records(multiline=True)
    con.execute(grouped, [open_at_end, cut])
    con.execute(view)


def _frame_csv_records(con: Connection) -> None:
    """Frame the CSV records (view RECORDS) so that no quote swallows the lines after it.

    A quoted value may span lines, but a record that does so must be well formed:
    a record the file ends inside of, or one spanning lines that does not split
    into the header's number of fields, is cut back to its first line, rejected
    on its own, and the lines after it are framed again, as if that line were not
    there. After MAX_OPEN_QUOTE_ROUNDS rounds of that, every line after the last
    one cut back is a record of its own.
    """
    found = con.execute(sql.has_open_quote_line()).fetchone()
    if not (found and found[0]):
        for statement in sql.csv_records(multiline=False):
            con.execute(statement)
        return
    open_at_end: list[int] = []
    cut: list[int] = []
    for _ in range(MAX_OPEN_QUOTE_ROUNDS):
        _frame(con, open_at_end, cut)
        still_open = con.execute(sql.open_records()).fetchall()
        new_open = [int(line) for line, last in still_open if last]
        new_cut = [int(line) for line, last in still_open if not last]
        header = con.execute(sql.csv_header()).fetchone()
        if header is not None and header[1] is not None and not header[2]:
            spanning = sql.malformed_multiline_starts(len(header[1]), int(header[0]))
            found_cut = (int(line) for (line,) in con.execute(spanning).fetchall())
            new_cut += [line for line in found_cut if line not in new_open + new_cut]
        if not new_open and not new_cut:
            return
        open_at_end += new_open
        cut += new_cut
    last = con.execute(f"select coalesce(max(line_no), 0) from {sql.LINES}").fetchone()
    cut += range(max(open_at_end + cut) + 1, int(last[0] if last else 0) + 1)
    _frame(con, open_at_end, cut)


def _stage_csv(con: Connection, spec: TableSpec, cap: _Cap) -> ColumnPlan | None:
    _frame_csv_records(con)
    header = con.execute(sql.csv_header()).fetchone()
    if header is None:
        return None
    line_no, fields, unterminated = header
    if fields is None or unterminated:
        raise FileFailed(
            f"the header (line {line_no}) is not valid CSV: fix its quoting, "
            "then run cdp ingest again"
        )
    plan = cap(plan_columns(spec, fields, strict=True))
    con.execute(
        casting.stage_csv(
            plan.columns,
            set(spec.required),
            int(line_no),
            plan.missing_required_reason(),
            len(fields),
            plan.over_limit,
            plan.over_limit_reason,
        )
    )
    return plan


def _stage_jsonl(con: Connection, spec: TableSpec, cap: _Cap) -> ColumnPlan:
    key_sets = con.execute(sql.json_key_sets()).fetchall()
    keys = list(dict.fromkeys(str(key) for (keys,) in key_sets for key in keys))
    plan = cap(plan_columns(spec, keys, strict=False))
    con.execute(
        casting.stage_jsonl(
            plan.columns,
            set(spec.required),
            plan.missing_required_reason(),
            plan.over_limit,
            plan.over_limit_reason,
        )
    )
    if not keys:  # no JSON object with a key: every row is rejected anyway, say it once
        return ColumnPlan(plan.columns, (), (), ())
    return plan


def _stage_parquet(con: Connection, spec: TableSpec, file: SourceFile, cap: _Cap) -> ColumnPlan:
    path = str(file.path)
    try:
        schema = con.execute(sql.parquet_schema(path)).fetchall()
    except duckdb.Error as exc:
        raise FileFailed(UNREADABLE_PARQUET) from exc
    types = {str(row[0]): str(row[1]) for row in schema}
    plan = cap(plan_columns(spec, list(types), strict=True))
    statement = casting.stage_parquet(
        path,
        plan.columns,
        [types[c.source] for c in plan.columns],
        set(spec.required),
        plan.missing_required_reason(),
        plan.over_limit,
        plan.over_limit_reason,
    )
    try:
        con.execute(statement)
    except (duckdb.IOException, duckdb.InvalidInputException) as exc:
        raise FileFailed(UNREADABLE_PARQUET) from exc  # a corrupt page or footer
    return plan
