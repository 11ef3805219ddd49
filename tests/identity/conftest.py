"""The suite's shared business with crafted rows, its identity layer rebuilt once
for the identity tests.

A copy of the shared business's warehouse (tests/business.py) gets crafted
raw rows the generator does not make: a placeholder email shared by many
people, empty and whitespace-only identifiers, Greek and Polish names. Then
the identity seeds, intermediate and marts models are rebuilt on it (the
staging models they read are views, so they see the new rows). Tests that
change data work on a further copy of that warehouse.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import duckdb
import pytest

from tests.business import Business

REPO = Path(__file__).resolve().parents[2]
DBT_PROJECT = REPO / "dbt_project"
DBT = Path(sys.executable).parent / "dbt"
IDENTITY_SELECTION = [
    "path:seeds/identity",
    "path:models/intermediate/identity",
    "path:models/marts/identity",
    "path:models/marts/identity_review",
]

PLACEHOLDER_EMAIL = "test@test.com"
PLACEHOLDER_PEOPLE = 60
FIRST_NAMES = [
    "Anna",
    "Bruno",
    "Carla",
    "Dawid",
    "Elena",
    "Filip",
    "Greta",
    "Hugo",
    "Ines",
    "Jonas",
]
LAST_NAMES = ["Zielinski", "Young", "Xavier", "Wright", "Vogel", "Underwood", "Torres", "Schmidt"]


@dataclass(frozen=True)
class Warehouse:
    path: Path
    ground_truth: Path
    work: Path


def dbt_env(work: Path, warehouse: Path) -> dict[str, str]:
    """dbt's environment; it runs in the warehouse's folder (run_dbt), and the
    path is relative to it, so that every copy has the same dbt profile and a
    copied target folder's partial parse holds (warehouse_copy)."""
    return {
        **os.environ,
        "CDP_DUCKDB_PATH": warehouse.name,
        "CDP_TARGET": "duckdb",
        "DBT_SEND_ANONYMOUS_USAGE_STATS": "false",
        "DBT_TARGET_PATH": str(work / "target"),
        "DBT_LOG_PATH": str(work / "logs"),
    }


def run_dbt(
    work: Path, warehouse: Path, args: list[str], project: Path = DBT_PROJECT
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(DBT), *args, "--project-dir", str(project), "--profiles-dir", str(REPO)],
        env=dbt_env(work, warehouse),
        cwd=warehouse.parent,
        capture_output=True,
        text=True,
        check=False,
        timeout=600,
    )


def build(work: Path, warehouse: Path, selection: list[str]) -> None:
    """dbt build of the selection, without the staging layer's own tests and
    without dbt's unit tests, and only tests whose parents are all selected
    (other domains test their own models against `customers`; those models are
    not built here). The unit tests check the SQL on their own inline rows, not
    on this warehouse: the shared business's build (tests/business.py) runs
    every one of them on the same SQL, and fails the package when one fails."""
    completed = run_dbt(
        work,
        warehouse,
        [
            "build",
            "--select",
            *selection,
            "--exclude",
            "resource_type:test,path:models/staging",
            "resource_type:unit_test",
            "--indirect-selection",
            "cautious",
        ],
    )
    assert completed.returncode == 0, completed.stdout[-6000:] + completed.stderr[-2000:]


def insert_row(con: duckdb.DuckDBPyConnection, table: str, row: dict[str, object]) -> None:
    """Insert one raw row by column name, with landing columns filled in."""
    row = {
        "_loaded_at": "2026-07-01 00:00:00",
        "_source_file": f"{table}/crafted.csv",
        "_source_line": 1,
        **row,
    }
    columns = ", ".join(f'"{name}"' for name in row)
    placeholders = ", ".join("?" for _ in row)
    con.execute(f"insert into raw.{table} ({columns}) values ({placeholders})", list(row.values()))


CRAFTED_AT = "2026-06-01 00:00:00"


