"""Erased people's rows: how to recognise them in a raw table, and the loader's check.

`cdp privacy erase` (cdp/privacy) deletes a person's raw rows and keeps a
tombstone of hashed identifiers in `privacy.erasure_tombstones`
(`identifier_type`, `identifier_hash`). The loader drops every incoming row
that matches a tombstone before it lands, so re-landing the original files
does not bring the person back. Those rows are counted
(`privacy.erasure_skips`, and the ingest summary), never stored, and never
quarantined in `raw._rejects` with their text.

A row matches when any of these, normalised and SHA-256 hashed, is in the
tombstone:

- `email`: an email column, `lower(trim(value))`;
- `phone`: a phone column, its digits only (`+44 7700 900123` -> `447700900123`);
- `record`: a record key, `<namespace>:upper(trim(value))`, where the
  namespace is the raw table that owns the key (`shop_orders:1234`), so a
  child row (an order line) matches through its parent's key.

`TABLE_KEYS` says which columns of each raw table carry what: the shipped
tables below, then every raw table whose staging model declares identity in
YAML (`meta.cdp_identity`, docs/identity.md "Declared identifiers"), read
from the dbt manifest (`CDP_DBT_MANIFEST`, which the CLI sets): its rows match
by the record key `<source_name>:<raw_record_id>`. So a source added in YAML
and SQL only is erased, exported and kept out by the loader without Python
changes. The same SQL predicate serves the erasure (on `raw.<table>`) and the
loader (on the staged rows), so the two can never disagree.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass

import duckdb

from cdp.landing.declared_keys import DeclaredTableKeys

TOMBSTONE_SCHEMA = "privacy"
TOMBSTONES = f"{TOMBSTONE_SCHEMA}.erasure_tombstones"
SKIPS = f"{TOMBSTONE_SCHEMA}.erasure_skips"

# An email address inside free text (a rejected record's raw text).
EMAIL_IN_TEXT = r"[A-Za-z0-9._%+-]+@[A-Za-z0-9.-]+\.[A-Za-z]{2,}"


@dataclass(frozen=True)
class TableKeys:
    """What identifies a person's rows in one raw table.

    `records`: (namespace, column expression) pairs; `own` is the table's own
    key when other tables refer to it (its rows' hashes join the tombstone so
    children match); `emails`/`phones`: column expressions.
    Column expressions name columns as `{col}` placeholders, e.g.
    `json_extract_string({traits}, '$.email')`.
    """

    records: tuple[tuple[str, str], ...]
    emails: tuple[str, ...] = ()
    phones: tuple[str, ...] = ()
    own: tuple[str, str] | None = None


def _keys(
    records: tuple[tuple[str, str], ...],
    emails: tuple[str, ...] = (),
    phones: tuple[str, ...] = (),
    own: tuple[str, str] | None = None,
) -> TableKeys:
    return TableKeys(records, emails, phones, own)


# In dependency order: a table's rows are matched after the tables whose keys
# it refers to, so one pass collects every key.
SHIPPED_TABLE_KEYS: dict[str, TableKeys] = {
    "shop_customers": _keys((("shop_customers", "{customer_id}"),), ("{email}",), ("{phone}",)),
    "crm_contacts": _keys(
        (("crm_contacts", "{contact_id}"),), ("{email}",), ("{phone}", "{mobile_phone}")
    ),
    "email_subscribers": _keys(
        (("email_subscribers", "{subscriber_id}"),), ("{email_address}",), ("{phone}",)
    ),
    "loyalty_members": _keys(
        (("loyalty_members", "{loyalty_number}"),), ("{email}",), ("{phone}",)
    ),
    "support_tickets": _keys(
        (("support_tickets", "{ticket_id}"),), ("{requester_email}",), ("{requester_phone}",)
    ),
    # A consent event also names the person's record in the system that collected
    # it; identity links it by that id, so the erasure must too, even when the
    # event's email or phone (or none) put it on another customer.
    "consent_events": _keys(
        (
            ("consent_events", "{consent_event_id}"),
            *(
                (
                    namespace,
                    f"case when {{source_system}} = '{system}' then {{source_record_id}} end",
                )
                for system, namespace in (
                    ("shop", "shop_customers"),
                    ("crm", "crm_contacts"),
                    ("email", "email_subscribers"),
                    ("pos", "loyalty_members"),
                    ("web", "web_events"),
                )
            ),
        ),
        ("{subject_email}",),
        ("{subject_phone}",),
    ),
    # `own`: a device (anonymous_id) seen on any matched event is the person's, so
    # every event of that device matches, wherever identity put its other events.
    "web_events": _keys(
        (("web_events", "{anonymous_id}"), ("shop_customers", "{user_id}")),
        ("json_extract_string({traits}, '$.email')",),
        ("json_extract_string({traits}, '$.phone')",),
        own=("web_events", "{anonymous_id}"),
    ),
    "shop_orders": _keys(
        (("shop_orders", "{order_id}"), ("shop_customers", "{customer_id}")),
        ("{email}",),
        own=("shop_orders", "{order_id}"),
    ),
    "store_transactions": _keys(
        (("store_transactions", "{transaction_id}"), ("loyalty_members", "{loyalty_number}")),
        own=("store_transactions", "{transaction_id}"),
    ),
    "email_events": _keys((("email_subscribers", "{subscriber_id}"),)),
    "shop_order_lines": _keys((("shop_orders", "{order_id}"),)),
    "store_transaction_lines": _keys((("store_transactions", "{transaction_id}"),)),
}


# The dialects the erasure runs in: DuckDB (the DuckDB warehouse, and the
# in-memory DuckDB every loader stages in), PostgreSQL and Spark SQL. Written per
# dialect, not translated: a hash must be byte for byte the one the loader and the
# sync engine compute (docs/engines.md, "Privacy on every engine").
DIALECTS = ("duckdb", "postgres", "spark")
_JSON_FIELD = re.compile(r"json_extract_string\((?P<doc>[^,]+), '\$\.(?P<field>\w+)'\)")


def _text(expr: str, dialect: str = "duckdb") -> str:
    return f"cast({expr} as {'string' if dialect == 'spark' else 'varchar'})"


def sha256_hex(expr: str, dialect: str = "duckdb") -> str:
    """SHA-256 of a text expression's UTF-8 bytes as 64 lower-case hex digits."""
    if dialect == "postgres":
        return f"encode(sha256(convert_to({expr}, 'UTF8')), 'hex')"
    if dialect == "spark":
        return f"sha2({expr}, 256)"
    return f"sha256({expr})"


