"""Match a file's columns to its raw table's declaration.

A file may carry columns the declaration does not know (they land as varchar
columns, added to the raw table), and may lack declared columns (null when not
required; every row rejected when required).
"""

from __future__ import annotations

import re
from collections.abc import Collection, Sequence
from dataclasses import dataclass

from cdp.landing.errors import FileFailed
from cdp.landing.limits import PER_FILE_ENV, PER_TABLE_ENV, ColumnLimits
from cdp.landing.manifest import METADATA_COLUMNS
from cdp.landing.registry import VARCHAR, DataType, TableSpec

_NOT_IDENTIFIER = re.compile(r"[^a-z0-9_]+")


@dataclass(frozen=True)
class SourceColumn:
    """A column of the file (`source`, as spelled there) and where it lands (`target`)."""

    source: str
    target: str
    data_type: DataType
    declared: bool
    position: int = 0  # 1-based place in the file's header (CSV)


@dataclass(frozen=True)
class ColumnPlan:
    """How a file's columns land, and what the declaration expected that it lacks."""

    columns: tuple[SourceColumn, ...]
    missing_required: tuple[str, ...]
    missing_optional: tuple[str, ...]
    ignored: tuple[str, ...]
    # New columns beyond the limits (not landed; a record with a value in one is
    # rejected with `over_limit_reason`), and the note saying so.
    over_limit: tuple[SourceColumn, ...] = ()
    over_limit_reason: str | None = None

    def missing_required_reason(self) -> str | None:
        """The reject reason for every row when the file lacks a required column."""
        if not self.missing_required:
            return None
        names = ", ".join(repr(n) for n in self.missing_required)
        noun = "column" if len(self.missing_required) == 1 else "columns"
        return f"required {noun} {names} missing from the file"

    def warnings(self) -> list[str]:
        """One line per kind of mismatch, for the file's warnings."""
        notes: list[str] = []
        if self.missing_optional:
            names = ", ".join(repr(n) for n in self.missing_optional)
            notes.append(f"declared column(s) not in the file, loaded as null: {names}")
        if self.missing_required:
            names = ", ".join(repr(n) for n in self.missing_required)
            notes.append(f"required column(s) not in the file, every row rejected: {names}")
        if self.over_limit_reason:
            notes.append(f"every record with a value there is rejected: {self.over_limit_reason}")
        return notes + list(self.ignored)

    def schema_changes(
        self, table: str, existing: Collection[str], rows_loaded: int
    ) -> tuple[list[SourceColumn], list[str]]:
        """The columns raw.<table> lacks for this file, and a warning per undeclared column.

        Every loader adds the returned columns in its own SQL, then lands the
        file's rows. A file none of whose rows landed adds no column (its rows
        are only in raw._rejects, so nothing would ever fill one).
        """
        to_add = [column for column in self.columns if column.target not in existing]
        if rows_loaded == 0 and to_add:
            names = ", ".join(repr(column.source) for column in to_add)
            return [], [f"no row landed, so raw.{table} gets no new column: {names}"]
        notes = [
            f"undeclared column {column.source!r} "
            f"{'loaded into' if column.target in existing else 'added to'} "
            f"raw.{table}.{column.target} as varchar"
            for column in self.columns
            if not column.declared
        ]
        return to_add, notes

    def capped(
        self, spec: TableSpec, existing: Collection[str], limits: ColumnLimits
    ) -> ColumnPlan:
        """This plan with the new columns beyond the limits taken out into `over_limit`.

        `existing` are raw.<table>'s columns now: one the table already has is
        not new. The first new columns (in the file's order) stay, up to
        `limits.per_file` and to what `limits.per_table` leaves.
        """
        declared = {c.name for c in spec.columns} | {name for name, _ in METADATA_COLUMNS}
        undeclared_now = sum(1 for name in existing if name not in declared)
        room_in_table = max(0, limits.per_table - undeclared_now)
        room = min(limits.per_file, room_in_table)
        new = [c for c in self.columns if not c.declared and c.target not in existing]
        if len(new) <= room:
            return self
        over = new[room:]
        kept = tuple(c for c in self.columns if c not in over)
        if limits.per_file <= room_in_table:
            limit, scope, env = limits.per_file, "file", PER_FILE_ENV
        else:
            limit, scope, env = limits.per_table, "table", PER_TABLE_ENV
        kind = "key" if spec.format == "jsonl" else "column"
        reason = (
            f"{len(over)} {kind}(s) beyond the limit of {limit} new columns per {scope}, "
            f"the first {over[0].source!r}: declare them in {spec.declared_in.name} "
            f"or raise {env}"
        )
        return ColumnPlan(
            kept,
            self.missing_required,
            self.missing_optional,
            self.ignored,
            over_limit=tuple(over),
            over_limit_reason=reason,
        )


def normalize_name(name: str) -> str:
    """A file column name as a raw column name: lowercase, runs of other characters as '_'.

    Leading and trailing underscores are dropped, so a file column can never take
    the name of a load metadata column (`_loaded_at`, `_source_file`, `_source_line`).
    """
    cleaned = _NOT_IDENTIFIER.sub("_", name.strip().lower()).strip("_")
    if cleaned and cleaned[0].isdigit():
        cleaned = f"c_{cleaned}"
    return cleaned


def plan_columns(spec: TableSpec, source_names: Sequence[str], *, strict: bool) -> ColumnPlan:
    """Map each file column to a declared column or a new varchar column.

    A file column matches the declared column its normalized name equals. With
    `strict` (CSV headers, Parquet schemas) a nameless or duplicate column fails
    the file; otherwise (JSON keys, which vary per row) it is ignored with a warning.
    """
    columns: list[SourceColumn] = []
    ignored: list[str] = []
    taken: dict[str, str] = {}
    for position, source in enumerate(source_names, start=1):
        target = normalize_name(source)
        problem = None
        if not target:
            problem = f"column {position} ({source!r}) has no usable name"
        elif target in taken:
            problem = f"columns {taken[target]!r} and {source!r} both map to {target!r}"
        if problem:
            if strict:
                raise FileFailed(
                    f"bad header: {problem}: give every column a distinct name, "
                    "then run cdp ingest again"
                )
            ignored.append(f"ignored key {source!r}: {problem}")
            continue
        taken[target] = source
        declared = spec.column(target)
        data_type = declared.data_type if declared else VARCHAR
        columns.append(SourceColumn(source, target, data_type, declared is not None, position))
    missing = [c.name for c in spec.columns if c.name not in taken]
    return ColumnPlan(
        columns=tuple(columns),
        missing_required=tuple(n for n in missing if n in spec.required),
        missing_optional=tuple(n for n in missing if n not in spec.required),
        ignored=tuple(ignored),
    )
