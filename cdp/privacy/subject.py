"""A privacy request and the person it resolves to: customers, keys and raw rows.

A request names a person by email, phone or customer id. It resolves through
`marts.customer_identifiers` and `marts.customers` to customer ids, then to
the hashed keys of everything they own (cdp/landing/tombstones.py): every
source record of `customer_source_records`, every email and phone of
`customer_identifiers` (never blocked values: those are left out there), and
the request's own identifier. `collect_keys` then walks the raw tables in
dependency order, adding the keys of child rows (an order's lines), so the
key set finally matches every raw row of the person.
"""

from __future__ import annotations

import csv
from dataclasses import dataclass
from pathlib import Path
from typing import Literal, cast

from cdp.landing.tombstones import (
    TABLE_KEYS,
    email_hash_sql,
    erased_predicate,
    phone_hash_sql,
    record_hash_sql,
    sha256_hex,
)
from cdp.privacy.connection import (
    Connection,
    delete_rows,
    dialect_of,
    tables_of,
    temp_table,
    text_type,
)

IdentifierType = Literal["email", "phone", "customer_id"]
IDENTIFIER_TYPES: tuple[IdentifierType, ...] = ("email", "phone", "customer_id")

# Temporary relation holding the keys of the current request.
SUBJECT_KEYS = "privacy_subject_keys"

# customer_identifiers types that are record keys of a raw table (namespace).
IDENTIFIER_NAMESPACES = {
    "loyalty_number": "loyalty_members",
    "shop_customer_id": "shop_customers",
    "crm_contact_id": "crm_contacts",
    "email_subscriber_id": "email_subscribers",
    "anonymous_id": "web_events",
}


class PrivacyError(RuntimeError):
    """A request that cannot be carried out (bad input, missing warehouse tables)."""


@dataclass(frozen=True)
class ErasureRequest:
    identifier_type: IdentifierType
    identifier_value: str
    requested_by: str
    reason: str

    def __repr__(self) -> str:  # never print the identifier itself
        return f"ErasureRequest({self.identifier_type}, requested_by={self.requested_by!r})"


def read_requests(path: Path, requested_by: str, reason: str) -> list[ErasureRequest]:
    """Requests from a CSV file: identifier_type, identifier_value[, requested_by, reason]."""
    try:
        with path.open(newline="", encoding="utf-8") as handle:
            rows = list(csv.DictReader(handle))
    except OSError as exc:
        raise PrivacyError(f"cannot read requests file {path}: {exc.strerror or exc}") from exc
    requests = []
    for line, row in enumerate(rows, start=2):
        kind = (row.get("identifier_type") or "").strip()
        value = (row.get("identifier_value") or "").strip()
        if kind not in IDENTIFIER_TYPES or not value:
            raise PrivacyError(
                f"{path}, line {line}: identifier_type must be one of "
                f"{', '.join(IDENTIFIER_TYPES)} and identifier_value must not be empty"
            )
        requests.append(
            ErasureRequest(
                cast(IdentifierType, kind),
                value,
                (row.get("requested_by") or "").strip() or requested_by,
                (row.get("reason") or "").strip() or reason,
            )
        )
    return requests


def relation_exists(con: Connection, schema: str, table: str) -> bool:
    return table in tables_of(con, schema)


def _require(con: Connection, *relations: str) -> None:
    for relation in relations:
        schema, table = relation.split(".")
        if not relation_exists(con, schema, table):
            raise PrivacyError(f"{relation} does not exist in the warehouse (run `cdp build`)")


def request_hash(con: Connection, request: ErasureRequest) -> str:
    """The request's identifier, normalised and hashed like the tombstone does."""
    dialect = dialect_of(con)
    value = f"cast(? as {text_type(con)})"
    expr = {
        "email": email_hash_sql(value, dialect),
        "phone": phone_hash_sql(value, dialect),
        "customer_id": sha256_hex(f"trim({value})", dialect),
    }[request.identifier_type]
    row = con.execute(f"select {expr}", [request.identifier_value]).fetchone()
    return str(row[0]) if row and row[0] else ""


