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


def _text(expr: str) -> str:
    return f"cast({expr} as varchar)"


def email_hash_sql(expr: str) -> str:
    """SHA-256 of the normalised email (NULL for NULL or empty)."""
    return f"sha256(nullif(lower(trim({_text(expr)})), ''))"


def phone_hash_sql(expr: str) -> str:
    """SHA-256 of the phone's digits (NULL when it has none)."""
    return f"sha256(nullif(regexp_replace({_text(expr)}, '[^0-9]', '', 'g'), ''))"


def record_hash_sql(namespace: str, expr: str) -> str:
    """SHA-256 of `<namespace>:<KEY>` (NULL for a NULL or empty key)."""
    key = f"nullif(upper(trim({_text(expr)})), '')"
    return f"sha256('{namespace}:' || {key})"


def _fill(template: str, column: Callable[[str], str]) -> str:
    names = [part.split("}", 1)[0] for part in template.split("{")[1:]]
    return template.format(**{name: column(name) for name in names})


def row_hashes(table: str, column: Callable[[str], str]) -> list[tuple[str, str]]:
    """(identifier_type, hash expression) for every key of a row of `table`.

    `column(name)` gives the SQL expression of a column of the row.
    """
    keys = TABLE_KEYS[table]
    hashes = [("record", record_hash_sql(ns, _fill(expr, column))) for ns, expr in keys.records]
    hashes += [("email", email_hash_sql(_fill(expr, column))) for expr in keys.emails]
    hashes += [("phone", phone_hash_sql(_fill(expr, column))) for expr in keys.phones]
    return hashes


def erased_predicate(table: str, column: Callable[[str], str], tombstones: str) -> str:
    """SQL true for a row of `table` that matches the tombstone relation `tombstones`."""
    tests = [
        f"exists (select 1 from {tombstones} ts where ts.identifier_type = '{kind}' "
        f"and ts.identifier_hash = {expr})"
        for kind, expr in row_hashes(table, column)
    ]
    return "(" + " or ".join(tests) + ")"


def text_email_predicate(text_expr: str, tombstones: str) -> str:
    """SQL true when free text holds an email address that is in the tombstone."""
    return (
        f"exists (select 1 from (select unnest(regexp_extract_all({text_expr}, "
        f"'{EMAIL_IN_TEXT}')) as found) f join {tombstones} ts "
        f"on ts.identifier_type = 'email' and ts.identifier_hash = {email_hash_sql('f.found')})"
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
