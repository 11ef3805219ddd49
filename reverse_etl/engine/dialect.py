"""The few expressions DuckDB and PostgreSQL spell differently, written per dialect.

The engine builds its SQL in Python from the sync definition; everything else in
it is SQL both engines take as it is (full outer joins, window functions,
`filter`, `is distinct from`, `md5`, `regexp_replace(..., 'g')`, sequences).
Why not SQLGlot here (docs/engines.md, "Syncs on every engine"): these few
functions (JSON building and reading, SHA-256 as hex, full-match regexes, the
upsert) are where a translation would have to be right byte for byte, because
the payload's text is hashed into the state; writing them out is shorter than
checking a translator's output for them.
"""

from __future__ import annotations

from reverse_etl.engine.sql import literal


def regexp_full_match(dialect: str, value: str, pattern: str) -> str:
    """True when `value` matches `pattern` (already anchored with ^ and $)."""
    if dialect == "postgres":
        return f"({value} ~ {literal(pattern)})"
    return f"regexp_full_match({value}, {literal(pattern)})"


def substring_from(dialect: str, value: str, start: int) -> str:
    """`value` from the 1-based character `start` on."""
    if dialect == "postgres":
        return f"substr({value}, {int(start)})"
    return f"{value}[{int(start)}:]"


def sha256_hex(dialect: str, value: str) -> str:
    """The SHA-256 of `value`'s UTF-8 bytes as 64 lower-case hex digits."""
    if dialect == "postgres":
        return f"encode(sha256(convert_to(cast({value} as text), 'UTF8')), 'hex')"
    return f"sha256(cast({value} as varchar))"


def json_object(dialect: str, pairs: list[str]) -> str:
    """A JSON object text from `'name', value` pairs, in the order given."""
    if dialect == "postgres":
        return f"cast(json_build_object({', '.join(pairs)}) as text)"
    return f"cast(json_object({', '.join(pairs)}) as varchar)"


def json_text(dialect: str, document: str, field: str | None) -> str:
    """The text of top-level `field` of a JSON document (NULL when `field` is None)."""
    if field is None:
        return "cast(null as varchar)"
    if dialect == "postgres":
        return f"(cast({document} as json) ->> {literal(field)})"
    return f"json_extract_string({document}, {literal('$.' + field)})"


def json_string_array(dialect: str, document: str) -> str:
    """A set-returning expression: the strings of a JSON array, one row each."""
    if dialect == "postgres":
        return f"json_array_elements_text(cast({document} as json))"
    return f"unnest(cast(from_json({document}, '[\"VARCHAR\"]') as varchar[]))"


def json_recordset(dialect: str, document: str, types: dict[str, str], alias: str) -> str:
    """A FROM item `alias` with one row per object of a JSON array (a string literal),
    its columns typed by `types` (name -> DuckDB type name)."""
    if dialect == "postgres":
        columns = ", ".join(f"{name} {_PG_TYPES.get(t, t)}" for name, t in types.items())
        return f"json_to_recordset(cast({document} as json)) as {alias}({columns})"
    structure = "[{" + ", ".join(f'"{k}": "{v}"' for k, v in types.items()) + "}]"
    return (
        f"(select unnest(from_json({document}, {literal(structure)}), recursive := true)) "
        f"as {alias}"
    )


_PG_TYPES = {"VARCHAR": "text", "JSON": "json", "BOOLEAN": "boolean", "BIGINT": "bigint"}


def upsert_state(dialect: str, select: str) -> str:
    """Insert `select`'s rows into sync_state, replacing those with the same key."""
    from reverse_etl.engine.schema import SCHEMA

    if dialect == "postgres":
        return (
            f"insert into {SCHEMA}.sync_state {select} "
            "on conflict (sync_name, key) do update set "
            "content_hash = excluded.content_hash, payload = excluded.payload, "
            "destination_id = excluded.destination_id, acknowledged_at = excluded.acknowledged_at"
        )
    return f"insert or replace into {SCHEMA}.sync_state {select}"


def ordered(dialect: str, value: str) -> str:
    """`value` for ORDER BY in byte order, as DuckDB compares text (batches and the
    'duplicate identity' pick are then the same on both engines)."""
    if dialect == "postgres":
        return f'{value} collate "C"'
    return value
