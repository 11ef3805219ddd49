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
from cdp.landing.registry import VARCHAR, DataType, TableSpec

_NOT_IDENTIFIER = re.compile(r"[^a-z0-9_]+")


@dataclass(frozen=True)
class SourceColumn:
    """A column of the file (`source`, as spelled there) and where it lands (`target`)."""

    source: str
    target: str
    data_type: DataType
    declared: bool


@dataclass(frozen=True)
class ColumnPlan:
    """How a file's columns land, and what the declaration expected that it lacks."""

    columns: tuple[SourceColumn, ...]
    missing_required: tuple[str, ...]
    missing_optional: tuple[str, ...]
    ignored: tuple[str, ...]

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
        return notes + list(self.ignored)

    def schema_changes(
        self, table: str, existing: Collection[str]
    ) -> tuple[list[SourceColumn], list[str]]:
        """The columns raw.<table> lacks for this file, and a warning per undeclared column.

        Every loader adds the returned columns in its own SQL, then lands the file.
        """
        to_add = [column for column in self.columns if column.target not in existing]
        notes = [
            f"undeclared column {column.source!r} "
            f"{'loaded into' if column.target in existing else 'added to'} "
            f"raw.{table}.{column.target} as varchar"
            for column in self.columns
            if not column.declared
        ]
        return to_add, notes


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
                raise FileFailed(f"bad header: {problem}")
            ignored.append(f"ignored key {source!r}: {problem}")
            continue
        taken[target] = source
        declared = spec.column(target)
        data_type = declared.data_type if declared else VARCHAR
        columns.append(SourceColumn(source, target, data_type, declared is not None))
    missing = [c.name for c in spec.columns if c.name not in taken]
    return ColumnPlan(
        columns=tuple(columns),
        missing_required=tuple(n for n in missing if n in spec.required),
        missing_optional=tuple(n for n in missing if n not in spec.required),
        ignored=tuple(ignored),
    )
