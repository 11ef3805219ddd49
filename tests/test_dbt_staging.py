"""Build the dbt staging layer on a small messy raw warehouse and check its output.

The raw tables are created here from the source declarations
(`dbt_project/models/staging/*/_*__sources.yml`) and filled with a few hand-written
rows, so the test does not depend on the landing loader or the sample-data generator.
"""

from __future__ import annotations

import csv
import json
import os
import subprocess
import sys
from collections.abc import Iterator
from datetime import date
from decimal import ROUND_HALF_UP, Decimal
from pathlib import Path
from typing import Any

import duckdb
import pytest
import yaml

REPO = Path(__file__).resolve().parent.parent
DBT_PROJECT = REPO / "dbt_project"
DBT = Path(sys.executable).parent / "dbt"
LANDING_COLUMNS = [
    ("_loaded_at", "timestamp"),
    ("_source_file", "varchar"),
    ("_source_line", "bigint"),
]

pytestmark = pytest.mark.slow

# One London number, written the ways people write it.
LONDON_E164 = "+442079460958"
LONDON_VARIANTS = [
    "+44 20 7946 0958",
    "020 7946 0958",
    "0044 20 7946 0958",
    "+44 (0)20 7946 0958",
    "(020) 7946-0958",
    "020.7946.0958 ext. 12",
    "44 20 7946 0958",
]


def declared_raw_tables() -> dict[str, list[tuple[str, str]]]:
    """Raw table name -> [(column, type)] from the source declarations, landing columns added."""
    tables: dict[str, list[tuple[str, str]]] = {}
    for path in sorted(DBT_PROJECT.glob("models/staging/*/_*__sources.yml")):
        for source in yaml.safe_load(path.read_text())["sources"]:
            for table in source["tables"]:
                columns = [(c["name"], c["data_type"]) for c in table["columns"]]
                tables[table["name"]] = columns + LANDING_COLUMNS
    return tables


def create_raw_warehouse(path: Path, rows: dict[str, list[dict[str, Any]]]) -> None:
    """Create every declared raw table (empty unless `rows` has some) in a new DuckDB file."""
    tables = declared_raw_tables()
    with duckdb.connect(str(path)) as con:
        con.execute("create schema raw")
        for name, columns in tables.items():
            column_sql = ", ".join(f'"{column}" {data_type}' for column, data_type in columns)
            con.execute(f"create table raw.{name} ({column_sql})")
            table_rows = rows.get(name, [])
            if not table_rows:
                continue
            names = [column for column, _ in columns]
            values = []
            for line, record in enumerate(table_rows, start=1):
                record = {
                    "_loaded_at": "2025-01-01 00:00:00",
                    "_source_file": f"{name}/2025-01-01.csv",
                    "_source_line": line,
                    **record,
                }
                unknown = set(record) - set(names)
                assert not unknown, f"{name}: undeclared columns {unknown}"
                values.append(
                    [
                        json.dumps(v) if isinstance(v, dict) else v
                        for v in (record.get(column) for column in names)
                    ]
                )
            placeholders = ", ".join("?" for _ in names)
            con.executemany(f"insert into raw.{name} values ({placeholders})", values)


def records(columns: str, *values: tuple[Any, ...]) -> list[dict[str, Any]]:
    """Rows given as tuples in the order of the space-separated `columns`."""
    names = columns.split()
    return [dict(zip(names, row, strict=True)) for row in values]


