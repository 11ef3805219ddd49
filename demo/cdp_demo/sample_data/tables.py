"""The raw tables the generator writes, mirroring the dbt source declarations.

The dbt sources YAML (`dbt_project/models/staging/*/_*__sources.yml`) is the
contract; `tests/test_sample_data.py` checks that this module agrees with it.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

FileFormat = Literal["csv", "jsonl", "parquet"]
Layout = Literal["monthly", "snapshots"]

VARCHAR = "varchar"
BIGINT = "bigint"
INTEGER = "integer"
BOOLEAN = "boolean"
DATE = "date"
TIMESTAMP = "timestamp"
DECIMAL = "decimal(12,2)"
JSON = "json"

TYPED = frozenset({BIGINT, INTEGER, BOOLEAN, DATE, TIMESTAMP, DECIMAL})


@dataclass(frozen=True)
class Column:
    """One column: its name and the declared type every value must cast to."""

    name: str
    data_type: str


@dataclass(frozen=True)
class Table:
    """One raw table: file format, columns in order, required columns, file layout.

    `layout` is "monthly" for event tables (one file per month) and "snapshots"
    for entity tables (an initial export plus delta exports).
    """

    name: str
    format: FileFormat
    columns: tuple[Column, ...]
    required: tuple[str, ...]
    layout: Layout

    @property
    def column_names(self) -> tuple[str, ...]:
        return tuple(c.name for c in self.columns)

    @property
    def extension(self) -> str:
        return self.format


def _cols(*pairs: tuple[str, str]) -> tuple[Column, ...]:
    return tuple(Column(name, data_type) for name, data_type in pairs)


SHOP_CUSTOMERS = Table(
    "shop_customers",
    "csv",
    _cols(
        ("customer_id", BIGINT),
        ("email", VARCHAR),
        ("first_name", VARCHAR),
        ("last_name", VARCHAR),
        ("phone", VARCHAR),
        ("birth_date", DATE),
        ("address_line1", VARCHAR),
        ("city", VARCHAR),
        ("postal_code", VARCHAR),
        ("country_code", VARCHAR),
        ("accepts_marketing", BOOLEAN),
        ("created_at", TIMESTAMP),
        ("updated_at", TIMESTAMP),
    ),
    ("customer_id", "updated_at"),
    "snapshots",
)

SHOP_ORDERS = Table(
    "shop_orders",
    "csv",
    _cols(
        ("order_id", BIGINT),
        ("customer_id", BIGINT),
        ("email", VARCHAR),
        ("ordered_at", TIMESTAMP),
        ("status", VARCHAR),
        ("currency", VARCHAR),
        ("subtotal", DECIMAL),
        ("shipping", DECIMAL),
        ("tax", DECIMAL),
        ("total", DECIMAL),
        ("refunded_amount", DECIMAL),
        ("updated_at", TIMESTAMP),
    ),
    ("order_id", "ordered_at"),
    "monthly",
)

SHOP_ORDER_LINES = Table(
    "shop_order_lines",
    "parquet",
    _cols(
        ("order_line_id", BIGINT),
        ("order_id", BIGINT),
        ("product_id", VARCHAR),
        ("product_name", VARCHAR),
        ("category", VARCHAR),
        ("quantity", INTEGER),
        ("unit_price", DECIMAL),
        ("returned_quantity", INTEGER),
    ),
    ("order_line_id", "order_id"),
    "monthly",
)

CRM_CONTACTS = Table(
    "crm_contacts",
    "csv",
    _cols(
        ("contact_id", VARCHAR),
        ("salutation", VARCHAR),
        ("first_name", VARCHAR),
        ("last_name", VARCHAR),
        ("email", VARCHAR),
        ("phone", VARCHAR),
        ("mobile_phone", VARCHAR),
        ("birthdate", VARCHAR),
        ("mailing_street", VARCHAR),
        ("mailing_city", VARCHAR),
        ("mailing_postal_code", VARCHAR),
        ("mailing_country", VARCHAR),
        ("loyalty_number", VARCHAR),
        ("shop_customer_id", BIGINT),
        ("lead_source", VARCHAR),
        ("created_at", TIMESTAMP),
        ("last_modified_at", TIMESTAMP),
    ),
    ("contact_id", "last_modified_at"),
    "snapshots",
)

EMAIL_SUBSCRIBERS = Table(
    "email_subscribers",
    "csv",
    _cols(
        ("subscriber_id", VARCHAR),
        ("email_address", VARCHAR),
        ("first_name", VARCHAR),
        ("last_name", VARCHAR),
        ("phone", VARCHAR),
        ("status", VARCHAR),
        ("opted_in_at", TIMESTAMP),
        ("confirmed_at", TIMESTAMP),
        ("language", VARCHAR),
        ("updated_at", TIMESTAMP),
    ),
    ("subscriber_id", "email_address", "updated_at"),
    "snapshots",
)

EMAIL_EVENTS = Table(
    "email_events",
    "csv",
    _cols(
        ("event_id", VARCHAR),
        ("subscriber_id", VARCHAR),
        ("campaign_id", VARCHAR),
        ("event_type", VARCHAR),
        ("occurred_at", TIMESTAMP),
        ("url", VARCHAR),
    ),
    ("event_id", "subscriber_id", "event_type", "occurred_at"),
    "monthly",
)

LOYALTY_MEMBERS = Table(
    "loyalty_members",
    "csv",
    _cols(
        ("loyalty_number", VARCHAR),
        ("first_name", VARCHAR),
        ("last_name", VARCHAR),
        ("email", VARCHAR),
        ("phone", VARCHAR),
        ("birth_date", DATE),
        ("postal_code", VARCHAR),
        ("city", VARCHAR),
        ("country_code", VARCHAR),
        ("home_store_id", VARCHAR),
        ("tier", VARCHAR),
        ("enrolled_at", TIMESTAMP),
        ("updated_at", TIMESTAMP),
    ),
    ("loyalty_number", "updated_at"),
    "snapshots",
)

STORE_TRANSACTIONS = Table(
    "store_transactions",
    "parquet",
    _cols(
        ("transaction_id", VARCHAR),
        ("store_id", VARCHAR),
        ("loyalty_number", VARCHAR),
        ("transacted_at", TIMESTAMP),
        ("currency", VARCHAR),
        ("total_amount", DECIMAL),
        ("is_return", BOOLEAN),
    ),
    ("transaction_id", "store_id", "transacted_at"),
    "monthly",
)

STORE_TRANSACTION_LINES = Table(
    "store_transaction_lines",
    "parquet",
    _cols(
        ("transaction_id", VARCHAR),
        ("line_number", INTEGER),
        ("product_id", VARCHAR),
        ("category", VARCHAR),
        ("quantity", INTEGER),
        ("unit_price", DECIMAL),
    ),
    ("transaction_id", "line_number"),
    "monthly",
)

CONSENT_EVENTS = Table(
    "consent_events",
    "jsonl",
    _cols(
        ("consent_event_id", VARCHAR),
        ("subject_email", VARCHAR),
        ("subject_phone", VARCHAR),
        ("source_system", VARCHAR),
        ("source_record_id", VARCHAR),
        ("channel", VARCHAR),
        ("purpose", VARCHAR),
        ("status", VARCHAR),
        ("method", VARCHAR),
        ("occurred_at", TIMESTAMP),
        ("confirmed_at", TIMESTAMP),
    ),
    ("consent_event_id", "channel", "purpose", "status", "occurred_at"),
    "monthly",
)

SUPPORT_TICKETS = Table(
    "support_tickets",
    "csv",
    _cols(
        ("ticket_id", BIGINT),
        ("requester_email", VARCHAR),
        ("requester_name", VARCHAR),
        ("requester_phone", VARCHAR),
        ("subject", VARCHAR),
        ("status", VARCHAR),
        ("priority", VARCHAR),
        ("channel", VARCHAR),
        ("created_at", TIMESTAMP),
        ("updated_at", TIMESTAMP),
        ("solved_at", TIMESTAMP),
        ("satisfaction_rating", VARCHAR),
    ),
    ("ticket_id", "created_at", "updated_at"),
    "monthly",
)

WEB_EVENTS = Table(
    "web_events",
    "jsonl",
    _cols(
        ("message_id", VARCHAR),
        ("type", VARCHAR),
        ("event", VARCHAR),
        ("anonymous_id", VARCHAR),
        ("user_id", VARCHAR),
        ("session_id", VARCHAR),
        ("timestamp", TIMESTAMP),
        ("properties", JSON),
        ("traits", JSON),
        ("context", JSON),
    ),
    ("message_id", "type", "timestamp"),
    "monthly",
)

TABLES: dict[str, Table] = {
    t.name: t
    for t in (
        SHOP_CUSTOMERS,
        SHOP_ORDERS,
        SHOP_ORDER_LINES,
        CRM_CONTACTS,
        EMAIL_SUBSCRIBERS,
        EMAIL_EVENTS,
        LOYALTY_MEMBERS,
        STORE_TRANSACTIONS,
        STORE_TRANSACTION_LINES,
        CONSENT_EVENTS,
        SUPPORT_TICKETS,
        WEB_EVENTS,
    )
}

# The id column of each person-bearing table, as listed in ground_truth/record_persons.csv.
PERSON_KEYS: dict[str, str] = {
    "shop_customers": "customer_id",
    "shop_orders": "order_id",
    "crm_contacts": "contact_id",
    "email_subscribers": "subscriber_id",
    "loyalty_members": "loyalty_number",
    "support_tickets": "ticket_id",
    "consent_events": "consent_event_id",
    "web_events": "anonymous_id",
}
