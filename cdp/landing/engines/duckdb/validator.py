"""Validate a file with the DuckDB rules, then hand its rows to another engine.

The PostgreSQL and Spark engines do not re-implement reading, casting and
reject reasons: they stage each file in a private in-memory DuckDB with
`staging.stage_file` (the same code the DuckDB warehouse runs), then
export the good rows and the rejects as files the other engine bulk-loads
(CSV for PostgreSQL's COPY, Parquet for Spark).

The target's tombstones (`privacy.erasure_tombstones`, read once per run by
the engine and handed over with `load_tombstones`) are copied into the same
in-memory DuckDB, so every engine drops an erased person's staged rows with
the DuckDB loader's own check (cdp/landing/tombstones.py) before export.
"""

from __future__ import annotations

import shutil
import tempfile
from collections.abc import Callable, Collection, Mapping, Sequence
from contextlib import suppress
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

import duckdb

from cdp.landing.columns import ColumnPlan
from cdp.landing.engines.duckdb import sql
from cdp.landing.engines.duckdb.staging import drop_staging, file_error, stage_file
from cdp.landing.errors import FileFailed
from cdp.landing.files import FileStats, SourceFile
from cdp.landing.limits import ColumnLimits
from cdp.landing.manifest import LOADED_AT, SOURCE_FILE, SOURCE_LINE
from cdp.landing.registry import TableSpec
from cdp.landing.tombstones import TOMBSTONE_SCHEMA, TOMBSTONES, drop_erased_staged
from cdp.warehouse import connect_memory

# DuckDB types to cast output columns to: (raw table columns, raw._rejects columns).
Casts = tuple[Mapping[str, str], Mapping[str, str]]


@dataclass(frozen=True)
class StagedFile:
    """One validated file, exported: where its rows and rejects are, and the counts."""

    plan: ColumnPlan | None  # None: an empty CSV file (no header, no rows)
    rows_path: Path | None  # good rows: declared/undeclared columns, then the metadata
    rejects_path: Path | None  # rejects in raw._rejects column order
    rows_in: int
    rows_rejected: int
    rows_erased: int = 0  # staged rows of erased people, dropped (not in rows_in)

    @property
    def targets(self) -> list[str]:
        """Raw table columns of `rows_path`, in order."""
        if self.plan is None:
            return []
        return [c.target for c in self.plan.columns] + [LOADED_AT, SOURCE_FILE, SOURCE_LINE]


class DuckDBValidator:
    """An in-memory DuckDB that stages one file at a time and exports the result."""

    def __init__(self, file_format: str) -> None:
        if file_format not in ("csv", "parquet"):
            raise ValueError(f"unsupported export format {file_format!r}")
        self._format = file_format
        self._con = connect_memory()
        self._con.execute("set TimeZone = 'UTC'")
        self._dir = Path(tempfile.mkdtemp(prefix="cdp-landing-"))

    def load_tombstones(self, rows: Sequence[tuple[str, str]]) -> None:
        """The target's tombstones (identifier_type, identifier_hash), for the check."""
        self._con.execute(f"create schema if not exists {TOMBSTONE_SCHEMA}")
        self._con.execute(
            f"create or replace table {TOMBSTONES} "
            "(identifier_type varchar, identifier_hash varchar)"
        )
        if rows:
            self._con.executemany(f"insert into {TOMBSTONES} values (?, ?)", list(rows))

    def close(self) -> None:
        with suppress(duckdb.Error):
            self._con.close()
        shutil.rmtree(self._dir, ignore_errors=True)

    def stage(
        self,
        spec: TableSpec,
        file: SourceFile,
        stats: FileStats,
        loaded_at: datetime,
        casts: Callable[[ColumnPlan], Casts] | None = None,
        existing: Collection[str] = (),
        limits: ColumnLimits | None = None,
    ) -> StagedFile:
        """Validate the file and export it; FileFailed when the file cannot be landed.

        `existing` (the target raw table's columns) and `limits` cap the new
        columns as `staging.stage_file` does. `casts` maps the plan to two
        {output column: DuckDB type} mappings, for the raw table's columns and
        for raw._rejects' columns, naming those the target engine needs in
        another type than the declared one.
        """
        try:
            plan = stage_file(self._con, spec, file, stats, existing, limits)
            if plan is None:
                return StagedFile(None, None, None, 0, 0)
            erased = drop_erased_staged(
                self._con,
                spec.name,
                sql.STAGED,
                {c.target: f"t_{i}" for i, c in enumerate(plan.columns, 1)},
            )
            counts = self._con.execute(sql.staged_counts()).fetchone()
            rows_in, rejected = (int(counts[0]), int(counts[1])) if counts else (0, 0)
            row_casts, reject_casts = casts(plan) if casts else ({}, {})

            def out(expr: str, name: str, wanted: Mapping[str, str]) -> str:
                if name in wanted:
                    expr = f"cast({expr} as {wanted[name]})"
                return f"{expr} as {sql.ident(name)}"

            stamp = f"timestamp {sql.literal(loaded_at.isoformat(sep=' '))}"
            source = sql.literal(file.relative)
            row_columns = [
                out(f"t_{i}", c.target, row_casts) for i, c in enumerate(plan.columns, 1)
            ]
            row_columns += [
                out(stamp, LOADED_AT, row_casts),
                out(source, SOURCE_FILE, row_casts),
                out("line_no", SOURCE_LINE, row_casts),
            ]
            reject_columns = [
                out(sql.literal(spec.name), "table_name", reject_casts),
                out(source, "source_file", reject_casts),
                out("line_no", "line_number", reject_casts),
                out("reason", "reason", reject_casts),
                out("raw_record", "raw_record", reject_casts),
                out(stamp, "rejected_at", reject_casts),
            ]
            rows_path = self._dir / f"rows.{self._format}"
            rejects_path = self._dir / f"rejects.{self._format}"
            self._export(
                f"select {', '.join(row_columns)} from {sql.STAGED} "
                "where reason is null order by line_no",
                rows_path,
            )
            self._export(
                f"select {', '.join(reject_columns)} from {sql.STAGED} "
                "where reason is not null order by line_no",
                rejects_path,
            )
            return StagedFile(plan, rows_path, rejects_path, rows_in, rejected, erased)
        except duckdb.Error as exc:
            raise FileFailed(f"cannot be landed: {file_error(exc, file)}") from exc
        finally:
            with suppress(duckdb.Error):
                drop_staging(self._con)

    def _export(self, query: str, path: Path) -> None:
        # CSV: null is an empty unquoted field, an empty string is written "".
        options = "format csv, header false" if self._format == "csv" else "format parquet"
        self._con.execute(f"copy ({query}) to {sql.literal(str(path))} ({options})")

    def export_row(
        self, columns: Sequence[tuple[str, str]], values: Sequence[object], name: str
    ) -> Path:
        """Write one row ({name: DuckDB type}, values) to a file of its own; its path."""
        path = self._dir / f"{name}.{self._format}"
        select = ", ".join(
            f"cast(? as {data_type}) as {sql.ident(column)}" for column, data_type in columns
        )
        self._con.execute(
            f"copy (select {select}) to {sql.literal(str(path))} "
            f"({'format csv, header false' if self._format == 'csv' else 'format parquet'})",
            list(values),
        )
        return path