def messy_rows() -> dict[str, list[dict[str, Any]]]:
    """A few rows per raw table with the mess the staging layer must clean up."""
    london = LONDON_VARIANTS
    # One row per line reads better than ruff's one value per line here.
    # fmt: off
    return {
        "shop_customers": records(
            "customer_id email first_name last_name phone country_code updated_at _loaded_at",
            # Two versions of customer 1: the later updated_at wins.
            (1, "  Anna.Smith+shop@Gmail.COM ", " Anna ", "Smith", london[0], "GB",
             "2024-01-01 10:00", "2025-01-01"),
            (1, "ANNA.SMITH@GMAIL.COM", "Anna", "Smith-Jones", london[1], "gb",
             "2024-05-01 10:00", "2025-01-01"),
            # The same updated_at twice: the later load wins.
            (2, "lukasz@example.pl", "Łukasz", "Wójcik", "0048 512 345 678", "PL",
             "2024-02-01", "2025-01-02"),
            (2, "lukasz.old@example.pl", "Łukasz", "Wójcik", "512 345 678", "PL",
             "2024-02-01", "2025-01-01"),
            (3, "", "Δημήτρης", "Παπαδόπουλος", "0000000000", "GR", "2024-03-01", "2025-01-01"),
            (4, "joe@example.com", "Joe", "  Doe   Jr ", "(212) 555-0199", "US",
             "2024-03-01", "2025-01-01"),
            (5, "not-an-email", "Zoë", "Ødegård", london[2], None, "2024-03-01", "2025-01-01"),
        ),
        "shop_orders": records(
            "order_id customer_id email status ordered_at currency subtotal shipping tax total "
            "refunded_amount updated_at",
            (100, 1, " Anna.Smith@gmail.com", "completed", "2024-01-01 12:00", "GBP",
             "100.00", "0", "0", "100.00", "0", "2024-01-01 12:00"),
            (100, 1, " Anna.Smith@gmail.com", "partially_returned", "2024-01-01 12:00", "GBP",
             "100.00", "0", "0", "100.00", "25.00", "2024-01-10 12:00"),
            (101, None, "guest@example.com", "completed", "2024-01-02 09:00", "PLN",
             "427.50", "0", "0", "427.50", "0", None),
            (102, 2, "lukasz@example.pl", "completed", "2024-01-03 09:00", "EUR",
             "50.00", "0", "0", "50.00", "0", None),
        ),
        "shop_order_lines": records(
            "order_line_id order_id product_id product_name category quantity unit_price "
            "returned_quantity",
            (1, 100, "P1", "Mug", "Kitchen", 2, "50.00", 1),
            (2, 101, "P2", "Tee", "apparel", 1, "427.50", None),
        ),
        "crm_contacts": records(
            "contact_id first_name last_name email phone birthdate mailing_country "
            "last_modified_at",
            ("0035g00000AbCdEAAZ", "Anna", "Smith", "anna.smith@gmail.com ", london[3],
             "1984-03-07", "UK", "2024-01-01"),
            ("0035g00000AbCdFAAZ", "Hans", "Müller", None, "030 1234567",
             "07/03/1984", "Deutschland", "2024-01-01"),
            ("0035g00000AbCdGAAZ", "Μαρία", "Ξανθοπούλου", None, None,
             "7 Mar 1984", "Ελλάδα", "2024-01-01"),
            ("0035g00000AbCdHAAZ", "Zofia", "Żółć", None, None,
             "31/02/1984", "polska", "2024-01-01"),
            ("0035g00000AbCdIAAZ", "Eve", "Nobody", None, None,
             "sometime in the 80s", "Narnia", "2024-01-01"),
            # US contacts write dates month first.
            ("0035g00000AbCdJAAZ", "Joe", "Doe", None, "(212) 555-0199",
             "03/07/1984", "U.S.A.", "2024-01-01"),
        ),
        "email_subscribers": records(
            "subscriber_id email_address status phone updated_at",
            ("s1", " ANNA.SMITH+news@gmail.com", "Subscribed", london[4], "2023-01-02"),
            ("s1", " ANNA.SMITH+news@gmail.com", "unsubscribed", london[4], "2024-01-02"),
        ),
        "email_events": records(
            "event_id subscriber_id campaign_id event_type occurred_at url",
            ("e1", "s1", "c1", "click", "2023-02-01 10:00", "https://shop.example/p1"),
        ),
        "web_events": records(
            "message_id type event anonymous_id user_id timestamp properties traits context",
            ("m1", "identify", None, "a1", "1", "2024-01-01 10:00", None,
             {"email": " Anna.Smith@Gmail.com", "first_name": "Anna", "phone": london[5]},
             {"device_type": "web", "page_url": "https://shop.example/"}),
            ("m2", "track", "Product Viewed", "a1", None, "2024-01-01 10:01",
             {"product_id": "P1", "category": "kitchen", "price": 19.99}, None,
             {"device_type": "ios"}),
        ),
        "loyalty_members": records(
            "loyalty_number first_name last_name email phone country_code tier updated_at",
            ("L001", "Bjørn", "Ødegård", "BJORN@example.no", "912 34 567", "NO", "gold",
             "2023-01-01"),
        ),
        "store_transactions": records(
            "transaction_id store_id loyalty_number transacted_at currency total_amount is_return",
            ("T1", "OSL1", "L001", "2024-01-01 09:00", "NOK", "500.00", False),
            ("T2", "CPH1", " ", "2024-01-01 09:00", "DKK", "-74.58", True),
        ),
        "store_transaction_lines": records(
            "transaction_id line_number product_id quantity unit_price",
            ("T1", 1, "P1", 1, "500.00"),
            ("T2", 1, "P2", -1, "74.58"),
        ),
        "consent_events": records(
            "consent_event_id subject_email subject_phone source_system source_record_id "
            "channel purpose status method occurred_at",
            ("ce1", "Anna.Smith@gmail.com ", london[6], "shop", "1",
             "email", "marketing", "granted", "checkbox", "2023-01-01"),
        ),
        "support_tickets": records(
            "ticket_id requester_email requester_name requester_phone status priority channel "
            "created_at updated_at",
            (1, "HANS.MUELLER@example.de", "  Hans   Müller ", london[0], "open", "normal",
             "email", "2024-01-01", "2024-01-01"),
            (1, "HANS.MUELLER@example.de", "  Hans   Müller ", london[0], "solved", "normal",
             "email", "2024-01-01", "2024-01-03"),
            (2, "", "Γιώργος Νικολάου", None, "new", "low", "chat", "2024-01-01", "2024-01-01"),
        ),
    }
    # fmt: on


