"""Customer ids are stable across runs; merges and splits are logged.

One warehouse copy goes through four rebuilds: no change, a new batch, a merge
and a split.
"""

from __future__ import annotations

from pathlib import Path

import duckdb

from tests.identity.conftest import IDENTITY_SELECTION, Warehouse, build, insert_row

NEW_CUSTOMER_ID = 991000001
BRIDGE_CONTACT = "CRAFTEDBRIDGE1"


def id_map(warehouse: Path) -> dict[str, str]:
    with duckdb.connect(str(warehouse), read_only=True) as con:
        return dict(
            con.execute(
                "select record_key, customer_id from marts.customer_source_records"
            ).fetchall()
        )


def history(warehouse: Path) -> list[tuple[str, str, str | None, str]]:
    with duckdb.connect(str(warehouse), read_only=True) as con:
        return con.execute(
            "select customer_id, event_type, related_customer_id, run_id "
            "from marts.customer_id_history order by occurred_at, event_type, customer_id"
        ).fetchall()


def bridge_contact(loyalty_number: str | None, shop_customer_id: int | None, at: str) -> dict:
    return {
        "contact_id": BRIDGE_CONTACT,
        "first_name": "Zebedee",
        "last_name": "Bridgewater",
        "loyalty_number": loyalty_number,
        "shop_customer_id": shop_customer_id,
        "created_at": "2026-06-10 00:00:00",
        "last_modified_at": at,
    }


def test_ids_survive_rebuilds_merges_and_splits(
    identity_warehouse: Warehouse, warehouse_copy: Path, tmp_path: Path
) -> None:
    work = tmp_path
    before = id_map(warehouse_copy)
    events_before = history(warehouse_copy)

    # 1. rebuilding with no new data changes no customer_id and logs nothing
    build(work, warehouse_copy, IDENTITY_SELECTION)
    assert id_map(warehouse_copy) == before
    assert history(warehouse_copy) == events_before

    # 2. a new batch: unaffected customers keep their ids, the newcomer is created
    with duckdb.connect(str(warehouse_copy)) as con:
        insert_row(
            con,
            "shop_customers",
            {
                "customer_id": NEW_CUSTOMER_ID,
                "email": "quentin.newcomer@crafted-shop.net",
                "first_name": "Quentin",
                "last_name": "Newcomer",
                "created_at": "2026-06-20 00:00:00",
                "updated_at": "2026-06-20 00:00:00",
            },
        )
        loyalty_key, old_customer = con.execute(
            "select source_record_id, customer_id from marts.customer_source_records "
            "where source_name = 'loyalty_members' order by source_record_id limit 1"
        ).fetchone()
    build(work, warehouse_copy, IDENTITY_SELECTION)
    after_batch = id_map(warehouse_copy)
    assert all(after_batch[key] == customer for key, customer in before.items())
    newcomer = after_batch[f"shop_customers:{NEW_CUSTOMER_ID}"]
    assert newcomer not in before.values()
    new_events = history(warehouse_copy)[len(events_before) :]
    assert [(e[0], e[1]) for e in new_events] == [(newcomer, "created")]

    # 3. a CRM contact names both the newcomer's shop account and an old loyalty
    #    card: the clusters merge, the older id survives, the newer is logged as merged
    with duckdb.connect(str(warehouse_copy)) as con:
        insert_row(
            con, "crm_contacts", bridge_contact(loyalty_key, NEW_CUSTOMER_ID, "2026-06-21 00:00:00")
        )
    build(work, warehouse_copy, IDENTITY_SELECTION)
    after_merge = id_map(warehouse_copy)
    assert after_merge[f"shop_customers:{NEW_CUSTOMER_ID}"] == old_customer
    assert after_merge[f"crm_contacts:{BRIDGE_CONTACT}"] == old_customer
    unaffected = {k: v for k, v in after_batch.items() if v not in (old_customer, newcomer)}
    assert all(after_merge[k] == v for k, v in unaffected.items())
    merge_events = history(warehouse_copy)[len(events_before) + 1 :]
    assert (newcomer, "merged", old_customer) in [e[:3] for e in merge_events]

    # 4. the contact is corrected (a later version without the links): the
    #    cluster splits, the larger part keeps the id, the rest is logged as split
    with duckdb.connect(str(warehouse_copy)) as con:
        insert_row(con, "crm_contacts", bridge_contact(None, None, "2026-06-22 00:00:00"))
    build(work, warehouse_copy, IDENTITY_SELECTION)
    after_split = id_map(warehouse_copy)
    old_records = [k for k, v in after_batch.items() if v == old_customer]
    assert all(after_split[k] == old_customer for k in old_records)
    split_off = after_split[f"shop_customers:{NEW_CUSTOMER_ID}"]
    assert split_off != old_customer
    split_events = [e[:3] for e in history(warehouse_copy)]
    assert (split_off, "split", old_customer) in split_events