def dialect_expr(expr: str, dialect: str) -> str:
    """A TABLE_KEYS column expression (DuckDB SQL) in `dialect`: the JSON field
    reads (`json_extract_string(doc, '$.field')`) are the only DuckDB-only part."""
    if dialect == "postgres":
        return _JSON_FIELD.sub(lambda m: f"(cast({m['doc']} as json) ->> '{m['field']}')", expr)
    if dialect == "spark":
        return _JSON_FIELD.sub(lambda m: f"get_json_object({m['doc']}, '$.{m['field']}')", expr)
    return expr


def email_hash_sql(expr: str, dialect: str = "duckdb") -> str:
    """SHA-256 of the normalised email (NULL for NULL or empty)."""
    return sha256_hex(f"nullif(lower(trim({_text(expr, dialect)})), '')", dialect)


def phone_hash_sql(expr: str, dialect: str = "duckdb") -> str:
    """SHA-256 of the phone's digits (NULL when it has none)."""
    digits = (
        f"regexp_replace({_text(expr, dialect)}, '[^0-9]', '')"
        if dialect == "spark"
        else f"regexp_replace({_text(expr, dialect)}, '[^0-9]', '', 'g')"
    )
    return sha256_hex(f"nullif({digits}, '')", dialect)


def record_hash_sql(namespace: str, expr: str, dialect: str = "duckdb") -> str:
    """SHA-256 of `<namespace>:<KEY>` (NULL for a NULL or empty key)."""
    key = f"nullif(upper(trim({_text(expr, dialect)})), '')"
    joined = f"concat('{namespace}:', {key})" if dialect == "spark" else f"'{namespace}:' || {key}"
    return sha256_hex(joined, dialect)


def _fill(template: str, column: Callable[[str], str]) -> str:
    names = [part.split("}", 1)[0] for part in template.split("{")[1:]]
    return template.format(**{name: column(name) for name in names})