@pytest.fixture(scope="module")
def staging(tmp_path_factory: pytest.TempPathFactory) -> Iterator[duckdb.DuckDBPyConnection]:
    """Build seeds, staging models and all their tests; yield a read-only connection."""
    work = tmp_path_factory.mktemp("dbt_staging")
    warehouse = work / "warehouse.duckdb"
    create_raw_warehouse(warehouse, messy_rows())
    env = {
        **os.environ,
        "CDP_DUCKDB_PATH": str(warehouse),
        "CDP_TARGET": "duckdb",
        "DBT_SEND_ANONYMOUS_USAGE_STATS": "false",
        # Keep target/ and logs/ out of the repository so parallel runs don't collide.
        "DBT_TARGET_PATH": str(work / "target"),
        "DBT_LOG_PATH": str(work / "logs"),
    }
    completed = subprocess.run(
        [
            str(DBT),
            "build",
            "--select",
            "+path:models/staging",
            # the scores' staging models read what `cdp build`'s scoring step writes
            "--exclude",
            "source:predictions+",
            # only tests whose every parent is built here (not the marts'
            # relationships tests that also point at a staging model's children)
            "--indirect-selection",
            "cautious",
            "--project-dir",
            str(DBT_PROJECT),
            "--profiles-dir",
            str(REPO),
        ],
        env=env,
        cwd=REPO,
        capture_output=True,
        text=True,
        check=False,
        timeout=300,
    )
    assert completed.returncode == 0, completed.stdout[-6000:] + completed.stderr[-2000:]
    with duckdb.connect(str(warehouse), read_only=True) as con:
        yield con


def rows(con: duckdb.DuckDBPyConnection, sql: str) -> list[dict[str, Any]]:
    cursor = con.execute(sql)
    names = [d[0] for d in cursor.description]
    return [dict(zip(names, r, strict=True)) for r in cursor.fetchall()]


def reporting_amount(amount: str, currency: str) -> Decimal:
    """Expected conversion to EUR from the shipped currency_rates seed."""
    with (DBT_PROJECT / "seeds" / "currency_rates.csv").open() as f:
        rates = {r["currency_code"]: Decimal(r["units_per_eur"]) for r in csv.DictReader(f)}
    return (Decimal(amount) / rates[currency]).quantize(Decimal("0.01"), ROUND_HALF_UP)


def test_every_staging_model_is_built(staging: duckdb.DuckDBPyConnection) -> None:
    built = {
        r["table_name"]
        for r in rows(
            staging,
            "select table_name from information_schema.tables where table_schema = 'staging'",
        )
    }
    assert built >= {
        "stg_shop__customers",
        "stg_shop__orders",
        "stg_shop__order_lines",
        "stg_crm__contacts",
        "stg_email__subscribers",
        "stg_email__events",
        "stg_web__events",
        "stg_pos__loyalty_members",
        "stg_pos__store_transactions",
        "stg_pos__store_transaction_lines",
        "stg_consent__consent_events",
        "stg_support__tickets",
    }


