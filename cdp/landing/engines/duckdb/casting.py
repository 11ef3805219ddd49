"""Cast every value to its declared type and explain every reject, in DuckDB SQL.

`stage_csv`, `stage_jsonl` and `stage_parquet` return the one statement that
fills the staging table `_cdp_staged`: `line_no`, `reason` (null for a good
record), `raw_record` (only for rejects) and `t_1 .. t_n`, the typed values in
the order of the column plan.
"""

from __future__ import annotations

import json
from collections.abc import Sequence

from cdp.landing.columns import SourceColumn
from cdp.landing.engines.duckdb.sql import (
    LINES,
    RECORDS,
    SPACE,
    STAGED,
    blank,
    column_type,
    csv_fields,
    file_path,
    ident,
    literal,
    strict_json_valid,
)
from cdp.landing.registry import DataType

_VALUE_IN_REASON_CHARS = 80

# A timestamp's whole shape: a date, then optionally 'T' or a space, a time of day
# (hours 00-23, seconds optional, up to nine fractional digits, kept to
# microseconds) and an offset: Z, or +-HH:MM / +-HHMM within the offsets in use
# on Earth (-14:00 to +14:00).
_TIMESTAMP = (
    r"[0-9]{4}-[0-9]{2}-[0-9]{2}"
    r"([T ]([01][0-9]|2[0-3]):[0-5][0-9](:[0-5][0-9](\.[0-9]{1,9})?)?"
    r"([Zz]|[+-]((0[0-9]|1[0-3]):?[0-5][0-9]|14:?00))?)?"
)


# --- values ---------------------------------------------------------------------------


def cast_text(value: str, data_type: DataType) -> str:
    """Typed value of a non-empty text expression; null when it does not fit.

    Integers: optional sign and digits (a `.0` tail is accepted). Decimals: a dot
    as separator, optional exponent, rounded to the declared scale. Booleans:
    true/false/1/0/yes/no in any case. Dates: YYYY-MM-DD. Timestamps: a date,
    then 'T' or a space and a time with optional fraction and offset (Z,
    +HH:MM up to 14 hours, `_TIMESTAMP`); converted to UTC, no offset meaning
    UTC (the session time zone).
    Spaces around a value are ignored.
    """
    name = data_type.name
    if name == "varchar":
        return value
    if name in ("bigint", "integer"):
        return _guarded(value, r"[+-]?[0-9]+(\.0*)?", column_type(data_type))
    if name == "decimal":
        pattern = r"[+-]?([0-9]+\.?[0-9]*|\.[0-9]+)([eE][+-]?[0-9]+)?"
        return _guarded(value, pattern, column_type(data_type))
    if name == "date":
        return _guarded(value, r"[0-9]{4}-[0-9]{2}-[0-9]{2}", "DATE")
    if name == "timestamp":
        as_tz = _guarded(value, _TIMESTAMP, "TIMESTAMPTZ")
        return f"make_timestamp(epoch_us({as_tz}))"
    if name == "boolean":
        return (
            f"case when regexp_full_match({value}, '(?i){SPACE}*(true|yes|1){SPACE}*') then true "
            f"when regexp_full_match({value}, '(?i){SPACE}*(false|no|0){SPACE}*') then false end"
        )
    if name == "json":
        return f"case when {strict_json_valid(value)} then json({value}) end"
    raise ValueError(f"no cast for {data_type}")


def _guarded(value: str, pattern: str, sql_type: str) -> str:
    """try_cast only text of the given shape; trim only when there is space around it."""
    spaced = f"{SPACE}*(?:{pattern}){SPACE}*"
    return (
        f"case when regexp_full_match({value}, {literal(pattern)}) "
        f"then try_cast({value} as {sql_type}) "
        f"when regexp_full_match({value}, {literal(spaced)}) "
        f"then try_cast(trim({value}, ' \t\r') as {sql_type}) end"
    )


def _quoted_name(column: SourceColumn) -> str:
    """The column name quoted for use inside a SQL string literal."""
    return "''" + column.target.replace("'", "''") + "''"


def _problem(column: SourceColumn, i: int, required: bool) -> str | None:
    """Reject reason for value v_i / typed t_i (null when fine), None when none can arise."""
    name = _quoted_name(column)
    empty = f"'required column {name} is empty'"
    if column.data_type.name == "varchar":
        return f"case when {blank(f'v_{i}')} then {empty} end" if required else None
    # A typed value is null when blank or invalid, so only null ones need a look.
    shown = f"to_json(left(v_{i}, {_VALUE_IN_REASON_CHARS}))::varchar"
    invalid = f"'column {name}: ' || {shown} || ' is not a valid {column.data_type}'"
    is_blank = blank(f"v_{i}")
    if required:
        return (
            f"case when t_{i} is null then case when {is_blank} then {empty} else {invalid} end end"
        )
    return f"case when t_{i} is null and not {is_blank} then {invalid} end"