def resolve_customers(con: Connection, request: ErasureRequest) -> list[str]:
    """Customer ids the request names (none when the warehouse does not know it)."""
    _require(con, "marts.customers", "marts.customer_identifiers")
    value = request.identifier_value
    text = text_type(con)
    if request.identifier_type == "customer_id":
        sql = f"select customer_id from marts.customers where customer_id = trim(cast(? as {text}))"
    elif request.identifier_type == "email":
        sql = (
            "select distinct customer_id from marts.customer_identifiers "
            "where identifier_type = 'email' "
            f"and identifier_value = lower(trim(cast(? as {text})))"
        )
    else:
        # Spark's regexp_replace replaces every match (its fourth argument is a position)
        every = "" if dialect_of(con) == "spark" else ", 'g'"
        plus = "'^([+]|00)'" if dialect_of(con) == "spark" else "'^(\\+|00)'"
        digits = f"regexp_replace(regexp_replace({{x}}, '[^0-9+]', ''{every}), {plus}, '')"
        sql = (
            "select distinct customer_id from marts.customer_identifiers "
            "where identifier_type = 'phone' and "
            f"{digits.format(x='identifier_value')} = {digits.format(x=f'cast(? as {text})')}"
        )
    return sorted(str(r[0]) for r in con.execute(sql, [value]).fetchall())


def start_keys(con: Connection, request: ErasureRequest, customer_ids: list[str]) -> None:
    """Fill SUBJECT_KEYS with the hashed keys of the customers and the request."""
    dialect = dialect_of(con)
    temp_table(con, SUBJECT_KEYS, "(identifier_type varchar, identifier_hash varchar)")
    temp_table(con, "privacy_subject_customers", "(customer_id varchar)")
    if customer_ids:
        con.executemany(
            "insert into privacy_subject_customers values (?)", [[c] for c in customer_ids]
        )
    if request.identifier_type in ("email", "phone"):
        con.execute(
            f"insert into {SUBJECT_KEYS} values (?, ?)",
            [request.identifier_type, request_hash(con, request)],
        )
    _require(con, "marts.customer_source_records")
    record_key = sha256_hex("source_name || ':' || upper(trim(source_record_id))", dialect)
    con.execute(
        f"""insert into {SUBJECT_KEYS}
        select 'record', {record_key}
        from marts.customer_source_records
        where customer_id in (select customer_id from privacy_subject_customers)"""
    )
    identifiers = "select * from marts.customer_identifiers where customer_id in " + (
        "(select customer_id from privacy_subject_customers)"
    )
    con.execute(
        f"""insert into {SUBJECT_KEYS}
        select 'email', {email_hash_sql("identifier_value", dialect)} from ({identifiers}) i
        where identifier_type = 'email'
        union all
        select 'phone', {phone_hash_sql("identifier_value", dialect)} from ({identifiers}) i
        where identifier_type = 'phone'"""
    )
    for identifier_type, namespace in IDENTIFIER_NAMESPACES.items():
        con.execute(
            f"""insert into {SUBJECT_KEYS}
            select 'record', {record_hash_sql(namespace, "identifier_value", dialect)}
            from ({identifiers}) i where identifier_type = ?""",
            [identifier_type],
        )
    delete_rows(con, SUBJECT_KEYS, "identifier_hash is null or identifier_hash = ''")


def raw_tables(con: Connection) -> list[str]:
    """Raw tables holding landed rows (not the loader's bookkeeping)."""
    return sorted(
        name
        for name, kind in tables_of(con, "raw").items()
        if kind == "BASE TABLE" and not name.startswith("_")
    )


def quoted(name: str, dialect: str = "duckdb") -> str:
    """An identifier quoted for `dialect` (Spark quotes with backticks)."""
    if dialect == "spark":
        return "`" + name.replace("`", "``") + "`"
    return '"' + name.replace('"', '""') + '"'


def raw_predicate(table: str, dialect: str = "duckdb") -> str:
    """SQL true for a row of raw.<table> matched by SUBJECT_KEYS."""
    return erased_predicate(table, lambda name: quoted(name, dialect), SUBJECT_KEYS, dialect)


def collect_keys(con: Connection) -> list[str]:
    """Add the keys of matched parent rows (orders, transactions) to SUBJECT_KEYS.

    Returns the raw tables that have no erasure keys declared (not searched).
    """
    dialect = dialect_of(con)
    present = raw_tables(con)
    for table, keys in TABLE_KEYS.items():
        if table not in present or keys.own is None:
            continue
        namespace, template = keys.own
        own = record_hash_sql(namespace, template.format(**_columns(template, dialect)), dialect)
        con.execute(
            f"insert into {SUBJECT_KEYS} select distinct 'record', {own} "
            f"from raw.{quoted(table, dialect)} where {raw_predicate(table, dialect)}"
        )
    temp_table(con, "privacy_subject_keys_distinct", f"as select distinct * from {SUBJECT_KEYS}")
    delete_rows(con, SUBJECT_KEYS)
    con.execute(f"insert into {SUBJECT_KEYS} select * from privacy_subject_keys_distinct")
    return [t for t in present if t not in TABLE_KEYS]


def _columns(template: str, dialect: str = "duckdb") -> dict[str, str]:
    names = [part.split("}", 1)[0] for part in template.split("{")[1:]]
    return {name: quoted(name, dialect) for name in names}