def row_hashes(
    table: str, column: Callable[[str], str], dialect: str = "duckdb"
) -> list[tuple[str, str]]:
    """(identifier_type, hash expression) for every key of a row of `table`.

    `column(name)` gives the SQL expression of a column of the row.
    """
    keys = TABLE_KEYS[table]

    def filled(template: str) -> str:
        return dialect_expr(_fill(template, column), dialect)

    hashes = [("record", record_hash_sql(ns, filled(e), dialect)) for ns, e in keys.records]
    hashes += [("email", email_hash_sql(filled(e), dialect)) for e in keys.emails]
    hashes += [("phone", phone_hash_sql(filled(e), dialect)) for e in keys.phones]
    return hashes


def erased_predicate(
    table: str, column: Callable[[str], str], tombstones: str, dialect: str = "duckdb"
) -> str:
    """SQL true for a row of `table` that matches the tombstone relation `tombstones`."""
    tests = [
        f"exists (select 1 from {tombstones} ts where ts.identifier_type = '{kind}' "
        f"and ts.identifier_hash = {expr})"
        for kind, expr in row_hashes(table, column, dialect)
    ]
    return "(" + " or ".join(tests) + ")"


def text_email_predicate(text_expr: str, tombstones: str, dialect: str = "duckdb") -> str:
    """SQL true when free text holds an email address that is in the tombstone."""
    if dialect == "postgres":
        found = f"regexp_matches({text_expr}, '{EMAIL_IN_TEXT}', 'g') as f(m)"
        column = "f.m[1]"
    elif dialect == "spark":
        # Spark takes no outer column inside a correlated generator: the text's emails
        # hashed in a lambda, against the tombstone's as one uncorrelated array
        pattern = EMAIL_IN_TEXT.replace("\\", "\\\\")  # a Spark literal unescapes once
        hashed = email_hash_sql("m", dialect)
        return (
            f"arrays_overlap(transform(regexp_extract_all({text_expr}, '({pattern})', 1), "
            f"m -> {hashed}), (select collect_list(identifier_hash) from {tombstones} "
            "where identifier_type = 'email'))"
        )
    else:
        found = f"(select unnest(regexp_extract_all({text_expr}, '{EMAIL_IN_TEXT}')) as m) f"
        column = "f.m"
    return (
        f"exists (select 1 from {found} join {tombstones} ts "
        f"on ts.identifier_type = 'email' and ts.identifier_hash = "
        f"{email_hash_sql(column, dialect)})"
    )


def tombstones_exist(con: duckdb.DuckDBPyConnection) -> bool:
    row = con.execute(
        "select count(*) from duckdb_tables() where database_name = current_database() "
        "and schema_name = ? and table_name = 'erasure_tombstones'",
        [TOMBSTONE_SCHEMA],
    ).fetchone()
    return bool(row and row[0])


def ensure_skips_table(con: duckdb.DuckDBPyConnection) -> None:
    con.execute(f"create schema if not exists {TOMBSTONE_SCHEMA}")
    con.execute(
        f"create table if not exists {SKIPS} (table_name varchar, source_file varchar, "
        "rows_skipped bigint, skipped_at timestamp)"
    )


def drop_erased_staged(
    con: duckdb.DuckDBPyConnection,
    table: str,
    staged: str,
    staged_columns: Mapping[str, str],
) -> int:
    """Delete the staged rows (good or rejected) of erased people; return how many.

    `staged_columns` maps a declared column name to its staged column
    (`t_3`). A rejected row also matches when its raw text holds an erased
    email address. Does nothing when no tombstone exists.
    """
    if not tombstones_exist(con):
        return 0
    tests = [text_email_predicate("raw_record", TOMBSTONES)]
    keys = TABLE_KEYS.get(table)
    if keys is not None:
        needed = {
            part.split("}", 1)[0]
            for template in [e for _, e in keys.records] + list(keys.emails) + list(keys.phones)
            for part in template.split("{")[1:]
        }
        if needed <= set(staged_columns):
            tests.append(erased_predicate(table, lambda name: staged_columns[name], TOMBSTONES))
    where = " or ".join(f"({test})" for test in tests)
    row = con.execute(f"select count(*) from {staged} where {where}").fetchone()
    count = int(row[0]) if row else 0
    if count:
        con.execute(f"delete from {staged} where {where}")
    return count


# The shipped tables, then the raw tables of the sources declaring identity in
# YAML (cdp/landing/declared_keys.py); re-read when the dbt manifest changes.
TABLE_KEYS: Mapping[str, TableKeys] = DeclaredTableKeys(
    SHIPPED_TABLE_KEYS, lambda namespace, column: _keys(((namespace, column),))
)
