"""Row-level comparison of two DuckDB warehouses, for the incremental-equals-full
harness: which relations differ, and which rows are on one side only.

Rows are compared as multisets of canonical values (tests/engines/digest.py's
`canonical`, so order never matters and a DOUBLE compares as 12 significant
digits); bookkeeping columns (when a row was processed, the dbt run that wrote
it) are left out by name.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping, Sequence
from pathlib import Path

import duckdb

from tests.engines.digest import canonical

ROWS_SHOWN = 5


def relations_in(warehouse: Path, schema: str) -> list[str]:
    """Every table and view of `schema`, as `schema.name`, sorted."""
    with duckdb.connect(str(warehouse), read_only=True) as con:
        rows = con.execute(
            "select table_name from information_schema.tables where table_schema = ? "
            "order by table_name",
            [schema],
        ).fetchall()
    return [f"{schema}.{name}" for (name,) in rows]


def _rows(
    con: duckdb.DuckDBPyConnection, relation: str, excluded: set[str]
) -> tuple[list[str], Counter[tuple[str, ...]]]:
    cursor = con.execute(f"select * from {relation}")
    names = [d[0].lower() for d in cursor.description]
    keep = sorted((name, i) for i, name in enumerate(names) if name not in excluded)
    rows: Counter[tuple[str, ...]] = Counter(
        tuple(canonical(row[i]) for _, i in keep) for row in cursor.fetchall()
    )
    return [name for name, _ in keep], rows


def row_differences(
    incremental: Path,
    full: Path,
    relations: Sequence[str],
    excluded: Mapping[str, set[str]],
) -> list[str]:
    """One paragraph per relation whose rows differ: the counts and the first
    rows found only in the incremental build and only in the full refresh."""
    problems: list[str] = []
    with (
        duckdb.connect(str(incremental), read_only=True) as left,
        duckdb.connect(str(full), read_only=True) as right,
    ):
        for relation in relations:
            table = relation.split(".")[-1]
            skip = excluded.get("*", set()) | excluded.get(table, set())
            names, a = _rows(left, relation, skip)
            other_names, b = _rows(right, relation, skip)
            if names != other_names:
                problems.append(f"{relation}: columns differ: {names} vs {other_names}")
                continue
            only_a, only_b = a - b, b - a
            if not only_a and not only_b:
                continue
            lines = [
                f"{relation}: {sum(a.values())} rows incremental, {sum(b.values())} full; "
                f"{sum(only_a.values())} only incremental, {sum(only_b.values())} only full"
            ]
            for label, rows in (("incremental", only_a), ("full", only_b)):
                for row in sorted(rows)[:ROWS_SHOWN]:
                    shown = ", ".join(
                        f"{n}={v}" for n, v in zip(names, row, strict=True) if v != "\\N"
                    )
                    lines.append(f"  only {label}: {shown}")
            problems.append("\n".join(lines))
    return problems