def test_phone_variants_of_one_number_agree(staging: duckdb.DuckDBPyConnection) -> None:
    found = rows(
        staging,
        """
        select 'shop' as src, phone_raw as raw, phone_e164 as e164
        from staging.stg_shop__customers where customer_id in (1, 5)
        union all
        select 'crm', phone_raw, phone_e164 from staging.stg_crm__contacts
        where contact_id = '0035g00000AbCdEAAZ'
        union all
        select 'email', phone_raw, phone_e164 from staging.stg_email__subscribers
        union all
        select 'web', traits_phone_raw, traits_phone_e164 from staging.stg_web__events
        where web_event_id = 'm1'
        union all
        select 'support', requester_phone_raw, requester_phone_e164
        from staging.stg_support__tickets where ticket_id = 1
        union all
        select 'consent', subject_phone_raw, subject_phone_e164
        from staging.stg_consent__consent_events
    """,
    )
    assert {r["raw"] for r in found} == set(LONDON_VARIANTS)
    assert {r["e164"] for r in found} == {LONDON_E164}


def test_phones_use_the_record_country(staging: duckdb.DuckDBPyConnection) -> None:
    shop = {
        r["customer_id"]: r["phone_e164"]
        for r in rows(staging, "select customer_id, phone_e164 from staging.stg_shop__customers")
    }
    assert shop[2] == "+48512345678"  # 0048 prefix
    assert shop[3] is None  # 0000000000 is not a number
    assert shop[4] == "+12125550199"  # US national format
    crm = rows(
        staging,
        "select phone_e164 from staging.stg_crm__contacts where contact_id = '0035g00000AbCdFAAZ'",
    )
    assert crm == [{"phone_e164": "+49301234567"}]  # German trunk 0 dropped
    loyalty = rows(staging, "select phone_e164 from staging.stg_pos__loyalty_members")
    assert loyalty == [{"phone_e164": "+4791234567"}]  # Norway has no trunk prefix


def test_emails_are_normalised(staging: duckdb.DuckDBPyConnection) -> None:
    shop = {
        r["customer_id"]: r
        for r in rows(
            staging,
            "select customer_id, email, email_canonical, is_email_valid "
            "from staging.stg_shop__customers",
        )
    }
    assert shop[1]["email"] == "anna.smith@gmail.com"
    assert shop[1]["email_canonical"] == "annasmith@gmail.com"
    assert shop[3]["email"] is None and shop[3]["is_email_valid"] is False
    assert shop[5]["email"] == "not-an-email" and shop[5]["is_email_valid"] is False
    subscriber = rows(staging, "select email, email_canonical from staging.stg_email__subscribers")
    assert subscriber == [
        {"email": "anna.smith+news@gmail.com", "email_canonical": "annasmith@gmail.com"}
    ]
    web = rows(
        staging, "select traits_email from staging.stg_web__events where web_event_id = 'm1'"
    )
    assert web == [{"traits_email": "anna.smith@gmail.com"}]
    ticket = rows(
        staging, "select requester_email from staging.stg_support__tickets order by ticket_id"
    )
    assert ticket == [{"requester_email": "hans.mueller@example.de"}, {"requester_email": None}]


def test_latest_version_wins(staging: duckdb.DuckDBPyConnection) -> None:
    shop = rows(
        staging,
        "select customer_id, last_name, email from staging.stg_shop__customers "
        "where customer_id in (1, 2) order by customer_id",
    )
    assert shop == [
        {"customer_id": 1, "last_name": "Smith-Jones", "email": "anna.smith@gmail.com"},
        {"customer_id": 2, "last_name": "Wójcik", "email": "lukasz@example.pl"},
    ]
    order = rows(
        staging, "select status, refunded_amount from staging.stg_shop__orders where order_id = 100"
    )
    assert order == [{"status": "partially_returned", "refunded_amount": Decimal("25.00")}]
    subscriber = rows(staging, "select status, is_subscribed from staging.stg_email__subscribers")
    assert subscriber == [{"status": "unsubscribed", "is_subscribed": False}]
    ticket = rows(staging, "select status from staging.stg_support__tickets where ticket_id = 1")
    assert ticket == [{"status": "solved"}]