def add_crafted_rows(warehouse: Path) -> None:
    """Rows the generator does not make on purpose."""
    with duckdb.connect(str(warehouse)) as con:
        for i in range(PLACEHOLDER_PEOPLE):
            insert_row(
                con,
                "shop_customers",
                {
                    "customer_id": 990000000 + i,
                    "email": f"  {PLACEHOLDER_EMAIL.upper()} ",
                    "first_name": FIRST_NAMES[i % len(FIRST_NAMES)],
                    "last_name": LAST_NAMES[(i // len(FIRST_NAMES)) % len(LAST_NAMES)],
                    "address_line1": f"{i} Crafted Road",
                    "city": "Leeds",
                    "postal_code": "LS1 1AA",
                    "country_code": "GB",
                    "created_at": CRAFTED_AT,
                    "updated_at": CRAFTED_AT,
                },
            )
        # empty and whitespace-only identifiers, different people behind each
        for i, blank in enumerate(["", "   ", "\t", None]):
            insert_row(
                con,
                "email_subscribers",
                {
                    "subscriber_id": f"blank{i}",
                    "email_address": blank,
                    "first_name": FIRST_NAMES[i],
                    "last_name": LAST_NAMES[i],
                    "phone": blank,
                    "status": "subscribed",
                    "updated_at": CRAFTED_AT,
                },
            )
        # one Greek person in Greek script (store) and transliterated (shop);
        # one Polish person in capitals (store) and without accents (shop)
        for number, first, last, born, postcode, country in [
            ("GRTEST0001", "Γιώργος", "Παπαδόπουλος", "1980-02-03", "11523", "GR"),
            ("PLTEST0001", "ŁUKASZ", "ŻÓŁTOWSKI", "1975-05-06", "00-950", "PL"),
        ]:
            insert_row(
                con,
                "loyalty_members",
                {
                    "loyalty_number": number,
                    "first_name": first,
                    "last_name": last,
                    "birth_date": born,
                    "postal_code": postcode,
                    "country_code": country,
                    "enrolled_at": CRAFTED_AT,
                    "updated_at": CRAFTED_AT,
                },
            )
        for customer_id, first, last, born, postcode, country in [
            (990100001, "Giorgos", "Papadopoulos", "1980-02-03", "11523", "GR"),
            (990100002, "Lukasz", "Zoltowski", "1975-05-06", "00-950", "PL"),
        ]:
            insert_row(
                con,
                "shop_customers",
                {
                    "customer_id": customer_id,
                    "email": f"{customer_id}@crafted.example.org",
                    "first_name": first,
                    "last_name": last,
                    "birth_date": born,
                    "postal_code": postcode,
                    "country_code": country,
                    "created_at": CRAFTED_AT,
                    "updated_at": CRAFTED_AT,
                },
            )


@pytest.fixture(scope="session")
def identity_warehouse(
    shared_business: Business, tmp_path_factory: pytest.TempPathFactory
) -> Warehouse:
    """The shared business plus crafted rows, its identity layer rebuilt."""
    work = tmp_path_factory.mktemp("identity")
    warehouse = shared_business.copy_warehouse(work)
    add_crafted_rows(warehouse)
    build(work, warehouse, IDENTITY_SELECTION)
    return Warehouse(warehouse, shared_business.ground_truth / "record_persons.csv", work)


@pytest.fixture
def warehouse_copy(identity_warehouse: Warehouse, tmp_path: Path) -> Iterator[Path]:
    """A copy of the built warehouse a test may change and rebuild (in tmp_path,
    with the identity build's dbt target, so its next dbt run parses partially)."""
    copy = tmp_path / "cdp.duckdb"
    shutil.copy(identity_warehouse.path, copy)
    shutil.copytree(identity_warehouse.work / "target", tmp_path / "target")
    yield copy


@pytest.fixture
def con(identity_warehouse: Warehouse) -> Iterator[duckdb.DuckDBPyConnection]:
    with duckdb.connect(str(identity_warehouse.path), read_only=True) as connection:
        yield connection