def _stage(
    sources: str,
    columns: Sequence[SourceColumn],
    texts: Sequence[str],
    required: set[str],
    structural: Sequence[tuple[str, str]],
    file_reason: str | None,
    typed_overrides: dict[int, str] | None = None,
    raw_record: str = "record",
) -> str:
    """Type each value, explain each reject, keep the raw text of rejects only.

    `sources` yields line_no, what `raw_record` refers to (by default the column
    `record`, the record's text) and whatever `texts` (one text expression
    per column, null when absent) and `structural` (condition, reason: problems
    that make a record unreadable, first match wins) refer to. A typed column's
    value that is only spaces is null.
    """
    overrides = typed_overrides or {}
    values = list(texts)
    typed = [overrides.get(i, cast_text(f"v_{i}", c.data_type)) for i, c in enumerate(columns, 1)]
    problems = [p for i, c in enumerate(columns, 1) if (p := _problem(c, i, c.target in required))]
    parts = ([literal(file_reason)] if file_reason else []) + problems
    reason = f"nullif(concat_ws('; ', {', '.join(parts)}), '')" if parts else "null::varchar"
    if structural:
        whens = " ".join(f"when {cond} then {text}" for cond, text in structural)
        reason = f"case {whens} else {reason} end"
    value_cols = "".join(f", {v} as v_{i}" for i, v in enumerate(values, 1))
    typed_cols = "".join(f", {t} as t_{i}" for i, t in enumerate(typed, 1))
    outputs = "".join(f", t_{i}" for i in range(1, len(columns) + 1))
    return f"""
        create temp table {STAGED} as
        with sourced as ({sources}),
        valued as (select *{value_cols} from sourced),
        typed as (select *{typed_cols} from valued),
        checked as (select *, {reason} as reason from typed)
        select line_no, reason,
               case when reason is not null then {raw_record} end as raw_record{outputs}
        from checked
    """


def _over_limit(condition: str, reason: str | None) -> list[tuple[str, str]]:
    """The structural check for values in columns beyond the new-column limits."""
    return [(condition, literal(reason))] if reason else []


def stage_csv(
    columns: Sequence[SourceColumn],
    required: set[str],
    header_line: int,
    file_reason: str | None,
    width: int,
    over_limit: Sequence[SourceColumn] = (),
    over_limit_reason: str | None = None,
) -> str:
    """Stage the CSV records after the header.

    `columns` are the header's that land (each knows its position), `width` the
    header's field count, `over_limit` the header's columns beyond the limits
    of new columns: a record with a value in one of them is rejected.
    """
    sources = f"""
        select line_no, record, unterminated, cut_back, {csv_fields("record")} as fields
        from {RECORDS} where line_no > {header_line}
    """
    texts = [f"nullif(fields[{c.position}], '')" for c in columns]
    n = width
    positions = ", ".join(str(c.position) for c in over_limit)
    over = f"len(list_filter(list_select(fields, [{positions}]), v -> v <> '')) > 0"
    structural = [
        (
            "unterminated",
            "'unterminated quoted value: no closing quote before the end of the file'",
        ),
        (
            "cut_back",
            "'malformed CSV quoting: the quoted value this line opens does not close "
            "into a well-formed record; the lines after it are read again without it'",
        ),
        (
            "fields is null",
            "'malformed CSV quoting: a quote inside an unquoted value or text after a "
            "closing quote'",
        ),
        (f"len(fields) < {n}", f"'missing columns: expected {n} fields, found ' || len(fields)"),
        (f"len(fields) > {n}", f"'too many columns: expected {n} fields, found ' || len(fields)"),
        *_over_limit(over, over_limit_reason),
    ]
    return _stage(sources, columns, texts, required, structural, file_reason)


def _json_pointer(key: str) -> str:
    return "/" + key.replace("~", "~0").replace("/", "~1")


def _json_shape(columns: Sequence[SourceColumn]) -> str:
    """json_transform's structure: JSON for json columns, text for the others."""
    shape = {c.source: "JSON" if c.data_type.name == "json" else "VARCHAR" for c in columns}
    return literal(json.dumps(shape, ensure_ascii=False))


_JSON_KIND_NAMES = (
    "case kind when 'ARRAY' then 'an array' when 'VARCHAR' then 'a string' "
    "when 'BOOLEAN' then 'a boolean' when 'NULL' then 'null' else 'a number' end"
)