def test_amounts_are_converted_to_reporting_currency(
    staging: duckdb.DuckDBPyConnection,
) -> None:
    orders = {
        r["order_id"]: r
        for r in rows(
            staging,
            "select order_id, currency_code, total_amount, total_amount_reporting, "
            "refunded_amount_reporting, reporting_currency_code from staging.stg_shop__orders",
        )
    }
    assert orders[100]["currency_code"] == "GBP"
    assert orders[100]["total_amount"] == Decimal("100.00")
    assert orders[100]["total_amount_reporting"] == reporting_amount("100.00", "GBP")
    assert orders[100]["refunded_amount_reporting"] == reporting_amount("25.00", "GBP")
    assert orders[101]["total_amount_reporting"] == reporting_amount("427.50", "PLN")
    assert orders[102]["total_amount_reporting"] == Decimal("50.00")
    assert {o["reporting_currency_code"] for o in orders.values()} == {"EUR"}
    receipts = {
        r["store_transaction_id"]: r
        for r in rows(
            staging,
            "select store_transaction_id, total_amount_reporting, loyalty_number "
            "from staging.stg_pos__store_transactions",
        )
    }
    assert receipts["T1"]["total_amount_reporting"] == reporting_amount("500.00", "NOK")
    assert receipts["T2"]["total_amount_reporting"] == reporting_amount("-74.58", "DKK")
    assert receipts["T2"]["loyalty_number"] is None


def test_crm_birthdates_and_countries_are_parsed(staging: duckdb.DuckDBPyConnection) -> None:
    contacts = {
        r["contact_id"][-4:]: r
        for r in rows(
            staging,
            "select contact_id, birth_date, birth_date_raw, mailing_country_code "
            "from staging.stg_crm__contacts",
        )
    }
    for key in ("EAAZ", "FAAZ", "GAAZ", "JAAZ"):  # 1984-03-07, 07/03/1984, 7 Mar 1984, US 03/07
        assert contacts[key]["birth_date"] == date(1984, 3, 7), contacts[key]
    assert contacts["HAAZ"]["birth_date"] is None  # 31 February
    assert contacts["IAAZ"]["birth_date"] is None
    assert contacts["IAAZ"]["birth_date_raw"] == "sometime in the 80s"
    assert {k: c["mailing_country_code"] for k, c in contacts.items()} == {
        "EAAZ": "GB",
        "FAAZ": "DE",
        "GAAZ": "GR",
        "HAAZ": "PL",
        "IAAZ": None,
        "JAAZ": "US",
    }


def test_names_keep_their_script(staging: duckdb.DuckDBPyConnection) -> None:
    names = rows(
        staging,
        """
        select first_name as a, last_name as b from staging.stg_shop__customers
        union all select first_name, last_name from staging.stg_crm__contacts
        union all select first_name, last_name from staging.stg_pos__loyalty_members
        union all select requester_name, null from staging.stg_support__tickets
    """,
    )
    found = {n for r in names for n in r.values() if n}
    assert {
        "Łukasz",
        "Wójcik",
        "Δημήτρης",
        "Παπαδόπουλος",
        "Zoë",
        "Ødegård",
        "Μαρία",
        "Ξανθοπούλου",
        "Żółć",
        "Bjørn",
        "Γιώργος Νικολάου",
    } <= found
    assert "Anna" in found and " Anna " not in found  # trimmed
    assert "Doe Jr" in found  # inner whitespace collapsed
    assert "Hans Müller" in found


def test_web_json_is_flattened(staging: duckdb.DuckDBPyConnection) -> None:
    event = rows(
        staging,
        "select event_type, event_name, product_id, category, product_price, "
        "device_type, page_url from staging.stg_web__events "
        "where web_event_id = 'm2'",
    )
    assert event == [
        {
            "event_type": "track",
            "event_name": "Product Viewed",
            "product_id": "P1",
            "category": "kitchen",
            "product_price": Decimal("19.99"),
            "device_type": "ios",
            "page_url": None,
        }
    ]
