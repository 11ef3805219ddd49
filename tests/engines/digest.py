"""Order-independent digests of warehouse tables, comparable across engines.

Every value is turned into canonical text in Python, whatever engine and
driver fetched it: numbers as plain decimals with trailing zeros dropped (to
12 significant digits, so a DuckDB DOUBLE and a PostgreSQL NUMERIC of the
same value agree), timestamps as UTC `YYYY-MM-DD HH:MM:SS.ffffff`, booleans
as true/false, lists element by element, null as a marker no text can equal.
A row is its canonical values in column-name order; a table's checksum is
the md5 of its sorted rows, so row order never matters. Per-column checksums
(md5 of the column's sorted values) say which columns differ when tables do.

Run as a script (`python -m tests.engines.digest spark OUT.json SCHEMA...`) it
digests the Spark catalog of CDP_SPARK_DIR in a process of its own: Spark's
embedded Derby metastore admits one JVM at a time, so the test process never
opens it.
"""

from __future__ import annotations

import hashlib
import json
import struct
import sys
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import asdict, dataclass
from datetime import UTC, date, datetime, time
from decimal import Decimal
from pathlib import Path
from typing import Any

NULL = "\\N"


def canonical(value: Any) -> str:
    """One value as engine-independent text."""
    if value is None:
        return NULL
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float | Decimal):
        number = Decimal(str(value)) if isinstance(value, float) else value
        if not number.is_finite():
            return str(number)
        rounded = Decimal(format(number, ".12g")).normalize()
        return "0" if rounded.is_zero() else format(rounded, "f")
    if isinstance(value, datetime):
        if value.tzinfo is not None:
            value = value.astimezone(UTC).replace(tzinfo=None)
        return value.isoformat(sep=" ", timespec="microseconds")
    if isinstance(value, date | time):
        return value.isoformat()
    if isinstance(value, list | tuple):
        return "[" + ",".join(canonical(v) for v in value) + "]"
    if isinstance(value, dict):
        return json.dumps({str(k): canonical(v) for k, v in value.items()}, sort_keys=True)
    if isinstance(value, bytes | bytearray | memoryview):
        return bytes(value).hex()
    return str(value)


@dataclass(frozen=True)
class TableDigest:
    rows: int
    checksum: str
    columns: dict[str, str]  # column -> md5 of its sorted canonical values


def digest(
    column_names: Sequence[str], rows: Iterable[Sequence[Any]], excluded: Iterable[str] = ()
) -> TableDigest:
    """The digest of a table's rows, leaving out the `excluded` columns."""
    names = [n.lower() for n in column_names]
    skip = {n.lower() for n in excluded}
    order = sorted((name, i) for i, name in enumerate(names) if name not in skip)
    lines: list[str] = []
    values: dict[str, list[str]] = {name: [] for name, _ in order}
    for row in rows:
        texts = [canonical(row[i]) for _, i in order]
        lines.append("\x1f".join(texts))
        for (name, _), text in zip(order, texts, strict=True):
            values[name].append(text)
    return TableDigest(
        rows=len(lines),
        checksum=_md5(sorted(lines)),
        columns={name: _md5(sorted(v)) for name, v in values.items()},
    )


def _md5(lines: list[str]) -> str:
    return hashlib.md5("\n".join(lines).encode("utf-8")).hexdigest()


def differences(
    left: Mapping[str, TableDigest], right: Mapping[str, TableDigest], names: Iterable[str]
) -> list[str]:
    """One line per table of `names` whose digests differ, naming the columns."""
    problems: list[str] = []
    for name in sorted(names):
        a, b = left[name], right[name]
        if a.checksum == b.checksum and a.rows == b.rows:
            continue
        columns = sorted(set(a.columns) ^ set(b.columns))
        columns += sorted(
            c for c in set(a.columns) & set(b.columns) if a.columns[c] != b.columns[c]
        )
        problems.append(f"{name}: {a.rows} vs {b.rows} rows; differing columns: {columns}")
    return problems


# --- fetching -----------------------------------------------------------------------


def duckdb_digests(
    path: Path, relations: Sequence[str], excluded: Mapping[str, set[str]]
) -> dict[str, TableDigest]:
    import duckdb

    out: dict[str, TableDigest] = {}
    with duckdb.connect(str(path), read_only=True) as con:
        for relation in relations:
            cursor = con.execute(f"select * from {relation}")
            names = [d[0] for d in cursor.description]
            out[relation] = digest(names, cursor.fetchall(), _excluded(excluded, relation))
    return out


def _single_precision(text: str | None, _cursor: object) -> float | None:
    """A PostgreSQL `real` as the float32 it holds, widened to a Python float.

    PostgreSQL prints the shortest text that reads back as the same float32
    ('0.8666667'); DuckDB and Spark hand over the float32 itself, widened
    (0.8666666746139526). Reading the text back through float32 gives that.
    """
    if text is None:
        return None
    return struct.unpack("f", struct.pack("f", float(text)))[0]


def _postgres_real_type() -> Any:
    import psycopg2.extensions

    return psycopg2.extensions.new_type((700,), "REAL_AS_FLOAT32", _single_precision)


def postgres_digests(
    connect_kwargs: Mapping[str, Any], relations: Sequence[str], excluded: Mapping[str, set[str]]
) -> dict[str, TableDigest]:
    import psycopg2
    import psycopg2.extensions
    import psycopg2.extras

    out: dict[str, TableDigest] = {}
    con = psycopg2.connect(**connect_kwargs)
    try:
        # json/jsonb as the text stored, like DuckDB returns its JSON type.
        psycopg2.extras.register_default_json(con, loads=lambda text: text)
        psycopg2.extras.register_default_jsonb(con, loads=lambda text: text)
        psycopg2.extensions.register_type(_postgres_real_type(), con)
        with con.cursor() as cur:
            cur.execute("set timezone = 'UTC'")
            for relation in relations:
                cur.execute(f"select * from {relation}")
                names = [d[0] for d in cur.description]
                out[relation] = digest(names, cur.fetchall(), _excluded(excluded, relation))
    finally:
        con.close()
    return out


def spark_digests(
    relations: Sequence[str], excluded: Mapping[str, set[str]]
) -> dict[str, TableDigest]:
    """Digests through a Spark session with the loader's settings (run in its own process)."""
    from cdp.landing.engines.spark import SparkConfig

    spark = SparkConfig.from_env().session()
    try:
        out: dict[str, TableDigest] = {}
        for relation in relations:
            frame = spark.sql(f"select * from {relation}")
            out[relation] = digest(frame.columns, frame.collect(), _excluded(excluded, relation))
        return out
    finally:
        spark.stop()


def _excluded(excluded: Mapping[str, set[str]], relation: str) -> set[str]:
    table = relation.split(".")[-1]
    return excluded.get("*", set()) | excluded.get(table, set())


def main(argv: Sequence[str]) -> int:
    """`spark OUT.json EXCLUDED_JSON RELATION...`: write Spark digests as JSON."""
    _, out_path, excluded_json, *relations = argv
    excluded = {k: set(v) for k, v in json.loads(excluded_json).items()}
    digests = spark_digests(relations, excluded)
    Path(out_path).write_text(json.dumps({k: asdict(v) for k, v in digests.items()}))
    return 0


def load_digests(path: Path) -> dict[str, TableDigest]:
    return {k: TableDigest(**v) for k, v in json.loads(path.read_text()).items()}


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