def stage_jsonl(
    columns: Sequence[SourceColumn],
    required: set[str],
    file_reason: str | None,
    over_limit: Sequence[SourceColumn] = (),
    over_limit_reason: str | None = None,
) -> str:
    """Stage JSON lines: one object per non-blank line, keys matched exactly.

    An object holding a key of `over_limit` (new columns beyond the limits) is
    rejected.
    """
    # Two parses per good line: json_valid(), then json_transform(); a valid line
    # that starts with '{' is an object, json_type() names what the others are.
    transformed = f"json_transform(record, {_json_shape(columns)})" if columns else "null"
    sources = f"""
        with lines as (
            select line_no, line as record, {strict_json_valid("line")} as is_json,
                   regexp_matches(line, '^{SPACE}*[{{]') as braced
            from {LINES} where not ({blank("line")})
        ),
        kinds as (
            select *, case when not is_json then null when braced then 'OBJECT'
                           else json_type(record) end as kind
            from lines
        )
        select *, case when kind = 'OBJECT' then {transformed} end as obj from kinds
    """
    structural: list[tuple[str, str]] = [
        ("kind is null", "'invalid JSON'"),
        ("kind <> 'OBJECT'", f"'not a JSON object: found ' || {_JSON_KIND_NAMES}"),
    ]
    over_keys = ", ".join(literal(c.source) for c in over_limit)
    structural += _over_limit(f"list_has_any(json_keys(record), [{over_keys}])", over_limit_reason)
    texts: list[str] = []
    overrides: dict[int, str] = {}
    for i, column in enumerate(columns, start=1):
        text = f"struct_extract(obj, {literal(column.source)})"
        if column.data_type.name == "json":
            texts.append(f"nullif({text}::varchar, 'null')")
            overrides[i] = f"json(v_{i})"
            continue
        texts.append(f"nullif({text}, '')")
        # Objects and arrays arrive as their JSON text; only such text can be one.
        found = f"json_type(json_extract(record, {literal(_json_pointer(column.source))}))"
        structural.append(
            (
                f"left({text}, 1) in ('{{', '[') and {found} in ('OBJECT', 'ARRAY')",
                f"'column {_quoted_name(column)}: expected a single value, found a JSON ' "
                f"|| lower({found})",
            )
        )
    return _stage(sources, columns, texts, required, structural, file_reason, overrides)


def _is_nested(source_type: str) -> bool:
    return source_type.startswith(("STRUCT", "MAP", "UNION")) or source_type.endswith("]")


def stage_parquet(
    path: str,
    columns: Sequence[SourceColumn],
    source_types: Sequence[str],
    required: set[str],
    file_reason: str | None,
    over_limit: Sequence[SourceColumn] = (),
    over_limit_reason: str | None = None,
) -> str:
    """Stage Parquet rows; values already of the declared type pass as they are.

    Other values go through their text (nested values as JSON), like CSV values.
    The raw record of a reject is the row as JSON. A row with a value in a
    column of `over_limit` (new columns beyond the limits) is rejected.
    """
    selected = "".join(f", p.{ident(c.source)} as s_{i}" for i, c in enumerate(columns, 1))
    if over_limit:
        any_value = " or ".join(f"p.{ident(c.source)} is not null" for c in over_limit)
        selected += f", ({any_value}) as over_limit"
    sources = f"""
        select file_row_number + 1 as line_no, p as parquet_row{selected}
        from read_parquet({file_path(path)}) as p
    """
    texts: list[str] = []
    overrides: dict[int, str] = {}
    for i, (column, source_type) in enumerate(zip(columns, source_types, strict=True), 1):
        nested = _is_nested(source_type)
        texts.append(f"to_json(s_{i})::varchar" if nested else f"cast(s_{i} as varchar)")
        target = column.data_type.name
        if source_type == column_type(column.data_type):
            overrides[i] = f"s_{i}"
        elif target == "timestamp" and source_type.startswith("TIMESTAMP WITH"):
            overrides[i] = f"make_timestamp(epoch_us(s_{i}))"
        elif target == "timestamp" and source_type.startswith(("TIMESTAMP", "DATE")):
            overrides[i] = f"cast(s_{i} as TIMESTAMP)"
        elif target == "json" and nested:
            overrides[i] = f"to_json(s_{i})"
    raw_record = "to_json(parquet_row)::varchar"  # built for rejected rows only
    structural = _over_limit("over_limit", over_limit_reason)
    return _stage(sources, columns, texts, required, structural, file_reason, overrides, raw_record)
