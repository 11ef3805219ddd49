"""SQL text helpers.

The engine inlines values as escaped SQL literals instead of using DuckDB's
prepared-statement parameters: in DuckDB's Python client any parameter (and
`register`) imports pandas when it is installed, which costs ~0.5 s per process
start — noticeable for a CLI and for the kill tests that start many processes.
Strings are escaped by doubling single quotes (DuckDB strings have no backslash
escapes); other types are rendered explicitly.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from datetime import datetime
from typing import Any


def quote(identifier: str) -> str:
    """A double-quoted identifier."""
    return '"' + identifier.replace('"', '""') + '"'


def literal(value: Any) -> str:
    """A SQL literal for None, bool, int, float, str or an aware datetime."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        return repr(value)
    if isinstance(value, datetime):
        if value.tzinfo is None:
            raise ValueError("naive datetimes are ambiguous; pass an aware datetime")
        return f"timestamptz '{value.isoformat()}'"
    if isinstance(value, str):
        if "\x00" in value:
            raise ValueError("NUL characters cannot be stored in a SQL string literal")
        return "'" + value.replace("'", "''") + "'"
    raise TypeError(f"no SQL literal for {type(value).__name__}")


def values(columns: Sequence[str], rows: Iterable[Sequence[Any]]) -> str:
    """`(values (...), ...) as t(columns)` for use in a FROM clause; rows must be non-empty."""
    body = ",\n".join("(" + ", ".join(literal(v) for v in row) + ")" for row in rows)
    if not body:
        raise ValueError("values() needs at least one row")
    names = ", ".join(quote(c) for c in columns)
    return f"(values {body}) as t({names})"


def json_rows(rows: list[dict[str, Any]], types: dict[str, str], dialect: str = "duckdb") -> str:
    """A FROM item (aliased `j`) with one row per dict, typed by `types` (column ->
    DuckDB type name; dialect.py maps them for PostgreSQL).

    The rows travel as one JSON string literal that the database parses itself,
    which for hundreds of rows is about twice as fast as a VALUES list.
    """
    from reverse_etl.engine.dialect import json_recordset

    return json_recordset(dialect, literal(json.dumps(rows, sort_keys=True)), types, "j")
